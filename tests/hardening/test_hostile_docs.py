"""Hostile documents: each gives a clear recorded reason, with no crash, no hang, and bounded time and memory.

Every parse runs in a child interpreter (tests/hostile.py: parse_isolated) under an address-space limit and a
wall-clock limit, so a reader that hangs or balloons fails its test instead of taking the suite down with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import hostile
from support.shared import expected_for, seed_paths

from crawler.ingest import ingest
from crawler.model import IncomingDocument, ParseError
from crawler.parsing import parse_bytes

TIME_LIMIT = 10.0  # seconds any single hostile input may take (the bound for fuzzed inputs too)
MEMORY_LIMIT = 1 << 30  # address space of the child: a reader that inflates a bomb dies here
RSS_LIMIT_MB = 600


@dataclass
class Case:
    name: str
    make: Callable[[], bytes]
    reasons: set[str]  # the ParseError reasons that are a correct, clear answer
    options: dict = field(default_factory=dict)  # parse options (a scan is no_text only with OCR off)


def _seed(i: int = 0) -> Path:
    return seed_paths()[i]


CASES = [
    Case("pdf_truncated_10pct", lambda: hostile.truncated(hostile.real_pdf_bytes(), 0.1), {"unreadable"}),
    Case("pdf_truncated_60pct", lambda: hostile.truncated(hostile.real_pdf_bytes(), 0.6), {"unreadable"}),
    Case("pdf_truncated_99pct", lambda: hostile.truncated(hostile.real_pdf_bytes(), 0.99), {"unreadable"}),
    Case("pdf_header_only", lambda: b"%PDF-1.7\n", {"unreadable"}),
    Case("pdf_encrypted", hostile.encrypted_pdf, {"encrypted"}),
    Case(
        "pdf_scanned_ocr_off",
        lambda: hostile.image_only_pdf(["某市人民政府", "2023年政府信息公开工作年度报告"]),
        {"no_text"},
        {"ocr": False},
    ),
    Case("docx_entity_bomb", hostile.docx_entity_bomb, {"unreadable"}),
    Case("docx_external_entity", hostile.docx_external_entity, {"unreadable"}),
    Case("xlsx_entity_bomb", hostile.xlsx_entity_bomb, {"unreadable"}),
    Case("docx_zip_bomb", hostile.docx_zip_bomb, {"too_large"}),
    Case("zip_bomb", hostile.zip_bomb, {"unsupported"}),
    Case("html_nested_100k_deep", hostile.deep_html, {"no_text", "not_a_report"}),
    Case("text_dense_nul_bytes", lambda: hostile.with_nul_bytes(_seed().read_bytes(), 2), {"unsupported"}),
    Case("text_mojibake", lambda: hostile.mojibake(_seed().read_text()), {"not_a_report"}),
    Case("text_utf16_no_bom", lambda: hostile.utf16_without_bom(_seed().read_text()), {"unsupported"}),
    Case("empty_file", lambda: b"", {"unreadable"}),
    Case("whitespace_only", lambda: b" \r\n\t " * 1000, {"unreadable"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_document_gives_a_clear_reason(case: Case):
    result = hostile.parse_isolated(case.make(), timeout=60, memory_limit=MEMORY_LIMIT, **case.options)
    assert result["outcome"] == "parse_error", result
    assert result["reason"] in case.reasons, result
    message = result["message"]
    assert message and "\n" not in message and len(message) < 300, message  # one clear line for the log
    assert result["seconds"] < TIME_LIMIT, result
    assert result["maxrss_mb"] < RSS_LIMIT_MB, result


def test_external_entity_never_reaches_the_text():
    """XXE: whatever the DOCX reader decides, /etc/passwd must not come out as report text."""
    result = hostile.parse_isolated(hostile.docx_external_entity("file:///etc/passwd"), memory_limit=MEMORY_LIMIT)
    assert result["outcome"] in ("parse_error", "report"), result
    assert "root:" not in result.get("text", "")


def test_pdf_title_with_a_lone_surrogate_is_read_not_raised():
    """Found by bench/fuzz.py: pypdfium2's metadata helper raised UnicodeDecodeError on such a title."""
    result = hostile.parse_isolated(hostile.pdf_with_broken_title(), memory_limit=MEMORY_LIMIT)
    assert result["outcome"] in ("report", "parse_error"), result
    if result["outcome"] == "parse_error":
        assert result["reason"] == "not_a_report", result


def test_huge_table_is_parsed_in_bounded_time_and_memory():
    """50,000 table rows under a report title: no cells to find, but an answer within the time bound."""
    result = hostile.parse_isolated(hostile.huge_html_table(50_000), timeout=120, memory_limit=MEMORY_LIMIT)
    assert result["outcome"] in ("report", "parse_error"), result
    if result["outcome"] == "parse_error":
        assert result["reason"] in ("too_large", "not_a_report"), result
    else:
        assert result["cells"] == {}  # nothing in it is a template cell: none may be invented
    assert result["seconds"] < TIME_LIMIT, f"50k-row table took {result['seconds']:.1f} s"
    assert result["maxrss_mb"] < RSS_LIMIT_MB, result


@pytest.mark.parametrize("every", [50, 500])
@pytest.mark.parametrize("seed", seed_paths(), ids=lambda p: p.stem)
def test_stray_nul_bytes_do_not_move_numbers(seed: Path, every: int):
    """NULs between characters (as left by broken converters) must not shift a value into another cell."""
    text = seed.read_text()
    dirty = "".join(text[i : i + every] + "\x00" for i in range(0, len(text), every)).encode()
    clean = parse_bytes(seed.read_bytes()).values()
    try:
        got = parse_bytes(dirty).values()
    except ParseError as e:  # refusing the file is acceptable; reading wrong numbers is not
        assert e.reason in ("unsupported", "not_a_report"), e
        return
    moved = {k: (got[k], clean.get(k)) for k in got if got[k] is not None and got[k] != clean.get(k)}
    assert not moved, f"values read into the wrong cells: {moved}"


