"""The deadline monitor's decision for one agency and report year (pure: dates and evidence in, status out).

Art. 49: a department publishes the report on year Y by Jan 31 of Y+1, a government by Mar 31
(the registry may override per agency). Statuses match the archive's deadline_status table:
on_time, late (days late), pending (not due yet), and for a report not found:

- missing (逾期未公开) only when the absence is proven: (a) the portal was crawled successfully after the
  deadline, (b) that crawl walked the agency's listing to its end, (c) the listing is known to be where the
  agency publishes (the registry marks the portal verified, or the agency's reports for other years were
  found there). "逾期未公开" is an accusation a journalist forwards: anything less is not evidence.
- unverified (未能核实) otherwise, with the first condition that failed as its reason;
- unmonitored when the agency has no portal to look at.

The decision records which conditions held (`basis`), so the archive shows why a verdict was reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from crawler.registry import KINDS, Agency

# Publication-date sources that only bound the date from above (we saw it then, it may be older).
UPPER_BOUND_SOURCES = ("first_seen",)

# A crawl of a portal counts as successful when its listing answered (with report entries shown).
SUCCESSFUL_CRAWL = ("ok", "empty", "partial")

# Why a report year is unverified, in the order the evidence is examined.
REASONS = ("never_crawled", "crawl_failed", "listing_incomplete", "listing_unproven")
REASON_TEXT = {
    "never_crawled": "截止日期后未采集过该门户",
    "crawl_failed": "截止日期后没有一次采集成功看到年报栏目（门户无法访问，或栏目中没有任何年报条目）",
    "listing_incomplete": "年报栏目未能完整采集（有列表页失败或达到页数上限）",
    "listing_unproven": "尚无证据表明该栏目是该机关发布年报之处（登记表未核实，存档中也没有该机关其他年度的报告）",
}

EXPECTATIONS = ("declared", "observed")  # in the registry | published on this portal in earlier years
KIND_SOURCES = ("registry", "name")

BEIJING = timezone(timedelta(hours=8))


def beijing(iso_utc: str) -> datetime:
    """A stored UTC timestamp (ISO, naive means UTC) in Beijing time."""
    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)


def beijing_date(iso_utc: str) -> date:
    """The Beijing calendar date of a stored UTC timestamp: deadlines are Beijing dates, runs are stamped in UTC."""
    return beijing(iso_utc).date()


def kind_from_name(name: str) -> str:
    """A people's government (…人民政府, or the short …政府) is a government; everything else is a department,
    including a government's own 办公室/办公厅 (their names end in 办公室/办公厅, not in 政府)."""
    return "government" if name.strip().endswith("政府") else "department"


def resolve_kind(declared: str | None, name: str) -> tuple[str, str]:
    """(kind, how it was decided): the registry's word when it gives one, else the name's."""
    if declared in KINDS:
        return declared, "registry"
    return kind_from_name(name), "name"


@dataclass(frozen=True)
class Publication:
    """What the archive knows about a found report."""

    report_id: int
    published_at: date
    source: str  # page_meta | visible | url | last_modified | first_seen | manual
    url: str | None = None


@dataclass(frozen=True)
class Crawl:
    """One crawl of the agency's portal, as the run recorded it."""

    run_id: int
    started: date  # the Beijing date the run started
    started_at: str  # as stored (UTC ISO)
    status: str
    listing_complete: bool
    listing_pages: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """The listing answered and showed report entries (an empty listing proves nothing)."""
        return self.status in SUCCESSFUL_CRAWL and bool(self.listing_pages)


@dataclass(frozen=True)
class Evidence:
    """What the archive can say about the agency's listing; the default is no evidence at all."""

    monitored: bool = True  # the agency has a portal to look at
    crawls: tuple[Crawl, ...] = ()  # the portal's crawls, newest first
    verified: bool = False  # the registry marks the portal verified (someone fetched it and saw the list)
    other_years: tuple[int, ...] = ()  # years of the agency's reports found on this portal


@dataclass(frozen=True)
class Decision:
    agency: str
    year: int
    deadline: date
    status: str  # on_time | late | missing | pending | unverified | unmonitored
    days_late: int | None = None  # late: publication − deadline; missing: today − deadline
    publication: Publication | None = None
    note: str = ""
    reason: str | None = None  # unverified: one of REASONS
    basis: dict[str, Any] = field(default_factory=dict)  # which evidence conditions held
    crawl: Crawl | None = None  # missing: the crawl that established the absence


