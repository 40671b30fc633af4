"""Deadline decisions per agency and report year, with their evidence (screenshots in the document store)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from crawler.model import HttpMeta
from storage.agencies import Agencies
from storage.clock import utcnow
from storage.db import sqlite3, transaction
from storage.documents import Documents

DEADLINE_STATUSES = ("on_time", "late", "missing", "pending", "unverified", "unmonitored")


class Deadlines:
    def __init__(self, conn: sqlite3.Connection, documents: Documents, agencies: Agencies):
        self.conn = conn
        self.documents = documents
        self.agencies = agencies

    def store_evidence(
        self,
        data: bytes,
        *,
        url: str | None,
        fmt: str = "binary",
        kind: str = "screenshot",
        agency: str | int | None = None,
        year: int | None = None,
        content_type: str | None = "image/png",
        note: str | None = None,
        captured_at: str | None = None,
        set_id: int | None = None,
        page: int | None = None,
    ) -> int:
        """Keep proof (e.g. a Chromium screenshot of a listing page) in the document store; returns evidence.id.
        A proof of several pages is several rows: the first page's id is the `set_id` of the others."""
        captured_at = captured_at or utcnow()
        stored = self.documents.put(data)
        with transaction(self.conn):
            self.documents.insert(stored, fmt, url, HttpMeta(content_type=content_type), captured_at)
            cur = self.conn.execute(
                "INSERT INTO evidence(agency_id, year, kind, url, sha256, captured_at, note, set_id, page) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.agencies.id_for(agency), year, kind, url, stored.sha256, captured_at, note, set_id, page),
            )
            return int(cur.lastrowid)

    def evidence(self, evidence_id: int | None) -> dict[str, Any] | None:
        if evidence_id is None:
            return None
        row = self.conn.execute("SELECT * FROM evidence WHERE id = ?", (evidence_id,)).fetchone()
        return dict(row) if row else None

    def evidence_set(self, evidence_id: int | None) -> list[dict[str, Any]]:
        """Every page of the proof whose first page is `evidence_id`, in page order."""
        if evidence_id is None:
            return []
        rows = self.conn.execute(
            "SELECT * FROM evidence WHERE id = ? OR set_id = ? ORDER BY coalesce(page, 1), id",
            (evidence_id, evidence_id),
        )
        return [dict(r) for r in rows]

    def set(
        self,
        agency: str | int,
        year: int,
        status: str,
        *,
        deadline: str,
        published_at: str | None = None,
        published_source: str | None = None,
        days_late: int | None = None,
        report_id: int | None = None,
        evidence_id: int | None = None,
        pages_checked: Iterable[str] | None = None,
        note: str | None = None,
        checked_at: str | None = None,
        reason: str | None = None,
        basis: dict[str, Any] | None = None,
        expectation: str | None = None,
    ) -> str | None:
        """Upsert the deadline decision for agency+year; returns the previous status (None if first)."""
        if status not in DEADLINE_STATUSES:
            raise ValueError(f"deadline status must be one of {DEADLINE_STATUSES}, got {status!r}")
        with transaction(self.conn):
            agency_id = self.agencies.id_for(agency)
            row = self.conn.execute(
                "SELECT status FROM deadline_status WHERE agency_id=? AND year=?", (agency_id, year)
            ).fetchone()
            self.conn.execute(
                "INSERT INTO deadline_status(agency_id, year, status, deadline, published_at, published_source, days_late, "
                "report_id, evidence_id, pages_checked, checked_at, note, reason, basis, expectation) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(agency_id, year) DO UPDATE SET status=excluded.status, deadline=excluded.deadline, "
                "published_at=excluded.published_at, published_source=excluded.published_source, days_late=excluded.days_late, "
                "report_id=excluded.report_id, evidence_id=coalesce(excluded.evidence_id, evidence_id), "
                "pages_checked=excluded.pages_checked, checked_at=excluded.checked_at, note=excluded.note, "
                "reason=excluded.reason, basis=excluded.basis, expectation=excluded.expectation",
                (
                    agency_id,
                    year,
                    status,
                    deadline,
                    published_at,
                    published_source,
                    days_late,
                    report_id,
                    evidence_id,
                    json.dumps(list(pages_checked), ensure_ascii=False) if pages_checked is not None else None,
                    checked_at or utcnow(),
                    note,
                    reason,
                    json.dumps(basis, ensure_ascii=False) if basis is not None else None,
                    expectation,
                ),
            )
            self.conn.execute(
                "UPDATE reports SET deadline_status = ?, deadline = ?, days_late = ? WHERE agency_id = ? AND year = ?",
                (status, deadline, days_late, agency_id, year),
            )
            return row[0] if row else None

    def get(self, agency: str | int, year: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT d.* FROM deadline_status d JOIN agencies a ON a.id = d.agency_id "
            "WHERE d.year = ? AND (a.name = ? OR a.id = ?)",
            (year, agency, agency),
        ).fetchone()
        return dict(row) if row else None
