"""Turn the archive's state into alerts: one fingerprint per thing worth telling, with its state.

The archive keeps the state (storage.alerts.Alerts.upsert): a fingerprint
in a new state becomes pending, the same state again changes nothing. This module decides which
states are worth a message:

- data, inconsistency: a failing rule → `fail`; once it was raised and no longer fails → `corrected`;
- data, deadline: `missing`, `late` (also when a missing report appears late: "已补发"), and
  `published` when a report raised as missing turns out to be on time;
- health: a portal's 年报 column moved and was found again from its home page → one `column_moved` per move
  (「年报栏目地址已变更」: old URL → new URL, how it was found); a portal unreachable for N runs → `unreachable`, reachable but no report found where
  reports are due → `empty`, both → `recovered` when fixed; a report file that cannot be parsed
  → `parse_failed`, then `parsed`; agencies whose due reports could not be verified (未能核实) → one
  `unverified` alert per portal, then `verified`. An unverified year is never a data alert.

Data alerts are pushed for the current cycle only (crawler.rules.deadline.in_alert_cycle); older ones are
recorded as `suppressed`, browsable and never pushed, unless `alert_since` widens the window.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from crawler.alerts import messages as msg
from crawler.monitor.checks import DeadlineResult
from crawler.registry import Agency, Registry
from crawler.rules.deadline import in_alert_cycle, resolve_kind
from crawler.rules.titles import COLUMN_MOVED, DATA_RULE_PREFIXES, rule_title
from storage import Archive

FAILED_PORTAL_STATUSES = ("unreachable", "error", "failed", "timeout")
DEFAULT_UNREACHABLE_RUNS = 3


def archive_base_url() -> str:
    """Where journalists open the archive (xxgk serve); links to originals are built on it."""
    return os.environ.get("XXGK_PUBLIC_URL", "http://127.0.0.1:8001").rstrip("/")


@dataclass
class Links:
    base: str

    def original(self, sha256: str | None) -> str | None:
        return f"{self.base}/-/original/{sha256}" if sha256 else None


def _place_tags(row) -> list[str]:
    return [row[k] for k in ("province", "city", "county") if row[k]]


def _data_tags(kind: str, row, *extra: str) -> list[str]:
    tags = ["data", kind, *extra, *_place_tags(row), row["agency"], row["portal_id"], row["agency_kind"]]
    return [t for t in tags if t]


@dataclass(frozen=True)
class Cycle:
    """Which report years' alerts are pushed (see in_alert_cycle)."""

    today: date
    alert_since: int | None = None

    def pushes(self, deadline: date, year: int | None) -> bool:
        return in_alert_cycle(deadline, year, self.today, self.alert_since)

    def pushes_report(self, agency: str | None, kind: str | None, year: int | None) -> bool:
        """For a report's data alert: its year's statutory deadline by the agency's kind."""
        if year is None:
            return True
        resolved, _ = resolve_kind(kind, agency or "")
        return self.pushes(Agency(agency or "", resolved).deadline_for(year), year)


def queue_data_alerts(archive: Archive, links: Links, cycle: Cycle | None = None) -> Counter:
    """Failing rules become `fail` alerts; raised ones that stopped failing become `corrected`."""
    cycle = cycle or Cycle(date.today())
    counts: Counter = Counter()
    now_failing = set()
    # One transaction around the cursor and the writes made while it is read: outside one, each write's own
    # BEGIN IMMEDIATE would fail at once if another process had committed since the cursor's snapshot.
    with archive.transaction():
        known = archive.alerts.states("data")
        for row in archive.alerts.failing_findings(DATA_RULE_PREFIXES):
            fp = f"data|{row['report_id']}|{row['fingerprint']}"
            now_failing.add(fp)
            if known.get(fp) == "fail":
                counts["unchanged"] += 1  # already raised: nothing to say again
                continue
            counts[_upsert_finding(archive, links, fp, "fail", row, cycle)] += 1
    # The raised ones no longer failing, fetched one by one: all of them as records held ≈ 400 MB nationally.
    for fp in [fp for fp, state in known.items() if state == "fail" and fp not in now_failing]:
        alert = archive.alerts.get(fp)
        if alert is None or alert.state != "fail":
            continue  # another check got there first
        before = alert.payload
        ctx = archive.alerts.finding_context(alert.report_id, before.get("finding"))
        if ctx is None:  # the rule no longer applies to the new version (e.g. another template): say so
            ctx = archive.alerts.report_context(alert.report_id)
            ctx.update(
                rule=before.get("rule", ""),
                status="absent",
                message="新版本中不再出现该问题",
                fingerprint=before.get("finding"),
            )
        counts[_upsert_finding(archive, links, alert.fingerprint, "corrected", ctx, cycle)] += 1
    return counts


