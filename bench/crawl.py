"""Crawl throughput: 10,000 reports on 100 replica portals, one per loopback address (127.0.0.x).

    .venv/bin/python bench/crawl.py                       # 100 portals × 100 reports
    .venv/bin/python bench/crawl.py --portals 20 --reports 50

A server process serves TRS-style portals (20 entries per list page, createPageHTML paging, small inline HTML
reports with the application table) on 127.0.0.10, .11, …; `xxgk crawl` crawls them all into a fresh archive,
then again with nothing new, then once more with --recheck (a conditional GET for every document, as the
weekly recheck does). Printed: pages/s, documents/s, reports archived, the peak RSS of the crawl (its archive
workers included), and the cost of the re-crawls. Targets: re-crawl < 5% of the first crawl's time, memory
< 1 GB. Politeness delays are off (our own server); robots.txt is still fetched and obeyed.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_PAGE = 20
FIRST_HOST = 10  # 127.0.0.10 …
ROWS = [
    ("new", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
    ("granted", "（一）予以公开"),
    ("handled_total", "（七）总计"),
    ("carry_forward", "四、结转下年度继续办理"),
]


# --- the bench portals (served by a separate process, so the crawler has its own cores) -------------------
_DIGITS = "零一二三四五六七八九"
_OFFICES = "教育 民政 司法 财政 交通 水利 农业 商务 文旅 卫健 审计 统计 医保 林业 城管 应急 市监 体育 信访 人防".split()


def _numeral(n: int) -> str:
    return "".join(_DIGITS[int(d)] for d in str(n))


def report_list(portal: int, reports: int) -> list[tuple[str, int, str]]:
    """(agency, year, pubdate) of one portal's reports: 5 years per agency. Agency names carry no Arabic digits,
    as real ones do not (titles are read as agency + year)."""
    out = []
    for i in range(reports):
        office = _OFFICES[(i // 5) % len(_OFFICES)] + (
            "" if i // 5 < len(_OFFICES) else _numeral(i // 5 // len(_OFFICES))
        )
        agency, year = f"第{_numeral(portal)}市{office}局", 2021 + i % 5
        out.append((agency, year, f"{year + 1}-01-{10 + i % 15:02d}"))
    return out


def report_page(portal: int, i: int, agency: str, year: int, day: str) -> bytes:
    rng = random.Random(f"{portal}:{i}")
    new = [rng.randint(0, 9) for _ in range(6)]
    carried = [rng.randint(0, 2) for _ in range(6)]
    forward = [min(n + c, rng.randint(0, 1)) for n, c in zip(new, carried, strict=True)]
    handled = [n + c - f for n, c, f in zip(new, carried, forward, strict=True)]
    values = {
        "new": new,
        "carried_over": carried,
        "granted": handled,
        "handled_total": handled,
        "carry_forward": forward,
    }
    head = "<tr><td colspan=3>申请人情况</td><td>自然人</td><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td><td>总计</td></tr>"
    rows = "".join(
        f"<tr><td colspan=3>{label}</td>" + "".join(f"<td>{v}</td>" for v in [*values[key], sum(values[key])]) + "</tr>"
        for key, label in ROWS
    )
    title = f"{agency}{year}年政府信息公开工作年度报告"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title><meta name="PubDate" content="{day}">'
        f"</head><body><h1>{title}</h1><div class='TRS_Editor'><p>本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。</p>"
        f"<p>三、收到和处理政府信息公开申请情况</p><table border=1>{head}{rows}</table>"
        f"<p style='text-align:right'>{agency}</p></div></body></html>"
    ).encode()


def listing_page(portal: int, reports: list, page: int) -> bytes:
    pages = -(-len(reports) // PER_PAGE)
    chunk = reports[page * PER_PAGE : (page + 1) * PER_PAGE]
    items = "".join(
        f'<li><a href="./{day[:4]}{day[5:7]}/t{day.replace("-", "")}_{page * PER_PAGE + i}.html">'
        f"{html.escape(agency)}{year}年政府信息公开工作年度报告</a><span>{day}</span></li>"
        for i, (agency, year, day) in enumerate(chunk)
    )
    script = f'<script>createPageHTML({pages}, {page}, "index", "html");</script>'
    return f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul>{items}</ul>{script}</body></html>".encode()


def serve(portals: int, reports: int, registry: Path) -> None:
    servers = []
    for n in range(portals):
        host = f"127.0.0.{FIRST_HOST + n}"
        items = report_list(n, reports)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            portal, listed = n, items

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                body, status = b"", 200
                if path == "/robots.txt":
                    body = b"User-agent: *\nAllow: /\n"
                elif path.startswith("/zfxxgknb/index"):
                    page = int(path.rsplit("_", 1)[1].split(".")[0]) if "_" in path else 0
                    body = listing_page(self.portal, self.listed, page)
                elif path.startswith("/zfxxgknb/") and "_" in path:
                    i = int(path.rsplit("_", 1)[1].split(".")[0])
                    if i < len(self.listed):
                        body = report_page(self.portal, i, *self.listed[i])
                    else:
                        status = 404
                else:
                    status = 404
                etag = f'"{zlib.crc32(body):08x}"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((n, host, server.server_address[1]))
    lines = ["portals:"]
    for n, host, port in servers:
        lines += [
            f"  - id: bench-{n:03d}",
            f"    name: 第{n}市人民政府",
            "    cms: trs",
            f"    start_url: http://{host}:{port}/zfxxgknb/index.html",
            f"    domains: [{host}]",
            "    verified: true",
            "    agencies:",
            f"      - {{name: 第{n}市人民政府, kind: government}}",
        ]
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("ready", flush=True)
    threading.Event().wait()


# --- the measurement ------------------------------------------------------------------------------------------------
def measured(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run `cmd`; (result, seconds, peak RSS in bytes of the process and its children, sampled every 0.2 s)."""
    import psutil

    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return (
            subprocess.CompletedProcess(cmd, proc.returncode, out.read().decode(), err.read().decode()),
            seconds,
            peak,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portals", type=int, default=100)
    ap.add_argument("--reports", type=int, default=100, help="reports per portal")
    ap.add_argument("--parallel", type=int, default=16, help="portals crawled at once (XXGK_PARALLEL_PORTALS)")
    ap.add_argument("--serve", metavar="REGISTRY", help=argparse.SUPPRESS)  # the server process
    args = ap.parse_args()
    if args.serve:
        serve(args.portals, args.reports, Path(args.serve))
        return 0
    with tempfile.TemporaryDirectory(prefix="xxgk-bench-crawl-") as tmp:
        registry, db = Path(tmp) / "registry.yaml", Path(tmp) / "bench.db"
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(registry),
                "--portals",
                str(args.portals),
                "--reports",
                str(args.reports),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            cmd = [
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
            ]
            cmd += ["--allow-network", "127.0.0.0/24"]
            for k, v in {
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
                "XXGK_PARALLEL_PORTALS": args.parallel,
                "LOG_LEVEL": "ERROR",
            }.items():
                cmd += ["-s", f"{k}={v}"]
            print(
                f"bench/crawl.py: {args.portals} portals × {args.reports} reports on 127.0.0.{FIRST_HOST}…, {args.parallel} at a time"
            )
            first, t1, rss1 = measured(cmd)
            second, t2, rss2 = measured(cmd)
            third, t3, rss3 = measured([*cmd, "--recheck"])  # what the weekly recheck costs: a 304 per document
        finally:
            server.terminate()
            server.wait()
        for name, done in (("first", first), ("re-crawl", second), ("recheck", third)):
            if done.returncode != 0:
                print(f"{name} crawl exited {done.returncode}: {done.stderr[-2000:]}", file=sys.stderr)
                return 1
        s1, s2 = json.loads(first.stdout), json.loads(second.stdout)
        pages1 = sum(p["pages"] for p in s1["portals"])
        docs1 = sum(p["documents_downloaded"] for p in s1["portals"])
        new1 = sum(p["reports_new"] for p in s1["portals"])
        parsed = sum(p["reports_new"] - p["parse_failed"] for p in s1["portals"])
        docs2 = sum(p["documents_downloaded"] for p in s2["portals"])
        known2 = sum(p["known_skipped"] for p in s2["portals"])
        pages2 = sum(p["pages"] for p in s2["portals"])
        s3 = json.loads(third.stdout)
        not_modified3 = sum(p["not_modified"] for p in s3["portals"])
        docs3 = sum(p["documents_downloaded"] for p in s3["portals"])
        size = db.stat().st_size
    ratio = t2 / t1
    print(
        f"first crawl:  {t1:7.1f} s  {pages1} list pages ({pages1 / t1:.1f}/s), {docs1} documents ({docs1 / t1:.1f}/s), "
        f"{new1} reports archived ({parsed} parsed), peak RSS {rss1 / 2**20:.0f} MB, archive {size / 2**20:.0f} MB"
    )
    print(
        f"re-crawl:     {t2:7.1f} s  {pages2} list pages, {docs2} documents downloaded, {known2} known documents skipped, "
        f"peak RSS {rss2 / 2**20:.0f} MB"
    )
    print(f"re-crawl cost: {100 * ratio:.1f}% of the first crawl (target < 5%): {'met' if ratio < 0.05 else 'NOT met'}")
    print(
        f"--recheck:    {t3:7.1f} s  a conditional GET for every archived document: {not_modified3} answered 304, "
        f"{docs3} downloaded ({100 * t3 / t1:.0f}% of the first crawl; by default each document is rechecked weekly)"
    )
    peak = max(rss1, rss2, rss3)
    print(f"peak memory: {peak / 2**20:.0f} MB (target < 1024 MB): {'met' if peak < 2**30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
