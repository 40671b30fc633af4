"""Read-only SQL behind the newsroom pages (storage/datasette/pages.py): what a journalist asks of the archive.

Every function takes an open connection (Datasette's, through `Database.execute_fn`, or any sqlite3 connection)
and returns plain dicts; nothing here writes. Each query starts from an index the archive already has, so the
pages stay quick on a 100k-report archive (bench/newsroom.py times them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.db import placeholders, sqlite3

Row = dict[str, Any]
# Verdicts a person can publish (on time, late, missing) as against "we could not tell" or "not due yet".
DUE = ("on_time", "late", "missing")
ATTENTION = ("missing", "late", "unverified")


class UnreadableSnapshot(Exception):
    pass


def snapshot_version(path: str | Path) -> int:
    """The schema version of an archive opened as an immutable snapshot (nothing written, no WAL, no lock):
    a file that is no archive raises UnreadableSnapshot here, before Datasette starts."""
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro&immutable=1", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM reports").fetchone()
            return version
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise UnreadableSnapshot(str(e)) from None


def _rows(conn, sql: str, params: tuple | dict = ()) -> list[Row]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _one(conn, sql: str, params: tuple | dict = ()) -> Row | None:
    found = _rows(conn, sql, params)
    return found[0] if found else None


# --- the front page ------------------------------------------------------------------------------------------


def years(conn) -> list[int]:
    """Every report year with a deadline verdict, newest first."""
    return [r["year"] for r in _rows(conn, "SELECT DISTINCT year FROM deadline_status ORDER BY year DESC")]


def latest_due_year(conn) -> int | None:
    """The newest year whose deadline has passed for someone (a verdict of on time, late or missing)."""
    row = _one(conn, f"SELECT max(year) AS y FROM deadline_status WHERE status IN {DUE}")
    return row["y"] if row else None


def provinces(conn) -> list[str]:
    return [r["province"] for r in _rows(conn, "SELECT DISTINCT province FROM agencies WHERE province IS NOT NULL ORDER BY province")]


def deadline_counts(conn, year: int, province: str = "") -> dict[str, int]:
    rows = _rows(
        conn,
        "SELECT d.status, count(*) AS n FROM deadline_status d JOIN agencies a ON a.id = d.agency_id "
        "WHERE d.year = ? AND (? = '' OR a.province = ?) GROUP BY d.status",
        (year, province, province),
    )
    return {r["status"]: r["n"] for r in rows}


def coverage(conn) -> Row:
    """How many agencies are monitored, and how many reports the archive holds."""
    return _one(
        conn,
        "SELECT (SELECT count(*) FROM agencies WHERE in_registry = 1) AS monitored, "
        "(SELECT count(*) FROM agencies) AS agencies, (SELECT count(*) FROM reports) AS reports",
    ) or {}


def inconsistent_count(conn, year: int, province: str = "") -> int:
    row = _one(
        conn,
        "SELECT count(*) AS n FROM reports WHERE failing_checks > 0 AND year = ? AND (? = '' OR province = ?)",
        (year, province, province),
    )
    return row["n"] if row else 0


def changed_count(conn, year: int | None, province: str = "") -> int:
    row = _one(
        conn,
        "SELECT count(*) AS n FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "WHERE v.version > 1 AND (? IS NULL OR r.year = ?) AND (? = '' OR r.province = ?)",
        (year, year, province, province),
    )
    return row["n"] if row else 0


# --- deadlines -----------------------------------------------------------------------------------------------

_DEADLINE_SELECT = """
SELECT a.id AS agency_id, a.name AS agency, a.province, a.city, a.kind, a.listing_url, d.year, d.status,
       d.deadline, d.days_late, d.published_at, d.published_source, d.report_id, d.reason, d.expectation,
       d.basis, d.checked_at, d.note, d.pages_checked, d.evidence_id,
       e.sha256 AS evidence_sha256, e.captured_at AS evidence_captured_at, e.url AS evidence_url,
       r.title, r.source_url
FROM deadline_status d
{join} agencies a ON a.id = d.agency_id
LEFT JOIN reports r ON r.id = d.report_id
LEFT JOIN evidence e ON e.id = d.evidence_id
"""


def _deadline_filter(year: int | None, province: str, statuses: tuple[str, ...]) -> tuple[str, str, tuple]:
    """The join and WHERE of a deadline list. Without a province the year's verdicts are read first (CROSS JOIN
    keeps that order: the planner would walk every agency); with one, the province's agencies."""
    where = f"WHERE d.status IN ({placeholders(statuses)})"
    params: tuple = tuple(statuses)
    if year is not None:
        where += " AND d.year = ?"
        params += (year,)
    if province:
        where += " AND a.province = ?"
        params += (province,)
    return ("JOIN" if province else "CROSS JOIN"), where, params


