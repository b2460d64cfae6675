"""User lists for the admin pages, and people by name for every page and PDF."""

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reserve.auth.models import User, UserRole
from reserve.db import KeyPage, seek_page


def user_page(
    session: Session,
    *,
    q: str = "",
    role: str | None = None,
    after: str | None = None,
    per_page: int = 50,
) -> KeyPage:
    """One page of the users in login order (logins are unique), after the page key ``after``."""
    stmt = select(User)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return seek_page(
        session, stmt, [(User.username, False)], after=after, per_page=per_page, scalars=True
    )


def full_names(session: Session, usernames: Iterable[str] | None = None) -> dict[str, str]:
    """Login → full name (赵保管), in one statement: for the given logins, or for every user
    (a page's people are few, but the users of a bureau are a short table)."""
    stmt = select(User.username, User.full_name)
    if usernames is not None:
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        stmt = stmt.where(User.username.in_(wanted))
    return {username: name for username, name in session.execute(stmt) if name}
