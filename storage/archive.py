"""The archive: one SQLite file plus a folder of original documents, behind small typed repositories.

    >>> from storage import Archive
    >>> with Archive("data/xxgk.db") as archive:
    ...     archive.reports.list(year=2023)
    ...     archive.deadlines.get("某市人民政府", 2023)

    archive.agencies    the registry's portals and agencies          (storage/agencies.py)
    archive.documents   originals by sha256, and what each URL served  (storage/documents.py)
    archive.reports     reports, versions, cells, findings, text       (storage/reports.py)
    archive.runs        crawl runs and each portal's outcome           (storage/runs.py)
    archive.deadlines   deadline decisions and their evidence          (storage/deadlines.py)
    archive.alerts      alert state and deliveries                     (storage/alerts.py)

Storage never parses or judges: documents arrive parsed and judged from crawler.ingest. Every write is an
upsert inside one transaction: an interrupted run leaves either the whole report or nothing. `batch()` puts
many documents in one transaction (group commit, storage/batch.py): the whole batch or nothing.
"""

from __future__ import annotations

from pathlib import Path

from storage.agencies import Agencies
from storage.alerts import Alerts
from storage.batch import WriteBatch
from storage.columns import Columns
from storage.db import connect, default_db_path, sqlite3, transaction
from storage.deadlines import Deadlines
from storage.documents import Documents
from storage.reports import Reports
from storage.runs import Runs
from storage.schema import migrate, sync_cell_keys
from storage.store import DocumentStore, store_dir_for


class Archive:
    def __init__(self, db_path: str | Path | None = None):
        self.db_path = Path(db_path or default_db_path())
        self.conn = connect(self.db_path)
        migrate(self.conn)
        self.store = DocumentStore(store_dir_for(self.db_path))
        self.agencies = Agencies(self.conn)
        self.documents = Documents(self.conn, self.store)
        self.reports = Reports(self.conn, self.documents, self.agencies, sync_cell_keys(self.conn))
        self.runs = Runs(self.conn, self.agencies)
        self.deadlines = Deadlines(self.conn, self.documents, self.agencies)
        self.alerts = Alerts(self.conn, self.agencies)
        self.columns = Columns(self.conn, self.agencies)  # portals' 年报 columns as found (storage/columns.py)

    def close(self) -> None:
        try:
            # Keeps the query planner's statistics current as the archive grows (cheap: it samples).
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass  # statistics are an optimisation; a full disk must not turn a clean close into a crash
        finally:
            self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self):
        """Group several archive writes into one all-or-nothing transaction."""
        return transaction(self.conn)

    def batch(self) -> WriteBatch:
        """A group commit: reports, documents and seen marks staged, then written together (storage/batch.py)."""
        return WriteBatch(self.conn, self.documents, self.reports)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (before serving it read-only)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
