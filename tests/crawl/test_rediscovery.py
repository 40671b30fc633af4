"""Self-healing listings, over the replica on real HTTP (127.0.0.1): 大渡口 is declared by its home page only.

The first crawl finds its 年报 column from the home page and stores how; in epoch 3 the column moves (the old list
answers 404, the 政府信息公开 menu links the new one); the next crawl finds it again, archives the reports from it
without a duplicate, and the check queues exactly one 「年报栏目地址已变更」. A column that stops holding the
agency's reports and cannot be found again leaves the agency unverified, never 逾期未公开.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from test_crawl import crawl_args, portal_summary, summary_of, xxgk

from crawler.alerts import check_and_alert
from crawler.alerts.events import queue_column_alerts
from crawler.discovery.discover import Column, Discovery, ReportLink
from crawler.discovery.heal import best_column
from crawler.registry import load_registry, parse_registry
from crawler.replica import ReplicaServer, world
from crawler.replica.sites import Resource
from storage import Archive

PORTAL = "demo-dadukou"
GOVERNMENT = "重庆市大渡口区人民政府"
HOME = "/dadukou/index.html"
OLD = "/dadukou/zwgk/zfxxgk/zfxxgknb/index.html"
NEW = world.portal(PORTAL).moved[1]
MOVE_EPOCH = world.portal(PORTAL).moved[0]


def one_portal_registry(server: ReplicaServer, directory: Path) -> Path:
    full = yaml.safe_load(server.registry_path(directory).read_text(encoding="utf-8"))
    full["portals"] = [p for p in full["portals"] if p["id"] == PORTAL]
    path = directory / "dadukou.yaml"
    path.write_text(yaml.safe_dump(full, allow_unicode=True), encoding="utf-8")
    return path


def crawl(db: Path, registry: Path, *extra: str) -> dict:
    return portal_summary(summary_of(xxgk(*crawl_args(db, registry, *extra))), PORTAL)


def check(db: Path, registry: Path, today: date | None = None):
    return check_and_alert(
        db, load_registry(registry), today or date.today(), dry_run=True, screenshots=False, echo=lambda _: None
    )


def reports(db: Path) -> list[tuple[str, int]]:
    with Archive(db) as archive:
        return sorted((r.agency, r.year) for r in archive.reports.list(portal_id=PORTAL))


def moved_alerts(db: Path) -> list:
    with Archive(db) as archive:
        return archive.alerts.in_state("health", "column_moved")


def test_the_column_with_most_report_links_is_taken_and_the_nearest_on_a_tie():
    def column(url: str, n: int) -> Column:
        return Column(url, reports=[ReportLink(f"{url}{i}.html", "t", 2020 + i, None) for i in range(n)])

    found = Discovery("http://a/", ("a",), [column("http://a/x/", 2), column("http://a/y/", 3), column("http://a/z/", 3)])
    assert best_column(found).url == "http://a/y/"
    assert best_column(found, exclude={"http://a/y/"}).url == "http://a/z/"
    assert best_column(Discovery("http://a/", ("a",), [column("http://a/x/", 0)])) is None
    assert best_column(found, exclude={"http://a/y/index.html", "http://A/z"}).url == "http://a/x/"  # one page, two names


def test_one_alert_per_move_found_from_the_home_page_and_none_for_a_registry_change(tmp_path):
    registry = parse_registry(
        {"portals": [{"id": "p", "name": "某县人民政府", "cms": "generic", "home_url": "http://a.gov.cn/", "domains": ["a.gov.cn"]}]}
    )
    with Archive(tmp_path / "x.db") as archive:
        first = archive.columns.record("p", "http://a.gov.cn/nb/", "discovered", home_url="http://a.gov.cn/")
        moved = archive.columns.record(
            "p", "http://a.gov.cn/ndbg/", "rediscovered", found_from="http://a.gov.cn/xxgk/", link_text="年度报告",
            home_url="http://a.gov.cn/", reports=4, replaces=(first.id, "not_holding"),
        )
        archive.columns.record("p", "http://a.gov.cn/declared/", "declared")  # the operator's own change
        assert [(m.old.gone_reason, m.new.id) for m in archive.columns.moves()][0] == ("not_holding", moved.id)
        assert queue_column_alerts(archive, registry) == {"column_moved": 1}
        assert queue_column_alerts(archive, registry) == {"unchanged": 1}
        (alert,) = archive.alerts.in_state("health", "column_moved")
    assert alert.title == "【年报栏目地址已变更】某县人民政府"
    assert "原栏目中已没有该门户已存档的任何年报" in alert.body and "“年度报告”" in alert.body


# --- found, moved, found again ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_run(tmp_path_factory):
    """Crawl 1 in epoch 1, then the move (epoch 3) and crawl 2; the archive copied after each step."""
    tmp = tmp_path_factory.mktemp("rediscovery")
    with ReplicaServer() as server:
        registry = one_portal_registry(server, tmp)
        db = tmp / "xxgk.db"
        first = crawl(db, registry)
        with Archive(db) as archive:
            found = archive.columns.history(PORTAL)
        before = reports(db)
        server.set_epoch(MOVE_EPOCH)
        hits_old = server.hits[OLD]
        second = crawl(db, registry)
        yield {
            "server": server,
            "registry": registry,
            "db": db,
            "first": first,
            "found": found,
            "before": before,
            "second": second,
            "old_hits_in_second": server.hits[OLD] - hits_old,
        }


def test_the_registry_declares_the_portal_by_its_home_page_only(world_run):
    (entry,) = yaml.safe_load(world_run["registry"].read_text(encoding="utf-8"))["portals"]
    assert entry["home_url"].endswith(HOME) and "start_url" not in entry
    assert all("listing_url" not in a for a in entry["agencies"])
    portal = load_registry(world_run["registry"]).portal(PORTAL)
    assert portal.home_url == portal.start_url and not portal.declares_column


def test_the_first_crawl_finds_the_column_from_the_home_page_and_stores_how(world_run):
    server, first = world_run["server"], world_run["first"]
    base = server.base_url
    assert first["status"] == "ok" and first["reports_new"] == len(server.expected(PORTAL)), first
    (column,) = world_run["found"]
    assert (column.url, column.how, column.home_url) == (base + OLD, "discovered", base + HOME)
    assert column.link_text == "政府信息公开年报"
    # The page it was found on links it with that text, as served in epoch 1.
    linking = server.site(1).routes[column.found_from.removeprefix(base)].body.decode()
    assert f'href="{OLD}">政府信息公开年报<' in linking
    assert column.reports >= 6 and column.evidence["pages"][0] == base + HOME
    assert column.last_ok_at is not None and column.gone_at is None


def test_after_the_move_the_next_crawl_finds_the_column_again(world_run):
    server, second = world_run["server"], world_run["second"]
    base = server.base_url
    assert world_run["old_hits_in_second"] == 1  # the stored column was tried once, and answered 404
    assert server.site(MOVE_EPOCH).routes.get(OLD) is None and server.hits[NEW] >= 1
    assert second["status"] == "ok" and second["failed"] == 0, second
    with Archive(world_run["db"]) as archive:
        new, old = archive.columns.history(PORTAL)
        listed = archive.conn.execute(
            "SELECT DISTINCT listing_url FROM listing_entries WHERE portal_id = ? AND last_listed_run = "
            "(SELECT max(run_id) FROM crawl_portal_status WHERE portal_id = ?)",
            (PORTAL, PORTAL),
        ).fetchall()
    assert (old.url, old.gone_reason, old.superseded_by) == (base + OLD, "http_404", new.id)
    assert (new.url, new.how, new.link_text) == (base + NEW, "rediscovered", "政府信息公开工作年度报告")
    assert f'href="{NEW}">政府信息公开工作年度报告<' in server.site(MOVE_EPOCH).routes[
        new.found_from.removeprefix(base)
    ].body.decode()
    assert new.last_ok_at is not None and new.gone_at is None
    # This run's listing pages are the new column's (page 1 and, as walked, the next ones).
    assert {row[0].split("?")[0] for row in listed} == {base + NEW}


def test_the_reports_are_archived_again_without_a_duplicate(world_run):
    after = reports(world_run["db"])
    assert after == world_run["before"] and len(after) == len(set(after))
    assert len(after) == len(world_run["server"].expected(PORTAL))


def test_exactly_one_column_moved_alert_is_queued(world_run):
    server, db, registry = world_run["server"], world_run["db"], world_run["registry"]
    outcome = check(db, registry)
    (alert,) = moved_alerts(db)
    assert alert.title == "【年报栏目地址已变更】重庆市大渡口区人民政府（复制站）"
    assert server.base_url + OLD in alert.body and server.base_url + NEW in alert.body
    assert "404" in alert.body and "政府信息公开工作年度报告" in alert.body
    # The move is crawler health, not a verdict: every report of the portal is on time.
    assert {r.decision.status for r in outcome.summary.deadlines} <= {"on_time", "late"}
    check(db, registry)  # the same move again: nothing new is queued
    assert len(moved_alerts(db)) == 1 and moved_alerts(db)[0].delivery_status == alert.delivery_status


def test_the_next_crawl_uses_the_stored_column(world_run):
    server, db = world_run["server"], world_run["db"]
    old_hits = server.hits[OLD]
    third = crawl(db, world_run["registry"])
    assert third["status"] == "ok" and server.hits[OLD] == old_hits, third
    with Archive(db) as archive:
        assert len(archive.columns.history(PORTAL)) == 2
    check(db, world_run["registry"])
    assert len(moved_alerts(db)) == 1


# --- a column that cannot be found again -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def lost(tmp_path_factory):
    """大渡口 never published its government's 2025 report. Crawl 1 ran before that report's deadline (its start
    moved back in the archive to 2026-01-01). Then, after the deadline, three copies of that archive crawl on:
    `control` with the column as it was; `gone` after the move, when no page links the new column (the old list
    answers 404); `lost` (the main archive) when moreover the old column's URL lists other documents."""
    tmp = tmp_path_factory.mktemp("lost")
    with ReplicaServer() as server:
        server.published = [p for p in server.published if (p.portal, p.agency.name, p.year) != (PORTAL, GOVERNMENT, 2025)]
        registry = one_portal_registry(server, tmp)
        db = tmp / "lost.db"
        assert crawl(db, registry)["status"] == "ok"
        with Archive(db) as archive:
            archive.conn.execute("UPDATE crawl_runs SET started_at = '2026-01-01T00:00:00Z'")
        control = tmp / "control.db"
        shutil.copy(db, control)
        shutil.copytree(tmp / "lost-documents", tmp / "control-documents")
        assert crawl(control, registry)["status"] == "ok"

        gone = tmp / "gone.db"
        shutil.copy(db, gone)
        shutil.copytree(tmp / "lost-documents", tmp / "gone-documents")

        server.set_epoch(MOVE_EPOCH)
        site = server.site()
        menu_link = f'<li><a href="{NEW}">政府信息公开工作年度报告</a></li>'
        for path, resource in list(site.routes.items()):
            if path.startswith("/dadukou/") and menu_link.encode() in resource.body:
                site.routes[path] = Resource(resource.body.replace(menu_link.encode(), b""), resource.content_type)
        gone_summary = crawl(gone, registry)  # the old list answers 404, and nothing links the new one
        entries = "".join(
            f'<li><a href="/dadukou/other/{n}.html">重庆市大渡口区某委员会{year}年政府信息公开工作年度报告</a></li>'
            for n, year in enumerate((2024, 2025))
        )
        site.routes[OLD] = Resource(f"<html><body><ul>{entries}</ul></body></html>".encode())
        lost = crawl(db, registry)
        yield {
            "server": server,
            "registry": registry,
            "db": db,
            "control": control,
            "summary": lost,
            "gone": gone,
            "gone_summary": gone_summary,
        }


