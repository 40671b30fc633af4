"""The crawl summary says what the exit code says: a portal's `failures` are exactly the ones that make it
partial (exit 1); refusals and ignored failures (robots.txt, dead navigation links) are shown apart; and a crawl
whose every request was refused as a private address says that --allow-network may be what is missing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.shared import ROOT

from crawler.crawl.results import failure_counts
from crawler.replica import ReplicaServer
from spiders.base import outcome

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "XXGK_RETRY_BACKOFF_BASE=0.2"]


def crawl(db: Path, registry: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--registry", str(registry), "-q", *FAST]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture(scope="module")
def dadukou(tmp_path_factory):
    """The replica portal whose crawl meets a private address, a look-alike domain and a robots.txt rule."""
    tmp = tmp_path_factory.mktemp("dadukou")
    with ReplicaServer() as server:
        full = yaml.safe_load(server.registry_path(tmp).read_text(encoding="utf-8"))
        full["portals"] = [p for p in full["portals"] if p["id"] == "demo-dadukou"]
        registry = tmp / "dadukou.yaml"
        registry.write_text(yaml.safe_dump(full, allow_unicode=True), encoding="utf-8")
        yield registry


def test_the_rule_of_the_count_is_the_rule_of_the_portal_status():
    """spiders/base/outcome.py decides partial with the same rule the summary counts with."""
    reasons = ["http_error", "timeout", "connection", "redirect", "refused", "robots", "too_large", "error"]
    roles = ["listing", "hub", "column", "api", "report", "document", "attachment"]
    for reason, role in itertools.product(reasons, roles):
        failure = {"url": "http://x.gov.cn/", "reason": reason, "detail": "", "role": role}
        o = outcome.PortalOutcome(listings_ok=1, reports_found=1)
        o.fail(failure["url"], reason, "", role)
        failed, _ = failure_counts(o.failures)
        assert (o.status == "partial") == (failed > 0), (failure, o.status)


def test_refusals_and_robots_are_counted_apart_and_do_not_fail_the_crawl(dadukou, tmp_path):
    done = crawl(tmp_path / "x.db", dadukou, "--allow-network", "127.0.0.1/32")
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.strip().startswith("demo-dadukou")]
    assert " ok " in line and line.rstrip().endswith("failures 0"), line
    fields = line.split()
    refused, ignored = int(fields[fields.index("refused") + 1]), int(fields[fields.index("ignored") + 1])
    assert refused >= 1 and ignored >= 1, line  # the private address and look-alike; robots.txt's forbidden path

    as_json = crawl(tmp_path / "y.db", dadukou, "--allow-network", "127.0.0.1/32", "--json")
    (portal,) = json.loads(as_json.stdout)["portals"]
    assert portal["failed"] == 0 and portal["ignored"] == ignored and as_json.returncode == 0
    assert {f["reason"] for f in portal["failures"]} >= {"refused", "robots"}  # the detail is all kept


def test_a_crawl_whose_every_request_was_refused_names_allow_network(dadukou, tmp_path):
    done = crawl(tmp_path / "x.db", dadukou)
    assert done.returncode == 1, done.stdout + done.stderr
    hints = [x for x in done.stdout.splitlines() if "--allow-network" in x]
    assert len(hints) == 1 and hints[0].startswith("every request was refused (private_address"), done.stdout
    (line,) = [x for x in done.stdout.splitlines() if x.strip().startswith("demo-dadukou")]
    assert "unreachable" in line and line.rstrip().endswith("failures 0"), line  # unreachable, and says why
