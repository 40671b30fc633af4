"""Consistency checks over 1M synthetic reports, streamed in chunks through the identity matrix.

    .venv/bin/python bench/check.py [--reports 1000000] [--chunk 50000] [--error-rate 0.01]

Each chunk is generated consistent (every template identity holds), then a known set of
reports gets one covered cell nudged and another set loses a table row; the checks must flag
exactly the nudged reports and mark the truncated ones not assessable. Prints seconds spent
checking (generation excluded), reports/s, peak traced memory and peak RSS, and, for scale,
the per-report Python engine on a sample.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from crawler import template as tpl
from crawler.rules import table_findings
from crawler.rules.identities import covered_cells
from crawler.rules.matrix import FAIL, NOT_ASSESSABLE, compile_template, statuses

PERSON = [c for c, _ in tpl.APPLICANT_COLUMNS if c != "total"]


def synth(template: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, keys) values where every identity of the template holds."""
    compiled = compile_template(template)
    col = {k: i for i, k in enumerate(compiled.keys)}
    v = np.zeros((n, len(compiled.keys)))
    v[:, [col[k] for k in compiled.keys if k.startswith("active.")]] = rng.integers(0, 500, (n, 1))

    def row(name: str, values: np.ndarray) -> None:
        for j, c in enumerate(PERSON):
            v[:, col[f"applications.{name}.{c}"]] = values[:, j]
        v[:, col[f"applications.{name}.total"]] = values.sum(axis=1)

    handled = np.zeros((n, len(PERSON)))
    for name in tpl.result_rows(template):
        part = rng.poisson(2.0, (n, len(PERSON)))
        row(name, part)
        handled += part
    row("handled_total", handled)
    carry_forward = rng.poisson(1.0, (n, len(PERSON)))
    carried_over = np.floor(rng.random((n, len(PERSON))) * (handled + carry_forward + 1)).clip(
        max=handled + carry_forward
    )
    row("carry_forward", carry_forward)
    row("carried_over", carried_over)
    row("new", handled + carry_forward - carried_over)
    for group, _ in tpl.REVIEW_GROUPS:
        parts = rng.poisson(1.5, (n, 4))
        for j, c in enumerate(("upheld", "corrected", "other", "pending")):
            v[:, col[f"{group}.{c}"]] = parts[:, j]
        v[:, col[f"{group}.total"]] = parts.sum(axis=1)
    return v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--error-rate", type=float, default=0.01)
    args = ap.parse_args()

    rng = np.random.default_rng(2024)
    tracemalloc.start()
    check_seconds = gen_seconds = 0.0
    counts = {"reports": 0, "identities": 0, "fail": 0, "not_assessable": 0, "injected": 0, "missed": 0, "false": 0}
    done = 0
    while done < args.reports:
        n = min(args.chunk, args.reports - done)
        template = tpl.TEMPLATES[(done // args.chunk) % 2]  # alternate the two formats
        compiled = compile_template(template)
        t0 = time.perf_counter()
        values = synth(template, n, rng)
        covered = [i for i, k in enumerate(compiled.keys) if k in covered_cells(template)]
        bad = rng.random(n) < args.error_rate
        cells = rng.choice(covered, n)
        values[bad, cells[bad]] += rng.choice([-3, -1, 1, 2, 5], bad.sum())
        missing = np.zeros(values.shape, dtype=bool)
        truncated = (rng.random(n) < args.error_rate) & ~bad
        missing[np.ix_(truncated, [compiled.keys.index("applications.new.total")])] = True
        gen_seconds += time.perf_counter() - t0

        t0 = time.perf_counter()
        status = statuses(compiled, values, missing)
        flagged = (status == FAIL).any(axis=1)
        check_seconds += time.perf_counter() - t0

        counts["reports"] += n
        counts["identities"] += status.size
        counts["fail"] += int((status == FAIL).sum())
        counts["not_assessable"] += int((status == NOT_ASSESSABLE).sum())
        counts["injected"] += int(bad.sum())
        counts["missed"] += int((bad & ~flagged).sum())
        counts["false"] += int((flagged & ~bad).sum())
        assert (status[truncated] == NOT_ASSESSABLE).any(axis=1).all()
        done += n
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # The per-report engine (messages, blanks, Finding objects) on a sample, for scale.
    sample = synth("2021", 2000, rng)
    keys = compile_template("2021").keys
    dicts = [dict(zip(keys, map(int, r), strict=True)) for r in sample]
    t0 = time.perf_counter()
    for d in dicts:
        table_findings("2021", d)
    engine_rate = len(dicts) / (time.perf_counter() - t0)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"reports checked            {counts['reports']:,}  (chunks of {args.chunk:,}, both template formats)")
    print(f"identity evaluations       {counts['identities']:,}")
    print(f"check time                 {check_seconds:.2f} s  ({counts['reports'] / check_seconds:,.0f} reports/s)")
    print(f"synthetic generation       {gen_seconds:.2f} s  (not part of the check time)")
    print(
        f"injected errors            {counts['injected']:,}  missed {counts['missed']}  false alarms {counts['false']}"
    )
    print(f"failing identities         {counts['fail']:,}  not assessable {counts['not_assessable']:,}")
    print(f"peak traced memory         {traced_peak / 2**20:.0f} MiB   peak RSS {rss_mb:.0f} MiB")
    print(
        f"per-report engine (sample) {engine_rate:,.0f} reports/s → {args.reports / engine_rate:,.0f} s for {args.reports:,}"
    )
    print(f"target < 60 s: {'met' if check_seconds < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
