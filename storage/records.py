"""What the archive hands back: plain records, no database handles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.model import Finding, IncomingDocument, ParsedReport


@dataclass(frozen=True)
class DocumentRecord:
    sha256: str
    path: str  # absolute path of the stored original
    bytes: int
    is_new: bool  # first time these bytes entered the store
    url: str | None = None
    format: str | None = None
    content_type: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None


@dataclass(frozen=True)
class IngestResult:
    report_id: int
    status: str  # new | changed | unchanged | failed_version (kept, but the readable version stays current)
    version: int  # the report's current version
    document: DocumentRecord
    agency: str | None
    year: int | None
    parse_status: str  # ok | failed
    parse_reason: str | None = None
    parse_message: str | None = None
    parsed: ParsedReport | None = None


# --- what a write hands to the archive (one record per document; storage/batch.py groups them) ----------------
@dataclass(frozen=True)
class ReportWrite:
    """An IncomingDocument examined: parsed (or failed with `failure`, reason and message) and judged."""

    doc: IncomingDocument
    fmt: str  # sniffed from the bytes
    parsed: ParsedReport | None
    failure: tuple[str, str] | None
    findings: list[Finding]  # the parse-scope findings to store

    def __post_init__(self) -> None:
        if (self.parsed is None) == (self.failure is None):
            raise ValueError("give exactly one of parsed and failure")


@dataclass(frozen=True)
class DocumentWrite:
    """A document kept for provenance only (a page that links its report, a rendition, a zip)."""

    doc: IncomingDocument
    fmt: str


@dataclass(frozen=True)
class SeenWrite:
    """A known URL fetched again with nothing new (a 304): only its last-seen time moves."""

    url: str
    fetched_at: str | None = None
    http_status: int | None = 304


Write = ReportWrite | DocumentWrite | SeenWrite


@dataclass(frozen=True)
class StoredReport:
    id: int
    agency: str | None
    agency_id: int | None
    kind: str | None
    province: str | None
    city: str | None
    year: int | None
    title: str | None
    template: str | None
    format: str | None
    source_url: str
    page_url: str | None
    portal_id: str | None
    sha256: str
    published_at: str | None
    published_source: str | None
    signed_date: str | None
    first_seen: str
    last_seen: str
    changed_at: str
    version: int
    parse_status: str
    parse_reason: str | None
    failing_checks: int
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    id: int
    fingerprint: str
    kind: str
    state: str
    tags: list[str]
    title: str | None
    body: str | None
    payload: dict[str, Any]
    report_id: int | None
    agency_id: int | None
    year: int | None
    delivery_status: str  # pending | sent | failed
    sent_state: str | None  # the state last delivered
    attempts: int
    last_error: str | None

    @property
    def needs_delivery(self) -> bool:
        return self.delivery_status in ("pending", "failed")
