"""The deadline monitor's decision for one agency and report year (pure: dates in, status out).

Art. 49: a department publishes the report on year Y by Jan 31 of Y+1, a government by Mar 31
(the registry may override per agency). Statuses match the archive's deadline_status table:
on_time, late (days late), missing (deadline passed, nothing found) and pending (not due yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from crawler.registry import Agency

# Publication-date sources that only bound the date from above (we saw it then, it may be older).
UPPER_BOUND_SOURCES = ("first_seen",)


@dataclass(frozen=True)
class Publication:
    """What the archive knows about a found report."""

    report_id: int
    published_at: date
    source: str  # page_meta | visible | url | last_modified | first_seen | manual
    url: str | None = None


@dataclass(frozen=True)
class Decision:
    agency: str
    year: int
    deadline: date
    status: str  # on_time | late | missing | pending
    days_late: int | None = None  # late: publication − deadline; missing: today − deadline
    publication: Publication | None = None
    note: str = ""


def report_years(agency: Agency, today: date) -> range:
    """Years whose report could be due by now: from the agency's first year to last year."""
    return range(agency.first_year, today.year)


def decide(agency: Agency, year: int, found: Publication | None, today: date) -> Decision:
    deadline = agency.deadline_for(year)
    if found is None:
        if today > deadline:
            overdue = (today - deadline).days
            return Decision(
                agency.name, year, deadline, "missing", overdue, note=f"截止日期已过{overdue}天，未找到报告"
            )
        return Decision(agency.name, year, deadline, "pending", note="尚未到截止日期，未找到报告")
    late = (found.published_at - deadline).days
    if late <= 0:
        return Decision(agency.name, year, deadline, "on_time", publication=found, note="按时发布")
    note = f"逾期{late}天"
    if found.source in UPPER_BOUND_SOURCES:
        # Only our first sighting dates it: the real publication may be earlier.
        note += "（发布日期不明，按首次发现日期计，实际可能更早）"
    return Decision(agency.name, year, deadline, "late", late, publication=found, note=note)
