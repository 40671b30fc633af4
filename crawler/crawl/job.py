"""Run crawls from Python: the API under `xxgk crawl` (and `xxgk run`, `xxgk demo`).

    from crawler.crawl import crawl
    summary = crawl(["wenzhou", "shenyang"], db="data/xxgk.db")        # or crawl() for every portal
    summary = crawl(url="https://www.example.gov.cn/", agency="某县人民政府", kind="government", db=...)
    print(summary.exit_code, summary.to_dict())

Exit codes (crawler.exits): 0 every portal crawled; 1 partial failure: some portal unreachable or some pages
or documents failed, everything else was archived; 2 fatal: nothing was crawled — another crawl holds the
lock (the summary's status is then `locked`, so `xxgk run` can tell "busy, try later" from a failure), the
registry or a portal name is wrong, or the archive could not be written.

A portal declared by its home page is crawled from its 年报 column as found, and found again from the home page
when it has moved, in the same run (crawler/crawl/columns.py).

Cron-safe: an fcntl lock on `<db>.lock` beside the database stops overlapping runs (storage.lock); every
write is an archive transaction, so a killed run leaves nothing half-written and the next run finishes its
work. Scrapy's Twisted reactor cannot be restarted: `crawl()` runs once per process (`xxgk demo` starts one
process per crawl).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.browser import PLAYWRIGHT_HANDLERS
from crawler.confinement import parse_networks
from crawler.crawl.columns import Healing
from crawler.crawl.results import LOCKED, CrawlSummary, PortalResult, finish_run, portal_dict
from crawler.crawl.session import CrawlSession
from crawler.exits import EXIT_FATAL
from crawler.registry import portal_for_url
from storage import LockHeld, crawl_lock

logger = logging.getLogger(__name__)


def _fatal(message: str, started: float, status: str = "failed") -> CrawlSummary:
    return CrawlSummary(status, EXIT_FATAL, message=f"xxgk crawl: {message}", seconds=time.monotonic() - started)


def url_problem(url: str) -> str | None:
    """Why `url` cannot start a crawl, or None. Checked before anything starts: such a URL used to fail inside
    the spider, log a traceback and end "ok" with nothing crawled."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as e:
        return f"is not a URL: {url!r} ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"is not an http(s) URL with a host: {url!r}"
    return None


def crawl(
    portals: list[str] | None = None,
    *,
    db: str | Path | None = None,
    registry: str | Path | None = None,
    url: str | None = None,
    agency: str | None = None,
    kind: str = "government",
    js: bool = False,
    recheck: bool = False,
    allow_networks: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    command: str = "xxgk crawl",
) -> CrawlSummary:
    """Crawl the named registry portals (all when none is named), or one portal outside the registry from
    `url`, into the archive at `db`. Returns the summary; never raises for a portal's failure."""
    started = time.monotonic()
    from crawler.registry import KINDS, RegistryError, load_registry

    db_path = Path(db or os.environ.get("XXGK_DB") or "data/xxgk.db")
    registry_path = str(registry) if registry else os.environ.get("XXGK_REGISTRY")
    try:
        reg = load_registry(registry_path)
    except RegistryError as e:
        return _fatal(str(e), started)
    if url:
        problem = url_problem(url)
        if problem:
            return _fatal(f"--url {problem}", started)
        if not agency or kind not in KINDS:
            return _fatal(f"--url needs --agency NAME and --kind {'|'.join(KINDS)}", started)
    else:
        known = {p.id for p in reg.portals}
        unknown = [p for p in portals or [] if p not in known]
        if unknown:
            return _fatal(f"not in the registry: {', '.join(unknown)} (known: {', '.join(sorted(known))})", started)
        if not reg.portals:
            return _fatal("the registry declares no portal", started)

    lock = crawl_lock(db_path)
    try:
        lock.acquire()
    except LockHeld as e:
        return _fatal(str(e), started, status=LOCKED)
    except OSError as e:  # the lock file cannot be made: a read-only mount, a directory we may not write
        return _fatal(f"cannot take the crawl lock {lock.path}: {e.strerror or e}", started)
    job = {
        "portals": portals,
        "url": url,
        "agency": agency,
        "kind": kind,
        "js": js,
        "recheck": recheck,
        "allow_networks": allow_networks,
        "overrides": settings,
        "progress": progress,
        "command": command,
    }
    try:
        return _run(reg, registry_path, db_path, job, started)
    finally:
        lock.release()


