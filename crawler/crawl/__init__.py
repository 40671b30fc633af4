"""The crawl layer: Scrapy spiders (spiders/), their middlewares and the archive pipeline, and `crawl()`.

    crawler/crawl/job.py          crawl(): lock, run record, one Scrapy crawler per portal, the summary
    crawler/crawl/session.py      what the crawlers of one run share (writer, results, freshness)
    crawler/crawl/items.py        what spiders yield: one IncomingDocument per item
    crawler/crawl/pipeline.py     items → the archive writer
    crawler/crawl/writer.py       worker processes that run crawler.ingest
    crawler/crawl/safety.py       confinement middleware (crawler.confinement is the policy)
    crawler/crawl/incremental.py  "archived and fresh?", conditional GETs, 304s
    crawler/crawl/retry.py        retries with backoff and Retry-After
    crawler/crawl/listing_browser.py  one Playwright download handler per crawler (JavaScript listings)
"""

from crawler.crawl.job import crawl
from crawler.crawl.results import CrawlSummary

__all__ = ["CrawlSummary", "crawl"]
