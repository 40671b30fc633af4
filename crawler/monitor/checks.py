"""The checks that need the whole archive: cross-year rules and the deadline monitor.

In-document rules already ran when each report was parsed (their findings are in the parse
scope); this adds the `cross_year` findings and one deadline decision per expected reporter and
report year, with its evidence. Expected reporters are the registry's agencies (`declared`) and the
agencies whose reports were crawled from a portal without the registry naming them (`observed`: `crawl
--url`, a department listed in a government's column), expected in the years after their first report.

The decision itself is crawler.rules.deadline.decide (pure); this module gathers its evidence from the
archive: the portal's crawls (did one after the deadline walk the listing to its end?), whether the
registry verified the portal, and which other years of the agency's reports were found there. A proven
absence gets a screenshot of every page of the walked listing, stored in the document store.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from crawler.confinement import Confinement, parse_networks
from crawler.monitor import screenshot
from crawler.registry import Agency, Portal, Registry
from crawler.rules.cross_year import YearReport, cross_year_findings, cross_year_keys
from crawler.rules.deadline import (
    Crawl,
    Decision,
    Evidence,
    Publication,
    beijing_date,
    decide,
    report_years,
    resolve_kind,
)
from crawler.rules.provenance import OCR_RULE
from storage import Archive, StoredReport
from storage.clock import utcnow

CROSS_YEAR_SCOPE = "cross_year"
CROSS_YEAR_BATCH = 500  # reports whose cells and findings the cross-year check holds at once (whole agencies)

Capture = Callable[..., list[screenshot.Shot]]  # crawler.monitor.screenshot.capture


def allowed_networks(given: Sequence[str] = ()) -> tuple:
    """The private networks the operator lets xxgk reach (`given`, as --allow-network, and
    $XXGK_ALLOWED_PRIVATE_NETWORKS, as for the crawl): the screenshot browser is held to the same
    confinement as the crawl that walked the listing."""
    named = [*given, *os.environ.get("XXGK_ALLOWED_PRIVATE_NETWORKS", "").split(",")]
    return parse_networks([n for n in named if n.strip()])


def capture_listing(
    capture: Capture, pages: dict[str, Portal], checked_at: str, networks: tuple = ()
) -> dict[str, screenshot.Shot]:
    """The one call into crawler.monitor.screenshot. Every page (url → its portal) is opened behind its
    portal's confinement (for a portal the archive knows no domains of: the page's own host) and stamped
    with its URL and the check time (`checked_at`, UTC) in Beijing time; one Shot, one evidence row, per page."""
    confinement = {
        url: Confinement.for_portal(portal, networks) if portal.domains else Confinement.for_url(url, networks)
        for url, portal in pages.items()
    }
    moment = datetime.fromisoformat(checked_at.replace("Z", "+00:00"))
    return {s.url: s for s in capture(list(pages), confinement=confinement, checked_at=moment)}


@dataclass(frozen=True)
class Expected:
    """An agency expected to publish, where, and why we expect it."""

    portal: Portal | None  # None: no portal to look at (unmonitored)
    agency: Agency  # its kind resolved (registry, else name)
    expectation: str  # declared (the registry) | observed (published on this portal in earlier years)
    kind_source: str  # registry | name
    listing_url: str | None


@dataclass
class DeadlineResult:
    portal: Portal | None
    agency: Agency
    decision: Decision
    previous: str | None  # the status stored before this run
    listing_url: str | None
    evidence_id: int | None = None
    screenshot_error: str | None = None
    expectation: str = "declared"
    kind_source: str = "registry"


@dataclass
class CheckSummary:
    reports: int = 0
    cross_year: Counter = field(default_factory=Counter)  # status → count
    deadlines: list[DeadlineResult] = field(default_factory=list)

    def deadline_counts(self) -> Counter:
        return Counter(r.decision.status for r in self.deadlines)


def check_cross_year(archive: Archive) -> tuple[int, Counter]:
    """Write the cross_year findings of every parsed report (an empty set clears stale ones).

    Reads only the cells the cross-year rules use, a batch of agencies at a time (a national archive's cells and
    findings do not fit in memory at once), and rewrites a report's findings only when they changed (or it was
    never checked), so a daily run over a large archive is cheap.
    """
    by_agency: dict[int | None, list[StoredReport]] = defaultdict(list)
    reports = archive.reports.list(parse_status="ok")
    for r in reports:
        by_agency[r.agency_id].append(r)
    ocr = archive.reports.cells_named_by(OCR_RULE)  # a difference over OCR'd figures asks for a human look
    unchecked = archive.reports.unchecked_ids()
    counts: Counter = Counter()
    with archive.transaction():  # one commit for the whole archive, not one per report
        for batch in _agency_batches(by_agency, CROSS_YEAR_BATCH):
            ids = [r.id for _, group in batch for r in group]
            compared = [r.id for agency_id, group in batch if agency_id is not None for r in group]
            cells = archive.reports.values_for_keys(cross_year_keys(), compared)
            before = archive.reports.finding_states(CROSS_YEAR_SCOPE, ids)
            for agency_id, group in batch:
                years = {r.year: r for r in group if r.year is not None}
                for r in group:
                    prev = years.get(r.year - 1) if agency_id is not None and r.year is not None else None
                    findings = []
                    if prev is not None:
                        findings = cross_year_findings(
                            YearReport(prev.year, prev.template, cells.get(prev.id, {}), ocr.get(prev.id, frozenset())),
                            YearReport(r.year, r.template, cells.get(r.id, {}), ocr.get(r.id, frozenset())),
                        )
                    counts.update(f.status for f in findings)
                    now = sorted((f.fingerprint, f.status, f.message) for f in findings)
                    if r.id in unchecked or now != sorted(before.get(r.id, [])):
                        archive.reports.write_findings(r.id, findings, scope=CROSS_YEAR_SCOPE)
    return len(reports), counts


def _agency_batches(
    by_agency: dict[int | None, list[StoredReport]], size: int
) -> Iterator[list[tuple[int | None, list[StoredReport]]]]:
    """Whole agencies, about `size` reports at a time (an agency is never split: its years are compared). The
    reports of no known agency are compared with nothing, and come `size` at a time."""
    batch: list[tuple[int | None, list[StoredReport]]] = []
    held = 0
    for agency_id, group in by_agency.items():
        parts = [group] if agency_id is not None else [group[i : i + size] for i in range(0, len(group), size)]
        for part in parts:
            batch.append((agency_id, part))
            held += len(part)
            if held >= size:
                yield batch
                batch, held = [], 0
    if batch:
        yield batch


def expected_reporters(archive: Archive, registry: Registry) -> list[Expected]:
    """The registry's agencies (declared), then the agencies the archive saw publish on a portal (observed)."""
    out = []
    declared = set()
    for portal, agency in registry.agencies():
        declared.add(agency.name)
        out.append(_expected(portal, agency, "declared", agency.listing_url or portal.start_url))
    observed = _observed(archive, registry)
    for agency in getattr(registry, "expected", ()):  # declared without a portal: the archive may know one
        declared.add(agency.name)
        seen = observed.get(agency.name)
        portal, listing = (seen.portal, seen.listing_url) if seen else (None, None)
        out.append(_expected(portal, agency, "declared", listing))
    out += [e for name, e in observed.items() if name not in declared]
    return out