def _upsert_finding(archive: Archive, links: Links, fp: str, state: str, ctx: dict, cycle: Cycle) -> str:
    """Alert `fp` into `state`, which its callers know it is not in (from the states read at the start)."""
    push = cycle.pushes_report(ctx["agency"], ctx["agency_kind"], ctx["year"])
    title = rule_title(ctx["rule"])
    make = msg.inconsistent if state == "fail" else msg.corrected
    m = make(
        ctx["agency"] or "（未知机关）",
        ctx["year"],
        title,
        ctx["message"],
        ctx["page_url"] or ctx["source_url"],
        links.original(ctx["sha256"]),
    )
    archive.alerts.upsert(
        fp,
        kind="data",
        state=state,
        tags=_data_tags("inconsistent" if state == "fail" else "corrected", ctx, "consistency"),
        title=m.title,
        body=m.body,
        payload={"rule": ctx["rule"], "finding": ctx["fingerprint"], "status": ctx["status"], "detail": ctx["message"]},
        report_id=ctx["report_id"],
        agency=ctx["agency"],
        year=ctx["year"],
        suppress=not push,
    )
    return state if push else "suppressed"


def queue_deadline_alerts(
    archive: Archive, results: Iterable[DeadlineResult], links: Links, cycle: Cycle | None = None
) -> Counter:
    """missing / late / published per agency and year. unverified, unmonitored and pending say nothing here:
    only a proven absence is an accusation (the unverified ones go to the crawler's health, per portal)."""
    cycle = cycle or Cycle(date.today())
    counts: Counter = Counter()
    for r in results:
        d, a = r.decision, r.agency
        fp = f"deadline|{a.name}|{d.year}"
        existing = archive.alerts.get(fp)
        if d.status == "missing":
            state = "missing"
        elif d.status == "late":
            state = "late"
        elif d.status == "on_time" and existing is not None and existing.state in ("missing", "late"):
            state = "published"  # raised as missing, found after all, dated before the deadline
        else:
            continue
        if existing and existing.state == state:
            counts["unchanged"] += 1
            continue
        push = cycle.pushes(d.deadline, d.year)
        m, report = _deadline_message(archive, r, state, existing.sent_state if existing else None, links, cycle.today)
        tags = [
            "data",
            "deadline",
            state,
            a.province,
            a.city,
            a.county,
            a.name,
            r.portal.id if r.portal else None,
            a.kind,
        ]
        archive.alerts.upsert(
            fp,
            kind="deadline",
            state=state,
            tags=[t for t in tags if t],
            title=m.title,
            body=m.body,
            payload={
                "deadline": d.deadline.isoformat(),
                "status": d.status,
                "days_late": d.days_late,
                "evidence_id": r.evidence_id,
                "expectation": r.expectation,
                "basis": d.basis,
            },
            report_id=report.id if report else None,
            agency=a.name,
            year=d.year,
            suppress=not push,
        )
        counts[state if push else "suppressed"] += 1
    return counts


def _deadline_message(archive: Archive, r: DeadlineResult, state: str, sent: str | None, links: Links, today: date):
    """The message for a deadline alert, and the report it is about (None for a missing one)."""
    d, a = r.decision, r.agency
    report = archive.reports.get(d.publication.report_id) if d.publication else None
    archived = links.original(report.sha256) if report else None
    source = (report.page_url or report.source_url) if report else None
    deadline = d.deadline.isoformat()
    if state == "missing":
        shots = archive.deadlines.evidence_set(r.evidence_id)
        return msg.missing(
            a.name,
            d.year,
            deadline,
            a.kind,
            bool(a.deadline),
            today.isoformat(),
            d.days_late,
            list(d.crawl.listing_pages) if d.crawl else [u for u in [r.listing_url] if u],
            [u for u in (links.original(s["sha256"]) for s in shots) if u],
            shots[0]["captured_at"] if shots else None,
            d.crawl.started_at if d.crawl else None,
            "verified" in d.basis.get("listing_known_by", []),
            d.basis.get("other_years", []),
        ), None
    p = d.publication
    if state == "late":
        return msg.late(
            a.name,
            d.year,
            deadline,
            a.kind,
            bool(a.deadline),
            p.published_at.isoformat(),
            p.source,
            d.days_late,
            sent == "missing",
            source,
            archived,
        ), report
    return msg.published(a.name, d.year, deadline, p.published_at.isoformat(), p.source, source, archived), report


