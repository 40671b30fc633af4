"""What the spiders hand to the archive pipeline.

A `ReportItem` is one document to store, parse and write cells for (an inline HTML report page, an
attachment, or a member of a zip attachment). A `DocumentItem` is a document kept for provenance only (a
page that merely links its report, the other renditions of a report, the zip itself): storing it marks its
URL as known, so the next crawl does not download it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Fetched:
    """The HTTP facts of one fetched document."""

    url: str
    data: bytes
    status: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class ReportItem:
    portal_id: str
    fetched: Fetched
    page_url: str | None  # the report page the document was linked from (itself for inline reports)
    title: str | None
    agency: str | None  # from the title, mapped to the registry's name when it names a known agency
    year: int | None
    published_at: str | None  # ISO date
    published_source: str | None  # page_meta | visible | url | last_modified | first_seen (storage.PUBLISHED_SOURCES)
    published_candidates: dict[str, str] = field(default_factory=dict)  # every source that gave a date (logged)
    kind: str | None = None  # department | government, for an agency the archive does not know yet
    after: tuple[str, ...] = ()  # URLs of items that must be archived first (a page waits for its attachments)


@dataclass
class DocumentItem:
    portal_id: str
    fetched: Fetched
    role: str  # page | rendition | zip
    after: tuple[str, ...] = ()


@dataclass
class SeenItem:
    """A known document the server reported unchanged (304): only its last-seen time moves."""

    portal_id: str
    url: str
