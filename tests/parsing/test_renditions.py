"""Every seed (and the real PDF's labelled cells, a 2021-format source) rendered by our own generator
in each format xxgk reads parses back to exactly the labelled cells, agency, year and template."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.renditions import HTML_STYLE, KINDS, Report, report_from, to_docx, word_html_body, write_all
from support.shared import SHARED, expected_for, seed_paths
from test_parse_real import assert_matches

from crawler.parsing import parse_bytes, sniff

SOURCES = {p.stem: p for p in seed_paths()} | {
    "huaian-2024": SHARED / "real" / "expected" / "huaian-city-gov-2024.json"
}
SNIFFED = {"html-gbk": "html", "html-gbk-lie": "html", "html-fragment": "html"}


def _expected(name: str) -> dict:
    path = SOURCES[name]
    return expected_for(path) if path.suffix == ".txt" else json.loads(path.read_text())


_parsed: dict = {}


@pytest.fixture(scope="session")
def renditions(tmp_path_factory, shared):
    """All renditions of all sources, built once per test session (LibreOffice runs twice in all).

    The .doc renditions are parsed here two at a time: each costs one LibreOffice run."""
    paths = write_all({name: _expected(name) for name in SOURCES}, tmp_path_factory.mktemp("renditions"))
    docs = [key for key in paths if key[1] == "doc"]
    with ThreadPoolExecutor(2) as pool:
        for key, outcome in zip(docs, pool.map(lambda k: _outcome(paths[k]), docs), strict=True):
            _parsed[key] = outcome
    return paths


def _outcome(path):
    """A parsed report, or the error it raised (re-raised by the test that asks for it)."""
    try:
        return parse_bytes(path.read_bytes())
    except Exception as e:
        return e


def _parse(renditions, name: str, kind: str):
    """Each rendition is parsed once per session (a .doc costs one LibreOffice run)."""
    if (name, kind) not in _parsed:
        _parsed[name, kind] = _outcome(renditions[name, kind])
    if isinstance(_parsed[name, kind], Exception):
        raise _parsed[name, kind]
    return _parsed[name, kind]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_rendition_parses_back_exactly(renditions, name, kind):
    data = renditions[name, kind].read_bytes()
    assert sniff(data) == SNIFFED.get(kind, kind)
    report = _parse(renditions, name, kind)
    expected = _expected(name)
    assert report.format == SNIFFED.get(kind, kind)
    assert_matches(report.contract(), expected)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])


def test_gbk_renditions_really_are_gbk_and_one_declares_utf8(renditions):
    name = sorted(SOURCES)[0]
    lie = renditions[name, "html-gbk-lie"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        lie.decode("utf-8")
    assert b'charset="utf-8"' in lie
    assert _expected(name)["agency"] in lie.decode("gbk")
    assert b"charset=gb2312" in renditions[name, "html-gbk"].read_bytes()


def test_truncated_seed_renditions_print_no_missing_rows(renditions):
    """Keys absent from the Zibo JSON are absent from every rendition, so they cannot come back."""
    name = next(n for n in SOURCES if _expected(n)["agency"].startswith("淄博"))
    for kind in ("docx", "html"):
        report = _parse(renditions, name, kind)
        assert "applications.new.total" not in report.cells
        assert not any(k.startswith("active.procurement") for k in report.cells)


def test_blank_cells_stay_null_in_every_format(renditions):
    name = next(n for n in SOURCES if _expected(n)["agency"].startswith("嘉兴"))
    blanks = {k for k, v in _expected(name)["cells"].items() if v is None}
    assert len(blanks) > 50
    for kind in KINDS:
        report = _parse(renditions, name, kind)
        finding = next(f for f in report.findings if f.rule == "parse.blank_cells")
        assert set(finding.cells) == blanks, kind


WHITESPACE = ["\n", " ", "\u3000", "\xa0", "\t", "\n\u3000"]


def _scatter_whitespace(report: Report, data) -> None:
    """Break every table label at up to two random places with a line break or a kind of space."""
    for block in report.blocks:
        if isinstance(block, str):
            continue
        for row in block:
            for span in row:
                if span.value or len(span.text) < 2:
                    continue
                for _ in range(data.draw(st.integers(0, 2))):
                    pos = data.draw(st.integers(1, len(span.text) - 1))
                    span.text = span.text[:pos] + data.draw(st.sampled_from(WHITESPACE)) + span.text[pos:]


def _roundtrip(template: str, kind: str, data) -> None:
    name = next(n for n in sorted(SOURCES) if _expected(n)["template"] == template)
    expected = _expected(name)
    report = report_from(expected, HTML_STYLE)
    _scatter_whitespace(report, data)
    if kind == "html":
        raw = word_html_body(report).encode()
    else:
        buf = io.BytesIO()
        to_docx(report, buf)
        raw = buf.getvalue()
    assert_matches(parse_bytes(raw).contract(), expected)


@pytest.mark.parametrize("template", ["2019", "2021"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whitespace_and_breaks_inside_html_labels_change_no_cell(template, data):
    _roundtrip(template, "html", data)


@pytest.mark.parametrize("template", ["2019", "2021"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whitespace_and_breaks_inside_docx_labels_change_no_cell(template, data):
    _roundtrip(template, "docx", data)  # python-docx builds slowly: fewer examples
