"""Group commit: many documents written in one transaction, their originals flushed to disk together.

    >>> batch = archive.batch()
    >>> batch.add(ReportWrite(doc, fmt, parsed, None, findings))      # staged: nothing visible yet
    >>> batch.add(SeenWrite("https://…/2023nb.pdf"))
    >>> results = batch.commit()                                      # one IngestResult, bool, … per write

One write per transaction spends most of its time waiting for the disk: an fsync per original and a commit
(WAL frames, the FTS segment) per report. A batch writes every row in one `BEGIN IMMEDIATE … COMMIT`, and
its originals (`DocumentStore.land`: written, flushed, linked, folders flushed, once) in a thread meanwhile:
the files wait for the disk while the rows are written (SQLite releases the GIL), and the COMMIT waits for
the files, so no committed row points at an original that is not on disk.

What a crash leaves: before COMMIT, at worst originals (whole, or temporary files) that no row points at (the next crawl fetches those
documents again and finds their bytes already stored); after it, the whole batch. Nothing is acknowledged
before `commit()` returns, so a caller reports an item archived only then. A write the archive refuses (a
constraint, an odd document) is returned as its exception while the rest of the batch commits (the batch
is written again, each write in a savepoint); an error that ends the transaction itself (a full disk)
raises, and no write of the batch is in the archive.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from storage.db import sqlite3, transaction
from storage.documents import Documents
from storage.records import DocumentRecord, DocumentWrite, IngestResult, ReportWrite, SeenWrite, Write
from storage.reports import Reports


class WriteBatch:
    def __init__(self, conn: sqlite3.Connection, documents: Documents, reports: Reports):
        self.conn = conn
        self.documents = documents
        self.reports = reports
        self.writes: list[Write] = []
        self.bytes = 0  # of the originals staged: a caller flushes by size too

    def __len__(self) -> int:
        return len(self.writes)

    def add(self, write: Write) -> int:
        """Stage `write`; returns its position in the results of the next commit()."""
        self.writes.append(write)
        if not isinstance(write, SeenWrite):
            self.bytes += len(write.doc.data)
        return len(self.writes) - 1

    def commit(self) -> list[Any]:
        """Write everything staged, in order, in one transaction. Returns one result per write: an
        IngestResult (report), a DocumentRecord (document), a bool (seen: the URL was known), or the exception
        that made the archive refuse that write. The batch is empty afterwards, whatever happened."""
        writes, self.writes, self.bytes = self.writes, [], 0
        if not writes:
            return []
        planned, new = self.documents.store.plan([w.doc.data for w in writes if not isinstance(w, SeenWrite)])
        originals = iter(planned)
        stored = [None if isinstance(w, SeenWrite) else next(originals) for w in writes]
        with ThreadPoolExecutor(1, thread_name_prefix="xxgk-originals") as landing:
            landed = landing.submit(self.documents.store.land, new)
            # Before BEGIN: the search entries are CPU work, and the write lock is wanted by the crawl's other writers.
            search = [self.reports.search_entry(w) if isinstance(w, ReportWrite) else None for w in writes]
            try:
                results = self._write(writes, stored, search, landed.result, isolated=False)
            except Exception:
                landed.result()  # the originals could not be stored (a full disk): this raises, nothing is written
                # A write the archive refused (or a failure of the whole transaction, which fails again here): write
                # the batch again with a savepoint per write. Not the first time round: a savepoint makes the
                # search index flush its pending terms, the cost a batch is there to share.
                results = self._write(writes, stored, search, landed.result, isolated=True)
        lost = landed.result()
        return [_not_new(r, lost) for r in results] if lost else results

    def _write(
        self, writes: list[Write], stored: list, search: list, landed: Callable[[], Any], *, isolated: bool
    ) -> list[Any]:
        """The rows of `writes` in one transaction, committed once `landed()` returns (the originals on disk)."""
        results: list[Any] = []
        with self.reports.forgetting_on_error(), transaction(self.conn):
            for write, original, entry in zip(writes, stored, search, strict=True):
                if not isolated:
                    results.append(self._apply(write, original, entry))
                    continue
                self.conn.execute("SAVEPOINT write")
                try:
                    with self.reports.forgetting_on_error():
                        results.append(self._apply(write, original, entry))
                except Exception as e:
                    if not self.conn.in_transaction:  # SQLite ended the transaction (disk full, I/O error)
                        raise
                    self.conn.execute("ROLLBACK TO write")
                    results.append(e)
                self.conn.execute("RELEASE write")
            landed()
        return results

    def _apply(self, write: Write, original, search) -> Any:
        if isinstance(write, ReportWrite):
            return self.reports.write_stored(write, original, search=search)
        if isinstance(write, DocumentWrite):
            return self.documents.record_fetched(original, write.fmt, write.doc.url, write.doc.http)
        return self.documents.record_seen(write.url, fetched_at=write.fetched_at, http_status=write.http_status)


def _not_new(result: Any, lost: set[str]) -> Any:
    """`result` with its document marked not new when another writer stored the same bytes first."""
    if isinstance(result, IngestResult) and result.document and result.document.sha256 in lost:
        return replace(result, document=replace(result.document, is_new=False))
    if isinstance(result, DocumentRecord) and result.sha256 in lost:
        return replace(result, is_new=False)
    return result
