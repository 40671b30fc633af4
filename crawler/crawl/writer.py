"""The archive writer of a crawl process: every document goes through crawler.ingest in a worker process.

Its writes run in *worker processes* (XXGK_ARCHIVE_WORKERS, default 2): parsing is CPU work (a 50,000-row
table, a PDF, a decompression bomb the reader refuses), and in a thread it would hold the GIL and stall the
Twisted reactor long enough for other downloads to time out. Every write of one report goes to the same
worker, so two versions of one report are never written at once; SQLite serialises the workers' commits.

Ordering: a report page is written after its attachments (whichever worker they went to), so that a crawl
killed in between leaves the page unknown and the next run comes back for the attachment; an attachment
whose write failed keeps its page unknown too, so the next run downloads both again because the archive does
not know them yet.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from crawler.model import IncomingDocument

# --- the worker process: one archive connection, three typed calls --------------------------------------------
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


def ingest_report(doc: IncomingDocument) -> dict[str, Any]:
    from crawler.ingest import ingest

    result = ingest(_ARCHIVE, doc)
    return {k: getattr(result, k) for k in ("status", "parse_status", "parse_reason", "agency", "year")}


def store_document(doc: IncomingDocument) -> None:
    from crawler.ingest import store_document as store

    store(_ARCHIVE, doc)


def mark_seen(url: str) -> None:
    _ARCHIVE.documents.mark_seen(url)


# --- the crawl process side -------------------------------------------------------------------------------------
class ArchiveWriter:
    def __init__(self, db_path: Path, workers: int = 2):
        self.db_path = db_path
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

    def close(self) -> None:
        for executor in self.executors:
            executor.shutdown(wait=True)

    async def run(self, call: Callable[[Any], Any], arg: Any, *, key: str = "") -> Any:
        """`call(arg)` in a worker. Calls with the same `key` (a report's agency and year, a URL) always go to
        the same worker; different reports are parsed in parallel. A worker that died (killed by the OS on a
        bomb the reader did not stop) is replaced; the call that killed it fails and is counted as a storage
        error."""
        index = zlib.crc32(key.encode()) % len(self.executors)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executors[index], call, arg)
        except BrokenProcessPool:
            self.executors[index] = self._executor()
            raise

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
