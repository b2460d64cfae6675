"""The enterprise and agreement pages: registering, editing and reading enterprises; drafting,
putting in force, terminating and renewing agreements; bad input shown on the form with
nothing changed; who reaches what."""

from datetime import timedelta

from sqlalchemy import func, select

from reserve.agreements.models import Agreement, AgreementLine, Enterprise, EnterpriseContact
from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from tests.agreements.conftest import TODAY, code

VALID = code("91370100MA3C4PYX8")
OTHER = code("91370102MA3D12345")


def _english(client):
    client.get("/lang/en")
    return client


def _count(db, model=Enterprise) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _enterprise_form(**changes):
    data = {
        "name": "济南银座食品有限公司",
        "uscc": VALID,
        "enterprise_type": "production",
        "region_id": "",
        "kind": "food",
        "address": "",
        "legal_rep": "",
        "lat": "36.651200",
        "lng": "117.120000",
        "status": "active",
        "contacts-0-name": "王强",
        "contacts-0-phone": "0531-88880000",
        "contacts-1-name": "值班室",
        "contacts-1-phone": "13800000000",
        "contacts-1-is_duty": "y",
    }
    data.update(changes)
    return data


def test_admin_registers_an_enterprise_and_finds_it(login_as, make_region, db):
    admin = login_as(Role.ADMIN)
    region = make_region()
    response = admin.post(
        "/enterprises/new", data=_enterprise_form(region_id=str(region.id), uscc=VALID.lower())
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    enterprise = db.scalar(select(Enterprise))
    assert enterprise.uscc == VALID and enterprise.region_id == region.id
    assert [(c.name, c.is_duty) for c in enterprise.contacts] == [("王强", False), ("值班室", True)]
    html = admin.get("/enterprises?q=jnyz").get_data(as_text=True)  # pinyin initials
    assert 'id="enterprise-table"' in html and "济南银座食品有限公司" in html and "济南市" in html
    assert "13800000000" in html  # the duty phone in the list
    page = admin.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert 'id="enterprise-duty-contact"' in page and VALID in page


def test_bad_input_on_the_enterprise_form_changes_nothing(login_as, db):
    admin = _english(login_as(Role.ADMIN))
    cases = [
        (dict(uscc=VALID[:-1]), "has 18 characters"),
        (
            dict(uscc=VALID[:-1] + ("M" if VALID[-1] != "M" else "N")),
            "The check character is wrong",
        ),
        (dict(uscc="A" + VALID[1:]), "The first 8 characters of the code must be digits"),
        ({"contacts-0-is_duty": "y"}, "Only one contact can be the 24-hour duty contact"),
        ({"contacts-0-phone": "12345"}, "Not a phone number"),
        (dict(lat="95"), "The latitude must be between -90 and 90 degrees"),
    ]
    before = (_count(db), _count(db, EnterpriseContact), _count(db, AuditEntry))
    for changes, message in cases:
        response = admin.post("/enterprises/new", data=_enterprise_form(**changes))
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
    assert (_count(db), _count(db, EnterpriseContact), _count(db, AuditEntry)) == before


def test_admin_edits_an_enterprise(login_as, make_enterprise, db):
    enterprise = make_enterprise("济南银座食品有限公司", VALID)
    admin = login_as(Role.ADMIN)
    page = admin.get(f"/enterprises/{enterprise.id}/edit").get_data(as_text=True)
    assert VALID in page and 'id="enterprise-form"' in page
    response = admin.post(
        f"/enterprises/{enterprise.id}/edit", data=_enterprise_form(status="suspended")
    )
    assert response.status_code == 302
    db.refresh(enterprise)
    assert enterprise.status == "suspended" and len(enterprise.contacts) == 2
    assert admin.get("/enterprises/999999").status_code == 404
    assert admin.get("/enterprises/999999/edit").status_code == 404


def test_viewer_reads_but_cannot_write(login_as, make_enterprise, db):
    enterprise = make_enterprise("济南银座食品有限公司", VALID)
    viewer = login_as(Role.VIEWER)
    html = viewer.get("/enterprises").get_data(as_text=True)
    assert "济南银座食品有限公司" in html and "/enterprises/new" not in html
    detail = viewer.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert 'id="enterprise-edit"' not in detail and 'id="enterprise-new-agreement"' not in detail
    assert viewer.get("/enterprises/new").status_code == 403
    assert viewer.post("/enterprises/new", data=_enterprise_form(uscc=OTHER)).status_code == 403
    assert (
        viewer.post(f"/enterprises/{enterprise.id}/edit", data=_enterprise_form()).status_code
        == 403
    )
    assert _count(db) == 1


def test_the_list_pages_by_key(login_as, make_enterprise):
    for n in range(55):
        make_enterprise(f"企业{n:02d}", code(f"91370100MA3C{n:05d}"))
    viewer = login_as(Role.VIEWER)
    first = viewer.get("/enterprises?sort=-name").get_data(as_text=True)
    assert "企业54" in first and "企业05" in first and "企业04" not in first
    assert 'id="next-page"' in first and "page=" not in first
    import re

    after = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = viewer.get(after).get_data(as_text=True)
    assert "企业04" in second and "企业00" in second and "企业54" not in second
    assert 'id="next-page"' not in second


# Agreements -----------------------------------------------------------------------------------


def _agreement_form(site, **changes):
    data = {
        "no": "XY-2026-001",
        "enterprise_id": str(site.own.id),
        "signed_on": TODAY.isoformat(),
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + timedelta(days=365)).isoformat(),
        "response_hours": "12",
        "region_ids": str(site.region.id),
        "storage_fee": "1.20",
        "rotation_duty": "企业负责轮换",
        "lines-0-material_id": str(site.water.id),
        "lines-0-kind": "stock",
        "lines-0-committed_qty": "5000",
        "lines-0-unit_price": "24.00",
        "lines-1-material_id": str(site.quilt.id),
        "lines-1-kind": "capacity",
        "lines-1-committed_qty": "20000",
        "lines-1-daily_qty": "2000",
        "lines-1-lead_hours": "48",
    }
    data.update(changes)
    return data


