"""Fault injection: one crawl over every fault portal (tests/faultportal.py), real HTTP on 127.0.1.x.

For each fault the crawl finishes, records what happened (the crawl run, the portal's status and failures, the
documents kept with their reasons), keeps every good report of the same portal, and raises a crawler-health
alert where that fits (a portal that does not answer, a document that cannot be parsed). All portals are crawled
in one run, as cron would: a misbehaving site must not cost another site anything either.
`bench/faults.py` prints the same verdicts as a table (and can run each scenario on its own).
"""

from __future__ import annotations

import json
import time

import pytest
from support import faultportal as fp
from support.shared import expected_for, seed_paths

SCENARIOS = [sc.name for sc in fp.build_scenarios(fp.load_seeds(seed_paths(), expected_for))]


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    seeds = fp.load_seeds(seed_paths(), expected_for)
    with fp.FaultPortal(seeds) as portal:
        work = tmp_path_factory.mktemp("faults")
        started = time.monotonic()
        db, crawled = fp.crawl_and_check(portal, work)
        seconds = time.monotonic() - started
        conn = fp.open_archive(db)
        trap = len(portal.trap_hits) + fp.trap_content_archived(conn)
        verdicts = {sc.name: fp.judge(sc, conn, fp.portal_id(sc), trap) for sc in portal.scenarios}
        yield {"portal": portal, "db": db, "conn": conn, "crawled": crawled, "seconds": seconds, "verdicts": verdicts}
        conn.close()


def test_at_least_25_fault_scenarios():
    assert len(SCENARIOS) >= 25 and len(set(SCENARIOS)) == len(SCENARIOS)


def test_the_crawl_finishes_and_records_the_run(fault_crawl):
    crawled = fault_crawl["crawled"]
    assert crawled.returncode == 1, crawled.stderr[-3000:]  # partial: some portals failed, the rest archived
    summary = json.loads(crawled.stdout)
    assert {p["portal_id"] for p in summary["portals"]} == {f"fault-{n}" for n in SCENARIOS}
    run = fault_crawl["conn"].execute("SELECT status, finished_at, errors, note FROM crawl_runs").fetchall()
    assert len(run) == 1 and run[0]["status"] == "partial" and run[0]["finished_at"] and run[0]["errors"] > 0
    assert set(json.loads(run[0]["note"])) == {f"fault-{n}" for n in SCENARIOS}
    assert fault_crawl["seconds"] < 300


def test_no_request_escapes_and_nothing_from_outside_is_archived(fault_crawl):
    assert fault_crawl["portal"].trap_hits == []
    assert fp.trap_content_archived(fault_crawl["conn"]) == 0


def test_no_good_report_is_lost(fault_crawl):
    verdicts = fault_crawl["verdicts"].values()
    assert sum(len(v.scenario.expected_reports()) for v in verdicts) >= 2 * (len(SCENARIOS) - 3)
    assert {v.scenario.name: v.rows_lost for v in verdicts if v.rows_lost} == {}


@pytest.mark.parametrize("name", SCENARIOS)
def test_fault_is_recorded_as_expected(fault_crawl, name: str):
    verdict = fault_crawl["verdicts"][name]
    assert verdict.rows_lost == 0
    assert verdict.problems == [], verdict.outcome
