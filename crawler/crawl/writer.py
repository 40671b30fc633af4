"""The archive writer of a crawl process: every document goes through crawler.ingest in a worker process.

Its writes run in *worker processes* (XXGK_ARCHIVE_WORKERS, default 2): parsing is CPU work (a 50,000-row
table, a PDF, a decompression bomb the reader refuses), and in a thread it would hold the GIL and stall the
Twisted reactor long enough for other downloads to time out. Every write of one report goes to the same
worker, so two versions of one report are never written at once; SQLite serialises the workers' commits.

Group commit: a worker parses each document as it arrives and *stages* the write in its batch
(storage/batch.py); the crawl process tells it to commit when its batch holds BATCH_DOCUMENTS documents or
BATCH_BYTES of originals, when BATCH_SECONDS have passed, or as soon as the worker has nothing else to do
(a slow trickle of documents is written one by one, as before). One commit writes the batch's originals
with one wait for the disk and all its rows in one transaction. A write is *acknowledged* (run() returns,
the pipeline counts the report archived, the next crawl's freshness sees it) only once its batch committed:
a crawl killed before that leaves at most originals no row points at, and the next run fetches those
documents again. What is staged when the writer closes (a stopped crawl) is committed then.

Ordering: a report page is written after its attachments (whichever worker they went to), so that a crawl
killed in between leaves the page unknown and the next run comes back for the attachment; an attachment
whose write failed keeps its page unknown too, so the next run downloads both again because the archive does
not know them yet.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.model import IncomingDocument

logger = logging.getLogger(__name__)

# Documents per commit at most (a worker with a backlog). The transaction holds the archive's write lock, which
# the crawl process's own small writes (listings, portal status) wait for in the reactor thread: a smaller batch
# keeps that wait short, a larger one costs less CPU per report (bench/archive.py --batch measures both).
BATCH_DOCUMENTS = 64
BATCH_BYTES = 32 * 2**20  # originals held in a worker's batch at most
BATCH_SECONDS = 1.0  # the longest a staged write waits for its commit to be asked for


# --- the worker process: one archive connection, its batch, three staging calls and commit() ------------------
_ARCHIVE = None
_BATCH = None
_STAGED: list[int] = []  # the tokens of the writes in _BATCH, in order
_TOKENS = itertools.count()


@dataclass(frozen=True)
class Staged:
    """What a staging call returns: its write waits in the worker's batch under `token`."""

    token: int
    bytes: int


class WriteFailed(Exception):
    """The archive refused a staged write, or its batch failed to commit (the message says why)."""


def report_key(doc: IncomingDocument) -> str:
    """The key a report's writes go by (ArchiveWriter.run): its agency and year, so every version of one report
    goes to the same worker, else its URL."""
    return f"{doc.agency}:{doc.year}" if doc.agency and doc.year else doc.url


def lane_of(key: str, lanes: int) -> int:
    """Which of `lanes` workers the writes with `key` go to (stable across runs and processes)."""
    return zlib.crc32(key.encode()) % lanes


def _worker_start(db_path: str) -> None:
    """In the worker: die with the crawl (a SIGKILLed crawl must not leave a writer behind), open the archive."""
    global _ARCHIVE, _BATCH
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    from storage import Archive

    _ARCHIVE = Archive(db_path)
    _BATCH = _ARCHIVE.batch()


def ingest_report(doc: IncomingDocument) -> Staged:
    """Parse and judge `doc` (in the parse sandbox) and stage its write; the result comes with the commit."""
    from crawler.ingest import examined, page_images

    return _stage(examined(doc, parse_options=page_images(_ARCHIVE, doc)))


def store_document(doc: IncomingDocument) -> Staged:
    from crawler.ingest import document_write

    return _stage(document_write(doc))


def mark_seen(url: str) -> Staged:
    from storage.records import SeenWrite

    return _stage(SeenWrite(url))


def _stage(write) -> Staged:
    size = _BATCH.bytes
    _BATCH.add(write)
    token = next(_TOKENS)
    _STAGED.append(token)
    return Staged(token, _BATCH.bytes - size)


def commit() -> dict[int, Any]:
    """Commit the worker's batch: token → what its write returned (a report's status, …) or a WriteFailed."""
    from storage import IngestResult

    tokens = _STAGED[:]
    _STAGED.clear()
    try:
        results = _BATCH.commit()
    except Exception as e:  # the whole batch: a full disk, the database locked for too long
        return dict.fromkeys(tokens, WriteFailed(f"{type(e).__name__}: {e}"))
    out: dict[int, Any] = {}
    for token, result in zip(tokens, results, strict=True):
        if isinstance(result, Exception):
            out[token] = WriteFailed(f"{type(result).__name__}: {result}")
        elif isinstance(result, IngestResult):
            out[token] = {k: getattr(result, k) for k in ("status", "parse_status", "parse_reason", "agency", "year")}
        else:
            out[token] = None  # a document kept for provenance, a seen mark: nothing to report
    return out


# --- the crawl process side -------------------------------------------------------------------------------------
class _Lane:
    """One worker process, and the writes it has staged that wait for their commit."""

    def __init__(self, executor: ProcessPoolExecutor):
        self.executor = executor
        self.staging = 0  # staging calls in flight
        self.committing = 0  # commit calls in flight
        self.waiting: dict[int, asyncio.Future] = {}  # token → the future of the run() waiting for its commit
        self.early: dict[int, Any] = {}  # results of tokens whose staging call has not come back yet
        self.bytes = 0
        self.timer: asyncio.TimerHandle | None = None
        self.uncommitted = False  # calls were made since the last commit (close() then commits)
        self.dead = False  # its worker died: a new lane took its place


