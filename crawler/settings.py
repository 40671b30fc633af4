"""Scrapy settings for xxgk (`scrapy crawl NAME` and `xxgk crawl` share them).

Politeness first: government portals are small servers run by small offices. Every value here can be
overridden per run (`scrapy crawl NAME -s KEY=VALUE`, or `crawler.crawl.crawl(settings={...})`).
"""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

from crawler.browser import CHROMIUM_PATH, CONFINED_CHROMIUM_ARGS, CONFINED_CONTEXT

BOT_NAME = "xxgk"

# Spiders come from the registry: one per declared portal, built from its CMS family's base class
# (spiders/base/<cms>.py). A module in spiders/ may refine a portal that needs real code of its own.
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
SPIDER_LOADER_CLASS = "spiders.loader.RegistrySpiderLoader"

# --- xxgk's own settings -------------------------------------------------------------------------------
XXGK_DB = os.environ.get("XXGK_DB") or "data/xxgk.db"  # the archive (storage.Archive); a lock file sits beside it
XXGK_REGISTRY = os.environ.get("XXGK_REGISTRY")  # None → crawler/registry.yaml
XXGK_CONTACT = os.environ.get("XXGK_CONTACT", "https://github.com/xxgk-monitor/xxgk")  # who to tell if we misbehave
# Private, loopback and link-local addresses are refused (SSRF). Tests, the replica portals and the demo
# list the loopback networks they serve from here; production leaves it empty.
XXGK_ALLOWED_PRIVATE_NETWORKS = [n for n in os.environ.get("XXGK_ALLOWED_PRIVATE_NETWORKS", "").split(",") if n.strip()]
# A document already in the archive is not downloaded again. Every RECHECK_DAYS it gets a conditional GET
# (If-None-Match / If-Modified-Since) so that edits after publication are caught; 0 rechecks on every run.
XXGK_RECHECK_DAYS = float(os.environ.get("XXGK_RECHECK_DAYS", "7"))
XXGK_MAX_PAGES_PER_PORTAL = 600  # listing/navigation pages, not documents: a runaway guard
XXGK_HUB_DEPTH = 3  # generic path: link hops from the start page while looking for the 年报 column
XXGK_ZIP_MAX_MEMBERS = 50
XXGK_ZIP_MAX_TOTAL = None  # uncompressed bytes read out of one zip (zip bombs); None: 2 × DOWNLOAD_MAXSIZE
XXGK_RETRY_BACKOFF_BASE = 2.0  # seconds; doubles with each retry of the same request
XXGK_RETRY_BACKOFF_MAX = 120.0
XXGK_MAX_RETRY_AFTER = 600.0  # a longer Retry-After gives up on the request (recorded) instead of stalling
XXGK_CRAWL_RUN = None  # set by crawler.crawl: the crawl-run id every item is recorded under
XXGK_ARCHIVE_WORKERS = 2  # processes that parse and write to the archive (one report always to the same one)
XXGK_PARALLEL_PORTALS = 8  # portals crawled at the same time (each one politely, see below)
# JavaScript portals crawled at the same time, each with its own Chromium (about 500 MB with its Playwright
# driver): the others wait their turn, so a crawl's memory does not depend on how many of them come together.
XXGK_PARALLEL_BROWSERS = 1
XXGK_PROGRESS_SECONDS = 10.0  # how often `xxgk crawl` prints its progress line

# --- the frontier (crawler/crawl/frontier.py) -----------------------------------------------------------
# Requests waiting to be made live on disk, in a private JOBDIR per portal crawler removed when it closes: the
# memory of a crawl is its portals in flight, not its frontier. `xxgk crawl --redis` replaces both with
# scrapy-redis's (the frontier and its fingerprints in Redis; crawler/crawl/distributed.py).
SCHEDULER = "crawler.crawl.frontier.DiskScheduler"
DUPEFILTER_CLASS = "crawler.crawl.frontier.MemoryDupeFilter"
XXGK_FRONTIER_DIR = os.environ.get("XXGK_FRONTIER_DIR")  # None → beside the archive: <db stem>-frontier/
# Distributed crawl: a worker whose heartbeat is this old is taken for dead and its leased requests go back to
# the frontier; workers wait this long for the writer's round, the writer as long for its first worker.
XXGK_REDIS_LEASE_SECONDS = 15.0
XXGK_REDIS_JOIN_SECONDS = 60.0

