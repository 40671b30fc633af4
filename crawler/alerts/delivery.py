"""Delivery through apprise, routed by tags from an apprise config file (YAML or text).

The config file is the only place target URLs (which carry tokens) live: the archive records the
config's path and each alert's tags, and errors are reported by service name, never by URL.

Routing: an alert carries tags (`data` or `health`, its kind, province, city, agency, portal id);
a target receives it when one of the target's tags is among them (apprise's OR matching). Tag a
target `always` to receive everything.
"""

from __future__ import annotations

import hashlib
import logging
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import apprise

from crawler.alerts.messages import Message

# At DEBUG, apprise ("JSON POST URL: …") and urllib3 ('"POST /hook/<token>"') log target paths, which can
# hold tokens. Keep both at INFO or quieter whatever the root logger's level.
for _name in ("apprise", "urllib3"):
    _logger = logging.getLogger(_name)
    _logger.setLevel(max(logging.INFO, _logger.level))


class DeliveryConfigError(ValueError):
    pass


def target_key(service) -> str:
    """A target's name in the archive: a hash of its URL, which holds tokens and stays in the config file."""
    return hashlib.sha256(service.url(privacy=False).encode("utf-8")).hexdigest()[:16]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def permission_warning(path: Path) -> str | None:
    """One line when the config can be read by every user of the machine: its target URLs carry tokens."""
    mode = path.stat().st_mode
    if not mode & stat.S_IROTH:
        return None
    return (
        f"xxgk: warning: apprise config {path} is readable by every user (mode {stat.S_IMODE(mode):o}) and its "
        f"target URLs hold tokens; chmod 600 {path}"
    )


@dataclass
class Outcome:
    ok: bool
    targets: int  # how many targets the tags selected
    error: str | None = None


@dataclass
class Targets:
    """The targets of one apprise config file."""

    config_path: Path
    services: list = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path, *, warn: Callable[[str], None] = _stderr) -> Targets:
        """The config's targets. A world-readable config is used, with one warning line through `warn`."""
        path = Path(path)
        if not path.is_file():
            raise DeliveryConfigError(f"apprise config not found: {path}")
        warning = permission_warning(path)
        if warning:
            warn(warning)
        config = apprise.AppriseConfig()
        if not config.add(str(path.resolve())):
            raise DeliveryConfigError(f"apprise config not readable: {path}")
        services = list(config.services())
        if not services:
            raise DeliveryConfigError(f"apprise config has no usable target URL: {path}")
        return cls(path, services)

    def matching(self, tags: Iterable[str]) -> list:
        tags = [t for t in tags if t]
        wanted = {t.lower() for t in tags}
        out = []
        for service in self.services:
            have = {str(t).lower() for t in service.tags}
            if have & wanted or "always" in have:
                out.append(service)
        return out

    @staticmethod
    def notify(service, message: Message, notify_type: str = "warning") -> bool:
        """Send one message to one target; False when it did not accept it (never raises)."""
        try:
            return bool(
                service.notify(
                    body=message.body,
                    title=message.title,
                    notify_type=notify_type,
                    body_format=apprise.NotifyFormat.MARKDOWN,
                )
            )
        except Exception:  # a plugin bug must not stop the other targets; the alert is retried
            return False

    def send(self, message: Message, tags: Iterable[str], notify_type: str = "warning") -> Outcome:
        """Send to every target the tags select; ok only if each of them accepted it."""
        services = self.matching(tags)
        failed = [s.service_name for s in services if not self.notify(s, message, notify_type)]
        if failed:
            return Outcome(False, len(services), f"{len(services)}个目标中{len(failed)}个发送失败：{'、'.join(failed)}")
        return Outcome(True, len(services))
