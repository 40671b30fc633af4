"""The archive: SQLite schema and migrations, the content-addressed document store, Chinese
full-text search, and the Datasette configuration that serves it read-only."""

from storage.archive import PUBLISHED_SOURCES, Archive
from storage.db import default_db_path
from storage.records import AlertRecord, DocumentRecord, HttpMeta, IngestResult, StoredReport
from storage.store import store_dir_for

__all__ = [
    "Archive",
    "AlertRecord",
    "DocumentRecord",
    "HttpMeta",
    "IngestResult",
    "PUBLISHED_SOURCES",
    "StoredReport",
    "default_db_path",
    "store_dir_for",
]