def _run(reg, registry_path: str | None, db_path: Path, job: dict[str, Any], started: float) -> CrawlSummary:
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    from storage import Archive

    # xxgk's settings wherever it runs from (cron starts it in $HOME, far from scrapy.cfg).
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    install_reactor(settings["TWISTED_REACTOR"])
    try:
        archive = Archive(db_path)
    except Exception as e:  # unreadable database, old SQLite, no space
        return _fatal(f"cannot open the archive {db_path}: {e}", started)
    options = {k: job[k] for k in ("portals", "url", "agency", "kind", "recheck") if job[k]}
    with archive:
        archive.agencies.sync_registry(reg)
        run_id = archive.runs.start(job["command"], options)
    url, allow_networks = job["url"], job["allow_networks"]

    settings.setdict(
        {
            "XXGK_DB": str(db_path),
            "XXGK_REGISTRY": registry_path,
            **({"XXGK_RECHECK_DAYS": 0} if job["recheck"] else {}),
            **({"XXGK_ALLOWED_PRIVATE_NETWORKS": list(allow_networks)} if allow_networks else {}),
            **({"DOWNLOAD_HANDLERS": PLAYWRIGHT_HANDLERS} if url and job["js"] else {}),
        },
        priority="cmdline",
    )
    for key, value in (job["overrides"] or {}).items():
        settings.set(key, value, priority="cmdline")
    session = CrawlSession.from_settings(settings, run_id)
    try:
        crashes = _run_reactor(settings, job, session)
    finally:
        session.close()

    results = []
    for portal_id, crash in crashes.items():
        r = session.results.get(portal_id)
        if r is None:
            r = PortalResult(portal_id, status="error", error=crash or "the spider did not start")
        elif crash:
            r.status, r.error = "error", crash
        results.append(r)
    with Archive(db_path) as archive:
        status, exit_code = finish_run(archive, run_id, results)
    return CrawlSummary(status, exit_code, run_id, time.monotonic() - started, None, [portal_dict(r) for r in results])


def _spider_classes(runner, portals, url, agency, kind, js) -> list[tuple[str, type, dict]]:
    """(portal id, spider class, spider kwargs) for each crawl of this run, from the project's spider loader
    (spiders.loader, named by SPIDER_LOADER_CLASS)."""
    loader = runner.spider_loader
    if url:
        pid = portal_for_url(url, agency, kind).id
        return [(pid, loader.load("generic"), {"url": url, "agency": agency, "kind": kind, "js": "1" if js else ""})]
    names = portals or [n for n in loader.list() if n != "generic"]
    return [(name, loader.load(name), {}) for name in names]


NOT_STARTED = "not crawled: the crawl was stopped (signal) before this portal started"


def _stopped(failure) -> None:
    """An engine that had already stopped by itself when the late stop came: nothing to do."""
    failure.trap(RuntimeError)


