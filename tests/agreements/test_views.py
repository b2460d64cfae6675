from sqlalchemy import func, select
from stdnum.cn import uscc

from reserve.agreements.models import Enterprise
from reserve.audit.models import AuditEntry
from reserve.auth.models import Role

VALID = "91370100MA3C4PYX8L"
OTHER = "91370102MA3D12345" + uscc.calc_check_digit("91370102MA3D12345")


def _english(client):
    client.get("/lang/en")
    return client


def _form(**changes):
    data = {
        "name": "济南银座食品有限公司",
        "uscc": VALID,
        "region_id": "",
        "kind": "food",
        "address": "",
        "legal_rep": "",
        "contact_name": "王强",
        "contact_phone": "0531-88880000",
        "duty_phone": "",
        "is_active": "y",
    }
    data.update(changes)
    return data


def _count(db, model=Enterprise) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_admin_registers_an_enterprise_and_finds_it(login_as, make_region, db):
    admin = login_as(Role.ADMIN)
    region = make_region()
    response = admin.post(
        "/enterprises/new", data=_form(region_id=str(region.id), uscc=VALID.lower())
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    enterprise = db.scalar(select(Enterprise))
    assert enterprise.uscc == VALID and enterprise.region_id == region.id
    html = admin.get("/enterprises?q=银座").get_data(as_text=True)
    assert 'id="enterprise-table"' in html and "济南银座食品有限公司" in html and "济南市" in html
    assert f"/enterprises/{enterprise.id}" in html


def test_bad_codes_show_their_message_and_change_nothing(login_as, db):
    admin = _english(login_as(Role.ADMIN))
    cases = [
        (VALID[:-1], "has 18 characters"),
        (VALID[:-1] + "M", "The check character is wrong"),
        ("A" + VALID[1:], "The first 8 characters of the code must be digits"),
    ]
    before = (_count(db), _count(db, AuditEntry))
    for code, message in cases:
        response = admin.post("/enterprises/new", data=_form(uscc=code))
        assert response.status_code == 200, code
        assert message in response.get_data(as_text=True), code
    assert (_count(db), _count(db, AuditEntry)) == before


def test_duplicate_name_is_refused(login_as, make_enterprise, db):
    make_enterprise("济南银座食品有限公司", OTHER)
    admin = _english(login_as(Role.ADMIN))
    response = admin.post("/enterprises/new", data=_form())
    assert "already exists" in response.get_data(as_text=True)
    assert _count(db) == 1


def test_admin_edits_an_enterprise(login_as, make_enterprise, db):
    enterprise = make_enterprise(
        "济南银座食品有限公司",
        VALID,
        kind="food",
        contact_name="王强",
        contact_phone="0531-88880000",
    )
    admin = login_as(Role.ADMIN)
    page = admin.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert VALID in page and 'id="enterprise-form"' in page
    response = admin.post(f"/enterprises/{enterprise.id}", data=_form(contact_name="李娜"))
    assert response.status_code == 302
    db.refresh(enterprise)
    assert enterprise.contact_name == "李娜"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprises"))
    assert entry.action == "update" and entry.after == {"contact_name": "李娜"}
    assert admin.get("/enterprises/999999").status_code == 404


def test_viewer_reads_the_list_but_cannot_write(login_as, make_enterprise, db):
    enterprise = make_enterprise("济南银座食品有限公司", VALID)
    viewer = login_as(Role.VIEWER)
    html = viewer.get("/enterprises").get_data(as_text=True)
    assert "济南银座食品有限公司" in html and "/enterprises/new" not in html
    assert f"/enterprises/{enterprise.id}" not in html
    assert viewer.get("/enterprises/new").status_code == 403
    assert viewer.post("/enterprises/new", data=_form(name="新企业", uscc=OTHER)).status_code == 403
    assert viewer.post(f"/enterprises/{enterprise.id}", data=_form()).status_code == 403
    assert _count(db) == 1


def test_enterprise_user_reaches_no_enterprise_page(login_as, make_enterprise):
    own = make_enterprise("自家企业", VALID)
    make_enterprise("别家企业", OTHER)
    client = login_as(Role.ENTERPRISE, enterprise=own)
    assert client.get("/enterprises").status_code == 403  # the list is for the office
    assert client.get(f"/enterprises/{own.id}").status_code == 403  # editing is for admins
    response = client.get("/enterprises/new")
    assert response.status_code == 403 and "Traceback" not in response.get_data(as_text=True)


def test_list_pages_and_sorts(login_as, make_enterprise):
    for n in range(55):
        body = f"91370100MA3C{n:05d}"
        make_enterprise(f"企业{n:02d}", body + uscc.calc_check_digit(body))
    viewer = login_as(Role.VIEWER)
    first = viewer.get("/enterprises?sort=-name").get_data(as_text=True)
    assert "企业54" in first and "企业00" not in first
    second = viewer.get("/enterprises?sort=-name&page=2").get_data(as_text=True)
    assert "企业00" in second and "企业54" not in second
