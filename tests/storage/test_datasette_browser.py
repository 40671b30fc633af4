"""A journalist's session: `xxgk serve` (a real Datasette on 127.0.0.1) driven through Debian Chromium."""

from __future__ import annotations

import hashlib

import pytest
from support.serving import serving
from test_archive_datasette import build_sample_archive

from crawler.browser import CHROMIUM_ARGS, CHROMIUM_PATH
from storage.datasette.config import QUERIES

QUERY_PARAMS = {
    "late_or_missing": "?year=2020&province=",
    "inconsistent": "?year=&province=",
    "agency_years": "?agency=沈阳市人民防空办公室",
    "search": "?q=诉讼",
    "ontime_by_province": "?year=",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_pdf):
    tmp = tmp_path_factory.mktemp("browser")
    build_sample_archive(tmp / "xxgk.db", real_pdf)
    with serving(tmp / "xxgk.db", tmp / "serve.log") as (base, _):
        yield base


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def table_rows(page) -> int:
    return page.locator("table.rows-and-columns tbody tr").count()


@pytest.mark.browser
def test_journalist_session(server, page, real_pdf, tmp_path):
    # The reports table, and its search box with a 2-character and a 4-character term.
    page.goto(f"{server}/xxgk/reports")
    assert table_rows(page) == 7
    page.fill("#_search", "复议")
    page.press("#_search", "Enter")
    page.wait_for_url("**_search=*")
    assert table_rows(page) == 7  # every report prints the review table
    page.fill("#_search", "大渡口区")
    page.press("#_search", "Enter")
    page.wait_for_url("**_search=*")
    assert table_rows(page) == 1
    assert "重庆市大渡口区人民防空办公室" in page.locator("table.rows-and-columns").inner_text()

    # The summary view: click a facet value.
    page.goto(f"{server}/xxgk/report_summary")
    page.locator(".facet-info[data-column=deadline_status] a", has_text="missing").first.click()
    page.wait_for_url("**deadline_status=missing*")
    assert table_rows(page) == 1
    assert "淄博市人民防空办公室" in page.locator("table.rows-and-columns").inner_text()

    # Every canned query opens and shows a result table.
    for name in QUERIES:
        page.goto(f"{server}/xxgk/{name}{QUERY_PARAMS.get(name, '')}")
        assert page.locator("table.rows-and-columns").count() == 1, name
        assert table_rows(page) >= 1, name
    page.goto(f"{server}/xxgk/search?q=诉讼")
    assert table_rows(page) == 7

    # One click from the summary to the archived original, byte for byte.
    page.goto(f"{server}/xxgk/report_summary?agency=淮安市人民政府")
    with page.expect_download() as download_info:
        page.locator("a", has_text="原件").first.click()
    saved = tmp_path / "original.pdf"
    download_info.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(real_pdf.read_bytes()).hexdigest()

    # The charts page, and a screenshot of what the journalist sees.
    page.goto(f"{server}/-/charts")
    assert page.locator("figure.xxgk-chart svg").count() == 4
    page.goto(f"{server}/xxgk/report_summary")
    shot = tmp_path / "report_summary.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nscreenshot: {shot}")
