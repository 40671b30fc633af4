"""Why a request failed, in the words the crawl summary and the archive use, and a portal's overall outcome.

Failure reasons: http_error | timeout | connection | redirect | refused | robots | too_large | error, and
column_lost (the 年报 column lists none of the portal's archived reports and no other was found from the home
page: crawler/crawl/columns.py).
Portal statuses: ok | partial (something failed, the rest was crawled) | unreachable (no listing page
answered) | empty (listings answered, no report was found on them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy import exceptions as exc
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.crawl.incremental import UnchangedDocument
from crawler.crawl.results import counts_as_failure
from crawler.crawl.safety import Refused

# Scrapy 2.13+ wraps Twisted's errors in its own exceptions; older paths still raise Twisted's.
_TIMEOUTS = (exc.DownloadTimeoutError, defer.TimeoutError, net.TimeoutError, net.TCPTimedOutError)
_CONNECTION = (
    exc.DownloadConnectionRefusedError,
    exc.CannotResolveHostError,
    exc.DownloadFailedError,
    exc.ResponseDataLossError,
    net.ConnectError,
    net.ConnectionRefusedError,
    net.ConnectionLost,
    net.ConnectionDone,
    net.DNSLookupError,
    ResponseFailed,
    ResponseNeverReceived,
)
# The HTTP handler cancels a download only when it outgrows DOWNLOAD_MAXSIZE (announced or while streaming).
_CANCELLED = (exc.DownloadCancelledError, defer.CancelledError)


def is_skip(failure: Failure) -> bool:
    """Not a failure: the archive already had the document, or the server said it had not changed."""
    return failure.check(UnchangedDocument) is not None


def failure_reason(failure: Failure) -> tuple[str, str]:
    """(reason, detail) for a failed request."""
    error = failure.value
    text = str(error).split("\n", 1)[0]  # Playwright errors append a multi-line call log
    if isinstance(error, Refused):
        return "refused", error.reason
    if isinstance(error, HttpError):
        return "http_error", str(error.response.status)
    if isinstance(error, _CANCELLED) or "max size" in text or "DOWNLOAD_MAXSIZE" in text:
        return "too_large", text[:200] or "larger than DOWNLOAD_MAXSIZE"
    if isinstance(error, _TIMEOUTS) or "took longer than" in text:
        return "timeout", text[:200]
    if "net::ERR_" in text:  # Chromium, for listings rendered in the browser
        return ("timeout" if "TIMED_OUT" in text else "connection"), text[:200]
    if type(error).__name__ == "TimeoutError" and "Timeout" in text:  # Playwright's own timeout
        return "timeout", text[:200]
    if isinstance(error, _CONNECTION):
        return "connection", f"{type(error).__name__} {text[:150]}".strip()
    if isinstance(error, IgnoreRequest):
        if "redirect" in text.lower():
            return "redirect", text[:200]
        if "robots.txt" in text:
            return "robots", text[:200]
        return "error", text[:200]
    return "error", f"{type(error).__name__}: {text[:200]}"


@dataclass
class PortalOutcome:
    listings_ok: int = 0
    listings_failed: int = 0
    reports_found: int = 0  # report documents handed to the archive
    known_skipped: int = 0  # documents the archive already held
    budget_exhausted: bool = False  # XXGK_MAX_PAGES_PER_PORTAL stopped the walk
    listing_pages: list[str] = field(default_factory=list)  # list pages that showed report entries, as walked
    failures: list[dict] = field(default_factory=list)  # {url, reason, detail, role}

    def fail(self, url: str, reason: str, detail: str, role: str) -> None:
        if role in ("listing", "hub", "column", "api"):
            self.listings_failed += 1
        if len(self.failures) < 200:
            self.failures.append({"url": url, "reason": reason, "detail": detail, "role": role})

    @property
    def status(self) -> str:
        if self.listings_ok == 0 and self.listings_failed > 0:
            return "unreachable"
        if any(counts_as_failure(f) for f in self.failures):
            return "partial"
        if self.reports_found == 0 and self.known_skipped == 0:
            return "empty"
        return "ok"

    @property
    def listing_complete(self) -> bool:
        """The listing was walked to its end: some list page answered, none failed, no budget cut it short.
        (A walk that stops at the first all-archived page is complete: the rest was read by the previous
        crawl, which finished, or the walk would have been a full one.)"""
        return self.listings_ok > 0 and self.listings_failed == 0 and not self.budget_exhausted

    def error_text(self) -> str | None:
        if not self.failures:
            return None
        counts: dict[str, int] = {}
        for f in self.failures:
            counts[f["reason"]] = counts.get(f["reason"], 0) + 1
        first = next((f for f in self.failures if counts_as_failure(f)), self.failures[0])
        summary = ", ".join(f"{k}×{v}" for k, v in sorted(counts.items()))
        return f"{summary}; first: {first['reason']} {first['detail']} {first['url']}"
