"""User lists for the admin pages."""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reserve.auth.models import User, UserRole
from reserve.db import Page, paginate


def user_page(
    session: Session, *, q: str = "", role: str | None = None, page: int = 1, per_page: int = 50
) -> Page:
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return paginate(session, stmt, page=page, per_page=per_page)
