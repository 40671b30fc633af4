"""Deliver the archive's pending alerts: one message each, or one digest per target per run.

Delivery is recorded per alert and target (storage: alert_targets): a delivery that failed for one target
is retried on the next run for that target only, and the targets that received it are not sent it again.
Every attempt is also logged per alert (alert_deliveries); an alert stays pending until every target its
tags select has it. More than `digest_over` data alerts pending for one target (a first run over many
agencies) go to that target as one digest even without `digest`. `dry_run` prints what would be sent and
records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.alerts import messages as msg
from crawler.alerts.delivery import Targets, target_key
from storage import AlertRecord, Archive
from storage.clock import utcnow

GOOD_NEWS = ("corrected", "published", "recovered", "parsed", "verified", "restored")
NO_TARGET = "没有与标签匹配的通知目标"
DIGEST_OVER = 20  # more data alerts than this pending for one target: one digest instead


@dataclass
class Delivery:
    pending: int = 0
    sent: int = 0  # alerts delivered (an alert in a digest counts once)
    failed: int = 0
    unrouted: int = 0  # no target's tags matched: recorded as done, with a note
    messages: int = 0  # messages sent or printed
    digests: int = 0  # of those messages, digests
    auto_digests: int = 0  # digests sent without --digest: more than digest_over data alerts for one target
    digest_over: int = DIGEST_OVER
    errors: list[str] = field(default_factory=list)


def _notify_type(alert: AlertRecord) -> str:
    if alert.state in GOOD_NEWS:
        return "success"
    return "failure" if alert.kind == "health" else "warning"


def _message(alert: AlertRecord) -> msg.Message:
    return msg.Message(alert.title or alert.fingerprint, alert.body or "")


def _wants_digest(alerts: list[AlertRecord], digest: bool, digest_over: int) -> bool:
    """A digest when asked, or when more data alerts than `digest_over` are due for one recipient."""
    return digest or sum(a.kind != "health" for a in alerts) > digest_over


def deliver(
    archive: Archive,
    targets: Targets | None,
    *,
    digest: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    now: str | None = None,
    digest_over: int = DIGEST_OVER,
) -> Delivery:
    now = now or utcnow()
    pending = archive.alerts.pending()
    result = Delivery(pending=len(pending), digest_over=digest_over)
    if not pending:
        return result
    if dry_run:
        _print(pending, digest, result, echo, now)
        return result
    if targets is None:
        return result  # nowhere to send: they stay pending for a run with --notify
    _send(archive, targets, pending, digest, result, now)
    return result


def _print(pending: list[AlertRecord], digest: bool, result: Delivery, echo: Callable[[str], None], now: str) -> None:
    """What a delivery would send, as one reader would get it."""
    if _wants_digest(pending, digest, result.digest_over):
        shown = [msg.digest([_message(a) for a in pending], now[:10])]
        result.digests = 1
        result.auto_digests = int(not digest)
    else:
        shown = [_message(a) for a in pending]
    for m in shown:
        echo(f"--- {m.title}\n{m.body}\n")
    result.messages = len(shown)


def _send(
    archive: Archive, targets: Targets, pending: list[AlertRecord], digest: bool, result: Delivery, now: str
) -> None:
    """Per target: the pending alerts it has not received in their current state, one by one or as a digest."""
    routes = {a.id: targets.matching(a.tags) for a in pending}
    received = archive.alerts.delivered_targets(list(routes))
    failed: dict[int, list[str]] = {a.id: [] for a in pending}  # alert id → targets that refused it now
    in_digest: set[int] = set()
    for service in targets.services:
        key = target_key(service)
        mine = [
            a for a in pending if any(s is service for s in routes[a.id]) and received.get(a.id, {}).get(key) != a.state
        ]
        if not mine:
            continue
        if _wants_digest(mine, digest, result.digest_over):
            kinds = {a.kind for a in mine}
            m = msg.digest([_message(a) for a in mine], now[:10])
            accepted = targets.notify(service, m, "failure" if kinds == {"health"} else "warning")
            outcomes = [(a, accepted) for a in mine]
            in_digest.update(a.id for a in mine)
            result.messages += 1
            result.digests += 1
            result.auto_digests += int(not digest)
        else:
            outcomes = [(a, targets.notify(service, _message(a), _notify_type(a))) for a in mine]
            result.messages += len(mine)
        for alert, ok in outcomes:
            error = None if ok else f"{service.service_name}未接受"
            archive.alerts.record_target(alert.id, key, ok, error, name=service.service_name, now=now)
            if not ok:
                failed[alert.id].append(service.service_name)
    digest_id = f"digest-{now}"
    for alert in pending:
        services, refused = routes[alert.id], failed[alert.id]
        error = f"{len(services)}个目标中{len(refused)}个发送失败：{'、'.join(refused)}" if refused else None
        _record(
            archive,
            [alert],
            not refused,
            error,
            len(services),
            result,
            digest=digest_id if alert.id in in_digest else None,
            now=now,
        )


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
