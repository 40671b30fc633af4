"""Silent edits and takedowns: 【发布后修改】 with the cells that changed, 【报告被撤下】 by 404 or by two whole-listing
crawls that no longer list a report, and 【报告已恢复】 — over a real archive, written through the real write path."""

from collections import Counter

import pytest
from support.shared import expected_for, seed_paths

from crawler import ingest as write_path
from crawler.alerts.changes import queue_change_alerts, takedown_fingerprint
from crawler.alerts.events import Links
from crawler.model import HttpMeta, IncomingDocument
from storage import Archive

AGENCY = "沈阳市人民防空办公室"
PORTAL = "shenyang"
LISTING = "http://127.0.0.1:9/zfxxgknb/index.html"
PAGE = "http://127.0.0.1:9/zfxxgknb/t1.html"
LINKS = Links("http://archive.test")
# One figure changed: the natural persons' （七）总计, 1 → 2.
ONE_FIGURE = ("（七）总计\n\t1\n", "（七）总计\n\t2\n")


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "x.db") as a:
        yield a


def seed_text() -> str:
    return next(p for p in seed_paths() if expected_for(p)["agency"] == AGENCY).read_text(encoding="utf-8")


def ingest(archive, text: str, fetched_at: str = "2021-01-22T02:00:00Z", url: str = PAGE, year: int = 2020):
    return write_path.ingest(
        archive,
        IncomingDocument(
            text.encode("utf-8"),
            url=url,
            http=HttpMeta(fetched_at=fetched_at),
            portal_id=PORTAL,
            page_url=url,
            agency=AGENCY,
            year=year,
            published_at="2021-01-21",
            published_source="visible",
        ),
    )


def changes(archive) -> Counter:
    with archive.transaction():
        return +queue_change_alerts(archive, LINKS)


def alerts(archive, state: str) -> list:
    return archive.alerts.in_state("data", state)


# --- 【发布后修改】 -------------------------------------------------------------------------------------------
def test_an_edit_in_one_figure_alerts_once_with_that_cell_before_and_after(archive):
    good = seed_text()
    assert good.count(ONE_FIGURE[0]) == 1
    first = ingest(archive, good)
    assert changes(archive) == Counter()  # one version: nothing to say
    second = ingest(archive, good.replace(*ONE_FIGURE), fetched_at="2021-03-01T02:00:00Z")
    assert (second.status, second.version) == ("changed", 2)

    assert changes(archive) == Counter(edited=1)
    (alert,) = alerts(archive, "edited")
    assert alert.fingerprint == f"edit|{first.report_id}|2" and alert.report_id == first.report_id
    assert alert.payload["cells"] == [
        {"key": "applications.handled_total.natural_person", "label": "（七）总计/自然人", "before": "1", "after": "2"}
    ]
    assert alert.payload["text"] == []  # a table figure is not told again as text
    assert alert.title == f"【发布后修改】{AGENCY}2020年度政府信息公开工作年度报告"
    assert "- （七）总计/自然人：1 → 2" in alert.body
    assert f"http://archive.test/-/original/{first.document.sha256}" in alert.body  # before
    assert f"http://archive.test/-/original/{second.document.sha256}" in alert.body  # after
    assert "第1版" in alert.body and "第2版" in alert.body and PAGE in alert.body
    assert "data" in alert.tags and "edited" in alert.tags

    assert changes(archive) == Counter(unchanged=1)  # never repeated
    assert len(alerts(archive, "edited")) == 1


def test_an_edit_of_the_prose_names_its_section_and_quotes_the_change(archive):
    good = seed_text()
    ingest(archive, good)
    edited = good.replace("六、其他需要报告的事项\n无。", "六、其他需要报告的事项\n本报告于2021年3月1日更正。")
    assert edited != good
    ingest(archive, edited, fetched_at="2021-03-01T02:00:00Z")
    assert changes(archive) == Counter(edited=1)
    (alert,) = alerts(archive, "edited")
    assert alert.payload["cells"] == []
    assert alert.payload["text"] == [
        {"section": "六、其他需要报告的事项", "removed": "无。", "added": "本报告于2021年3月1日更正。"}
    ]
    assert "六、其他需要报告的事项：“无。”改为“本报告于2021年3月1日更正。”" in alert.body


def test_new_bytes_with_the_same_cells_and_prose_are_not_an_edit(archive):
    good = seed_text()
    ingest(archive, good)
    second = ingest(
        archive, good.replace("六、其他需要报告的事项\n", "六、其他需要报告的事项\n\n\n"), "2021-03-01T02:00:00Z"
    )
    assert second.status == "changed"  # a new version of the document…
    assert changes(archive) == Counter()  # …but the report says the same
    assert alerts(archive, "edited") == []


