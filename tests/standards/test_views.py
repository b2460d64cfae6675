"""Standards and shortfall pages, every role; the Excel import all or nothing."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from reserve.auth.models import Role
from reserve.standards.models import ReserveStandard, StandardChange

READERS = (Role.ADMIN, Role.DISPATCHER, Role.APPROVER, Role.KEEPER, Role.VIEWER)
PAGES = [
    "/standards",
    "/standards/export.xlsx",
    "/shortfall",
    "/shortfall/export.xlsx",
]
ADMIN_PAGES = ["/standards/new", "/standards/import"]


@pytest.mark.parametrize("role", list(Role))
def test_every_page_as_every_role(db, site, standard, login_as, role):
    made = standard(site.tent, site.wc, 150)
    client = login_as(role)
    for url in PAGES:
        expected = 200 if role in READERS else 403
        assert client.get(url).status_code == expected, (url, role)
    for url in [*ADMIN_PAGES, f"/standards/{made.id}/edit"]:
        assert client.get(url).status_code == (200 if role is Role.ADMIN else 403), (url, role)
    response = client.post(f"/standards/{made.id}/delete", data={"reason": "x"})
    assert response.status_code == (302 if role is Role.ADMIN else 403)


def test_the_admin_creates_edits_and_removes_on_screen(db, site, login_as):
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/standards/new",
        data={
            "material_id": site.tent.id,
            "region_id": site.county.id,
            "required_qty": 600,
            "min_physical_pct": 30,
            "counts_agreements": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    made = db.scalar(sa.select(ReserveStandard))
    assert (made.required_qty, made.counts_agreements) == (600, True)
    page = admin.get("/shortfall").get_data(as_text=True)
    assert f'id="shortfall-{made.id}"' in page and ">150<" in page  # 600 − (100 + 350)
    admin.post(
        f"/standards/{made.id}/edit",
        data={"required_qty": 450, "min_physical_pct": 0, "counts_agreements": "y"},
    )
    assert ">0<" in admin.get("/shortfall").get_data(as_text=True)
    history = admin.get(f"/standards/{made.id}/edit").get_data(as_text=True)
    assert "600" in history and "450" in history
    assert admin.post(f"/standards/{made.id}/delete", data={"reason": ""}).status_code == 302
    assert db.get(ReserveStandard, made.id) is not None  # no reason: kept
    admin.post(f"/standards/{made.id}/delete", data={"reason": "重复"})
    assert db.scalar(sa.select(sa.func.count()).select_from(ReserveStandard)) == 0


def test_a_bad_form_says_why_in_chinese(db, site, login_as):
    admin = login_as(Role.ADMIN)
    response = admin.post(
        "/standards/new",
        data={
            "material_id": site.tent.id,
            "warehouse_id": site.wc.id,
            "required_qty": 5,
            "counts_agreements": "y",
        },
        headers={"Accept-Language": "zh-CN"},
    )
    assert response.status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(ReserveStandard)) == 0


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["物资编码", "范围", "编码", "应储", "实物%", "协议", "依据"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _import(client, content):
    return client.post(
        "/standards/import",
        data={"file": (io.BytesIO(content), "standards.xlsx")},
        content_type="multipart/form-data",
    )


def test_import_writes_nothing_if_one_row_is_wrong(db, site, login_as):
    admin = login_as(Role.ADMIN)
    content = _xlsx(
        [
            ["1010100001", "warehouse", "WH-C", 150, 100, "否", "5000人"],
            ["1010100001", "region", "370124", 600, 30, "是", None],
            ["9999999999", "warehouse", "WH-C", 10, 0, "否", None],  # row 4: no material
            ["1010100001", "warehouse", "WH-P", -5, 0, "否", None],  # row 5: bad quantity
            ["1010100001", "warehouse", "WH-C", 10, 0, "否", None],  # row 6: repeats row 2
            ["1010100001", "warehouse", "WH-P", 10, 0, "是", None],  # row 7: agreements
        ]
    )
    response = _import(admin, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for line in (4, 5, 6, 7):
        assert f"Row {line}:" in page or f"第 {line} 行" in page or f"第{line}行" in page, line
    assert "Row 2:" not in page and "Row 3:" not in page
    assert db.scalar(sa.select(sa.func.count()).select_from(ReserveStandard)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(StandardChange)) == 0


def test_import_then_export_round_trip(db, site, login_as, standard):
    existing = standard(site.tent, site.wc, 10)
    admin = login_as(Role.ADMIN)
    content = _xlsx(
        [
            ["1010100001", "warehouse", "WH-C", 150, 100, "否", "5000人"],
            ["1010100001", "region", "370124", 600, 30, "是", None],
            ["2010100001", "仓库", "wh-p", 3, 100, "", None],
        ]
    )
    assert _import(admin, content).status_code == 302
    db.expire_all()
    assert db.get(ReserveStandard, existing.id).required_qty == 150  # changed, not doubled
    assert db.scalar(sa.select(sa.func.count()).select_from(ReserveStandard)) == 3
    actions = db.scalars(sa.select(StandardChange.action).order_by(StandardChange.id)).all()
    assert actions == ["create", "import", "import", "import"]
    exported = admin.get("/standards/export.xlsx")
    rows = list(load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert [r[:6] for r in rows[1:]] == [
        ("1010100001", "region", "370124", 600, 30, "是"),
        ("1010100001", "warehouse", "WH-C", 150, 100, "否"),
        ("2010100001", "warehouse", "WH-P", 3, 100, "否"),
    ]
    # the export imports back unchanged
    assert _import(admin, exported.data).status_code == 302


def test_not_a_workbook(db, site, login_as):
    page = _import(login_as(Role.ADMIN), b"not excel").get_data(as_text=True)
    assert "xlsx" in page


def test_shortfall_export_and_panels(db, site, standard, login_as):
    standard(site.tent, site.wp, 1000)
    client = login_as(Role.VIEWER)
    rows = list(
        load_workbook(io.BytesIO(client.get("/shortfall/export.xlsx").data))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert rows[1][1] == "1010100001" and rows[1][10] == 900
    page = client.get(f"/stock/materials/{site.tent.id}").get_data(as_text=True)
    assert 'id="standing-panel"' in page and "900" in page
    page = client.get(f"/warehouses/{site.wp.id}").get_data(as_text=True)
    assert 'id="standing-panel"' in page


def test_the_shortfall_page_costs_the_same_for_more_standards(
    db, site, standard, login_as, count_queries
):
    client = login_as(Role.VIEWER)
    standard(site.tent, site.wc, 150)
    db.flush()
    client.get("/shortfall")
    with count_queries() as few:
        client.get("/shortfall")
    standard(site.tent, site.wp, 100)
    standard(site.tent, site.city, 400, agreements=True)
    standard(site.pump, site.wp, 3)
    db.flush()
    with count_queries() as more:
        client.get("/shortfall")
    assert len(more) == len(few)


@pytest.mark.parametrize("role", list(Role))
def test_the_shortfall_api(db, site, standard, api_token, client, role):
    standard(site.tent, site.county, 600, pct=30, agreements=True)
    headers, _user = api_token(role)
    response = client.get("/api/v1/shortfall", headers=headers)
    if role not in READERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    body = response.get_json()
    if role is Role.KEEPER:  # a region's figure spans warehouses a keeper does not see
        assert body["standards"] == []
        return
    (row,) = body["standards"]
    assert (row["physical"], row["agreement"], row["shortfall"], row["physical_shortfall"]) == (
        100,
        350,
        150,
        80,
    )
    assert row["severity"] == "short" and body["counts"] == {"short": 1}
    assert body["by_region"][0]["key"] == "平阴县"
    assert "/shortfall" in client.get("/api/v1/openapi.json").get_data(as_text=True)
