"""The checks that need the whole archive: cross-year rules and the deadline monitor.

In-document rules already ran when each report was parsed (their findings are in the parse
scope); this adds the `cross_year` findings and one deadline decision per registry agency and
report year, with its evidence (publication date and source, pages checked, and for a missing
report a screenshot of the listing page stored in the document store).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from crawler.monitor import screenshot
from crawler.registry import Agency, Portal, Registry
from crawler.rules.cross_year import YearReport, cross_year_findings, cross_year_keys
from crawler.rules.deadline import Decision, Publication, decide, report_years
from storage import Archive, StoredReport
from storage.clock import utcnow

CROSS_YEAR_SCOPE = "cross_year"

Capture = Callable[[list[str]], list[screenshot.Shot]]


@dataclass
class DeadlineResult:
    portal: Portal
    agency: Agency
    decision: Decision
    previous: str | None  # the status stored before this run
    listing_url: str | None
    evidence_id: int | None = None
    screenshot_error: str | None = None


@dataclass
class CheckSummary:
    reports: int = 0
    cross_year: Counter = field(default_factory=Counter)  # status → count
    deadlines: list[DeadlineResult] = field(default_factory=list)

    def deadline_counts(self) -> Counter:
        return Counter(r.decision.status for r in self.deadlines)


def check_cross_year(archive: Archive) -> tuple[int, Counter]:
    """Write the cross_year findings of every parsed report (an empty set clears stale ones).

    Reads only the cells the cross-year rules use, in one query, and rewrites a report's findings
    only when they changed (or it was never checked), so a daily run over a large archive is cheap.
    """
    by_agency: dict[int | None, list[StoredReport]] = defaultdict(list)
    reports = archive.reports.list(parse_status="ok")
    for r in reports:
        by_agency[r.agency_id].append(r)
    cells = archive.reports.values_for_keys(cross_year_keys())
    before = archive.reports.finding_states(CROSS_YEAR_SCOPE)
    unchecked = archive.reports.unchecked_ids()
    counts: Counter = Counter()
    with archive.transaction():  # one commit for the whole archive, not one per report
        for agency_id, group in by_agency.items():
            years = {r.year: r for r in group if r.year is not None}
            for r in group:
                prev = years.get(r.year - 1) if agency_id is not None and r.year is not None else None
                findings = []
                if prev is not None:
                    findings = cross_year_findings(
                        YearReport(prev.year, prev.template, cells.get(prev.id, {})),
                        YearReport(r.year, r.template, cells.get(r.id, {})),
                    )
                counts.update(f.status for f in findings)
                now = sorted((f.fingerprint, f.status, f.message) for f in findings)
                if r.id in unchecked or now != sorted(before.get(r.id, [])):
                    archive.reports.write_findings(r.id, findings, scope=CROSS_YEAR_SCOPE)
    return len(reports), counts



def check_deadlines(
    archive: Archive, registry: Registry, today: date, *, capture: Capture | None = screenshot.capture
) -> list[DeadlineResult]:
    """Decide every (registry agency, report year) and store the decision with its evidence.

    `capture=None` skips screenshots (the decision is still stored, noting that no proof was taken).
    """
    results: list[DeadlineResult] = []
    for portal, agency in registry.agencies():
        for year in report_years(agency, today):
            found = archive.reports.for_agency_year(agency.name, year)
            publication = None
            if found is not None and found.published_at:
                publication = Publication(
                    found.id,
                    date.fromisoformat(found.published_at[:10]),
                    found.published_source,
                    found.page_url or found.source_url,
                )
            previous = archive.deadlines.get(agency.name, year)
            results.append(
                DeadlineResult(
                    portal,
                    agency,
                    decide(agency, year, publication, today),
                    previous["status"] if previous else None,
                    agency.listing_url or portal.start_url,
                    evidence_id=previous["evidence_id"] if previous and previous["status"] == "missing" else None,
                )
            )
    _take_screenshots(
        [r for r in results if r.decision.status == "missing" and r.evidence_id is None], archive, capture
    )
    with archive.transaction():
        for r in results:
            _store(archive, r, today)
    return results


def _take_screenshots(needed: list[DeadlineResult], archive: Archive, capture: Capture | None) -> None:
    """One screenshot per listing page (several agencies often share one), stored as evidence."""
    urls = sorted({r.listing_url for r in needed if r.listing_url})
    if capture is None:
        for r in needed:
            r.screenshot_error = "未截图（已关闭截图）"
        return
    shots = {s.url: s for s in capture(urls)}
    for r in needed:
        shot = shots.get(r.listing_url) if r.listing_url else None
        if shot is None or shot.png is None:
            r.screenshot_error = shot.error if shot else "登记表中没有该机关的年报栏目地址"
            continue
        r.evidence_id = archive.deadlines.store_evidence(
            shot.png,
            url=shot.url,
            kind="screenshot",
            agency=r.agency.name,
            year=r.decision.year,
            note=f"{r.decision.year}年度报告截止{r.decision.deadline.isoformat()}，检查时未找到",
        )


def _store(archive: Archive, r: DeadlineResult, today: date) -> None:
    d = r.decision
    last_crawl = archive.runs.history(r.portal.id, 1)
    pages = [u for u in dict.fromkeys([r.listing_url, r.portal.start_url]) if u]
    note = f"按{today.isoformat()}判断：{d.note}"
    if last_crawl:
        note += f"；门户最近一次采集{last_crawl[0]['started_at']}（{last_crawl[0]['status']}）"
    else:
        note += "；该门户尚无采集记录"
    if r.screenshot_error:
        note += f"；截图失败：{r.screenshot_error}"
    archive.deadlines.set(
        d.agency,
        d.year,
        d.status,
        deadline=d.deadline.isoformat(),
        published_at=d.publication.published_at.isoformat() if d.publication else None,
        published_source=d.publication.source if d.publication else None,
        days_late=d.days_late,
        report_id=d.publication.report_id if d.publication else None,
        evidence_id=r.evidence_id,
        pages_checked=pages,
        note=note,
        checked_at=utcnow(),
    )


def run_checks(
    archive: Archive, registry: Registry, today: date, *, capture: Capture | None = screenshot.capture
) -> CheckSummary:
    archive.agencies.sync_registry(registry)
    n, cross = check_cross_year(archive)
    return CheckSummary(n, cross, check_deadlines(archive, registry, today, capture=capture))