def test_every_version_keeps_its_cells_and_text(archive):
    good = seed_text()
    first = ingest(archive, good)
    ingest(archive, good.replace(*ONE_FIGURE), fetched_at="2021-03-01T02:00:00Z")
    ingest(archive, good.replace("（七）总计\n\t1\n", "（七）总计\n\t3\n"), fetched_at="2021-04-01T02:00:00Z")
    versions = archive.reports.versions(first.report_id)
    assert [(v.version, v.current) for v in versions] == [(1, False), (2, False), (3, True)]
    key = "applications.handled_total.natural_person"
    assert [v.cells[key].value for v in versions] == [1, 2, 3]
    assert all("沈阳市人民防空办公室" in v.text for v in versions)
    assert changes(archive) == Counter(edited=2)  # 1 → 2, then 2 → 3: one alert per version
    bodies = sorted(a.body for a in alerts(archive, "edited"))
    assert any("1 → 2" in b for b in bodies) and any("2 → 3" in b for b in bodies)


# --- 【报告被撤下】 -------------------------------------------------------------------------------------------
def crawl(
    archive, when: str, *, listed: bool, complete: bool = True, recheck: bool = True, status: str = "ok", url=PAGE
) -> int:
    """One crawl of the portal as the crawler records it: the run, the entries its listing showed (the report
    under `url`), its outcome."""
    run = archive.runs.start("crawl", {"recheck": True} if recheck else None, now=when)
    archive.runs.record_portal(run, PORTAL, "running")
    entries = [(url, LISTING, f"{AGENCY}2020年政府信息公开工作年度报告")] if listed else []
    entries.append(("http://127.0.0.1:9/zfxxgknb/t2.html", LISTING, f"{AGENCY}2021年政府信息公开工作年度报告"))
    archive.documents.mark_listed(PORTAL, run, entries, now=when)
    archive.runs.record_portal(run, PORTAL, status, pages=1, listing_complete=complete, listing_pages=[LISTING])
    archive.runs.finish(run, status, now=when)
    return run


def listed_report(archive) -> int:
    """The report, fetched and listed by a first crawl."""
    crawl(archive, "2021-01-22T01:00:00Z", listed=True)
    return ingest(archive, seed_text(), fetched_at="2021-01-22T02:00:00Z").report_id


def test_a_report_whose_page_answers_404_is_taken_down_with_its_archived_original(archive):
    report_id = listed_report(archive)
    archive.documents.mark_gone(PAGE, 404, now="2021-02-01T02:00:00Z")
    assert changes(archive) == Counter(taken_down=1)
    (alert,) = alerts(archive, "taken_down")
    assert alert.fingerprint == takedown_fingerprint(report_id)
    assert alert.payload["reason"] == "http_gone" and alert.payload["status"] == 404
    assert alert.title == f"【报告被撤下】{AGENCY}2020年度政府信息公开工作年度报告"
    assert "返回HTTP 404" in alert.body and "2021-02-01 10:00（北京时间）" in alert.body
    sha256 = archive.reports.get(report_id).sha256
    assert f"http://archive.test/-/original/{sha256}" in alert.body and PAGE in alert.body
    assert changes(archive) == Counter(unchanged=1)


def test_two_whole_listing_crawls_not_listing_it_take_it_down_one_does_not(archive):
    listed_report(archive)
    crawl(archive, "2021-02-01T01:00:00Z", listed=False)
    assert changes(archive) == Counter()  # once could be a hiccup
    runs = crawl(archive, "2021-02-02T01:00:00Z", listed=False)
    assert changes(archive) == Counter(taken_down=1)
    (alert,) = alerts(archive, "taken_down")
    assert alert.payload["reason"] == "not_listed" and alert.payload["runs"] == [runs - 1, runs]
    assert "连续2次" in alert.body and LISTING in alert.body


@pytest.mark.parametrize(
    "second",
    [
        {"complete": False},  # a list page failed or the budget cut the walk short
        {"recheck": False},  # an incremental crawl: it stops at the first all-archived list page
        {"status": "unreachable", "complete": None},
    ],
    ids=["incomplete", "not_a_whole_walk", "failed"],
)
def test_a_crawl_that_did_not_walk_the_whole_listing_shows_no_absence(archive, second):
    listed_report(archive)
    crawl(archive, "2021-02-01T01:00:00Z", listed=False)
    crawl(archive, "2021-02-02T01:00:00Z", listed=False, **second)
    assert changes(archive) == Counter()
    crawl(archive, "2021-02-03T01:00:00Z", listed=False)  # a second whole-listing crawl: now it is shown
    assert changes(archive) == Counter(taken_down=1)


