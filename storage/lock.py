"""One writer job per archive at a time: an fcntl lock on a file beside the database.

`xxgk crawl` takes `<db>.lock`; `xxgk check` and `xxgk run` take `<db>.check.lock` (a run holds both). The
kernel releases a lock when its process dies, so a SIGKILLed job never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LockHeld(RuntimeError):
    pass


class ArchiveLock:
    """An exclusive, non-blocking fcntl lock on `<db><suffix>`."""

    def __init__(self, db_path: str | Path, suffix: str = ".lock", holder: str = "xxgk crawl"):
        self.path = Path(f"{db_path}{suffix}")
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockHeld(f"another {self.holder} is running on this archive (lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def crawl_lock(db_path: str | Path) -> ArchiveLock:
    """Held by a crawl: one crawl writes an archive at a time."""
    return ArchiveLock(db_path, ".lock", "xxgk crawl")


def check_lock(db_path: str | Path) -> ArchiveLock:
    """Held by `xxgk check` and `xxgk run`: two runs never deliver the same pending alert twice."""
    return ArchiveLock(db_path, ".check.lock", "xxgk check or run")
