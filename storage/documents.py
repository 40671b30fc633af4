"""Original documents: the bytes in the content-addressed store, and what each URL served."""

from __future__ import annotations

from crawler.model import HttpMeta
from storage.clock import utcnow
from storage.db import sqlite3, transaction
from storage.records import DocumentRecord
from storage.store import DocumentStore, StoredFile


class Documents:
    def __init__(self, conn: sqlite3.Connection, store: DocumentStore):
        self.conn = conn
        self.store = store

    def put(self, data: bytes) -> StoredFile:
        """The bytes on disk (once per sha256), before any row points at them."""
        return self.store.put(data)

    def store_fetched(self, data: bytes, fmt: str, url: str, http: HttpMeta) -> DocumentRecord:
        """Keep a document that is not a report (a page that links its report, a rendition, a zip) and remember
        what `url` served, so the next crawl does not download it again."""
        stored = self.put(data)
        with transaction(self.conn):
            return self.record_fetched(stored, fmt, url, http)

    def record_fetched(self, stored: StoredFile, fmt: str, url: str, http: HttpMeta) -> DocumentRecord:
        """store_fetched() for bytes already in the store (inside the caller's transaction)."""
        self.record(stored, fmt, url, http, http.fetched_at or utcnow())
        return self.known(url, is_new=stored.is_new)

    def known(self, url: str, *, is_new: bool = False) -> DocumentRecord | None:
        """What `url` served when last fetched (ETag, Last-Modified, sha256), for conditional GET."""
        row = self.conn.execute(
            "SELECT u.*, d.bytes, d.format, d.path FROM document_urls u JOIN documents d ON d.sha256 = u.sha256 WHERE u.url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return DocumentRecord(
            sha256=row["sha256"],
            path=str(self.store.root / row["path"]),
            bytes=row["bytes"],
            is_new=is_new,
            url=url,
            format=row["format"],
            content_type=row["content_type"],
            http_status=row["http_status"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            fetched_at=row["fetched_at"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )

    def is_report_source(self, url: str) -> bool:
        """The URL is the document a report was read from (not a page that only links one)."""
        return self.conn.execute("SELECT 1 FROM reports WHERE source_url = ? LIMIT 1", (url,)).fetchone() is not None

    def mark_seen(self, url: str, *, fetched_at: str | None = None, http_status: int | None = 304) -> bool:
        """A fetch that brought nothing new (304, or the same bytes): update last_seen of the URL and of
        the reports it is the source of. Returns False when the URL is unknown."""
        with transaction(self.conn):
            return self.record_seen(url, fetched_at=fetched_at, http_status=http_status)

    def record_seen(self, url: str, *, fetched_at: str | None = None, http_status: int | None = 304) -> bool:
        """mark_seen() inside the caller's transaction."""
        seen_at = fetched_at or utcnow()
        cur = self.conn.execute(
            "UPDATE document_urls SET last_seen = ?, fetched_at = ?, http_status = coalesce(?, http_status), "
            "gone_at = NULL, gone_status = NULL WHERE url = ?",
            (seen_at, seen_at, http_status, url),
        )
        self.conn.execute("UPDATE reports SET last_seen = max(last_seen, ?) WHERE source_url = ?", (seen_at, url))
        return cur.rowcount > 0

    def mark_listed(
        self, portal_id: str, run_id: int, entries: list[tuple[str, str | None, str | None]], *, now: str | None = None
    ) -> None:
        """The report entries (url, listing page, entry text) a listing of `portal_id` showed in run `run_id`."""
        now = now or utcnow()
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO listing_entries(url, portal_id, listing_url, title, first_listed_run, last_listed_run, "
                "first_listed_at, last_listed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
                "portal_id=excluded.portal_id, listing_url=excluded.listing_url, title=excluded.title, "
                "last_listed_run=excluded.last_listed_run, last_listed_at=excluded.last_listed_at",
                [(url, portal_id, listing, title, run_id, run_id, now, now) for url, listing, title in entries],
            )

    def mark_gone(self, url: str, status: int, *, now: str | None = None) -> bool:
        """A known document answered 404/410. Returns False when the URL is not a known document."""
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE document_urls SET gone_at = ?, gone_status = ? WHERE url = ?", (now or utcnow(), status, url)
            )
        return cur.rowcount > 0

    def insert(self, stored: StoredFile, fmt: str, url: str | None, http: HttpMeta, seen_at: str) -> None:
        """The documents row (inside the caller's transaction). First fetch wins: it describes where and how
        these bytes first arrived."""
        self.conn.execute(
            "INSERT INTO documents(sha256, bytes, format, content_type, path, link, url, fetched_at, http_status, etag, "
            "last_modified, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING",
            (
                stored.sha256,
                stored.bytes,
                fmt,
                http.content_type,
                stored.path,
                f"/-/original/{stored.sha256}",
                url,
                seen_at,
                http.status,
                http.etag,
                http.last_modified,
                utcnow(),
            ),
        )

    def record(self, stored: StoredFile, fmt: str, url: str, http: HttpMeta, seen_at: str) -> None:
        """The documents row and what `url` served (inside the caller's transaction)."""
        self.insert(stored, fmt, url, http, seen_at)
        self.conn.execute(
            "INSERT INTO document_urls(url, sha256, content_type, http_status, etag, last_modified, fetched_at, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET sha256=excluded.sha256, "
            "content_type=excluded.content_type, http_status=excluded.http_status, etag=excluded.etag, "
            "last_modified=excluded.last_modified, fetched_at=excluded.fetched_at, last_seen=excluded.last_seen, "
            "gone_at=NULL, gone_status=NULL",
            (
                url,
                stored.sha256,
                http.content_type,
                http.status,
                http.etag,
                http.last_modified,
                seen_at,
                seen_at,
                seen_at,
            ),
        )
