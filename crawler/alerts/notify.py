"""Deliver the archive's pending alerts: one message each, or one digest per target per run.

Every attempt is recorded (storage: alert_deliveries); an alert whose delivery failed stays
pending and is retried on the next run, so nothing is lost. `dry_run` prints what would be sent
and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.alerts import messages as msg
from crawler.alerts.delivery import Targets
from storage import AlertRecord, Archive
from storage.clock import utcnow

GOOD_NEWS = ("corrected", "published", "recovered", "parsed")
NO_TARGET = "没有与标签匹配的通知目标"


@dataclass
class Delivery:
    pending: int = 0
    sent: int = 0  # alerts delivered (an alert in a digest counts once)
    failed: int = 0
    unrouted: int = 0  # no target's tags matched: recorded as done, with a note
    messages: int = 0  # messages sent or printed
    errors: list[str] = field(default_factory=list)


def _notify_type(alert: AlertRecord) -> str:
    if alert.state in GOOD_NEWS:
        return "success"
    return "failure" if alert.kind == "health" else "warning"


def _message(alert: AlertRecord) -> msg.Message:
    return msg.Message(alert.title or alert.fingerprint, alert.body or "")


def deliver(
    archive: Archive,
    targets: Targets | None,
    *,
    digest: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    now: str | None = None,
) -> Delivery:
    now = now or utcnow()
    pending = archive.alerts.pending()
    result = Delivery(pending=len(pending))
    if not pending:
        return result
    if dry_run:
        shown = [msg.digest([_message(a) for a in pending], now[:10])] if digest else [_message(a) for a in pending]
        for m in shown:
            echo(f"--- {m.title}\n{m.body}\n")
        result.messages = len(shown)
        return result
    if targets is None:
        return result  # nowhere to send: they stay pending for a run with --notify
    if digest:
        _send_digests(archive, targets, pending, result, now)
    else:
        for alert in pending:
            outcome = targets.send(_message(alert), alert.tags, _notify_type(alert))
            _record(archive, [alert], outcome.ok, outcome.error, outcome.targets, result, now=now)
            result.messages += outcome.targets
    return result


def _send_digests(archive: Archive, targets: Targets, pending: list[AlertRecord], result: Delivery, now: str) -> None:
    """One message per target holding every pending alert routed to it."""
    routes = {a.id: targets.matching(a.tags) for a in pending}
    verdict: dict[int, bool] = {}  # id(service) → accepted
    for service in targets.services:
        mine = [a for a in pending if any(s is service for s in routes[a.id])]
        if not mine:
            continue
        kinds = {a.kind for a in mine}
        m = msg.digest([_message(a) for a in mine], now[:10])
        try:
            ok = service.notify(
                body=m.body,
                title=m.title,
                notify_type="failure" if kinds == {"health"} else "warning",
                body_format="markdown",
            )
        except Exception:  # recorded as a failed delivery and retried next run
            ok = False
        verdict[id(service)] = bool(ok)
        result.messages += 1
    digest_id = f"digest-{now}"
    for alert in pending:
        services = routes[alert.id]
        failed = [s.service_name for s in services if not verdict[id(s)]]
        error = f"{len(services)}个目标中{len(failed)}个发送失败：{'、'.join(failed)}" if failed else None
        _record(archive, [alert], not failed, error, len(services), result, digest=digest_id, now=now)


def _record(
    archive: Archive,
    alerts: list[AlertRecord],
    ok: bool,
    error: str | None,
    n_targets: int,
    result: Delivery,
    *,
    digest: str | None = None,
    now: str,
) -> None:
    ids = [a.id for a in alerts]
    if ok and n_targets == 0:
        archive.alerts.record_delivery(ids, True, NO_TARGET, digest=digest, now=now)
        result.unrouted += len(ids)
        return
    archive.alerts.record_delivery(ids, ok, error, digest=digest, now=now)
    if ok:
        result.sent += len(ids)
    else:
        result.failed += len(ids)
        result.errors.append(error or "")
