"""Categories (GB/T 38565-2020 tree) and materials: the rules for creating and changing them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select
from sqlalchemy.orm import Session

from reserve.audit.service import changes, record, snapshot
from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.catalog.models import Category, Material, Tracking
from reserve.errors import Conflict, NotFound, ValidationError
from reserve.stock.holdings import holdings
from reserve.stock.models import Batch
from reserve.texts import check_length

CATEGORY_CODE = re.compile(r"^[1-3]\d{6}$")
# 物资编码: the category's 7-digit GB/T 38565 code, then a 3-digit sequence 001–999 (as the
# category levels number their nodes 01–99, the sequence has no 000).
MATERIAL_CODE = re.compile(r"^[1-3]\d{6}\d{3}$")
MAX_DAYS = 36500
MAX_PRICE = Decimal("99999999.99")


def category_level(code: str) -> int:
    """The level of a 7-digit code: 1 大类, 2 中类, 3 小类, 4 细类 (trailing '00' pads)."""
    if not CATEGORY_CODE.match(code or ""):
        raise ValidationError(
            _l("A category code has 7 digits and starts with 1, 2 or 3."), field="code"
        )
    segments = [code[1:3], code[3:5], code[5:7]]
    level = 1
    for segment in segments:
        if segment == "00":
            break
        level += 1
    if any(s != "00" for s in segments[level - 1 :]):
        raise ValidationError(_l("A category code may only end in '00' padding."), field="code")
    return level


def parent_code_of(code: str) -> str | None:
    """The code of the parent node: the last significant two digits set to '00'."""
    level = category_level(code)
    if level == 1:
        return None
    keep = 1 + 2 * (level - 2)
    return code[:keep].ljust(7, "0")


def significant_prefix(code: str) -> str:
    """The digits that identify a node and all of its descendants."""
    return code[: 1 + 2 * (category_level(code) - 1)]


def _check_category(
    session: Session, code: str, name: str, parent_id: int | None, category_id: int | None = None
) -> tuple[int, Category | None]:
    level = category_level(code)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_l("Give the category a name."), field="name")
    if len(name) > Category.name.type.length:
        raise ValidationError(_l("The name is too long."), field="name")
    parent = session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ValidationError(_l("Unknown parent category."), field="parent_id")
    expected = parent_code_of(code)
    if (parent.code if parent else None) != expected:
        if expected is None:
            raise ValidationError(
                _l("A top-level code (like 1000000) has no parent."), field="parent_id"
            )
        raise ValidationError(
            _l(
                "The code %(code)s does not fit under its parent: it belongs under %(expected)s.",
                code=code,
                expected=expected,
            ),
            field="code",
        )
    clash = session.scalar(select(Category.id).where(Category.code == code))
    if clash and clash != category_id:
        raise Conflict(_l("The category code %(code)s already exists.", code=code), field="code")
    return level, parent


def create_category(
    session: Session,
    *,
    code: str,
    name: str,
    parent_id: int | None = None,
    is_local: bool = False,
    actor: Actor,
) -> Category:
    """新增物资分类：a node under its parent, its code extending the parent's."""
    actor.require_role(Role.ADMIN)
    code = (code or "").strip()
    level, parent = _check_category(session, code, name, parent_id)
    category = Category(code=code, name=name.strip(), level=level, parent=parent, is_local=is_local)
    session.add(category)
    record(
        session,
        actor=actor,
        action="create",
        obj=category,
        label=str(category),
        after=snapshot(category),
    )
    return category


def update_category(
    session: Session, *, category_id: int, name: str, is_local: bool, actor: Actor
) -> Category:
    """修改物资分类：the name and the local-extension mark (the code is the node's identity)."""
    actor.require_role(Role.ADMIN)
    category = get_category(session, category_id)
    before = snapshot(category)
    _check_category(session, category.code, name, category.parent_id, category.id)
    category.name = name.strip()
    category.is_local = is_local
    old, new = changes(before, snapshot(category))
    record(
        session,
        actor=actor,
        action="update",
        obj=category,
        label=str(category),
        before=old,
        after=new,
    )
    return category


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(_l("No such category."))
    return category


def pinyin_initials(text: str) -> str:
    """拼音首字母: 帐篷 → zp; digits and Latin letters are kept, the rest dropped."""
    letters = "".join(lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors="default"))
    return "".join(ch for ch in letters.lower() if ch.isascii() and ch.isalnum())[:60]


@dataclass(frozen=True)
class MaterialData:
    """The editable fields of a material, as the form and the API deliver them."""

    code: str
    name: str
    unit: str
    category_id: int
    tracking: str = Tracking.BATCH.value
    spec: str | None = None
    shelf_life_days: int | None = None
    near_expiry_days: int = 90
    reference_price: Decimal | None = None
    unit_weight_kg: Decimal | None = None
    unit_volume_m3: Decimal | None = None
    is_active: bool = True
    is_returnable: bool = False  # 可归还: comes back after an event (orders' returns)


def check_material_code(code: str, category: Category) -> None:
    """物资编码：its category's 7-digit code followed by a sequence 001–999."""
    example = f"{category.code}001"
    if not MATERIAL_CODE.match(code or "") or code.endswith("000"):
        raise ValidationError(
            _l(
                "A material code is its category's 7-digit code followed by 3 digits from 001 "
                "to 999: under %(category)s, for example %(example)s.",
                category=str(category),
                example=example,
            ),
            field="code",
        )
    if code[:7] != category.code:
        raise ValidationError(
            _l(
                "The code %(code)s does not belong to the category %(category)s: its first 7 "
                "digits must be %(prefix)s (for example %(example)s).",
                code=code,
                category=str(category),
                prefix=category.code,
                example=example,
            ),
            field="code",
        )