def test_a_dispatcher_drafts_and_puts_an_agreement_in_force(login_as, site, db):
    dispatcher = _english(login_as(Role.DISPATCHER))
    assert 'id="agreement-form"' in dispatcher.get("/agreements/new").get_data(as_text=True)
    response = dispatcher.post("/agreements/new", data=_agreement_form(site))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    agreement = db.scalar(select(Agreement))
    page = dispatcher.get(response.headers["Location"]).get_data(as_text=True)
    assert "Draft" in page and 'id="agreement-activate"' in page
    assert 'id="agreement-stock-lines"' in page and 'id="agreement-capacity-lines"' in page
    assert "2,000" in page or "2000" in page
    done = dispatcher.post(f"/agreements/{agreement.id}/activate", follow_redirects=True)
    assert "is in force" in done.get_data(as_text=True)
    db.refresh(agreement)
    assert agreement.status == "active"
    listing = dispatcher.get("/agreements?status=active").get_data(as_text=True)
    assert "XY-2026-001" in listing and "济南统一企业有限公司" in listing
    enterprise_page = dispatcher.get(f"/enterprises/{site.own.id}?hours=72").get_data(as_text=True)
    assert 'id="enterprise-commitments"' in enterprise_page and "XY-2026-001" in enterprise_page


def test_bad_agreement_input_is_shown_and_changes_nothing(login_as, site, db, make_agreement):
    make_agreement(no="TAKEN")
    dispatcher = _english(login_as(Role.DISPATCHER))
    cases = [
        (dict(valid_to=(TODAY - timedelta(days=1)).isoformat()), "cannot end before it starts"),
        (dict(no="TAKEN"), "An agreement numbered TAKEN already exists"),
        ({"lines-0-committed_qty": "0"}, "The committed quantity must be a whole number above 0"),
        ({"lines-0-committed_qty": "-3"}, "The committed quantity must be a whole number above 0"),
        ({"lines-1-daily_qty": ""}, "The daily quantity must be a whole number above 0"),
    ]
    before = (_count(db, Agreement), _count(db, AgreementLine), _count(db, AuditEntry))
    for changes, message in cases:
        response = dispatcher.post("/agreements/new", data=_agreement_form(site, **changes))
        assert response.status_code == 200, changes
        assert message in response.get_data(as_text=True), changes
    assert (_count(db, Agreement), _count(db, AgreementLine), _count(db, AuditEntry)) == before


def test_terminate_and_renew_from_the_page(login_as, site, db, make_agreement):
    agreement = make_agreement(activate=True)
    admin = _english(login_as(Role.ADMIN))
    page = admin.post(
        f"/agreements/{agreement.id}/terminate", data={"reason": ""}, follow_redirects=True
    )
    assert "Say why the agreement is terminated" in page.get_data(as_text=True)
    page = admin.post(
        f"/agreements/{agreement.id}/terminate", data={"reason": "企业停产"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Terminated" in page and "企业停产" in page
    response = admin.post(f"/agreements/{agreement.id}/renew", data={"no": ""})
    renewed = db.scalar(select(Agreement).where(Agreement.renewed_from_id == agreement.id))
    assert response.headers["Location"].endswith(f"/agreements/{renewed.id}")
    assert renewed.status == "draft" and renewed.no == "XY-2026-001-R1"


def test_editing_is_for_drafts(login_as, site, db, make_agreement):
    draft = make_agreement()
    dispatcher = login_as(Role.DISPATCHER)
    assert 'id="agreement-form"' in dispatcher.get(f"/agreements/{draft.id}/edit").get_data(
        as_text=True
    )
    response = dispatcher.post(
        f"/agreements/{draft.id}/edit", data=_agreement_form(site, response_hours="6")
    )
    assert response.status_code == 302
    db.refresh(draft)
    assert draft.response_hours == 6 and len(draft.lines) == 2
    active = make_agreement(no="ACTIVE", enterprise_id=site.other.id, activate=True)
    response = dispatcher.get(f"/agreements/{active.id}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/agreements/{active.id}"
    )


def test_the_enterprise_user_sees_its_own_and_never_another(login_as, site, make_agreement):
    own = make_agreement(activate=True)
    theirs = make_agreement(no="THEIRS-001", enterprise_id=site.other.id, activate=True)
    client = login_as(Role.ENTERPRISE, enterprise=site.own)
    home = client.get("/").get_data(as_text=True)
    assert 'id="nav-my-enterprise"' in home
    mine = client.get("/agreements").get_data(as_text=True)
    assert own.no in mine and theirs.no not in mine and site.other.name not in mine
    detail = client.get(f"/agreements/{own.id}").get_data(as_text=True)
    assert own.no in detail and 'id="agreement-activate"' not in detail
    assert 'id="agreement-terminate"' not in detail
    assert client.get(f"/enterprises/{site.own.id}").status_code == 200
    for url in (
        f"/agreements/{theirs.id}",
        f"/enterprises/{site.other.id}",
        f"/agreements?enterprise={site.other.id}",
    ):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert theirs.no not in body and site.other.name not in body, url
    assert client.get(f"/agreements/{theirs.id}").status_code == 404
    assert client.get(f"/enterprises/{site.other.id}").status_code == 404
    assert client.get("/enterprises").status_code == 403
    assert client.post(f"/agreements/{own.id}/terminate", data={"reason": "x"}).status_code == 403
