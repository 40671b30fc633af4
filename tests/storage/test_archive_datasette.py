"""The archive in Datasette (in-process ASGI client, the real Datasette and our plugin): each canned
query answers its journalist's question on a small real archive."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from datasette.app import Datasette
from support.shared import seed_paths

from crawler.commands.serve import SETTINGS
from crawler.ingest import ingest
from crawler.model import Finding, HttpMeta, IncomingDocument
from storage import Archive
from storage.datasette.config import PLUGINS_DIR, QUERIES, TEMPLATES_DIR, metadata


def build_sample_archive(db, real_pdf) -> str:
    """Seeds, the real PDF, a report edited after publication, a failing check and deadline
    decisions with a screenshot; returns the screenshot's sha256."""
    seeds = seed_paths()
    with Archive(db) as a:
        for p in seeds:
            ingest(
                a,
                IncomingDocument(
                    p.read_bytes(),
                    url=f"https://example.gov.cn/{p.name}",
                    http=HttpMeta(fetched_at="2021-02-01T00:00:00Z"),
                ),
            )
        huaian = ingest(a, IncomingDocument(real_pdf.read_bytes(), url="https://www.huaian.gov.cn/2024.pdf"))
        # Last year's report of the same agency, edited later, to compare years and versions.
        text = seeds[1].read_text(encoding="utf-8")
        for fetched_at, body in (("2020-01-20T00:00:00Z", text), ("2020-03-01T00:00:00Z", text + "\n更正说明\n")):
            ingest(
                a,
                IncomingDocument(
                    body.encode(),
                    url="https://example.gov.cn/sy2019.txt",
                    agency="沈阳市人民防空办公室",
                    year=2019,
                    http=HttpMeta(fetched_at=fetched_at),
                ),
            )
        a.reports.write_findings(
            huaian.report_id,
            [
                Finding(
                    "sum.row_total",
                    "fail",
                    "error",
                    "新收申请总计与各列之和不符",
                    ["applications.new.total"],
                    {"total": 3119, "sum": 3118},
                )
            ],
        )
        shot = a.deadlines.store_evidence(
            b"\x89PNG\r\n\x1a\nscreenshot", url="https://www.zibo.gov.cn/nb/", agency="淄博市人民防空办公室", year=2020
        )
        a.conn.execute("UPDATE agencies SET province = '山东省' WHERE name = '淄博市人民防空办公室'")
        a.deadlines.set("淄博市人民防空办公室", 2020, "missing", deadline="2021-01-31", evidence_id=shot)
        a.deadlines.set(
            "温州市人民防空办公室", 2020, "late", deadline="2021-01-31", days_late=3, published_at="2021-02-03"
        )
        a.deadlines.set("嘉兴市人民防空办公室", 2021, "on_time", deadline="2022-01-31", published_at="2022-01-20")
        return a.conn.execute("SELECT sha256 FROM evidence WHERE id = ?", (shot,)).fetchone()[0]


