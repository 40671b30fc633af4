"""The fault-injection table: every fault portal crawled, what the archive recorded, and rows lost (must be 0).

    .venv/bin/python bench/faults.py              # all portals in one crawl (as cron would), then the checks
    .venv/bin/python bench/faults.py --isolated   # one crawl process and one archive per scenario
    .venv/bin/python bench/faults.py --kills 50   # also: kill -9 the crawl of the replica portals 50 times

Exit status 1 when a row is lost or a fault is not recorded as expected.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "hardening")]

from support import faultportal as fp  # noqa: E402
from support.shared import expected_for, seed_paths  # noqa: E402


def fault_table(isolated: bool) -> int:
    seeds = fp.load_seeds(seed_paths(), expected_for)
    verdicts: list[fp.Verdict] = []
    started = time.monotonic()
    with fp.FaultPortal(seeds) as portal, tempfile.TemporaryDirectory(prefix="xxgk-faults-") as tmp:
        groups = [[sc] for sc in portal.scenarios] if isolated else [portal.scenarios]
        for i, group in enumerate(groups):
            work = Path(tmp) / str(i)
            work.mkdir()
            db, crawled = fp.crawl_and_check(portal, work, [sc.name for sc in group] if isolated else None)
            if crawled.returncode not in (0, 1):
                print(f"crawl exited {crawled.returncode}: {crawled.stderr[-2000:]}", file=sys.stderr)
            conn = fp.open_archive(db)
            try:
                trap = len(portal.trap_hits) + fp.trap_content_archived(conn)
                verdicts += [fp.judge(sc, conn, fp.portal_id(sc), trap) for sc in group]
            finally:
                conn.close()
    seconds = time.monotonic() - started

    width = max(len(v.scenario.name) for v in verdicts)
    print(f"{'scenario':<{width}}  {'fault':<58}  {'outcome':<70}  rows lost  as expected")
    for v in verdicts:
        print(
            f"{v.scenario.name:<{width}}  {v.scenario.fault[:58]:<58}  {v.outcome[:70]:<70}  {v.rows_lost:>9}  "
            f"{'yes' if v.ok else 'NO: ' + '; '.join(v.problems)}"
        )
    lost = sum(v.rows_lost for v in verdicts)
    good = sum(len(v.scenario.expected_reports()) for v in verdicts)
    as_expected = sum(v.ok for v in verdicts)
    print()
    print(f"scenarios {len(verdicts)}, as expected {as_expected}, good reports {good}, rows lost {lost}")
    print(f"trap server requests {len(portal.trap_hits)}; {seconds:.0f} s ({'isolated' if isolated else 'one crawl'})")
    return 0 if lost == 0 and as_expected == len(verdicts) else 1


def kill_loop(kills: int, seed: int) -> int:
    """kill -9 a crawl of the replica portals `kills` times at random moments of its work (tests/hardening/test_crash_safety.py)."""
    import test_crash_safety as cs

    from crawler.replica import ReplicaServer

    with ReplicaServer() as server, tempfile.TemporaryDirectory(prefix="xxgk-kills-") as tmp:
        registry = server.registry_path(tmp)
        ref = Path(tmp) / "reference.db"
        proc = cs.start(cs.crawl_command(registry, ref), Path(tmp) / "reference.log")
        locked = cs.lock_taken(proc, ref)
        proc.wait(600)
        work = time.monotonic() - locked
        want = cs.archived(ref)
        started = time.monotonic()
        try:
            counts = cs.kill_loop(registry, want, work, kills, random.Random(seed), Path(tmp))
            verdict, status = "every check passed", 0
        except AssertionError as e:
            counts, verdict, status = {}, f"FAILED: {e}", 1
        missing = counts.get("missing", [])
        status |= bool(missing or counts.get("different"))
        print(
            f"kill -9 against {len(cs.PORTALS)} replica portals ({len(want)} reports, {work:.1f} s of work per full crawl)"
        )
        print(
            f"  {counts.get('runs', kills)} runs, {counts.get('killed', '?')} killed mid-work, "
            f"{counts.get('sequences', '?')} archives resumed to the end"
        )
        print(f"  after every kill: integrity_check, foreign keys, stored files, no duplicate, nothing lost: {verdict}")
        print(
            f"  archives that ended without every report of an uninterrupted crawl: {counts.get('incomplete', '?')}"
            + (f" (missing {missing})" if missing else "")
        )
        print(f"  {time.monotonic() - started:.0f} s")
        return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isolated", action="store_true", help="one crawl and one archive per scenario")
    ap.add_argument("--kills", type=int, default=0, help="also run the kill -9 loop this many times")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    status = fault_table(args.isolated)
    if args.kills:
        print()
        status |= kill_loop(args.kills, args.seed)
    return status


if __name__ == "__main__":
    sys.exit(main())
