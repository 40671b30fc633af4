"""The archive pipeline: every item goes through storage.Archive (store → parse → cells).

One `ArchiveWriter` per database and crawl process, shared by all the portals crawled at once. Its writes run
in *worker processes* (XXGK_ARCHIVE_WORKERS, default 2): parsing is CPU work (a 50,000-row table, a PDF, a
decompression bomb the reader refuses), and in a thread it would hold the GIL and stall the Twisted reactor long
enough for other downloads to time out. Every write of one report goes to the same worker; SQLite serialises
the transactions. The crawl process keeps its own connection for `known_document` lookups and the crawl-run bookkeeping (a few
short writes per portal). Each ingest is one archive transaction: a killed crawl loses at most the items in
flight, which the next run fetches again because the archive does not know them yet.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crawler.items import DocumentItem, ReportItem, SeenItem

logger = logging.getLogger(__name__)


@dataclass
class PortalResult:
    """One portal's share of a crawl run, for the summary and crawl_portal_status."""

    portal_id: str
    status: str = "running"
    error: str | None = None
    pages: int = 0
    documents_downloaded: int = 0
    reports_new: int = 0
    reports_changed: int = 0
    reports_unchanged: int = 0
    parse_failed: int = 0
    documents_stored: int = 0
    known_skipped: int = 0
    not_modified: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    storage_errors: int = 0

    @property
    def reports(self) -> int:
        return self.reports_new + self.reports_changed


# portal id → result, for crawler.crawl's summary (the crawl runs in this process)
RESULTS: dict[str, PortalResult] = {}


# --- the worker process ------------------------------------------------------------------------------------------
_ARCHIVE = None


def _worker_start(db_path: str) -> None:
    """In the worker: die with the crawl (a SIGKILLed crawl must not leave a writer behind), open the archive."""
    global _ARCHIVE
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    from storage import Archive

    _ARCHIVE = Archive(db_path)


def _worker_call(name: str, args: tuple) -> Any:
    archive = _ARCHIVE
    if name == "ingest":
        item: ReportItem = args[0]
        f = item.fetched
        result = archive.ingest(
            f.data,
            url=f.url,
            agency=item.agency,
            year=item.year,
            title=item.title,
            published_at=item.published_at,
            published_source=item.published_source,
            portal_id=item.portal_id,
            page_url=item.page_url,
            kind=item.kind,
            http=_http(f),
        )
        return {k: getattr(result, k) for k in ("status", "parse_status", "parse_reason", "agency", "year")}
    if name == "store":
        f = args[0].fetched
        archive.store_document(
            f.data,
            url=f.url,
            content_type=f.content_type,
            http_status=f.status,
            etag=f.etag,
            last_modified=f.last_modified,
        )
        return None
    return getattr(archive, name)(*args)  # mark_seen


def _http(fetched) -> dict:
    return {
        "content_type": fetched.content_type,
        "status": fetched.status,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
    }


