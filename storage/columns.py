"""The annual-report columns of portals declared by their home page: which one is current, how each was found,
and when one stopped being the column (self-healing listings, migration 8)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.agencies import Agencies
from storage.clock import utcnow
from storage.db import sqlite3, transaction

HOWS = ("declared", "discovered", "rediscovered")
GONE_REASONS = ("http_404", "http_410", "not_holding", "registry")

# Whether a crawl run's walk of a portal listed any report of it the archive holds: any URL the report was read
# from (its page, its file, an earlier version's), as crawler.rules.changes judges takedowns.
_LISTED_REPORTS = """
WITH urls(url) AS (
    SELECT page_url FROM reports WHERE portal_id = :portal AND page_url IS NOT NULL
    UNION SELECT source_url FROM reports WHERE portal_id = :portal
    UNION SELECT v.source_url FROM report_versions v JOIN reports r ON r.id = v.report_id WHERE r.portal_id = :portal
)
SELECT (SELECT count(*) FROM urls) AS archived,
       (SELECT count(*) FROM listing_entries e JOIN urls u ON u.url = e.url
        WHERE e.portal_id = :portal AND e.last_listed_run = :run) AS listed
"""


@dataclass(frozen=True)
class ColumnRecord:
    id: int
    portal_id: str
    url: str
    how: str  # declared | discovered | rediscovered
    found_at: str
    found_from: str | None = None  # the page whose link led to it
    link_text: str | None = None  # that link's text
    home_url: str | None = None  # where the discovery walk started
    reports: int | None = None  # report links discovery saw on it
    evidence: dict[str, Any] | None = None  # the discovery's record: pages read, a few report links
    last_ok_at: str | None = None
    gone_at: str | None = None
    gone_reason: str | None = None  # http_404 | http_410 | not_holding | registry
    superseded_by: int | None = None


@dataclass(frozen=True)
class ColumnMove:
    """A column that stopped being the portal's, and the one found after it."""

    old: ColumnRecord
    new: ColumnRecord


class Columns:
    def __init__(self, conn: sqlite3.Connection, agencies: Agencies):
        self.conn = conn
        self.agencies = agencies

    def current(self, portal_id: str) -> ColumnRecord | None:
        row = self.conn.execute(
            "SELECT * FROM portal_columns WHERE portal_id = ? AND gone_at IS NULL ORDER BY id DESC LIMIT 1",
            (portal_id,),
        ).fetchone()
        return _record(row) if row else None

    def history(self, portal_id: str) -> list[ColumnRecord]:
        """Every column the portal had, newest first."""
        rows = self.conn.execute("SELECT * FROM portal_columns WHERE portal_id = ? ORDER BY id DESC", (portal_id,))
        return [_record(r) for r in rows]

    def get(self, column_id: int) -> ColumnRecord:
        return _record(self.conn.execute("SELECT * FROM portal_columns WHERE id = ?", (column_id,)).fetchone())

    def known(self, portal_id: str, url: str) -> bool:
        """The portal had this column at some time (a declared column superseded once is not taken up again)."""
        row = self.conn.execute(
            "SELECT 1 FROM portal_columns WHERE portal_id = ? AND url = ? LIMIT 1", (portal_id, url)
        ).fetchone()
        return row is not None

    def record(
        self,
        portal_id: str,
        url: str,
        how: str,
        *,
        found_from: str | None = None,
        link_text: str | None = None,
        home_url: str | None = None,
        reports: int | None = None,
        evidence: dict[str, Any] | None = None,
        replaces: tuple[int, str] | None = None,
        now: str | None = None,
    ) -> ColumnRecord:
        """A column found now; `replaces` = (the column it takes over from, why that one is gone), both in one
        transaction, so the portal always has at most one current column."""
        if how not in HOWS:
            raise ValueError(f"how must be one of {HOWS}, got {how!r}")
        if replaces and replaces[1] not in GONE_REASONS:
            raise ValueError(f"a column is gone for one of {GONE_REASONS}, got {replaces[1]!r}")
        now = now or utcnow()
        with transaction(self.conn):
            self.agencies.ensure_portal(portal_id)
            cur = self.conn.execute(
                "INSERT INTO portal_columns(portal_id, url, how, found_at, found_from, link_text, home_url, reports, "
                "evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    portal_id,
                    url,
                    how,
                    now,
                    found_from,
                    link_text,
                    home_url,
                    reports,
                    json.dumps(evidence, ensure_ascii=False) if evidence is not None else None,
                ),
            )
            new_id = int(cur.lastrowid)
            if replaces:
                self.conn.execute(
                    "UPDATE portal_columns SET gone_at = coalesce(gone_at, ?), gone_reason = coalesce(gone_reason, ?), "
                    "superseded_by = ? WHERE id = ?",
                    (now, replaces[1], new_id, replaces[0]),
                )
            # Any other column still marked current is over too: one current column per portal.
            self.conn.execute(
                "UPDATE portal_columns SET gone_at = ?, gone_reason = 'registry', superseded_by = ? "
                "WHERE portal_id = ? AND gone_at IS NULL AND id != ?",
                (now, new_id, portal_id, new_id),
            )
        return self.get(new_id)

    def mark_ok(self, column_id: int, *, now: str | None = None) -> None:
        """A crawl's walk of the column showed the portal's reports."""
        with transaction(self.conn):
            self.conn.execute("UPDATE portal_columns SET last_ok_at = ? WHERE id = ?", (now or utcnow(), column_id))

    def moves(self) -> list[ColumnMove]:
        """Every column that was superseded by another, with its successor, oldest first."""
        rows = self.conn.execute(
            "SELECT o.id AS old, n.id AS new FROM portal_columns o JOIN portal_columns n ON n.id = o.superseded_by "
            "ORDER BY n.id"
        ).fetchall()
        return [ColumnMove(self.get(r["old"]), self.get(r["new"])) for r in rows]

    def holds_reports(self, portal_id: str, run_id: int) -> bool | None:
        """Whether run `run_id`'s walk of the portal listed any of the portal's archived reports; None when the
        archive holds none of them (nothing to recognise the agency's column by)."""
        row = self.conn.execute(_LISTED_REPORTS, {"portal": portal_id, "run": run_id}).fetchone()
        return None if not row["archived"] else row["listed"] > 0


def _record(row: sqlite3.Row) -> ColumnRecord:
    d = dict(row)
    d["evidence"] = json.loads(d["evidence"]) if d["evidence"] else None
    return ColumnRecord(**d)
