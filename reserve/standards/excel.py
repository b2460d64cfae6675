"""储备标准 in Excel: the export (which is also the import's template) and the import, which
checks every row first and writes nothing if one is wrong (DESIGN.md, law 3)."""

from __future__ import annotations

import io
from dataclasses import replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Material
from reserve.errors import ValidationError, ValidationErrors
from reserve.export import XlsxWriter
from reserve.standards.models import ReserveStandard
from reserve.standards.service import StandardData, check_standard, save_standard
from reserve.standards.shortfall import ShortfallRow
from reserve.warehouses.models import Region, Warehouse

WAREHOUSE, REGION = "warehouse", "region"
MAX_ROWS = 5000
YES = {"是", "y", "yes", "true", "1", "√"}
NO = {"否", "n", "no", "false", "0", ""}


def _headers() -> list[str]:
    return [
        _("Material code"),
        _("Scope (warehouse/region)"),
        _("Warehouse or region code"),
        _("Required quantity"),
        _("Minimum physical share (per cent)"),
        _("Agreement stock counts (是/否)"),
        _("Basis of calculation"),
        _("Material"),
        _("Scope"),
    ]


def standards_xlsx(session: Session) -> bytes:
    """Every standard, one row each, in the import's columns (the file can be edited and
    imported back; the last two columns are for the reader and are ignored)."""
    rows = session.execute(
        select(
            Material.code,
            Material.name,
            Warehouse.code,
            Warehouse.name,
            Region.code,
            Region.name,
            ReserveStandard.required_qty,
            ReserveStandard.min_physical_pct,
            ReserveStandard.counts_agreements,
            ReserveStandard.basis,
        )
        .select_from(ReserveStandard)
        .join(Material, Material.id == ReserveStandard.material_id)
        .outerjoin(Warehouse, Warehouse.id == ReserveStandard.warehouse_id)
        .outerjoin(Region, Region.id == ReserveStandard.region_id)
        .order_by(  # per material: its regions' standards first, then its warehouses'
            Material.code,
            ReserveStandard.region_id.is_(None),
            Region.code,
            Warehouse.code,
        )
    ).all()
    book = XlsxWriter()
    sheet = book.sheet(_("Reserve standards"))
    sheet.heading(_headers())
    for r in rows:
        is_region = r[4] is not None
        sheet.append(
            [
                r[0],
                REGION if is_region else WAREHOUSE,
                r[4] if is_region else r[2],
                r[6],
                r[7],
                "是" if r[8] else "否",
                r[9] or "",
                r[1],
                r[5] if is_region else r[3],
            ]
        )
    return book.to_bytes()


def shortfall_xlsx(rows: list[ShortfallRow], category_rollup, region_rollup) -> bytes:
    """储备缺口 as Excel: the standards (most severe first), then the two roll-ups."""
    book = XlsxWriter()
    sheet = book.sheet(_("Shortfall"))
    sheet.heading(
        [
            _("Severity"),
            _("Material code"),
            _("Material"),
            _("Unit"),
            _("Category"),
            _("Scope"),
            _("Required"),
            _("Physical available"),
            _("Agreement callable"),
            _("Total"),
            _("Shortfall"),
            _("Physical required"),
            _("Physical shortfall"),
        ]
    )
    for r in rows:
        sheet.append(
            [
                str(r.severity.label),
                r.material_code,
                r.material_name,
                r.unit,
                r.category_name,
                r.scope_label,
                r.required,
                r.physical,
                r.agreement if r.counts_agreements else None,
                r.total,
                r.shortfall,
                r.physical_required,
                r.physical_shortfall,
            ]
        )
    for title, groups in ((_("By category"), category_rollup), (_("By region"), region_rollup)):
        part = book.sheet(title)
        part.heading(
            [
                title,
                _("Unit"),
                _("Standards"),
                _("Short"),
                _("Critical"),
                _("Required"),
                _("Total"),
                _("Shortfall"),
                _("Physical shortfall"),
            ]
        )
        for g in groups:
            part.append(
                [
                    g.key,
                    g.unit,
                    g.standards,
                    g.short,
                    g.critical,
                    g.required,
                    g.total,
                    g.shortfall,
                    g.physical_shortfall,
                ]
            )
    return book.to_bytes()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _whole(value) -> int | None:
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _row_error(line: int, error: ValidationError) -> ValidationError:
    return ValidationError(
        _l("Row %(line)s: %(message)s", line=line, message=error.message),
        field="file",
        line=line,
    )