def _verdict(db: Path, registry: Path):
    outcome = check(db, registry)
    return next(r.decision for r in outcome.summary.deadlines if (r.agency.name, r.decision.year) == (GOVERNMENT, 2025))


def test_with_its_column_in_place_the_unpublished_report_is_missing(lost):
    """The control: the same archive and portal, the column where it was: the absence is proven."""
    assert _verdict(lost["control"], lost["registry"]).status == "missing"


def test_a_column_that_cannot_be_found_again_gives_unverified_not_missing(lost):
    summary, db = lost["summary"], lost["db"]
    assert summary["status"] == "partial" and summary["listing_pages"] == [], summary
    assert [f["reason"] for f in summary["failures"] if f["role"] == "column"] == ["column_lost"], summary
    decision = _verdict(db, lost["registry"])
    assert decision.status == "unverified" and decision.reason == "crawl_failed", decision
    with Archive(db) as archive:
        (column,) = archive.columns.history(PORTAL)  # nothing else was found: the old one stays
        assert column.url == lost["server"].base_url + OLD and column.gone_at is None
        assert not archive.alerts.in_state("health", "column_moved")
        assert not archive.alerts.in_state("deadline", "missing")


def test_a_moved_column_whose_new_place_nobody_links_gives_unverified_not_missing(lost):
    summary, db = lost["gone_summary"], lost["gone"]
    assert summary["status"] == "unreachable", summary
    assert {(f["reason"], f["detail"]) for f in summary["failures"]} == {("http_error", "404")}, summary
    decision = _verdict(db, lost["registry"])
    assert decision.status == "unverified" and decision.reason == "crawl_failed", decision
    with Archive(db) as archive:
        (column,) = archive.columns.history(PORTAL)
        assert column.url == lost["server"].base_url + OLD and column.gone_at is None  # tried again next time
        assert not archive.alerts.in_state("health", "column_moved")
        assert not archive.alerts.in_state("deadline", "missing")


