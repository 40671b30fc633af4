"""The archive on real SQLite files: seeds and the real PDF in, numbers out, nothing duplicated or lost."""

from __future__ import annotations

import hashlib
import json
import sqlite3 as stdlib_sqlite3
from pathlib import Path

import pytest
from support.shared import ROOT, expected_for, seed_paths

from crawler.ingest import ingest, store_document, stored_parsed
from crawler.model import Finding, HttpMeta, IncomingDocument
from crawler.registry import load_registry
from storage import Archive
from storage.db import sqlite3
from storage.schema import LATEST, user_version

TABLES_WITH_ROWS = (
    "reports",
    "cells",
    "documents",
    "document_urls",
    "report_versions",
    "report_texts",
    "findings",
    "agencies",
)


def counts(archive: Archive) -> dict[str, int]:
    return {t: archive.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES_WITH_ROWS}


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "xxgk.db") as a:
        yield a


@pytest.fixture
def filled(archive, real_pdf):
    """The five seeds and the real PDF, archived once."""
    results = [
        ingest(archive, IncomingDocument(p.read_bytes(), url=f"https://example.gov.cn/nb/{p.name}"))
        for p in [*seed_paths(), real_pdf]
    ]
    assert [r.status for r in results] == ["new"] * 6
    return archive


def test_seeds_and_real_pdf_keep_their_exact_cells(filled, real_pdf):
    for path in [*seed_paths(), real_pdf]:
        expected = expected_for(path)
        stored = filled.reports.for_agency_year(expected["agency"], expected["year"])
        assert stored is not None, path.name
        assert stored.template == expected["template"]
        assert stored.parse_status == "ok"
        # Every key, every value, and absent keys stay absent (the Zibo seed is truncated).
        assert {k: c.value for k, c in filled.reports.cells(stored.id).items()} == expected["cells"]
        # The original is in the store under its hash, byte for byte.
        data = path.read_bytes()
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert filled.store.read(stored.sha256) == data


def test_key_figures_are_sums_of_the_template_cells(filled, real_pdf):
    cells = expected_for(real_pdf)["cells"]
    stored = filled.reports.for_agency_year("淮安市人民政府", 2024)
    refused = sum(v for k, v in cells.items() if k.startswith("applications.refused.") and k.endswith(".total"))
    assert stored.figures["new_requests"] == cells["applications.new.total"] == 3119
    assert stored.figures["refused"] == refused
    assert stored.figures["lawsuits"] == cells["litigation_direct.total"] + cells["litigation_after_review.total"]
    summary = filled.conn.execute("SELECT * FROM report_summary WHERE report_id = ?", (stored.id,)).fetchone()
    assert (summary["agency"], summary["year"], summary["new_requests"], summary["reviews"]) == (
        "淮安市人民政府",
        2024,
        3119,
        cells["review.total"],
    )
    # Jiaxing printed most cells blank: a figure over blank cells is unknown, not zero.
    jiaxing = filled.reports.for_agency_year("嘉兴市人民防空办公室", 2021)
    jiaxing_cells = filled.reports.cells(jiaxing.id)
    assert jiaxing_cells["applications.refused.state_secret.total"].value is None
    assert jiaxing.figures["refused"] is None or jiaxing.figures["refused"] == sum(
        c.value
        for k, c in jiaxing_cells.items()
        if k.startswith("applications.refused.") and k.endswith(".total") and c.value is not None
    )


def test_importing_twice_duplicates_nothing(filled, real_pdf):
    before = counts(filled)
    last_seen = {r.id: r.last_seen for r in filled.reports.list()}
    again = [
        ingest(
            filled,
            IncomingDocument(
                p.read_bytes(),
                url=f"https://example.gov.cn/nb/{p.name}",
                http=HttpMeta(fetched_at="2099-01-01T00:00:00Z"),
            ),
        )
        for p in [*seed_paths(), real_pdf]
    ]
    assert {r.status for r in again} == {"unchanged"}
    assert counts(filled) == before
    assert all(r.last_seen == "2099-01-01T00:00:00Z" != last_seen[r.id] for r in filled.reports.list())
    # The same bytes under another URL are one stored file, and still the same report.
    seed = seed_paths()[0]
    other = ingest(filled, IncomingDocument(seed.read_bytes(), url="https://mirror.example.gov.cn/copy.txt"))
    assert other.status == "unchanged" and not other.document.is_new
    assert counts(filled)["documents"] == before["documents"]
    assert counts(filled)["document_urls"] == before["document_urls"] + 1


