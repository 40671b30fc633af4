"""Incremental crawling: what the archive already holds is not downloaded again.

`Freshness.decide(url)` is the one place that answers "already archived, and fresh?" for a document: the
spider asks it before scheduling a request, so a re-crawl of an unchanged portal costs its list pages only.
A document due for a recheck (every XXGK_RECHECK_DAYS; `--recheck` makes every one due) gets a conditional
GET; `IncrementalMiddleware` turns its 304 answer into UnchangedDocument for the spider's errback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from storage import DocumentRecord


class UnchangedDocument(IgnoreRequest):
    """A conditional GET answered 304 Not Modified."""


@dataclass(frozen=True)
class Decision:
    """What to do with a document URL: skip it (archived and fresh), or fetch it with these validators."""

    skip: bool
    headers: dict[str, str]

    @property
    def conditional(self) -> bool:
        return bool(self.headers)


FETCH = Decision(False, {})
SKIP = Decision(True, {})


class Freshness:
    def __init__(
        self,
        known: Callable[[str], DocumentRecord | None],
        is_report_source: Callable[[str], bool],
        recheck_days: float,
    ):
        self.known = known
        self.is_report_source = is_report_source
        self.recheck_days = recheck_days

    def decide(self, url: str) -> Decision:
        record = self.known(url)
        if record is None:
            return FETCH
        if not due_for_recheck(record, self.recheck_days):
            return SKIP
        validators = self.validators(record)
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        return Decision(False, headers)  # no validators: download whole and compare the hash

    def validators(self, record: DocumentRecord) -> DocumentRecord:
        """The record a conditional GET is built from. A page that only links its report has its validators
        hidden, so a recheck fetches it whole and its attachments get their own conditional GETs."""
        if record.format != "html" or self.is_report_source(record.url):
            return record
        return replace(record, etag=None, last_modified=None)


def due_for_recheck(known: DocumentRecord, recheck_days: float) -> bool:
    """A known document is due for a conditional GET when its last fetch is older than recheck_days."""
    if recheck_days <= 0:
        return True
    stamp = known.last_seen or known.fetched_at
    if not stamp:
        return True
    try:
        seen = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return (datetime.now(UTC) - seen).total_seconds() >= recheck_days * 86400


class IncrementalMiddleware:
    """A 304 to a conditional document request (meta xxgk_conditional) raises UnchangedDocument; the bytes of
    every document actually downloaded are counted."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response):
        if not request.meta.get("xxgk_document"):
            return response
        stats = self.crawler.stats
        if response.status == 304 and request.meta.get("xxgk_conditional"):
            stats.inc_value("xxgk/documents_not_modified")
            raise UnchangedDocument(request.url)
        if 200 <= response.status < 300:
            stats.inc_value("xxgk/document_bytes", len(response.body))
        return response