def test_a_declared_column_that_moves_is_found_again_and_not_taken_up_again(tmp_path):
    """home_url beside a start_url: the registry's column is crawled until it answers 404, then the one found from
    the home page, also on the next crawls while the registry still names the old one."""
    with ReplicaServer() as server:
        registry = one_portal_registry(server, tmp_path)
        data = yaml.safe_load(registry.read_text(encoding="utf-8"))
        data["portals"][0]["start_url"] = server.base_url + OLD
        registry.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        db = tmp_path / "declared.db"
        assert crawl(db, registry)["status"] == "ok"
        with Archive(db) as archive:
            (declared,) = archive.columns.history(PORTAL)
        assert (declared.url, declared.how, declared.found_from) == (server.base_url + OLD, "declared", None)

        server.set_epoch(MOVE_EPOCH)
        assert crawl(db, registry)["status"] == "ok"
        old_hits = server.hits[OLD]
        assert crawl(db, registry)["status"] == "ok" and server.hits[OLD] == old_hits
        with Archive(db) as archive:
            new, old = archive.columns.history(PORTAL)
        assert (old.how, old.gone_reason) == ("declared", "http_404")
        assert (new.how, new.url) == ("rediscovered", server.base_url + NEW)
        check(db, registry)
        assert len(moved_alerts(db)) == 1
