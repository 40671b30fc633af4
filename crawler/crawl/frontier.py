"""Where a crawl keeps the requests it has yet to make: on disk for one process, in Redis for several.

One process (`xxgk crawl`): `DiskScheduler` is Scrapy's own scheduler with a job directory of its own per
portal crawler (JOBDIR-style pickled disk queues), made when the crawler opens and removed when it closes.
The requests waiting (each one carrying its chain of report-page state) are then on disk, not in memory;
only the ones in flight are. The directory never outlives its crawl: a killed crawl's leftovers are removed
when the next crawl opens one (after a day, as the document store does), and what the killed crawl had not
fetched the next one finds again, because the archive does not know it (the archive is the resume point,
not the queue).

Several processes (`xxgk crawl --redis URL`): `RedisScheduler` is scrapy-redis's scheduler (the frontier and
its dupefilter in Redis, kept when a worker closes: SCHEDULER_PERSIST) with one addition scrapy-redis lacks:
a request popped by a worker is *leased*, not gone. The pop moves it into the frontier's lease hash in the
same Redis script; the lease is released only once the response has been handled to the end (its callback
or errback has run, the requests it yielded are in the frontier and its items have been handed to the
results list). Each worker keeps a heartbeat key alive; a lease whose worker's heartbeat has expired (the
worker was killed) goes back to the frontier, and another worker makes the request again. A worker keeps a
portal open while any lease of that portal is out, so the last worker standing finishes what a dead one left.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import time
from pathlib import Path

from scrapy.core.scheduler import Scheduler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis import queue as redis_queue
from scrapy_redis import scheduler as redis_scheduler

logger = logging.getLogger(__name__)

STALE_SECONDS = 24 * 3600
LEASE_META = "xxgk_lease"


# --- one process: the frontier on disk ------------------------------------------------------------------------
def frontier_root(settings) -> Path:
    """The folder of the crawl's disk frontiers: XXGK_FRONTIER_DIR, else beside the archive (`<db stem>-frontier`)."""
    configured = settings.get("XXGK_FRONTIER_DIR")
    if configured:
        return Path(configured)
    db = Path(settings.get("XXGK_DB") or "data/xxgk.db")
    return db.with_name(f"{db.stem}-frontier")


