"""The material picker's search (``/catalog/materials/pick``): name, code, spec and pinyin
initials, the full name of each, at most 20, only materials in use, and narrowed to what a
warehouse holds for a user who sees that warehouse."""

from reserve.auth.models import Role


def _picks(client, **params):
    response = client.get("/catalog/materials/pick", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["items"]


def test_pinyin_code_spec_and_name_find_the_material(login_as, make_material, make_category):
    keeper = login_as(Role.KEEPER)
    tents = make_category("1010101")
    tent = make_material("单帐篷", code="1010101001", spec="3m×4m 12m²", category=tents)
    make_material("棉被", code="1020101001", unit="床", category=make_category("1020101"))
    for q in ("dzp", "zp", "1010101", "3m×4m", "帐篷"):
        items = _picks(keeper, q=q)
        assert [i["id"] for i in items] == [tent.id], q
    assert items[0]["text"] == "1010101001 单帐篷 3m×4m 12m² (顶)"


def test_at_most_twenty_and_only_materials_in_use(login_as, make_material, count_queries):
    dispatcher = login_as(Role.DISPATCHER)
    for n in range(25):
        make_material(f"帐篷{n}")
    make_material("旧帐篷", is_active=False)
    with count_queries() as statements:
        items = _picks(dispatcher, q="zp")
    assert len(items) == 20 and all("旧帐篷" not in i["text"] for i in items)
    assert len([s for s in statements if "materials" in s]) == 1  # one query, whatever the rows


def test_narrowed_to_what_the_keepers_warehouse_holds(
    login_as, make_material, make_warehouse, db, system_actor
):
    from reserve.db import local_today
    from reserve.stock import ledger
    from reserve.stock.models import Batch, MovementKind
    from reserve.warehouses.models import Location

    warehouse = make_warehouse()
    other = make_warehouse()
    keeper = login_as(Role.KEEPER, warehouses=[warehouse])
    held, absent = make_material("单帐篷"), make_material("棉帐篷")
    batch = Batch(material_id=held.id, batch_no="B-1", source="purchase")
    db.add(batch)
    db.flush()
    location = db.query(Location).filter_by(warehouse_id=warehouse.id, code="A-01-01").one()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=5,
        document=ledger.DocumentRef("test", None, "T-1", local_today()),
        actor=system_actor,
    )
    ids = [i["id"] for i in _picks(keeper, q="zp", warehouse_id=warehouse.id)]
    assert ids == [held.id] and absent.id not in ids
    assert keeper.get(f"/catalog/materials/pick?q=zp&warehouse_id={other.id}").status_code == 403


def test_enterprise_users_do_not_pick_stock_materials(login_as):
    enterprise = login_as(Role.ENTERPRISE)
    assert enterprise.get("/catalog/materials/pick?q=zp").status_code == 403
