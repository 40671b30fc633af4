"""A crawl's outcome: each portal's share (PortalResult), the run's summary (CrawlSummary), and the one
place a finished run is written to the archive."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from crawler.exits import EXIT_FATAL, EXIT_OK, EXIT_PARTIAL
from storage import Archive

OK_STATUSES = ("ok", "empty")
LOCKED = "locked"  # CrawlSummary.status when another crawl holds the archive's crawl lock: busy, not broken
# Failure reasons that are policy rather than failure: the request was never made (confinement) or not allowed.
POLICY_REASONS = ("refused", "robots")


def counts_as_failure(failure: dict) -> bool:
    """Whether a recorded failure makes the portal partial (and the exit code 1). Refusals and robots.txt are
    policy, not failures, and a dead link in a portal's navigation (a hub page on the way to the column) is the
    portal's everyday state. The one rule: the portal status (spiders/base/outcome.py) and the summary's
    "failures" count both follow it, so the number printed and the exit code always agree."""
    return failure["reason"] not in POLICY_REASONS and failure["role"] != "hub"


def failure_counts(failures: Iterable[dict]) -> tuple[int, int]:
    """(failures that count, ignored ones): refusals are counted apart, from the confinement's own stats."""
    failed = ignored = 0
    for f in failures:
        if counts_as_failure(f):
            failed += 1
        elif f["reason"] != "refused":
            ignored += 1
    return failed, ignored


@dataclass
class PortalResult:
    """One portal's share of a crawl run, for the summary and crawl_portal_status."""

    portal_id: str
    status: str = "running"
    error: str | None = None
    pages: int = 0
    documents_downloaded: int = 0
    reports_new: int = 0
    reports_changed: int = 0
    reports_unchanged: int = 0
    parse_failed: int = 0
    documents_stored: int = 0
    known_skipped: int = 0
    not_modified: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    storage_errors: int = 0
    listing_complete: bool | None = None
    budget_exhausted: bool = False
    listings_failed: int = 0
    listing_pages: list[str] = field(default_factory=list)

    @property
    def reports(self) -> int:
        return self.reports_new + self.reports_changed

    def count(self, status: str, parse_status: str) -> None:
        """One archived report, by what the archive made of it."""
        if status == "new":
            self.reports_new += 1
        elif status in ("changed", "failed_version"):
            self.reports_changed += 1
        else:
            self.reports_unchanged += 1
        if parse_status != "ok":
            self.parse_failed += 1


@dataclass
class CrawlSummary:
    status: str  # ok | partial | failed | locked (another crawl holds the lock: nothing was tried)
    exit_code: int
    run_id: int | None = None
    seconds: float = 0.0
    message: str | None = None
    portals: list[dict[str, Any]] = field(default_factory=list)

    def total(self, key: str) -> int:
        return sum(int(p.get(key) or 0) for p in self.portals)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [self.message] if self.message else []
        for p in self.portals:
            out.append(_portal_line(p))
            if p.get("error"):
                out.append(f"      {p['error']}")
        out.append(
            f"crawl {self.status} (exit {self.exit_code}) in {self.seconds:.1f}s: {len(self.portals)} portals, "
            f"{self.total('pages')} pages, {self.total('documents_downloaded')} documents downloaded, "
            f"{self.total('reports_new')} new and {self.total('reports_changed')} changed reports"
            + (f" (run {self.run_id})" if self.run_id else "")
        )
        hint = self.allow_network_hint()
        if hint:
            out.append(hint)
        return out

    def allow_network_hint(self) -> str | None:
        """A crawl whose every request was refused as a private address most likely runs against portals on
        a private network (replicas, an intranet mirror) without --allow-network: say so, once."""
        if not self.portals or any(p.get("pages") or p.get("documents_downloaded") for p in self.portals):
            return None
        refused: dict[str, int] = {}
        for p in self.portals:
            for reason, n in (p.get("refused") or {}).items():
                refused[reason] = refused.get(reason, 0) + n
        if not refused.get("private_address"):
            return None
        reasons = ", ".join(f"{k} ×{v}" for k, v in sorted(refused.items()))
        return (
            f"every request was refused ({reasons}): if these portals are on a private or loopback network, "
            "--allow-network CIDR (or $XXGK_ALLOWED_PRIVATE_NETWORKS) may be what is missing"
        )


def _portal_line(p: dict[str, Any]) -> str:
    """One portal's numbers. `failures` are the ones that make it partial (exit 1); refusals (confinement)
    and `ignored` failures (robots.txt, dead navigation links) are shown apart and never change the exit."""
    refused = sum((p.get("refused") or {}).values())
    failed, ignored = failure_counts(p.get("failures") or [])
    return (
        f"  {p['portal_id']:<24} {p['status']:<11} pages {p['pages']:>4}  downloaded {p['documents_downloaded']:>4}  "
        f"reports new {p['reports_new']:>3} changed {p['reports_changed']:>2} unchanged {p['reports_unchanged']:>2}  "
        f"known {p['known_skipped']:>4}  parse failed {p['parse_failed']:>2}  refused {refused:>2}  "
        f"ignored {ignored:>2}  failures {failed}"
    )


def run_status(results: Iterable[PortalResult]) -> tuple[str, int]:
    """The run's status and exit code. The archive refusing every write (disk full, database unwritable) is
    fatal; a document that failed to store among others that did is a partial failure, fetched again next run."""
    results = list(results)
    bad = any(r.status not in OK_STATUSES for r in results)
    written = sum(r.reports_new + r.reports_changed + r.reports_unchanged + r.documents_stored for r in results)
    if any(r.storage_errors for r in results) and written == 0:
        return "failed", EXIT_FATAL
    return ("partial", EXIT_PARTIAL) if bad else ("ok", EXIT_OK)


def record_result(archive: Archive, run_id: int, r: PortalResult) -> None:
    """A portal's outcome in run `run_id`, as crawl_portal_status keeps it: the one place it is written."""
    archive.runs.record_portal(
        run_id,
        r.portal_id,
        r.status,
        r.error,
        r.pages,
        r.documents_downloaded,
        r.reports,
        listing_complete=r.listing_complete,
        listings_failed=r.listings_failed,
        budget_exhausted=r.budget_exhausted,
        listing_pages=r.listing_pages,
    )


def finish_run(archive: Archive, run_id: int, results: Iterable[PortalResult]) -> tuple[str, int]:
    """Record the end of a crawl run (totals, and per portal its status, first failures and refusals)."""
    results = list(results)
    status, exit_code = run_status(results)
    note = json.dumps(
        {r.portal_id: {"status": r.status, "failures": r.failures[:20], "refused": r.refused} for r in results},
        ensure_ascii=False,
    )
    archive.runs.finish(
        run_id,
        status,
        pages=sum(r.pages for r in results),
        documents=sum(r.documents_downloaded for r in results),
        reports=sum(r.reports for r in results),
        errors=sum(len(r.failures) for r in results),
        note=note,
    )
    for r in results:
        if r.status == "error":
            archive.runs.record_portal(run_id, r.portal_id, "error", r.error)
    return status, exit_code


def portal_dict(r: PortalResult) -> dict[str, Any]:
    """The portal's share of the summary (and of `--json`): `failed` and `ignored` are the counts the line
    prints, from the same rule as the exit code; `failures` keeps every recorded failure with its reason."""
    failed, ignored = failure_counts(r.failures)
    return asdict(r) | {"reports": r.reports, "failed": failed, "ignored": ignored}
