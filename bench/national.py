"""The national replay: 3,000 portals, 100,000 reports, one machine; then the same with 2 scrapy-redis workers.

    nice .venv/bin/python bench/national.py                            # 3,000 portals × 100,000 reports
    .venv/bin/python bench/national.py --portals 100 --reports 3000    # a quick look
    .venv/bin/python bench/national.py --no-distributed                # one process only

A server process replays the national world (crawler/replica/national.py: TRS, Hanweb, generic, Fujian and
JSON-API portals, a few JavaScript listings, one per loopback address 127.10.x.y; departments listed in their
government's column; mostly HTML and PDF reports, some DOCX, a few zips and DOCs). Stages, each measured:

1. first crawl into a fresh archive;  2. re-crawl with nothing new;  3. spring: 15% of the agencies publish
their next report, crawl;  4. `xxgk check` over the result.

The same three crawls then run distributed (`xxgk crawl --redis … --writer` and 2 workers on this machine,
redis-server started here) into a second archive, printed side by side with the ratio. Printed per stage: wall
and CPU seconds, pages/s, documents/s, reports archived against the replica's count, the peak RSS of every
process (by role: the largest of each) and the peak of all together (in PSS: a forked parse child and
Chromium's processes share most of their pages, which RSS would count again for each), archive size, and where the CPU went: download and spiders (the crawl
processes), parse (the sandboxed parse children), write (the archive processes and the writer). Last, the
real-world projection of the first crawl: requests per portal × the politeness delay configured in
crawler/settings.py, over XXGK_PARALLEL_PORTALS portals at a time. Politeness is off for the replay (our own
server); robots.txt is still fetched and obeyed. Every stage is bounded (--stage-timeout) and the run stops by
itself.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NATIONAL = 3000  # portals of a national crawl, for the projection
SPRING_TODAY = "2026-04-30"  # the check runs after the spring deadlines (departments Jan 31, governments Mar 31)
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "ERROR", "XXGK_PROGRESS_SECONDS": 60}


# --- the server process ---------------------------------------------------------------------------------------------
def serve(portals: int, reports: int, directory: Path) -> None:
    """Serve the national world; stdin: `epoch N` → `ok N`, `requests` → the count; EOF ends it."""
    import resource as res

    from crawler.replica.national import NationalServer, NationalWorld

    soft, hard = res.getrlimit(res.RLIMIT_NOFILE)
    res.setrlimit(res.RLIMIT_NOFILE, (hard, hard))  # a listening socket per portal, plus the connections
    national = NationalWorld(portals, reports)
    with NationalServer(national) as server:
        server.registry_path(directory)
        print(f"ready {national.expected(1)} {national.expected(2)}", flush=True)
        for line in sys.stdin:
            word, _, arg = line.strip().partition(" ")
            if word == "epoch":
                server.set_epoch(int(arg))
                print(f"ok {arg}", flush=True)
            elif word == "requests":
                print(server.requests, flush=True)


# --- measuring a stage ------------------------------------------------------------------------------------------
ROLES = ("crawl", "worker", "writer", "archive", "parse", "check", "redis", "browser", "other")


def role_of(proc, roles: dict[int, str]) -> str:
    try:
        cmd = " ".join(proc.cmdline())
        parent = proc.ppid()
    except Exception:
        return "other"
    if "soffice" in cmd or "libreoffice" in cmd:
        return "parse"  # LibreOffice, started by a parse of a DOC
    if "redis-server" in cmd:
        return "redis"
    if "chrom" in cmd or "playwright" in cmd or "node" in proc.name():
        return "browser"
    if "crawler.cli check" in cmd:
        return "check"
    if "crawler.cli crawl" in cmd:
        return "writer" if "--writer" in cmd else ("worker" if "--redis" in cmd else "crawl")
    if "multiprocessing" in cmd:
        # a spawned archive process; a child forked from one is a sandboxed parse
        return "parse" if roles.get(parent) == "archive" else "archive"
    return "other"


@dataclass
class Usage:
    """What the processes of one stage used: CPU by role (own, and that of their reaped children), peak RSS."""

    wall: float = 0.0
    cpu: float = 0.0  # everything the stage's processes used (getrusage of the reaped children)
    own: dict[str, float] = field(default_factory=dict)  # role → CPU of its processes
    reaped: dict[str, float] = field(default_factory=dict)  # role → CPU of their children (parse children)
    peak: dict[str, tuple[int, int]] = field(default_factory=dict)  # role → (largest RSS of one, processes)
    peak_total: int = 0  # all processes together at one moment, in PSS (shared pages counted once)
    at_peak: dict[str, tuple[int, int]] = field(default_factory=dict)  # role → (PSS, processes) at that moment


class Sampler(threading.Thread):
    """Samples every descendant of this process (the replica server excepted) every 0.3 s."""

    def __init__(self, skip: set[int]):
        super().__init__(daemon=True)
        self.skip = skip
        self.stopped = threading.Event()
        self.last: dict[int, tuple[str, float, float]] = {}
        self.peak: dict[int, tuple[str, int]] = {}
        self.roles: dict[int, str] = {}
        self.total = 0
        self.at_peak: dict[str, tuple[int, int]] = {}

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stopped.is_set():
            total = 0
            now: dict[str, tuple[int, int]] = {}
            for proc in me.children(recursive=True):
                if proc.pid in self.skip:
                    continue
                try:
                    # "other" is asked again: a process seen between its fork and its exec still shows the
                    # command line of its parent (this script).
                    role = self.roles.get(proc.pid) or role_of(proc, self.roles)
                    if role != "other":
                        self.roles[proc.pid] = role
                    t = proc.cpu_times()
                    memory = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss = memory.rss
                self.last[proc.pid] = (role, t.user + t.system, t.children_user + t.children_system)
                total += memory.pss  # shared pages once: a forked parse, Chromium's processes
                pss, n = now.get(role, (0, 0))
                now[role] = (pss + memory.pss, n + 1)
                self.peak[proc.pid] = (role, max(rss, self.peak.get(proc.pid, ("", 0))[1]))
            if total > self.total:
                self.total, self.at_peak = total, now
            self.stopped.wait(0.3)

    def usage(self) -> Usage:
        u = Usage(peak_total=self.total, at_peak=self.at_peak)
        for role, own, reaped in self.last.values():
            u.own[role] = u.own.get(role, 0.0) + own
            u.reaped[role] = u.reaped.get(role, 0.0) + reaped
        for role, rss in self.peak.values():
            largest, n = u.peak.get(role, (0, 0))
            u.peak[role] = (max(largest, rss), n + 1)
        return u


def measured(commands: list[list[str]], skip: set[int], timeout: float, stagger: float = 0.0):
    """Run `commands` at once (the first `stagger` seconds ahead of the others); their results and Usage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = Sampler(skip)
    sampler.start()
    started = time.monotonic()
    procs = []
    outs = []
    for i, cmd in enumerate(commands):
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        outs.append((out, err))
        procs.append(subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT))
        if i == 0 and stagger:
            time.sleep(stagger)
    results = []
    try:
        for proc in procs:
            proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
            proc.wait()
    wall = time.monotonic() - started
    sampler.stopped.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for proc, (out, err) in zip(procs, outs, strict=True):
        out.seek(0)
        err.seek(0)
        results.append((proc.returncode, out.read().decode(), err.read().decode()))
    usage = sampler.usage()
    usage.wall = wall
    usage.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return results, usage


