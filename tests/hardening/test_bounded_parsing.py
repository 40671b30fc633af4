"""Memory bombs in tiny files are refused by the readers themselves: `too_large`, in under 2 s, in little memory.

Each bomb is rebuilt here from its description (tests/support/hostile.py) and parsed by parse_bytes in a child
interpreter under a 1 GB address-space limit (the bound bench/fuzz.py runs every reader under), without the parse
sandbox: the limits in crawler/parsing/limits.py must stop them before any library expands them. Without those
limits the HTML and DOCX grids grew to 3-8 GB and pdfium aborted the process (rc 134).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from support import hostile

from crawler.model import ParseError
from crawler.parsing import limits, parse_bytes
from crawler.parsing.readers.pdf_streams import check_streams

MEMORY_LIMIT = 1 << 30
SECONDS = 2.0
RSS_MB = 300


@pytest.mark.parametrize("bomb", hostile.MEMORY_BOMBS, ids=lambda b: b.name)
def test_bomb_is_refused_quickly_in_little_memory(bomb: hostile.Bomb):
    result = hostile.parse_isolated(bomb.make(), timeout=60, memory_limit=MEMORY_LIMIT)
    assert result["outcome"] == "parse_error", result
    assert result["reason"] == "too_large", result
    assert bomb.says in result["message"] and "\n" not in result["message"], result
    assert result["seconds"] < SECONDS, result
    assert result["maxrss_mb"] < RSS_MB, result


def test_the_named_bombs_are_as_small_as_described():
    """The three bombs of the issue, at the sizes it gives (so the test is the attack, not a kinder one)."""
    assert 50_000 < len(hostile.html_span_bomb()) < 60_000
    assert len(hostile.docx_span_bomb()) < 200_000
    assert 1_500_000 < len(hostile.pdf_flate_bomb()) < 2_500_000


def test_pdf_streams_of_real_reports_pass_the_check():
    """The control: a real report and its page content stay far below every PDF limit."""
    check_streams(hostile.real_pdf_bytes())


def test_packed_page_is_really_read_by_pdfium():
    """The object-stream bomb is a valid PDF 1.5 file: pdfium finds its page (through the xref stream) and
    concatenates its content, so refusing it is the scan's doing, not a broken file's."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(hostile.pdf_packed_page_bomb(size=1 << 20, uses=2))
    assert len(pdf) == 1
    pdf.close()


def test_a_budget_refuses_past_its_limit_only():
    budget = limits.Budget("HTML", limit=10)
    budget.take(10)
    with pytest.raises(ParseError) as e:
        budget.take(1)
    assert e.value.reason == "too_large" and "10 cells" in str(e.value)


def test_an_html_chunk_in_a_docx_shares_the_docx_budget(monkeypatch):
    """A DOCX cannot get around the grid limit by packing its tables into altChunks (each its own reader)."""
    monkeypatch.setattr(limits, "GRID_CELLS", 50)
    rows = "".join("<tr><td>1</td><td>2</td></tr>" for _ in range(20))  # 40 positions a chunk
    page = f"<html><body><table>{rows}</table></body></html>".encode()
    data = _docx_with_html_chunks(page, 2)
    with pytest.raises(ParseError) as e:
        parse_bytes(data)
    assert e.value.reason == "too_large"


def _docx_with_html_chunks(page: bytes, count: int) -> bytes:
    base = hostile.minimal_docx()
    src = zipfile.ZipFile(io.BytesIO(base))
    rels = src.read("word/_rels/document.xml.rels")
    types = src.read("[Content_Types].xml")
    chunk_rels = "".join(
        f'<Relationship Id="rIdC{i}" Target="chunk{i}.htm" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"/>'
        for i in range(count)
    )
    rels = rels.replace(b"</Relationships>", chunk_rels.encode() + b"</Relationships>")
    types = types.replace(b"</Types>", b'<Default Extension="htm" ContentType="text/html"/></Types>')
    body = "".join(f'<w:altChunk r:id="rIdC{i}"/>' for i in range(count))
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<w:body><w:p><w:r><w:t>2023年度政府信息公开工作年度报告</w:t></w:r></w:p>{body}</w:body></w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = {"word/_rels/document.xml.rels": rels, "[Content_Types].xml": types}.get(info.filename)
            if info.filename == "word/document.xml":
                data = xml.encode()
            dst.writestr(info.filename, data if data is not None else src.read(info.filename))
        for i in range(count):
            dst.writestr(f"word/chunk{i}.htm", page)
    return buf.getvalue()


def test_external_altchunk_is_never_fetched_and_never_a_traceback():
    """An altChunk whose target is a URL adds nothing: a file holding only that has no text; with a title
    beside it, the title is read as usual."""
    with pytest.raises(ParseError) as e:
        parse_bytes(hostile.docx_external_altchunk())
    assert e.value.reason == "no_text"
    report = parse_bytes(hostile.docx_external_altchunk("某市人民政府2023年政府信息公开工作年度报告"))
    assert report.year == 2023 and not report.cells
