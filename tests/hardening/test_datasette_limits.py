"""Datasette bounded (SECURITY.md §3): one request cannot make `xxgk serve` hold gigabytes.

`?sql=select randomblob(1000000000)` used to answer 200 with 1.33 GB and take the server to 8.7 GB RSS; the
5 s time limit did not bound it. Against a real `xxgk serve` on 127.0.0.1, every memory bomb below fails fast
with an error that says what happened, the server's resident memory (sampled all along with psutil) stays
under 300 MB, and ordinary free SQL still answers.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import psutil
import pytest
from support.serving import serving
from support.shared import seed_paths

from crawler.ingest import ingest
from crawler.model import IncomingDocument

MB = 1024 * 1024
RSS_CEILING = 300 * MB

ROWS = "with recursive r(i) as (select 1 union all select i + 1 from r limit {n}) "
BOMBS = {
    # one value larger than SQLITE_LIMIT_LENGTH
    "one_giant_blob": ("select randomblob(1000000000)", "too big"),
    "giant_text": ("select replace(hex(zeroblob(400000000)), '0', 'x')", "too big"),
    "giant_group_concat": (ROWS.format(n=100000) + "select group_concat(hex(randomblob(1000))) from r", "too big"),
    # values under the limit, adding up past what one query may return
    "many_big_rows": (ROWS.format(n=1000) + "select randomblob(15000000) from r", "larger than"),
    "wide_rows": (ROWS.format(n=1000) + "select " + ", ".join(["randomblob(1000000)"] * 40) + " from r", "larger than"),
    # SQLite's own memory: a sort of big rows hits the heap limit (temporary b-trees are in memory)
    "big_sort": (ROWS.format(n=2000) + "select randomblob(1000000) as b from r order by b", "memory"),
}


class Sampler:
    """Peak resident memory of a process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from storage import Archive

    db = tmp_path_factory.mktemp("bounded") / "xxgk.db"
    with Archive(db) as archive:
        ingest(archive, IncomingDocument(seed_paths()[0].read_bytes(), url="http://www.example.gov.cn/1"))
    with serving(db, db.with_suffix(".log")) as (base, proc):
        sampler = Sampler(proc.pid)
        yield base, db.stem, sampler
        assert sampler.stop() < RSS_CEILING, f"peak RSS {sampler.peak / MB:.0f} MB"


def _sql(base: str, stem: str, sql: str, fmt: str = ".json") -> tuple[int, bytes, float]:
    started = time.monotonic()
    url = f"{base}/{stem}{fmt}?sql={urllib.parse.quote(sql)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read(), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.monotonic() - started


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_memory_bomb_fails_fast_with_a_clear_error(server, name: str):
    base, stem, sampler = server
    sql, words = BOMBS[name]
    for fmt in (".json", ""):  # the JSON API and the HTML page
        status, body, seconds = _sql(base, stem, sql, fmt)
        assert status == 400, (name, fmt, status, body[:300])
        assert seconds < 5, (name, fmt, seconds)
        assert len(body) < 1 * MB, (name, fmt, len(body))
        text = json.loads(body)["error"] if fmt == ".json" else body.decode()
        assert words in text, (name, text[:300])
    assert sampler.peak < RSS_CEILING, f"{name}: peak RSS {sampler.peak / MB:.0f} MB"


def test_free_sql_still_answers_within_the_bounds(server):
    base, stem, sampler = server
    status, body, _ = _sql(base, stem, "select count(*) as n from reports")
    assert status == 200 and json.loads(body)["rows"] == [[1]]
    # A page of a thousand 4 KB texts (4 MB): large, and allowed.
    status, body, _ = _sql(base, stem, ROWS.format(n=1000) + "select hex(randomblob(2048)) from r")
    assert status == 200 and len(json.loads(body)["rows"]) == 1000
    status, body, _ = _sql(base, stem, "select length(full_text) from report_texts")
    assert status == 200, body[:300]
    assert sampler.peak < RSS_CEILING


def test_the_limits_are_on_every_connection_and_checked():
    """The length limit is set through SQLite itself (pysqlite3 has no setlimit) and proven by SQL."""
    from datasette.utils.sqlite import sqlite3

    from storage.datasette.limits import LENGTH_LIMIT, ResultTooLarge, bound_connection, verify

    verify()
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    bound_connection(conn)
    with pytest.raises(sqlite3.DataError, match="too big"):
        conn.execute("select zeroblob(?)", (LENGTH_LIMIT + 1,)).fetchone()
    assert conn.execute("select length(zeroblob(?))", (LENGTH_LIMIT,)).fetchone()[0] == LENGTH_LIMIT
    with pytest.raises(ResultTooLarge):
        conn.execute(ROWS.format(n=100) + "select randomblob(1000000) from r").fetchall()
    # The budget is per query: the next one starts from nothing, and rows are still sqlite3.Row.
    row = conn.execute("select 1 as one").fetchone()
    assert row["one"] == 1


def _drive(app) -> list[dict]:
    """Run one request through an ASGI app on a loop of its own; the messages it sent."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_request(app))
    finally:
        loop.close()


async def _request(app) -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    return sent


def _app(*chunks: bytes):
    """A minimal ASGI app answering 200 with `chunks` (one message each, the last one final)."""

    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


def test_a_response_past_the_cap_is_refused_or_cut_off():
    """The ASGI wrapper the plugin installs: a whole body past the cap becomes a 413; a streamed one (CSV
    export) is dropped mid-way rather than shortened silently; a body within the cap passes untouched."""
    from storage.datasette.limits import ResponseTooLarge, capped

    whole = _drive(capped(_app(b"x" * 2048), limit=1024))
    assert whole[0]["status"] == 413 and b"larger than" in whole[1]["body"]
    within = _drive(capped(_app(b"ok"), limit=1024))
    assert within[0]["status"] == 200 and within[1]["body"] == b"ok"
    with pytest.raises(ResponseTooLarge):
        _drive(capped(_app(b"a" * 800, b"b" * 800, b"c"), limit=1024))