def test_changed_document_becomes_a_new_version(archive):
    seed = seed_paths()[1]
    text = seed.read_text(encoding="utf-8")
    first = ingest(
        archive,
        IncomingDocument(
            text.encode(), url="https://example.gov.cn/a.html", http=HttpMeta(fetched_at="2021-01-25T08:00:00Z")
        ),
    )
    archive.reports.write_findings(first.report_id, [Finding("sum.row_total", "fail", "error", "旧版本的问题")])
    # The agency edits its report after publication: one more sentence at the end.
    edited = (text + "\n（本报告于2021年2月3日更正）\n").encode()
    second = ingest(
        archive,
        IncomingDocument(edited, url="https://example.gov.cn/a.html", http=HttpMeta(fetched_at="2021-02-03T08:00:00Z")),
    )
    assert (first.status, second.status, second.version) == ("new", "changed", 2)
    assert second.report_id == first.report_id
    report = archive.reports.get(first.report_id)
    assert report.version == 2 and report.sha256 == hashlib.sha256(edited).hexdigest()
    assert report.changed_at == "2021-02-03T08:00:00Z" and report.first_seen == "2021-01-25T08:00:00Z"
    versions = archive.conn.execute(
        "SELECT version, sha256 FROM report_versions WHERE report_id = ? ORDER BY version", (first.report_id,)
    ).fetchall()
    assert [v[0] for v in versions] == [1, 2]
    assert "更正" in archive.reports.text(first.report_id)
    assert archive.reports.findings(first.report_id, "checks") == []  # stale check results went with the old version
    assert len(archive.reports.list()) == 1 and len(archive.reports.cells(first.report_id)) == 198
    # The old text turning up again (a stale mirror) is a known version, not a third one.
    assert ingest(archive, IncomingDocument(text.encode(), url="https://example.gov.cn/a.html")).status == "unchanged"
    assert archive.conn.execute("SELECT count(*) FROM report_versions").fetchone()[0] == 2


def test_unreadable_later_version_does_not_hide_the_numbers(archive):
    seed = seed_paths()[0]
    good = ingest(archive, IncomingDocument(seed.read_bytes(), url="https://example.gov.cn/r.txt"))
    bad = ingest(
        archive,
        IncomingDocument(
            b"%PDF-1.7\n truncated", url="https://example.gov.cn/r.pdf", agency=good.agency, year=good.year
        ),
    )
    assert bad.status == "failed_version" and bad.parse_status == "failed" and bad.report_id == good.report_id
    report = archive.reports.get(good.report_id)
    assert report.parse_status == "ok" and report.version == 1 and report.figures["new_requests"] is not None
    statuses = archive.conn.execute(
        "SELECT parse_status FROM report_versions WHERE report_id = ? ORDER BY version", (good.report_id,)
    ).fetchall()
    assert [s[0] for s in statuses] == ["ok", "failed"]


def test_parse_failure_is_kept_with_its_reason(archive):
    result = ingest(
        archive,
        IncomingDocument(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
            url="https://example.gov.cn/scan.png",
            agency="某县人民政府",
            year=2022,
        ),
    )
    assert (result.parse_status, result.parse_reason) == ("failed", "unsupported")
    report = archive.reports.get(result.report_id)
    assert (report.agency, report.year, report.parse_status, report.parse_reason) == (
        "某县人民政府",
        2022,
        "failed",
        "unsupported",
    )
    assert archive.store.path_of(result.document.sha256).exists()
    assert [f.rule for f in archive.reports.findings(result.report_id)] == ["parse.failed"]
    row = archive.conn.execute(
        "SELECT check_status FROM report_summary WHERE report_id = ?", (result.report_id,)
    ).fetchone()
    assert row[0] == "unparsed"


