"""What the spiders hand to the archive pipeline: one IncomingDocument each, and the order to keep.

A `ReportItem` is one document to store, parse and write cells for (an inline HTML report page, an
attachment, or a member of a zip attachment). A `DocumentItem` is a document kept for provenance only (a
page that merely links its report, the other renditions of a report, the zip itself): storing it marks its
URL as known, so the next crawl does not download it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.model import IncomingDocument


@dataclass
class ReportItem:
    document: IncomingDocument
    published_candidates: dict[str, str] = field(default_factory=dict)  # every source that gave a date (logged)
    after: tuple[str, ...] = ()  # URLs of items that must be archived first (a page waits for its attachments)


@dataclass
class DocumentItem:
    document: IncomingDocument
    role: str  # page | rendition | zip
    after: tuple[str, ...] = ()


@dataclass
class SeenItem:
    """A known document the server reported unchanged (304): only its last-seen time moves."""

    portal_id: str
    url: str


@dataclass
class GoneItem:
    """A known document that answered 404/410: evidence that a report was taken down."""

    portal_id: str
    url: str
    status: int


@dataclass
class ListedItem:
    """The report entries one list page showed (url, entry text), fetched or not: a report that disappears from
    its listing is noticed, and an agency's reports found on a listing show that it publishes there."""

    portal_id: str
    listing_url: str
    entries: list[tuple[str, str]]
