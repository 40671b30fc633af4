"""The contracts every layer shares: what a report reads as (ParsedReport), and the one record a document
travels in from the crawler (or `xxgk import`) to the archive (IncomingDocument)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

Number = int | float


class ParseError(Exception):
    """A file that cannot yield a report. `reason` is a stable code stored in the archive."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # not_a_report | unreadable | encrypted | unsupported | timeout | too_large


@dataclass
class Finding:
    rule: str  # stable id, e.g. parse.blank_cell, sum.result_rows
    status: str  # fail | pass | not_assessable
    severity: str  # info | warning | error
    message: str  # Chinese, names the cells and numbers involved
    cells: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Identity for deduplicating alerts: the rule and the cells it is about, not the wording."""
        basis = "|".join([self.rule, *sorted(self.cells), str(self.data.get("scope", ""))])
        return hashlib.sha1(basis.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "severity": self.severity,
            "message": self.message,
            "cells": self.cells,
            "fingerprint": self.fingerprint,
            **({"data": self.data} if self.data else {}),
        }


@dataclass
class CellValue:
    key: str
    value: Number | None
    raw: str  # the printed text of the cell, stripped
    unit: str | None = None  # for amounts: 元 / 万元 as printed or stated in the header


@dataclass
class ParsedReport:
    agency: str | None
    year: int | None
    template: str | None
    title: str | None
    signed_date: str | None  # ISO date of the 落款
    sections: dict[str, str]  # 一..六 → section text
    cells: dict[str, CellValue]
    findings: list[Finding]
    text: str  # full text, for search
    format: str  # text | html | docx | pdf | doc | wps | xls | xlsx
    pages: int | None = None

    def values(self) -> dict[str, Number | None]:
        return {k: c.value for k, c in self.cells.items()}

    def contract(self) -> dict[str, Any]:
        """The JSON contract of `xxgk parse --json` (docs/user-guide.md; keys as ../shared/spec/cells.json)."""
        return {
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "signed_date": self.signed_date,
            "cells": self.values(),
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class HttpMeta:
    """How a document was fetched: what the crawler saw in the HTTP response."""

    content_type: str | None = None
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None  # the header as sent (RFC 7231 date)
    fetched_at: str | None = None  # ISO timestamp; defaults to now


# Where a publication date came from, most trustworthy first. `manual`: a person gave it.
PUBLISHED_SOURCES = ("manual", "page_meta", "visible", "url", "last_modified", "first_seen")


@dataclass(frozen=True)
class IncomingDocument:
    """One document on its way into the archive, with everything known about it before it is parsed.

    The crawler builds it from a response and a list entry, `xxgk import` from a file and its options; the
    ingest layer stores, parses and judges it, and the archive writes it. `agency`/`year` given here win over
    what the parser reads (both are kept).
    """

    data: bytes = field(repr=False)
    url: str
    http: HttpMeta = HttpMeta()
    portal_id: str | None = None
    page_url: str | None = None  # the report page that linked the document (itself for an inline report)
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    kind: str | None = None  # department | government, for an agency the archive does not know yet
    published_at: str | None = None  # ISO date
    published_source: str | None = None  # one of PUBLISHED_SOURCES

    def __post_init__(self) -> None:
        if self.published_source is not None and self.published_source not in PUBLISHED_SOURCES:
            raise ValueError(f"published_source must be one of {PUBLISHED_SOURCES}, got {self.published_source!r}")