def check_near_expiry(shelf_life_days: int | None, near_expiry_days: int | None) -> None:
    """临期预警天数 below the shelf life: a warning as long as the life would mark every batch
    near expiry from the day it arrives."""
    if shelf_life_days is not None and shelf_life_days < 1:
        raise ValidationError(
            _l("A shelf life is at least 1 day; leave it empty when the material does not expire."),
            field="shelf_life_days",
        )
    if (
        shelf_life_days is not None
        and near_expiry_days is not None
        and near_expiry_days >= shelf_life_days
    ):
        raise ValidationError(
            _l(
                "The near-expiry warning (%(near)s days) must be shorter than the shelf life "
                "(%(shelf)s days).",
                near=near_expiry_days,
                shelf=shelf_life_days,
            ),
            field="near_expiry_days",
        )


def _check_material(session: Session, data: MaterialData, material: Material | None = None) -> None:
    category = session.get(Category, data.category_id) if data.category_id else None
    if category is None:
        raise ValidationError(_l("Unknown category."), field="category_id")
    code = (data.code or "").strip()
    # A material recorded before the rule keeps its code until the code or category changes.
    if material is None or code.upper() != material.code or category.id != material.category_id:
        check_material_code(code, category)
    if not (data.name or "").strip():
        raise ValidationError(_l("Give the material a name."), field="name")
    if not (data.unit or "").strip():
        raise ValidationError(_l("Give the unit of measure."), field="unit")
    check_length(data.name, Material.name, "name")
    check_length(data.spec, Material.spec, "spec")
    check_length(data.unit, Material.unit, "unit")
    if data.tracking not in {t.value for t in Tracking}:
        raise ValidationError(_l("Tracking is by batch or by serial number."), field="tracking")
    for value, field in (
        (data.shelf_life_days, "shelf_life_days"),
        (data.near_expiry_days, "near_expiry_days"),
    ):
        if value is not None and not 0 <= value <= MAX_DAYS:
            raise ValidationError(
                _l("Days must be between 0 and %(max)s.", max=MAX_DAYS), field=field
            )
    check_near_expiry(data.shelf_life_days, data.near_expiry_days)
    for value, field in (
        (data.reference_price, "reference_price"),
        (data.unit_weight_kg, "unit_weight_kg"),
        (data.unit_volume_m3, "unit_volume_m3"),
    ):
        if value is not None and not 0 <= value <= MAX_PRICE:
            raise ValidationError(
                _l("The value must not be negative or absurdly large."), field=field
            )
    clash = session.scalar(select(Material.id).where(Material.code == data.code.strip()))
    if clash and (material is None or clash != material.id):
        raise Conflict(
            _l("The material code %(code)s already exists.", code=data.code), field="code"
        )


def _apply(material: Material, data: MaterialData) -> None:
    material.code = data.code.strip()
    material.name = data.name.strip()
    material.spec = (data.spec or "").strip() or None
    material.unit = data.unit.strip()
    material.category_id = data.category_id
    material.tracking = data.tracking
    material.shelf_life_days = data.shelf_life_days
    material.near_expiry_days = data.near_expiry_days if data.near_expiry_days is not None else 90
    material.reference_price = data.reference_price
    material.unit_weight_kg = data.unit_weight_kg
    material.unit_volume_m3 = data.unit_volume_m3
    material.is_active = data.is_active
    material.is_returnable = bool(data.is_returnable)
    material.pinyin_initials = pinyin_initials(material.name)


def create_material(session: Session, *, data: MaterialData, actor: Actor) -> Material:
    """新增物资：a material of the reserve catalogue."""
    actor.require_role(Role.ADMIN)
    _check_material(session, data)
    material = Material()
    _apply(material, data)
    session.add(material)
    record(
        session,
        actor=actor,
        action="create",
        obj=material,
        label=str(material),
        after=snapshot(material),
    )
    return material


def update_material(
    session: Session, *, material_id: int, data: MaterialData, actor: Actor
) -> Material:
    """修改物资."""
    actor.require_role(Role.ADMIN)
    material = get_material(session, material_id)
    before = snapshot(material)
    _check_material(session, data, material)
    if data.tracking != material.tracking and _has_batches(session, material_id):
        raise Conflict(
            _l(
                "%(code)s already has stock batches: its tracking can no longer change.",
                code=material.code,
            ),
            field="tracking",
        )
    if material.is_active and not data.is_active:
        _check_material_unheld(session, material)
    _apply(material, data)
    session.flush()
    old, new = changes(before, snapshot(material))
    record(
        session,
        actor=actor,
        action="update",
        obj=material,
        label=str(material),
        before=old,
        after=new,
    )
    return material


def _check_material_unheld(session: Session, material: Material) -> None:
    """停用物资：refused while any of it is in stock or on an unfinished document."""

    held = holdings(session, material_id=material.id)
    if not held.is_empty:
        raise Conflict(
            _l(
                "Material %(material)s still has %(holdings)s: issue or move out the stock and "
                "finish or cancel the documents before taking it out of use.",
                material=str(material),
                holdings=held.describe(unit=material.unit),
            ),
            field="is_active",
        )


def _has_batches(session: Session, material_id: int) -> bool:
    return (
        session.scalar(select(Batch.id).where(Batch.material_id == material_id).limit(1))
        is not None
    )


def get_material(session: Session, material_id: int) -> Material:
    material = session.get(Material, material_id)
    if material is None:
        raise NotFound(_l("No such material."))
    return material
