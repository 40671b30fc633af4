"""Scale-out on scrapy-redis: crawl workers on one or several machines share one frontier; one writer fills
the archive.

    xxgk crawl --redis redis://10.0.0.5:6379/0 --writer     # once: owns the archive, starts the round
    xxgk crawl --redis redis://10.0.0.5:6379/0              # on every crawl machine, as many as wanted

The writer takes the archive's crawl lock, records the run and starts a *round* in Redis (`xxgk:round`);
workers join the current round. Each worker runs the registry's spiders as `xxgk crawl` does, with the
frontier and its dupefilter in Redis (crawler/crawl/frontier.py RedisScheduler: leased pops, so a killed
worker's requests return), downloads and parses: the original goes to the content-addressed store beside the
archive (a directory every worker reaches; the store's write-once rename makes concurrent writers safe), and
the examined document goes to the round's results list as a typed record (below) without its bytes. The
writer is the archive's only writer (SQLite keeps one): it applies the records in order through
crawler.ingest, merges each portal's outcome from every worker, and finishes the run when no worker is left
and the results list is empty.

Ordering and loss: a report page is pushed only once every attachment it waits for (`after`) is in the
results list (the round's `pushed` set), so the writer meets attachments before their page; a killed
worker's leased requests are made again by another, and a record delivered twice is written once (the
archive sees the same URL and bytes: `unchanged`). Workers read the archive (what is archived and fresh,
whether a portal's last crawl finished) and never write it.

Redis carries pickles (scrapy-redis's requests, these records): it must be reachable by the crawl machines
only (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scrapy.utils.misc import load_object

from crawler import settings as defaults
from crawler.crawl import writer as calls
from crawler.crawl.frontier import Keys
from crawler.crawl.items import GoneItem, ListedItem, ReportItem, SeenItem
from crawler.crawl.results import CrawlSummary, PortalResult, finish_run, portal_dict, record_result
from crawler.crawl.session import CrawlSession
from crawler.exits import EXIT_OK, EXIT_PARTIAL
from crawler.model import IncomingDocument, ParsedReport, ParseError
from storage import Archive, LockHeld, crawl_lock

logger = logging.getLogger(__name__)
# The spiders' portal outcome (its status rule), reached by name as Scrapy reaches the spiders: spiders import
# crawler.crawl.
OUTCOME = "spiders.base.outcome.PortalOutcome"

# How long a silent worker lives on (its leases then go back to the frontier), and how long a worker waits for
# the writer's round (the writer for its first worker): crawler/settings.py, overridable with -s.
LEASE_SECONDS = defaults.XXGK_REDIS_LEASE_SECONDS
JOIN_SECONDS = defaults.XXGK_REDIS_JOIN_SECONDS


# --- the records a worker hands to the writer -----------------------------------------------------------------
@dataclass
class ReportRecord:
    """A report document, examined by the worker: its bytes are in the store under `sha256`."""

    document: IncomingDocument  # data=b"": the bytes travel through the store
    sha256: str
    parsed: ParsedReport | None
    failure: tuple[str, str] | None  # a ParseError's (reason, message): the exception itself does not unpickle
    after: tuple[str, ...] = ()

    @property
    def error(self) -> ParseError | None:
        return ParseError(*self.failure) if self.failure else None


@dataclass
class StoredRecord:
    """A document kept for provenance only (a page that links its report, a rendition, a zip)."""

    document: IncomingDocument
    sha256: str
    after: tuple[str, ...] = ()


@dataclass
class PortalRecord:
    """One worker's share of a portal's crawl (the writer sums them; the reports it counts itself)."""

    worker: str
    result: PortalResult
    listings_ok: int = 0
    reports_found: int = 0


Record = ReportRecord | StoredRecord | PortalRecord | SeenItem | ListedItem | GoneItem
_PUSH = "redis.call('LPUSH', KEYS[1], ARGV[1]); if ARGV[2] ~= '' then redis.call('SADD', KEYS[2], ARGV[2]) end"


def redis_client(url: str):
    """A client for `url`; raises redis.ConnectionError (and friends) when the server does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)
    client.ping()
    return client


def redis_problem(url: str, error: Exception) -> str:
    return f"cannot reach Redis at {url}: {error}"


# --- the worker side ------------------------------------------------------------------------------------------
def examine_document(doc: IncomingDocument) -> tuple[str, ParsedReport | None, tuple[str, str] | None]:
    """In an archive worker process (crawler.crawl.writer): store the original, then parse and judge it."""
    from crawler.ingest import examine

    sha = calls._ARCHIVE.documents.put(doc.data).sha256
    try:
        return sha, examine(doc.data), None
    except ParseError as e:
        return sha, None, (e.reason, str(e))


