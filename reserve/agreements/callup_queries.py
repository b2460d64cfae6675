"""Read side of call-ups (调用单): the list (paged by key, filtered by status, enterprise and
overdue replenishment), what each line of an agreement can still give, the receipts of a
call-up, the shipped call-ups a receipt may link, and the landing page's counts. Every read is
limited to what the actor sees (an enterprise user: its own enterprise's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from reserve.agreements.callup_models import CallUp, CallUpStatus
from reserve.agreements.callup_pdf import CallUpNotice
from reserve.agreements.models import Agreement, AgreementLine, Enterprise, LineKind
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import KeyPage, local_today, seek_page
from reserve.receipts.models import Receipt, ReceiptLine
from reserve.warehouses.models import Warehouse

STATUS_FILTERS = tuple(s.value for s in CallUpStatus)


def overdue_clause(today: date):
    """补储逾期: shipped, and the replenishment's due date has passed."""
    return and_(CallUp.status == CallUpStatus.SHIPPED.value, CallUp.replenish_due_on < today)


def call_up_search(
    *,
    actor: Actor,
    status: str | None = None,
    enterprise_id: int | None = None,
    agreement_id: int | None = None,
    overdue: bool = False,
    q: str | None = None,
    today: date | None = None,
) -> Select:
    """The call-up list as one SELECT with its agreement, enterprise, line, material and
    warehouse joined (no query per row)."""
    stmt = (
        select(
            CallUp,
            Agreement.no.label("agreement_no"),
            Enterprise.name.label("enterprise_name"),
            AgreementLine.line_no,
            AgreementLine.kind,
            AgreementLine.material_id,
            Material.name.label("material_name"),
            Material.unit,
            Warehouse.name.label("warehouse_name"),
        )
        .join(Agreement, Agreement.id == CallUp.agreement_id)
        .join(Enterprise, Enterprise.id == CallUp.enterprise_id)
        .join(AgreementLine, AgreementLine.id == CallUp.line_id)
        .join(Material, Material.id == AgreementLine.material_id)
        .outerjoin(Warehouse, Warehouse.id == CallUp.warehouse_id)
        .where(actor.visible_enterprise(CallUp.enterprise_id))
    )
    if status in STATUS_FILTERS:
        stmt = stmt.where(CallUp.status == status)
    if enterprise_id:
        stmt = stmt.where(CallUp.enterprise_id == enterprise_id)
    if agreement_id:
        stmt = stmt.where(CallUp.agreement_id == agreement_id)
    if overdue:
        stmt = stmt.where(overdue_clause(today or local_today()))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(CallUp.no.ilike(like), Agreement.no.ilike(like), Enterprise.name.ilike(like))
        )
    return stmt


