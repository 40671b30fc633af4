"""OFD (GB/T 33190): our own OFD renditions of every seed and of the real Huai'an report's labelled cells,
ruled and borderless, read back to exactly the hand-labelled cells; hostile packages refused in one line."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import zipfile

import pytest
from support.ofd import to_ofd
from support.renditions import report_from
from support.shared import SHARED, expected_for, seed_paths
from test_parse_real import assert_matches

from crawler.model import ParseError
from crawler.parsing import limits, parse_bytes, sniff
from crawler.parsing.document import Table
from crawler.parsing.readers.ofd import read_ofd

SOURCES = {p.stem: expected_for(p) for p in seed_paths()} | {
    "huaian-2024": json.loads((SHARED / "real" / "expected" / "huaian-city-gov-2024.json").read_text())
}


@pytest.fixture(scope="module")
def ofds() -> dict[tuple[str, bool], bytes]:
    return {(name, ruled): to_ofd(report_from(exp), ruled) for name, exp in SOURCES.items() for ruled in (True, False)}


@pytest.mark.parametrize(
    "ruled, writer",
    [(True, "lines"), (False, "lines"), (True, "per_char"), (False, "per_char")],
    ids=["ruled", "borderless", "per-char-ruled", "per-char-borderless"],
)
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_ofd_rendition_parses_back_exactly(ofds, name, ruled, writer):
    data = ofds[name, ruled] if writer == "lines" else to_ofd(report_from(SOURCES[name]), ruled, writer=writer)
    assert sniff(data) == "ofd"
    report = parse_bytes(data)
    expected = SOURCES[name]
    assert report.format == "ofd" and report.pages and report.pages > 1
    assert_matches(report.contract(), expected)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])


def _ruled_tables(data: bytes) -> list[Table]:
    """Tables whose grids came from ruling lines: they keep covered (merged) positions as None."""
    return [b for b in read_ofd(data).blocks if isinstance(b, Table) and any(None in row for row in b.rows)]


def test_ruled_renditions_are_read_from_their_lines_and_borderless_ones_from_positions(ofds):
    name = next(n for n in SOURCES if SOURCES[n]["agency"].startswith("嘉兴"))  # 163 blank cells
    ruled, borderless = ofds[name, True], ofds[name, False]
    assert len(_ruled_tables(ruled)) >= 3
    assert _ruled_tables(borderless) == []
    pages = [
        n for n in zipfile.ZipFile(io.BytesIO(borderless)).namelist() if n.endswith("Content.xml") and "Pages" in n
    ]
    assert not any(b"PathObject" in zipfile.ZipFile(io.BytesIO(borderless)).read(p) for p in pages)


def test_a_table_crosses_a_page_break_without_its_header(ofds):
    """Table 三 opens on one page (申请人情况) and ends on the next (四、结转下年度继续办理), header not repeated."""
    for name in SOURCES:
        pkg = zipfile.ZipFile(io.BytesIO(ofds[name, True]))
        pages = [
            pkg.read(n).decode() for n in sorted(pkg.namelist()) if re.match(r"Doc_0/Pages/Page_\d+/Content.xml", n)
        ]
        head = next(i for i, p in enumerate(pages) if "申请人情况" in p)
        tail = next(i for i, p in enumerate(pages) if "结转下年度继续办理" in p)
        assert tail > head and "申请人情况" not in pages[tail], name


def test_title_hint_comes_from_docinfo(ofds):
    exp = SOURCES[sorted(SOURCES)[0]]
    report = report_from(exp)
    report.title = ["年度报告"]  # the printed title names no agency: DocInfo's Title does
    doc = read_ofd(to_ofd(report, title=f"{exp['agency']}{exp['year']}年政府信息公开工作年度报告"))
    assert doc.title_hint == f"{exp['agency']}{exp['year']}年政府信息公开工作年度报告"
    assert parse_bytes(to_ofd(report, title=doc.title_hint)).agency == exp["agency"]


def test_cli_parses_an_ofd(ofds, tmp_path):
    path = tmp_path / "report.ofd"
    path.write_bytes(ofds["huaian-2024", True])
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "parse", "--json", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"agency", "year", "template", "signed_date", "cells", "findings"}
    assert out["agency"] == "淮安市人民政府" and out["cells"]["applications.handled_total.total"] == 3050


# ---- damaged and hostile packages -------------------------------------------------------------
def _repack(data: bytes, **replace: bytes | None) -> bytes:
    """The package with some members replaced (None: removed)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            if name in replace:
                if replace[name] is not None:
                    out.writestr(name, replace[name])
            else:
                out.writestr(name, src.read(name))
    return buf.getvalue()


PAGE = "Doc_0/Pages/Page_0/Content.xml"


def _page(ofds) -> tuple[bytes, bytes]:
    data = ofds[sorted(SOURCES)[0], True]
    return data, zipfile.ZipFile(io.BytesIO(data)).read(PAGE)


def test_glyph_steps_that_claim_a_billion_repeats_are_expanded_only_as_far_as_the_text(ofds):
    data, page = _page(ofds)
    hostile = re.sub(rb'DeltaX="[^"]*"', b'DeltaX="g 1000000000 3.7"', page, count=50)
    start = time.monotonic()
    doc = read_ofd(_repack(data, **{PAGE: hostile}))
    assert time.monotonic() - start < 5 and doc.blocks


def test_megabytes_of_steps_and_numbers_are_read_only_as_far_as_needed(ofds):
    """A DeltaX of 200,000 steps for a line of a few characters, a Boundary of 400,000 numbers (libxml2 refuses longer attributes)."""
    data, page = _page(ofds)
    hostile = re.sub(rb'DeltaX="[^"]*"', b'DeltaX="' + b"3.7 " * 200_000 + b'"', page, count=1)
    hostile = re.sub(rb'Boundary="[^"]*"', b'Boundary="' + b"1 " * 400_000 + b'"', hostile, count=1)
    start = time.monotonic()
    doc = read_ofd(_repack(data, **{PAGE: hostile}))
    assert time.monotonic() - start < 5 and doc.blocks