def store_original(doc: IncomingDocument) -> str:
    return calls._ARCHIVE.documents.put(doc.data).sha256


class WorkerSession(CrawlSession):
    """A CrawlSession whose results go to Redis: its ArchiveWriter's processes store and examine, and nothing
    in this process writes the archive."""

    # The self-healing of a portal's column (crawler/crawl/columns.py) writes the archive around each portal's
    # crawl: not a worker's business (job._run_reactor skips it). A worker crawls from the registry's start_url.
    heals = False

    def __init__(self, settings, client, keys: Keys, worker: str):
        super().__init__(
            settings.get("XXGK_DB"),
            0,
            workers=settings.getint("XXGK_ARCHIVE_WORKERS", 2),
            recheck_days=settings.getfloat("XXGK_RECHECK_DAYS", 7.0),
        )
        self.redis, self.keys, self.worker = client, keys, worker
        self.pushed_reports = 0
        self._push = client.register_script(_PUSH)
        self.wait_seconds = 4 * settings.getfloat("XXGK_REDIS_LEASE_SECONDS", LEASE_SECONDS)

    def push(self, record: Record, url: str | None = None) -> None:
        """The record into the results list and its URL into `pushed`, at once (one Redis script)."""
        data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        self._push(keys=[self.keys.results, self.keys.pushed], args=[data, url or ""])

    async def waited(self, urls: tuple[str, ...]) -> bool:
        """True once every URL of `urls` is in the results list; False when one failed or never comes."""
        deadline = time.monotonic() + self.wait_seconds
        for url in urls:
            while not self.redis.sismember(self.keys.pushed, url):
                if self.redis.sismember(self.keys.failed, url) or time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.1)
        return True

    def reports_archived(self) -> int:
        return self.pushed_reports

    def close(self) -> None:
        self.writer.close()
        self.archive.close()


class ResultPipeline:
    """The worker's item pipeline (in place of ArchivePipeline): every item becomes a record for the writer."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.session: WorkerSession = CrawlSession.of(self.crawler)
        self.result = self.session.result(self.crawler.spider.portal.id)

    async def process_item(self, item):
        session = self.session
        if isinstance(item, ListedItem | GoneItem | SeenItem):
            session.push(item)
            return None
        writer, doc = session.writer, item.document
        done = writer.begin(doc.url)
        try:
            if not (await writer.after(item.after) and await session.waited(item.after)):
                # An attachment of this page was not archived: keep the page unknown, the next run returns.
                raise RuntimeError(f"an attachment of {doc.url} was not handed to the writer")
            bare = replace(doc, data=b"")
            if isinstance(item, ReportItem):
                sha, parsed, failure = await writer.run(examine_document, doc, key=calls.report_key(doc))
                session.push(ReportRecord(bare, sha, parsed, failure, item.after), doc.url)
                session.pushed_reports += 1
            else:
                sha = await writer.run(store_original, doc, key=doc.url)
                session.push(StoredRecord(bare, sha, item.after), doc.url)
        except Exception:
            self.result.storage_errors += 1
            logger.exception("could not hand %s to the writer", doc.url)
            session.redis.sadd(session.keys.failed, doc.url)
            writer.end(doc.url, done, ok=False)
            return None
        writer.end(doc.url, done, ok=True)
        return None

    def close_spider(self) -> None:
        spider, stats, r = self.crawler.spider, self.crawler.stats, self.result
        outcome = spider.outcome
        r.status = outcome.status if not r.storage_errors else "error"
        r.error = outcome.error_text()
        r.pages = outcome.listings_ok
        r.documents_downloaded = stats.get_value("xxgk/documents_downloaded", 0)
        r.known_skipped = stats.get_value("xxgk/documents_known_skipped", 0)
        r.not_modified = stats.get_value("xxgk/documents_not_modified", 0)
        r.refused = {k.rsplit("/", 1)[1]: v for k, v in stats.get_stats().items() if k.startswith("xxgk/refused/")}
        r.failures = outcome.failures
        r.listings_failed, r.budget_exhausted = outcome.listings_failed, outcome.budget_exhausted
        r.listing_pages = outcome.listing_pages
        self.session.push(PortalRecord(self.session.worker, r, outcome.listings_ok, outcome.reports_found))


def worker_settings(client_url: str, keys: Keys, worker: str) -> dict[str, Any]:
    """What turns `xxgk crawl` into a worker of round `keys`: scrapy-redis's frontier, the results pipeline."""
    return {
        "SCHEDULER": "crawler.crawl.frontier.RedisScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.crawl.frontier.LeasedQueue",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a worker closing (or killed) leaves the frontier to the others
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "REDIS_URL": client_url,
        "ITEM_PIPELINES": {"crawler.crawl.distributed.ResultPipeline": 300},
        "XXGK_REDIS_ROUND": keys.round,
        "XXGK_WORKER_ID": worker,
    }


