"""Expected reporters learned from history: an agency the archive saw publish on a portal (crawl --url, or a
department listed in a government's column) is expected in the years after, with its kind from its name."""

import json
from datetime import date

from support.alerting import record_crawl
from support.shared import expected_for, seed_paths

from crawler.ingest import ingest
from crawler.model import IncomingDocument
from crawler.monitor.checks import run_checks
from crawler.registry import parse_registry
from storage import Archive

PORTAL = "url:127.0.0.1:8123"  # what `xxgk crawl --url http://127.0.0.1:8123/…` names its portal
LISTING = "http://127.0.0.1:8123/zwgk/nb/index.html"
OFFICE = "某县人民政府办公室"  # a government's office: a department, whatever --kind said
COUNTY = "某县人民政府"


def report(archive, agency: str, year: int, published: str, portal: str, listing: str, kind: str = "government"):
    """A report as `crawl --url` files it (its --kind defaults to government), and the listing entry that showed it."""
    seed = seed_paths()[0]
    url = listing.rsplit("/", 1)[0] + f"/{agency}-{year}.html"
    ingest(
        archive,
        IncomingDocument(
            seed.read_bytes(), url=url, agency=agency, year=year, kind=kind, published_at=published,
            published_source="visible", portal_id=portal,
        ),
    )  # fmt: skip
    return url


def crawled(archive, portal: str, listing: str, entries: list[str], started_at: str) -> None:
    run = record_crawl(archive, portal, [listing], started_at=started_at)
    archive.documents.mark_listed(portal, run, [(u, listing, "年度报告") for u in entries], now=started_at)


def test_an_agency_archived_for_2021_is_expected_for_2022_with_its_kind_from_its_name(tmp_path):
    with Archive(tmp_path / "x.db") as archive:
        urls = [report(archive, OFFICE, 2021, "2022-01-20", PORTAL, LISTING)]
        urls.append(report(archive, COUNTY, 2021, "2022-03-20", PORTAL, LISTING, kind="department"))
        crawled(archive, PORTAL, LISTING, urls, "2023-04-05T02:00:00Z")  # after both 2022 deadlines
        summary = run_checks(archive, parse_registry({"portals": []}), date(2023, 4, 10), capture=None)

        got = {(r.agency.name, r.decision.year): r for r in summary.deadlines}
        assert sorted(got) == sorted([(OFFICE, 2021), (OFFICE, 2022), (COUNTY, 2021), (COUNTY, 2022)])
        assert {r.expectation for r in got.values()} == {"observed"}
        assert (got[OFFICE, 2021].decision.status, got[COUNTY, 2021].decision.status) == ("on_time", "on_time")

        office = archive.deadlines.get(OFFICE, 2022)
        assert (office["status"], office["expectation"], office["deadline"]) == ("missing", "observed", "2023-01-31")
        basis = json.loads(office["basis"])
        assert (basis["kind"], basis["kind_source"]) == ("department", "name")
        assert basis["listing_known_by"] == ["archive"] and basis["other_years"] == [2021]  # the portal is unverified
        assert json.loads(office["pages_checked"]) == [LISTING]
        county = archive.deadlines.get(COUNTY, 2022)
        assert (county["status"], county["deadline"]) == ("missing", "2023-03-31")  # a government: Mar 31
        assert got[OFFICE, 2022].listing_url == LISTING  # where its reports were listed

        kinds = archive.conn.execute("SELECT name, kind, kind_source FROM agencies ORDER BY name").fetchall()
        assert [tuple(r) for r in kinds] == [(COUNTY, "government", "name"), (OFFICE, "department", "name")]
        summary_kind = archive.conn.execute("SELECT kind FROM report_summary WHERE agency = ?", (OFFICE,)).fetchone()
        assert summary_kind[0] == "department"  # the reports' copy follows


def test_not_yet_due_or_not_yet_crawled_is_no_accusation(tmp_path):
    with Archive(tmp_path / "x.db") as archive:
        url = report(archive, OFFICE, 2021, "2022-01-20", PORTAL, LISTING)
        crawled(archive, PORTAL, LISTING, [url], "2022-06-01T02:00:00Z")  # before the 2022 report's deadline
        summary = run_checks(archive, parse_registry({"portals": []}), date(2023, 4, 10), capture=None)
        (later,) = [r for r in summary.deadlines if r.decision.year == 2022]
        assert (later.decision.status, later.decision.reason) == ("unverified", "never_crawled")
        assert (
            run_checks(archive, parse_registry({"portals": []}), date(2022, 12, 1), capture=None).deadline_counts()[
                "missing"
            ]
            == 0
        )


def test_a_department_found_in_a_governments_column_and_files_without_a_portal(tmp_path):
    """The registry declares only the government; its column also lists the 教育局's reports. An imported file
    (no portal) makes no expected reporter: there is no listing to look at."""
    listing = "http://127.0.0.1:9/jiaxing/nb/index.html"
    registry = parse_registry(
        {
            "portals": [
                {
                    "id": "jiaxing",
                    "name": "嘉兴市人民政府",
                    "cms": "generic",
                    "start_url": listing,
                    "domains": ["127.0.0.1"],
                    "verified": True,
                    "agencies": [{"name": "嘉兴市人民政府", "kind": "government", "first_year": 2022}],
                }
            ]
        }
    )
    seed = next(p for p in seed_paths() if expected_for(p)["agency"].startswith("嘉兴"))
    with Archive(tmp_path / "x.db") as archive:
        urls = [report(archive, "嘉兴市教育局", 2021, "2022-01-25", "jiaxing", listing, kind=None)]
        urls.append(report(archive, "嘉兴市人民政府", 2022, "2023-01-25", "jiaxing", listing))
        ingest(archive, IncomingDocument(seed.read_bytes(), url="file:///tmp/a.txt", agency="嘉兴市民政局", year=2021))
        crawled(archive, "jiaxing", listing, urls, "2023-02-05T02:00:00Z")
        summary = run_checks(archive, registry, date(2023, 2, 10), capture=None)
        got = {(r.agency.name, r.decision.year): (r.expectation, r.decision.status) for r in summary.deadlines}
        assert got == {
            ("嘉兴市人民政府", 2022): ("declared", "on_time"),
            ("嘉兴市教育局", 2021): ("observed", "on_time"),
            ("嘉兴市教育局", 2022): ("observed", "missing"),  # verified column walked after Jan 31: missing
        }