def test_caller_agency_and_year_win_and_both_are_recorded(archive):
    seed = seed_paths()[0]  # 温州市人民防空办公室, 2020
    result = ingest(
        archive,
        IncomingDocument(
            seed.read_bytes(), url="https://example.gov.cn/x.txt", agency="温州市人防办", year=2021, kind="department"
        ),
    )
    report = archive.reports.get(result.report_id)
    assert (report.agency, report.year, report.kind) == ("温州市人防办", 2021, "department")
    row = archive.conn.execute(
        "SELECT agency_parsed, year_parsed FROM reports WHERE id = ?", (result.report_id,)
    ).fetchone()
    assert tuple(row) == ("温州市人民防空办公室", 2020)
    rules = {f.rule for f in archive.reports.findings(result.report_id)}
    assert {"archive.agency_differs", "archive.year_differs"} <= rules


def test_report_first_filed_by_url_moves_to_agency_and_year(archive):
    unknown = ingest(archive, IncomingDocument(b"not a report at all", url="https://example.gov.cn/nb2022.txt"))
    assert unknown.agency is None
    later = ingest(
        archive,
        IncomingDocument(
            b"not a report at all", url="https://example.gov.cn/nb2022.txt", agency="某市人民政府", year=2022
        ),
    )
    assert later.report_id == unknown.report_id and later.status == "unchanged"
    assert (archive.reports.get(unknown.report_id).agency, archive.reports.get(unknown.report_id).year) == (
        "某市人民政府",
        2022,
    )
    assert len(archive.reports.list()) == 1


def test_interrupted_ingest_leaves_no_partial_rows(archive, monkeypatch):
    seed = seed_paths()[0]
    before = counts(archive)

    def crash(*args, **kwargs):
        raise OSError("disk gone mid-write")

    # Fail after the report row and its cells are written, before the findings: all must roll back.
    monkeypatch.setattr(archive.reports, "_insert_findings", crash)
    with pytest.raises(OSError):
        ingest(archive, IncomingDocument(seed.read_bytes(), url="https://example.gov.cn/w.txt"))
    assert counts(archive) == before
    assert (
        archive.conn.execute("SELECT count(*) FROM reports_fts WHERE reports_fts MATCH '\"复议\"'").fetchone()[0] == 0
    )
    monkeypatch.undo()
    # The next run completes the work.
    assert ingest(archive, IncomingDocument(seed.read_bytes(), url="https://example.gov.cn/w.txt")).status == "new"
    assert counts(archive)["cells"] == 198


def test_search_finds_two_and_four_character_terms(filled):
    def agencies(query: str) -> set[str]:
        return {r.agency for r in filled.reports.search(query)}

    everyone = {r.agency for r in filled.reports.list()}
    assert agencies("复议") == everyone  # every report prints the review table
    assert agencies("诉讼") == everyone
    assert agencies("行政复议") == everyone
    assert agencies("淮安") == {"淮安市人民政府"}
    assert agencies("大渡口区") == {"重庆市大渡口区人民防空办公室"}
    assert agencies("人民防空") == everyone - {"淮安市人民政府"}
    assert agencies("淮安 诉讼") == {"淮安市人民政府"}
    assert agencies("渡") == {"重庆市大渡口区人民防空办公室"}
    assert agencies("量子计算") == set()
    assert agencies("") == set()


