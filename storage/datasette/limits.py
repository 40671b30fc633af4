"""What one Datasette request may make the server hold: bounded, while SQL stays free for journalists.

`sql_time_limit_ms` bounds time, not memory: `?sql=select randomblob(1000000000)` used to answer 200 with
1.33 GB and take the server to 8.7 GB. Every connection Datasette opens gets (from the plugin's
`prepare_connection` hook, plugins/limits.py):

- SQLITE_LIMIT_LENGTH: no string, blob or row above LENGTH_LIMIT, so such a value is refused by SQLite
  the moment it would be built ("string or blob too big");
- a heap limit for SQLite (soft, then hard: beyond it an allocation fails with "out of memory") and temporary
  b-trees in memory, so a sort or a recursive query of big rows hits that limit instead of filling the disk;
- a budget on what one query hands to Python: a query whose rows add up to more than RESULT_LIMIT characters
  or bytes fails with a clear error instead of being turned into a giant JSON page.

And the plugin's `asgi_wrapper` caps every response at RESPONSE_LIMIT bytes (streamed CSV exports included).

Datasette runs on pysqlite3, whose Connection has no `setlimit()`; the limit is set through SQLite's own
`sqlite3_limit()` on the connection's handle (ctypes), and checked by SQL right after: a connection the limit
cannot be verified on refuses to be used.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from storage.db import sqlite3

LENGTH_LIMIT = 16 * 1024 * 1024  # SQLITE_LIMIT_LENGTH; an archive's largest text is a few MB
RESULT_LIMIT = 8 * 1024 * 1024  # characters or bytes one query may return (1000 rows of 8 KB)
SOFT_HEAP_LIMIT = 48 * 1024 * 1024  # SQLite gives back cache memory above this
HARD_HEAP_LIMIT = 96 * 1024 * 1024  # SQLite's allocations fail above this (process-wide)
RESPONSE_LIMIT = 512 * 1024 * 1024  # bytes of one HTTP response

SQLITE_LIMIT_LENGTH = 0  # sqlite3.h
_HEAD = 2 * ctypes.sizeof(ctypes.c_ssize_t)  # PyObject_HEAD; the `sqlite3 *db` handle follows it


class ResultTooLarge(sqlite3.OperationalError):
    """A query's rows add up to more than RESULT_LIMIT: Datasette shows it like any SQL error."""


class LimitNotApplied(RuntimeError):
    """SQLITE_LIMIT_LENGTH could not be set or verified on a connection."""


def bound_connection(conn: Any) -> None:
    """Apply every limit above to one of Datasette's connections."""
    set_length_limit(conn, LENGTH_LIMIT)
    conn.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_LIMIT}")
    conn.execute(f"PRAGMA hard_heap_limit = {HARD_HEAP_LIMIT}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.row_factory = budgeted(conn.row_factory, RESULT_LIMIT)


def verify() -> None:
    """Prove the limits can be applied with the SQLite Datasette uses (raises LimitNotApplied): `xxgk serve`
    checks before it starts, rather than serving with every query failing."""
    from datasette.utils.sqlite import sqlite3 as datasette_sqlite3

    conn = datasette_sqlite3.connect(":memory:")
    try:
        bound_connection(conn)
    except datasette_sqlite3.Error as e:
        raise LimitNotApplied(str(e)) from e
    finally:
        conn.close()


def set_length_limit(conn: Any, limit: int) -> None:
    """SQLITE_LIMIT_LENGTH on `conn`, through `setlimit()` where the driver has it, else sqlite3_limit();
    then proven by SQL (a value one byte longer is refused)."""
    if hasattr(conn, "setlimit"):
        conn.setlimit(SQLITE_LIMIT_LENGTH, limit)
    else:
        _sqlite3_limit(conn, SQLITE_LIMIT_LENGTH, limit)
    try:
        conn.execute("SELECT length(zeroblob(?))", (limit + 1,)).fetchone()
    except Exception as e:  # DataError of whichever sqlite3 module made the connection
        if "too big" in str(e):
            return
        raise
    raise LimitNotApplied(f"SQLITE_LIMIT_LENGTH {limit} is not in force on {conn!r}")


def _sqlite3_limit(conn: Any, what: int, value: int) -> int:
    handle = ctypes.c_void_p.from_address(id(conn) + _HEAD).value
    if not handle:
        raise LimitNotApplied("no SQLite handle on the connection")
    library = _library()
    current = library.sqlite3_limit(handle, what, -1)  # -1 reads without changing
    if not 0 < current <= 2**31 - 1:
        raise LimitNotApplied(f"implausible current limit {current}: not a SQLite handle")
    return library.sqlite3_limit(handle, what, value)


def _library() -> ctypes.CDLL:
    """The SQLite that pysqlite3 is built with (statically, in its extension module)."""
    import pysqlite3._sqlite3 as extension

    library = ctypes.CDLL(extension.__file__)
    library.sqlite3_limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    library.sqlite3_limit.restype = ctypes.c_int
    return library


def budgeted(row_factory: Callable | None, limit: int) -> Callable[[Any, tuple], Any]:
    """A row factory that counts what the current query has returned and fails it past `limit`.

    One per connection (Datasette's connections serve one query at a time); the count starts again with
    each new cursor. The previous cursor is kept, not just its id, so that a new cursor cannot reuse it.
    """
    make = row_factory or (lambda _cursor, row: row)
    state: dict[str, Any] = {"cursor": None, "used": 0}

    def factory(cursor: Any, row: tuple) -> Any:
        if cursor is not state["cursor"]:
            state["cursor"], state["used"] = cursor, 0
        state["used"] += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
        if state["used"] > limit:
            raise ResultTooLarge(
                f"the result is larger than {limit // (1024 * 1024)} MB: select fewer rows or columns, "
                "or shorter values (substr, length)"
            )
        return make(cursor, row)

    return factory


def capped(app: Callable, limit: int = RESPONSE_LIMIT) -> Callable:
    """An ASGI wrapper that lets no response grow past `limit` bytes. A complete body that is too large is
    replaced by a 413; a streamed one (CSV export) is cut off by closing the connection, which a client sees as
    an incomplete download rather than a silently shortened file."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        await app(scope, receive, _CappedSend(send, limit))

    return wrapped


class ResponseTooLarge(Exception):
    """Raised into the ASGI server to drop a streamed response that passed RESPONSE_LIMIT."""


class _CappedSend:
    """The `send` of one response: holds the start message until the first body part shows its size."""

    def __init__(self, send: Callable, limit: int) -> None:
        self.send, self.limit = send, limit
        self.start: dict | None = None
        self.sent = 0

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body":
            await self.send(message)
            return
        body = message.get("body", b"")
        self.sent += len(body)
        if self.start is not None:
            start, self.start = self.start, None
            if self.sent > self.limit and not message.get("more_body"):
                await self._too_large()
                return
            await self.send(start)
        if self.sent > self.limit:
            raise ResponseTooLarge(f"response passed {self.limit} bytes: cut off")
        await self.send(message)

    async def _too_large(self) -> None:
        text = f"the response would be larger than {self.limit // (1024 * 1024)} MB".encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(text)).encode())]
        await self.send({"type": "http.response.start", "status": 413, "headers": headers})
        await self.send({"type": "http.response.body", "body": text})
