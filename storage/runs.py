"""Crawl runs and each portal's outcome in them."""

from __future__ import annotations

import json
from typing import Any

from storage.agencies import Agencies
from storage.clock import utcnow
from storage.db import sqlite3, transaction


class Runs:
    def __init__(self, conn: sqlite3.Connection, agencies: Agencies):
        self.conn = conn
        self.agencies = agencies

    def start(
        self, command: str | None = None, options: dict[str, Any] | None = None, *, now: str | None = None
    ) -> int:
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO crawl_runs(started_at, command, options) VALUES (?, ?, ?)",
                (now or utcnow(), command, json.dumps(options, ensure_ascii=False) if options else None),
            )
            return int(cur.lastrowid)

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        pages: int | None = None,
        documents: int | None = None,
        reports: int | None = None,
        errors: int | None = None,
        note: str | None = None,
        now: str | None = None,
    ) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE crawl_runs SET finished_at=?, status=?, pages=?, documents=?, reports=?, errors=?, note=? WHERE id=?",
                (now or utcnow(), status, pages, documents, reports, errors, note, run_id),
            )

    def record_portal(
        self,
        run_id: int,
        portal_id: str,
        status: str,
        error: str | None = None,
        pages: int = 0,
        documents: int = 0,
        reports: int = 0,
        *,
        listing_complete: bool | None = None,
        listings_failed: int = 0,
        budget_exhausted: bool = False,
        listing_pages: list[str] | None = None,
        now: str | None = None,
    ) -> None:
        """Upsert one portal's outcome in a run (called again as the crawl progresses). `listing_complete`:
        the portal's listing was walked to its end (no list page failed, no budget cut it short); None while
        the crawl runs or when unknown. `listing_pages`: the list pages that showed report entries, for proof of absence."""
        with transaction(self.conn):
            self.agencies.ensure_portal(portal_id)
            self.conn.execute(
                "INSERT INTO crawl_portal_status(run_id, portal_id, status, error, pages, documents, reports, recorded_at, "
                "listing_complete, listings_failed, budget_exhausted, listing_pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(run_id, portal_id) DO UPDATE SET status=excluded.status, "
                "error=excluded.error, pages=excluded.pages, documents=excluded.documents, reports=excluded.reports, "
                "recorded_at=excluded.recorded_at, listing_complete=excluded.listing_complete, "
                "listings_failed=excluded.listings_failed, budget_exhausted=excluded.budget_exhausted, "
                "listing_pages=excluded.listing_pages",
                (
                    run_id,
                    portal_id,
                    status,
                    error,
                    pages,
                    documents,
                    reports,
                    now or utcnow(),
                    None if listing_complete is None else int(listing_complete),
                    listings_failed,
                    int(budget_exhausted),
                    json.dumps(listing_pages, ensure_ascii=False) if listing_pages is not None else None,
                ),
            )

    def history(self, portal_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The portal's latest outcomes, newest first (for "unreachable for N runs")."""
        rows = self.conn.execute(
            "SELECT s.*, r.started_at FROM crawl_portal_status s JOIN crawl_runs r ON r.id = s.run_id "
            "WHERE s.portal_id = ? ORDER BY s.run_id DESC LIMIT ?",
            (portal_id, limit),
        )
        return [dict(r) for r in rows]
