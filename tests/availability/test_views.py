"""The availability pages as a user meets them: the figures side by side, the drill-down, bad
filter input (a clear message, never an error page), every role, and the agreement and
enterprise pages' lines, flags and totals."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from reserve.agreements.models import AgreementLine
from reserve.auth.models import Role

BUREAU = (Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.VIEWER)


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-material="{code}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {code}"
    return _text(found.group(1))


def _cell(row_html: str, cls: str) -> str:
    found = re.search(rf'class="[^"]*\b{cls}\b[^"]*">(.*?)</td>', row_html, re.S)
    return _text(found.group(1)).strip() if found else ""


def test_the_dispatcher_sees_physical_and_agreement_stock_side_by_side(login_as, province):
    client = login_as(Role.DISPATCHER)
    html = client.get("/availability").get_data(as_text=True)
    water = re.search(r'<tr data-material="1010100001">(.*?)</tr>', html, re.S).group(1)
    assert _cell(water, "physical-available") == "1,700 箱"
    assert _cell(water, "agreement-callable") == "1,200 箱"
    assert _cell(water, "agreement-flagged") == "3 / 3"
    quilt = re.search(r'<tr data-material="1010100002">(.*?)</tr>', html, re.S).group(1)
    assert _cell(quilt, "capacity-within") == "2,000 床"
    assert _cell(quilt, "agreement-callable") == "—"  # a promise, not stock
    assert 'id="nav-availability"' in html


def test_filtering_by_region_and_horizon(login_as, province):
    client = login_as(Role.DISPATCHER)
    html = client.get(f"/availability?region={province.lixia.id}&hours=60").get_data(as_text=True)
    water = re.search(r'<tr data-material="1010100001">(.*?)</tr>', html, re.S).group(1)
    assert _cell(water, "physical-available") == "200 箱"
    assert _cell(water, "agreement-callable") == "800 箱"
    quilt = re.search(r'<tr data-material="1010100002">(.*?)</tr>', html, re.S).group(1)
    assert _cell(quilt, "capacity-within") == "1,000 床"
    assert "单帐篷" not in html  # held in 济南's warehouse only


def test_the_drill_down_names_each_enterprise_its_phone_and_its_flags(login_as, province):
    client = login_as(Role.DISPATCHER)
    response = client.get(f"/availability/materials/{province.water.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    city = _text(
        re.search(rf'id="availability-line-{province.line_city.id}">(.*?)</tr>', html, re.S).group(
            1
        )
    )
    assert "济南统一企业有限公司" in city and "XY-CITY" in city and "13800000001" in city
    assert "申报低于协议数量" in city or "Reported below commitment" in city
    failed = re.search(rf'id="availability-line-{province.line_failed.id}">(.*?)</tr>', html, re.S)
    assert 'data-flag="verification_failed"' in failed.group(1)
    for warehouse in (province.wh_jinan, province.wh_lixia, province.wh_qingdao):
        assert f'id="availability-warehouse-{warehouse.id}"' in html
    assert _text(re.search(r'id="summary-callable">(.*?)<', html).group(1)) == "1,200 箱"
    quilt = client.get(f"/availability/materials/{province.quilt.id}?hours=96").get_data(
        as_text=True
    )
    line = re.search(rf'id="availability-line-{province.line_capacity.id}">(.*?)</tr>', quilt, re.S)
    assert _cell(line.group(1), "line-producible") == "4,000 床"


REGION = ("There is no such region", "没有这个行政区划")
CATEGORY = ("There is no such category", "没有这个物资分类")
MATERIAL = ("There is no such material", "没有这种物资")
HORIZON = ("The horizon must be", "时限须为")


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("region=999999", REGION),
        ("region=abc", REGION),
        ("region=-3", REGION),
        ("region=99999999999999999999", REGION),
        ("category=9999999", CATEGORY),
        ("category=' OR 1=1 --", CATEGORY),
        ("material=999999", MATERIAL),
        ("material=x", MATERIAL),
        ("hours=0", HORIZON),
        ("hours=-5", HORIZON),
        ("hours=100000", HORIZON),
        ("hours=99999999999999999999", HORIZON),
        ("hours=soon", HORIZON),
        ("q=" + "长" * 500, None),  # cut to 100 characters, nothing to say
        ("after=not-a-key", None),  # a hand-edited key starts at the first page
    ],
)
def test_bad_filters_say_what_was_ignored_and_never_fail(login_as, province, db, query, said):
    client = login_as(Role.DISPATCHER)
    lines_before = db.scalar(select(func.count()).select_from(AgreementLine))
    for path in ("/availability", f"/availability/materials/{province.water.id}"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query, response.status_code)
        html = response.get_data(as_text=True)
        drill_ignores_material = said is MATERIAL and path != "/availability"
        if said and not drill_ignores_material:
            assert any(text in html for text in said), (path, query)
            assert "alert-warning" in html
    assert db.scalar(select(func.count()).select_from(AgreementLine)) == lines_before


def test_control_characters_are_refused_with_a_message(app, login_as, province):
    from reserve.forms import CONTROL_MESSAGE

    response = login_as(Role.DISPATCHER).get("/availability?q=%00")
    assert response.status_code == 422
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert str(CONTROL_MESSAGE) in response.get_data(as_text=True)


def test_an_unknown_material_is_not_found(login_as, province):
    client = login_as(Role.DISPATCHER)
    assert client.get("/availability/materials/999999").status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_bureau_roles_see_it_and_no_one_else(login_as, province, role):
    client = login_as(role)
    for path in ("/availability", f"/availability/materials/{province.water.id}"):
        status = client.get(path).status_code
        assert status == (200 if role in BUREAU else 403), (role, path, status)
    menu = client.get("/").get_data(as_text=True)
    assert ('id="nav-availability"' in menu) == (role in BUREAU)


def test_an_enterprise_user_cannot_reach_it_by_api_either(api_token, client, province):
    headers, _user = api_token(Role.ENTERPRISE, enterprise=province.e_lixia)
    assert client.get("/api/v1/availability", headers=headers).status_code == 403
    assert (
        client.get(f"/api/v1/availability/{province.water.id}", headers=headers).status_code == 403
    )


# The agreement and enterprise pages ---------------------------------------------------------


def test_the_agreement_page_shows_each_line_with_its_evidence_flags_and_callable(
    login_as, province
):
    client = login_as(Role.DISPATCHER)
    html = client.get(f"/agreements/{province.a_city.id}?hours=72").get_data(as_text=True)
    line = re.search(r'id="agreement-line-1">(.*?)</tr>', html, re.S).group(1)
    assert _cell(line, "line-callable") == "800 箱"
    assert "800 箱" in _cell(line, "line-reported")
    assert "1,000 箱" in _cell(line, "line-verified")
    assert 'data-flag="reported_below"' in line
    assert 'class="line-actions"' in line  # the call-up button's place
    capacity = re.search(r'id="agreement-line-2">(.*?)</tr>', html, re.S).group(1)
    assert _cell(capacity, "capacity-within") == "2,000 床"
    stock_total = re.search(
        r'class="fw-semibold stock-total" data-unit="箱">(.*?)</tr>', html, re.S
    )
    assert _cell(stock_total.group(1), "total-callable") == "800 箱"
    capacity_total = re.search(
        r'class="fw-semibold capacity-total" data-unit="床">(.*?)</tr>', html, re.S
    )
    assert _cell(capacity_total.group(1), "total-within") == "2,000 床"


def test_an_agreement_not_in_force_carries_no_flags(login_as, province, db):
    from reserve.agreements.models import Agreement

    draft = db.scalar(select(Agreement).where(Agreement.no == "XY-DRAFT"))
    html = login_as(Role.DISPATCHER).get(f"/agreements/{draft.id}").get_data(as_text=True)
    assert "data-flag=" not in html.split('id="attachments"')[0]


def test_the_enterprise_page_counts_its_lines_flags(login_as, province):
    client = login_as(Role.ENTERPRISE, enterprise=province.e_qingdao)
    html = client.get(f"/enterprises/{province.e_qingdao.id}").get_data(as_text=True)
    summary = re.search(r'id="enterprise-line-summary">(.*?)</section>', html, re.S).group(1)
    counts = dict(
        re.findall(r'data-flag="(\w+)">.*?<span class="flag-count">(\d+)</span>', summary, re.S)
    )
    assert counts == {
        "never_verified": "1",
        "verification_overdue": "0",
        "verification_failed": "0",
        "reported_below": "0",
        "report_overdue": "1",
    }
    assert "commitment-callable" in html and "300 箱" in html