# --- LibreOffice: killed at its timeout, nothing left behind ----------------------------------------------------


@pytest.fixture(scope="module")
def real_doc() -> bytes:
    """A genuine Word-97 .doc of a seed, made by LibreOffice through the reader's own converter."""
    return hostile.office_doc(hostile.rendition(expected_for(_seed()), "docx"))


def _leftovers(tmp: Path) -> list[str]:
    """What a killed conversion left in its temporary directory. LibreOffice's own scratch directory (lu*.tmp)
    survives a SIGKILL empty; anything with content, or any profile or work directory of ours, counts."""
    return [str(p) for p in tmp.rglob("*") if p.is_file() or not p.name.startswith("lu")]


def _processes_marked(mark: str) -> list[int]:
    """PIDs whose environment carries `mark`: every process the child started, whatever it re-parented to."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_libreoffice_is_killed_at_the_timeout_and_leaves_no_process(real_doc: bytes, tmp_path):
    mark = f"XXGK_HARDENING_MARK={uuid.uuid4().hex}"
    key, value = mark.split("=")
    tmp = tmp_path / "tmp"  # the child's temporary directory: its LibreOffice profile must not outlive the kill
    tmp.mkdir()
    env = {"XXGK_SOFFICE_TIMEOUT": "0.3", key: value, "TMPDIR": str(tmp)}
    result = hostile.parse_isolated(real_doc, timeout=60, memory_limit=0, env=env)
    assert result["outcome"] == "parse_error" and result["reason"] == "timeout", result
    assert result["seconds"] < 10, result
    assert _processes_marked(mark) == [], "soffice left running after its timeout"
    assert _leftovers(tmp) == [], "profile or work directory left behind"


def test_stalling_rtf_is_killed_at_the_timeout(tmp_path):
    """An RTF of 100,000 table rows keeps LibreOffice busy far past a 3 s budget: killed, reason timeout."""
    rows = "".join(rf"\trowd\cellx2000\cellx4000 {i}\cell {i}\cell\row" for i in range(100_000))
    data = (r"{\rtf1\ansi 2023\'c4\'ea " + rows + "}").encode()
    mark = f"XXGK_HARDENING_MARK={uuid.uuid4().hex}"
    key, value = mark.split("=")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"XXGK_SOFFICE_TIMEOUT": "3", key: value, "TMPDIR": str(tmp)}
    result = hostile.parse_isolated(data, timeout=60, memory_limit=0, env=env)
    assert result["outcome"] == "parse_error", result
    assert result["reason"] in ("timeout", "not_a_report"), result
    assert result["seconds"] < 10, result
    assert _processes_marked(mark) == []
    assert _leftovers(tmp) == []


def test_real_doc_converts_within_a_normal_timeout(real_doc: bytes):
    """The control: the same .doc with the default timeout is read exactly (the timeout case is not a fluke)."""
    report = parse_bytes(real_doc)
    assert report.values() == expected_for(_seed())["cells"]


# --- OCR ------------------------------------------------------------------------------------------------------


def test_scanned_pdf_is_read_by_ocr_when_enabled():
    pytest.importorskip("crawler.parsing.ocr", reason="the OCR module (crawler/parsing/ocr.py) is not in the tree yet")
    data = hostile.image_only_pdf(["淄博市人民防空办公室", "2020年政府信息公开工作年度报告"], dpi=200)
    result = hostile.parse_isolated(data, timeout=120, memory_limit=0, ocr=True)
    # OCR either finds the title (a report) or says clearly that the page had nothing readable.
    assert result["outcome"] in ("report", "parse_error"), result
    if result["outcome"] == "report":
        assert result["year"] == 2020 and "政府信息公开" in (result["title"] or "")
    else:
        assert result["reason"] in ("not_a_report", "no_text"), result


# --- through the archive: the document is kept, the reason stored ----------------------------------------------


ARCHIVE_CASES = [c for c in CASES if c.name not in ("docx_zip_bomb", "zip_bomb")]


def test_hostile_documents_are_kept_with_their_reason_in_the_archive(tmp_path, monkeypatch):
    from storage import Archive
    from storage.store import sha256_of

    monkeypatch.setenv("XXGK_OCR", "0")  # as a crawl with OCR off: the scan is kept as no_text

    db = tmp_path / "xxgk.db"
    good = _seed().read_bytes()
    with Archive(db) as archive:
        ok = ingest(archive, IncomingDocument(good, url="http://www.example.gov.cn/good.txt"))
        assert ok.parse_status == "ok"
        for case in ARCHIVE_CASES:
            data = case.make()
            url = f"http://www.example.gov.cn/hostile/{case.name}"
            result = ingest(archive, IncomingDocument(data, url=url))
            assert result.parse_status == "failed", case.name
            assert result.parse_reason in case.reasons, (case.name, result.parse_reason, result.parse_message)
            stored = Path(result.document.path)
            assert stored.read_bytes() == data and result.document.sha256 == sha256_of(data)
            row = archive.conn.execute(
                "SELECT parse_status, parse_reason, parse_message FROM reports WHERE source_url = ?", (url,)
            ).fetchone()
            assert row is not None and row["parse_reason"] == result.parse_reason and row["parse_message"], case.name
        assert archive.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reports = archive.conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        assert reports == 1 + len(ARCHIVE_CASES)
        kept = archive.conn.execute("SELECT cells_count FROM reports WHERE source_url LIKE '%good.txt'").fetchone()[0]
        assert kept == len(expected_for(_seed())["cells"])