def deadlines(
    conn, year: int | None, province: str = "", statuses: tuple[str, ...] = ATTENTION, limit: int = -1
) -> list[Row]:
    """Missing first, then late by days, then unverified: the agencies of a year a journalist asks about (the
    first `limit`; -1 every one)."""
    join, where, params = _deadline_filter(year, province, statuses)
    return _rows(
        conn,
        _DEADLINE_SELECT.format(join=join) + where
        + " ORDER BY CASE d.status WHEN 'missing' THEN 0 WHEN 'late' THEN 1 ELSE 2 END, d.days_late DESC, "
        "a.province, a.city, a.name LIMIT ?",
        (*params, limit),
    )


def deadline_total(conn, year: int | None, province: str = "", statuses: tuple[str, ...] = ATTENTION) -> int:
    join, where, params = _deadline_filter(year, province, statuses)
    if not province:  # the index on (year, status) answers it alone
        row = _one(conn, f"SELECT count(*) AS n FROM deadline_status d {where}", params)
    else:
        row = _one(conn, f"SELECT count(*) AS n FROM deadline_status d {join} agencies a ON a.id = d.agency_id {where}", params)
    return row["n"] if row else 0


def evidence_pages(conn, evidence_id: int) -> list[Row]:
    return _rows(
        conn,
        "SELECT id, sha256, url, page, captured_at FROM evidence WHERE id = ? OR set_id = ? ORDER BY coalesce(page, 1), id",
        (evidence_id, evidence_id),
    )


def evidence_sets(conn, evidence_ids: list[int]) -> dict[int, list[Row]]:
    """The pages of several proofs at once (one page of the deadlines list)."""
    return {i: evidence_pages(conn, i) for i in evidence_ids}


def image_document(conn, sha256: str) -> Row | None:
    """A stored screenshot (the only originals served inline): kept as evidence and an image."""
    return _one(
        conn,
        "SELECT d.sha256, d.content_type FROM documents d WHERE d.sha256 = ? AND d.content_type LIKE 'image/%' "
        "AND EXISTS (SELECT 1 FROM evidence e WHERE e.sha256 = d.sha256)",
        (sha256,),
    )


# --- inconsistent reports ------------------------------------------------------------------------------------


def inconsistent(conn, year: int | None, province: str = "") -> list[Row]:
    """Failing findings (not parse observations) of a year's reports, with the printed values of their cells."""
    return _rows(
        conn,
        """
        SELECT f.id AS finding_id, f.report_id, r.agency_name AS agency, r.province, r.year, f.rule, f.message,
               f.cells, f.found_at, r.checked_at, r.title, r.source_url
        FROM reports r CROSS JOIN findings f ON f.report_id = r.id
        WHERE r.failing_checks > 0 AND f.status = 'fail' AND f.rule NOT LIKE 'parse.%'
          AND (? IS NULL OR r.year = ?) AND (? = '' OR r.province = ?)
        ORDER BY r.year DESC, r.province, r.agency_name, f.rule LIMIT 2000
        """,
        (year, year, province, province),
    )


def printed(conn, wanted: list[tuple[int, list[str]]]) -> list[dict[str, str | None]]:
    """For each (report, cell keys): key → the cell as printed (None when the report has no such cell)."""
    ids = {r["key"]: r["id"] for r in _rows(conn, "SELECT id, key FROM cell_keys")}
    out = []
    for report_id, keys in wanted:
        marks = [ids[k] for k in keys if k in ids]
        found = {}
        if marks:
            found = {r["key"]: r["raw"] for r in _rows(
                conn,
                f"SELECT k.key, c.raw FROM cells c JOIN cell_keys k ON k.id = c.key_id "
                f"WHERE c.report_id = ? AND c.key_id IN ({placeholders(marks)})",
                (report_id, *marks),
            )}
        out.append({k: found.get(k) for k in keys})
    return out


# --- one report ----------------------------------------------------------------------------------------------


