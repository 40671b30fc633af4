"""The frontier of a one-process crawl lives on disk (crawler/crawl/frontier.py DiskScheduler): requests waiting,
each carrying what the spider hands along (a report page's bytes in its chain), cost disk, not memory."""

from __future__ import annotations

import tracemalloc

import scrapy
from scrapy.core.scheduler import Scheduler
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawler.crawl.frontier import DiskScheduler, MemoryDupeFilter

QUEUE = {"SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue"}  # the default one needs an engine
REQUESTS = 5_000
PAYLOAD = 4096  # bytes each request carries in its meta (a report page waiting for its attachment)


class Spider(scrapy.Spider):
    name = "frontier-test"

    def parse(self, response):
        pass


def fill(scheduler, spider) -> tuple[int, int]:
    """(bytes held after enqueueing every request, requests handed back), measured with tracemalloc."""
    scheduler.open(spider)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(REQUESTS):
        payload = bytes([i % 251]) * PAYLOAD
        scheduler.enqueue_request(Request(f"http://127.0.0.1/{i}", callback=spider.parse, meta={"page": payload}))
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    back = 0
    while (request := scheduler.next_request()) is not None:
        assert request.meta["page"][0] == int(request.url.rsplit("/", 1)[1]) % 251
        back += 1
    scheduler.close("finished")
    return held, back


def test_waiting_requests_are_held_on_disk_not_in_memory(tmp_path):
    crawler = get_crawler(Spider, {**QUEUE, "XXGK_FRONTIER_DIR": str(tmp_path), "DUPEFILTER_CLASS": MemoryDupeFilter})
    spider = Spider.from_crawler(crawler)
    crawler.spider = spider
    on_disk = DiskScheduler.from_crawler(crawler)
    jobdir = on_disk.jobdir
    disk_held, disk_back = fill(on_disk, spider)
    in_memory = Scheduler.from_crawler(get_crawler(Spider, QUEUE))
    memory_held, memory_back = fill(in_memory, spider)
    assert disk_back == memory_back == REQUESTS  # every request comes back, payload intact
    assert memory_held > REQUESTS * PAYLOAD  # in memory: at least every payload
    assert disk_held < memory_held / 10, (disk_held, memory_held)
    assert not (tmp_path / jobdir).exists()  # the crawl's frontier directory goes with it
