"""The demo archive (crawled from the replica portals by `xxgk demo`'s code, once per session), served by a real
`xxgk serve` on 127.0.0.1, and a real Chromium to click through it. Screenshots go to one artefact folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.serving import serving

from crawler.browser import CHROMIUM_ARGS, CHROMIUM_PATH


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    from crawler.replica.demo import run_demo

    db = tmp_path_factory.mktemp("newsroom-demo") / "xxgk.db"
    lines: list[str] = []
    code = run_demo(db, echo=lines.append)
    assert code == 0, "\n".join(lines[-30:])
    return db


@pytest.fixture(scope="session")
def server(demo_db, tmp_path_factory):
    with serving(demo_db, tmp_path_factory.mktemp("newsroom-serve") / "serve.log") as (base, _):
        yield base


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots of every page a test visits are saved (printed, so a person can look at them)."""
    folder = tmp_path_factory.mktemp("newsroom-screenshots")
    print(f"\nnewsroom screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")  # per module: Playwright's event loop must not outlive the newsroom's tests
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.goto(server + "/")
    yield tab
    context.close()
