"""Alerts: Chinese messages about late, missing and inconsistent reports and about the crawler's
health, queued once per fingerprint and state in the archive, delivered through apprise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crawler.alerts.delivery import DeliveryConfigError, Targets
from crawler.alerts.events import (
    DEFAULT_UNREACHABLE_RUNS,
    Links,
    archive_base_url,
    queue_data_alerts,
    queue_deadline_alerts,
    queue_health_alerts,
)
from crawler.alerts.notify import Delivery, deliver
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
) -> Counter:
    """Record every alert this check's results call for (pending until delivered)."""
    links = Links(base_url or archive_base_url())
    due: Counter = Counter(r.portal.id for r in summary.deadlines if r.decision.status != "pending")
    counts: Counter = Counter()
    with archive.transaction():  # one commit for every alert of the run
        for group, found in (
            ("data", queue_data_alerts(archive, links)),
            ("deadline", queue_deadline_alerts(archive, summary.deadlines, links, today.isoformat())),
            ("health", queue_health_alerts(archive, registry, links, due, unreachable_runs)),
        ):
            counts.update({f"{group}.{k}": v for k, v in found.items()})
    return counts


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
        out = [
            f"xxgk check ({self.today.isoformat()}): {s.reports} reports; cross-year {cross}; deadlines "
            + ", ".join(f"{k} {deadlines[k]}" for k in ("on_time", "late", "missing", "pending"))
        ]
        new = {k: v for k, v in self.queued.items() if not k.endswith(".unchanged")}
        out.append("alerts queued: " + (", ".join(f"{k} {v}" for k, v in sorted(new.items())) or "none new"))
        if self.dry_run:
            out.append(f"dry run: {d.pending} pending alerts printed as {d.messages} messages, none marked sent")
        elif not self.notified:
            out.append(f"{d.pending} alerts pending (give --notify CONFIG to deliver them)")
        else:
            out.append(
                f"delivered {d.sent}, failed {d.failed} (retried next run), no matching target {d.unrouted}; {d.messages} messages"
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
    echo: Callable[[str], None] = print,
) -> CheckOutcome:
    """Everything `xxgk check` does, for Python callers (`xxgk run`, `xxgk demo`).

    Raises DeliveryConfigError for an unusable apprise config before touching the archive. The
    caller holds the check lock (crawler.commands.check.check_lock) when runs may overlap.
    """
    targets = Targets.load(notify) if notify and not dry_run else None
    with Archive(db) as archive:
        summary = run_checks(archive, registry, today, capture=screenshot.capture if screenshots else None)
        queued = queue_alerts(archive, registry, summary, today, base_url=public_url, unreachable_runs=unreachable_runs)
        delivery = deliver(archive, targets, digest=digest, dry_run=dry_run, echo=echo)
    return CheckOutcome(today, summary, queued, delivery, dry_run, notify is not None)