class Heartbeat(threading.Thread):
    """Keeps the worker's alive key fresh from a thread of its own (a busy reactor must not look dead)."""

    def __init__(self, client, key: str, seconds: float):
        super().__init__(daemon=True)
        self.client, self.key, self.seconds = client, key, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.client.set(self.key, "1", px=int(self.seconds * 1000))
            except Exception as e:  # Redis gone for a moment: the leases may be taken back, nothing is lost
                logger.warning("heartbeat %s: %s", self.key, e)
            self.stopped.wait(self.seconds / 4)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def run_worker(
    redis_url: str,
    portals: list[str] | None,
    *,
    db: str | Path | None = None,
    registry: str | Path | None = None,
    recheck: bool = False,
    allow_networks: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
) -> CrawlSummary:
    """Crawl the named portals (all when none) as a worker of the writer's current round."""
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    from crawler.crawl.job import _fatal, _run_reactor
    from crawler.registry import RegistryError, load_registry

    started = time.monotonic()
    try:
        client = redis_client(redis_url)
        keys = _current_round(client, float((settings or {}).get("XXGK_REDIS_JOIN_SECONDS", JOIN_SECONDS)))
    except Exception as e:  # redis.ConnectionError, a timeout, a refused AUTH
        return _fatal(redis_problem(redis_url, e), started)
    if keys is None:
        return _fatal(f"no crawl round in Redis at {redis_url}: start `xxgk crawl --redis URL --writer` first", started)
    db_path = Path(db or os.environ.get("XXGK_DB") or "data/xxgk.db")
    registry_path = str(registry) if registry else os.environ.get("XXGK_REGISTRY")
    try:
        reg = load_registry(registry_path)
    except RegistryError as e:
        return _fatal(str(e), started)
    unknown = [p for p in portals or [] if p not in {x.id for x in reg.portals}]
    if unknown:
        return _fatal(f"not in the registry: {', '.join(unknown)}", started)
    if not db_path.exists():
        return _fatal(f"no archive at {db_path}: the writer creates it, and workers read it", started)

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    scrapy_settings = get_project_settings()
    install_reactor(scrapy_settings["TWISTED_REACTOR"])
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    scrapy_settings.setdict(
        {
            "XXGK_DB": str(db_path),
            "XXGK_REGISTRY": registry_path,
            **({"XXGK_RECHECK_DAYS": 0} if recheck else {}),
            **({"XXGK_ALLOWED_PRIVATE_NETWORKS": list(allow_networks)} if allow_networks else {}),
            **worker_settings(redis_url, keys, worker),
        },
        priority="cmdline",
    )
    for key, value in (settings or {}).items():
        scrapy_settings.set(key, value, priority="cmdline")
    lease = scrapy_settings.getfloat("XXGK_REDIS_LEASE_SECONDS", LEASE_SECONDS)
    heartbeat = Heartbeat(client, keys.alive(worker), lease)
    client.set(keys.alive(worker), "1", px=int(lease * 1000))
    client.sadd(keys.workers, worker)
    client.incr(keys.joined)
    heartbeat.start()
    session = WorkerSession(scrapy_settings, client, keys, worker)
    job = {"portals": portals, "url": None, "agency": None, "kind": None, "js": False, "progress": progress}
    try:
        crashes = _run_reactor(scrapy_settings, job, session)
        for portal_id, crash in crashes.items():
            if crash:
                session.push(PortalRecord(worker, PortalResult(portal_id, status="error", error=crash)))
    finally:
        session.close()
        heartbeat.stop()
        client.srem(keys.workers, worker)
        client.delete(keys.alive(worker))
    results = [portal_dict(r) for r in session.results.values()]
    failed = any(crashes.values())
    return CrawlSummary(
        "partial" if failed else "ok",
        EXIT_PARTIAL if failed else EXIT_OK,
        None,
        time.monotonic() - started,
        f"xxgk crawl: worker {worker} of round {keys.round}: {session.pushed_reports} reports handed to the writer",
        results,
    )


