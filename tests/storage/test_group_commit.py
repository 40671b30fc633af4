"""Group commit on real SQLite files: a batch is written whole or not at all, is visible only once committed,
stores a document seen twice in it once, survives a refused write, and a child process killed with SIGKILL
in the middle of its batches leaves a consistent archive holding every write it had acknowledged."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.shared import ROOT, seed_paths

from crawler import template as tpl
from crawler.crawl.writer import ArchiveWriter, ingest_report, mark_seen, store_document
from crawler.ingest import document_write, report_write
from crawler.model import CellValue, HttpMeta, IncomingDocument, ParsedReport, ParseError
from storage import Archive
from storage.db import sqlite3
from storage.records import SeenWrite
from storage.store import sha256_of, store_dir_for

HERE = Path(__file__).resolve().parent


def synthetic(agency: str, year: int, seed: int) -> tuple[IncomingDocument, ParsedReport]:
    """A small report with real template cells, as bench/archive.py makes them."""
    rng = random.Random(seed)
    template = tpl.expected_template(year)
    cells = {}
    for cell in list(tpl.cells(template))[:40]:
        value = rng.randint(0, 60)
        cells[cell.key] = CellValue(cell.key, value, str(value))
    text = f"{agency}{year}年政府信息公开工作年度报告\n行政复议{seed}件"
    parsed = ParsedReport(agency, year, template, text.splitlines()[0], None, {}, cells, [], text, "text")
    doc = IncomingDocument(text.encode(), url=f"https://gov.example/{agency}/{year}.txt", agency=agency, year=year)
    return doc, parsed


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def problems(db: Path) -> list[str]:
    """What would make the archive inconsistent, read by a separate read-only connection."""
    out = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if [r[0] for r in conn.execute("PRAGMA integrity_check")] != ["ok"]:
            out.append("integrity_check")
        if conn.execute("PRAGMA foreign_key_check").fetchall():
            out.append("foreign keys")
        if conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM reports GROUP BY agency_id, year HAVING count(*) > 1)"
        ).fetchone()[0]:
            out.append("duplicate reports")
        store = store_dir_for(db)
        for sha, path in conn.execute("SELECT sha256, path FROM documents"):
            f = store / path
            if not f.is_file() or sha256_of(f.read_bytes()) != sha:
                out.append(f"document row without its complete file: {sha}")
        partial = conn.execute(
            "SELECT count(*) FROM reports r WHERE r.cells_count != (SELECT count(*) FROM cells c WHERE c.report_id = r.id) "
            "OR NOT EXISTS (SELECT 1 FROM report_texts t WHERE t.report_id = r.id) "
            "OR NOT EXISTS (SELECT 1 FROM report_versions v WHERE v.report_id = r.id)"
        ).fetchone()[0]
        if partial:
            out.append(f"{partial} reports without all their rows")
        indexed = conn.execute("SELECT count(*) FROM reports_fts WHERE reports_fts MATCH '\"复议\"'").fetchone()[0]
        if indexed != conn.execute("SELECT count(*) FROM reports WHERE parse_status = 'ok'").fetchone()[0]:
            out.append("search index out of step with reports")
    finally:
        conn.close()
    return out


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "xxgk.db") as a:
        yield a


# --- batch semantics ----------------------------------------------------------------------------------------------


def test_nothing_is_visible_or_stored_before_the_commit_and_everything_after(archive):
    db = archive.db_path
    batch = archive.batch()
    for i in range(3):
        doc, parsed = synthetic(f"某县第{i}局", 2023, i)
        assert batch.add(report_write(doc, parsed)) == i
    batch.add(SeenWrite("https://gov.example/unknown.pdf"))
    assert len(batch) == 4 and batch.bytes > 0
    assert count(db, "SELECT count(*) FROM reports") == 0  # another connection sees nothing yet
    assert not [p for p in store_dir_for(db).rglob("*") if p.is_file()]  # not even an original

    results = batch.commit()
    assert [r.status for r in results[:3]] == ["new"] * 3 and results[3] is False  # the URL was not known
    assert len(batch) == 0 and batch.bytes == 0
    assert count(db, "SELECT count(*) FROM reports") == 3
    assert count(db, "SELECT count(*) FROM cells") == 3 * 40
    assert problems(db) == []
    assert [r.id for r in archive.reports.search("复议")] == sorted((r.report_id for r in results[:3]), reverse=True)


def test_a_document_twice_in_one_batch_is_stored_once(archive):
    doc, parsed = synthetic("某县教育局", 2023, 1)
    edited_doc, edited = synthetic("某县教育局", 2023, 2)  # the same report, other bytes: a second version
    mirror = IncomingDocument(doc.data, url="https://mirror.example/same.txt", agency=doc.agency, year=doc.year)
    batch = archive.batch()
    for write in (report_write(doc, parsed), report_write(doc, parsed), report_write(mirror, parsed)):
        batch.add(write)
    batch.add(document_write(IncomingDocument(doc.data, url="https://gov.example/page.html")))
    batch.add(report_write(edited_doc, edited))
    results = batch.commit()

    assert [r.status for r in (*results[:3], results[4])] == ["new", "unchanged", "unchanged", "changed"]
    assert results[0].document.is_new and not results[1].document.is_new
    assert results[3].sha256 == results[0].document.sha256
    assert len({r.report_id for r in (*results[:3], results[4])}) == 1
    db = archive.db_path
    assert count(db, "SELECT count(*) FROM reports") == 1
    assert count(db, "SELECT count(*) FROM report_versions") == 2
    assert count(db, "SELECT count(*) FROM documents") == 2  # two distinct contents
    assert count(db, "SELECT count(*) FROM document_urls") == 3
    assert len([p for p in store_dir_for(db).rglob("*") if p.is_file()]) == 2
    assert archive.reports.versions(results[0].report_id)[0].cells is not None  # the edit kept the old numbers
    assert problems(db) == []


def test_a_refused_write_fails_alone_and_the_rest_of_the_batch_commits(archive, monkeypatch):
    docs = [synthetic(f"某市第{i}局", 2022, i) for i in range(4)]
    write_stored = archive.reports.write_stored

    def refuse_the_third(w, stored, **kwargs):
        result = write_stored(w, stored, **kwargs)  # its rows are written, then refused: all of them must go
        if w.doc.agency == "某市第2局":
            raise sqlite3.IntegrityError("refused for the test")
        return result

    monkeypatch.setattr(archive.reports, "write_stored", refuse_the_third)
    batch = archive.batch()
    for doc, parsed in docs:
        batch.add(report_write(doc, parsed))
    results = batch.commit()
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert [r.status for i, r in enumerate(results) if i != 2] == ["new"] * 3
    assert {r.agency for r in archive.reports.list()} == {"某市第0局", "某市第1局", "某市第3局"}
    assert archive.documents.known(docs[2][0].url) is None  # so the next crawl fetches it again
    assert problems(archive.db_path) == []


def test_a_batch_that_cannot_be_stored_writes_nothing_and_is_emptied(archive, monkeypatch):
    doc, parsed = synthetic("某区财政局", 2021, 3)
    batch = archive.batch()
    batch.add(report_write(doc, parsed))

    def full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive.documents.store, "_write_temporary", full)
    with pytest.raises(OSError, match="No space"):
        batch.commit()
    assert len(batch) == 0
    assert count(archive.db_path, "SELECT count(*) FROM reports") == 0
    monkeypatch.undo()
    batch.add(report_write(doc, parsed))  # space again: the same write goes through
    assert batch.commit()[0].status == "new"


def test_a_parse_failure_and_a_report_share_a_batch(archive):
    doc, parsed = synthetic("某镇人民政府", 2023, 5)
    bad = IncomingDocument(
        b"\x00\x01 not a report", url="https://gov.example/bad.bin", agency="某镇人民政府", year=2022
    )
    batch = archive.batch()
    batch.add(report_write(doc, parsed))
    batch.add(report_write(bad, None, error=ParseError("unsupported_format", "not a report")))
    new, failed = batch.commit()
    assert (new.parse_status, failed.parse_status, failed.parse_reason) == ("ok", "failed", "unsupported_format")
    assert problems(archive.db_path) == []


# --- the crawl's writer: acknowledged once committed --------------------------------------------------------------


def test_the_crawl_writer_acknowledges_writes_after_their_commit(tmp_path):
    db = tmp_path / "xxgk.db"
    Archive(db).close()
    seed = seed_paths()[0]
    writer = ArchiveWriter(db, workers=1, batch_documents=50, batch_seconds=30)

    async def crawl():
        docs = [IncomingDocument(seed.read_bytes(), url=f"https://gov.example/{i}.txt") for i in range(3)]
        reports = await asyncio.gather(*(writer.run(ingest_report, d, key="one") for d in docs))
        # Every result came back committed: another connection sees what each said.
        assert count(db, "SELECT count(*) FROM document_urls") == 3
        page = IncomingDocument(b"<html>a page</html>", url="https://gov.example/page.html", http=HttpMeta(status=200))
        await asyncio.gather(writer.run(store_document, page, key="one"), writer.run(store_document, page, key="one"))
        await writer.run(mark_seen, page.url, key="one")
        return reports

    try:
        reports = asyncio.run(crawl())
    finally:
        writer.close()
    assert [r["status"] for r in reports].count("new") == 1  # the same bytes from three URLs: one report
    assert count(db, "SELECT count(*) FROM reports") == 1
    assert count(db, "SELECT count(*) FROM document_urls") == 4
    assert problems(db) == []


def test_what_a_stopped_crawl_left_staged_is_committed_when_the_writer_closes(tmp_path):
    db = tmp_path / "xxgk.db"
    Archive(db).close()
    writer = ArchiveWriter(db, workers=1)
    seed = seed_paths()[1]

    async def stopped():
        await writer.run(mark_seen, "https://gov.example/warm-up", key="one")  # the worker is up
        with pytest.raises(TimeoutError):  # stopped while the report is parsed: never acknowledged
            await asyncio.wait_for(
                writer.run(
                    ingest_report, IncomingDocument(seed.read_bytes(), url="https://gov.example/r.txt"), key="one"
                ),
                0.01,
            )

    asyncio.run(stopped())
    time.sleep(3)  # the parse finishes in the worker and the write is staged there
    writer.close()
    assert count(db, "SELECT count(*) FROM reports") == 1


# --- kill -9 in the middle of the batches -------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [sys.argv[4], sys.argv[5]]
    from test_group_commit import synthetic
    from crawler.ingest import report_write
    from storage import Archive

    db, reports, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with Archive(db) as archive:
        batch = archive.batch()
        urls = []
        for i in range(reports):
            doc, parsed = synthetic(f"某省第{i % 97}厅", 2019 + i // 97, i)
            batch.add(report_write(doc, parsed))
            urls.append(doc.url)
            if len(batch) == size or i == reports - 1:
                print("COMMIT", flush=True)
                batch.commit()
                print("ACK", " ".join(urls), flush=True)  # acknowledged: committed
                urls = []
    print("DONE", flush=True)
    """
)


