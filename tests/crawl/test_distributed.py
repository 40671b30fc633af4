"""Scale-out on scrapy-redis (crawler/crawl/distributed.py): one writer, two crawl workers sharing the frontier
in a real Redis (Debian's redis-server, started here on 127.0.0.1 with a random port and a temporary directory),
over the replica portals by real HTTP. Every report archived exactly once; a worker SIGKILLed midway loses
nothing (its leased requests return to the frontier and the other worker makes them); Redis down: one line.

Every replica portal that answers is crawled, the one declared by its home page too (a worker does not heal its
column: WorkerSession.heals).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from support.serving import free_port
from support.shared import ROOT

from crawler import settings
from crawler.registry import load_registry
from crawler.replica import ReplicaServer
from storage import Archive

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="Debian's redis-server (scripts/setup)")

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "XXGK_REDIS_LEASE_SECONDS=4"]


class Redis:
    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    with ReplicaServer() as server:
        server.registry = server.registry_path(tmp_path_factory.mktemp("replica"))
        # Read once: a registry load costs a moment, and a test that loaded it per report (as the killed-worker
        # test once did) let a loaded machine finish the whole crawl before it looked.
        server.portal_ids = [p.id for p in load_registry(server.registry).portals]
        yield server


def portals(replica) -> list[str]:
    return replica.portal_ids


def xxgk_crawl(db: Path, replica, redis_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "--db",
        str(db),
        "--registry",
        str(replica.registry),
        "--redis",
        redis_url,
        "-q",
        "--json",
        *FAST,
        *extra,
    ]


def start(cmd: list[str]) -> subprocess.Popen:
    env = {**os.environ, "TELNETCONSOLE_ENABLED": "False"}
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )


def worker(db: Path, replica, redis_url: str, *extra: str) -> subprocess.Popen:
    return start(xxgk_crawl(db, replica, redis_url, "--allow-network", "127.0.0.1/32", *portals(replica), *extra))


def finished(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, dict, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, json.loads(out) if out.strip() else {}, err


def assert_every_report_once(replica, db: Path) -> None:
    """Each report the crawled portals publish is in the archive exactly once, from its own URL, parsed."""
    wanted = {
        (e.portal, e.agency, e.year): replica.base_url + e.url
        for e in replica.expected()
        if e.portal in portals(replica)
    }
    with Archive(db) as archive:
        rows = [r for pid in portals(replica) for r in archive.reports.list(portal_id=pid)]
        versions = archive.conn.execute("SELECT count(*) FROM report_versions").fetchone()[0]
    got = {(r.portal_id, r.agency, r.year): r for r in rows}
    assert len(rows) == len(got), "a report archived twice"
    assert set(got) == set(wanted), f"missing {set(wanted) - set(got)}, unexpected {set(got) - set(wanted)}"
    assert all(got[k].source_url == url and got[k].parse_status == "ok" for k, url in wanted.items())
    assert versions == len(rows), "a report written twice as a new version"


def test_two_workers_share_the_frontier_and_archive_every_report_once(replica, redis, tmp_path):
    db = tmp_path / "xxgk.db"
    # Nobody dies here: the default lease, so that a worker stalled for seconds by a loaded machine (CI) is not
    # taken for dead and its requests made a second time by the other one.
    steady = ["-s", f"XXGK_REDIS_LEASE_SECONDS={settings.XXGK_REDIS_LEASE_SECONDS}"]
    writer = start(xxgk_crawl(db, replica, redis.url, "--writer", *steady))
    workers = [worker(db, replica, redis.url, *steady) for _ in range(2)]
    shares = []
    for w in workers:
        code, summary, err = finished(w)
        assert code == 0, err[-3000:]
        shares.append(int(summary["message"].split(": ")[-1].split()[0]))  # "... N reports handed to the writer"
    code, summary, err = finished(writer)
    assert code == 0, err[-3000:]
    assert_every_report_once(replica, db)
    expected = len([e for e in replica.expected() if e.portal in portals(replica)])
    assert sum(p["reports_new"] for p in summary["portals"]) == expected
    assert sum(p["reports_unchanged"] for p in summary["portals"]) == 0  # no report handed over twice
    assert sum(shares) == expected and min(shares) > 0, shares  # both workers did part of the work
    assert {p["portal_id"] for p in summary["portals"] if p["status"] == "ok"} == set(portals(replica))


def test_a_report_page_two_workers_meet_is_queued_once_and_a_chained_attachment_each_time(redis):
    """The same report page on two listing pages (index.html and index.html?page=1) walked by two workers: one
    request in the frontier. An attachment in a report page's chain always goes in (its chain waits for it)."""
    import redis as redis_py
    import scrapy
    from scrapy.http import Request
    from scrapy_redis.dupefilter import RFPDupeFilter

    from crawler.crawl.frontier import Keys, LeasedQueue, RedisScheduler

    class Spider(scrapy.Spider):
        name = "portal"

        def parse_report(self, response):
            pass

    client, keys, spider = redis_py.Redis.from_url(redis.url), Keys("test"), Spider()

    def scheduler() -> RedisScheduler:  # one worker's, over the shared Redis
        s = RedisScheduler(client, persist=True)
        s.spider, s.stats = spider, None
        s.queue = LeasedQueue(client, spider, keys.queue % {"spider": spider.name})
        s.df = RFPDupeFilter(client, key=keys.dupefilter % {"spider": spider.name})
        return s

    def document(url: str, **meta) -> Request:
        return Request(url, callback=spider.parse_report, dont_filter=True, meta={"xxgk_document": True, **meta})

    first, second = scheduler(), scheduler()
    page = "http://127.0.0.1/zfxxgknb/1427.html"
    assert first.enqueue_request(document(page)) is True
    assert second.enqueue_request(document(page)) is False
    attachment = "http://127.0.0.1/uploadfiles/1427.pdf"
    assert first.enqueue_request(document(attachment, xxgk_chain=["chain of one page"]))
    assert second.enqueue_request(document(attachment, xxgk_chain=["chain of another page"]))
    assert sorted(r.url for r in iter(lambda: first.queue.pop_leased("w|1"), None)) == [attachment, attachment, page]