def report_years(agency: Agency, today: date) -> range:
    """Years whose report could be due by now: from the agency's first year to last year."""
    return range(agency.first_year, today.year)


def decide(
    agency: Agency, year: int, found: Publication | None, today: date, evidence: Evidence | None = None
) -> Decision:
    """The status of `agency`'s report on `year` as of `today`. Without `evidence`, an unfound report that is
    due is unverified (never crawled), never missing."""
    deadline = agency.deadline_for(year)
    if found is not None:
        return _found(agency, year, deadline, found)
    if today <= deadline:
        return Decision(agency.name, year, deadline, "pending", note="尚未到截止日期，未找到报告")
    evidence = evidence or Evidence()
    overdue = (today - deadline).days
    if not evidence.monitored:
        note = f"截止日期已过{overdue}天；该机关没有登记门户，未监测"
        return Decision(agency.name, year, deadline, "unmonitored", note=note, basis={"monitored": False})
    return _absence(agency.name, year, deadline, overdue, evidence)


def _found(agency: Agency, year: int, deadline: date, found: Publication) -> Decision:
    late = (found.published_at - deadline).days
    if late <= 0:
        return Decision(agency.name, year, deadline, "on_time", publication=found, note="按时发布")
    note = f"逾期{late}天"
    if found.source in UPPER_BOUND_SOURCES:
        # Only our first sighting dates it: the real publication may be earlier.
        note += "（发布日期不明，按首次发现日期计，实际可能更早）"
    return Decision(agency.name, year, deadline, "late", late, publication=found, note=note)


def _absence(name: str, year: int, deadline: date, overdue: int, evidence: Evidence) -> Decision:
    """missing when (a), (b) and (c) all hold; otherwise unverified with the first that failed."""
    after = [c for c in evidence.crawls if c.started > deadline]
    succeeded = [c for c in after if c.succeeded]
    complete = [c for c in succeeded if c.listing_complete]
    known_by = [k for k, held in (("verified", evidence.verified), ("archive", bool(evidence.other_years))) if held]
    crawl = (complete or succeeded or after or [None])[0]
    basis = {
        "crawled_after_deadline": bool(succeeded),
        "listing_complete": bool(complete),
        "listing_known": bool(known_by),
        "listing_known_by": known_by,
        "other_years": sorted(evidence.other_years),
        "runs_after_deadline": len(after),
        "run_id": crawl.run_id if crawl else None,
        "run_started_at": crawl.started_at if crawl else None,
        "run_status": crawl.status if crawl else None,
        "listing_pages": list(crawl.listing_pages) if crawl else [],
    }
    if not after:
        reason = "never_crawled"
    elif not succeeded:
        reason = "crawl_failed"
    elif not complete:
        reason = "listing_incomplete"
    elif not known_by:
        reason = "listing_unproven"
    else:
        pages = len(crawl.listing_pages)
        note = f"截止日期已过{overdue}天，未找到报告；{crawl.started.isoformat()}的采集完整走完年报栏目（{pages}页）"
        return Decision(name, year, deadline, "missing", overdue, note=note, basis=basis, crawl=crawl)
    note = f"截止日期已过{overdue}天，未找到报告，但无法核实：{REASON_TEXT[reason]}"
    return Decision(name, year, deadline, "unverified", note=note, reason=reason, basis=basis, crawl=crawl)


def cycle_start(today: date) -> date:
    """Twelve months before `today` (Feb 29 → Feb 28)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)


def in_alert_cycle(deadline: date, year: int | None, today: date, alert_since: int | None = None) -> bool:
    """Whether an alert about report year `year` is pushed: the current cycle only (a deadline that passed
    within the last 12 months, or is still ahead), so a first run over years of history does not flood
    anyone; `alert_since` (a report year) replaces the window: years from it on are pushed. An alert whose
    year is unknown is pushed (it cannot be placed in an older cycle)."""
    if year is None:
        return True
    if alert_since is not None:
        return year >= alert_since
    return deadline > cycle_start(today)
