"""The archive: SQLite schema and migrations, the content-addressed document store, Chinese
full-text search, and the Datasette configuration that serves it read-only.

Storage is the only place SQL is written, and it imports nothing but the contracts (crawler.model,
crawler.template, crawler.registry, crawler.text)."""

from storage.archive import Archive
from storage.db import default_db_path
from storage.lock import ArchiveLock, LockHeld, check_lock, crawl_lock
from storage.records import AlertRecord, DocumentRecord, IngestResult, StoredReport
from storage.store import store_dir_for

__all__ = [
    "Archive",
    "ArchiveLock",
    "AlertRecord",
    "DocumentRecord",
    "IngestResult",
    "LockHeld",
    "StoredReport",
    "check_lock",
    "crawl_lock",
    "default_db_path",
    "store_dir_for",
]
