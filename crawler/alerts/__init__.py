"""Alerts: Chinese messages about late, missing and inconsistent reports and about the crawler's
health, queued once per fingerprint and state in the archive, delivered through apprise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crawler.alerts.changes import queue_change_alerts
from crawler.alerts.delivery import DeliveryConfigError, Targets
from crawler.alerts.events import (
    DEFAULT_UNREACHABLE_RUNS,
    Cycle,
    Links,
    archive_base_url,
    queue_data_alerts,
    queue_deadline_alerts,
    queue_health_alerts,
    queue_verification_alerts,
)
from crawler.alerts.notify import DIGEST_OVER, Delivery, deliver
from crawler.monitor import screenshot
from crawler.monitor.checks import CheckSummary, run_checks
from crawler.registry import Registry
from storage import Archive

__all__ = ["CheckOutcome", "Delivery", "DeliveryConfigError", "Targets", "check_and_alert", "deliver", "queue_alerts"]


def queue_alerts(
    archive: Archive,
    registry: Registry,
    summary: CheckSummary,
    today: date,
    *,
    base_url: str | None = None,
    unreachable_runs: int = DEFAULT_UNREACHABLE_RUNS,
    alert_since: int | None = None,
) -> Counter:
    """Record every alert this check's results call for (pending until delivered).

    Data alerts about report years before the current cycle (a deadline more than 12 months ago) are
    recorded as suppressed, never pushed; `alert_since` (a report year) pushes the years from it on instead,
    including those suppressed by earlier runs (`released`).
    """
    links = Links(base_url or archive_base_url())
    cycle = Cycle(today, alert_since)
    due: Counter = Counter(r.portal.id for r in summary.deadlines if r.portal and r.decision.status != "pending")
    counts: Counter = Counter()
    with archive.transaction():  # one commit for every alert of the run
        if alert_since is not None:
            counts["data.released"] = archive.alerts.release_suppressed(alert_since)
        for group, found in (
            ("data", queue_data_alerts(archive, links, cycle)),
            ("deadline", queue_deadline_alerts(archive, summary.deadlines, links, cycle)),
            ("health", queue_health_alerts(archive, registry, links, due, unreachable_runs)),
            ("health", queue_verification_alerts(archive, summary.deadlines)),
            ("changes", queue_change_alerts(archive, links)),
        ):
            counts.update({f"{group}.{k}": v for k, v in found.items()})
    return +counts


@dataclass
class CheckOutcome:
    today: date
    summary: CheckSummary
    queued: Counter
    delivery: Delivery
    dry_run: bool
    notified: bool  # a target config was given

    @property
    def undelivered(self) -> bool:
        return self.delivery.failed > 0

    def lines(self) -> list[str]:
        s, d = self.summary, self.delivery
        deadlines = s.deadline_counts()
        cross = ", ".join(f"{k} {v}" for k, v in sorted(s.cross_year.items())) or "none"
        shown = ["on_time", "late", "missing", "pending", "unverified"] + (
            ["unmonitored"] if deadlines["unmonitored"] else []
        )
        out = [
            f"xxgk check ({self.today.isoformat()}): {s.reports} reports; cross-year {cross}; deadlines "
            + ", ".join(f"{k} {deadlines[k]}" for k in shown)
        ]
        new = {k: v for k, v in self.queued.items() if not k.endswith((".unchanged", ".suppressed"))}
        out.append("alerts queued: " + (", ".join(f"{k} {v}" for k, v in sorted(new.items())) or "none new"))
        suppressed = sum(v for k, v in self.queued.items() if k.endswith(".suppressed"))
        if suppressed:
            out.append(
                f"{suppressed} alerts about report years before the current cycle recorded, not sent "
                "(--alert-since YEAR sends them)"
            )
        digests = ""
        if d.auto_digests:
            digests = (
                f"; {d.auto_digests} sent as one digest per target (more than {d.digest_over} data alerts pending)"
            )
        if self.dry_run:
            out.append(
                f"dry run: {d.pending} pending alerts printed as {d.messages} messages{digests}, none marked sent"
            )
        elif not self.notified:
            out.append(f"{d.pending} alerts pending (give --notify CONFIG to deliver them)")
        else:
            out.append(
                f"delivered {d.sent}, failed {d.failed} (retried next run for the targets that failed), "
                f"no matching target {d.unrouted}; {d.messages} messages{digests}"
            )
        return out


def check_and_alert(
    db: str | Path | None,
    registry: Registry,
    today: date,
    *,
    notify: str | Path | None = None,
    digest: bool = False,
    dry_run: bool = False,
    screenshots: bool = True,
    public_url: str | None = None,
    unreachable_runs: int = DEFAULT_UNREACHABLE_RUNS,
    alert_since: int | None = None,
    digest_over: int = DIGEST_OVER,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    allow_networks: Sequence[str] = (),
) -> CheckOutcome:
    """Everything `xxgk check` does, for Python callers (`xxgk run`, `xxgk demo`).

    Raises DeliveryConfigError for an unusable apprise config before touching the archive. The
    caller holds the check lock (crawler.commands.check.check_lock) when runs may overlap.
    `alert_since`: push alerts about report years from this one on (default: the current cycle only).
    `warn`: where warnings go (default stderr), e.g. an apprise config every user can read.
    `allow_networks`: private networks the screenshot browser may reach, as the crawl's --allow-network (also
    read from $XXGK_ALLOWED_PRIVATE_NETWORKS).
    """
    targets = None
    if notify and not dry_run:
        targets = Targets.load(notify, warn=warn) if warn else Targets.load(notify)
    with Archive(db) as archive:
        capture = screenshot.capture if screenshots else None
        summary = run_checks(archive, registry, today, capture=capture, allow_networks=allow_networks)
        queued = queue_alerts(
            archive,
            registry,
            summary,
            today,
            base_url=public_url,
            unreachable_runs=unreachable_runs,
            alert_since=alert_since,
        )
        delivery = deliver(archive, targets, digest=digest, dry_run=dry_run, echo=echo, digest_over=digest_over)
    return CheckOutcome(today, summary, queued, delivery, dry_run, notify is not None)
