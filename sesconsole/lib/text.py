"""What text the database can store."""

from __future__ import annotations


def storable(value: str) -> bool:
    """No NUL character and no lone surrogate ("\\ud800"): PostgreSQL's text takes neither,
    and JSON (and Python strings) can carry both."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
