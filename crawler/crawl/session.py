"""What the crawls of one run share: the archive writer, the run id, each portal's result, freshness.

`crawler.crawl.crawl()` opens one session per run and hands it to every Scrapy crawler it starts
(`attach`); the spiders and the archive pipeline find it with `CrawlSession.of(crawler)`. Run on its own
(`scrapy crawl NAME`), a crawler gets a session of its own: it takes the archive's crawl lock, records its own
run and finishes it when the spider closes.
"""

from __future__ import annotations

from pathlib import Path

from crawler.crawl.incremental import Freshness
from crawler.crawl.results import OK_STATUSES, PortalResult, finish_run, record_result
from crawler.crawl.writer import ArchiveWriter
from crawler.registry import load_registry
from storage import Archive, crawl_lock

_ATTRIBUTE = "xxgk_session"


class CrawlSession:
    def __init__(self, db_path: str | Path, run_id: int, *, workers: int = 2, recheck_days: float = 7.0):
        self.db_path = Path(db_path).resolve()
        self.run_id = run_id
        self.archive = Archive(self.db_path)  # this process's reads (freshness, portal history) and statuses
        self.writer = ArchiveWriter(self.db_path, workers)
        self.freshness = Freshness(self.archive.documents.known, self.archive.documents.is_report_source, recheck_days)
        self.results: dict[str, PortalResult] = {}
        # portal id → the 年报 column this run crawls, for portals declared by their home page
        # (crawler/crawl/columns.py); None there: none is known, the spider starts from the home page.
        self.columns: dict[str, str | None] = {}
        self.standalone = False
        self._lock = None

    @classmethod
    def from_settings(cls, settings, run_id: int) -> CrawlSession:
        return cls(
            settings.get("XXGK_DB"),
            run_id,
            workers=settings.getint("XXGK_ARCHIVE_WORKERS", 2),
            recheck_days=settings.getfloat("XXGK_RECHECK_DAYS", 7.0),
        )

    # --- finding it -------------------------------------------------------------------------------------
    def attach(self, crawler) -> None:
        setattr(crawler, _ATTRIBUTE, self)

    @classmethod
    def of(cls, crawler) -> CrawlSession:
        session = getattr(crawler, _ATTRIBUTE, None)
        if session is None:
            session = cls._standalone(crawler.settings)
            session.attach(crawler)
        return session

    @classmethod
    def _standalone(cls, settings) -> CrawlSession:
        """`scrapy crawl NAME`: no crawler.crawl around us to lock the archive and record the run."""
        lock = crawl_lock(Path(settings.get("XXGK_DB")).resolve())
        lock.acquire()  # raises LockHeld: another crawl is writing this archive
        with Archive(settings.get("XXGK_DB")) as archive:
            archive.agencies.sync_registry(load_registry(settings.get("XXGK_REGISTRY")))
            run_id = archive.runs.start("scrapy crawl")
        session = cls.from_settings(settings, run_id)
        session.standalone, session._lock = True, lock
        return session

    # --- per portal -------------------------------------------------------------------------------------
    def result(self, portal_id: str) -> PortalResult:
        return self.results.setdefault(portal_id, PortalResult(portal_id))

    def start_url(self, portal) -> str:
        """Where this run crawls the portal from: its column as found (self-healing listings), else start_url."""
        return self.columns.get(portal.id) or portal.start_url

    def disown_listing(self, portal_id: str, column_url: str, why: str) -> None:
        """The column answered, but its walk is not shown to be the agency's listing (it lists none of the
        reports the archive has from it, and no other column was found): recorded with no listing pages, so
        no absence is read from it (crawler.rules.deadline: unverified; crawler.rules.changes: no takedown),
        and as a failure of the portal, which an operator must look at."""
        r = self.result(portal_id)
        r.failures = [*r.failures, {"url": column_url, "reason": "column_lost", "detail": why, "role": "column"}]
        r.error = f"{r.error}; {why}" if r.error else why
        r.status = "partial" if r.status in OK_STATUSES else r.status
        r.listing_pages, r.listing_complete = [], False
        self.record(r)

    def record(self, r: PortalResult) -> None:
        """A portal's outcome in this run, as crawl_portal_status keeps it."""
        record_result(self.archive, self.run_id, r)

    def needs_full_walk(self, portal_id: str) -> bool:
        """Stop walking a list at its first all-archived page only when the last crawl of this portal finished;
        after a killed or failed one, walk every page again."""
        last = self.archive.runs.history(portal_id, limit=1)
        return not last or last[0]["status"] not in OK_STATUSES

    def is_archived(self, url: str) -> bool:
        return self.archive.documents.known(url) is not None

    def reports_archived(self) -> int:
        return sum(r.reports for r in self.results.values())

    # --- the end ----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Wait for the workers' last writes; a standalone session also records the end of its run."""
        self.writer.close()
        try:
            if self.standalone:
                finish_run(self.archive, self.run_id, self.results.values())
        finally:
            self.archive.close()
            if self._lock is not None:
                self._lock.release()