class DiskScheduler(Scheduler):
    """Scrapy's scheduler with a private JOBDIR per crawler, removed at close (no resume: see the module doc)."""

    @classmethod
    def from_crawler(cls, crawler):
        root = frontier_root(crawler.settings)
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale(root)
        jobdir = tempfile.mkdtemp(prefix=f"{crawler.spidercls.name}-", dir=root)
        dupefilter_cls = load_object(crawler.settings["DUPEFILTER_CLASS"])
        scheduler = cls(
            dupefilter=build_from_crawler(dupefilter_cls, crawler),
            jobdir=jobdir,
            dqclass=load_object(crawler.settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(crawler.settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=crawler.settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(crawler.settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
        scheduler.jobdir = jobdir
        return scheduler

    def close(self, reason: str):
        try:
            return super().close(reason)
        finally:
            shutil.rmtree(self.jobdir, ignore_errors=True)
            try:
                Path(self.jobdir).parent.rmdir()  # the last portal out leaves no empty folder beside the archive
            except OSError:
                pass


class MemoryDupeFilter(RFPDupeFilter):
    """Scrapy's fingerprint filter without its JOBDIR file: the frontier's directory is private and removed at
    close, so a seen-file there would only cost a write per listing request."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls(
            None, debug=crawler.settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=crawler.request_fingerprinter
        )


def _remove_stale(root: Path) -> None:
    cutoff = time.time() - STALE_SECONDS
    for path in root.iterdir():
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


# --- several processes: the frontier in Redis, with leases -----------------------------------------------------
class Keys:
    """Every Redis key of one distributed crawl round (the writer starts a round; workers join it)."""

    PREFIX = "xxgk"
    ROUND = f"{PREFIX}:round"  # the round workers join (set by the writer)
    ROUNDS = f"{PREFIX}:rounds"  # counter

    def __init__(self, round_id: int | str):
        self.round = str(round_id)
        base = f"{self.PREFIX}:{self.round}"
        self.base = base
        self.workers = f"{base}:workers"  # worker ids that joined and have not left
        self.joined = f"{base}:joined"  # how many ever joined
        self.results = f"{base}:results"  # records for the writer (FIFO: LPUSH, the writer takes from the right)
        self.taking = f"{base}:taking"  # the record the writer is applying
        self.pushed = f"{base}:pushed"  # document URLs whose records are in `results` (a page waits for them)
        self.failed = f"{base}:failed"  # document URLs whose record could not be made
        self.queue = f"{base}:%(spider)s:requests"
        self.dupefilter = f"{base}:%(spider)s:dupefilter"

    def alive(self, worker: str) -> str:
        return f"{self.base}:alive:{worker}"

    def pattern(self) -> str:
        return f"{self.base}:*"


_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('HSET', KEYS[2], ARGV[1], item[1])
redis.call('HSET', KEYS[3], ARGV[1], item[2])
return item[1]
"""
_RECLAIM = """
local n = 0
for i, lease in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[2], lease)
  if data then
    redis.call('ZADD', KEYS[1], tonumber(redis.call('HGET', KEYS[3], lease) or '0'), data)
    redis.call('HDEL', KEYS[2], lease)
    redis.call('HDEL', KEYS[3], lease)
    n = n + 1
  end
end
return n
"""


# Seen-check and push in one step: a worker killed between the two would leave a request marked seen that is in
# no frontier, and the listing that yielded it, made again by another worker, would not yield it again.
_PUSH_UNSEEN = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""
_PENDING = "return redis.call('ZCARD', KEYS[1]) + redis.call('HLEN', KEYS[2])"
_RELEASE = "redis.call('HDEL', KEYS[1], ARGV[1]); return redis.call('HDEL', KEYS[2], ARGV[1])"


class LeasedQueue(redis_queue.PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request (see the module doc)."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.leases = f"{self.key}:leases"
        self.scores = f"{self.key}:scores"
        self._pop = server.register_script(_POP)
        self._reclaim = server.register_script(_RECLAIM)
        self._pending = server.register_script(_PENDING)
        self._release = server.register_script(_RELEASE)
        self._push_unseen = server.register_script(_PUSH_UNSEEN)

    def _encode_request(self, request):
        # The JS-listing page hook is a method of this worker's BrowserGate: not serialisable, and every worker
        # has its own gate for the same portal. It is put back when the request is popped (_decode_request).
        hook = request.meta.pop("playwright_page_init_callback", None)
        try:
            return super()._encode_request(request)
        finally:
            if hook is not None:
                request.meta["playwright_page_init_callback"] = hook

    def _decode_request(self, encoded_request):
        request = super()._decode_request(encoded_request)
        if request.meta.get("playwright"):
            request.meta["playwright_page_init_callback"] = self.spider.browser_gate.confine_page
        return request

    def push_unseen(self, request, seen_key: str, fingerprint: str) -> bool:
        """Push `request` unless `fingerprint` is in the set `seen_key` (which it joins); False when it was."""
        data = self._encode_request(request)
        return bool(self._push_unseen(keys=[self.key, seen_key], args=[fingerprint, -request.priority, data]))

    def pop_leased(self, lease: str):
        data = self._pop(keys=[self.key, self.leases, self.scores], args=[lease])
        if data is None:
            return None
        request = self._decode_request(data)
        request.meta[LEASE_META] = lease
        return request

    def release(self, lease: str) -> None:
        self._release(keys=[self.leases, self.scores], args=[lease])

    def pending(self) -> bool:
        """Requests waiting or leased, read at once (a pop moves a request from one to the other)."""
        return int(self._pending(keys=[self.key, self.leases])) > 0

    def reclaim(self, is_alive) -> int:
        """Put back the leases of workers whose heartbeat is gone; returns how many."""
        dead = [
            lease.decode() if isinstance(lease, bytes) else lease
            for lease in self.server.hkeys(self.leases)
            if not is_alive(_owner(lease))
        ]
        return int(self._reclaim(keys=[self.key, self.leases, self.scores], args=dead)) if dead else 0

    def clear(self):
        self.server.delete(self.key, self.leases, self.scores)


def _owner(lease: bytes | str) -> str:
    text = lease.decode() if isinstance(lease, bytes) else lease
    return text.rsplit("|", 1)[0]


class RedisScheduler(redis_scheduler.Scheduler):
    """scrapy-redis's scheduler over a LeasedQueue: requests are leased when popped and released once their
    response has been handled to the end (the scraper's enqueue_scrape Deferred)."""

    RECLAIM_EVERY = 1.0  # seconds between looks for dead workers' leases, while the queue is empty
    # How often an idle engine asks for the next request (Scrapy: 5 s). Another worker's responses refill the
    # frontier while this one waits: asked every 5 s, each portal would idle seconds at each turn.
    HEARTBEAT = 0.5

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        crawler.engine._SLOT_HEARTBEAT_INTERVAL = scheduler.HEARTBEAT
        scheduler.crawler = crawler
        scheduler.worker = crawler.settings.get("XXGK_WORKER_ID")
        scheduler.keys = Keys(crawler.settings.get("XXGK_REDIS_ROUND"))
        scheduler._leases = itertools.count(1)
        scheduler._next_reclaim = 0.0
        return scheduler

    def open(self, spider):
        # scrapy-redis's open, without its flush (SCHEDULER_PERSIST) and its deprecated spider.log call.
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name}, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        scraper = self.crawler.engine.scraper
        handle = scraper.enqueue_scrape

        def enqueue_scrape(result, request):
            d = handle(result, request)
            lease = request.meta.get(LEASE_META)
            if lease is not None:
                d.addBoth(self._released, lease)
            return d

        scraper.enqueue_scrape = enqueue_scrape

    def _released(self, result, lease: str):
        self.queue.release(lease)
        return result

    def enqueue_request(self, request) -> bool:
        """A fresh request goes through the shared dupefilter even when the spider marked it dont_filter: the
        spider's own once-per-crawl checks are per process, and every worker starts every portal and may meet
        the same report page on two listing pages (`index.html` and `index.html?page=1`) another worker walks.
        Two requests are left alone: an attachment in its report page's chain (the chain must get an answer,
        and its page is made by one worker only), and a request back from the downloader (a redirect, a retry:
        it still holds the lease of the one popped, released once the new request is in the frontier)."""
        lease = request.meta.pop(LEASE_META, None)
        try:
            if (lease is None and "xxgk_chain" not in request.meta) or not request.dont_filter:
                pushed = self.queue.push_unseen(request, self.df.key, self.df.request_fingerprint(request))
                if not pushed:
                    self.df.log(request, self.spider)
            else:
                self.queue.push(request)
                pushed = True
            if pushed and self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return pushed
        finally:
            if lease is not None:
                self.queue.release(lease)

    def next_request(self):
        request = self.queue.pop_leased(f"{self.worker}|{next(self._leases)}")
        if request is None and time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + self.RECLAIM_EVERY
            back = self.queue.reclaim(lambda worker: bool(self.server.exists(self.keys.alive(worker))))
            if back:
                logger.warning("%s: %d requests of stopped workers back in the frontier", self.spider.name, back)
                request = self.queue.pop_leased(f"{self.worker}|{next(self._leases)}")
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return self.queue.pending()

    def __len__(self) -> int:
        return len(self.queue)