def test_store_document_and_conditional_fetch_state(archive):
    url = "https://example.gov.cn/nb.pdf"
    assert archive.documents.known(url) is None
    rec = store_document(
        archive,
        IncomingDocument(
            b"%PDF-1.4 fake",
            url=url,
            http=HttpMeta(
                content_type="application/pdf",
                status=200,
                etag='"abc"',
                last_modified="Wed, 03 Feb 2021 08:00:00 GMT",
            ),
        ),
    )
    assert rec.is_new and Path(rec.path).read_bytes() == b"%PDF-1.4 fake" and rec.format == "pdf"
    known = archive.documents.known(url)
    assert (known.etag, known.last_modified, known.sha256) == ('"abc"', "Wed, 03 Feb 2021 08:00:00 GMT", rec.sha256)
    assert not store_document(archive, IncomingDocument(b"%PDF-1.4 fake", url=url)).is_new
    assert archive.documents.mark_seen(url, fetched_at="2030-01-01T00:00:00Z") is True
    assert archive.documents.known(url).last_seen == "2030-01-01T00:00:00Z"
    assert archive.documents.mark_seen("https://example.gov.cn/unknown.pdf") is False


def test_publication_date_prefers_the_best_source(archive):
    seed = seed_paths()[2]
    url = "https://example.gov.cn/zb.txt"
    first = ingest(
        archive,
        IncomingDocument(
            seed.read_bytes(),
            url=url,
            http=HttpMeta(last_modified="Fri, 29 Jan 2021 10:00:00 GMT", fetched_at="2021-03-01T00:00:00Z"),
        ),
    )
    report = archive.reports.get(first.report_id)
    assert (report.published_at, report.published_source) == ("2021-01-29", "last_modified")
    ingest(archive, IncomingDocument(seed.read_bytes(), url=url, published_at="2021-01-27", published_source="visible"))
    report = archive.reports.get(first.report_id)
    assert (report.published_at, report.published_source) == ("2021-01-27", "visible")
    candidates = json.loads(
        archive.conn.execute("SELECT published_candidates FROM reports WHERE id = ?", (report.id,)).fetchone()[0]
    )
    assert candidates == {"last_modified": "2021-01-29", "first_seen": "2021-03-01", "visible": "2021-01-27"}
    with pytest.raises(ValueError):
        ingest(
            archive, IncomingDocument(seed.read_bytes(), url=url, published_at="2021-01-01", published_source="rumour")
        )


def test_findings_by_scope_and_the_failing_count(filled):
    report = filled.reports.for_agency_year("沈阳市人民防空办公室", 2020)
    parse_findings = filled.reports.findings(report.id, "parse")
    fail = Finding(
        "sum.row_total",
        "fail",
        "error",
        "总计与各列之和不符：6 ≠ 1+2+2",
        ["applications.new.total"],
        {"total": 6, "sum": 5},
    )
    ok = Finding("sum.result_rows", "pass", "info", "ok")
    filled.reports.write_findings(report.id, [fail, ok], now="2024-02-01T00:00:00Z")
    filled.reports.write_findings(report.id, [fail, ok], now="2024-02-02T00:00:00Z")  # idempotent
    assert [f.rule for f in filled.reports.findings(report.id, "checks")] == ["sum.row_total", "sum.result_rows"]
    assert filled.reports.get(report.id).failing_checks == 1
    row = filled.conn.execute(
        "SELECT check_status, failing_checks FROM report_summary WHERE report_id = ?", (report.id,)
    ).fetchone()
    assert tuple(row) == ("fail", 1)
    filled.reports.write_findings(report.id, [ok])
    assert filled.reports.get(report.id).failing_checks == 0
    assert (
        filled.conn.execute("SELECT check_status FROM report_summary WHERE report_id = ?", (report.id,)).fetchone()[0]
        == "pass"
    )
    # parse findings are not touched by checks
    assert filled.reports.findings(report.id, "parse") == parse_findings
    with pytest.raises(ValueError):
        filled.reports.write_findings(report.id, [], scope="parse")


def test_stored_parsed_rebuilds_the_report_for_the_checks(filled, real_pdf):
    report = filled.reports.for_agency_year("淮安市人民政府", 2024)
    parsed = stored_parsed(filled, report.id)
    assert parsed.values() == expected_for(real_pdf)["cells"]
    assert parsed.template == "2021" and parsed.year == 2024 and "四" in parsed.sections
    assert "行政复议" in parsed.text