def call_up_page(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    enterprise_id: int | None = None,
    agreement_id: int | None = None,
    overdue: bool = False,
    q: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of call-ups, newest call first, by key (time of the call, then id)."""
    stmt = call_up_search(
        actor=actor,
        status=status,
        enterprise_id=enterprise_id,
        agreement_id=agreement_id,
        overdue=overdue,
        q=q,
    )
    return seek_page(
        session,
        stmt,
        [(CallUp.requested_at, True), (CallUp.id, True)],
        after=after,
        per_page=per_page,
        key_of=lambda row: (row.CallUp.requested_at, row.CallUp.id),
    )


@dataclass(frozen=True)
class CallableLine:
    """One line of an agreement and what it can still give (可调用数量)."""

    id: int
    line_no: int
    kind: str
    material_name: str
    unit: str
    committed_qty: int
    called_qty: int
    shipped_qty: int
    capped_qty: int | None
    callable_qty: int

    @property
    def kind_label(self):
        return LineKind(self.kind).label


def callable_lines(session: Session, agreement_id: int) -> list[CallableLine]:
    """Each line of the agreement with what is called, shipped and still callable, the rule
    computed in SQL (``AgreementLine.callable_expr``)."""
    rows = session.execute(
        select(
            AgreementLine.id,
            AgreementLine.line_no,
            AgreementLine.kind,
            Material.name.label("material_name"),
            Material.unit,
            AgreementLine.committed_qty,
            AgreementLine.called_qty,
            AgreementLine.shipped_qty,
            AgreementLine.capped_qty,
            AgreementLine.callable_expr().label("callable_qty"),
        )
        .join(Material, Material.id == AgreementLine.material_id)
        .where(AgreementLine.agreement_id == agreement_id)
        .order_by(AgreementLine.line_no)
    )
    return [CallableLine(**row._asdict()) for row in rows]


def call_up_receipts(session: Session, call_up_id: int) -> list:
    """The receipts linked to a call-up (协议调用), with their quantity, oldest first."""
    return list(
        session.execute(
            select(
                Receipt.id,
                Receipt.no,
                Receipt.status,
                Receipt.document_date,
                Warehouse.name.label("warehouse_name"),
                func.coalesce(func.sum(ReceiptLine.qty), 0).label("qty"),
            )
            .join(Warehouse, Warehouse.id == Receipt.warehouse_id)
            .outerjoin(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
            .where(Receipt.call_up_id == call_up_id)
            .group_by(Receipt.id, Receipt.no, Receipt.status, Receipt.document_date, Warehouse.name)
            .order_by(Receipt.id)
        )
    )


def received_qty(
    session: Session,
    call_up_id: int,
    *,
    statuses: tuple[str, ...],
    except_no: str | None = None,
) -> int:
    """What receipts of these statuses linked to the call-up bring in (one receipt left out)."""
    stmt = (
        select(func.coalesce(func.sum(ReceiptLine.qty), 0))
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .where(Receipt.call_up_id == call_up_id, Receipt.status.in_(statuses))
    )
    if except_no is not None:
        stmt = stmt.where(Receipt.no != except_no)
    return session.scalar(stmt) or 0


def receivable_call_ups(session: Session, *, material_ids=None) -> list[tuple[int, str]]:
    """The shipped (or already replenished) call-ups a receipt may link, newest first: number,
    enterprise, material and the quantity shipped."""
    rows = session.execute(
        select(
            CallUp.id,
            CallUp.no,
            CallUp.shipped_qty,
            Enterprise.name.label("enterprise_name"),
            Material.name.label("material_name"),
            Material.unit,
        )
        .join(Enterprise, Enterprise.id == CallUp.enterprise_id)
        .join(AgreementLine, AgreementLine.id == CallUp.line_id)
        .join(Material, Material.id == AgreementLine.material_id)
        .where(CallUp.status.in_((CallUpStatus.SHIPPED.value, CallUpStatus.REPLENISHED.value)))
        .order_by(CallUp.shipped_at.desc(), CallUp.id.desc())
        .limit(200)
    )
    return [
        (
            row.id,
            f"{row.no} · {row.enterprise_name} · {row.material_name} {row.shipped_qty}{row.unit}",
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CallUpWork:
    """The landing page's call-up lines: awaiting the enterprise, and overdue replenishment."""

    awaiting: int
    overdue: int


def call_up_work(session: Session, actor: Actor) -> CallUpWork:
    """Both counts in one aggregate over the call-ups the actor sees."""
    today = local_today()
    row = session.execute(
        select(
            func.count(case((CallUp.status == CallUpStatus.REQUESTED.value, 1))).label("awaiting"),
            func.count(case((overdue_clause(today), 1))).label("overdue"),
        ).where(
            actor.visible_enterprise(CallUp.enterprise_id),
            CallUp.status.in_((CallUpStatus.REQUESTED.value, CallUpStatus.SHIPPED.value)),
        )
    ).one()
    return CallUpWork(awaiting=row.awaiting, overdue=row.overdue)


def notice(session: Session, call: CallUp):
    """调用通知单: the call-up's printable facts (reserve.agreements.callup_pdf)."""
    row = session.execute(
        select(
            Agreement.no,
            Enterprise.name,
            AgreementLine.line_no,
            AgreementLine.kind,
            Material.code,
            Material.name.label("material_name"),
            Material.unit,
            Warehouse.name.label("warehouse_name"),
        )
        .select_from(CallUp)
        .join(Agreement, Agreement.id == CallUp.agreement_id)
        .join(Enterprise, Enterprise.id == CallUp.enterprise_id)
        .join(AgreementLine, AgreementLine.id == CallUp.line_id)
        .join(Material, Material.id == AgreementLine.material_id)
        .outerjoin(Warehouse, Warehouse.id == CallUp.warehouse_id)
        .where(CallUp.id == call.id)
    ).one()
    places = [p for p in (row.warehouse_name, call.destination) if p]
    return CallUpNotice(
        no=call.no,
        status=call.status,
        enterprise=row.name,
        agreement_no=row.no,
        line_no=row.line_no,
        kind=row.kind,
        material_code=row.code,
        material_name=row.material_name,
        unit=row.unit,
        qty=call.qty,
        needed_by=call.needed_by,
        respond_by=call.respond_by,
        deliver_to="；".join(places),
        purpose=call.purpose,
        source=call.source,
        requested_by=call.requested_by_name,
        requested_at=call.requested_at,
        shipped_qty=call.shipped_qty,
        vehicle=" ".join(v for v in (call.vehicle_plate, call.driver_name, call.driver_phone) if v)
        or None,
        replenish_due_on=call.replenish_due_on,
    )