def _run_reactor(settings, job: dict[str, Any], session: CrawlSession) -> dict[str, str | None]:
    """Crawl every portal, a few at a time (XXGK_PARALLEL_PORTALS); returns portal id → crash text or None."""
    from scrapy import signals
    from scrapy.crawler import CrawlerRunner
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.log import configure_logging
    from twisted.internet import defer, reactor, task

    configure_logging(settings)
    runner = CrawlerRunner(settings)
    classes = _spider_classes(runner, job["portals"], job["url"], job["agency"], job["kind"], job["js"])
    progress = job["progress"]
    networks = parse_networks(settings.getlist("XXGK_ALLOWED_PRIVATE_NETWORKS"))
    semaphore = defer.DeferredSemaphore(max(1, settings.getint("XXGK_PARALLEL_PORTALS", 8)))
    browsers = defer.DeferredSemaphore(max(1, settings.getint("XXGK_PARALLEL_BROWSERS", 1)))
    crashes: dict[str, str | None] = {pid: None for pid, _, _ in classes}
    done: list[str] = []

    def failed(failure, pid: str) -> None:
        crashes[pid] = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        logger.error("portal %s crashed: %s", pid, failure.getTraceback())

    def crawl_once(pid: str, cls, kwargs: dict):
        if stopping:  # the signal came while this portal's column was being settled
            crashes[pid] = NOT_STARTED
            return defer.succeed(None)
        crawler = runner.create_crawler(cls)
        session.attach(crawler)

        def stop_when_started() -> None:
            """A signal that lands while this crawler is being built finds its engine not yet running, and
            Scrapy's stop then does nothing: stop it as soon as its engine starts."""
            if stopping:
                reactor.callLater(0, lambda: deferred_from_coro(crawler.engine.stop_async()).addErrback(_stopped))

        crawler.signals.connect(stop_when_started, signal=signals.engine_started, weak=False)

        def disconnect(result):
            """pydispatch holds a strong receiver in a global table until its sender dies, and this one refers to
            its sender: left connected, every finished portal's crawler stayed in memory (130 KB each, and their
            stats and memory-usage timers kept firing)."""
            crawler.signals.disconnect(stop_when_started, signal=signals.engine_started, weak=False)
            return result

        return runner.crawl(crawler, **kwargs).addBoth(disconnect).addErrback(failed, pid)

    @defer.inlineCallbacks
    def crawl_portal(pid: str, cls, kwargs: dict):
        """One portal: its spider, and for a portal declared by its home page the column it starts from, found
        again and crawled once more when it moved (crawler/crawl/columns.py)."""
        portal = getattr(cls, "portal", None)
        # A worker of a distributed crawl does not heal (crawler/crawl/distributed.py WorkerSession.heals): healing
        # writes the archive, which there only the writer does.
        heals = portal is not None and portal.home_url and getattr(session, "heals", True)
        healing = Healing(session, portal, networks) if heals else None
        renders = bool(portal.js if portal is not None else kwargs.get("js"))
        if renders:
            yield browsers.acquire()  # its Chromium starts once the one before has closed
        try:
            if healing is not None:
                yield healing.prepare()
            yield crawl_once(pid, cls, kwargs)
            if healing is not None and not stopping and crashes[pid] is None and (yield healing.after()):
                yield crawl_once(pid, cls, kwargs)  # the column found again, at once
                if crashes[pid] is None:
                    yield healing.after(search_again=False)
        except Exception as e:  # the archive or the discovery failed: this portal is not crawled, the others are
            crashes[pid] = f"{type(e).__name__}: {e}"
            logger.exception("portal %s: the column could not be settled", pid)
        finally:
            if renders:
                browsers.release()

    @defer.inlineCallbacks
    def start_all():
        """Start the crawls one after the other, letting the reactor breathe between two: building a crawler
        takes a tenth of a second, and 40 of them at once would stall the downloads already running (their
        timeouts run while the reactor is busy)."""
        running = []
        for pid, cls, kwargs in classes:
            yield semaphore.acquire()
            if stopping:
                crashes[pid] = NOT_STARTED
                semaphore.release()
                continue
            d = crawl_portal(pid, cls, kwargs)
            d.addBoth(lambda _, pid=pid: (done.append(pid), semaphore.release()))
            running.append(d)
            yield task.deferLater(reactor, 0, lambda: None)
        yield defer.DeferredList(running)

    ticker = task.LoopingCall(_print_progress, runner, session, done, len(classes)) if progress else None

    def start() -> None:
        if ticker is not None:
            ticker.start(settings.getfloat("XXGK_PROGRESS_SECONDS", 10.0), now=False)
        start_all().addBoth(stop)

    def stop(_) -> None:
        if ticker is not None and ticker.running:
            ticker.stop()
        if reactor.running:
            reactor.stop()

    stopping: list[int] = []

    def stop_on_signal(signum, _frame) -> None:
        """First signal: portals running finish what is in flight and close (their summary is recorded), the
        others are not started. Second signal: stop now."""
        stopping.append(signum)
        if len(stopping) == 1:
            logger.warning("signal %s: stopping the crawl gracefully (send it again to stop at once)", signum)
            reactor.callFromThread(runner.stop)
        else:
            logger.warning("signal %s again: stopping now", signum)
            reactor.callFromThread(reactor.stop)

    import signal

    previous = {s: signal.signal(s, stop_on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    reactor.callWhenRunning(start)
    try:
        reactor.run(installSignalHandlers=False)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return crashes


def _print_progress(runner, session: CrawlSession, done: list[str], total: int) -> None:
    pages = documents = 0
    for crawler in runner.crawlers:
        pages += crawler.stats.get_value("xxgk/pages", 0)
        documents += crawler.stats.get_value("xxgk/documents_downloaded", 0)
    reports = session.reports_archived()
    print(
        f"xxgk crawl: {len(done)}/{total} portals done, {len(runner.crawlers)} running: "
        f"{pages} pages, {documents} documents downloaded, {reports} reports archived",
        file=sys.stderr,
        flush=True,
    )
