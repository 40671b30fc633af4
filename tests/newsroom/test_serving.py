"""How the newsroom serves files and links: a proof-of-absence screenshot shown inline as an image and still
sandboxed, the original named 机关_年度_报告 for filing, and the links in alert messages opening the report page.

Over a copy of the demo archive with a real Chromium screenshot kept as the evidence of 嘉兴市人民政府 2023's
missing report (the demo's own checks may not take one: its listing is on loopback), served in-process.
"""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from datasette.app import Datasette

from crawler.alerts import messages
from crawler.commands.serve import SETTINGS
from storage import Archive, store_dir_for
from storage.datasette.config import PLUGINS_DIR, TEMPLATES_DIR, metadata

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(demo_db, browser, server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("newsroom-evidence")
    db = folder / "xxgk.db"
    shutil.copy(demo_db, db)
    shutil.copytree(store_dir_for(demo_db), store_dir_for(db))
    page = browser.new_page()
    page.goto(server + "/-/deadlines?year=2023")
    png = page.screenshot(full_page=True)
    page.close()
    with Archive(db) as archive:
        before = archive.deadlines.get("嘉兴市人民政府", 2023)
        shot = archive.deadlines.store_evidence(png, url=server + "/listing", agency="嘉兴市人民政府", year=2023)
        archive.deadlines.set(
            "嘉兴市人民政府", 2023, before["status"], deadline=before["deadline"], days_late=before["days_late"],
            evidence_id=shot, checked_at=before["checked_at"], note=before["note"],
        )
        shot_sha = archive.conn.execute("SELECT sha256 FROM evidence WHERE id = ?", (shot,)).fetchone()[0]
        report = archive.conn.execute(
            "SELECT id, sha256 FROM reports WHERE agency_name = '沈阳市人民政府' AND year = 2022"
        ).fetchone()
    ds = Datasette([str(db)], metadata=metadata("xxgk"), plugins_dir=str(PLUGINS_DIR),
                   template_dir=str(TEMPLATES_DIR), settings=SETTINGS)
    return ds, shot_sha, report["id"], report["sha256"]


def get(ds, path):
    # in a thread of its own: the session's Playwright keeps an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ds.client.get(path)).result()


def test_the_screenshot_is_shown_inline_and_sandboxed(served):
    ds, shot_sha, report_sha = served[0], served[1], served[3]
    page = get(ds, "/-/deadlines?year=2023").text
    assert f'<img src="/-/screenshot/{shot_sha}"' in page
    image = get(ds, f"/-/screenshot/{shot_sha}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"] == "inline"
    assert image.headers["content-security-policy"] == "sandbox" and image.headers["x-content-type-options"] == "nosniff"
    # only evidence images are shown inline: a report's original is never rendered as a page of ours
    assert get(ds, f"/-/screenshot/{report_sha}").status_code == 404


def test_the_original_is_named_for_filing(served):
    ds, _, _, report_sha = served
    response = get(ds, f"/-/original/{report_sha}")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("沈阳市人民政府_2022年度_政府信息公开工作年度报告.") in disposition
    assert response.headers["content-security-policy"] == "sandbox"


def test_alert_links_open_the_report_page_and_its_finding(served):
    ds, _, report_id, report_sha = served
    base = "https://xxgk.example.org"
    message = messages.inconsistent(
        "沈阳市人民政府", 2022, "合计", "（七）总计不等于各项之和", "https://example.gov.cn/nb.html",
        f"{base}/-/original/{report_sha}",
    )
    link = f"{base}/-/report-of/{report_sha}#findings"
    assert f"({link})" in message.body
    response = get(ds, link.removeprefix(base).split("#")[0])
    assert response.status_code == 302 and response.headers["location"] == f"/-/report/{report_id}"
    page = get(ds, response.headers["location"]).text
    assert 'id="findings"' in page and "td class=\"num fail\"" in page
    # no original, no page to link: the line is left out rather than a dead link
    assert "详情" not in messages.inconsistent("某机关", 2022, "合计", "x", None, None).body


def test_an_unknown_report_or_version_is_404(served):
    ds = served[0]
    assert get(ds, "/-/report/999999").status_code == 404
    assert get(ds, "/-/changes/1/99").status_code == 404
    assert get(ds, "/-/report-of/" + "0" * 64).status_code == 404