class ArchiveWriter:
    def __init__(
        self,
        db_path: Path,
        workers: int = 2,
        *,
        batch_documents: int = BATCH_DOCUMENTS,
        batch_bytes: int = BATCH_BYTES,
        batch_seconds: float = BATCH_SECONDS,
    ):
        self.db_path = db_path
        self.batch_documents, self.batch_bytes, self.batch_seconds = batch_documents, batch_bytes, batch_seconds
        self.inflight: dict[str, asyncio.Future] = {}
        self.failed: set[str] = set()  # URLs whose write failed in this crawl
        from crawler.parsing import office_pool  # here, not at the top: keeps the crawl's own imports light

        # Before the workers spawn, so that they inherit XXGK_OFFICE_POOL; None: DOCs convert cold.
        self.office_pool = office_pool.start()
        self.lanes = [_Lane(self._executor()) for _ in range(max(1, workers))]
        self._tasks: set[asyncio.Task] = set()

    @property
    def executors(self) -> list[ProcessPoolExecutor]:
        return [lane.executor for lane in self.lanes]

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(str(self.db_path),),
        )

    def close(self) -> None:
        """Commit what the workers still hold staged (a crawl stopped before its commits), then end them."""
        for lane in self.lanes:
            if lane.timer is not None:
                lane.timer.cancel()
            if lane.uncommitted:  # never a worker started only to commit nothing
                try:
                    lane.executor.submit(commit).result()
                except Exception as e:  # a dead worker took its batch with it: the next run fetches those again
                    logger.warning("archive worker: the last commit failed: %s", e)
            lane.executor.shutdown(wait=True)
        if self.office_pool is not None:
            self.office_pool.stop()
            self.office_pool = None

    async def run(self, call: Callable[[Any], Any], arg: Any, *, key: str = "") -> Any:
        """`call(arg)` in a worker. Calls with the same `key` (a report's agency and year, a URL) always go to
        the same worker; different reports are parsed in parallel. A staging call (ingest_report,
        store_document, mark_seen) returns once its batch committed, with what its write returned. A worker
        that died (killed by the OS on a bomb the reader did not stop) is replaced; the call that killed it,
        and the writes its batch held, fail and are counted as storage errors."""
        lane = self.lanes[lane_of(key, len(self.lanes))]
        lane.staging += 1
        lane.uncommitted = True
        try:
            result = await asyncio.get_running_loop().run_in_executor(lane.executor, call, arg)
        except BrokenProcessPool as e:
            self._lost(lane, e)
            raise
        finally:
            lane.staging -= 1
        if not isinstance(result, Staged):
            return result
        if lane.dead:  # staged in a worker that died since: its batch is gone
            raise WriteFailed("the archive worker died before this write was committed")
        if result.token in lane.early:
            return _outcome(lane.early.pop(result.token))
        waiting = asyncio.get_running_loop().create_future()
        lane.waiting[result.token] = waiting
        lane.bytes += result.bytes
        self._consider(lane)
        return _outcome(await waiting)

    def _consider(self, lane: _Lane) -> None:
        """Ask for a commit now (a full batch, or a worker with nothing else to do) or within batch_seconds."""
        if not lane.waiting or lane.dead:
            return
        full = len(lane.waiting) >= self.batch_documents or lane.bytes >= self.batch_bytes
        if full or (lane.staging == 0 and lane.committing == 0):
            self._commit(lane)
        elif lane.timer is None:
            lane.timer = asyncio.get_running_loop().call_later(self.batch_seconds, self._commit, lane)

    def _commit(self, lane: _Lane) -> None:
        if lane.timer is not None:
            lane.timer.cancel()
            lane.timer = None
        lane.committing += 1
        lane.bytes = 0
        lane.uncommitted = False
        task = asyncio.ensure_future(self._committed(lane))
        self._tasks.add(task)  # a reference, so the task is not collected while it runs
        task.add_done_callback(self._tasks.discard)

    async def _committed(self, lane: _Lane) -> None:
        try:
            results = await asyncio.get_running_loop().run_in_executor(lane.executor, commit)
        except Exception as e:  # the worker died (BrokenProcessPool), its batch with it
            self._lost(lane, e)
            return
        finally:
            lane.committing -= 1
        if lane.dead:  # its writes were reported failed already (committed all the same: not acknowledged)
            return
        for token, result in results.items():
            waiting = lane.waiting.pop(token, None)
            if waiting is None:
                lane.early[token] = result
            elif not waiting.done():
                waiting.set_result(result)
        self._consider(lane)

    def _lost(self, lane: _Lane, error: BaseException) -> None:
        """The lane's worker died: a new lane takes its place, and every write its batch held fails."""
        if lane.dead:
            return
        lane.dead = True
        self.lanes[self.lanes.index(lane)] = _Lane(self._executor())
        if lane.timer is not None:
            lane.timer.cancel()
        failure = WriteFailed(f"the archive worker died before these writes were committed: {error!r}")
        for waiting in lane.waiting.values():
            if not waiting.done():
                waiting.set_result(failure)

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


def _outcome(result: Any) -> Any:
    if isinstance(result, WriteFailed):
        raise result
    return result