def test_registry_deadlines_evidence_and_runs(filled):
    registry = load_registry()
    filled.agencies.sync_registry(registry)
    filled.agencies.sync_registry(registry)
    agency = filled.conn.execute("SELECT * FROM agencies WHERE name = '温州市人民防空办公室'").fetchone()
    assert (agency["kind"], agency["province"], agency["portal_id"], agency["in_registry"]) == (
        "department",
        "浙江省",
        "wenzhou",
        1,
    )
    assert filled.conn.execute("SELECT count(*) FROM portals WHERE in_registry = 1").fetchone()[0] == len(
        registry.portals
    )

    png = b"\x89PNG\r\n\x1a\n" + b"listing page" * 10
    evidence = filled.deadlines.store_evidence(
        png, url="https://www.zibo.gov.cn/col/nb/", agency="淄博市人民防空办公室", year=2021
    )
    assert (
        filled.deadlines.set(
            "淄博市人民防空办公室",
            2021,
            "missing",
            deadline="2022-01-31",
            evidence_id=evidence,
            pages_checked=["https://www.zibo.gov.cn/col/nb/"],
        )
        is None
    )
    wenzhou = filled.reports.for_agency_year("温州市人民防空办公室", 2020)
    filled.deadlines.set(
        "温州市人民防空办公室",
        2020,
        "late",
        deadline="2021-01-31",
        published_at="2021-02-10",
        days_late=10,
        report_id=wenzhou.id,
    )
    assert (
        filled.deadlines.set(
            "温州市人民防空办公室", 2020, "late", deadline="2021-01-31", days_late=10, report_id=wenzhou.id
        )
        == "late"
    )
    with pytest.raises(ValueError):
        filled.deadlines.set("温州市人民防空办公室", 2020, "lost", deadline="2021-01-31")
    assert filled.conn.execute(
        "SELECT deadline_status, days_late FROM report_summary WHERE report_id = ?", (wenzhou.id,)
    ).fetchone()[:] == ("late", 10)
    stored = filled.conn.execute(
        "SELECT d.sha256, d.content_type FROM evidence e JOIN documents d ON d.sha256 = e.sha256 WHERE e.id = ?",
        (evidence,),
    ).fetchone()
    assert filled.store.read(stored[0]) == png and stored[1] == "image/png"

    run = filled.runs.start("crawl", {"portals": ["zibo", "adhoc"]})
    filled.runs.record_portal(run, "zibo", "unreachable", "timeout")
    filled.runs.record_portal(run, "adhoc", "ok", pages=3, documents=2, reports=1)  # not in the registry
    filled.runs.record_portal(run, "zibo", "unreachable", "connection refused")
    filled.runs.finish(run, "partial", pages=3, documents=2, reports=1, errors=1)
    assert [h["error"] for h in filled.runs.history("zibo")] == ["connection refused"]
    assert filled.conn.execute("SELECT status FROM crawl_runs WHERE id = ?", (run,)).fetchone()[0] == "partial"


def test_alert_is_delivered_once_again_on_change_and_retried_on_failure(archive):
    a = archive.alerts.upsert(
        "fp1", kind="deadline", state="missing", tags=["deadline", "浙江省"], title="未发布", agency="某局", year=2021
    )
    assert a.needs_delivery and a.tags == ["deadline", "浙江省"]
    archive.alerts.record_delivery([a.id], ok=False, error="HTTP 502")
    assert archive.alerts.get("fp1").delivery_status == "failed" and archive.alerts.get("fp1").attempts == 1
    assert [p.fingerprint for p in archive.alerts.pending()] == ["fp1"]
    assert archive.alerts.pending(max_attempts=1) == []
    archive.alerts.record_delivery([a.id], ok=True, digest="run-2")
    assert archive.alerts.pending() == []
    # The same state on the next run: nothing to send.
    assert not archive.alerts.upsert("fp1", kind="deadline", state="missing").needs_delivery
    # A change of state is news: late → published.
    changed = archive.alerts.upsert("fp1", kind="deadline", state="published")
    assert changed.needs_delivery and changed.sent_state == "missing" and changed.attempts == 0
    # …and if it flips back before anyone was told, there is nothing new to tell.
    assert not archive.alerts.upsert("fp1", kind="deadline", state="missing").needs_delivery
    log = archive.conn.execute("SELECT ok, error, digest FROM alert_deliveries ORDER BY id").fetchall()
    assert [tuple(r) for r in log] == [(0, "HTTP 502", None), (1, None, "run-2")]


