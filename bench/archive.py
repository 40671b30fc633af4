"""A synthetic archive at scale: the write path's insert rate, then the latency journalists would feel in Datasette.

    .venv/bin/python bench/archive.py                      # 100k reports × ~200 cells
    .venv/bin/python bench/archive.py --reports 5000       # minutes: both write paths on 5,000 reports
    .venv/bin/python bench/archive.py --reports 1000000    # the 1M option
    .venv/bin/python bench/archive.py --reuse              # skip the build, measure an existing archive

First the write path, side by side on the same synthetic reports (the first --compare, 5,000 by default, each
into an empty archive): the previous way (crawler.ingest.ingest_parsed, one transaction and one flushed
original per report, as `xxgk import` still writes) and group commit (archive.batch(): --batch reports per
transaction, by default as many as the crawl's archive workers put in one, their originals flushed once).
Both go through the real write path: document store, cells, full text, search index, findings. The
group-commit archive goes on to --reports, with deadline decisions and edited versions; then `xxgk serve`
starts and each canned query and search is timed through Datasette's JSON API over HTTP on 127.0.0.1.
Prints insert rates (wall clock and CPU per report), file sizes and p50/p95, with the server's CPU time per
request beside the wall clock (on a shared, busy machine the two differ). Targets: group commit >= 500
reports/s and >= 8x the previous way; p95 < 200 ms at 100k reports.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import queue
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from crawler import template as tpl
from crawler.crawl.writer import BATCH_DOCUMENTS, lane_of, report_key
from crawler.ingest import ingest_parsed, report_write
from crawler.model import CellValue, Finding, IncomingDocument, ParsedReport
from crawler.registry import Agency, Portal, Registry
from crawler.settings import XXGK_ARCHIVE_WORKERS
from storage import Archive, store_dir_for

YEARS = range(2019, 2026)
PROVINCES = (
    "北京市 天津市 河北省 山西省 内蒙古自治区 辽宁省 吉林省 黑龙江省 上海市 江苏省 浙江省 安徽省 福建省 江西省 山东省 河南省 "
    "湖北省 湖南省 广东省 广西壮族自治区 海南省 重庆市 四川省 贵州省 云南省 西藏自治区 陕西省 甘肃省 青海省 宁夏回族自治区 新疆维吾尔自治区"
).split()
DEPARTMENTS = (
    "人民政府 教育局 公安局 民政局 司法局 财政局 人力资源和社会保障局 自然资源和规划局 生态环境局 住房和城乡建设局 交通运输局 水利局 "
    "农业农村局 商务局 文化广电旅游局 卫生健康委员会 应急管理局 审计局 市场监督管理局 统计局 医疗保障局 人民防空办公室 信访局 城市管理局"
).split()
STARTUP_SECONDS = 600  # for a writer process to make its share of the reports
SEARCHES = ("复议", "诉讼", "行政复议", "不予公开", "人民防空办公室", "依申请公开 诉讼")


def agencies(n: int, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(name, kind, province, city) for n synthetic agencies."""
    out = []
    for i in range(n):
        province = PROVINCES[i % len(PROVINCES)]
        city = f"{province[:2]}第{(i // len(PROVINCES)) % 40 + 1}市"
        dept = DEPARTMENTS[(i // (len(PROVINCES) * 40)) % len(DEPARTMENTS)]
        suffix = "" if i < len(PROVINCES) * 40 * len(DEPARTMENTS) else f"（{i}）"
        kind = "government" if dept == "人民政府" else "department"
        out.append((f"{city}{dept}{suffix}", kind, province, city))
    rng.shuffle(out)
    return out


def synth_report(
    agency: str, year: int, rng: random.Random, *, inconsistent: bool, edit: int = 0
) -> tuple[ParsedReport, bytes]:
    """A report in the year's template: every cell a number, text in our own wording."""
    template = tpl.expected_template(year)
    cells = {}
    for cell in tpl.cells(template):
        value = rng.randint(-5, 20) if cell.kind == tpl.Kind.CHANGE else rng.randint(0, 60)
        cells[cell.key] = CellValue(cell.key, value, str(value))
    new = cells["applications.new.total"].value
    title = f"{agency}{year}年政府信息公开工作年度报告"
    lines = [
        title,
        "一、总体情况",
        f"{year}年，{agency}依法做好政府信息公开工作，主动公开、依申请公开和监督保障各项工作有序开展。",
        f"全年共收到政府信息公开申请{new}件，均在法定期限内答复；因政府信息公开被申请行政复议"
        f"{cells['review.total'].value}件，被提起行政诉讼{cells['litigation_direct.total'].value}件。",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
    ]
    rows: dict[str, list[str]] = {}
    for cell in tpl.cells(template):
        rows.setdefault(cell.label.split(" / ")[0], []).append(cells[cell.key].raw)
    lines += [f"{label} {' '.join(values)}" for label, values in rows.items()]
    lines += [
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "部分依申请公开答复说理不够充分，下一步将加强业务培训。" + ("（更正）" * edit),
        "六、其他需要报告的事项",
        f"{year + 1}年1月{rng.randint(5, 28)}日",
    ]
    text = "\n".join(lines)
    findings = []
    if inconsistent:
        findings.append(
            Finding(
                "sum.row_total",
                "fail",
                "warning",
                f"新收申请总计{new}与各类申请人之和{new - 1}不一致",
                ["applications.new.total"],
                {"total": new, "sum": new - 1},
            )
        )
    parsed = ParsedReport(agency, year, template, title, None, {}, cells, findings, text, "text")
    return parsed, text.encode()


@dataclass
class Entry:
    """One agency-year of the synthetic archive: its report (None: never published) and its deadline decision."""

    agency: str
    kind: str
    year: int
    deadline: str
    report: tuple[ParsedReport, bytes] | None
    status: str
    days_late: int | None
    edited: bool


def synthetic(n_reports: int, seed: int) -> tuple[list[tuple[str, str, str, str]], Iterator[Entry]]:
    """The agencies, and the entries in write order: the same seed gives the same reports, for both paths."""
    rng = random.Random(seed)
    names = agencies(max(1, round(n_reports / len(YEARS) / 0.97)), rng)

    def entries() -> Iterator[Entry]:
        written = 0
        for name, kind, _, _ in names:
            deadline_day = "01-31" if kind == "department" else "03-31"
            for year in YEARS:
                if written >= n_reports:
                    return
                deadline = f"{year + 1}-{deadline_day}"
                if rng.random() < 0.97:
                    report = synth_report(name, year, rng, inconsistent=rng.random() < 0.05)
                    edited, late = rng.random() < 0.01, rng.random() < 0.15
                    status = "pending" if year == YEARS[-1] else ("late" if late else "on_time")
                    written += 1
                    yield Entry(
                        name, kind, year, deadline, report, status, rng.randint(1, 90) if late else None, edited
                    )
                else:
                    yield Entry(
                        name, kind, year, deadline, None, "missing" if year < YEARS[-1] else "pending", None, False
                    )

    return names, entries()


class OneByOne:
    """The previous way: each report its own transaction and its own flushed original."""

    label = "one transaction + one flushed original per report"

    def __init__(self, archive: Archive):
        self.archive = archive

    def add(self, doc: IncomingDocument, parsed: ParsedReport) -> list:
        return [ingest_parsed(self.archive, doc, parsed)]

    def flush(self) -> list:
        return []


class Grouped:
    """Group commit: `size` reports per transaction, their originals flushed together (storage/batch.py)."""

    def __init__(self, archive: Archive, size: int):
        self.batch, self.size = archive.batch(), size
        self.label = f"group commit, {size} reports per transaction"

    def add(self, doc: IncomingDocument, parsed: ParsedReport) -> list:
        self.batch.add(report_write(doc, parsed))
        return self.flush() if len(self.batch) >= self.size else []

    def flush(self) -> list:
        results = self.batch.commit()
        for r in results:
            if isinstance(r, Exception):
                raise r
        return results


@dataclass
class Rate:
    label: str
    reports: int = 0
    cells: int = 0
    wall: float = 0.0  # seconds in the write calls
    cpu: float = 0.0

    def line(self) -> str:
        return (
            f"{self.label:<52}{self.reports / self.wall:>8,.0f} reports/s  {self.cells / self.wall:>9,.0f} cells/s"
            f"  CPU {self.cpu / self.reports * 1000:.2f} ms/report"
        )


def declare(archive: Archive, names: list[tuple[str, str, str, str]]) -> None:
    """The synthetic agencies, declared as one portal's (what a crawl's registry sync writes first)."""
    agencies = tuple(Agency(name, kind, province, city) for name, kind, province, city in names)
    portal = Portal(
        "bench", "合成门户 / synthetic portal", "generic", "https://gov.example/", ("gov.example",), agencies=agencies
    )
    archive.agencies.sync_registry(Registry((portal,)))


def incoming(entry: Entry, n: int) -> tuple[IncomingDocument, ParsedReport]:
    """The `n`-th synthetic report as the crawl hands it to the archive, and its parse."""
    parsed, data = entry.report
    return IncomingDocument(
        data, url=f"https://gov.example/{n}.txt", agency=entry.agency, year=entry.year, kind=entry.kind
    ), parsed


def build(
    db: Path, n_reports: int, seed: int, writer, *, sample: int | None = None, limit: int | None = None
) -> tuple[Rate, Rate]:
    """Write the synthetic archive of `n_reports` (its first `limit` only) through `writer` (OneByOne or
    Grouped); returns the insert rate over the first `sample` reports and over all written. Deadline
    decisions and edited versions are written too, outside the timing."""
    names, entries = synthetic(n_reports, seed)
    started = time.perf_counter()
    edited: list[tuple[str, int]] = []
    with Archive(db) as archive:
        declare(archive, names)
        write = writer(archive)
        total = Rate(write.label)
        first = None  # the rate once `sample` reports are written
        waiting: list[Entry] = []  # written, their results (report ids) not back yet

        def timed(call, *args) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            results = call(*args)
            total.wall += time.perf_counter() - wall
            total.cpu += time.process_time() - cpu
            for result in results:
                entry = waiting.pop(0)
                archive.deadlines.set(
                    entry.agency,
                    entry.year,
                    entry.status,
                    deadline=entry.deadline,
                    days_late=entry.days_late,
                    report_id=result.report_id,
                )

        for entry in entries:
            if total.reports == limit:
                break
            if entry.report is None:
                archive.deadlines.set(entry.agency, entry.year, entry.status, deadline=entry.deadline)
                continue
            doc, parsed = incoming(entry, total.reports)
            waiting.append(entry)
            timed(write.add, doc, parsed)
            total.reports += 1
            total.cells += len(parsed.cells)
            if total.reports == sample:
                first = replace(total)
            if entry.edited:
                edited.append((entry.agency, entry.year))
            if total.reports % 10000 == 0:
                print(f"  {total.reports:,} reports, {total.reports / total.wall:,.0f}/s", file=sys.stderr, flush=True)
        timed(write.flush)
        if first is None or first.reports == total.reports:
            first = replace(total)
        rng = random.Random(seed + 1)
        for name, year in edited:
            parsed, data = synth_report(name, year, rng, inconsistent=False, edit=1)
            write.add(
                IncomingDocument(data, url=f"https://gov.example/edited/{name}/{year}.txt", agency=name, year=year),
                parsed,
            )
        write.flush()
        archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        archive.conn.execute("PRAGMA optimize")
    print(
        f"build ({write.label}): {total.reports:,} reports, {total.cells:,} cells, {len(edited):,} edited versions, "
        f"{len(names):,} agencies in {time.perf_counter() - started:,.0f} s"
    )
    return first, total


def _share(db: Path, n_reports: int, seed: int, batch: int, worker: int, workers: int, limit: int, start, out) -> None:
    """One writer process of build_parallel(): its share of the first `limit` reports (routed as the crawl's
    ArchiveWriter routes them), made before `start` opens, written by group commit."""
    _, entries = synthetic(n_reports, seed)
    reports = (incoming(e, n) for n, e in enumerate(e for e in entries if e.report is not None))
    docs = [
        (doc, parsed) for doc, parsed in itertools.islice(reports, limit) if lane_of(report_key(doc), workers) == worker
    ]
    with Archive(db) as archive:
        write = Grouped(archive, batch)
        start.wait()
        cpu = time.process_time()
        for doc, parsed in docs:
            write.add(doc, parsed)
        write.flush()
        out.put((len(docs), sum(len(p.cells) for _, p in docs), time.process_time() - cpu))


def build_parallel(db: Path, n_reports: int, seed: int, batch: int, workers: int, limit: int) -> Rate:
    """The first `limit` reports written by `workers` processes at once, each with its own group commit, into one
    archive: how the crawl writes (XXGK_ARCHIVE_WORKERS processes, SQLite serialising their COMMITs). Wall
    clock from the moment every process has its reports ready until the last one committed."""
    names, _ = synthetic(n_reports, seed)
    with Archive(db) as archive:
        declare(archive, names)
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(workers + 1, timeout=STARTUP_SECONDS), context.Queue()
    processes = [
        context.Process(target=_share, args=(db, n_reports, seed, batch, w, workers, limit, start, out))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    shares = []
    while len(shares) < workers:
        try:
            shares.append(out.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode for p in processes):
                raise RuntimeError("a writer process failed") from None
    rate = Rate(f"group commit, {workers} writer processes (the crawl's)", wall=time.perf_counter() - began)
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"a writer process failed (exit {process.exitcode})")
    for reports, cells, cpu in shares:
        rate.reports += reports
        rate.cells += cells
        rate.cpu += cpu
    return rate


def compare(db: Path, n_reports: int, sample: int, batch: int, seed: int, workers: int) -> None:
    """The previous way and group commit on the same first `sample` reports, each into an empty archive; the
    group-commit archive goes on to `n_reports` (the one Datasette is then timed on)."""
    scratch = db.with_name(f"{db.stem}-one-by-one.db")
    remove(scratch)
    try:
        old, _ = build(scratch, n_reports, seed, OneByOne, sample=sample, limit=sample)
    finally:
        remove(scratch)
    scratch = db.with_name(f"{db.stem}-parallel.db")
    remove(scratch)
    try:
        parallel = build_parallel(scratch, n_reports, seed, batch, workers, sample) if workers > 1 else None
    finally:
        remove(scratch)
    new, total = build(db, n_reports, seed, lambda archive: Grouped(archive, batch), sample=sample)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\ninsert rate, the same first {new.reports:,} synthetic reports (~200 cells each) into an empty archive (load average {load}):"
    )
    print(f"  previous way  {old.line()}")
    print(f"  group commit  {new.line()}   {(new.reports / new.wall) / (old.reports / old.wall):.1f}x")
    if parallel is not None:
        ratio = (parallel.reports / parallel.wall) / (old.reports / old.wall)
        print(f"  group commit  {parallel.line()}   {ratio:.1f}x  (CPU: the processes' together)")
    if total.reports > new.reports:
        print(f"  group commit over all {total.reports:,} reports: {total.reports / total.wall:,.0f} reports/s")
    print("  (targets: group commit >= 500 reports/s and >= 8x the previous way)")


def remove(db: Path) -> None:
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    shutil.rmtree(store_dir_for(db), ignore_errors=True)


def sizes(db: Path) -> None:
    store = store_dir_for(db)
    files = [p for p in store.rglob("*") if p.is_file()]
    wal = db.with_name(db.name + "-wal")
    print(
        f"file size: database {db.stat().st_size / 2**20:,.0f} MiB"
        + (f" (+ WAL {wal.stat().st_size / 2**20:,.0f} MiB)" if wal.exists() else "")
        + f"; document folder {sum(p.stat().st_size for p in files) / 2**20:,.0f} MiB in {len(files):,} files"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_get(url: str, server: psutil.Process | None = None) -> tuple[float, float]:
    """Wall-clock seconds for the request, and the CPU seconds the server spent on it (what the
    latency would be on an idle machine: the wall clock also counts waiting for a busy core)."""
    cpu = sum(server.cpu_times()[:2]) if server else 0.0
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    elapsed = time.perf_counter() - t
    if b'"ok": false' in body[:200]:
        raise RuntimeError(f"{url}: {body[:300]!r}")
    return elapsed, (sum(server.cpu_times()[:2]) - cpu if server else 0.0)


def latencies(db: Path, runs: int, seed: int) -> None:
    rng = random.Random(seed)
    with Archive(db) as archive:
        names = [r[0] for r in archive.conn.execute("SELECT name FROM agencies ORDER BY random() LIMIT 200")]
    port = free_port()
    xxgk = Path(sys.executable).with_name("xxgk")
    server = subprocess.Popen(
        [str(xxgk), "serve", "--db", str(db), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}/{db.stem}"
    try:
        for _ in range(300):
            try:
                timed_get(f"http://127.0.0.1:{port}/-/versions.json")
                break
            except OSError:
                time.sleep(0.2)
        years = list(YEARS[:-1])
        cases = {
            "逾期或未公开 late_or_missing": lambda: f"late_or_missing.json?year={rng.choice(years)}&province=",
            "  … one province": lambda: (
                f"late_or_missing.json?year={rng.choice(years)}&province={rng.choice(PROVINCES)}"
            ),
            "数据不一致 inconsistent": lambda: f"inconsistent.json?year={rng.choice(years)}&province=",
            "  … all years": lambda: "inconsistent.json?year=&province=",
            "机关历年 agency_years": lambda: f"agency_years.json?agency={rng.choice(names)}",
            "最近修改 recently_changed": lambda: "recently_changed.json",
            "按时率/年 ontime_by_year": lambda: "ontime_by_year.json",
            "按时率/省 ontime_by_province": lambda: f"ontime_by_province.json?year={rng.choice(years)}",
            "申请/年 requests_by_year": lambda: "requests_by_year.json",
            "全文检索 search (canned)": lambda: f"search.json?q={rng.choice(SEARCHES)}",
            "search 2 chars (复议)": lambda: "search.json?q=复议",
            "search 4 chars (行政复议)": lambda: "search.json?q=行政复议",
            "report_summary ?_search= common": lambda: f"report_summary.json?_search={rng.choice(SEARCHES)}&_size=50",
            "report_summary ?_search= a city": lambda: (
                f"report_summary.json?_search={rng.choice(PROVINCES)[:2]}第{rng.randint(1, 40)}市&_size=50"
            ),
            "report_summary page, 6 facets": lambda: f"report_summary.json?year={rng.choice(years)}&_size=50",
        }
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"\nlatency over HTTP (Datasette JSON API, {runs} requests each after one warm-up; load average {load} on {os.cpu_count()} cores):"
        )
        print(f"  {'query':<34}{'p50 ms':>9}{'p95 ms':>9}{'server CPU p50/p95 ms':>24}")
        process = psutil.Process(server.pid)
        for label, make in cases.items():
            timed_get(f"{base}/{urllib.parse.quote(make(), safe='/?=&.')}")
            samples = [timed_get(f"{base}/{urllib.parse.quote(make(), safe='/?=&.')}", process) for _ in range(runs)]
            wall = [w * 1000 for w, _ in samples]
            cpu = [c * 1000 for _, c in samples]
            p95 = statistics.quantiles(wall, n=20)[-1]
            flag = "" if p95 < 200 else "  ← over 200 ms"
            cpu_text = f"{statistics.median(cpu):.0f} / {statistics.quantiles(cpu, n=20)[-1]:.0f}"
            print(f"  {label:<34}{statistics.median(wall):>9.1f}{p95:>9.1f}{cpu_text:>24}{flag}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=5_000, help="reports written both ways (default 5,000)")
    parser.add_argument(
        "--batch", type=int, default=BATCH_DOCUMENTS, help=f"reports per group commit (the crawl's: {BATCH_DOCUMENTS})"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=XXGK_ARCHIVE_WORKERS,
        help=f"writer processes of the parallel line (the crawl's XXGK_ARCHIVE_WORKERS: {XXGK_ARCHIVE_WORKERS})",
    )
    parser.add_argument("--db", type=Path, help="default bench/out/archive-<reports>.db")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per query")
    parser.add_argument("--reuse", action="store_true", help="measure an existing archive, do not build")
    parser.add_argument("--no-serve", action="store_true", help="only the insert rates, no Datasette latency")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    db = args.db or Path(__file__).parent / "out" / f"archive-{args.reports}.db"
    if not args.reuse:
        if db.exists():
            sys.exit(f"{db} exists: remove it (and {store_dir_for(db)}) or pass --reuse")
        compare(db, args.reports, min(args.compare, args.reports), args.batch, args.seed, args.workers)
    sizes(db)
    if not args.no_serve:
        latencies(db, args.runs, args.seed)


if __name__ == "__main__":
    main()
