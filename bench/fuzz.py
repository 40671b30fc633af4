"""Fuzz every reader with mutated real documents, in watched worker processes under a 1 GB address-space limit.

    .venv/bin/python bench/fuzz.py                 # 10,000 documents, 2 workers, then the memory bombs
    .venv/bin/python bench/fuzz.py --count 500 --doc-share 0

Prints documents tried, crashes (any exception other than ParseError, a worker that died, or an input past
the per-input kill limit), the inputs over 10 s (wall and CPU) and the slowest input. Each crashing input is
saved under bench/out/fuzz/ with its traceback, so it can be replayed with `xxgk parse`.
The inputs are deterministic: input i is mutation seed (--seed, i) applied to a corpus document, so a crash is
reproducible from its number alone.

Then the memory bombs of tests/support/hostile.py (the issue's three first), each parsed in a
fresh interpreter under the same address-space limit: the reason, the seconds and the peak RSS of each, which
must be `too_large`, under 2 s and under 300 MB. Exit status 1 when anything above fails.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import hostile  # noqa: E402

OUT = ROOT / "bench" / "out" / "fuzz"
CORPUS: list[tuple[str, str, bytes]] = []
BOMB_SECONDS, BOMB_RSS_MB = 2.0, 300


def make_input(i: int, seed: int, doc_share: float) -> tuple[str, str, bytes]:
    """Input number i: a corpus document (a .doc with probability doc_share), mutated 1-3 times."""
    rng = random.Random(seed * 1_000_003 + i)
    docs = [c for c in CORPUS if c[1] == "doc"]
    others = [c for c in CORPUS if c[1] != "doc"]
    name, fmt, data = rng.choice(docs) if docs and rng.random() < doc_share else rng.choice(others)
    donor = rng.choice(CORPUS)[2]
    return name, fmt, hostile.mutate(data, fmt, rng, donor, rng.randint(1, 3))


def worker(conn: Connection, seed: int, doc_share: float, memory_limit: int) -> None:
    """Parse the inputs the parent sends, one at a time; answer (i, outcome, seconds, detail)."""
    os.setpgrp()  # soffice children share our group, so the watchdog can end them with us
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from crawler.model import ParseError

    while True:
        try:
            i = conn.recv()
        except EOFError:  # the parent is gone
            return
        if i is None:
            return
        name, fmt, data = make_input(i, seed, doc_share)
        start, cpu = time.perf_counter(), _cpu()
        try:
            hostile.parse_both_ways(data, fmt)
            outcome, detail = "ok", ""
        except ParseError as e:  # parse_both_ways swallows these; here only for completeness
            outcome, detail = "ok", e.reason
        except BaseException as e:  # noqa: BLE001 - a crash is what we are looking for
            kind = f"{type(e).__module__}.{type(e).__qualname__}"
            outcome, detail = "crash", f"{kind}: {e}\n{traceback.format_exc()[-4000:]}"
        conn.send((i, outcome, time.perf_counter() - start, _cpu() - cpu, f"{name} [{fmt}]", detail))


def _cpu() -> float:
    """CPU seconds of this worker and of the processes it waited for (LibreOffice): unlike wall time, not
    inflated when other jobs share the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Pool:
    """Workers with a watchdog: a worker silent past `limit` seconds is killed with its process group."""

    def __init__(self, n: int, seed: int, doc_share: float, limit: float, memory_limit: int):
        self.args = (seed, doc_share, memory_limit)
        self.limit = limit
        self.ctx = mp.get_context("fork")
        self.slots = [self._spawn() for _ in range(n)]

    def _spawn(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=worker, args=(child, *self.args), daemon=True)
        proc.start()
        return {"proc": proc, "conn": parent, "task": None, "since": 0.0}

    def run(self, indices, on_result, deadline: float = float("inf")) -> None:
        """Parse every index (or stop handing out new ones at `deadline`, a perf_counter time)."""
        pending = list(indices)[::-1]
        while pending or any(s["task"] is not None for s in self.slots):
            if time.perf_counter() > deadline:
                pending.clear()
            for slot in self.slots:
                if slot["task"] is None and pending:
                    slot["task"], slot["since"] = pending.pop(), time.perf_counter()
                    slot["conn"].send(slot["task"])
            ready = mp.connection.wait([s["conn"] for s in self.slots if s["task"] is not None], timeout=0.5)
            for k, slot in enumerate(self.slots):
                if slot["task"] is None:
                    continue
                if slot["conn"] in ready:
                    try:
                        on_result(slot["conn"].recv())
                        slot["task"] = None
                        continue
                    except EOFError:  # the worker died mid-input (a segfault, the memory limit)
                        detail = f"worker died (exit {slot['proc'].exitcode})"
                elif time.perf_counter() - slot["since"] > self.limit:
                    detail = f"no answer within {self.limit:g} s"
                else:
                    continue
                on_result((slot["task"], "crash", time.perf_counter() - slot["since"], 0.0, "?", detail))
                self._kill(slot)
                self.slots[k] = self._spawn()

    def _kill(self, slot) -> None:
        try:
            os.killpg(slot["proc"].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        slot["proc"].join(5)

    def close(self) -> None:
        for slot in self.slots:
            try:
                slot["conn"].send(None)
            except OSError:
                pass
            slot["proc"].join(5)
            if slot["proc"].is_alive():
                self._kill(slot)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=float, default=30.0, help="seconds before an input counts as a hang")
    ap.add_argument("--slow", type=float, default=10.0, help="an input taking longer than this is counted as slow")
    ap.add_argument("--doc-share", type=float, default=0.01, help="share of inputs mutated from a .doc (LibreOffice)")
    ap.add_argument("--max-seconds", type=float, default=float("inf"), help="stop handing out inputs after this")
    ap.add_argument("--memory", type=int, default=1 << 30, help="address-space limit per worker, bytes (0: none)")
    ap.add_argument("--no-bombs", action="store_true", help="skip the memory bombs after the fuzzing")
    ap.add_argument(
        "--soffice-timeout",
        type=float,
        default=10.0,
        help="XXGK_SOFFICE_TIMEOUT for the workers: LibreOffice is killed after this many seconds (reason timeout)",
    )
    args = ap.parse_args()
    os.environ["XXGK_SOFFICE_TIMEOUT"] = str(args.soffice_timeout)

    CORPUS.extend(hostile.fuzz_corpus(with_doc=args.doc_share > 0))
    formats = Counter(fmt for _, fmt, _ in CORPUS)
    print(f"corpus: {len(CORPUS)} documents ({', '.join(f'{k} {v}' for k, v in sorted(formats.items()))})")
    OUT.mkdir(parents=True, exist_ok=True)

    tried, crashes = 0, []
    slow_wall, slow_cpu = [], []
    by_format: Counter = Counter()
    slowest = (0.0, -1, "")
    slowest_cpu = (0.0, -1, "")
    started = time.perf_counter()

    def on_result(result) -> None:
        nonlocal tried, slowest, slowest_cpu
        i, outcome, seconds, cpu, what, detail = result
        tried += 1
        by_format[what.rsplit("[", 1)[-1].rstrip("]")] += 1
        if seconds > slowest[0]:
            slowest = (seconds, i, what)
        if cpu > slowest_cpu[0]:
            slowest_cpu = (cpu, i, what)
        if seconds > args.slow:
            slow_wall.append(i)
        if cpu > args.slow:
            slow_cpu.append(i)
        if outcome == "crash":
            crashes.append((i, what, detail))
            _, fmt, data = make_input(i, args.seed, args.doc_share)
            (OUT / f"crash-{args.seed}-{i}.{fmt}").write_bytes(data)
            (OUT / f"crash-{args.seed}-{i}.txt").write_text(f"{what}\n{detail}\n")
            print(f"  crash on input {i} ({what}): {detail.splitlines()[0] if detail else ''}", flush=True)
        if tried % 1000 == 0:
            print(f"  {tried} tried, {len(crashes)} crashes, {time.perf_counter() - started:.0f} s", flush=True)

    pool = Pool(args.workers, args.seed, args.doc_share, args.limit, args.memory)
    try:
        pool.run(range(args.count), on_result, started + args.max_seconds)
    finally:
        pool.close()

    elapsed = time.perf_counter() - started
    print()
    print(f"documents tried   {tried}")
    print(f"  by format       {', '.join(f'{k} {v}' for k, v in sorted(by_format.items()))}")
    print(f"crashes           {len(crashes)}")
    print(
        f"over {args.slow:g} s         {len(slow_wall)} wall, {len(slow_cpu)} CPU {sorted(set(slow_wall + slow_cpu))[:10]}"
    )
    print(f"slowest input     {slowest[0]:.2f} s wall (input {slowest[1]}, {slowest[2]})")
    print(f"                  {slowest_cpu[0]:.2f} s CPU (input {slowest_cpu[1]}, {slowest_cpu[2]})")
    print(f"LibreOffice limit {args.soffice_timeout:g} s (XXGK_SOFFICE_TIMEOUT); load average {os.getloadavg()[0]:.1f}")
    print(f"wall time         {elapsed:.0f} s ({tried / elapsed:.1f} documents/s, {args.workers} workers)")
    kinds = Counter(d.splitlines()[0].split(":")[0] for _, _, d in crashes)
    for kind, n in kinds.most_common():
        print(f"  {n:5d} × {kind}")
    bombs_ok = True if args.no_bombs else run_bombs(args.memory)
    return 1 if crashes or slow_cpu or not bombs_ok else 0


def run_bombs(memory_limit: int) -> bool:
    """Each bomb in a fresh interpreter under `memory_limit`: refused as too_large, quickly, in little memory."""
    print()
    print(
        f"memory bombs (address space {memory_limit >> 20} MB; must be too_large, < {BOMB_SECONDS:g} s, < {BOMB_RSS_MB} MB)"
    )
    ok = True
    for bomb in hostile.MEMORY_BOMBS:
        data = bomb.make()
        r = hostile.parse_isolated(data, timeout=60, memory_limit=memory_limit)
        seconds, rss = r.get("seconds", float("inf")), r.get("maxrss_mb", float("inf"))
        good = r.get("reason") == "too_large" and seconds < BOMB_SECONDS and rss < BOMB_RSS_MB
        ok &= good
        answer = r.get("reason") or r["outcome"]
        print(
            f"  {bomb.name:<52} {len(data) / 1024:8.0f} KB  {answer:<10} {seconds:5.2f} s  {rss:5.0f} MB  "
            f"{'ok' if good else 'FAILED: ' + r.get('message', '')[:80]}"
        )
    return ok


if __name__ == "__main__":
    sys.exit(main())
