"""Every parse runs in a bounded child (crawler/parsing/sandbox.py): however it ends, it ends as the document's
answer, the process that asked survives, and nothing the child started or wrote outlives it.

The child is forked, so a function defined here runs in it as it is: the tests make parses that exhaust memory,
abort like pdfium, crash, hang, start LibreOffice and litter the temporary directory. Then the same deaths
through `ingest()` (the document is archived once with its reason, and its URL is known to the crawler) and
through the crawl's archive worker processes (they survive).
"""

from __future__ import annotations

import asyncio
import ctypes
import faulthandler
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from support import hostile
from support.shared import expected_for, seed_paths

from crawler.ingest import examine, examine_file, ingest
from crawler.model import IncomingDocument, ParseError
from crawler.parsing import sandbox

TEXT = "某市人民政府2023年政府信息公开工作年度报告".encode()


def _long_report(lines: int = 20_000) -> bytes:
    """A seed with 7 MB of notes after it (by default): a fresh worker cannot parse it in a megabyte more."""
    return seed_paths()[0].read_bytes() + ("\n" + "附注" * 60).encode() * lines


@pytest.fixture(autouse=True)
def own_tmp(tmp_path, monkeypatch):
    """Each test its own temporary directory, so that what a child leaves there is seen."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _reason(fn, data: bytes = TEXT) -> ParseError:
    with pytest.raises(ParseError) as e:
        sandbox.run(fn, data)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300, str(e.value)
    return e.value


def test_a_parse_that_exhausts_memory_is_too_large(monkeypatch):
    monkeypatch.setenv("XXGK_PARSE_MEMORY_MB", "256")
    e = _reason(lambda data: bytearray(1 << 30))
    assert e.reason == "too_large" and "256 MB" in str(e)


def test_a_parse_that_aborts_is_too_large():
    """pdfium (and C++'s bad_alloc) abort the process when an allocation is refused."""
    e = _reason(lambda data: (faulthandler.disable(), os.abort()))  # (pytest's dump would only be noise)
    assert e.reason == "too_large" and "SIGABRT" in str(e)


def test_a_parse_that_crashes_is_a_parser_error():
    e = _reason(lambda data: (faulthandler.disable(), ctypes.string_at(0)))
    assert e.reason == "parser_error" and "SIGSEGV" in str(e)


def test_a_reader_bug_is_a_parser_error():
    def buggy(data: bytes):
        raise KeyError("w:tbl")

    e = _reason(buggy)
    assert e.reason == "parser_error" and "KeyError" in str(e)


def test_a_parse_that_hangs_is_stopped_at_the_time_limit(monkeypatch):
    monkeypatch.setenv("XXGK_PARSE_TIMEOUT", "1")
    start = time.monotonic()
    e = _reason(lambda data: time.sleep(60))
    assert e.reason == "timeout" and time.monotonic() - start < 5


def test_the_result_and_parse_errors_come_back_as_they_were():
    assert sandbox.run(lambda data, factor=1: len(data) * factor, TEXT, factor=3) == 3 * len(TEXT)

    def refuse(data: bytes):
        raise ParseError("encrypted", "the PDF is encrypted (password required)")

    e = _reason(refuse)
    assert (e.reason, str(e)) == ("encrypted", "the PDF is encrypted (password required)")


def test_the_seeds_read_the_same_in_the_sandbox():
    """The control: what comes back through the pipe is the report, exactly."""
    for path in seed_paths():
        assert examine(path.read_bytes()).values() == expected_for(path)["cells"]


def test_unsupported_formats_are_refused_without_a_child():
    with pytest.raises(ParseError) as e:
        sandbox.run(lambda data: pytest.fail("no child for a zip"), hostile.zip_bomb(1 << 20))
    assert e.value.reason == "unsupported"


def test_what_the_child_started_and_wrote_dies_and_goes_with_it(monkeypatch, own_tmp):
    """A killed child takes its processes (in groups of their own, as LibreOffice is) and its files along."""
    monkeypatch.setenv("XXGK_PARSE_TIMEOUT", "1")
    mark = uuid.uuid4().hex

    def litter(data: bytes):
        Path(tempfile.mkdtemp(prefix="xxgk-lo-profile-"), "user").mkdir()
        subprocess.Popen(["sleep", "60"], process_group=0, env={**os.environ, "XXGK_MARK": mark})
        time.sleep(60)

    assert _reason(litter).reason == "timeout"
    time.sleep(0.2)
    assert _processes_marked(mark) == []
    assert list(own_tmp.iterdir()) == []


def test_libreoffice_killed_with_its_parse_leaves_no_process_and_no_profile(monkeypatch, own_tmp):
    """The parse limit (2 s) before LibreOffice's own (60 s): the sandbox ends soffice.bin too."""
    monkeypatch.setenv("XXGK_PARSE_TIMEOUT", "2")
    monkeypatch.setenv("XXGK_SOFFICE_TIMEOUT", "60")
    mark = uuid.uuid4().hex
    monkeypatch.setenv("XXGK_MARK", mark)
    rows = "".join(rf"\trowd\cellx2000\cellx4000 {i}\cell {i}\cell\row" for i in range(100_000))
    with pytest.raises(ParseError) as e:
        examine((r"{\rtf1\ansi 2023\'c4\'ea " + rows + "}").encode())
    assert e.value.reason == "timeout"
    time.sleep(0.5)
    assert _processes_marked(mark) == []
    assert list(own_tmp.iterdir()) == []


def test_directories_of_killed_parses_are_removed_after_a_day(own_tmp):
    old, recent = own_tmp / "xxgk-parse-old", own_tmp / "xxgk-parse-recent"
    for d in (old, recent):
        (d / "xxgk-lo-profile-x" / "user").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    sandbox._remove_stale_dirs.cache_clear()
    assert sandbox.run(len, TEXT) == len(TEXT)
    assert not old.exists() and recent.exists()


def _processes_marked(mark: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# --- through ingest and the crawl's archive workers ---------------------------------------------------------


def test_a_parse_that_dies_is_archived_once_and_its_url_is_known(tmp_path, monkeypatch):
    """Stored with its reason, and not fetched again until the recheck is due or its URL changes."""
    from crawler.crawl.incremental import Freshness
    from crawler.parsing.readers import text
    from storage import Archive

    def greedy(data: bytes, fmt: str = "text"):
        return bytearray(1 << 30)  # a reader that would take a gigabyte (forked: the child reads with it)

    monkeypatch.setattr(text, "read_text", greedy)
    monkeypatch.setenv("XXGK_PARSE_MEMORY_MB", "256")
    data = seed_paths()[0].read_bytes()
    url = "http://www.example.gov.cn/2023nb.txt"
    with Archive(tmp_path / "xxgk.db") as archive:
        first = ingest(archive, IncomingDocument(data, url=url))
        assert (first.parse_status, first.parse_reason) == ("failed", "too_large"), first.parse_message
        again = ingest(archive, IncomingDocument(data, url=url))
        assert again.status == "unchanged" and again.report_id == first.report_id
        assert archive.conn.execute("SELECT count(*) FROM report_versions").fetchone()[0] == 1
        freshness = Freshness(archive.documents.known, archive.documents.is_report_source, recheck_days=30)
        assert freshness.decide(url).skip
        assert not freshness.decide(url.replace("2023nb", "2023nb-v2")).skip
        assert not Freshness(archive.documents.known, archive.documents.is_report_source, 0).decide(url).skip


def test_the_archive_worker_survives_a_parse_that_dies(tmp_path, monkeypatch):
    """The crawl's worker process (spawned, the limits from its environment) archives the reason and lives."""
    from crawler.crawl.writer import ArchiveWriter, ingest_report

    monkeypatch.setenv("XXGK_PARSE_MEMORY_MB", "1")
    writer = ArchiveWriter(tmp_path / "xxgk.db", workers=1)
    try:

        async def write(url: str, data: bytes) -> dict:
            return await writer.run(ingest_report, IncomingDocument(data, url=url), key="one")

        first = asyncio.run(write("http://www.example.gov.cn/a.txt", _long_report()))
        workers = set(writer.executors[0]._processes)
        # Three times as long: the heap the first one's bytes left free in the worker (malloc keeps it) is
        # the child's too, and may be enough for a document of the same size.
        second = asyncio.run(write("http://www.example.gov.cn/b.txt", _long_report(60_000)))
        assert first["parse_reason"] == second["parse_reason"] == "too_large"
        assert set(writer.executors[0]._processes) == workers  # the same worker, alive
    finally:
        writer.close()


# --- reading a path -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "directory", "named pipe"])
def test_parse_refuses_what_is_not_a_regular_file(tmp_path, kind):
    path = tmp_path / "report.pdf"
    if kind == "directory":
        path.mkdir()
    elif kind == "named pipe":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(ParseError) as e:
        examine_file(path)
    assert e.value.reason == "unreadable" and "not a regular file" in str(e.value)


def test_xxgk_parse_says_one_line_for_a_device_and_a_foreign_altchunk(tmp_path):
    zero = tmp_path / "zero.pdf"
    zero.symlink_to("/dev/zero")
    chunk = tmp_path / "chunk.docx"
    chunk.write_bytes(hostile.docx_external_altchunk())
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [str(root / ".venv" / "bin" / "xxgk"), "parse", str(zero), str(chunk)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 2 and "[unreadable]" in lines[0] and "[no_text]" in lines[1], done.stderr


def test_a_file_larger_than_the_input_limit_is_refused_unread(tmp_path, monkeypatch):
    from crawler.parsing import limits

    monkeypatch.setattr(limits, "INPUT_BYTES", 1000)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(ParseError) as e:
        examine_file(big)
    assert e.value.reason == "too_large"