# --- politeness ------------------------------------------------------------------------------------------
# Each portal is its own Scrapy crawler with its own downloader, so its domains' slots (at most
# CONCURRENT_REQUESTS_PER_DOMAIN at once, DOWNLOAD_DELAY apart, AutoThrottle stretching the delay when a portal
# slows down) are never shared with another portal's, however many thousand domains a national registry
# holds; Scrapy drops a slot idle for a minute. What a national crawl then costs is set by XXGK_PARALLEL_PORTALS:
# its wall time is about (requests per portal × the delay AutoThrottle settles on) × portals ÷ portals at once
# (bench/national.py prints the projection), and its memory about XXGK_PARALLEL_PORTALS crawlers in flight.
USER_AGENT = f"xxgk/0.1 (open-government annual report monitor; +{XXGK_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16  # across portals; each portal (domain) gets at most 2
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy's list, and a JavaScript listing whose page did not load in time (Playwright's TimeoutError is no
# OSError): in the national replay's distributed first crawl a loaded machine made all five miss 30 s once.
RETRY_EXCEPTIONS = [*_scrapy_defaults.RETRY_EXCEPTIONS, "playwright.async_api.TimeoutError"]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = True  # some Hanweb sites set an anti-bot cookie on the column page before dataproxy answers
# The name is looked up again where the connection is made, and a private answer is refused there too: a name
# that answered a public address when the request was checked cannot connect to a private one (DNS rebinding),
# and a lookup that fails fails closed. `xxgk crawl` (CrawlerRunner) installs it from SafetyMiddleware.
TWISTED_DNS_RESOLVER = "crawler.crawl.resolver.ConfinedResolver"

# --- size limits -----------------------------------------------------------------------------------------
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024  # a report is rarely above 20 MB; anything bigger is refused and recorded
DOWNLOAD_WARNSIZE = 20 * 1024 * 1024

# --- components ------------------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Ours run first (lowest number): refuse offsite/private targets before robots.txt is even fetched.
    "crawler.crawl.safety.SafetyMiddleware": 50,
    "crawler.crawl.incremental.IncrementalMiddleware": 60,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # replaced by SafetyMiddleware
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.crawl.retry.BackoffRetryMiddleware": 550,
}
SPIDER_MIDDLEWARES = {"crawler.crawl.safety.BadLinkMiddleware": 50}  # unreadable links count as refused
ITEM_PIPELINES = {"crawler.crawl.pipeline.ArchivePipeline": 300}

# --- JavaScript listings ---------------------------------------------------------------------------------
# Only portals declared `js: true` install the Playwright download handler (see spiders/base/report.py), and
# only their listing requests carry meta playwright=True. Documents are always fetched by plain HTTP.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": CHROMIUM_PATH,
    "headless": True,
    "args": CONFINED_CHROMIUM_ARGS,  # no direct network: the spider's BrowserGate fetches for the page
}
# Every page request carries xxgk's user agent, like Scrapy's; no service worker may register.
PLAYWRIGHT_CONTEXTS = {"default": {**CONFINED_CONTEXT, "user_agent": USER_AGENT}}
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# The browser's requests pass Scrapy's middlewares by: each spider rendering its listing routes its pages through
# its Confinement's BrowserGate (spiders/base/report.py listing_request), and sets its check here as a second
# line; without one, the browser may fetch nothing.
PLAYWRIGHT_ABORT_REQUEST = "crawler.confinement.refuse_browser_request"

# Scrapy's telnet console and (2.19+) remote-control HTTP server both run code sent to a local port: a crawler of
# untrusted sites opens neither (and each costs time to start and stop for every portal).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Scrapy re-parses each callback's source on every response to warn about `return value` in generators; ours
# are reviewed (and tested), and with a hundred portals the check costs more than the crawl of an unchanged one.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = os.environ.get("XXGK_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