def report(conn, report_id: int) -> Row | None:
    return _one(
        conn,
        """
        SELECT r.*, a.name AS agency, a.listing_url, d.status AS verdict, d.deadline AS verdict_deadline,
               d.days_late AS verdict_days, d.published_at AS verdict_published_at, d.published_source AS verdict_source,
               d.note AS verdict_note, d.checked_at AS verdict_checked_at, d.evidence_id,
               doc.fetched_at, doc.bytes, doc.content_type
        FROM reports r
        LEFT JOIN agencies a ON a.id = r.agency_id
        LEFT JOIN deadline_status d ON d.agency_id = r.agency_id AND d.year = r.year
        LEFT JOIN documents doc ON doc.sha256 = r.sha256
        WHERE r.id = ?
        """,
        (report_id,),
    )


def cells(conn, report_id: int, version: int | None = None) -> dict[str, Row]:
    """key → {value, raw, unit}: the current cells, or those a superseded version printed."""
    if version is None:
        sql = "SELECT k.key, c.value, c.raw, c.unit FROM cells c JOIN cell_keys k ON k.id = c.key_id WHERE c.report_id = ?"
        params: tuple = (report_id,)
    else:
        sql = (
            "SELECT k.key, c.value, c.raw, c.unit FROM version_cells c JOIN cell_keys k ON k.id = c.key_id "
            "WHERE c.report_id = ? AND c.version = ?"
        )
        params = (report_id, version)
    return {r["key"]: r for r in _rows(conn, sql, params)}


def cell_labels(conn) -> dict[str, str]:
    return {r["key"]: r["label"] for r in _rows(conn, "SELECT key, label FROM cell_keys")}


def findings(conn, report_id: int) -> list[Row]:
    return _rows(
        conn,
        "SELECT id, rule, status, severity, message, cells, scope FROM findings WHERE report_id = ? "
        "ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'not_assessable' THEN 1 WHEN 'info' THEN 2 ELSE 3 END, id",
        (report_id,),
    )


def full_text(conn, report_id: int) -> str:
    row = _one(conn, "SELECT full_text FROM report_texts WHERE report_id = ?", (report_id,))
    return row["full_text"] if row else ""


def versions(conn, report_id: int) -> list[Row]:
    return _rows(
        conn,
        "SELECT v.version, v.sha256, v.source_url, v.seen_at, v.parse_status, v.kept, v.title, d.format "
        "FROM report_versions v LEFT JOIN documents d ON d.sha256 = v.sha256 WHERE v.report_id = ? ORDER BY v.version",
        (report_id,),
    )


def version_text(conn, report_id: int, version: int) -> str | None:
    """A version's text: superseded versions keep theirs in report_versions, the current one in report_texts."""
    row = _one(conn, "SELECT v.full_text, r.version AS current FROM report_versions v JOIN reports r ON r.id = v.report_id "
               "WHERE v.report_id = ? AND v.version = ?", (report_id, version))
    if row is None:
        return None
    return full_text(conn, report_id) if row["current"] == version else row["full_text"]


def original_name(conn, sha256: str) -> Row | None:
    """Who published this document and for which year, to name the download."""
    return _one(
        conn,
        "SELECT r.agency_name AS agency, r.year, d.format, d.content_type FROM documents d "
        "LEFT JOIN report_versions v ON v.sha256 = d.sha256 LEFT JOIN reports r ON r.id = v.report_id "
        "WHERE d.sha256 = ? LIMIT 1",
        (sha256,),
    )


# --- one agency ----------------------------------------------------------------------------------------------


def agencies_matching(conn, text: str, limit: int = 50) -> list[Row]:
    """Agencies whose name contains `text` (沈阳 → 沈阳市人民政府, 沈阳市人民防空办公室)."""
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return _rows(
        conn,
        "SELECT id, name, province, city, county, kind FROM agencies WHERE name LIKE ? ESCAPE '\\' "
        "ORDER BY length(name), name LIMIT ?",
        (like, limit),
    )


def agency_records(conn, agency_ids: list[int]) -> dict[int, list[Row]]:
    return {i: agency_deadlines(conn, i) for i in agency_ids}


def agency(conn, agency_id: int) -> Row | None:
    return _one(conn, "SELECT * FROM agencies WHERE id = ?", (agency_id,))


def agency_reports(conn, agency_id: int) -> list[Row]:
    return _rows(conn, "SELECT * FROM reports WHERE agency_id = ? ORDER BY year", (agency_id,))


def agency_deadlines(conn, agency_id: int) -> list[Row]:
    return _rows(conn, _DEADLINE_SELECT.format(join="JOIN") + "WHERE d.agency_id = ? ORDER BY d.year", (agency_id,))