def _expected(portal: Portal | None, agency: Agency, expectation: str, listing_url: str | None) -> Expected:
    kind, source = resolve_kind(agency.kind, agency.name)
    return Expected(portal, replace(agency, kind=kind), expectation, source, listing_url)


def _observed(archive: Archive, registry: Registry) -> dict[str, Expected]:
    """Per agency outside the registry's portals: the portal of its latest report, expected from its first."""
    portals = {p.id: p for p in registry.portals}
    out: dict[str, Expected] = {}
    for row in archive.agencies.observed_reporters():
        if row["name"] in out:
            continue  # rows come latest portal first
        portal = portals.get(row["portal_id"]) or Portal(
            id=row["portal_id"],
            name=row["portal_name"] or row["portal_id"],
            cms=row["cms"] or "generic",
            start_url=row["start_url"] or row["listing_url"] or "",
            domains=tuple(json.loads(row["domains"] or "[]")),
            verified=bool(row["verified"]),
        )
        agency = Agency(
            row["name"],
            None,  # type: ignore[arg-type]  # decided from the name (resolve_kind)
            province=row["province"],
            city=row["city"],
            county=row["county"],
            level=row["level"],
            listing_url=row["listing_url"],
            first_year=row["first_year"],
        )
        out[row["name"]] = _expected(portal, agency, "observed", row["listing_url"] or portal.start_url or None)
    return out


