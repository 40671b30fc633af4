"""Alert state and delivery: one row per fingerprint, pending until delivered, and the rows alerts are made from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from storage.agencies import Agencies
from storage.clock import utcnow
from storage.db import placeholders, sqlite3, transaction
from storage.records import AlertRecord

_REPORT_COLUMNS = """r.id AS report_id, r.year, r.sha256, r.source_url, r.page_url, r.portal_id,
       a.name AS agency, a.province, a.city, a.county, a.kind AS agency_kind"""
_FINDING_SELECT = f"""SELECT f.rule, f.status, f.message, f.fingerprint, {_REPORT_COLUMNS}
FROM findings f JOIN reports r ON r.id = f.report_id LEFT JOIN agencies a ON a.id = r.agency_id"""
_REPORT_SELECT = f"SELECT {_REPORT_COLUMNS} FROM reports r LEFT JOIN agencies a ON a.id = r.agency_id WHERE r.id = ?"


class Alerts:
    def __init__(self, conn: sqlite3.Connection, agencies: Agencies):
        self.conn = conn
        self.agencies = agencies

    # --- state --------------------------------------------------------------------------------
    def upsert(
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
        suppress: bool = False,
        now: str | None = None,
    ) -> AlertRecord:
        """Record that `fingerprint` is in `state`. A new fingerprint, or a state other than the one
        last delivered, becomes pending; the same state again changes nothing (no re-send).
        `suppress`: record it as known without pushing it (`suppressed`: its report year is before the
        current alert cycle), so a first run over years of history floods nobody, then or later."""
        now = now or utcnow()
        with transaction(self.conn):
            agency_id = self.agencies.id_for(agency)
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
                    "first_seen, state_changed_at, delivery_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (fingerprint, *values, now, now, "suppressed" if suppress else "pending"),
                )
            else:
                changed = state != row["state"]
                if row["sent_state"] is not None and state == row["sent_state"]:
                    delivery = "sent"  # back to what recipients were last told: nothing to say
                elif suppress:
                    delivery = "suppressed"
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
            return self.get(fingerprint)

    def get(self, fingerprint: str) -> AlertRecord | None:
        row = self.conn.execute("SELECT * FROM alerts WHERE fingerprint=?", (fingerprint,)).fetchone()
        return _alert_record(row) if row else None

    def states(self, kind: str) -> dict[str, str]:
        """fingerprint → state of every alert of `kind`, oldest alert first."""
        return dict(self.conn.execute("SELECT fingerprint, state FROM alerts WHERE kind = ? ORDER BY id", (kind,)))

    def in_state(self, kind: str, state: str) -> list[AlertRecord]:
        rows = self.conn.execute("SELECT * FROM alerts WHERE kind = ? AND state = ? ORDER BY id", (kind, state))
        return [_alert_record(r) for r in rows]

    # --- delivery -----------------------------------------------------------------------------
    def pending(self, kind: str | None = None, *, max_attempts: int | None = None) -> list[AlertRecord]:
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

    def release_suppressed(self, since_year: int) -> int:
        """Suppressed alerts about report years from `since_year` on become pending (an operator asked for
        that history with --alert-since). Returns how many."""
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE alerts SET delivery_status = 'pending' WHERE delivery_status = 'suppressed' AND year >= ?",
                (since_year,),
            )
        return cur.rowcount

    def delivered_targets(self, alert_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """alert id → {target: state it last received} for the targets that received it."""
        out: dict[int, dict[str, str]] = {}
        ids = list(alert_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT alert_id, target, sent_state FROM alert_targets WHERE status = 'sent' "
                f"AND alert_id IN ({placeholders(chunk)})",
                chunk,
            )
            for alert_id, target, sent_state in rows:
                out.setdefault(alert_id, {})[target] = sent_state
        return out

    def record_target(
        self,
        alert_id: int,
        target: str,
        ok: bool,
        error: str | None = None,
        *,
        name: str | None = None,
        now: str | None = None,
    ) -> None:
        """One attempt to deliver the alert's current state to one target (`target`: a hash of its URL)."""
        now = now or utcnow()
        with transaction(self.conn):
            state = self.conn.execute("SELECT state FROM alerts WHERE id=?", (alert_id,)).fetchone()[0]
            self.conn.execute(
                "INSERT INTO alert_targets(alert_id, target, target_name, sent_state, status, attempts, last_error, "
                "sent_at, last_attempt_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(alert_id, target) DO UPDATE SET "
                "target_name=excluded.target_name, attempts=attempts+1, last_attempt_at=excluded.last_attempt_at, "
                "status=excluded.status, last_error=excluded.last_error, "
                "sent_state=CASE WHEN excluded.status = 'sent' THEN excluded.sent_state ELSE sent_state END, "
                "sent_at=CASE WHEN excluded.status = 'sent' THEN excluded.sent_at ELSE sent_at END",
                (
                    alert_id,
                    target,
                    name,
                    state if ok else None,
                    "sent" if ok else "failed",
                    error,
                    now if ok else None,
                    now,
                ),
            )

    # --- what alerts are made from ------------------------------------------------------------
    def failing_findings(self, rule_prefixes: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Every failing finding of the given rule families, with its report's agency and place, one at a time:
        a national archive has hundreds of thousands, and as a list they held ≈ 500 MB. Whoever writes while
        reading them does so inside one transaction (the cursor reads one snapshot)."""
        prefixes = list(rule_prefixes)
        rule_filter = " OR ".join("f.rule LIKE ?" for _ in prefixes)
        rows = self.conn.execute(
            _FINDING_SELECT + f" WHERE f.status = 'fail' AND ({rule_filter})", [p + "%" for p in prefixes]
        )
        return (dict(r) for r in rows)

    def finding_context(self, report_id: int | None, finding_fingerprint: str | None) -> dict[str, Any] | None:
        """The latest finding with this fingerprint on the report, with the report's context."""
        row = self.conn.execute(
            _FINDING_SELECT + " WHERE f.report_id = ? AND f.fingerprint = ? ORDER BY f.id DESC LIMIT 1",
            (report_id, finding_fingerprint),
        ).fetchone()
        return dict(row) if row else None

    def report_context(self, report_id: int | None) -> dict[str, Any] | None:
        row = self.conn.execute(_REPORT_SELECT, (report_id,)).fetchone()
        return dict(row) if row else None


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