def test_migration_from_version_1_keeps_the_data(tmp_path):
    """A v1 archive (created with the v1 SQL, before search existed) opened by the current code."""
    db = tmp_path / "old.db"
    sql = (ROOT / "storage" / "migrations" / "0001_initial.sql").read_text(encoding="utf-8")
    conn = stdlib_sqlite3.connect(db)
    conn.executescript(sql)
    conn.executescript(
        """
        PRAGMA user_version = 1;
        INSERT INTO agencies(id, name, kind, province) VALUES (1, '某市人民政府', 'government', '江苏省');
        INSERT INTO documents(sha256, bytes, path, link, stored_at) VALUES ('ab', 3, 'ab/ab/ab', '/-/original/ab', '2021-01-01T00:00:00Z');
        INSERT INTO cell_keys(id, key, section, row, col, kind, label, templates)
            VALUES (900, 'applications.new.total', 'applications', 'applications.new', 'total', 'count', '新收', '2019');
        INSERT INTO reports(id, identity, agency_id, year, title, source_url, sha256, first_seen, last_seen, changed_at, parse_status, new_requests)
            VALUES (1, 'agency:1:2020', 1, 2020, '某市人民政府2020年政府信息公开工作年度报告', 'https://x.gov.cn/1.pdf', 'ab',
                    '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z', 'ok', 42);
        INSERT INTO report_texts(report_id, full_text) VALUES (1, '本年度收到行政复议申请3件。');
        INSERT INTO cells(report_id, key_id, value, raw) VALUES (1, 900, 42, '42');
        """
    )
    conn.commit()
    conn.close()

    with Archive(db) as archive:
        assert user_version(archive.conn) == LATEST
        report = archive.reports.for_agency_year("某市人民政府", 2020)
        assert report.figures["new_requests"] == 42 and report.kind == "government"
        assert archive.reports.cells(report.id)["applications.new.total"].value == 42
        assert [r.id for r in archive.reports.search("复议")] == [1]  # backfilled into the new search index
        assert [r.id for r in archive.reports.search("人民政府")] == [1]
        assert archive.conn.execute("SELECT agency, new_requests FROM report_summary").fetchone()[:] == (
            "某市人民政府",
            42,
        )
    with Archive(db) as archive:  # opening again migrates nothing
        assert user_version(archive.conn) == LATEST and len(archive.reports.list()) == 1


def test_the_checks_per_portal_count_reads_an_index_not_the_reports_table(filled):
    """`xxgk check` asks it once per registry portal: as a scan it was two thirds of the check at 3,000 portals."""
    asked: list[str] = []
    filled.conn.set_trace_callback(asked.append)
    filled.reports.count_for_portal("shenyang")
    filled.conn.set_trace_callback(None)
    (sql,) = asked
    plan = " ".join(r[-1] for r in filled.conn.execute("EXPLAIN QUERY PLAN " + sql.replace("'shenyang'", "?"), ("x",)))
    assert "USING COVERING INDEX reports_portal" in plan, plan


def test_database_is_wal_with_foreign_keys(archive):
    assert archive.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError):
        archive.conn.execute("INSERT INTO cells(report_id, key_id, value, raw) VALUES (999, 1, 1, '1')")
    problems = archive.conn.execute("PRAGMA foreign_key_check").fetchall()
    assert problems == []