def _current_round(client, wait: float) -> Keys | None:
    deadline = time.monotonic() + wait
    while True:
        current = client.get(Keys.ROUND)
        if current is not None:
            return Keys(current.decode())
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)


# --- the writer -----------------------------------------------------------------------------------------------
class Merged:
    """The portals' results as the writer assembles them: worker shares summed, reports counted here."""

    def __init__(self):
        self.results: dict[str, PortalResult] = {}
        self.listings_ok: dict[str, int] = {}
        self.reports_found: dict[str, int] = {}
        self.failed: set[str] = set()

    def result(self, portal_id: str | None) -> PortalResult:
        pid = portal_id or "?"
        return self.results.setdefault(pid, PortalResult(pid, status="ok"))

    def add(self, record: PortalRecord) -> None:
        share, r = record.result, self.result(record.result.portal_id)
        for name in ("pages", "documents_downloaded", "known_skipped", "not_modified", "listings_failed"):
            setattr(r, name, getattr(r, name) + getattr(share, name))
        r.storage_errors += share.storage_errors
        r.budget_exhausted |= share.budget_exhausted
        r.failures += share.failures
        r.listing_pages += [p for p in share.listing_pages if p not in r.listing_pages]
        for reason, n in share.refused.items():
            r.refused[reason] = r.refused.get(reason, 0) + n
        if share.status == "error":
            r.error = share.error
        self.listings_ok[r.portal_id] = self.listings_ok.get(r.portal_id, 0) + record.listings_ok
        self.reports_found[r.portal_id] = self.reports_found.get(r.portal_id, 0) + record.reports_found
        self._judge(r, share.status == "error")

    def _judge(self, r: PortalResult, crashed: bool) -> None:
        """The portal's status from the summed shares, by the rule a single crawl uses (PortalOutcome)."""
        outcome = load_object(OUTCOME)(
            listings_ok=self.listings_ok.get(r.portal_id, 0),
            listings_failed=r.listings_failed,
            reports_found=self.reports_found.get(r.portal_id, 0),
            known_skipped=r.known_skipped,
            budget_exhausted=r.budget_exhausted,
            failures=r.failures,
        )
        r.status = "error" if crashed or r.status == "error" or r.storage_errors else outcome.status
        r.error = r.error or outcome.error_text()
        r.listing_complete = outcome.listing_complete and r.status not in ("unreachable", "error")


class Writer:
    """Applies a round's records to the archive, in the order they were pushed."""

    def __init__(self, archive: Archive, run_id: int):
        self.archive, self.run_id = archive, run_id
        self.merged = Merged()

    def apply(self, record: Record) -> None:
        if isinstance(record, PortalRecord):
            return self.merged.add(record)
        portal_id = getattr(record, "portal_id", None) or getattr(getattr(record, "document", None), "portal_id", None)
        r = self.merged.result(portal_id)
        url = record.document.url if isinstance(record, ReportRecord | StoredRecord) else None
        try:
            self._write(record, r)
        except Exception:
            r.storage_errors += 1
            if url:
                self.merged.failed.add(url)
            logger.exception("archive write failed for %s", url or record)

    def _write(self, record: Record, r: PortalResult) -> None:
        from crawler.ingest import ingest_parsed, store_document

        documents = self.archive.documents
        if isinstance(record, SeenItem):
            documents.mark_seen(record.url)
        elif isinstance(record, GoneItem):
            documents.mark_gone(record.url, record.status)
        elif isinstance(record, ListedItem):
            documents.mark_listed(record.portal_id, self.run_id, [(u, record.listing_url, t) for u, t in record.entries])
        elif any(u in self.merged.failed for u in record.after):
            # An attachment of this page failed to archive: keep the page unknown, the next run returns.
            self.merged.failed.add(record.document.url)
            r.storage_errors += 1
        else:
            doc = replace(record.document, data=documents.store.read(record.sha256))
            if isinstance(record, ReportRecord):
                result = ingest_parsed(self.archive, doc, record.parsed, error=record.error)
                r.count(result.status, result.parse_status)
            else:
                store_document(self.archive, doc)
                r.documents_stored += 1


