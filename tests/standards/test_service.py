"""Standards: the admin's rules, the database's checks, the history kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, ValidationError
from reserve.orders import suggest
from reserve.standards import service
from reserve.standards.models import ReserveStandard, StandardChange
from reserve.standards.service import StandardData


def _data(site, **changes):
    fields = dict(
        material_id=site.tent.id, warehouse_id=site.wc.id, region_id=None, required_qty=100
    )
    fields.update(changes)
    return StandardData(**fields)


def test_history_of_create_change_and_delete(db, site):
    standard = service.save_standard(db, data=_data(site), actor=site.admin)
    service.save_standard(
        db,
        data=_data(site, required_qty=150, min_physical_pct=80),
        actor=site.admin,
        standard_id=standard.id,
    )
    changes = db.scalars(sa.select(StandardChange).order_by(StandardChange.id)).all()
    assert [
        (c.action, c.before and c.before["required_qty"], c.after["required_qty"]) for c in changes
    ] == [("create", None, 100), ("update", 100, 150)]
    assert changes[1].after["min_physical_pct"] == 80 and changes[1].changed_by_name == "test"
    service.delete_standard(db, standard_id=standard.id, reason="仓库撤并", actor=site.admin)
    last = db.scalars(sa.select(StandardChange).order_by(StandardChange.id.desc())).first()
    assert (last.action, last.reason, last.after) == ("delete", "仓库撤并", None)
    assert db.get(ReserveStandard, standard.id) is None


def test_delete_needs_a_reason(db, site):
    standard = service.save_standard(db, data=_data(site), actor=site.admin)
    with pytest.raises(ValidationError):
        service.delete_standard(db, standard_id=standard.id, reason=" ", actor=site.admin)


@pytest.mark.parametrize(
    "changes",
    [
        {"warehouse_id": None},  # no scope
        {"region_id": 1},  # both scopes (set below)
        {"required_qty": 0},
        {"min_physical_pct": 101},
        {"counts_agreements": True},  # a warehouse holds no agreement stock
        {"material_id": None},
    ],
)
def test_bad_standards_are_refused(db, site, changes):
    if changes.get("region_id"):
        changes = {"region_id": site.city.id}
    with pytest.raises(ValidationError):
        service.save_standard(db, data=_data(site, **changes), actor=site.admin)
    assert db.scalar(sa.select(sa.func.count()).select_from(ReserveStandard)) == 0


def test_one_standard_per_material_and_scope(db, site):
    service.save_standard(db, data=_data(site), actor=site.admin)
    with pytest.raises(Conflict):
        service.save_standard(db, data=_data(site, required_qty=5), actor=site.admin)
    service.save_standard(  # the same material for a region is another scope
        db, data=_data(site, warehouse_id=None, region_id=site.city.id), actor=site.admin
    )


def test_the_database_checks_too(db, site):
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.add(
            ReserveStandard(
                material_id=site.tent.id,
                warehouse_id=site.wc.id,
                required_qty=1,
                min_physical_pct=0,
                counts_agreements=True,
                updated_by_name="x",
            )
        )
        db.flush()
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        for _ in range(2):
            db.add(
                ReserveStandard(
                    material_id=site.tent.id,
                    region_id=site.city.id,
                    required_qty=1,
                    min_physical_pct=0,
                    counts_agreements=False,
                    updated_by_name="x",
                )
            )
        db.flush()


def test_only_the_admin_edits(db, site):
    viewer = Actor(user_id=None, username="v", roles=frozenset({Role.VIEWER}))
    with pytest.raises(Forbidden):
        service.save_standard(db, data=_data(site), actor=viewer)


def test_suggestions_warn_when_a_take_opens_a_shortfall(db, site, standard):
    standard(site.tent, site.wp, 80, pct=100)  # WH-P holds 100: met
    standard(site.tent, site.county, 90)  # 平阴县: 100 physical, met
    line = suggest.suggest(
        db,
        lines=[(site.tent.id, 50)],
        destination=None,
        destination_warehouse_id=site.wc.id,  # a transfer into WH-C: from WH-P only
    )[0]
    assert [(p.warehouse_id, p.qty) for p in line.proposals][:1] == [(site.wp.id, 50)]
    got = {(w.scope_label, w.shortfall_before, w.shortfall_after) for w in line.warnings}
    assert got == {("平阴库", 0, 30), ("平阴县", 0, 40)}
    assert all("平阴" in w.message for w in line.warnings)


def test_no_warning_when_the_standard_stays_met(db, site, standard):
    standard(site.tent, site.wp, 10)
    assert suggest.standard_warnings(db, material_id=site.tent.id, takes={site.wp.id: 50}) == []
    assert suggest.standard_warnings(db, material_id=site.tent.id, takes={site.wc.id: 50}) == []
