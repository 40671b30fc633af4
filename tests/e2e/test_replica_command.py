"""`xxgk replica`: the replica portals served outside the demo, as a person runs it in a terminal — start it,
read the registry and base URL it prints, fetch a portal page over HTTP, Ctrl-C, and it is gone cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from support.serving import free_port
from support.shared import ROOT

from crawler.registry import load_registry


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "replica", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _announced(proc: subprocess.Popen) -> dict[str, str]:
    """The first two stdout lines: `base URL: …` and `registry: …`."""
    found = {}
    for _ in range(2):
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.poll() is not None else "no output"
        key, _, value = line.strip().partition(": ")
        found[key] = value
    return found


@pytest.mark.parametrize("keep", [False, True], ids=["temporary registry", "--registry-out"])
def test_replica_serves_its_registry_portals_until_ctrl_c(keep, tmp_path):
    port = free_port()
    out = tmp_path / "replica.yaml"
    proc = _start("--port", str(port), *(["--registry-out", str(out)] if keep else []))
    try:
        announced = _announced(proc)
        assert announced["base URL"] == f"http://127.0.0.1:{port}"
        registry = Path(announced["registry"])
        assert (registry == out) if keep else registry.is_file()
        portals = load_registry(registry).portals  # the file the crawler reads, pointing at this server
        assert len(portals) == 6 and all(p.start_url.startswith(announced["base URL"]) for p in portals)
        assert yaml.safe_load(registry.read_text(encoding="utf-8"))["portals"][0]["verified"] is True
        with urllib.request.urlopen(portals[0].start_url, timeout=30) as page:
            assert page.status == 200 and "年度报告" in page.read().decode(page.headers.get_content_charset("utf-8"))
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        rc = proc.wait(30)
    stderr = proc.stderr.read()
    assert rc == 0 and "Traceback" not in stderr and stderr.strip().endswith("xxgk replica: stopped"), stderr
    assert registry.exists() == keep  # a temporary registry goes with the server
    with pytest.raises(OSError):
        urllib.request.urlopen(announced["base URL"] + "/", timeout=5)


def test_replica_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = _start("--port", str(busy.getsockname()[1]))
        stdout, stderr = proc.communicate(timeout=60)
    lines = stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in stderr and stdout == "", stderr
    assert len(lines) == 1 and lines[0].startswith("xxgk replica: cannot listen on 127.0.0.1:"), stderr