def holds_a_lease(redis_url: str, pid: int, timeout: float = 30) -> bool:
    """Wait until worker process `pid` has a request leased (a lease is "host:pid:tag|n"): killed between two
    requests, it would leave nothing for the survivor to take back."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in client.scan_iter("xxgk:*:leases"):
            if any(f":{pid}:" in lease.decode() for lease in client.hkeys(key)):
                return True
        time.sleep(0.01)
    return False


def reports_archived(db: Path) -> int:
    """Read-only and cheap: opening an Archive migrates and may queue behind the writer's batch, and on a loaded
    machine the crawl could finish while the test waits to look."""
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            return conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        except sqlite3.OperationalError:  # the writer has not made the schema yet
            return 0


def test_a_worker_killed_midway_loses_nothing(replica, redis, tmp_path):
    db = tmp_path / "xxgk.db"
    writer = start(xxgk_crawl(db, replica, redis.url, "--writer"))
    slow = ["-s", "DOWNLOAD_DELAY=0.3"]  # slow enough to be killed midway
    args = ["--allow-network", "127.0.0.1/32", *portals(replica), *slow]
    victim, survivor = (start(xxgk_crawl(db, replica, redis.url, *args)) for _ in range(2))
    total = len([e for e in replica.expected() if e.portal in portals(replica)])
    deadline = time.monotonic() + 120
    archived = 0
    while time.monotonic() < deadline and archived < 8:
        time.sleep(0.05)
        archived = reports_archived(db)
    assert holds_a_lease(redis.url, victim.pid), (
        f"the victim never held a request to lose (exit {victim.poll()}, archived {reports_archived(db)} of {total})"
    )
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its archive processes, mid-crawl
    victim.wait()
    assert 8 <= archived < total
    code, _, err = finished(survivor)
    assert code == 0, err[-3000:]
    assert "requests of stopped workers back in the frontier" in err  # the victim's leases, made again here
    code, summary, err = finished(writer)
    assert code == 0, err[-3000:]
    assert_every_report_once(replica, db)
    assert sum(p["reports_new"] for p in summary["portals"]) == total


def test_a_crawl_with_redis_stopped_fails_with_one_line(replica, redis, tmp_path):
    redis.stop()
    base = ["crawl", "--db", str(tmp_path / "x.db"), "--registry", str(replica.registry), "--redis", redis.url]
    for extra in (["--writer"], ["--allow-network", "127.0.0.1/32"]):
        done = subprocess.run(
            [sys.executable, "-m", "crawler.cli", *base, *extra], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"xxgk crawl: cannot reach Redis at {redis.url}"), done.stderr
        assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "x.db").exists()  # nothing was created


def test_the_writer_archives_a_document_that_did_not_parse(tmp_path):
    """A worker's parse failure travels as (reason, message): a ParseError itself does not unpickle."""
    import pickle

    from crawler.crawl.distributed import ReportRecord, Writer
    from crawler.model import IncomingDocument

    data = b"<html><body><p>not a report at all</p></body></html>"
    doc = IncomingDocument(b"", url="http://127.0.0.1/x.html", portal_id="p", agency="某县人民政府", year=2023)
    with Archive(tmp_path / "x.db") as archive:
        sha = archive.documents.put(data).sha256
        record = pickle.loads(pickle.dumps(ReportRecord(doc, sha, None, ("not_a_report", "no template table"))))
        writer = Writer(archive, archive.runs.start("test"))
        writer.apply(record)
        r = writer.merged.results["p"]
        assert (r.reports_new, r.parse_failed, r.storage_errors) == (1, 1, 0)
        (row,) = archive.reports.list(portal_id="p")
        assert (row.parse_status, row.parse_reason) == ("failed", "not_a_report")