def import_standards(session: Session, *, content: bytes, actor: Actor) -> int:
    """导入储备标准: every row checked first; if any is wrong nothing is written and each bad
    row is listed with its message. A row for a (material, scope) that has a standard changes
    it. Returns how many rows were imported."""
    actor.require_role(Role.ADMIN)
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError(
            _l("The file is not an Excel workbook (.xlsx)."), field="file"
        ) from exc
    raw = [
        (number, row)
        for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)
        if any(_text(cell) for cell in row[:7])
    ]
    if not raw:
        raise ValidationError(_l("The file has no rows to import."), field="file")
    if len(raw) > MAX_ROWS:
        raise ValidationError(
            _l("At most %(n)s rows can be imported at once.", n=MAX_ROWS), field="file"
        )
    materials = dict(session.execute(select(Material.code, Material.id)).all())
    warehouses = dict(session.execute(select(Warehouse.code, Warehouse.id)).all())
    regions = dict(session.execute(select(Region.code, Region.id)).all())
    existing = {
        (m, w, r): i
        for i, m, w, r in session.execute(
            select(
                ReserveStandard.id,
                ReserveStandard.material_id,
                ReserveStandard.warehouse_id,
                ReserveStandard.region_id,
            )
        )
    }
    errors: list[ValidationError] = []
    planned: list[tuple[StandardData, int | None]] = []
    seen: dict[tuple, int] = {}
    for line, row in raw:
        cells = list(row[:7]) + [None] * (7 - len(row[:7]))
        code, kind, scope_code, required, pct, counts, basis = cells
        problems: list[ValidationError] = []
        material_id = materials.get(_text(code))
        if material_id is None:
            problems.append(
                ValidationError(_l("no material with code %(code)s", code=_text(code) or "—"))
            )
        kind_text = _text(kind).lower()
        warehouse_id = region_id = None
        if kind_text in (WAREHOUSE, "仓库", "储备库"):
            warehouse_id = warehouses.get(_text(scope_code).upper())
            if warehouse_id is None:
                problems.append(
                    ValidationError(
                        _l("no warehouse with code %(code)s", code=_text(scope_code) or "—")
                    )
                )
        elif kind_text in (REGION, "区域", "区划"):
            region_id = regions.get(_text(scope_code))
            if region_id is None:
                problems.append(
                    ValidationError(
                        _l("no region with code %(code)s", code=_text(scope_code) or "—")
                    )
                )
        else:
            problems.append(ValidationError(_l("the scope is 'warehouse' or 'region'")))
        counts_text = _text(counts).lower()
        if counts_text not in YES | NO:
            problems.append(ValidationError(_l("agreement stock counts: 是 or 否")))
        data = StandardData(
            material_id=material_id,
            warehouse_id=warehouse_id,
            region_id=region_id,
            required_qty=_whole(required),
            min_physical_pct=_whole(pct) if _text(pct) else 0,
            counts_agreements=counts_text in YES,
            basis=_text(basis) or None,
        )
        key = (material_id, warehouse_id, region_id)
        standard_id = existing.get(key)
        if not problems:
            problems = check_standard(session, data, standard_id=standard_id)
        if not problems and key in seen:
            problems.append(
                ValidationError(_l("the same material and scope as row %(line)s", line=seen[key]))
            )
        seen.setdefault(key, line)
        errors.extend(_row_error(line, problem) for problem in problems)
        planned.append((data, standard_id))
    if errors:
        raise ValidationErrors(errors)
    for data, standard_id in planned:
        save_standard(
            session,
            data=replace(data),
            actor=actor,
            standard_id=standard_id,
            action="import",
        )
    return len(planned)
