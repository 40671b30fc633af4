"""Latency of every journalist page (issue 12) over HTTP, on the synthetic archive of bench/archive.py.

    .venv/bin/python bench/archive.py --reports 100000 --no-serve      # build the archive once (bench/out/)
    .venv/bin/python bench/newsroom.py                                 # time the pages on it
    .venv/bin/python bench/newsroom.py --reports 20000 --build         # build a smaller one first, then time

Each page is requested once to warm up, then --runs times with varied parameters (years, provinces, agencies,
reports, search terms) from a real `xxgk serve` on 127.0.0.1. Prints p50/p95 of the wall clock, and the server's
CPU time per request beside it (on a shared, busy machine the wall clock also counts waiting for a core), next
to the Datasette canned query each page replaces where there is one. Target: p95 < 300 ms for every page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
import archive as bench_archive  # noqa: E402 - bench/archive.py builds the archive and times requests

from storage.db import sqlite3  # noqa: E402

TARGET_MS = 300


def sample(db: Path, rng: random.Random) -> dict[str, list]:
    """Parameters to vary the requests by, read from the archive itself."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        def column(sql: str) -> list:
            return [r[0] for r in conn.execute(sql)]

        return {
            "years": column("SELECT DISTINCT year FROM deadline_status ORDER BY year"),
            "provinces": column("SELECT DISTINCT province FROM agencies WHERE province IS NOT NULL"),
            "agencies": column("SELECT id FROM agencies ORDER BY random() LIMIT 200"),
            "names": [n[:3] for n in column("SELECT name FROM agencies ORDER BY random() LIMIT 200")],
            "reports": column("SELECT id FROM reports ORDER BY random() LIMIT 200"),
            "failing": column("SELECT id FROM reports WHERE failing_checks > 0 ORDER BY random() LIMIT 200"),
            "changes": [tuple(r) for r in conn.execute(
                "SELECT report_id, version FROM report_versions WHERE version > 1 ORDER BY random() LIMIT 200")],
        }
    finally:
        conn.close()


def cases(s: dict[str, list], rng: random.Random, database: str) -> dict[str, tuple]:
    """label → (make a path, the canned query path it replaces or None)."""
    year = lambda: rng.choice(s["years"][:-1] or s["years"])  # noqa: E731
    province = lambda: rng.choice(s["provinces"])  # noqa: E731
    change = lambda: rng.choice(s["changes"]) if s["changes"] else (rng.choice(s["reports"]), 1)  # noqa: E731
    return {
        "首页 front page": (lambda: "/", None),
        "  … a year and a province": (lambda: f"/?year={year()}&province={province()}", None),
        "逾期或未公开 deadlines": (
            lambda: f"/-/deadlines?year={year()}", lambda: f"/{database}/late_or_missing.json?year={year()}&province="),
        "  … one province": (lambda: f"/-/deadlines?year={year()}&province={province()}", None),
        "数字对不上 inconsistent": (
            lambda: f"/-/inconsistent?year={year()}", lambda: f"/{database}/inconsistent.json?year={year()}&province="),
        "报告 report page": (lambda: f"/-/report/{rng.choice(s['reports'])}", None),
        "  … a failing report": (lambda: f"/-/report/{rng.choice(s['failing'] or s['reports'])}", None),
        "机关 agency by part of a name": (lambda: f"/-/agency?q={rng.choice(s['names'])}", None),
        "机关 agency page": (
            lambda: f"/-/agency?id={rng.choice(s['agencies'])}", None),
        "发布后修改 changes": (lambda: "/-/changes", lambda: f"/{database}/recently_changed.json"),
        "修改对比 one change": (lambda: "/-/changes/{}/{}".format(*change()), None),
        "搜索 search (common word)": (
            lambda: f"/-/search?q={rng.choice(bench_archive.SEARCHES)}",
            lambda: f"/{database}/search.json?q={rng.choice(bench_archive.SEARCHES)}"),
        "  … with year and province": (
            lambda: f"/-/search?q={rng.choice(bench_archive.SEARCHES)}&year={year()}&province={province()}", None),
        "图表 charts": (lambda: f"/-/charts?year={year()}", None),
        "Atom 逾期 late feed": (lambda: "/-/feeds/late.atom", None),
        "Atom per province": (lambda: f"/-/feeds/late.atom?province={province()}", None),
        "Atom 数据不一致 inconsistent": (lambda: "/-/feeds/inconsistent.atom", None),
        "Atom 修改 changed": (lambda: "/-/feeds/changed.atom", None),
        "CSV deadlines, one year": (lambda: f"/-/csv/deadlines.csv?year={year()}", None),
        "CSV reports, a year and a province": (
            lambda: f"/-/csv/reports.csv?year={year()}&province={province()}", None),
    }


def measure(db: Path, runs: int, seed: int) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    s = sample(db, rng)
    port = bench_archive.free_port()
    xxgk = Path(sys.executable).with_name("xxgk")
    server = subprocess.Popen(
        [str(xxgk), "serve", "--db", str(db), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    over: list[tuple[str, float]] = []
    try:
        for _ in range(300):
            try:
                bench_archive.timed_get(f"{base}/-/versions.json")
                break
            except OSError:
                time.sleep(0.2)
        process = psutil.Process(server.pid)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        reports = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT count(*) FROM reports").fetchone()[0]
        print(f"journalist pages over HTTP on {db.name} ({reports:,} reports), {runs} requests each after one warm-up; "
              f"load average {load} on {os.cpu_count()} cores")
        print(f"  {'page':<36}{'p50 ms':>8}{'p95 ms':>8}{'CPU p50/p95':>14}   {'canned query it replaces p50/p95':>34}")

        def timed(make) -> tuple[list[float], list[float]]:
            url = lambda: base + urllib.parse.quote(make(), safe="/?=&.%")  # noqa: E731
            bench_archive.timed_get(url())
            got = [bench_archive.timed_get(url(), process) for _ in range(runs)]
            return [w * 1000 for w, _ in got], [c * 1000 for _, c in got]

        def p95(values: list[float]) -> float:
            return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]

        for label, (make, canned) in cases(s, rng, db.stem).items():
            wall, cpu = timed(make)
            before = ""
            if canned:
                old, _ = timed(canned)
                before = f"{statistics.median(old):.0f} / {p95(old):.0f}"
            flag = "" if p95(wall) < TARGET_MS else f"  ← over {TARGET_MS} ms"
            if flag:
                over.append((label, p95(wall)))
            print(f"  {label:<36}{statistics.median(wall):>8.1f}{p95(wall):>8.1f}"
                  f"{f'{statistics.median(cpu):.0f} / {p95(cpu):.0f}':>14}   {before:>34}{flag}")
    finally:
        server.terminate()
        server.wait(timeout=20)
    return over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000, help="the archive of bench/archive.py to use")
    parser.add_argument("--db", type=Path, help="default bench/out/archive-<reports>.db")
    parser.add_argument("--build", action="store_true", help="build the archive first (bench/archive.py's build)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    db = args.db or Path(__file__).parent / "out" / f"archive-{args.reports}.db"
    if args.build:
        if db.exists():
            sys.exit(f"{db} exists: drop --build to measure it")
        bench_archive.compare(db, args.reports, min(5_000, args.reports), 200, args.seed)
    elif not db.exists():
        sys.exit(f"no archive at {db}: build it with bench/archive.py --reports {args.reports} --no-serve, or --build")
    over = measure(db, args.runs, args.seed)
    print("every page under 300 ms at p95" if not over else f"{len(over)} page(s) over {TARGET_MS} ms at p95")


if __name__ == "__main__":
    main()
