"""The stock report and verification pages: the enterprise fills a request and submits it; the
bureau requests, plans, adds a photo and records; bad input is shown on the form with nothing
changed; the enterprise and agreement pages show the evidence; lists filter and run a fixed
number of statements."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from reserve.agreements import reports, signing
from reserve.agreements.models import AgreementLine
from reserve.agreements.report_models import (
    StockReport,
    StockReportLine,
    Verification,
    VerificationAttachment,
)
from reserve.agreements.reports import PlanData
from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from tests.agreements.conftest import TODAY, capacity, days

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def lines(db, make_agreement, site):
    own = make_agreement(
        activate=True,
        lines=(
            signing.LineData(material_id=site.water.id, kind="stock", committed_qty=1000),
            signing.LineData(material_id=site.quilt.id, kind="stock", committed_qty=200),
            capacity(site.quilt.id),
        ),
    )
    return own


@pytest.fixture
def files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    return tmp_path / "attachments"


def _english(client):
    client.get("/lang/en")
    return client


def _counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(m))
        for m in (StockReport, StockReportLine, Verification, VerificationAttachment, AuditEntry)
    )


def _rows(agreement, held=(980, 150), **extra):
    data = {}
    for n, (line, qty) in enumerate(zip(agreement.lines[:2], held, strict=True)):
        data[f"lines-{n}-agreement_line_id"] = str(line.id)
        data[f"lines-{n}-held_qty"] = "" if qty is None else str(qty)
    data.update(extra)
    return data


def test_the_enterprise_fills_a_request_and_submits_it(db, site, lines, login_as, system_actor):
    request = reports.request_report(
        db, enterprise_id=site.own.id, due_on=days(5), message="汛前核实", actor=system_actor
    )
    company = login_as(Role.ENTERPRISE, enterprise=site.own)
    inbox = company.get("/stock-reports?status=requested").get_data(as_text=True)
    assert f'id="report-row-{request.id}"' in inbox
    form = company.get(f"/stock-reports/{request.id}/edit").get_data(as_text=True)
    assert "汛前核实" in form and form.count('class="report-line') == 2  # stock lines only
    assert "1,000" in form or "1000" in form  # the commitment beside the held quantity
    response = company.post(
        f"/stock-reports/{request.id}/edit",
        data=_rows(lines, **{"lines-0-batch_no": "B-07", "lines-0-expiry_on": "2027-06-30"}),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    detail = company.get(f"/stock-reports/{request.id}").get_data(as_text=True)
    assert detail.count("report-below") == 2 and 'id="report-submit"' in detail
    assert company.post(f"/stock-reports/{request.id}/submit").status_code == 302
    report = db.get(StockReport, request.id)
    db.refresh(report)
    assert report.status == "submitted" and report.lines[0].batch_no == "B-07"
    water = db.get(AgreementLine, lines.lines[0].id)
    db.refresh(water)
    assert (water.reported_qty, water.capped_qty) == (980, 980)
    detail = company.get(f"/stock-reports/{request.id}").get_data(as_text=True)
    assert 'id="report-edit"' not in detail and 'id="report-correct"' in detail
    # the agreement page shows the line's last report
    page = company.get(f"/agreements/{lines.id}").get_data(as_text=True)
    assert "line-reported" in page and "980" in page


def test_a_monthly_report_from_the_portal_and_a_correction(db, site, lines, login_as):
    company = _english(login_as(Role.ENTERPRISE, enterprise=site.own))
    new = company.get("/stock-reports/new").get_data(as_text=True)
    assert site.own.name in new and 'name="period_month"' in new
    month = TODAY.strftime("%Y-%m")
    response = company.post(
        "/stock-reports/new", data=_rows(lines, held=(1000, 200), period_month=month)
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    report = db.scalar(select(StockReport))
    assert report.period_month == TODAY.replace(day=1) and report.status == "draft"
    company.post(f"/stock-reports/{report.id}/submit")
    before = _counts(db)
    again = company.post("/stock-reports/new", data=_rows(lines, period_month=month))
    assert again.status_code == 200 and "already" in again.get_data(as_text=True)
    assert _counts(db) == before
    form = company.get(f"/stock-reports/new?corrects={report.id}").get_data(as_text=True)
    assert 'name="corrects"' in form and 'value="1000"' in form  # pre-filled from the report
    fixed = company.post(
        "/stock-reports/new", data=_rows(lines, held=(990, 200), corrects=str(report.id))
    )
    assert fixed.status_code == 302
    assert db.scalar(select(func.count()).where(StockReport.corrects_id == report.id)) == 1


def test_bad_rows_are_shown_on_the_form_and_change_nothing(db, site, lines, login_as):
    company = _english(login_as(Role.ENTERPRISE, enterprise=site.own))
    month = TODAY.strftime("%Y-%m")
    before = _counts(db)
    cases = [
        (_rows(lines, held=(-5, 1), period_month=month), "Line 1", "0 or more"),
        (_rows(lines, held=(5, None), period_month=month), "Line 2", "0 or more"),
        (
            _rows(lines, period_month=month, **{"lines-1-agreement_line_id": lines.lines[2].id}),
            "Line 2",
            "production capacity",
        ),
        (
            _rows(lines, period_month=month, **{"lines-1-agreement_line_id": lines.lines[0].id}),
            "Line 2",
            "another row",
        ),
        (_rows(lines, period_month=""), "", "Give the month reported"),
    ]
    for data, line, message in cases:
        response = company.post("/stock-reports/new", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (message, response.status_code)
        assert message in html and line in html, message
    assert _counts(db) == before


def test_the_bureau_requests_plans_photographs_and_records(db, site, lines, login_as, files):
    dispatcher = _english(login_as(Role.DISPATCHER))
    response = dispatcher.post(
        "/stock-reports/request",
        data={"enterprise_id": str(site.own.id), "due_on": days(3).isoformat(), "message": "请报"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert db.scalar(select(StockReport.status)) == "requested"
    response = dispatcher.post(
        "/verifications/new",
        data={
            "enterprise_id": str(site.own.id),
            "planned_on": TODAY.isoformat(),
            "inspectors": "张伟、李娜",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    verification = db.scalar(select(Verification))
    url = f"/verifications/{verification.id}"
    upload = dispatcher.post(
        f"{url}/photos",
        data={"file": (BytesIO(PNG), "现场.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    page = dispatcher.get(url).get_data(as_text=True)
    assert "现场.png" in page and 'id="verification-record-form"' in page
    photo = db.scalar(select(VerificationAttachment))
    download = dispatcher.get(f"{url}/photos/{photo.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    water, quilt = lines.lines[:2]
    data = {
        "checked_on": TODAY.isoformat(),
        "findings": "棉被受潮",
        "lines-0-agreement_line_id": str(water.id),
        "lines-0-counted_qty": "1000",
        "lines-1-agreement_line_id": str(quilt.id),
        "lines-1-counted_qty": "150",
    }
    before = _counts(db)
    bad = dispatcher.post(f"{url}/record", data={**data, "lines-1-counted_qty": "-1"})
    assert bad.status_code == 422 and "Line 2" in bad.get_data(as_text=True)
    assert _counts(db) == before
    done = dispatcher.post(f"{url}/record", data=data)
    assert done.status_code == 302
    page = dispatcher.get(url).get_data(as_text=True)
    assert 'id="verification-result"' in page and "Failed" in page
    assert (
        'id="verification-record-form"' not in page and 'id="verification-photo-form"' not in page
    )
    rows = db.execute(
        select(
            AgreementLine.verified_qty, AgreementLine.verification_passed, AgreementLine.capped_qty
        )
        .where(AgreementLine.id.in_([water.id, quilt.id]))
        .order_by(AgreementLine.line_no)
        .execution_options(populate_existing=True)
    ).all()
    assert [tuple(r) for r in rows] == [(1000, True, None), (150, False, 150)]
    # the enterprise page lists both, with links to the filtered lists
    enterprise = dispatcher.get(f"/enterprises/{site.own.id}").get_data(as_text=True)
    assert f'id="verification-row-{verification.id}"' in enterprise
    assert f"/verifications?enterprise={site.own.id}" in enterprise
    assert f"/stock-reports?enterprise={site.own.id}" in enterprise


def test_the_enterprise_reads_its_verifications_and_photos_only(
    app, db, site, lines, login_as, system_actor, files
):
    from reserve.files import store

    planned = reports.plan_verification(
        db,
        data=PlanData(enterprise_id=site.own.id, planned_on=TODAY, inspectors="张伟"),
        actor=system_actor,
    )
    with app.app_context():
        photo = reports.add_photo(
            db,
            verification_id=planned.id,
            filename="p.png",
            content=PNG,
            actor=system_actor,
            store=store(),
        )
    company = login_as(Role.ENTERPRISE, enterprise=site.own)
    page = company.get(f"/verifications/{planned.id}").get_data(as_text=True)
    assert "p.png" in page
    assert (
        'id="verification-record-form"' not in page and 'id="verification-photo-form"' not in page
    )
    assert company.get(f"/verifications/{planned.id}/photos/{photo.id}").data == PNG
    assert company.post(f"/verifications/{planned.id}/record", data={}).status_code == 403


def test_the_lists_filter_by_enterprise_status_and_month(db, site, lines, login_as, system_actor):
    reports.request_report(
        db, enterprise_id=site.own.id, due_on=days(1), message=None, actor=system_actor
    )
    viewer = _english(login_as(Role.VIEWER))
    month = days(1).strftime("%Y-%m")
    assert "report-row-" in viewer.get(f"/stock-reports?month={month}").get_data(as_text=True)
    assert "report-row-" not in viewer.get("/stock-reports?month=2001-01").get_data(as_text=True)
    assert "report-row-" not in viewer.get("/stock-reports?status=submitted").get_data(as_text=True)
    assert "report-row-" not in viewer.get(f"/stock-reports?enterprise={site.other.id}").get_data(
        as_text=True
    )
    bad = viewer.get("/stock-reports?month=2026-13")
    assert bad.status_code == 422 and "month" in bad.get_data(as_text=True)
    page = viewer.get("/stock-reports").get_data(as_text=True)
    assert 'id="report-new"' not in page and 'id="report-request-new"' not in page


def test_bad_photos_are_refused_on_the_page_and_nothing_is_kept(
    db, site, lines, login_as, system_actor, files
):
    planned = reports.plan_verification(
        db,
        data=PlanData(enterprise_id=site.own.id, planned_on=TODAY, inspectors="张伟"),
        actor=system_actor,
    )
    admin = _english(login_as(Role.ADMIN))
    url = f"/verifications/{planned.id}/photos"
    before = _counts(db)
    page = admin.post(
        url,
        data={"file": (BytesIO(b"<html><script>x</script>"), "photo.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Only PDF, JPEG or PNG" in page
    fifty_mb = b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)
    response = admin.post(
        url, data={"file": (BytesIO(fifty_mb), "big.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert _counts(db) == before
    assert not files.exists() or not [p for p in files.rglob("*") if p.is_file()]


def test_the_portal_list_says_what_the_bureau_awaits(
    db, site, lines, login_as, system_actor, make_agreement
):
    make_agreement(activate=True, no="XY-OTHER", enterprise_id=site.other.id)
    reports.request_report(
        db, enterprise_id=site.own.id, due_on=days(4), message=None, actor=system_actor
    )
    reports.request_report(
        db, enterprise_id=site.other.id, due_on=days(4), message=None, actor=system_actor
    )
    company = _english(login_as(Role.ENTERPRISE, enterprise=site.own))
    page = company.get("/stock-reports").get_data(as_text=True)
    assert 'id="report-inbox"' in page and "awaits from you: 1." in page
    office = login_as(Role.DISPATCHER).get("/stock-reports").get_data(as_text=True)
    assert 'id="report-inbox"' not in office