# --- the crawl process side --------------------------------------------------------------------------------------
class ArchiveWriter:
    _open: dict[Path, ArchiveWriter] = {}

    def __init__(self, db_path: Path, registry_path: str | None, run_id: int | None, lock_held: bool, workers: int = 2):
        from storage import Archive

        self.db_path = db_path
        self.lock = None
        if not lock_held:
            from crawler.crawl import CrawlLock

            self.lock = CrawlLock(db_path)
            self.lock.acquire()  # raises LockHeld: another crawl is writing this archive
        self.local = Archive(db_path)
        self.own_run = run_id is None
        if self.own_run:  # `scrapy crawl NAME`: no crawler.crawl around us to record the run
            from crawler.registry import load_registry

            self.local.sync_registry(load_registry(registry_path))
            run_id = self.local.start_crawl_run("scrapy crawl")
        self.run_id = run_id
        self.users = 0
        self.inflight: dict[str, asyncio.Future] = {}
        self.failed: set[str] = set()  # URLs whose write failed in this crawl
        self.executors = [self._executor() for _ in range(max(1, workers))]

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(str(self.db_path),),
        )

    @classmethod
    def acquire(cls, settings) -> ArchiveWriter:
        path = Path(settings.get("XXGK_DB")).resolve()
        writer = cls._open.get(path)
        if writer is None:
            run = settings.get("XXGK_CRAWL_RUN")
            writer = cls(
                path,
                settings.get("XXGK_REGISTRY"),
                int(run) if run else None,
                settings.getbool("XXGK_LOCK_HELD"),
                settings.getint("XXGK_ARCHIVE_WORKERS", 2),
            )
            cls._open[path] = writer
        writer.users += 1
        return writer

    def release(self) -> None:
        self.users -= 1
        if self.users > 0:
            return
        for executor in self.executors:
            executor.shutdown(wait=True)
        if self.own_run:
            results = list(RESULTS.values())
            status = "ok" if all(r.status in ("ok", "empty") for r in results) else "partial"
            self.local.finish_crawl_run(
                self.run_id,
                status,
                pages=sum(r.pages for r in results),
                documents=sum(r.documents_downloaded for r in results),
                reports=sum(r.reports for r in results),
                errors=sum(len(r.failures) for r in results),
            )
        self.local.close()
        if self.lock is not None:
            self.lock.release()
        type(self)._open.pop(self.db_path, None)

    async def run(self, name: str, *args, key: str = "") -> Any:
        """Call the archive in a worker. Calls with the same `key` (a report's agency and year, a URL) always go
        to the same worker, so two versions of one report are never written at once; different reports are
        parsed in parallel. A worker that died (killed by the OS on a bomb the reader did not stop) is replaced;
        the call that killed it fails and is counted as a storage error."""
        index = zlib.crc32(key.encode()) % len(self.executors)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executors[index], _worker_call, name, args)
        except BrokenProcessPool:
            self.executors[index] = self._executor()
            raise

    # Ordering: a report page is written after its attachments (whichever worker they went to), so that a crawl
    # killed in between leaves the page unknown and the next run comes back for the attachment.
    def begin(self, url: str | None) -> asyncio.Future | None:
        if url is None:
            return None
        done = asyncio.get_running_loop().create_future()
        self.inflight[url] = done
        return done

    def end(self, url: str | None, done: asyncio.Future | None, *, ok: bool) -> None:
        if done is not None and not done.done():
            done.set_result(ok)
        if url is not None:
            if self.inflight.get(url) is done:
                del self.inflight[url]
            if not ok:
                self.failed.add(url)

    async def after(self, urls: tuple[str, ...]) -> bool:
        """Wait for the writes of `urls` still in flight; False when one of them failed."""
        waiting = [self.inflight[u] for u in urls if u in self.inflight]
        if waiting and not all(await asyncio.gather(*waiting)):
            return False
        return not any(u in self.failed for u in urls)

    def known_document(self, url: str):
        """The archive's record of `url` (ETag, Last-Modified, when it was last seen), or None."""
        return self.local.known_document(url)

    def validators(self, url: str):
        """The record a conditional GET is built from. A page that only links its report has its validators
        hidden, so a recheck fetches it whole and its attachments get their own conditional GETs."""
        known = self.local.known_document(url)
        if known is None or known.format != "html":
            return known
        is_report = self.local.conn.execute("SELECT 1 FROM reports WHERE source_url = ? LIMIT 1", (url,)).fetchone()
        return known if is_report else replace(known, etag=None, last_modified=None)


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.writer: ArchiveWriter | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.writer = ArchiveWriter.acquire(self.crawler.settings)
        spider.known_document = self.writer.known_document
        spider.validators = self.writer.validators
        self.result = RESULTS.setdefault(spider.portal.id, PortalResult(spider.portal.id))
        # Stop walking a list at its first all-archived page only when the last crawl of this portal finished;
        # after a killed or failed one, walk every page again.
        last = self.writer.local.portal_history(spider.portal.id, limit=1)
        spider.full_walk = not last or last[0]["status"] not in ("ok", "empty")
        # In this process: a re-crawl with nothing new to archive never starts a worker.
        self.writer.local.record_portal_status(self.writer.run_id, spider.portal.id, "running")

    async def process_item(self, item):
        writer = self.writer
        assert writer is not None
        url = getattr(getattr(item, "fetched", None), "url", None)
        done = writer.begin(url)
        try:
            if not await writer.after(getattr(item, "after", ())):
                # An attachment of this page failed to archive: keep the page unknown, the next run returns.
                writer.end(url, done, ok=False)
                return None
            if isinstance(item, ReportItem):
                identity = f"{item.agency}:{item.year}" if item.agency and item.year else item.fetched.url
                result = await writer.run("ingest", item, key=identity)
                self._count(result["status"], result["parse_status"])
                logger.info(
                    "report %s: %s %s %s (%s, published %s from %s; dates seen %s)",
                    result["status"],
                    result["agency"],
                    result["year"],
                    item.fetched.url,
                    "parsed" if result["parse_status"] == "ok" else f"parse failed: {result['parse_reason']}",
                    item.published_at,
                    item.published_source,
                    item.published_candidates,
                )
            elif isinstance(item, DocumentItem):
                await writer.run("store", item, key=item.fetched.url)
                self.result.documents_stored += 1
            elif isinstance(item, SeenItem):
                await writer.run("mark_seen", item.url, key=item.url)
        except Exception:
            # The archive refused a write (disk full, locked too long, worker died): the crawl goes on, the run
            # says so, and the next run fetches the document again (the archive does not know it).
            self.result.storage_errors += 1
            logger.exception("archive write failed for %s", url or item)
            writer.end(url, done, ok=False)
            return None
        writer.end(url, done, ok=True)
        return None  # documents are large: nothing downstream needs the bytes

    def _count(self, status: str, parse_status: str) -> None:
        if status == "new":
            self.result.reports_new += 1
        elif status in ("changed", "failed_version"):
            self.result.reports_changed += 1
        else:
            self.result.reports_unchanged += 1
        if parse_status != "ok":
            self.result.parse_failed += 1

    def close_spider(self) -> None:
        spider = self.crawler.spider
        stats = self.crawler.stats
        outcome = spider.outcome
        r = self.result
        r.status = outcome.status if not r.storage_errors else "error"
        r.error = outcome.error_text()
        r.pages = outcome.listings_ok
        r.documents_downloaded = stats.get_value("xxgk/documents_downloaded", 0)
        r.known_skipped = stats.get_value("xxgk/documents_known_skipped", 0)
        r.not_modified = stats.get_value("xxgk/documents_not_modified", 0)
        r.refused = {k.rsplit("/", 1)[1]: v for k, v in stats.get_stats().items() if k.startswith("xxgk/refused/")}
        r.failures = outcome.failures
        assert self.writer is not None
        self.writer.local.record_portal_status(
            self.writer.run_id, spider.portal.id, r.status, r.error, r.pages, r.documents_downloaded, r.reports
        )
        self.writer.release()
