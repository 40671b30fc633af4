"""The LibreOffice pool (crawler/parsing/office_pool.py) with real LibreOffice: the same cells as a cold
`soffice --convert-to`, a killed LibreOffice replaced, a hanging conversion stopped at its timeout, a parse
killed by its sandbox taking its conversion along, two clients at once, nothing left after the pool ends.

Where a test must show that the pool did the work, the cold path is replaced by a failure before the parse:
the parse sandbox forks, so its child inherits the replacement, and a fallback to a cold run would fail."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
from support.renditions import report_from, to_docx
from support.shared import expected_for, seed_paths

from crawler.ingest import examine
from crawler.model import ParseError
from crawler.parsing import office_pool
from crawler.parsing.readers import office

pytestmark = pytest.mark.slow


def _rtf(rows: int) -> bytes:
    """An RTF table of `rows` rows: 1,000 keep LibreOffice busy about a second, 100,000 for minutes."""
    body = "".join(rf"\trowd\cellx2000\cellx4000 {i}\cell {i}\cell\row" for i in range(rows))
    return (r"{\rtf1\ansi 2023\'c4\'ea " + body + "}").encode()


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> dict[str, tuple[bytes, dict]]:
    """The seeds as Word-97 .doc files (renditions: DOCX by python-docx, then one cold LibreOffice run)."""
    tmp = tmp_path_factory.mktemp("docs")
    expected = {p.stem: expected_for(p) for p in seed_paths()}
    sources = [to_docx(report_from(e), tmp / f"{name}.docx") for name, e in expected.items()]
    office.convert(sources, "doc", tmp, timeout=180)
    return {name: ((tmp / f"{name}.doc").read_bytes(), e) for name, e in expected.items()}


@pytest.fixture()
def no_cold_path(monkeypatch):
    def cold(data: bytes, fmt: str, timeout: float) -> bytes:
        raise AssertionError("converted cold: the pool did not take the document")

    monkeypatch.setattr(office, "_cold_convert", cold)


@pytest.fixture()
def pool():
    """A warm pool of two LibreOffice processes, its address in XXGK_OFFICE_POOL for the test."""
    started = office_pool.start(size=2, warm=True)
    assert started is not None, "the pool did not start (is python3-uno installed?)"
    yield started
    started.stop()


@pytest.fixture()
def single():
    started = office_pool.start(size=1, warm=True)
    assert started is not None
    yield started
    started.stop()


def _session(pool: office_pool.Pool) -> list[psutil.Process]:
    """Every live process of the pool: the broker runs in a session of its own, and all it starts stays there."""
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getsid(proc.pid) == pool.process.pid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def _soffice(pool: office_pool.Pool) -> list[psutil.Process]:
    return [p for p in _session(pool) if _name(p) == "soffice.bin"]


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return ""


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


# ---- the same cells --------------------------------------------------------------------------------------------
def test_pool_reads_the_seed_docs_as_the_cold_path_does(docs, pool, monkeypatch):
    """Each seed .doc through the sandboxed parse, pool and cold: the same cells, and the labelled ones."""
    warm = {}
    with monkeypatch.context() as m:
        m.setattr(office, "_cold_convert", lambda *a: pytest.fail("converted cold"))
        for name, (data, _) in docs.items():
            warm[name] = examine(data)
    monkeypatch.delenv(office.POOL_ENV)
    for name, (data, expected) in docs.items():
        cold = examine(data)
        assert warm[name].format == cold.format == "doc"
        assert warm[name].values() == cold.values() == expected["cells"], name
        assert (warm[name].agency, warm[name].year) == (cold.agency, cold.year) == (expected["agency"], expected["year"])


def test_without_a_pool_or_with_a_dead_one_the_document_converts_cold(docs, monkeypatch, tmp_path):
    data, expected = next(iter(docs.values()))
    monkeypatch.delenv(office.POOL_ENV, raising=False)
    assert examine(data).values() == expected["cells"]
    monkeypatch.setenv(office.POOL_ENV, str(tmp_path / "gone.sock"))  # a pool that ended without its cleanup
    assert examine(data).values() == expected["cells"]


def test_what_libreoffice_cannot_load_is_unreadable_through_the_pool(docs, pool, no_cold_path, tmp_path):
    """A sound compound file whose WordDocument stream is wiped: only LibreOffice can tell, and the pool's
    LibreOffice, still healthy, converts the next document."""
    import olefile

    data, expected = next(iter(docs.values()))
    path = tmp_path / "wiped.doc"
    path.write_bytes(data)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        ole.write_stream("WordDocument", b"\0" * len(ole.openstream("WordDocument").read()))
    before = {p.pid for p in _soffice(pool)}
    with pytest.raises(ParseError) as e:
        examine(path.read_bytes())
    assert e.value.reason == "unreadable" and "LibreOffice could not read the DOC file" in str(e.value)
    assert examine(data).values() == expected["cells"]
    assert {p.pid for p in _soffice(pool)} == before  # a load failure costs no restart


def test_without_uno_the_pool_does_not_start_and_documents_convert_cold(docs, monkeypatch, caplog):
    """A Python without LibreOffice's UNO bindings (the venv's own) for the bridge: a warm pool refuses to
    start, in one logged line; a lazy one gives up after a few tries and every document converts cold."""
    import sys

    monkeypatch.setenv(office.UNO_PYTHON_ENV, sys.executable)
    assert office_pool.start(size=1, warm=True) is None
    assert "LibreOffice pool not started" in caplog.text and "UNO bridge did not start" in caplog.text
    assert office.POOL_ENV not in os.environ
    data, expected = next(iter(docs.values()))
    with office_pool.running(size=1) as lazy:
        assert lazy is not None
        for _ in range(2):
            assert examine(data).values() == expected["cells"]
        assert _soffice(lazy) == []


def test_each_libreoffice_is_held_to_the_parse_memory_allowance(single):
    """RLIMIT_AS: what the process held when it was ready plus XXGK_PARSE_MEMORY_MB (1536), as a parse."""
    [proc] = _soffice(single)
    soft, hard = proc.rlimit(psutil.RLIMIT_AS)
    assert soft == hard != psutil.RLIM_INFINITY
    assert 1536 << 20 < soft < proc.memory_info().vms + (1536 << 20) + (256 << 20)


# ---- deaths and hangs ------------------------------------------------------------------------------------------
def test_a_killed_libreoffice_is_replaced_and_the_next_document_converts(docs, single, no_cold_path):
    data, expected = next(iter(docs.values()))
    [before] = _soffice(single)
    before.send_signal(signal.SIGKILL)
    assert examine(data).values() == expected["cells"]  # at once: the pool notices, or retries on a fresh one
    assert _wait_for(lambda: [p.pid for p in _soffice(single)] not in ([], [before.pid]))
    assert not before.is_running() or before.status() == psutil.STATUS_ZOMBIE
    assert examine(data).values() == expected["cells"]


def test_a_document_that_kills_libreoffice_twice_is_a_parser_error_and_the_pool_goes_on(docs, single, no_cold_path):
    """A LibreOffice killed while it converts (as a document that crashes it would): the document is tried once
    more on a fresh one; killed again, it is the document's `parser_error`, and the next document converts."""
    data, expected = next(iter(docs.values()))
    killed: list[int] = []
    done = threading.Event()

    def crash_whatever_converts() -> None:  # a conversion in progress: its input sits in that LibreOffice's dir
        while not done.is_set():
            for src in single.root.glob("lo-*/report.rtf"):
                for proc in _soffice(single):
                    if proc.pid not in killed and str(src.parent) in " ".join(proc.cmdline()):
                        proc.send_signal(signal.SIGKILL)
                        killed.append(proc.pid)
            time.sleep(0.05)

    killer = threading.Thread(target=crash_whatever_converts)
    killer.start()
    try:
        with pytest.raises(ParseError) as e:
            examine(_rtf(100_000))
    finally:
        done.set()
        killer.join()
    assert e.value.reason == "parser_error" and "LibreOffice died" in str(e.value)
    assert len(killed) == 2
    assert examine(data).values() == expected["cells"]