def _child(db: Path, reports: int, size: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(reports), str(size), str(HERE), str(HERE.parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )


def archived_urls(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT source_url FROM reports")]
    except sqlite3.OperationalError:  # killed before the schema was created
        return []
    finally:
        conn.close()


def test_kill_9_mid_batch_keeps_every_acknowledged_write_and_nothing_half_written(tmp_path):
    db, reports, size = tmp_path / "xxgk.db", 600, 40
    rng = random.Random(13)
    acknowledged: set[str] = set()
    killed_in_commit = 0
    for _ in range(6):
        child = _child(db, reports, size)
        commits_to_pass = rng.randint(0, 4)
        for line in child.stdout:
            if line.startswith("ACK"):
                acknowledged |= set(line.split()[1:])
            elif line.startswith("COMMIT"):
                if commits_to_pass == 0:
                    time.sleep(rng.uniform(0, 0.05))  # somewhere in storing the originals or the transaction
                    killed_in_commit += child.poll() is None
                    break
                commits_to_pass -= 1
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
        child.stderr.close()
        assert problems(db) == []
        now = archived_urls(db)
        assert len(now) == len(set(now))
        assert acknowledged <= set(now), f"acknowledged and lost: {sorted(acknowledged - set(now))[:5]}"
    assert killed_in_commit >= 4

    child = _child(db, reports, size)  # the next run writes everything again: nothing is duplicated
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0 and out.rstrip().endswith("DONE"), err[-2000:]
    assert problems(db) == []
    assert len(archived_urls(db)) == reports == count(db, "SELECT count(*) FROM report_versions")
