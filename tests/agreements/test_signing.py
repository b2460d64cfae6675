"""代储协议: drafting (every bad input refused with its reason, nothing changed), the database's
own CHECKs, the lifecycle (in force, expired by date at read time, terminated with a reason),
renewal, and no two overlapping agreements in force for one enterprise and material."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from reserve.agreements import queries, signing
from reserve.agreements.models import Agreement, AgreementLine, effective_status
from reserve.agreements.signing import LineData
from reserve.audit.models import AuditEntry
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.agreements.conftest import TODAY, agreement_data, capacity, days


def _counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Agreement, AgreementLine, AuditEntry)
    )


def test_a_draft_with_a_stock_and_a_capacity_line(db, site, system_actor):
    data = agreement_data(
        site.own.id,
        site.water.id,
        region_ids=(site.region.id,),
        storage_fee=Decimal("1.50"),
        rotation_duty="企业负责到期前轮换",
        lines=(
            LineData(
                material_id=site.water.id,
                kind="stock",
                committed_qty=5000,
                unit_price=Decimal("24.00"),
            ),
            capacity(site.quilt.id),
        ),
    )
    agreement = signing.create_agreement(db, data=data, actor=system_actor)
    assert agreement.status == "draft" and agreement.created_by_name == system_actor.username
    assert agreement.region_ids == [site.region.id]
    lines = queries.agreement_lines(db, agreement.id)
    assert [(line.kind, line.committed_qty, line.daily_qty, line.called_qty) for line in lines] == [
        ("stock", 5000, None, 0),
        ("capacity", 20000, 2000, 0),
    ]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.object_type == "agreements"))
    assert entry.action == "create" and entry.after["storage_fee"] == "1.50"
    assert len(entry.after["lines"]) == 2


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (dict(valid_to=TODAY - timedelta(days=11)), "valid_to", "cannot end before it starts"),
        (dict(no="  "), "no", "Give the agreement its number"),
        (dict(response_hours=0), "response_hours", "response time is 1 to"),
        (dict(storage_fee=Decimal("-1")), "storage_fee", "0 or more"),
        (dict(storage_fee=Decimal("1.005")), "storage_fee", "at most 2 decimals"),
        (dict(enterprise_id=999_999), "enterprise_id", "Choose the enterprise"),
        (dict(region_ids=(999_999,)), "region_ids", "Unknown region"),
        (dict(lines=()), "lines", "at least one line"),
    ],
)
def test_bad_headers_are_refused_and_change_nothing(db, site, system_actor, changes, field, words):
    before = _counts(db)
    with pytest.raises(ValidationError) as error:
        signing.create_agreement(
            db,
            data=agreement_data(
                **{"enterprise_id": site.own.id, "material_id": site.water.id, **changes}
            ),
            actor=system_actor,
        )
    assert error.value.field == field and words in str(error.value.message)
    assert _counts(db) == before


@pytest.mark.parametrize(
    "line, field, words",
    [
        (dict(kind="stock", committed_qty=0), "committed_qty", "above 0"),
        (dict(kind="stock", committed_qty=-5), "committed_qty", "above 0"),
        (dict(kind="stock", committed_qty=None), "committed_qty", "above 0"),
        (dict(kind="stock", committed_qty=10, daily_qty=5), "daily_qty", "Only a capacity line"),
        (dict(kind="capacity", committed_qty=100, daily_qty=0, lead_hours=4), "daily_qty", ""),
        (dict(kind="capacity", committed_qty=100, daily_qty=10, lead_hours=None), "lead_hours", ""),
        (dict(kind="capacity", committed_qty=0, daily_qty=10, lead_hours=4), "committed_qty", ""),
        (
            dict(kind="capacity", committed_qty=5, daily_qty=10, lead_hours=4),
            "committed_qty",
            "less than one day",
        ),
        (dict(kind="rent", committed_qty=5), "kind", "stock held or production capacity"),
        (dict(kind="stock", committed_qty=5, unit_price=Decimal("-1")), "unit_price", ""),
        (dict(kind="stock", committed_qty=5, material_id=999_999), "material_id", "material"),
    ],
)
def test_bad_lines_say_which_line_and_change_nothing(db, site, system_actor, line, field, words):
    line.setdefault("material_id", site.quilt.id)
    lines = (LineData(material_id=site.water.id, kind="stock", committed_qty=10), LineData(**line))
    before = _counts(db)
    with pytest.raises(ValidationError) as error:
        signing.create_agreement(
            db, data=agreement_data(site.own.id, site.water.id, lines=lines), actor=system_actor
        )
    assert error.value.field == f"lines-1-{field}" and error.value.details["line"] == 2
    assert str(error.value.message).startswith("Line 2") and words in str(error.value.message)
    assert _counts(db) == before


def test_a_material_twice_of_the_same_kind_is_refused(db, site, system_actor):
    lines = (
        LineData(material_id=site.water.id, kind="stock", committed_qty=10),
        LineData(material_id=site.water.id, kind="stock", committed_qty=20),
    )
    with pytest.raises(ValidationError, match="already on another line"):
        signing.create_agreement(
            db, data=agreement_data(site.own.id, site.water.id, lines=lines), actor=system_actor
        )


def test_a_duplicate_number_is_a_conflict_and_changes_nothing(
    db, make_agreement, site, system_actor
):
    make_agreement()
    before = _counts(db)
    with pytest.raises(Conflict) as error:
        signing.create_agreement(
            db, data=agreement_data(site.other.id, site.water.id), actor=system_actor
        )
    assert error.value.field == "no" and "XY-2026-001" in str(error.value.message)
    assert _counts(db) == before


@pytest.mark.parametrize(
    "values",
    [
        dict(committed_qty=0),
        dict(committed_qty=-1),
        dict(called_qty=1001),  # more called up than committed
        dict(called_qty=-1),
        dict(daily_qty=5),  # a stock line with a daily quantity
        dict(kind="capacity"),  # a capacity line without one
    ],
)
def test_the_database_checks_each_line_too(db, make_agreement, values):
    line = make_agreement().lines[0]
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.execute(sa.update(AgreementLine).where(AgreementLine.id == line.id).values(**values))


def test_the_database_refuses_an_end_before_the_start(db, make_agreement):
    agreement = make_agreement()
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.execute(
            sa.update(Agreement)
            .where(Agreement.id == agreement.id)
            .values(valid_to=agreement.valid_from - timedelta(days=1))
        )


def test_activate_then_expired_by_date_then_terminated(db, make_agreement, system_actor):
    agreement = make_agreement(activate=True)
    assert agreement.status == "active"
    assert agreement.activated_by_name == system_actor.username
    assert agreement.shown_status == "active"
    assert effective_status("active", agreement.valid_to, today=agreement.valid_to) == "active"
    later = agreement.valid_to + timedelta(days=1)
    assert effective_status("active", agreement.valid_to, today=later) == "expired"
    rows = queries.agreement_page(db, status="expired", today=later).items
    assert [r.no for r in rows] == [agreement.no] and rows[0].status == "expired"
    assert queries.agreement_page(db, status="active", today=later).items == []
    with pytest.raises(ValidationError, match="Say why"):
        signing.terminate_agreement(db, agreement_id=agreement.id, reason=" ", actor=system_actor)
    signing.terminate_agreement(
        db, agreement_id=agreement.id, reason="企业停产", actor=system_actor
    )
    assert agreement.status == "terminated" and agreement.termination_reason == "企业停产"
    with pytest.raises(Conflict, match="was terminated"):
        signing.terminate_agreement(db, agreement_id=agreement.id, reason="x", actor=system_actor)
    with pytest.raises(Conflict, match="was terminated"):
        signing.activate_agreement(db, agreement_id=agreement.id, actor=system_actor)


def test_an_agreement_in_force_is_not_edited(db, make_agreement, site, system_actor):
    agreement = make_agreement(activate=True)
    with pytest.raises(Conflict, match="already in force"):
        signing.update_agreement(
            db,
            agreement_id=agreement.id,
            data=agreement_data(site.own.id, site.water.id, response_hours=6),
            actor=system_actor,
        )


def test_a_past_agreement_or_a_suspended_enterprise_does_not_come_into_force(
    db, make_agreement, site, system_actor
):
    past = make_agreement(no="OLD", valid_from=days(-400), valid_to=days(-1))
    with pytest.raises(Conflict, match="renew it instead"):
        signing.activate_agreement(db, agreement_id=past.id, actor=system_actor)
    site.own.status = "suspended"
    fresh = make_agreement(no="NEW")
    with pytest.raises(Conflict, match="suspended"):
        signing.activate_agreement(db, agreement_id=fresh.id, actor=system_actor)
    assert fresh.status == "draft"


def test_overlapping_agreements_in_force_for_one_material_are_refused(
    db, make_agreement, site, system_actor
):
    first = make_agreement(activate=True)
    second = make_agreement(no="XY-2026-002", valid_from=days(100), valid_to=days(300))
    with pytest.raises(Conflict) as error:
        signing.activate_agreement(db, agreement_id=second.id, actor=system_actor)
    assert "XY-2026-001" in str(error.value.message) and "瓶装饮用水" in str(error.value.message)
    assert second.status == "draft"
    # another material, another enterprise, or dates after the first ends: all fine
    quilts = make_agreement(
        no="XY-2026-003",
        lines=(LineData(material_id=site.quilt.id, kind="stock", committed_qty=9),),
    )
    signing.activate_agreement(db, agreement_id=quilts.id, actor=system_actor)
    theirs = make_agreement(no="XY-2026-004", enterprise_id=site.other.id)
    signing.activate_agreement(db, agreement_id=theirs.id, actor=system_actor)
    after = make_agreement(
        no="XY-2026-005", valid_from=first.valid_to + timedelta(days=1), valid_to=days(900)
    )
    signing.activate_agreement(db, agreement_id=after.id, actor=system_actor)
    # once the first is terminated, the overlapping one may come into force
    signing.terminate_agreement(db, agreement_id=first.id, reason="换签", actor=system_actor)
    signing.activate_agreement(db, agreement_id=second.id, actor=system_actor)


def test_renewal_copies_into_a_draft_that_starts_after(db, make_agreement, site, system_actor):
    old = make_agreement(
        activate=True,
        region_ids=(site.region.id,),
        lines=(
            LineData(material_id=site.water.id, kind="stock", committed_qty=500),
            capacity(site.quilt.id, daily=100, lead=24, total=1000),
        ),
    )
    renewed = signing.renew_agreement(db, agreement_id=old.id, no=None, actor=system_actor)
    assert renewed.no == "XY-2026-001-R1" and renewed.status == "draft"
    assert renewed.renewed_from_id == old.id and renewed.region_ids == [site.region.id]
    assert renewed.valid_from == old.valid_to + timedelta(days=1)
    assert renewed.valid_to - renewed.valid_from == old.valid_to - old.valid_from
    assert [(line.kind, line.committed_qty, line.daily_qty) for line in renewed.lines] == [
        ("stock", 500, None),
        ("capacity", 1000, 100),
    ]
    again = signing.renew_agreement(db, agreement_id=old.id, no=" ", actor=system_actor)
    assert again.no == "XY-2026-001-R2"
    with pytest.raises(Conflict):
        signing.renew_agreement(db, agreement_id=old.id, no="XY-2026-001-R1", actor=system_actor)
    signing.activate_agreement(db, agreement_id=renewed.id, actor=system_actor)  # no overlap


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER, Role.KEEPER, Role.ENTERPRISE])
def test_only_admins_and_dispatchers_write(db, site, make_agreement, role):
    draft = make_agreement()
    actor = Actor(user_id=None, username="x", roles=frozenset({role}), enterprise_id=site.own.id)
    before = _counts(db)
    data = agreement_data(site.own.id, site.water.id, no="NEW")
    for call in (
        lambda: signing.create_agreement(db, data=data, actor=actor),
        lambda: signing.update_agreement(db, agreement_id=draft.id, data=data, actor=actor),
        lambda: signing.activate_agreement(db, agreement_id=draft.id, actor=actor),
        lambda: signing.terminate_agreement(db, agreement_id=draft.id, reason="x", actor=actor),
        lambda: signing.renew_agreement(db, agreement_id=draft.id, no=None, actor=actor),
    ):
        with pytest.raises(Forbidden):
            call()
    assert _counts(db) == before


def test_a_dispatcher_drafts_and_activates(db, site):
    dispatcher = Actor(user_id=None, username="d", roles=frozenset({Role.DISPATCHER}))
    agreement = signing.create_agreement(
        db, data=agreement_data(site.own.id, site.water.id), actor=dispatcher
    )
    signing.activate_agreement(db, agreement_id=agreement.id, actor=dispatcher)
    assert agreement.status == "active"


def test_an_enterprise_user_sees_only_its_own_agreements(db, site, make_agreement):
    own = make_agreement()
    theirs = make_agreement(no="THEIRS", enterprise_id=site.other.id)
    actor = Actor(
        user_id=None, username="e", roles=frozenset({Role.ENTERPRISE}), enterprise_id=site.own.id
    )
    assert signing.get_agreement(db, own.id, actor=actor) is own
    with pytest.raises(NotFound):
        signing.get_agreement(db, theirs.id, actor=actor)
    with pytest.raises(NotFound):
        signing.get_agreement(db, 999_999, actor=actor)
    assert [r.no for r in queries.agreement_page(db, actor=actor).items] == [own.no]
    keeper = Actor(user_id=None, username="k", roles=frozenset({Role.KEEPER}))
    with pytest.raises(Forbidden):
        signing.get_agreement(db, own.id, actor=keeper)
    assert queries.agreement_page(db, actor=keeper).items == []


def test_an_update_replaces_the_lines_and_audits_the_change(db, make_agreement, site, system_actor):
    agreement = make_agreement()
    data = agreement_data(site.own.id, site.water.id)
    signing.update_agreement(
        db,
        agreement_id=agreement.id,
        data=replace(data, response_hours=6, lines=(capacity(site.quilt.id),)),
        actor=system_actor,
    )
    assert [line.kind for line in agreement.lines] == ["capacity"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.before["response_hours"] == 12 and entry.after["response_hours"] == 6
    assert set(entry.after) == {"response_hours", "lines"}