def queue_verification_alerts(archive: Archive, results: Iterable[DeadlineResult]) -> Counter:
    """At most one health alert per portal for its agencies whose due reports could not be verified, with the
    reasons; `verified` once none is left."""
    unverified: dict[str, list[DeadlineResult]] = defaultdict(list)
    portals = {}
    for r in results:
        if r.portal is None:
            continue
        portals[r.portal.id] = r.portal
        if r.decision.status == "unverified":
            unverified[r.portal.id].append(r)
    counts: Counter = Counter()
    for portal_id, portal in portals.items():
        fp = f"health|unverified|{portal_id}"
        tags = ["health", portal_id]
        found = unverified.get(portal_id)
        if found:
            reasons: dict[str, tuple[int, list[int]]] = {}
            for reason in {r.decision.reason for r in found}:
                mine = [r for r in found if r.decision.reason == reason]
                reasons[reason] = (len({r.agency.name for r in mine}), [r.decision.year for r in mine])
            m = msg.portal_unverified(portal.name, len({r.agency.name for r in found}), reasons, portal.start_url)
            counts[_upsert_health(archive, fp, "unverified", [*tags, "unverified"], m)] += 1
        elif _raised(archive, fp):
            m = msg.portal_verified(portal.name, portal.start_url)
            counts[_upsert_health(archive, fp, "verified", [*tags, "verified"], m)] += 1
    return counts


def queue_health_alerts(
    archive: Archive, registry: Registry, links: Links, today_deadline_passed: dict[str, int], unreachable_runs: int
) -> Counter:
    """Portals down for N runs, portals with no report where reports are due, unparseable files.

    `today_deadline_passed`: portal id → how many registry reports there are already due.
    """
    counts: Counter = Counter()
    for portal in registry.portals:
        history = archive.runs.history(portal.id, unreachable_runs)
        down = len(history) >= unreachable_runs and all(h["status"] in FAILED_PORTAL_STATUSES for h in history)
        latest_ok = bool(history) and history[0]["status"] not in FAILED_PORTAL_STATUSES
        found = archive.reports.count_for_portal(portal.id)
        due = today_deadline_passed.get(portal.id, 0)
        tags = ["health", portal.id]
        fp = f"health|unreachable|{portal.id}"
        if down:
            m = msg.portal_unreachable(portal.name, len(history), history[0]["error"], portal.start_url)
            counts[_upsert_health(archive, fp, "unreachable", [*tags, "unreachable"], m)] += 1
        elif latest_ok and _raised(archive, fp):
            counts[
                _upsert_health(
                    archive, fp, "recovered", [*tags, "recovered"], msg.portal_recovered(portal.name, portal.start_url)
                )
            ] += 1
        fp = f"health|empty|{portal.id}"
        if latest_ok and found == 0 and due:
            m = msg.portal_empty(portal.name, due, portal.start_url)
            counts[_upsert_health(archive, fp, "empty", [*tags, "empty"], m)] += 1
        elif found and _raised(archive, fp):
            counts[
                _upsert_health(
                    archive, fp, "recovered", [*tags, "recovered"], msg.portal_recovered(portal.name, portal.start_url)
                )
            ] += 1
    counts += queue_column_alerts(archive, registry)
    failed = archive.reports.failed_parses()
    failed_fps = set()
    for r in failed:
        fp = f"health|parse|{r['id']}"
        failed_fps.add(fp)
        m = msg.parse_failed(
            r["source_url"], r["parse_reason"] or "", r["parse_message"] or "", links.original(r["sha256"])
        )
        tags = ["health", "parse_failed", r["portal_id"] or ""]
        counts[_upsert_health(archive, fp, "parse_failed", [t for t in tags if t], m, report_id=r["id"])] += 1
    for a in archive.alerts.in_state("health", "parse_failed"):
        if a.fingerprint not in failed_fps:
            report = archive.reports.get(a.report_id)
            m = msg.parse_recovered(report.source_url, links.original(report.sha256))
            counts[_upsert_health(archive, a.fingerprint, "parsed", ["health", "parsed"], m, report_id=report.id)] += 1
    return counts


def queue_column_alerts(archive: Archive, registry: Registry) -> Counter:
    """One 「年报栏目地址已变更」 per column that was superseded by one found from the home page (a column the
    operator changed in the registry is not news to the operator)."""
    names = {p.id: p.name for p in registry.portals}
    counts: Counter = Counter()
    for move in archive.columns.moves():
        if move.old.gone_reason == "registry":
            continue
        fp = f"health|column|{move.old.portal_id}|{move.new.id}"
        m = msg.column_moved(names.get(move.old.portal_id, move.old.portal_id), move, rule_title(COLUMN_MOVED))
        tags = ["health", move.old.portal_id, "column_moved"]
        counts[_upsert_health(archive, fp, "column_moved", tags, m)] += 1
    return counts


def _raised(archive: Archive, fp: str) -> bool:
    a = archive.alerts.get(fp)
    return a is not None and a.state not in ("recovered", "parsed", "verified")


def _upsert_health(
    archive: Archive, fp: str, state: str, tags: list[str], m: msg.Message, report_id: int | None = None
) -> str:
    existing = archive.alerts.get(fp)
    if existing and existing.state == state:
        return "unchanged"
    archive.alerts.upsert(fp, kind="health", state=state, tags=tags, title=m.title, body=m.body, report_id=report_id)
    return state