def test_a_hanging_conversion_times_out_and_the_pool_recovers(docs, single, no_cold_path, monkeypatch):
    data, expected = next(iter(docs.values()))
    [before] = _soffice(single)
    monkeypatch.setenv("XXGK_SOFFICE_TIMEOUT", "1")
    start = time.monotonic()
    with pytest.raises(ParseError) as e:
        examine(_rtf(100_000))
    assert e.value.reason == "timeout" and "within 1 s" in str(e.value)
    assert time.monotonic() - start < 10
    assert _wait_for(lambda: not before.is_running() or before.status() == psutil.STATUS_ZOMBIE, 5)
    monkeypatch.delenv("XXGK_SOFFICE_TIMEOUT")
    assert examine(data).values() == expected["cells"]
    assert len(_soffice(single)) == 1


def test_a_parse_killed_by_its_sandbox_ends_its_conversion(docs, single, no_cold_path, monkeypatch):
    """The parse limit (2 s) before LibreOffice's own (60 s): the broker sees its client go and ends that
    LibreOffice rather than letting the document hold it for a minute."""
    data, expected = next(iter(docs.values()))
    [before] = _soffice(single)
    monkeypatch.setenv("XXGK_PARSE_TIMEOUT", "2")
    monkeypatch.setenv("XXGK_SOFFICE_TIMEOUT", "60")
    with pytest.raises(ParseError) as e:
        examine(_rtf(100_000))
    assert e.value.reason == "timeout" and "XXGK_PARSE_TIMEOUT" in str(e.value)
    assert _wait_for(lambda: not before.is_running() or before.status() == psutil.STATUS_ZOMBIE, 5)
    monkeypatch.delenv("XXGK_PARSE_TIMEOUT")
    assert examine(data).values() == expected["cells"]


