"""A real `xxgk serve` (Datasette) on 127.0.0.1 for a test: started, polled until it answers, stopped.

    with serving(db, tmp / "serve.log") as (base, proc):
        urllib.request.urlopen(base + "/xxgk")
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from support.shared import ROOT


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` nobody listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def xxgk_serve(db: Path) -> list[str]:
    """The venv's `xxgk serve --db DB` (the port is added by serving())."""
    return [str(Path(sys.executable).with_name("xxgk")), "serve", "--db", str(db)]


@contextmanager
def serving(
    db: Path,
    log_path: Path,
    *,
    argv: Sequence[str] | None = None,
    ready: str = "/-/versions.json",
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `argv` (default: xxgk_serve(db)) with `--port PORT`, its output in `log_path`, until `ready` answers
    200; yields the base URL and the process. A server that exits or does not answer in `timeout` seconds
    fails the test with its log."""
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*(argv or xxgk_serve(db)), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + ready, timeout=5) as answer:
                    assert answer.status == 200, f"{base + ready} answered {answer.status}"
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"xxgk serve did not start: {log_path.read_text()}") from None
                time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(30)