def test_a_report_fetched_during_a_crawl_is_not_absent_from_it(archive):
    """Listed under another URL (the list moved it) and fetched again: the crawl reached it."""
    listed_report(archive)
    crawl(archive, "2021-02-01T01:00:00Z", listed=False)
    crawl(archive, "2021-02-02T01:00:00Z", listed=False)
    archive.documents.mark_seen(PAGE, fetched_at="2021-02-02T01:30:00Z")  # 304 during the second crawl
    assert changes(archive) == Counter()


MOVED = "http://127.0.0.1:9/xxgk/2021/t1.html"  # the same page after the portal moved its column


@pytest.mark.parametrize("recheck_order", ["old URL rechecked before the move is seen", "after"])
def test_a_report_the_portal_moved_to_a_new_url_is_not_taken_down(archive, recheck_order):
    """A CMS revamp: the list now links the same report (the same bytes) at a new URL, and the old URL answers
    404. The report was not taken down; saying so would be a false accusation."""
    report_id = listed_report(archive)
    crawl(archive, "2021-02-01T01:00:00Z", listed=True, url=MOVED)
    if recheck_order == "after":
        archive.documents.mark_gone(PAGE, 404, now="2021-02-01T01:20:00Z")
    moved = ingest(archive, seed_text(), fetched_at="2021-02-01T01:30:00Z", url=MOVED)
    assert (moved.report_id, moved.status) == (report_id, "unchanged")
    if recheck_order != "after":
        archive.documents.mark_gone(PAGE, 404, now="2021-02-01T01:40:00Z")
    crawl(archive, "2021-02-02T01:00:00Z", listed=True, url=MOVED)  # known and fresh: not fetched again
    crawl(archive, "2021-02-03T01:00:00Z", listed=True, url=MOVED)
    assert changes(archive) == Counter()
    assert archive.reports.get(report_id).source_url == MOVED  # where a journalist finds it now


def test_a_listing_that_shows_any_url_the_reports_bytes_were_fetched_at_shows_the_report(archive):
    """Linked from two places (the county's column and the department's): fetched at both, it was last seen at
    the other one, and this portal's listing still shows it under the first."""
    report_id = listed_report(archive)
    ingest(archive, seed_text(), fetched_at="2021-02-01T01:30:00Z", url=MOVED)
    ingest(archive, seed_text(), fetched_at="2021-02-01T01:40:00Z", url="http://127.0.0.1:9/bm/t1.html")
    for day in ("02", "03", "04"):
        crawl(archive, f"2021-02-{day}T01:00:00Z", listed=True, url=MOVED)
    assert changes(archive) == Counter()
    assert archive.reports.get(report_id).source_url == "http://127.0.0.1:9/bm/t1.html"


def test_bytes_that_are_two_reports_do_not_lend_one_the_others_listing(archive):
    """One file posted as two years' reports (a placeholder, a copy): two whole-listing crawls show only the
    2019 report's URL. That URL is the 2019 report's, and the 2020 one is no longer listed."""
    report_id = listed_report(archive)
    other = "http://127.0.0.1:9/zfxxgknb/t0.html"
    assert ingest(archive, seed_text(), url=other, year=2019).report_id != report_id
    crawl(archive, "2021-02-01T01:00:00Z", listed=True, url=other)
    crawl(archive, "2021-02-02T01:00:00Z", listed=True, url=other)
    assert changes(archive) == Counter(taken_down=1)
    (alert,) = alerts(archive, "taken_down")
    assert alert.fingerprint == takedown_fingerprint(report_id) and alert.payload["reason"] == "not_listed"


def test_a_report_no_listing_ever_showed_is_never_judged_absent(archive):
    ingest(archive, seed_text())  # imported by hand, say
    crawl(archive, "2021-02-01T01:00:00Z", listed=False)
    crawl(archive, "2021-02-02T01:00:00Z", listed=False)
    assert changes(archive) == Counter()


def test_listed_again_it_is_restored_once(archive):
    listed_report(archive)
    crawl(archive, "2021-02-01T01:00:00Z", listed=False)
    crawl(archive, "2021-02-02T01:00:00Z", listed=False)
    assert changes(archive) == Counter(taken_down=1)
    crawl(archive, "2021-02-03T01:00:00Z", listed=True)
    assert changes(archive) == Counter(restored=1)
    (alert,) = alerts(archive, "restored")
    assert alert.title == f"【报告已恢复】{AGENCY}2020年度政府信息公开工作年度报告"
    assert alert.delivery_status == "pending"  # one message to say so
    assert changes(archive) == Counter()  # and only one
    assert alerts(archive, "taken_down") == []


def test_a_page_that_answers_again_is_restored(archive):
    listed_report(archive)
    archive.documents.mark_gone(PAGE, 410, now="2021-02-01T02:00:00Z")
    assert changes(archive) == Counter(taken_down=1)
    archive.documents.mark_seen(PAGE, fetched_at="2021-02-05T02:00:00Z", http_status=200)
    assert changes(archive) == Counter(restored=1)
