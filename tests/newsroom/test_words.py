"""What a journalist reads: no SQL in any page title, no raw status code and no cell key in the rendered text of
the journalist pages (every page of every report of the demo archive included), Atom feeds that are valid Atom,
and an Excel CSV that opens with its Chinese intact."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from xml.etree import ElementTree as ET

import pytest

from crawler.template import TEMPLATES, keys
from storage.datasette.config import QUERIES
from storage.datasette.labels import RAW_CODES
from storage.db import sqlite3

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
CELL_KEYS = {k for t in TEMPLATES for k in keys(t)}
CODE = re.compile(r"(?<![A-Za-z_./])(" + "|".join(sorted(map(re.escape, RAW_CODES), key=len, reverse=True)) + r")(?![A-Za-z_])")


# Everything the body says, folded <details> included, without scripts.
TEXT = """() => { const b = document.body.cloneNode(true); b.querySelectorAll('script, style').forEach(e => e.remove());
return b.textContent; }"""


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()


def journalist_pages(db) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        reports = [r[0] for r in conn.execute("SELECT id FROM reports ORDER BY id")]
        agencies = [r[0] for r in conn.execute("SELECT id FROM agencies ORDER BY id")]
        years = [r[0] for r in conn.execute("SELECT DISTINCT year FROM deadline_status")]
        changes = conn.execute("SELECT report_id, version FROM report_versions WHERE version > 1").fetchall()
    finally:
        conn.close()
    pages = ["/", "/-/deadlines?year=all", "/-/inconsistent?year=all", "/-/changes", "/-/charts?year=all",
             "/-/agency", "/-/agency?q=市", "/-/search?q=行政复议", "/-/search?q=公开&kind=department"]
    pages += [f"/?year={y}" for y in years] + [f"/-/deadlines?year={y}" for y in years]
    pages += [f"/-/inconsistent?year={y}" for y in years] + [f"/-/charts?year={y}" for y in years]
    pages += [f"/-/report/{r}" for r in reports] + [f"/-/agency?id={a}" for a in agencies]
    pages += [f"/-/changes/{r}/{v}" for r, v in changes]
    return pages


def test_no_raw_codes_or_cell_keys_on_journalist_pages(browser, server, demo_db, shots):
    context = browser.new_context()
    page = context.new_page()
    problems = []
    try:
        for path in journalist_pages(demo_db):
            response = page.goto(server + path)
            assert response.status == 200, path
            text = page.evaluate(TEXT)
            codes = {m.group(1) for m in CODE.finditer(text)}
            cells = {k for k in CELL_KEYS if k in text}
            if codes or cells:
                problems.append((path, sorted(codes), sorted(cells)[:3]))
            title = page.title()
            if re.search(r"\b(select|from|where)\b", title, re.I) or not re.search(r"[\u4e00-\u9fff]", title):
                problems.append((path, "title", title))
    finally:
        context.close()
    assert problems == []


def test_no_page_title_is_sql(browser, server):
    """Datasette's own pages too: a canned query is titled by its question, a table by its Chinese name."""
    context = browser.new_context()
    page = context.new_page()
    params = {"late_or_missing": "?year=2023&province=", "agency_years": "?agency=沈阳市人民政府", "search": "?q=复议"}
    try:
        paths = [f"/xxgk/{name}{params.get(name, '?year=&province=')}" for name in QUERIES]
        paths += ["/xxgk/report_summary", "/xxgk/reports", "/xxgk/reports/1", "/xxgk/findings"]
        for path in paths:
            page.goto(server + path)
            title = page.title()
            assert not re.search(r"\b(select|from|where)\b", title, re.I), (path, title)
            assert re.search(r"[\u4e00-\u9fff]", title), (path, title)
        # Datasette's tables show the codes in Chinese too (the code stays as the tooltip and in the data)
        page.goto(server + "/xxgk/report_summary?deadline_status=late")
        cell = page.locator("td.col-deadline_status span").first
        assert cell.inner_text() == "逾期" and cell.get_attribute("title") == "late"
    finally:
        context.close()


def _valid_atom(data: bytes) -> ET.Element:
    feed = ET.fromstring(data)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}") is not None and feed.find(f"{ATOM}{tag}").text, tag
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    assert feed.find(f"{ATOM}author/{ATOM}name").text  # feed-level author: entries may omit theirs
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{tag}") is not None and entry.find(f"{ATOM}{tag}").text, tag
        assert RFC3339.match(entry.find(f"{ATOM}updated").text)
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith("http://") or link.startswith("https://"), link  # absolute
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    return feed


def test_atom_feeds_are_valid_and_link_the_pages(server):
    status, headers, data = fetch(server + "/-/feeds/late.atom")
    assert status == 200 and headers["content-type"].startswith("application/atom+xml")
    titles = [e.find(f"{ATOM}title").text for e in _valid_atom(data).findall(f"{ATOM}entry")]
    assert any("嘉兴市人民政府 2023" in t and "未公开" in t for t in titles)
    assert any("温州市人民防空办公室 2022" in t and "逾期" in t for t in titles)
    inconsistent = _valid_atom(fetch(server + "/-/feeds/inconsistent.atom")[2])
    entry = inconsistent.find(f"{ATOM}entry")
    assert "沈阳市人民政府 2022" in entry.find(f"{ATOM}title").text
    _, _, page = fetch(entry.find(f"{ATOM}link").get("href"))  # the link opens the report page
    assert "表三" in page.decode()
    changed = _valid_atom(fetch(server + "/-/feeds/changed.atom")[2])
    assert any("大渡口" in e.find(f"{ATOM}title").text for e in changed.findall(f"{ATOM}entry"))
    zhejiang = _valid_atom(fetch(server + "/-/feeds/late.atom?province=" + "%E6%B5%99%E6%B1%9F%E7%9C%81")[2])
    assert zhejiang.find(f"{ATOM}title").text.endswith("（浙江省）")
    liaoning = _valid_atom(fetch(server + "/-/feeds/late.atom?province=" + "%E8%BE%BD%E5%AE%81%E7%9C%81")[2])
    assert liaoning.findall(f"{ATOM}entry") == []  # an empty feed is still a valid one


def test_excel_csv_has_a_bom_every_row_and_absolute_links(server, demo_db):
    status, headers, data = fetch(server + "/-/csv/deadlines.csv?year=all")
    assert status == 200 and data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["机关", "省份", "城市", "年度", "状态"]
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        expected = conn.execute(
            "SELECT count(*) FROM deadline_status WHERE status IN ('late', 'missing', 'unverified')"
        ).fetchone()[0]
        reports = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    finally:
        conn.close()
    assert len(rows) - 1 == expected
    assert {r[4] for r in rows[1:]} <= {"逾期", "未公开", "未能核实"}
    assert all(r[-1].startswith(server + "/-/agency?id=") for r in rows[1:])
    every = list(csv.reader(io.StringIO(fetch(server + "/-/csv/reports.csv?year=all")[2].decode("utf-8-sig"))))
    assert len(every) - 1 == reports  # all rows, not one page of them
    assert all(r[-2].startswith(server + "/-/report/") and r[-1].startswith(server + "/-/original/") for r in every[1:])
