"""Where a sign-in or a language switch may send the reader back to: a path on this site,
never another host (an open redirect would let a link that looks like ours forward to a
phishing page)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str:
    """The redirect target if it is a local path, else the home page."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return "/"  # browsers read a backslash as a slash; control characters split headers
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