# --- the run --------------------------------------------------------------------------------------------------------
@dataclass
class Stage:
    name: str
    usage: Usage
    pages: int = 0
    documents: int = 0
    requests: int = 0
    reports: int = 0  # new or changed in this stage
    archived: int = 0  # in the archive after it
    expected: int = 0
    size: int = 0
    failed: str | None = None


def archive_figures(db: Path, registry: Path) -> tuple[int, int]:
    """(reports in the archive, bytes of database + originals)."""
    from crawler.registry import load_registry
    from storage import Archive, store_dir_for

    with Archive(db) as archive:
        count = sum(archive.reports.count_for_portal(p.id) for p in load_registry(str(registry)).portals)
    size = sum(f.stat().st_size for f in db.parent.glob(db.name + "*") if f.is_file())
    size += sum(f.stat().st_size for f in store_dir_for(db).rglob("*") if f.is_file())
    return count, size


def crawl_stage(name: str, commands: list[list[str]], skip, timeout, db, registry, expected, stagger=0.0) -> Stage:
    results, usage = measured(commands, skip, timeout, stagger)
    stage = Stage(name, usage, expected=expected)
    code, out, err = results[0]  # the crawl, or the writer: its summary has every portal
    if code not in (0, 1) or not out.strip():
        stage.failed = f"exit {code}: {err.strip()[-800:]}"
        return stage
    for c, _, e in results[1:]:
        if c not in (0, 1):
            stage.failed = f"a worker exited {c}: {e.strip()[-800:]}"
    summary = json.loads(out)
    for p in summary["portals"]:
        stage.pages += p["pages"]
        stage.documents += p["documents_downloaded"]
        stage.reports += p["reports_new"] + p["reports_changed"]
        # robots.txt, list pages, report pages and attachments (pages that only link one are stored documents)
        stage.requests += 1 + p["pages"] + p["documents_downloaded"] + p["documents_stored"] + p["not_modified"]
    stage.archived, stage.size = archive_figures(db, registry)
    return stage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portals", type=int, default=3000)
    ap.add_argument("--reports", type=int, default=100_000, help="reports in the first crawl, over all portals")
    ap.add_argument("--parallel", type=int, default=16, help="portals crawled at once (XXGK_PARALLEL_PORTALS)")
    ap.add_argument("--workers", type=int, default=2, help="scrapy-redis workers of the distributed run")
    ap.add_argument("--no-distributed", action="store_true", help="skip the scrapy-redis run")
    ap.add_argument("--stage-timeout", type=float, default=4 * 3600, help="seconds before a stage is killed")
    ap.add_argument("--out", help="keep the archives in this directory (default: a temporary one, removed)")
    ap.add_argument("--serve", metavar="DIR", help=argparse.SUPPRESS)  # the server process: its registry goes in DIR
    args = ap.parse_args()
    if args.serve:
        serve(args.portals, args.reports, Path(args.serve))
        return 0
    if not args.no_distributed and shutil.which("redis-server") is None:
        print("bench/national.py: redis-server is not installed (scripts/setup); use --no-distributed", file=sys.stderr)
        return 2
    tmp = Path(args.out or tempfile.mkdtemp(prefix="xxgk-bench-national-"))
    tmp.mkdir(parents=True, exist_ok=True)
    registry = tmp / "registry.yaml"
    started = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(tmp), "--portals", str(args.portals), "--reports", str(args.reports)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    redis = None
    try:
        ready = server.stdout.readline().split()
        if not ready or ready[0] != "ready":
            print("bench/national.py: the replica server did not start", file=sys.stderr)
            return 1
        expected = {1: int(ready[1]), 2: int(ready[2])}
        print(
            f"bench/national.py: {args.portals} portals × {args.reports} reports on 127.10.x.y "
            f"(server ready in {time.monotonic() - started:.0f} s), {args.parallel} portals at a time"
        )

        def epoch(n: int) -> None:
            server.stdin.write(f"epoch {n}\n")
            server.stdin.flush()
            assert server.stdout.readline().strip() == f"ok {n}"

        settings = {**FAST, "XXGK_PARALLEL_PORTALS": args.parallel}
        sets = [x for k, v in settings.items() for x in ("-s", f"{k}={v}")]
        skip = {server.pid}

        def crawl_cmd(db: Path, *extra: str) -> list[str]:
            return [
                sys.executable,
                "-m",
                "crawler.cli",
                "crawl",
                "--db",
                str(db),
                "--registry",
                str(registry),
                "-q",
                "--json",
                *sets,
                *extra,
            ]

        net = ("--allow-network", "127.10.0.0/16")
        db = tmp / "local" / "xxgk.db"
        db.parent.mkdir(exist_ok=True)
        local: list[Stage] = []
        print(f"\none process:\n{HEAD}", flush=True)
        for name, n in (("first crawl", 1), ("re-crawl", 1), ("spring crawl", 2)):
            epoch(n)
            local.append(crawl_stage(name, [crawl_cmd(db, *net)], skip, args.stage_timeout, db, registry, expected[n]))
            shown(local[-1])
        check_cmd = [
            sys.executable,
            "-m",
            "crawler.cli",
            "check",
            "--db",
            str(db),
            "--registry",
            str(registry),
            "--no-screenshots",
            "--today",
            SPRING_TODAY,
        ]
        results, usage = measured([check_cmd], skip, args.stage_timeout)
        check = Stage("xxgk check", usage, archived=local[-1].archived, expected=expected[2], size=local[-1].size)
        if results[0][0] not in (0, 1):
            check.failed = f"exit {results[0][0]}: {results[0][2].strip()[-800:]}"
        local.append(check)
        shown(check)

        distributed: list[Stage] = []
        if not args.no_distributed:
            port = free_port()
            redis = subprocess.Popen(
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--dir",
                    str(tmp),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
            skip.add(redis.pid)
            url = f"redis://127.0.0.1:{port}/0"
            ddb = tmp / "distributed" / "xxgk.db"
            ddb.parent.mkdir(exist_ok=True)
            time.sleep(0.5)
            print(f"\n{args.workers} scrapy-redis workers + 1 writer:\n{HEAD}", flush=True)
            for name, n in (("first crawl", 1), ("re-crawl", 1), ("spring crawl", 2)):
                epoch(n)
                commands = [crawl_cmd(ddb, "--redis", url, "--writer")]
                commands += [crawl_cmd(ddb, "--redis", url, *net) for _ in range(args.workers)]
                stage = crawl_stage(name, commands, skip, args.stage_timeout, ddb, registry, expected[n], stagger=2.0)
                distributed.append(stage)
                shown(stage)
        server.stdin.write("requests\n")
        server.stdin.flush()
        served = int(server.stdout.readline())
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
        server.stdin.close()
        server.terminate()
        server.wait()
    report(local, distributed, args, served)
    if not args.out:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = all(s.failed is None and s.archived == s.expected for s in local + distributed)
    return 0 if ok else 1


# --- what it prints -------------------------------------------------------------------------------------------
def mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def line(s: Stage) -> str:
    u = s.usage
    rate = lambda n: f"{n / u.wall:7.1f}" if u.wall else "      -"  # noqa: E731
    return (
        f"  {s.name:<13} {u.wall:8.1f} {u.cpu:8.1f} {s.pages:7d} {rate(s.pages)} {s.documents:7d} {rate(s.documents)} "
        f"{s.reports:7d} {s.archived:8d}/{s.expected:<8d} {mb(u.peak_total):>8} {mb(s.size):>8}"
        + (f"  FAILED {s.failed}" if s.failed else "")
        + ("  COUNT DIFFERS" if not s.failed and s.archived != s.expected else "")
    )


HEAD = (
    f"  {'stage':<13} {'wall s':>8} {'CPU s':>8} {'pages':>7} {'/s':>7} {'docs':>7} {'/s':>7} {'reports':>7} "
    f"{'archived/expected':>17} {'peak PSS':>8} {'archive':>8}"
)


def shown(s: Stage) -> None:
    """A stage's lines, as soon as it is done (a long run shows its figures as it goes)."""
    print(line(s))
    print(where(s), flush=True)


def where(s: Stage) -> str:
    u = s.usage
    crawl = u.own.get("crawl", 0) + u.own.get("worker", 0)
    # the sandboxed parse children (and LibreOffice), reaped by the archive processes
    parse = u.reaped.get("archive", 0)
    write = u.own.get("archive", 0) + u.own.get("writer", 0)
    other = u.own.get("browser", 0) + u.own.get("redis", 0) + u.own.get("check", 0)
    roles = ", ".join(f"{r} {mb(rss)}" + (f" ×{n}" if n > 1 else "") for r, (rss, n) in sorted(u.peak.items()))
    peak = ", ".join(f"{r} {mb(pss)}" + (f" ×{n}" if n > 1 else "") for r, (pss, n) in sorted(u.at_peak.items()))
    return (
        f"    CPU: download+spiders {crawl:.1f} s, parse {parse:.1f} s, write {write:.1f} s"
        + (f", other {other:.1f} s" if other else "")
        + f"; peak RSS by role (largest process ×processes seen): {roles}"
        + f"\n    at the peak moment, PSS by role (×processes then): {peak}"
    )


def report(local: list[Stage], distributed: list[Stage], args, served: int) -> None:
    from crawler import settings as defaults

    first = local[0]
    if first.usage.wall:
        ratio = local[1].usage.wall / first.usage.wall
        print(f"\nre-crawl cost: {100 * ratio:.1f}% of the first crawl (target < 5%)")
    if distributed:
        print("\nside by side (wall seconds, one process : distributed, ratio):")
        for a, b in zip(local, distributed, strict=False):
            r = a.usage.wall / b.usage.wall if b.usage.wall else float("nan")
            print(f"  {a.name:<13} {a.usage.wall:8.1f} : {b.usage.wall:8.1f}   ×{r:.2f}")
    per_portal = first.requests / max(1, args.portals)
    delay = max(defaults.DOWNLOAD_DELAY, defaults.AUTOTHROTTLE_START_DELAY if defaults.AUTOTHROTTLE_ENABLED else 0)
    print(
        f"\npoliteness projection of the first crawl: {first.requests} requests, {per_portal:.0f} per portal, "
        f"× {delay:.1f} s (DOWNLOAD_DELAY {defaults.DOWNLOAD_DELAY}, AUTOTHROTTLE_START_DELAY "
        f"{defaults.AUTOTHROTTLE_START_DELAY}) = {per_portal * delay / 60:.1f} min per portal; for these "
        f"{args.portals} portals and for {NATIONAL} at {per_portal:.0f} requests each:"
    )
    for parallel in sorted({defaults.XXGK_PARALLEL_PORTALS, 64, 256}):
        here = first.requests * delay / parallel / 3600
        national = NATIONAL * per_portal * delay / parallel / 3600
        print(f"  {parallel:>4} portals at a time (XXGK_PARALLEL_PORTALS): {here:7.2f} h   {national:7.2f} h")
    print(f"replica server answered {served} requests")


if __name__ == "__main__":
    sys.exit(main())
