"""The SQLite connection the archive writes through: pysqlite3's newer SQLite, WAL, explicit transactions."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from pathlib import Path

try:  # pysqlite3-binary ships SQLite 3.51; contentless-delete FTS5 tables need 3.43+
    import pysqlite3.dbapi2 as sqlite3
except ImportError:  # pragma: no cover - only on platforms without the wheel
    import sqlite3

MIN_SQLITE = (3, 43, 0)
DEFAULT_DB = Path("data") / "xxgk.db"


def default_db_path() -> Path:
    """XXGK_DB, else ./data/xxgk.db (data/ is gitignored)."""
    return Path(os.environ.get("XXGK_DB") or DEFAULT_DB)


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-write connection in autocommit mode; callers group writes with `transaction()`."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise RuntimeError(
            f"SQLite {sqlite3.sqlite_version} is too old for the archive (needs {'.'.join(map(str, MIN_SQLITE))}+); "
            "install pysqlite3-binary"
        )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=60, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a killed process; only a power cut can drop the last commits.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=60000")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception: a write is all or nothing.

    IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    failing half-way with SQLITE_BUSY on a lock upgrade. Nested use joins the outer transaction.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (a full disk): keep the first error
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def placeholders(values: Sized) -> str:
    """The `?, ?, …` of an `IN (…)` list over `values`."""
    return ",".join("?" * len(values))
