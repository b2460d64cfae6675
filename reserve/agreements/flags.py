"""核查/申报提示: the flags a stock line of an agreement carries, written once, in Python (for a
loaded line) and in SQL (for a count or a filter), side by side so they cannot drift (as
``AgreementLine.callable_qty`` and ``callable_expr``).

Every input is on the ``agreement_lines`` row itself (the newest report and verification, see
``AgreementLine``) and its agreement's ``valid_from``: no join to the report or verification
tables, so a province's 10,000 lines are flagged in the statement that reads them.

A stock line (实物代储) is flagged

- **never verified** (从未核查): no verification recorded;
- **verification overdue** (核查逾期): its newest verification is older than
  ``VERIFICATION_PERIOD_DAYS`` (default 90): verified exactly 90 days ago is still due today,
  not overdue; 91 days ago is overdue;
- **verification failed** (核查不合格): its newest verification failed (shown even when also
  overdue);
- **reported below commitment** (申报低于协议数量): the newest report holds less than the
  commitment less what is out on call-ups (``reported_qty + shipped_qty < committed_qty``:
  goods shipped on a call-up are owed back as replenishment, not a shortfall of the report);
- **report overdue** (申报逾期): the enterprise reports monthly; the line is overdue when its
  newest report (its day in Asia/Shanghai), or the agreement's start when it has none, is more
  than ``REPORT_PERIOD_DAYS`` (31) + ``REPORT_GRACE_DAYS`` (10) days before today: a report of
  41 days ago is not yet overdue, one of 42 days ago is.

A capacity line (产能储备) is a promise to produce and is never flagged: it carries no report or
verification."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reserve.agreements.models import Agreement, AgreementLine, LineKind
from reserve.db import SHANGHAI, local_day_start, local_today

VERIFICATION_PERIOD_DAYS = 90
REPORT_PERIOD_DAYS = 31
REPORT_GRACE_DAYS = 10


class LineFlag(enum.StrEnum):
    """What a dispatcher should know before counting on a stock line."""

    NEVER_VERIFIED = "never_verified"
    VERIFICATION_OVERDUE = "verification_overdue"
    VERIFICATION_FAILED = "verification_failed"
    REPORTED_BELOW = "reported_below"
    REPORT_OVERDUE = "report_overdue"

    @property
    def label(self):
        return {
            "never_verified": _l("Never verified"),
            "verification_overdue": _l("Verification overdue"),
            "verification_failed": _l("Verification failed"),
            "reported_below": _l("Reported below commitment"),
            "report_overdue": _l("Report overdue"),
        }[self.value]

    @property
    def severity(self) -> str:
        """The badge's colour: a failed check or a short report is a shortfall, the rest due."""
        if self in (LineFlag.VERIFICATION_FAILED, LineFlag.REPORTED_BELOW):
            return "danger"
        return "warning"


FLAG_ORDER = tuple(LineFlag)


@dataclass(frozen=True)
class FlagRule:
    """The flag rule as of ``today``, with the periods of the configuration."""

    today: date
    verification_period_days: int = VERIFICATION_PERIOD_DAYS
    report_period_days: int = REPORT_PERIOD_DAYS
    report_grace_days: int = REPORT_GRACE_DAYS

    @classmethod
    def from_config(cls, config: Mapping, today: date | None = None) -> FlagRule:
        """The rule with the app's periods (``RESERVE_VERIFICATION_PERIOD_DAYS`` …)."""
        return cls(
            today=today or local_today(),
            verification_period_days=int(
                config.get("VERIFICATION_PERIOD_DAYS", VERIFICATION_PERIOD_DAYS)
            ),
            report_period_days=int(config.get("REPORT_PERIOD_DAYS", REPORT_PERIOD_DAYS)),
            report_grace_days=int(config.get("REPORT_GRACE_DAYS", REPORT_GRACE_DAYS)),
        )

    @property
    def verified_before(self) -> date:
        """A verification dated before this day is overdue."""
        return self.today - timedelta(days=self.verification_period_days)

    @property
    def reported_before(self) -> date:
        """A newest report (or, without one, an agreement start) before this day is overdue."""
        return self.today - timedelta(days=self.report_period_days + self.report_grace_days)

    # -- Python ------------------------------------------------------------------------------

    def flags(
        self,
        *,
        kind: str,
        committed_qty: int,
        shipped_qty: int,
        reported_qty: int | None,
        reported_at: datetime | None,
        verified_on: date | None,
        verification_passed: bool | None,
        valid_from: date,
    ) -> tuple[LineFlag, ...]:
        """The flags of one line, in ``FLAG_ORDER``."""
        if kind != LineKind.STOCK.value:
            return ()
        found = set()
        if verified_on is None:
            found.add(LineFlag.NEVER_VERIFIED)
        else:
            if verified_on < self.verified_before:
                found.add(LineFlag.VERIFICATION_OVERDUE)
            if verification_passed is False:
                found.add(LineFlag.VERIFICATION_FAILED)
        if reported_qty is not None and reported_qty + shipped_qty < committed_qty:
            found.add(LineFlag.REPORTED_BELOW)
        last = reported_at.astimezone(SHANGHAI).date() if reported_at is not None else valid_from
        if last < self.reported_before:
            found.add(LineFlag.REPORT_OVERDUE)
        return tuple(flag for flag in FLAG_ORDER if flag in found)

    def flags_of(self, row) -> tuple[LineFlag, ...]:
        """The flags of a loaded line or a row carrying the same names (and ``valid_from``)."""
        return self.flags(
            kind=row.kind,
            committed_qty=row.committed_qty,
            shipped_qty=row.shipped_qty,
            reported_qty=row.reported_qty,
            reported_at=row.reported_at,
            verified_on=row.verified_on,
            verification_passed=row.verification_passed,
            valid_from=row.valid_from,
        )

    # -- SQL (AgreementLine joined to its Agreement) -----------------------------------------

    def sql(self) -> dict[LineFlag, sa.ColumnElement[bool]]:
        """Each flag as a condition on ``agreement_lines`` joined to ``agreements``."""
        line = AgreementLine
        stock = line.kind == LineKind.STOCK.value
        verified = line.verified_on.is_not(None)
        return {
            LineFlag.NEVER_VERIFIED: sa.and_(stock, line.verified_on.is_(None)),
            LineFlag.VERIFICATION_OVERDUE: sa.and_(
                stock, verified, line.verified_on < self.verified_before
            ),
            LineFlag.VERIFICATION_FAILED: sa.and_(
                stock, verified, line.verification_passed.is_(False)
            ),
            LineFlag.REPORTED_BELOW: sa.and_(
                stock,
                line.reported_qty.is_not(None),
                line.reported_qty + line.shipped_qty < line.committed_qty,
            ),
            LineFlag.REPORT_OVERDUE: sa.and_(
                stock,
                sa.or_(
                    line.reported_at < local_day_start(self.reported_before),
                    sa.and_(
                        line.reported_at.is_(None), Agreement.valid_from < self.reported_before
                    ),
                ),
            ),
        }

    def any_sql(self) -> sa.ColumnElement[bool]:
        """The line carries at least one flag."""
        return sa.or_(*self.sql().values())
