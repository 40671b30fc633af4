"""The archive pipeline: every item goes to the run's ArchiveWriter (crawler.ingest in a worker process)."""

from __future__ import annotations

import logging

from crawler.crawl import writer as calls
from crawler.crawl.items import DocumentItem, GoneItem, ListedItem, ReportItem, SeenItem
from crawler.crawl.session import CrawlSession

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.session = CrawlSession.of(self.crawler)
        self.writer = self.session.writer
        self.result = self.session.result(spider.portal.id)
        # In this process: a re-crawl with nothing new to archive never starts a worker.
        self.session.archive.runs.record_portal(self.session.run_id, spider.portal.id, "running")

    async def process_item(self, item):
        if isinstance(item, ListedItem | GoneItem):
            self._record(item)  # small writes of this process, no parsing: no worker needed
            return None
        writer = self.writer
        url = item.document.url if isinstance(item, ReportItem | DocumentItem) else None
        done = writer.begin(url)
        try:
            if not await writer.after(getattr(item, "after", ())):
                # An attachment of this page failed to archive: keep the page unknown, the next run returns.
                writer.end(url, done, ok=False)
                return None
            if isinstance(item, ReportItem):
                doc = item.document
                result = await writer.run(calls.ingest_report, doc, key=calls.report_key(doc))
                self.result.count(result["status"], result["parse_status"])
                logger.info(
                    "report %s: %s %s %s (%s, published %s from %s; dates seen %s)",
                    result["status"],
                    result["agency"],
                    result["year"],
                    doc.url,
                    "parsed" if result["parse_status"] == "ok" else f"parse failed: {result['parse_reason']}",
                    doc.published_at,
                    doc.published_source,
                    item.published_candidates,
                )
            elif isinstance(item, DocumentItem):
                await writer.run(calls.store_document, item.document, key=item.document.url)
                self.result.documents_stored += 1
            elif isinstance(item, SeenItem):
                await writer.run(calls.mark_seen, item.url, key=item.url)
        except Exception:
            # The archive refused a write (disk full, locked too long, worker died): the crawl goes on, the run
            # says so, and the next run fetches the document again (the archive does not know it).
            self.result.storage_errors += 1
            logger.exception("archive write failed for %s", url or item)
            writer.end(url, done, ok=False)
            return None
        writer.end(url, done, ok=True)
        return None  # documents are large: nothing downstream needs the bytes

    def _record(self, item: ListedItem | GoneItem) -> None:
        documents = self.session.archive.documents
        try:
            if isinstance(item, ListedItem):
                entries = [(url, item.listing_url, text) for url, text in item.entries]
                documents.mark_listed(item.portal_id, self.session.run_id, entries)
            else:
                documents.mark_gone(item.url, item.status)
        except Exception:
            self.result.storage_errors += 1
            logger.exception("archive write failed for %s", item)

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
        r.listings_failed, r.budget_exhausted = outcome.listings_failed, outcome.budget_exhausted
        r.listing_pages = outcome.listing_pages
        r.listing_complete = outcome.listing_complete and r.status not in ("unreachable", "error")
        self.session.record(r)
        if self.session.standalone:
            self.session.close()
