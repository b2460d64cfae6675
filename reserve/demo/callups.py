"""The demo city's call-ups (调用单), made through the services at their own times
(``clock_at``): one awaiting the enterprise, one shipped and awaiting replenishment whose goods
arrived at the municipal warehouse through a receipt of source 协议调用, one whose
replenishment is overdue, one replenished and one cancelled. The demo enterprise user sees the
ones addressed to its enterprise (the first) on its landing page."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.agreements.callups import (
    CallUpData,
    call_up,
    cancel_call_up,
    confirm_shipped,
    report_replenished,
)
from reserve.agreements.models import Agreement, AgreementLine, AgreementStatus
from reserve.auth.actor import Actor
from reserve.catalog.models import Material
from reserve.db import clock_at, local_today
from reserve.demo.clock import demo_moment, local_moment
from reserve.receipts.service import ReceiptData, ReceiptLineData, create_receipt, post_receipt
from reserve.stock.models import BatchSource

PLATES = ("鲁A3F527", "鲁AD12873", "鲁A7K219", "鲁AB6031", "鲁A5Q880")
DRIVERS = (("张建国", "13805310001"), ("王海涛", "13905310002"), ("李明", "15805310003"))


def _lines(session: Session, enterprise_id: int, today: date) -> list[AgreementLine]:
    """Stock lines of batch-tracked materials under agreements in force for the last 70 days,
    the demo enterprise's first."""
    rows = session.scalars(
        select(AgreementLine)
        .join(Agreement, Agreement.id == AgreementLine.agreement_id)
        .join(Material, Material.id == AgreementLine.material_id)
        .where(
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.valid_from <= today - timedelta(days=70),
            Agreement.valid_to >= today + timedelta(days=10),
            AgreementLine.kind == "stock",
            AgreementLine.committed_qty >= 50,
            Material.tracking == "batch",
        )
        .order_by((Agreement.enterprise_id != enterprise_id), Agreement.no, AgreementLine.line_no)
    ).all()
    seen, chosen = set(), []
    for line in rows:  # one line per agreement, so the figures stay apart
        if line.agreement_id not in seen:
            seen.add(line.agreement_id)
            chosen.append(line)
    return chosen


def load_call_ups(
    session: Session,
    *,
    dispatcher: Actor,
    enterprise: Actor,
    keeper: Actor,
    warehouse_id: int,
) -> int:
    """调用演示数据: five call-ups in their states and one receipt of source 协议调用."""
    today = local_today()
    lines = _lines(session, enterprise.enterprise_id, today)
    if len(lines) < 5:
        return 0
    own = [line for line in lines if line.agreement.enterprise_id == enterprise.enterprise_id]
    others = [line for line in lines if line not in own]
    mine = own[:2] if len(own) >= 2 else own + others[: 2 - len(own)]
    rest = [line for line in lines if line not in mine]
    # (line, days ago called, qty share, what then happens)
    plan = [
        (rest[0], 60, 0.1, "replenished"),
        (rest[1], 40, 0.2, "overdue"),
        (rest[2], 20, 0.1, "cancelled"),
        (mine[1], 9, 0.15, "received"),
        (mine[0], 0, 0.1, "requested"),
    ]

    def actor_for(line):  # the enterprise's own user confirms where it has one
        return (
            enterprise if line.agreement.enterprise_id == enterprise.enterprise_id else dispatcher
        )

    made = 0
    for n, (line, ago, share, outcome) in enumerate(plan):
        qty = max(1, int(line.callable_qty * share))
        day = today - timedelta(days=ago)
        called_at = demo_moment(day, 9) if ago else None
        with clock_at(called_at) if called_at else nullcontext():
            call = call_up(
                session,
                data=CallUpData(
                    line_id=line.id,
                    qty=qty,
                    needed_by=local_moment(day + timedelta(days=1), 18),
                    warehouse_id=warehouse_id if outcome in ("received", "requested") else None,
                    destination=None
                    if outcome in ("received", "requested")
                    else "历城区唐冶安置点",
                    purpose="防汛抢险" if n % 2 else "森林防火演练",
                ),
                actor=dispatcher,
            )
        made += 1
        if outcome == "requested":
            continue
        if outcome == "cancelled":
            with clock_at(demo_moment(day, 15)):
                cancel_call_up(
                    session, call_up_id=call.id, reason="险情解除，不再需要", actor=dispatcher
                )
            continue
        shipped_qty = qty if outcome != "overdue" else max(1, qty - qty // 10)
        driver, phone = DRIVERS[n % len(DRIVERS)]
        with clock_at(demo_moment(day, 14)):
            call = confirm_shipped(
                session,
                call_up_id=call.id,
                shipped_qty=shipped_qty,
                vehicle_plate=PLATES[n],
                driver_name=driver,
                driver_phone=phone,
                shipped_at=demo_moment(day, 13),
                actor=actor_for(line),
            )
        if outcome == "replenished":
            back = day + timedelta(days=12)
            with clock_at(demo_moment(back, 16)):
                report_replenished(
                    session,
                    call_up_id=call.id,
                    replenished_qty=shipped_qty,
                    replenished_on=back,
                    note="已按原规格补齐",
                    actor=actor_for(line),
                )
        if outcome == "received":
            receipt = create_receipt(
                session,
                actor=keeper,
                data=ReceiptData(
                    warehouse_id=warehouse_id,
                    source=BatchSource.AGREEMENT_CALL_UP.value,
                    call_up_id=call.id,
                    document_date=today,
                    supplier=line.agreement.enterprise.name,
                    paper_no=call.no,
                    lines=(
                        ReceiptLineData(
                            material_id=line.material_id,
                            batch_no=f"{call.no}-1",
                            qty=shipped_qty,
                            production_date=day - timedelta(days=30),
                        ),
                    ),
                ),
            )
            post_receipt(session, receipt_id=receipt.id, actor=keeper)
    return made