def run_writer(
    redis_url: str,
    *,
    db: str | Path | None = None,
    registry: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    command: str = "xxgk crawl --writer",
) -> CrawlSummary:
    """Start a round, apply its records until no worker is left, record the run. Never raises for a portal."""
    from crawler.crawl.job import _fatal
    from crawler.registry import RegistryError, load_registry

    started = time.monotonic()
    settings = settings or {}
    lease = float(settings.get("XXGK_REDIS_LEASE_SECONDS", LEASE_SECONDS))
    join = float(settings.get("XXGK_REDIS_JOIN_SECONDS", JOIN_SECONDS))
    try:
        client = redis_client(redis_url)
    except Exception as e:
        return _fatal(redis_problem(redis_url, e), started)
    db_path = Path(db or os.environ.get("XXGK_DB") or "data/xxgk.db")
    try:
        reg = load_registry(str(registry) if registry else os.environ.get("XXGK_REGISTRY"))
    except RegistryError as e:
        return _fatal(str(e), started)
    lock = crawl_lock(db_path)
    try:
        lock.acquire()
    except LockHeld as e:
        return _fatal(str(e), started, status="locked")
    except OSError as e:
        return _fatal(f"cannot take the crawl lock {lock.path}: {e.strerror or e}", started)
    try:
        try:
            archive = Archive(db_path)
        except Exception as e:
            return _fatal(f"cannot open the archive {db_path}: {e}", started)
        with archive:
            archive.agencies.sync_registry(reg)
            run_id = archive.runs.start(command, {"redis": redis_url})
            writer = Writer(archive, run_id)
            try:
                keys = _start_round(client)
                left = _drain(client, keys, writer, lease=lease, join=join, progress=progress)
                _end_round(client, keys)
            except Exception as e:  # Redis went away mid-round: record what was written
                logger.error("writer: %s", e)
                left = f"Redis failed during the crawl: {e}"
            results = list(writer.merged.results.values())
            if left:
                for r in results or [writer.merged.result("?")]:
                    r.status, r.error = "error", left
                results = list(writer.merged.results.values())
            for r in results:
                record_result(archive, run_id, r)
            status, exit_code = finish_run(archive, run_id, results)
    finally:
        lock.release()
    return CrawlSummary(
        status, exit_code, run_id, time.monotonic() - started, left or None, [portal_dict(r) for r in results]
    )


def _start_round(client) -> Keys:
    """A new round (its own frontier and dupefilter: a re-crawl must not find last week's fingerprints)."""
    previous = client.get(Keys.ROUND)
    if previous is not None:
        _end_round(client, Keys(previous.decode()))
    keys = Keys(client.incr(Keys.ROUNDS))
    client.set(Keys.ROUND, keys.round)
    return keys


def _end_round(client, keys: Keys) -> None:
    if (client.get(Keys.ROUND) or b"").decode() == keys.round:
        client.delete(Keys.ROUND)
    batch = []
    for key in client.scan_iter(match=keys.pattern(), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


def _drain(client, keys: Keys, writer: Writer, *, lease: float, join: float, progress: bool) -> str | None:
    """Apply records until every worker that joined has left (or died) and the results list is empty.
    Returns why the round ended unfinished, or None."""
    import sys

    first_wait = time.monotonic() + join
    next_line = time.monotonic() + 10.0
    applied = 0
    while True:
        raw = client.brpoplpush(keys.results, keys.taking, timeout=1)
        if raw is not None:
            writer.apply(pickle.loads(raw))
            client.lrem(keys.taking, 1, raw)
            applied += 1
        elif _finished(client, keys):
            break
        elif not int(client.get(keys.joined) or 0) and time.monotonic() > first_wait:
            return f"no worker joined the round within {join:.0f}s (start `xxgk crawl --redis URL` on the crawl machines)"
        if progress and time.monotonic() > next_line:
            next_line = time.monotonic() + 10.0
            reports = sum(r.reports for r in writer.merged.results.values())
            workers = client.scard(keys.workers)
            print(f"xxgk crawl --writer: {applied} records applied, {reports} reports archived, {workers} workers", file=sys.stderr, flush=True)
    waiting = sum(client.zcard(k) + client.hlen(f"{k}:leases") for k in _queues(client, keys))
    return f"every worker stopped with {waiting} requests left in the frontier" if waiting else None


def _finished(client, keys: Keys) -> bool:
    if not int(client.get(keys.joined) or 0) or client.llen(keys.results):
        return False
    for worker in client.smembers(keys.workers):
        if client.exists(keys.alive(worker.decode())):
            return False
        client.srem(keys.workers, worker)  # killed: its heartbeat ran out
    return not client.llen(keys.results)


def _queues(client, keys: Keys) -> list[str]:
    suffix = ":requests"
    return [k.decode() for k in client.scan_iter(match=f"{keys.base}:*{suffix}") if k.decode().endswith(suffix)]