# --- what changed --------------------------------------------------------------------------------------------


def changes(conn, year: int | None, province: str = "", limit: int = 500) -> list[Row]:
    """Every new version of a report after the first, newest first."""
    return _rows(
        conn,
        """
        SELECT v.report_id, v.version, v.seen_at, v.parse_status, v.kept, r.agency_name AS agency, r.province,
               r.year, r.title, v.source_url
        FROM report_versions v JOIN reports r ON r.id = v.report_id
        WHERE v.version > 1 AND (? IS NULL OR r.year = ?) AND (? = '' OR r.province = ?)
        ORDER BY v.seen_at DESC LIMIT ?
        """,
        (year, year, province, province, limit),
    )


def version(conn, report_id: int, number: int) -> Row | None:
    return _one(conn, "SELECT * FROM report_versions WHERE report_id = ? AND version = ?", (report_id, number))


# --- search --------------------------------------------------------------------------------------------------


def search_candidates(
    conn, match: str, year: int | None, province: str = "", kind: str = "", limit: int = 300
) -> list[Row]:
    """Reports whose title or text holds the term (the bigram index), newest first, with their text: the
    caller ranks them by where the term stands (narrative or template label)."""
    return _rows(
        conn,
        """
        SELECT r.id AS report_id, r.agency_name AS agency, r.province, r.year, r.kind, r.title, t.full_text
        FROM reports r JOIN report_texts t ON t.report_id = r.id
        WHERE r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH ? ORDER BY rowid DESC LIMIT 20000)
          AND (? IS NULL OR r.year = ?) AND (? = '' OR r.province = ?) AND (? = '' OR r.kind = ?)
        ORDER BY r.id DESC LIMIT ?
        """,
        (match, year, year, province, province, kind, kind, limit),
    )


# --- feeds and exports ---------------------------------------------------------------------------------------


def feed_deadlines(conn, province: str = "", limit: int = 100) -> list[Row]:
    return _rows(
        conn,
        _DEADLINE_SELECT.format(join="JOIN") + "WHERE d.status IN ('late', 'missing') AND (? = '' OR a.province = ?) "
        "ORDER BY d.checked_at DESC, d.year DESC LIMIT ?",
        (province, province, limit),
    )


def feed_inconsistent(conn, province: str = "", limit: int = 100) -> list[Row]:
    return _rows(
        conn,
        "SELECT r.id AS report_id, r.agency_name AS agency, r.province, r.year, r.failing_checks, r.title, "
        "coalesce(r.checked_at, r.changed_at) AS updated, "
        "(SELECT group_concat(message, '；') FROM findings f WHERE f.report_id = r.id AND f.status = 'fail' "
        " AND f.rule NOT LIKE 'parse.%') AS messages "
        "FROM reports r WHERE r.failing_checks > 0 AND (? = '' OR r.province = ?) "
        "ORDER BY updated DESC LIMIT ?",
        (province, province, limit),
    )


def feed_changes(conn, province: str = "", limit: int = 100) -> list[Row]:
    return changes(conn, None, province, limit)


def summary_rows(conn, year: int | None, province: str = "") -> list[Row]:
    """Every report of a year (and province) for the Excel export: all rows, not one page."""
    return _rows(
        conn,
        "SELECT * FROM report_summary WHERE (? IS NULL OR year = ?) AND (? = '' OR province = ?) "
        "ORDER BY province, city, agency, year",
        (year, year, province, province),
    )


# --- charts --------------------------------------------------------------------------------------------------


def outcomes_by_year(conn) -> list[Row]:
    """Per report year: how many verdicts of each kind (the index deadline_status_year answers it)."""
    return _rows(conn, "SELECT year, status, count(*) AS n FROM deadline_status GROUP BY year, status ORDER BY year")


def outcomes_by_province(conn, year: int | None) -> list[Row]:
    return _rows(
        conn,
        "SELECT coalesce(a.province, '（未知）') AS province, d.status, count(*) AS n FROM deadline_status d "
        "JOIN agencies a ON a.id = d.agency_id WHERE (? IS NULL OR d.year = ?) GROUP BY 1, 2 ORDER BY 1",
        (year, year),
    )


def report_of(conn, sha256: str) -> int | None:
    """The report an archived original is a version of (the newest such report)."""
    row = _one(conn, "SELECT max(report_id) AS id FROM report_versions WHERE sha256 = ?", (sha256,))
    return row["id"] if row else None
