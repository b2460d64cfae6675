"""People by name (赵保管) with the login in a tooltip: one filter, one statement per page
however many rows, used on the stock card, the audit log, stocktakes and disposals; and the
site name once in the header."""

from datetime import UTC, datetime

from markupsafe import Markup

from reserve.audit.models import AuditEntry
from reserve.auth.models import Role
from reserve.templating import person


def test_the_filter_shows_the_name_and_keeps_the_login_in_a_tooltip(app, db, make_user):
    user = make_user(Role.KEEPER, username="zhao", full_name="赵保管")
    with app.test_request_context():
        assert person("zhao") == Markup('<span class="person" title="zhao">赵保管</span>')
        assert person(user) == person("zhao")
        assert person("system") == Markup('<span class="person">system</span>')  # no user
        assert person(None) == "" and person("") == ""
    make_user(username="evil", full_name="<script>x</script>")
    with app.test_request_context():
        assert "<script>" not in person("evil") and "&lt;script&gt;" in person("evil")


def _audit(db, username: str, n: int = 1) -> None:
    for i in range(n):
        db.add(
            AuditEntry(
                at=datetime.now(UTC),
                username=username,
                action="create",
                object_type="materials",
                object_id=str(i),
            )
        )
    db.flush()


def test_the_audit_log_shows_names_in_one_statement_whatever_the_rows(
    login_as, db, make_user, count_queries
):
    people = [make_user(full_name=f"用户{i}") for i in range(6)]
    admin = login_as(Role.ADMIN)
    _audit(db, people[0].username)
    admin.get("/admin/audit?object_type=materials")
    with count_queries() as few:
        html = admin.get("/admin/audit?object_type=materials").get_data(as_text=True)
    assert f'title="{people[0].username}">用户0</span>' in html
    for user in people:
        _audit(db, user.username, 3)
    with count_queries() as many:
        html = admin.get("/admin/audit?object_type=materials").get_data(as_text=True)
    assert all(f'title="{u.username}">{u.full_name}</span>' in html for u in people)
    assert len(many) == len(few)
    names = [s for s in many if s.lstrip().startswith("SELECT users.username, users.full_name")]
    assert len(names) == 1  # the names, read once for the page


def test_the_stock_card_shows_who_moved_stock_by_name(
    login_as, db, make_user, make_warehouse, make_material
):
    from reserve.auth.actor import Actor
    from reserve.stock import ledger
    from reserve.stock.models import Batch, MovementKind
    from reserve.warehouses.models import Location

    warehouse = make_warehouse()
    keeper = make_user(Role.KEEPER, username="qian", full_name="钱保管", warehouses=[warehouse])
    tent = make_material("单帐篷")
    batch = Batch(material_id=tent.id, batch_no="B1", source="purchase")
    db.add(batch)
    db.flush()
    location = db.query(Location).filter_by(warehouse_id=warehouse.id).first()
    ledger.post_movement(
        db,
        kind=MovementKind.RECEIPT,
        location_id=location.id,
        batch_id=batch.id,
        qty=5,
        document=ledger.DocumentRef("test", None, "T-1", datetime.now(UTC).date()),
        actor=Actor.for_user(keeper),
    )
    html = login_as(Role.VIEWER).get(f"/stock/materials/{tent.id}/card").get_data(as_text=True)
    assert '<span class="person" title="qian">钱保管</span>' in html


def test_the_stocktake_list_and_page_show_people_by_name(login_as, db, make_user, make_warehouse):
    from reserve.stocktakes.models import Stocktake

    warehouse = make_warehouse()
    make_user(Role.KEEPER, username="sun", full_name="孙保管", warehouses=[warehouse])
    stocktake = Stocktake(
        no="PD-T-1", warehouse_id=warehouse.id, status="counting", created_by_name="sun"
    )
    db.add(stocktake)
    db.flush()
    viewer = login_as(Role.VIEWER)
    tip = '<span class="person" title="sun">孙保管</span>'
    assert tip in viewer.get("/stocktakes").get_data(as_text=True)
    assert tip in viewer.get(f"/stocktakes/{stocktake.id}").get_data(as_text=True)


def test_the_site_name_is_in_the_header_once(login_as):
    html = login_as(Role.VIEWER).get("/").get_data(as_text=True)
    header = html.split("<nav")[1].split("</nav>")[0]
    assert header.count("应急物资储备") == 1