def test_too_many_characters_is_too_large(ofds, monkeypatch):
    monkeypatch.setattr(limits, "LAYOUT_CHARS", 500)
    with pytest.raises(ParseError) as e:
        read_ofd(ofds[sorted(SOURCES)[0], True])
    assert e.value.reason == "too_large"


def test_too_many_path_points_is_too_large(ofds, monkeypatch):
    monkeypatch.setattr(limits, "PATH_POINTS", 1000)
    with pytest.raises(ParseError) as e:
        read_ofd(ofds[sorted(SOURCES)[0], True])
    assert e.value.reason == "too_large"


def test_entities_are_refused(ofds):
    data, page = _page(ofds)
    bomb = page.replace(b"<ofd:Page ", b'<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">]><ofd:Page ', 1)
    with pytest.raises(ParseError) as e:
        read_ofd(_repack(data, **{PAGE: bomb}))
    assert e.value.reason == "unreadable"


@pytest.mark.parametrize(
    "member, content, reason",
    [
        (PAGE, None, "unreadable"),  # a listed page missing
        (PAGE, b"<ofd:Page", "unreadable"),  # cut-off XML
        ("Doc_0/Document.xml", b'<Document xmlns="http://www.ofdspec.org/2016"><Pages/></Document>', "unreadable"),
    ],
)
def test_damaged_packages_are_unreadable(ofds, member, content, reason):
    data = ofds[sorted(SOURCES)[0], True]
    with pytest.raises(ParseError) as e:
        parse_bytes(_repack(data, **{member: content}))
    assert e.value.reason == reason


def test_an_ofd_of_images_only_has_no_text(ofds):
    data = ofds[sorted(SOURCES)[0], True]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    blank = b'<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer><ofd:ImageObject ID="9" Boundary="0 0 297 210" ResourceID="1"/></ofd:Layer></ofd:Content></ofd:Page>'
    emptied = {n: blank for n in names if "/Pages/" in n}
    with pytest.raises(ParseError) as e:
        parse_bytes(_repack(data, **emptied))
    assert e.value.reason == "no_text"


# ---- composite objects: vector graphics of the resources -------------------------------------
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _minimal(page_content: str, units: str) -> bytes:
    """A one-page OFD whose document resources declare `units` (composite graphic units)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "OFD.xml",
            f"<ofd:OFD {NS}><ofd:DocBody><ofd:DocInfo/><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        zf.writestr(
            "Doc_0/Document.xml",
            f"<ofd:Document {NS}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>"
            "</ofd:PageArea><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>"
            '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        )
        zf.writestr(
            "Doc_0/DocumentRes.xml",
            f"<ofd:Res {NS}><ofd:CompositeGraphicUnits>{units}</ofd:CompositeGraphicUnits></ofd:Res>",
        )
        zf.writestr(
            "Doc_0/Pages/Page_0/Content.xml",
            f"<ofd:Page {NS}><ofd:Content><ofd:Layer>{page_content}</ofd:Layer></ofd:Content></ofd:Page>",
        )
    return buf.getvalue()


def _unit(uid: str, content: str) -> str:
    return f'<ofd:CompositeGraphicUnit ID="{uid}" Width="50" Height="10"><ofd:Content>{content}</ofd:Content></ofd:CompositeGraphicUnit>'


def test_text_inside_a_composite_object_is_placed_by_its_box_and_ctm():
    text = '<ofd:TextObject ID="2" Boundary="0 0 50 10" Size="4"><ofd:TextCode X="0" Y="4" DeltaX="g 3 4">年度报告</ofd:TextCode></ofd:TextObject>'
    page = (
        '<ofd:TextObject ID="3" Boundary="20 20 100 10" Size="4"><ofd:TextCode X="0" Y="4" DeltaX="g 5 4">政府信息公开</ofd:TextCode></ofd:TextObject>'
        '<ofd:CompositeObject ID="4" ResourceID="9" Boundary="44 20 100 20" CTM="1 0 0 1 0 0"/>'
        '<ofd:CompositeObject ID="5" ResourceID="9" Boundary="20 100 100 20" CTM="2 0 0 2 0 0"/>'
    )
    doc = read_ofd(_minimal(page, _unit("9", text)))
    assert doc.blocks[0] == "政府信息公开年度报告"  # the composite continues the line it is drawn on
    assert doc.blocks[-1] == "年度报告"  # drawn again lower, twice the size


def test_a_composite_drawing_itself_is_unreadable():
    loop = _unit("9", '<ofd:CompositeObject ID="2" ResourceID="9" Boundary="0 0 10 10"/>')
    with pytest.raises(ParseError) as e:
        read_ofd(_minimal('<ofd:CompositeObject ID="4" ResourceID="9" Boundary="0 0 10 10"/>', loop))
    assert e.value.reason == "unreadable"


def test_composites_fanning_out_are_too_large():
    fan = "".join(f'<ofd:CompositeObject ID="{i}" ResourceID="NEXT" Boundary="0 0 1 1"/>' for i in range(60))
    units = "".join(_unit(str(level), fan.replace("NEXT", str(level + 1))) for level in range(6))
    start = time.monotonic()
    with pytest.raises(ParseError) as e:
        read_ofd(_minimal('<ofd:CompositeObject ID="1" ResourceID="0" Boundary="0 0 1 1"/>', units))
    assert e.value.reason == "too_large" and time.monotonic() - start < 30
