"""Timestamps as the archive stores them: ISO 8601 UTC text, sortable as strings."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(value: str | None) -> str | None:
    """An HTTP Last-Modified header → YYYY-MM-DD, or None when it does not parse."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None