# ---- two clients -----------------------------------------------------------------------------------------------
def test_two_clients_convert_at_once_on_two_libreoffice_processes(docs, pool, no_cold_path):
    """Two threads, each with a conversion of about a second, started together: both LibreOffice processes
    work (their CPU time grows), and each client gets its own document back."""
    processes = _soffice(pool)
    assert len(processes) == 2
    cpu = {p.pid: sum(p.cpu_times()[:2]) for p in processes}
    results: dict[int, object] = {}
    barrier = threading.Barrier(2)

    def client(rows: int) -> None:
        barrier.wait()
        try:
            results[rows] = office.read_office(_rtf(rows), "rtf")
        except Exception as e:  # re-raised below, in the test's thread
            results[rows] = e

    threads = [threading.Thread(target=client, args=(rows,)) for rows in (1000, 1001)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for rows in (1000, 1001):
        doc = results[rows]
        assert not isinstance(doc, Exception), doc
        table = doc.blocks[-1].rows
        assert len(table) == rows and table[-1] == [str(rows - 1)] * 2  # its own document, whole
    grown = {p.pid: sum(p.cpu_times()[:2]) - cpu[p.pid] for p in processes}
    assert all(seconds > 0.2 for seconds in grown.values()), grown

    def parse_all(out: list) -> None:
        out.extend((name, examine(data).values() == expected["cells"]) for name, (data, expected) in docs.items())

    first, second = [], []
    workers = [threading.Thread(target=parse_all, args=(out,)) for out in (first, second)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(300)
    assert first == second == [(name, True) for name in docs]


# ---- the end of a pool -----------------------------------------------------------------------------------------
def test_stop_ends_every_process_and_removes_profiles_and_pipes(docs, no_cold_path):
    pool = office_pool.start(size=1)  # not warm: LibreOffice starts with the first document
    assert pool is not None and _soffice(pool) == []
    data, expected = next(iter(docs.values()))
    assert examine(data).values() == expected["cells"]
    pipes = [Path(p) for f in pool.root.glob("*/pipes") for p in f.read_text().split()]
    assert pipes and all(p.exists() for p in pipes)
    processes = _session(pool)
    assert len(processes) >= 3  # the broker, LibreOffice, its bridge
    pool.stop()
    assert office.POOL_ENV not in os.environ
    assert _wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes), 5)
    assert not pool.root.exists() and not any(p.exists() for p in pipes)


def test_an_unused_libreoffice_ends_and_the_next_document_starts_one(docs, no_cold_path, monkeypatch):
    monkeypatch.setenv(office_pool.IDLE_ENV, "1")  # the broker reads it when it starts
    data, expected = next(iter(docs.values()))
    with office_pool.running(size=1) as pool:
        assert examine(data).values() == expected["cells"]
        [first] = _soffice(pool)
        assert _wait_for(lambda: _soffice(pool) == [], 10)
        assert examine(data).values() == expected["cells"]
        assert [p.pid for p in _soffice(pool)] not in ([], [first.pid])


def test_a_killed_pool_leaves_no_process_and_its_directory_goes_with_the_next_pool(docs, no_cold_path):
    first = office_pool.start(size=1, warm=True)
    assert first is not None
    processes = _session(first)
    pipes = [Path(p) for f in first.root.glob("*/pipes") for p in f.read_text().split()]
    first.process.send_signal(signal.SIGKILL)  # the broker killed, as with a SIGKILLed crawl
    first.process.wait()
    assert _wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes), 5)
    assert first.root.exists()  # nobody was left to clean up
    second = office_pool.start(size=1)
    try:
        assert second is not None
        assert not first.root.exists() and not any(p.exists() for p in pipes)
        data, expected = next(iter(docs.values()))
        assert examine(data).values() == expected["cells"]
    finally:
        if second is not None:
            second.stop()
        first.stop()
