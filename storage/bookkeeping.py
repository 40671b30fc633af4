"""Crawl runs, deadline decisions with their evidence, and alert delivery state.

Mixed into storage.Archive: these are the tables the crawler (runs, portal status) and the checks
(deadlines, alerts) keep, next to the reports they are about.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from storage.clock import utcnow
from storage.db import sqlite3, transaction
from storage.records import AlertRecord

DEADLINE_STATUSES = ("on_time", "late", "missing", "pending")


class Bookkeeping:
    """Needs from its host class: conn, _agency_id(), _ensure_portal(), _store_file()."""

    conn: sqlite3.Connection

    # --- crawl runs -----------------------------------------------------------------------
    def start_crawl_run(
        self, command: str | None = None, options: dict[str, Any] | None = None, *, now: str | None = None
    ) -> int:
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO crawl_runs(started_at, command, options) VALUES (?, ?, ?)",
                (now or utcnow(), command, json.dumps(options, ensure_ascii=False) if options else None),
            )
            return int(cur.lastrowid)

    def finish_crawl_run(
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

    def record_portal_status(
        self,
        run_id: int,
        portal_id: str,
        status: str,
        error: str | None = None,
        pages: int = 0,
        documents: int = 0,
        reports: int = 0,
        *,
        now: str | None = None,
    ) -> None:
        """Upsert one portal's outcome in a run (called again as the crawl progresses)."""
        with transaction(self.conn):
            self._ensure_portal(portal_id)
            self.conn.execute(
                "INSERT INTO crawl_portal_status(run_id, portal_id, status, error, pages, documents, reports, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, portal_id) DO UPDATE SET status=excluded.status, "
                "error=excluded.error, pages=excluded.pages, documents=excluded.documents, reports=excluded.reports, "
                "recorded_at=excluded.recorded_at",
                (run_id, portal_id, status, error, pages, documents, reports, now or utcnow()),
            )

    def portal_history(self, portal_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The portal's latest outcomes, newest first (for "unreachable for N runs")."""
        rows = self.conn.execute(
            "SELECT s.*, r.started_at FROM crawl_portal_status s JOIN crawl_runs r ON r.id = s.run_id "
            "WHERE s.portal_id = ? ORDER BY s.run_id DESC LIMIT ?",
            (portal_id, limit),
        )
        return [dict(r) for r in rows]

    # --- deadlines and evidence -------------------------------------------------------------
    def store_evidence(
        self,
        data: bytes,
        *,
        url: str | None,
        kind: str = "screenshot",
        agency: str | int | None = None,
        year: int | None = None,
        content_type: str | None = "image/png",
        note: str | None = None,
        captured_at: str | None = None,
    ) -> int:
        """Keep proof (e.g. a Chromium screenshot of a listing page) in the document store; returns evidence.id."""
        captured_at = captured_at or utcnow()
        with transaction(self.conn):
            sha = self._store_file(data, url=url, content_type=content_type, seen_at=captured_at)
            cur = self.conn.execute(
                "INSERT INTO evidence(agency_id, year, kind, url, sha256, captured_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._agency_id(agency), year, kind, url, sha, captured_at, note),
            )
            return int(cur.lastrowid)

    def set_deadline_status(
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
    ) -> str | None:
        """Upsert the deadline decision for agency+year; returns the previous status (None if first)."""
        if status not in DEADLINE_STATUSES:
            raise ValueError(f"deadline status must be one of {DEADLINE_STATUSES}, got {status!r}")
        with transaction(self.conn):
            agency_id = self._agency_id(agency)
            row = self.conn.execute(
                "SELECT status FROM deadline_status WHERE agency_id=? AND year=?", (agency_id, year)
            ).fetchone()
            self.conn.execute(
                "INSERT INTO deadline_status(agency_id, year, status, deadline, published_at, published_source, days_late, "
                "report_id, evidence_id, pages_checked, checked_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(agency_id, year) DO UPDATE SET status=excluded.status, deadline=excluded.deadline, "
                "published_at=excluded.published_at, published_source=excluded.published_source, days_late=excluded.days_late, "
                "report_id=excluded.report_id, evidence_id=coalesce(excluded.evidence_id, evidence_id), "
                "pages_checked=excluded.pages_checked, checked_at=excluded.checked_at, note=excluded.note",
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
                ),
            )
            self.conn.execute(
                "UPDATE reports SET deadline_status = ?, deadline = ?, days_late = ? WHERE agency_id = ? AND year = ?",
                (status, deadline, days_late, agency_id, year),
            )
            return row[0] if row else None

    def deadline_status(self, agency: str | int, year: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT d.* FROM deadline_status d JOIN agencies a ON a.id = d.agency_id "
            "WHERE d.year = ? AND (a.name = ? OR a.id = ?)",
            (year, agency, agency),
        ).fetchone()
        return dict(row) if row else None

    # --- alerts --------------------------------------------------------------------------------
    def upsert_alert(
        self,
        fingerprint: str,
        *,
        kind: str,
        state: str,
        tags: Iterable[str] = (),
        title: str | None = None,
        body: str | None = None,
        payload: dict[str, Any] | None = None,
        report_id: int | None = None,
        agency: str | int | None = None,
        year: int | None = None,
        now: str | None = None,
    ) -> AlertRecord:
        """Record that `fingerprint` is in `state`. A new fingerprint, or a state other than the one
        last delivered, becomes pending; the same state again changes nothing (no re-send)."""
        now = now or utcnow()
        with transaction(self.conn):
            agency_id = self._agency_id(agency)
            row = self.conn.execute(
                "SELECT id, state, sent_state, delivery_status FROM alerts WHERE fingerprint=?", (fingerprint,)
            ).fetchone()
            values = (
                kind,
                state,
                json.dumps(sorted(set(tags)), ensure_ascii=False),
                title,
                body,
                json.dumps(payload or {}, ensure_ascii=False, default=str),
                report_id,
                agency_id,
                year,
            )
            if row is None:
                self.conn.execute(
                    "INSERT INTO alerts(fingerprint, kind, state, tags, title, body, payload, report_id, agency_id, year, "
                    "first_seen, state_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (fingerprint, *values, now, now),
                )
            else:
                changed = state != row["state"]
                if row["sent_state"] is not None and state == row["sent_state"]:
                    delivery = "sent"  # back to what recipients were last told: nothing to say
                elif row["delivery_status"] == "failed" and not changed:
                    delivery = "failed"  # keep retrying, and keep counting attempts
                else:
                    delivery = "pending"
                self.conn.execute(
                    "UPDATE alerts SET kind=?, state=?, tags=?, title=?, body=?, payload=?, report_id=?, agency_id=?, year=?, "
                    "state_changed_at=CASE WHEN ? THEN ? ELSE state_changed_at END, delivery_status=?, "
                    "attempts=CASE WHEN ? THEN 0 ELSE attempts END WHERE id=?",
                    (*values, changed, now, delivery, changed, row["id"]),
                )
            return self._alert(fingerprint)

    def alert(self, fingerprint: str) -> AlertRecord | None:
        return self._alert(fingerprint)

    def pending_alerts(self, kind: str | None = None, *, max_attempts: int | None = None) -> list[AlertRecord]:
        """Alerts to deliver: never sent, changed state since sent, or whose last delivery failed."""
        sql = "SELECT * FROM alerts WHERE delivery_status IN ('pending', 'failed')"
        params: list[Any] = []
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if max_attempts is not None:
            sql += " AND attempts < ?"
            params.append(max_attempts)
        return [_alert_record(r) for r in self.conn.execute(sql + " ORDER BY id", params)]

    def record_delivery(
        self,
        alert_ids: Iterable[int],
        ok: bool,
        error: str | None = None,
        *,
        digest: str | None = None,
        now: str | None = None,
    ) -> None:
        """Log one delivery attempt for each alert (several when sent as one digest)."""
        now = now or utcnow()
        with transaction(self.conn):
            for alert_id in alert_ids:
                state = self.conn.execute("SELECT state FROM alerts WHERE id=?", (alert_id,)).fetchone()[0]
                self.conn.execute(
                    "INSERT INTO alert_deliveries(alert_id, attempted_at, state, ok, error, digest) VALUES (?, ?, ?, ?, ?, ?)",
                    (alert_id, now, state, int(ok), error, digest),
                )
                if ok:
                    self.conn.execute(
                        "UPDATE alerts SET delivery_status='sent', sent_state=state, sent_at=?, last_attempt_at=?, "
                        "attempts=attempts+1, last_error=NULL WHERE id=?",
                        (now, now, alert_id),
                    )
                else:
                    self.conn.execute(
                        "UPDATE alerts SET delivery_status='failed', last_attempt_at=?, attempts=attempts+1, last_error=? WHERE id=?",
                        (now, error, alert_id),
                    )

    def _alert(self, fingerprint: str) -> AlertRecord | None:
        row = self.conn.execute("SELECT * FROM alerts WHERE fingerprint=?", (fingerprint,)).fetchone()
        return _alert_record(row) if row else None


def _alert_record(row: sqlite3.Row) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        fingerprint=row["fingerprint"],
        kind=row["kind"],
        state=row["state"],
        tags=json.loads(row["tags"]),
        title=row["title"],
        body=row["body"],
        payload=json.loads(row["payload"] or "{}"),
        report_id=row["report_id"],
        agency_id=row["agency_id"],
        year=row["year"],
        delivery_status=row["delivery_status"],
        sent_state=row["sent_state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
    )