class _Crawls:
    """Each portal's crawls, newest first, read once per check."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self.cache: dict[str, tuple[Crawl, ...]] = {}

    def of(self, portal_id: str) -> tuple[Crawl, ...]:
        if portal_id not in self.cache:
            self.cache[portal_id] = tuple(_crawl(h) for h in self.archive.runs.history(portal_id, 1_000_000))
        return self.cache[portal_id]


def _crawl(h: dict) -> Crawl:
    return Crawl(
        h["run_id"],
        beijing_date(h["started_at"]),
        h["started_at"],
        h["status"],
        bool(h.get("listing_complete")),
        tuple(json.loads(h.get("listing_pages") or "[]")),
    )


def _publication(archive: Archive, agency: str, year: int) -> Publication | None:
    found = archive.reports.for_agency_year(agency, year)
    if found is None or not found.published_at:
        return None
    return Publication(
        found.id,
        date.fromisoformat(found.published_at[:10]),
        found.published_source,
        found.page_url or found.source_url,
    )


def _evidence(e: Expected, year: int, crawls: _Crawls, years: dict[tuple[str, str], set[int]]) -> Evidence:
    if e.portal is None:
        return Evidence(monitored=False)
    others = years.get((e.agency.name, e.portal.id), set()) - {year}
    return Evidence(True, crawls.of(e.portal.id), e.portal.verified, tuple(sorted(others)))


def check_deadlines(
    archive: Archive,
    registry: Registry,
    today: date,
    *,
    capture: Capture | None = screenshot.capture,
    allow_networks: Sequence[str] = (),
) -> list[DeadlineResult]:
    """Decide every (expected reporter, report year) and store the decision with its evidence.

    `capture=None` skips screenshots (the decision is still stored, noting that no proof was taken);
    `allow_networks`: private networks the screenshot browser may reach (as the crawl's --allow-network).
    """
    expected = expected_reporters(archive, registry)
    years = archive.reports.years_on_portals()
    crawls = _Crawls(archive)
    results: list[DeadlineResult] = []
    for e in expected:
        for year in report_years(e.agency, today):
            publication = _publication(archive, e.agency.name, year)
            decision = decide(e.agency, year, publication, today, _evidence(e, year, crawls, years))
            previous = archive.deadlines.get(e.agency.name, year)
            result = DeadlineResult(
                e.portal,
                e.agency,
                decision,
                previous["status"] if previous else None,
                e.listing_url,
                expectation=e.expectation,
                kind_source=e.kind_source,
            )
            if decision.status == "missing" and previous and previous["status"] == "missing":
                result.evidence_id = _kept_proof(archive, previous["evidence_id"], decision)
            results.append(result)
    needed = [r for r in results if r.decision.status == "missing" and r.evidence_id is None]
    _take_screenshots(needed, archive, capture, allow_networks)
    with archive.transaction():
        for e in expected:
            archive.agencies.set_kind(e.agency.name, e.agency.kind, e.kind_source)
        for r in results:
            _store(archive, r, today)
    return results


def _kept_proof(archive: Archive, evidence_id: int | None, decision: Decision) -> int | None:
    """The proof taken by an earlier check, when it covers every page of the listing walked now."""
    shots = archive.deadlines.evidence_set(evidence_id)
    pages = set(decision.crawl.listing_pages) if decision.crawl else set()
    return evidence_id if shots and pages <= {s["url"] for s in shots} else None


def _take_screenshots(
    needed: list[DeadlineResult], archive: Archive, capture: Capture | None, networks: Sequence[str] = ()
) -> None:
    """Every page of the walked listing, once per check (several agencies often share one), each stored as
    one evidence row; the rows of one verdict share the first page's id (evidence.set_id)."""
    if capture is None:
        for r in needed:
            r.screenshot_error = "未截图（已关闭截图）"
        return
    checked_at = utcnow()
    pages = {u: r.portal for r in needed for u in _pages(r) if r.portal}
    shots = (
        capture_listing(capture, dict(sorted(pages.items())), checked_at, allowed_networks(networks)) if pages else {}
    )
    for r in needed:
        pages, errors = _pages(r), []
        first: int | None = None
        for i, url in enumerate(pages, 1):
            shot = shots.get(url)
            if shot is None or shot.png is None:
                errors.append(
                    f"第{i}页 {shot.error if shot else '未截图'}"
                    if len(pages) > 1
                    else (shot.error if shot else "未截图")
                )
                continue
            stored = archive.deadlines.store_evidence(
                shot.png,
                url=shot.url,
                kind="screenshot",
                agency=r.agency.name,
                year=r.decision.year,
                note=f"{r.decision.year}年度报告截止{r.decision.deadline.isoformat()}，检查时未找到；年报栏目第{i}/{len(pages)}页",
                captured_at=checked_at,
                set_id=first,
                page=i,
            )
            first = first or stored
        r.evidence_id = first
        if not pages:
            errors.append("没有可截图的栏目页面")
        r.screenshot_error = "；".join(errors) or None


def _column_url(archive: Archive, r: DeadlineResult) -> str | None:
    """The portal's 年报 column: as last found in the archive (a portal declared by its home page), else the
    registry's start URL."""
    if r.portal is None:
        return None
    column = archive.columns.current(r.portal.id)
    return column.url if column else r.portal.start_url


def _pages(r: DeadlineResult) -> list[str]:
    """The list pages of the crawl that established the absence (what the proof must show)."""
    crawl = r.decision.crawl
    return list(crawl.listing_pages) if crawl else []


def _store(archive: Archive, r: DeadlineResult, today: date) -> None:
    d = r.decision
    if d.status == "missing":
        pages = _pages(r)
    else:
        pages = [u for u in dict.fromkeys([r.listing_url, _column_url(archive, r)]) if u]
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
        note=_note(archive, r, today),
        checked_at=utcnow(),
        reason=d.reason,
        basis={**d.basis, "kind": r.agency.kind, "kind_source": r.kind_source},
        expectation=r.expectation,
    )


def _note(archive: Archive, r: DeadlineResult, today: date) -> str:
    note = f"按{today.isoformat()}判断：{r.decision.note}"
    if r.portal is None:
        return note
    last_crawl = archive.runs.history(r.portal.id, 1)
    if last_crawl:
        note += f"；门户最近一次采集{last_crawl[0]['started_at']}（{last_crawl[0]['status']}）"
    else:
        note += "；该门户尚无采集记录"
    if r.screenshot_error:
        note += f"；截图失败：{r.screenshot_error}"
    return note


def run_checks(
    archive: Archive,
    registry: Registry,
    today: date,
    *,
    capture: Capture | None = screenshot.capture,
    allow_networks: Sequence[str] = (),
) -> CheckSummary:
    archive.agencies.sync_registry(registry)
    n, cross = check_cross_year(archive)
    deadlines = check_deadlines(archive, registry, today, capture=capture, allow_networks=allow_networks)
    return CheckSummary(n, cross, deadlines)