@pytest.fixture(scope="module")
def served(tmp_path_factory, real_pdf):
    db = tmp_path_factory.mktemp("ds") / "xxgk.db"
    shot_sha = build_sample_archive(db, real_pdf)
    ds = Datasette(
        [str(db)],
        metadata=metadata("xxgk"),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=SETTINGS,
    )
    return ds, real_pdf, shot_sha


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def rows(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, response.text
    return response.json()["rows"] if "_shape" not in path else response.json()


def test_every_canned_query_runs(served):
    ds, *_ = served
    for name in QUERIES:
        response = get(ds, f"/xxgk/{name}.json?year=2020&province=&agency=x&q=复议")
        assert response.status_code == 200, (name, response.text)


def test_late_or_missing_names_agencies_with_evidence(served):
    ds, _, shot_sha = served
    found = rows(ds, "/xxgk/late_or_missing.json?_shape=array&year=2020")
    assert [(r["agency"], r["deadline_status"]) for r in found] == [
        ("淄博市人民防空办公室", "missing"),
        ("温州市人民防空办公室", "late"),
    ]
    assert found[0]["evidence"] == f"/-/original/{shot_sha}"
    assert (
        rows(ds, "/xxgk/late_or_missing.json?_shape=array&year=2020&province=山东省")[0]["agency"]
        == "淄博市人民防空办公室"
    )
    page = get(ds, "/xxgk/late_or_missing?year=2020").text
    assert f'href="/-/original/{shot_sha}"' in page  # one click to the screenshot
    every_year = rows(ds, "/xxgk/late_or_missing.json?_shape=array&year=&province=")  # left blank: all years
    assert {(r["agency"], r["year"]) for r in found} <= {(r["agency"], r["year"]) for r in every_year}


def test_inconsistent_shows_the_numbers(served):
    ds, *_ = served
    found = rows(ds, "/xxgk/inconsistent.json?_shape=array&year=2024&province=")
    assert [(r["agency"], r["rule"]) for r in found] == [("淮安市人民政府", "sum.row_total")]
    assert "3119" in found[0]["cell_values"] and json.loads(found[0]["numbers"]) == {"total": 3119, "sum": 3118}


def test_agency_years_side_by_side(served):
    ds, *_ = served
    found = rows(ds, "/xxgk/agency_years.json?_shape=array&agency=沈阳市人民防空办公室")
    assert [r["year"] for r in found] == [2019, 2020]
    assert found[1]["prev_carry_forward"] == found[0]["carry_forward"] and found[1]["new_requests"] is not None


def test_recently_changed_shows_before_and_after(served):
    ds, *_ = served
    found = rows(ds, "/xxgk/recently_changed.json?_shape=array")
    assert [(r["agency"], r["year"], r["version"]) for r in found] == [("沈阳市人民防空办公室", 2019, 2)]
    assert found[0]["previous_original"] != found[0]["new_original"]


def test_search_two_and_four_characters_in_query_and_table(served):
    ds, *_ = served
    assert len(rows(ds, "/xxgk/search.json?_shape=array&q=复议")) == 7
    assert {r["agency"] for r in rows(ds, "/xxgk/search.json?_shape=array&q=淮安")} == {"淮安市人民政府"}
    # the table's own search box (?_search=) uses the same index through escape_fts
    assert {r["agency"] for r in rows(ds, "/xxgk/report_summary.json?_shape=array&_search=大渡口区")} == {
        "重庆市大渡口区人民防空办公室"
    }
    assert len(rows(ds, "/xxgk/report_summary.json?_shape=array&_search=诉讼&year=2020")) == 4


def test_facets_and_summary(served):
    ds, *_ = served
    data = get(ds, "/xxgk/report_summary.json?_facet=deadline_status").json()
    facet = {f["value"]: f["count"] for f in data["facet_results"]["deadline_status"]["results"]}
    assert facet == {"unchecked": 4, "late": 1, "missing": 1, "on_time": 1}
    assert set(data["facet_results"]) >= {"province", "city", "year", "template", "deadline_status", "check_status"}


def test_original_downloads_byte_for_byte(served):
    ds, real_pdf, _ = served
    sha = hashlib.sha256(real_pdf.read_bytes()).hexdigest()
    response = get(ds, f"/-/original/{sha}")
    assert response.status_code == 200 and hashlib.sha256(response.content).hexdigest() == sha
    assert (
        response.headers["content-type"] == "application/pdf"
        and "attachment" in response.headers["content-disposition"]
    )
    assert get(ds, "/-/original/" + "0" * 64).status_code == 404


def test_charts_page_draws_bars(served):
    ds, *_ = served
    page = get(ds, "/-/charts").text
    assert page.count('<figure class="xxgk-chart">') == 4 and "按时发布率" in page
    assert ">0.0%<" in page and ">100.0%<" in page  # 2020: one late, one missing; 2021: one on time


def test_served_read_only(served):
    ds, *_ = served
    response = get(ds, "/xxgk.json?sql=" + "DELETE FROM reports")
    assert response.status_code == 400
    assert len(rows(ds, "/xxgk/reports.json?_shape=array")) == 7
