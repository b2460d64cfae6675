"""Call-up pages as a user sees them: the call-up form on an agreement line, bad input shown on
its field with nothing changed, the enterprise's confirm and replenish forms, the list's
filters (status, enterprise, overdue), the enterprise page's section and the landing page."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reserve.agreements import callups
from reserve.agreements.callup_models import CallUp
from reserve.agreements.callups import CallUpData
from reserve.agreements.models import AgreementLine
from reserve.auth.models import Role
from reserve.db import SHANGHAI, local_today, utcnow


@pytest.fixture
def line(db, make_agreement):
    return make_agreement(activate=True).lines[0]


def _form(**changes):
    form = {
        "qty": "200",
        "needed_by": (utcnow() + timedelta(hours=5))
        .astimezone(SHANGHAI)
        .strftime("%Y-%m-%dT%H:%M"),
        "destination": "历城区安置点",
        "purpose": "防汛",
    }
    form.update(changes)
    return form


def _count(db):
    return db.scalar(select(func.count()).select_from(CallUp))


def _called(db, line):
    db.expire_all()
    row = db.get(AgreementLine, line.id)
    return row.called_qty, row.shipped_qty


def test_a_dispatcher_calls_up_from_the_agreement_page(db, login_as, line):
    client = login_as(Role.DISPATCHER)
    page = client.get(f"/agreements/{line.agreement_id}").get_data(as_text=True)
    assert 'id="call-up-line-1"' in page and 'id="agreement-line-1"' in page
    url = f"/agreements/{line.agreement_id}/lines/{line.id}/call-up"
    response = client.post(url, data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    call = db.scalar(select(CallUp))
    assert response.headers["Location"].endswith(f"/call-ups/{call.id}")
    detail = client.get(f"/call-ups/{call.id}").get_data(as_text=True)
    assert call.no in detail and "待企业确认" in detail
    assert _called(db, line) == (200, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"qty": "0"}, "数量必须是大于 0 的整数"),
        ({"qty": "1001"}, "可调用数量仅剩 1000"),
        ({"destination": ""}, "请填写送达地点"),
        ({"needed_by": "2020-01-01T08:00"}, "需求时间已过"),
        ({"needed_by": "soon"}, "日期时间不正确"),
    ],
)
def test_bad_input_on_the_page_is_shown_and_changes_nothing(db, login_as, line, changes, message):
    client = login_as(Role.DISPATCHER)
    url = f"/agreements/{line.agreement_id}/lines/{line.id}/call-up"
    response = client.post(url, data=_form(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(db) == 0 and _called(db, line) == (0, 0)


def test_the_enterprise_confirms_then_reports_back_in_its_portal(
    db, login_as, line, site, system_actor
):
    call = callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id, qty=100, needed_by=utcnow() + timedelta(hours=3), destination="安置点"
        ),
        actor=system_actor,
    )
    db.flush()
    own = login_as(Role.ENTERPRISE, enterprise=site.own)
    home = own.get("/").get_data(as_text=True)
    assert 'id="work-call-ups-awaiting"' in home
    bad = own.post(
        f"/call-ups/{call.id}/ship",
        data={
            "shipped_qty": "100",
            "vehicle_plate": "ABC",
            "driver_name": "张师傅",
            "driver_phone": "13812345678",
            "shipped_at": utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert bad.status_code == 422 and "车牌号不正确" in bad.get_data(as_text=True)
    assert _called(db, line) == (100, 0)
    ok = own.post(
        f"/call-ups/{call.id}/ship",
        data={
            "shipped_qty": "90",
            "vehicle_plate": "鲁A12345",
            "driver_name": "张师傅",
            "driver_phone": "13812345678",
            "shipped_at": utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert ok.status_code == 302
    assert _called(db, line) == (90, 90)
    back = own.post(
        f"/call-ups/{call.id}/replenish",
        data={"replenished_qty": "90", "replenished_on": local_today().isoformat()},
    )
    assert back.status_code == 302
    assert _called(db, line) == (0, 0)
    page = own.get(f"/call-ups/{call.id}").get_data(as_text=True)
    assert "已补储" in page and "鲁A12345" in page
    theirs = login_as(Role.ENTERPRISE, enterprise=site.other)
    assert theirs.get(f"/call-ups/{call.id}").status_code == 404


def test_the_list_filters_and_the_overdue_duty_shows(
    db, login_as, make_agreement, site, system_actor
):
    line = make_agreement(activate=True).lines[0]
    other = make_agreement(no="XY-OTHER", enterprise_id=site.other.id, activate=True).lines[0]
    calls = []
    for each in (line, line, other):
        calls.append(
            callups.call_up(
                db,
                data=CallUpData(
                    line_id=each.id,
                    qty=10,
                    needed_by=utcnow() + timedelta(hours=3),
                    destination="安置点",
                ),
                actor=system_actor,
            )
        )
    callups.confirm_shipped(
        db,
        call_up_id=calls[0].id,
        shipped_qty=10,
        vehicle_plate="鲁A12345",
        driver_name="张师傅",
        driver_phone="13812345678",
        shipped_at=utcnow(),
        replenish_days=-1,  # due yesterday: overdue now
        actor=system_actor,
    )
    db.flush()
    office = login_as(Role.DISPATCHER)
    overdue = office.get("/call-ups?overdue=1").get_data(as_text=True)
    assert f'id="call-up-{calls[0].id}"' in overdue and f'id="call-up-{calls[1].id}"' not in overdue
    requested = office.get("/call-ups?status=requested").get_data(as_text=True)
    assert (
        f'id="call-up-{calls[1].id}"' in requested
        and f'id="call-up-{calls[0].id}"' not in requested
    )
    theirs = office.get(f"/call-ups?enterprise={site.other.id}").get_data(as_text=True)
    assert f'id="call-up-{calls[2].id}"' in theirs and f'id="call-up-{calls[1].id}"' not in theirs
    assert 'id="work-call-ups-overdue"' in office.get("/").get_data(as_text=True)
    firm = office.get(f"/enterprises/{site.own.id}").get_data(as_text=True)
    assert f'id="call-up-{calls[0].id}"' in firm and f'id="call-up-{calls[2].id}"' not in firm
    mine = login_as(Role.ENTERPRISE, enterprise=site.own).get("/call-ups").get_data(as_text=True)
    assert f'id="call-up-{calls[2].id}"' not in mine and f'id="call-up-{calls[0].id}"' in mine


def test_a_cancel_from_the_page_releases_the_line(db, login_as, line, system_actor):
    call = callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id, qty=100, needed_by=utcnow() + timedelta(hours=3), destination="安置点"
        ),
        actor=system_actor,
    )
    db.flush()
    client = login_as(Role.DISPATCHER)
    refused = client.post(f"/call-ups/{call.id}/cancel", data={"reason": ""})
    assert refused.status_code == 302 and _called(db, line) == (100, 0)
    done = client.post(f"/call-ups/{call.id}/cancel", data={"reason": "险情解除"})
    assert done.status_code == 302 and _called(db, line) == (0, 0)


def test_the_detail_page_runs_a_fixed_number_of_statements(
    db, login_as, line, system_actor, count_queries
):
    call = callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id, qty=100, needed_by=utcnow() + timedelta(hours=3), destination="安置点"
        ),
        actor=system_actor,
    )
    db.flush()
    client = login_as(Role.DISPATCHER)
    client.get(f"/call-ups/{call.id}")
    with count_queries() as statements:
        assert client.get(f"/call-ups/{call.id}").status_code == 200
    assert len(statements) <= 12, statements


def test_the_call_up_notice_prints_in_chinese(db, login_as, line, site, system_actor):
    import subprocess

    call = callups.call_up(
        db,
        data=CallUpData(
            line_id=line.id,
            qty=120,
            needed_by=utcnow() + timedelta(hours=3),
            destination="历城区唐冶安置点",
            purpose="防汛抢险",
        ),
        actor=system_actor,
    )
    db.flush()
    response = login_as(Role.ENTERPRISE, enterprise=site.own).get(f"/call-ups/{call.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-layout", "-", "-"],
        input=response.data,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    for expected in (
        "应急物资调用通知单",
        call.no,
        site.own.name,
        "瓶装饮用水",
        "120 箱",
        "历城区唐冶安置点",
    ):
        assert expected in text, expected
    theirs = login_as(Role.ENTERPRISE, enterprise=site.other)
    assert theirs.get(f"/call-ups/{call.id}/notice.pdf").status_code == 404
