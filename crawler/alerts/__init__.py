"""Alerts: Chinese messages about late, missing and inconsistent reports and about the crawler's
health, queued once per fingerprint and state in the archive, delivered through apprise."""

from __future__ import annotations

from collections import Counter
from datetime import date

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
from crawler.checks.monitor import CheckSummary
from crawler.registry import Registry
from storage import Archive

__all__ = ["Delivery", "DeliveryConfigError", "Targets", "deliver", "queue_alerts"]


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
    counts = Counter()
    counts.update({f"data.{k}": v for k, v in queue_data_alerts(archive, links).items()})
    counts.update(
        {
            f"deadline.{k}": v
            for k, v in queue_deadline_alerts(archive, summary.deadlines, links, today.isoformat()).items()
        }
    )
    counts.update(
        {f"health.{k}": v for k, v in queue_health_alerts(archive, registry, links, due, unreachable_runs).items()}
    )
    return counts
