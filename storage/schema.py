"""Versioned schema migrations, tracked in PRAGMA user_version.

Each migration runs in its own transaction together with its data step and the user_version bump,
so a database is always at exactly one version. Views carry no data: they are recreated whenever
any migration runs (changing a view means adding a migration, even an empty one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from crawler import template as tpl
from storage.db import sqlite3, transaction
from storage.search import index_text


def _sql(name: str) -> str:
    return resources.files("storage.migrations").joinpath(name).read_text(encoding="utf-8")


def _backfill_search(conn: sqlite3.Connection) -> None:
    """Index the reports a version-1 archive already holds."""
    rows = conn.execute(
        "SELECT r.id, r.title, t.full_text FROM reports r LEFT JOIN report_texts t ON t.report_id = r.id"
    )
    conn.executemany(
        "INSERT INTO reports_fts(rowid, title, body) VALUES (?, ?, ?)",
        ((rid, index_text(title), index_text(text)) for rid, title, text in rows),
    )


@dataclass(frozen=True)
class Migration:
    version: int
    sql_file: str
    data_step: Callable[[sqlite3.Connection], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "0001_initial.sql"),
    Migration(2, "0002_search.sql", _backfill_search),
    Migration(3, "0003_facets.sql"),
    Migration(4, "0004_aggregate_indexes.sql"),
    Migration(5, "0005_evidence.sql"),
    Migration(6, "0006_verdicts.sql"),
    Migration(7, "0007_version_cells.sql"),
    Migration(8, "0008_portal_columns.sql"),
    Migration(9, "0009_reports_portal.sql"),
)
LATEST = MIGRATIONS[-1].version


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> list[int]:
    """Bring the database up to `target`; returns the versions applied."""
    applied: list[int] = []
    current = user_version(conn)
    if current > LATEST:
        raise RuntimeError(f"archive schema version {current} is newer than this xxgk (knows up to {LATEST})")
    for m in MIGRATIONS:
        if current < m.version <= target:
            with transaction(conn):
                # Re-read inside the write lock: another process may have migrated meanwhile.
                if user_version(conn) >= m.version:
                    continue
                _run_script(conn, _sql(m.sql_file))
                if m.data_step:
                    m.data_step(conn)
                if m.version == target:
                    _run_script(conn, _sql("views.sql"))
                conn.execute(f"PRAGMA user_version = {m.version}")
            applied.append(m.version)
    return applied


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run a multi-statement script inside the open transaction (executescript would COMMIT first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                conn.execute(statement)
            statement = ""
    if statement.strip() and not statement.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")


def sync_cell_keys(conn: sqlite3.Connection) -> dict[str, int]:
    """Upsert every template cell into cell_keys; returns key → id. Cheap, so it runs on every open."""
    merged: dict[str, tuple[tpl.Cell, list[str]]] = {}
    for t in tpl.TEMPLATES:
        for cell in tpl.cells(t):
            # The latest format's label wins: it is the wording current reports print.
            merged[cell.key] = (cell, [*merged.get(cell.key, (cell, []))[1], t])
    existing = {
        k: (i, s, r, c, kd, lb, ts)
        for i, k, s, r, c, kd, lb, ts in conn.execute(
            "SELECT id, key, section, row, col, kind, label, templates FROM cell_keys"
        )
    }
    wanted = {
        key: (cell.table, cell.row, cell.column, cell.kind.value, cell.label, ",".join(ts))
        for key, (cell, ts) in merged.items()
    }
    if any(key not in existing or existing[key][1:] != values for key, values in wanted.items()):
        with transaction(conn):
            conn.executemany(
                "INSERT INTO cell_keys(key, section, row, col, kind, label, templates) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET section=excluded.section, row=excluded.row, col=excluded.col, "
                "kind=excluded.kind, label=excluded.label, templates=excluded.templates",
                [(key, *values) for key, values in wanted.items()],
            )
    return {k: i for i, k in conn.execute("SELECT id, key FROM cell_keys")}
