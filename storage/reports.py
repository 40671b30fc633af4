"""Reports: one row per agency and year (or per URL while those are unknown), its versions, cells, findings
and text. `write()` is the archive's half of ingesting a document; the parse and the rules ran before it
(crawler.ingest), so this module stores and never reads or judges a document."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from crawler.model import PUBLISHED_SOURCES, CellValue, Finding, IncomingDocument, ParsedReport
from storage.agencies import AGENCY_COPIES, Agencies
from storage.clock import http_date, utcnow
from storage.db import placeholders, sqlite3, transaction
from storage.documents import Documents
from storage.figures import FIGURES, key_figures
from storage.records import IngestResult, ReportWrite, StoredReport
from storage.search import fts_query, index_text
from storage.store import StoredFile

PARSE_SCOPE = "parse"


def _check_status(r: str) -> str:
    """check_status from the row `r`'s parse status, failing count and check time (see 0003_facets.sql)."""
    return (
        f"CASE WHEN {r}.parse_status = 'failed' THEN 'unparsed' WHEN {r}.failing_checks > 0 THEN 'fail' "
        f"WHEN {r}.checked_at IS NULL THEN 'unchecked' ELSE 'pass' END"
    )


# The facet copies on a report row: the agency's columns and its deadline decision for the year.
_FACETS = (*AGENCY_COPIES, "deadline", "deadline_status", "days_late", "check_status")
_FACET_VALUES = (
    *(f"a.{theirs}" for theirs in AGENCY_COPIES.values()),
    "d.deadline",
    "coalesce(d.status, 'unchecked')",
    "d.days_late",
)
_FACETS_FROM = """
LEFT JOIN agencies a ON a.id = {r}.agency_id
LEFT JOIN deadline_status d ON d.agency_id = {r}.agency_id AND d.year = {r}.year
"""
_REFRESH_FACETS = (
    "UPDATE reports SET "
    + ", ".join(f"{c} = {v}" for c, v in zip(_FACETS, (*_FACET_VALUES, _check_status("r")), strict=True))
    + " FROM reports r"
    + _FACETS_FROM.format(r="r")
    + "WHERE r.id = reports.id AND reports.id = ?"
)
# What one version sets on its report row: the changed report's UPDATE and the new report's INSERT.
_VERSION_COLUMNS = (
    "agency_id", "year", "agency_parsed", "year_parsed", "title", "source_url", "page_url", "portal_id", "sha256",
    "format", "template", "pages", "signed_date", "changed_at", "version", "parse_status", "parse_reason",
    "parse_message", "cells_count", *FIGURES,
)  # fmt: skip
_REPLACE_VERSION = (
    "UPDATE reports SET "
    + ", ".join(f"{c}=coalesce(?, {c})" if c == "portal_id" else f"{c}=?" for c in _VERSION_COLUMNS)
    + " WHERE id=?"
)
# A new report in one statement, facets included: each later UPDATE of an indexed column costs index work.
_NEW_COLUMNS = (
    "identity", "published_at", "published_source", "published_candidates", "first_seen", "last_seen",
    "failing_checks", "checked_at", *_VERSION_COLUMNS,
)  # fmt: skip
_INSERT_NEW = (
    f"INSERT INTO reports({', '.join(_NEW_COLUMNS)}, {', '.join(_FACETS)}) "
    f"SELECT {', '.join(f'v.{c}' for c in _NEW_COLUMNS)}, {', '.join(_FACET_VALUES)}, {_check_status('v')} "
    f"FROM (SELECT {', '.join(f'? AS {c}' for c in _NEW_COLUMNS)}) v" + _FACETS_FROM.format(r="v")
)
_INSERT_CELLS = "INSERT INTO cells(report_id, key_id, value, raw, unit) VALUES (?, ?, ?, ?, ?)"
_INSERT_FINDINGS = (
    "INSERT INTO findings(report_id, scope, rule, status, severity, message, cells, data, fingerprint, found_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_REPORT_SELECT = "SELECT r.*, r.agency_name AS agency FROM reports r"
# Every URL a report was read from or linked by, and every URL its versions' bytes were fetched at: a listing may
# show any of them. Gone is judged on where it was last seen (reports.page_url, source_url: see _relocate).
# Bytes that are the version of several reports (a portal's placeholder file, one PDF posted by two agencies)
# cannot say whose a URL is, and joined by content they made reports × URLs rows: 54 million, 5 GB and six
# minutes over the national replay, where 51 files are each 1,500 reports' PDF.
_LISTED = """
WITH own(report_id, sha256) AS (
    SELECT min(report_id), sha256 FROM report_versions GROUP BY sha256 HAVING count(DISTINCT report_id) = 1
),
urls(report_id, url) AS (
    SELECT id, page_url FROM reports WHERE page_url IS NOT NULL
    UNION SELECT id, source_url FROM reports
    UNION SELECT report_id, source_url FROM report_versions
    UNION SELECT o.report_id, d.url FROM own o JOIN document_urls d ON d.sha256 = o.sha256
)
SELECT u.report_id, e.url, e.portal_id, e.listing_url, max(e.last_listed_run) AS listed_run
FROM urls u JOIN listing_entries e ON e.url = u.url GROUP BY u.report_id
"""
_GONE = """
SELECT r.id AS report_id, d.url, d.gone_status, max(d.gone_at) AS gone_at
FROM reports r JOIN document_urls d ON d.url IN (r.page_url, r.source_url)
WHERE d.gone_at IS NOT NULL GROUP BY r.id
"""
_PORTAL_RUNS = """
SELECT s.run_id, r.started_at, s.status, s.listing_complete,
       coalesce(json_array_length(s.listing_pages), 0) > 0 AS listed_any,
       coalesce(json_extract(r.options, '$.recheck'), 0) AS full_walk
FROM crawl_portal_status s JOIN crawl_runs r ON r.id = s.run_id
WHERE s.portal_id = ? AND s.run_id > ? ORDER BY s.run_id
"""


@dataclass(frozen=True)
class ReportVersion:
    """One version of a report (a distinct document), with its cells and text."""

    report_id: int
    version: int
    sha256: str
    source_url: str
    seen_at: str
    parse_status: str
    title: str | None
    template: str | None
    figures: dict[str, Any]
    current: bool
    cells: dict[str, CellValue] | None  # None: superseded before migration 7, when a version's cells were dropped
    text: str | None


@dataclass(frozen=True)
class ListingRun:
    """One crawl of a portal, as far as it can show that a report is no longer listed."""

    run_id: int
    started_at: str
    status: str  # the portal's status in that run (ok, partial, unreachable, …)
    listing_complete: bool | None  # the listing was walked to its end (None: unknown, or still running)
    full_walk: bool  # every list page was walked: a --recheck run, where no all-archived page ends the walk early
    listed_any: bool  # some list page of the portal showed report entries in that run


@dataclass(frozen=True)
class ReportPresence:
    """Where a report stands on its portal: the latest crawl whose listing showed it, whether one of its URLs
    answers 404/410, and the portal's crawls since it was last listed."""

    report_id: int
    portal_id: str | None
    last_seen: str  # when the report's document was last fetched (a 200 or a 304)
    listed_url: str | None  # the entry URL the listing showed
    listing_url: str | None  # the list page it was last shown on
    listed_run: int | None  # the latest run whose listing showed it (None: no listing ever did)
    gone_url: str | None
    gone_status: int | None
    gone_at: str | None
    runs: tuple[ListingRun, ...]  # the portal's runs after listed_run, oldest first


class _ReportRow:
    """One document's contribution to a report row, computed before the transaction starts."""

    def __init__(self, *, parsed: ParsedReport | None, failure: tuple[str, str] | None, **columns: Any):
        self.parsed = parsed
        self.failure = failure
        self.__dict__.update(columns)
        self.figures = key_figures(parsed.values(), parsed.template) if parsed else dict.fromkeys(FIGURES)


class Reports:
    def __init__(self, conn: sqlite3.Connection, documents: Documents, agencies: Agencies, key_ids: dict[str, int]):
        self.conn = conn
        self.documents = documents
        self.agencies = agencies
        self._key_ids = key_ids

    # --- writing ----------------------------------------------------------------------------
    def write(self, w: ReportWrite) -> IngestResult:
        """Store the original, then in one transaction: what the URL served, the report row and its version,
        its cells, text and the parse-scope findings. (storage/batch.py writes many in one transaction.)

        The same bytes again only update last_seen; new bytes for the same report (agency+year, or URL while
        those are unknown) become a new version. A file that failed to parse is kept with its reason.
        """
        stored = self.documents.put(w.doc.data)  # on disk before the rows that point at it
        with self.forgetting_on_error(), transaction(self.conn):
            return self.write_stored(w, stored)

    def search_entry(self, w: ReportWrite) -> tuple[str, str]:
        """What the search index will hold for `w` (title, body): CPU work that needs no transaction."""
        return _search_entry(_title(w), w.parsed.text if w.parsed else "")

    @contextmanager
    def forgetting_on_error(self) -> Iterator[None]:
        """Around a transaction or savepoint: cell keys it added are forgotten if it rolls back."""
        known = len(self._key_ids)
        try:
            yield
        except BaseException:
            for key in list(self._key_ids)[known:]:
                del self._key_ids[key]
            raise

    def write_stored(
        self, w: ReportWrite, stored: StoredFile, *, search: tuple[str, str] | None = None
    ) -> IngestResult:
        """write() for a document already in the store (inside the caller's transaction); `search`: its
        search_entry(), computed before the transaction (a batch does, to hold the write lock for less)."""
        doc, fmt, parsed, failure, findings = w.doc, w.fmt, w.parsed, w.failure, w.findings
        http = doc.http
        seen_at = http.fetched_at or utcnow()
        agency_name = doc.agency or (parsed.agency if parsed else None)
        report_year = doc.year or (parsed.year if parsed else None)
        candidates = _date_candidates(doc)

        self.documents.record(stored, fmt, doc.url, http, seen_at)
        if doc.portal_id:
            self.agencies.ensure_portal(doc.portal_id)
        agency_id = self.agencies.id_for(agency_name, doc.kind)
        identity = f"agency:{agency_id}:{report_year}" if agency_id and report_year else f"url:{doc.url}"
        existing = self._find(identity, doc.url, agency_id, report_year)
        row = _ReportRow(
            agency_id=agency_id,
            year=report_year,
            agency_parsed=parsed.agency if parsed else None,
            year_parsed=parsed.year if parsed else None,
            title=_title(w),
            source_url=doc.url,
            page_url=doc.page_url,
            portal_id=doc.portal_id,
            sha256=stored.sha256,
            format=fmt,
            parsed=parsed,
            failure=failure,
            search=search,
        )
        if existing is None:
            report_id = self._insert(identity, row, candidates, seen_at, findings)
            status, version = "new", 1
        else:
            report_id, version = existing["id"], existing["version"]
            self._touch(existing, candidates, seen_at)
            seen_version = self.conn.execute(
                "SELECT version FROM report_versions WHERE report_id = ? AND sha256 = ?", (report_id, stored.sha256)
            ).fetchone()
            if seen_version is not None:
                status = "unchanged"
                if stored.sha256 == existing["sha256"]:
                    self._relocate(report_id, doc.url, doc.page_url)
            else:
                new_version = self._add_version(report_id, row, seen_at)
                if failure and existing["parse_status"] == "ok":
                    # A later file that cannot be read is kept as a version, but does not hide the
                    # numbers of the one that could.
                    status = "failed_version"
                else:
                    self._replace(report_id, row, new_version, seen_at)
                    status, version = "changed", new_version
            if status == "changed":
                self._write_parse_findings(report_id, findings, seen_at)
            self._refresh_facets(report_id)

        return IngestResult(
            report_id=report_id,
            status=status,
            version=version,
            document=self.documents.known(doc.url, is_new=stored.is_new),
            agency=agency_name,
            year=report_year,
            parse_status="failed" if failure else "ok",
            parse_reason=failure[0] if failure else None,
            parse_message=failure[1] if failure else None,
            parsed=parsed,
        )

    def _find(self, identity: str, url: str, agency_id: int | None, year: int | None) -> Mapping[str, Any] | None:
        """The report this document belongs to. A report first filed under its URL (agency or year
        unknown then) moves to agency+year once they are known, instead of being duplicated."""
        row = self.conn.execute("SELECT * FROM reports WHERE identity = ?", (identity,)).fetchone()
        if row is not None:
            return row
        if identity.startswith("url:"):
            return self.conn.execute(
                "SELECT r.* FROM reports r JOIN report_versions v ON v.report_id = r.id WHERE v.source_url = ? ORDER BY r.id LIMIT 1",
                (url,),
            ).fetchone()
        moved = self.conn.execute(
            "UPDATE reports SET identity = ?, agency_id = ?, year = ? WHERE identity = ?",
            (identity, agency_id, year, f"url:{url}"),
        )
        if moved.rowcount:
            return self.conn.execute("SELECT * FROM reports WHERE identity = ?", (identity,)).fetchone()
        return None

    def _insert(
        self, identity: str, row: _ReportRow, candidates: dict[str, str], seen_at: str, findings: list[Finding]
    ) -> int:
        """A new report: its row complete in one INSERT (facets included), then its version, contents, findings."""
        candidates = {**candidates, "first_seen": seen_at[:10]}
        published_source = _best_source(candidates)
        cur = self.conn.execute(
            _INSERT_NEW,
            (
                identity,
                candidates[published_source],
                published_source,
                json.dumps(candidates),
                seen_at,
                seen_at,
                sum(f.status == "fail" for f in findings),
                seen_at if _checked(findings) else None,
                *_version_values(row, 1, seen_at),
            ),
        )
        report_id = int(cur.lastrowid)
        self._add_version(report_id, row, seen_at, version=1)
        self._write_contents(report_id, row, fresh=True)
        self._insert_findings(report_id, findings, PARSE_SCOPE, seen_at)
        return report_id

    def _touch(self, existing: Mapping[str, Any], candidates: dict[str, str], seen_at: str) -> None:
        """Seen again: last_seen, and publication dates from new sources (earliest date per source kept)."""
        merged = json.loads(existing["published_candidates"] or "{}")
        for source, date in candidates.items():
            merged[source] = min(date, merged.get(source, date))
        best = _best_source(merged)
        self.conn.execute(
            "UPDATE reports SET last_seen = max(last_seen, ?), published_at = ?, published_source = ?, published_candidates = ? WHERE id = ?",
            (seen_at, merged[best], best, json.dumps(merged), existing["id"]),
        )

    def _relocate(self, report_id: int, url: str, page_url: str | None) -> None:
        """The current version found at another URL (a portal that moved its column): the report is where it was
        last seen, so that its link leads there and a 404 of the old URL does not read as a takedown."""
        self.conn.execute(
            "UPDATE reports SET source_url = ?, page_url = coalesce(?, page_url) "
            "WHERE id = ? AND (source_url IS NOT ? OR page_url IS NOT coalesce(?, page_url))",
            (url, page_url, report_id, url, page_url),
        )

    def _add_version(self, report_id: int, row: _ReportRow, seen_at: str, *, version: int | None = None) -> int:
        if version is None:
            version = self.conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM report_versions WHERE report_id = ?", (report_id,)
            ).fetchone()[0]
        # A version that failed to parse has no cells and no text: it is kept (known) from the start.
        self.conn.execute(
            "INSERT INTO report_versions(report_id, version, sha256, source_url, seen_at, parse_status, parse_reason, title, "
            "template, figures, kept, full_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                report_id,
                version,
                row.sha256,
                row.source_url,
                seen_at,
                "failed" if row.failure else "ok",
                row.failure[0] if row.failure else None,
                row.title,
                row.parsed.template if row.parsed else None,
                json.dumps(row.figures),
                int(row.failure is not None),
                "" if row.failure else None,
            ),
        )
        return version

    def _keep_superseded(self, report_id: int, version: int) -> None:
        """Before the report points at `version`, copy the cells and text of the version it points at now into
        version_cells and report_versions.full_text: an edit after publication is shown cell by cell, so the
        numbers it replaced must outlive it. A new report (nothing superseded) copies nothing."""
        current = self.conn.execute("SELECT version FROM reports WHERE id = ?", (report_id,)).fetchone()[0]
        if current == version:
            return
        self.conn.execute(
            "INSERT OR REPLACE INTO version_cells(report_id, version, key_id, value, raw, unit) "
            "SELECT report_id, ?, key_id, value, raw, unit FROM cells WHERE report_id = ?",
            (current, report_id),
        )
        self.conn.execute(
            "UPDATE report_versions SET kept = 1, full_text = coalesce((SELECT full_text FROM report_texts WHERE report_id = ?), '') "
            "WHERE report_id = ? AND version = ?",
            (report_id, report_id, current),
        )

    def _replace(self, report_id: int, row: _ReportRow, version: int, seen_at: str) -> None:
        """Point the report at this version: its columns, cells, text and search entry (the version it pointed at
        keeps its own cells and text, see _keep_superseded)."""
        self._keep_superseded(report_id, version)
        self.conn.execute(_REPLACE_VERSION, (*_version_values(row, version, seen_at), report_id))
        # Findings of every scope were about the previous version's numbers; the checks rerun.
        self.conn.execute("DELETE FROM findings WHERE report_id = ?", (report_id,))
        self._write_contents(report_id, row, fresh=False)

    def _write_contents(self, report_id: int, row: _ReportRow, *, fresh: bool) -> None:
        """The version's cells, text and search entry (`fresh`: a new report, nothing to replace)."""
        p = row.parsed
        if not fresh:
            self.conn.execute("DELETE FROM cells WHERE report_id = ?", (report_id,))
        if p:
            ids = self._key_ids
            self.conn.executemany(
                _INSERT_CELLS,
                [
                    (report_id, ids[c.key] if c.key in ids else self._key_id(c.key), c.value, c.raw, c.unit)
                    for c in p.cells.values()
                ],
            )
        text = p.text if p else ""
        if fresh:
            self.conn.execute("INSERT INTO report_texts(report_id, full_text) VALUES (?, ?)", (report_id, text))
        else:
            self.conn.execute(
                "INSERT INTO report_texts(report_id, full_text) VALUES (?, ?) "
                "ON CONFLICT(report_id) DO UPDATE SET full_text=excluded.full_text",
                (report_id, text),
            )
            self.conn.execute("DELETE FROM reports_fts WHERE rowid = ?", (report_id,))
        title_index, body_index = row.search or _search_entry(row.title, text)
        self.conn.execute(
            "INSERT INTO reports_fts(rowid, title, body) VALUES (?, ?, ?)", (report_id, title_index, body_index)
        )

    def _key_id(self, key: str) -> int:
        if key not in self._key_ids:
            # A key the template model does not declare: keep the value rather than drop it.
            cur = self.conn.execute(
                "INSERT INTO cell_keys(key, section, row, col, kind, label, templates) VALUES (?, ?, ?, ?, 'count', ?, '') "
                "ON CONFLICT(key) DO UPDATE SET key=excluded.key RETURNING id",
                (key, key.split(".")[0], key.rsplit(".", 1)[0], key.rsplit(".", 1)[-1], key),
            )
            self._key_ids[key] = cur.fetchone()[0]
        return self._key_ids[key]

    def _write_parse_findings(self, report_id: int, findings: list[Finding], now: str) -> None:
        self._replace_findings(report_id, findings, PARSE_SCOPE, now)
        self.conn.execute(
            "UPDATE reports SET checked_at = ? WHERE id = ?", (now if _checked(findings) else None, report_id)
        )

    # --- findings ---------------------------------------------------------------------------
    def write_findings(
        self, report_id: int, findings: Iterable[Finding], *, scope: str = "checks", now: str | None = None
    ) -> None:
        """Replace the findings `scope` wrote for this report (idempotent) and refresh its failing count."""
        if scope == PARSE_SCOPE:
            raise ValueError("the parse scope is written with the report (write())")
        with transaction(self.conn):
            self._replace_findings(report_id, list(findings), scope, now or utcnow())
            self.conn.execute("UPDATE reports SET checked_at = ? WHERE id = ?", (now or utcnow(), report_id))
            self._refresh_facets(report_id)

    def _refresh_facets(self, report_id: int) -> None:
        """Copy the agency, deadline and check status onto the report row (see 0003_facets.sql)."""
        self.conn.execute(_REFRESH_FACETS, (report_id,))

    def _replace_findings(self, report_id: int, findings: list[Finding], scope: str, now: str) -> None:
        self.conn.execute("DELETE FROM findings WHERE report_id = ? AND scope = ?", (report_id, scope))
        self._insert_findings(report_id, findings, scope, now)
        self.conn.execute(
            "UPDATE reports SET failing_checks = (SELECT count(*) FROM findings WHERE report_id = ? AND status = 'fail') WHERE id = ?",
            (report_id, report_id),
        )

    def _insert_findings(self, report_id: int, findings: list[Finding], scope: str, now: str) -> None:
        self.conn.executemany(
            _INSERT_FINDINGS,
            [
                (
                    report_id,
                    scope,
                    f.rule,
                    f.status,
                    f.severity,
                    f.message,
                    json.dumps(f.cells, ensure_ascii=False),
                    json.dumps(f.data, ensure_ascii=False, default=str) if f.data else None,
                    f.fingerprint,
                    now,
                )
                for f in findings
            ],
        )

    def findings(self, report_id: int, scope: str | None = None) -> list[Finding]:
        sql = "SELECT * FROM findings WHERE report_id = ?" + (" AND scope = ?" if scope else "") + " ORDER BY id"
        rows = self.conn.execute(sql, (report_id, scope) if scope else (report_id,))
        return [
            Finding(
                r["rule"],
                r["status"],
                r["severity"],
                r["message"],
                json.loads(r["cells"]),
                json.loads(r["data"] or "{}"),
            )
            for r in rows
        ]

    def finding_states(self, scope: str, report_ids: Sequence[int]) -> dict[int, list[tuple[str, str, str]]]:
        """report id → (fingerprint, status, message) of every finding `scope` wrote on these reports, to skip
        rewriting them."""
        out: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for row in self.conn.execute(
            "SELECT report_id, fingerprint, status, message FROM findings "
            f"WHERE report_id IN ({placeholders(report_ids)}) AND scope = ?",
            (*report_ids, scope),
        ):
            out[row[0]].append(tuple(row[1:]))
        return out

    # --- reading ----------------------------------------------------------------------------
    def list(
        self,
        *,
        agency: str | None = None,
        year: int | None = None,
        portal_id: str | None = None,
        parse_status: str | None = None,
    ) -> list[StoredReport]:
        where, params = [], []
        for column, value in (
            ("r.agency_name", agency),
            ("r.year", year),
            ("r.portal_id", portal_id),
            ("r.parse_status", parse_status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = _REPORT_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.id"
        return [_stored_report(r) for r in self.conn.execute(sql, params)]

    def get(self, report_id: int) -> StoredReport | None:
        row = self.conn.execute(_REPORT_SELECT + " WHERE r.id = ?", (report_id,)).fetchone()
        return _stored_report(row) if row else None

    def for_agency_year(self, agency: str, year: int) -> StoredReport | None:
        row = self.conn.execute(_REPORT_SELECT + " WHERE r.agency_name = ? AND r.year = ?", (agency, year)).fetchone()
        return _stored_report(row) if row else None

    def row(self, report_id: int) -> dict[str, Any] | None:
        """Every stored column of the report (for rebuilding what its parse produced)."""
        r = self.conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        return dict(r) if r else None

    def version_count(self) -> int:
        """How many document versions all reports have, together."""
        return self.conn.execute("SELECT count(*) FROM report_versions").fetchone()[0]

    def unchecked_ids(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT id FROM reports WHERE checked_at IS NULL")}

    def count_for_portal(self, portal_id: str) -> int:
        return self.conn.execute("SELECT count(*) FROM reports WHERE portal_id = ?", (portal_id,)).fetchone()[0]

    def years_on_portals(self) -> dict[tuple[str, str], set[int]]:
        """(agency name, portal id) → the report years of the agency found on that portal: that a listing is
        where an agency publishes is shown by its reports for other years having been found there."""
        out: dict[tuple[str, str], set[int]] = {}
        rows = self.conn.execute(
            "SELECT DISTINCT agency_name, portal_id, year FROM reports "
            "WHERE agency_name IS NOT NULL AND portal_id IS NOT NULL AND year IS NOT NULL"
        )
        for agency, portal_id, year in rows:
            out.setdefault((agency, portal_id), set()).add(year)
        return out

    def failed_parses(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, source_url, sha256, parse_reason, parse_message, portal_id FROM reports WHERE parse_status = 'failed'"
        )
        return [dict(r) for r in rows]

    def cells(self, report_id: int) -> dict[str, CellValue]:
        rows = self.conn.execute(
            "SELECT k.key, c.value, c.raw, c.unit FROM cells c JOIN cell_keys k ON k.id = c.key_id WHERE c.report_id = ? ORDER BY k.id",
            (report_id,),
        )
        return {key: CellValue(key, value, raw, unit) for key, value, raw, unit in rows}

    def cells_named_by(self, rule: str) -> dict[int, frozenset[str]]:
        """report id → the cells its `rule` findings name (parse.ocr: the cells OCR read), in one query."""
        out: dict[int, set[str]] = defaultdict(set)
        for report_id, cells in self.conn.execute("SELECT report_id, cells FROM findings WHERE rule = ?", (rule,)):
            out[report_id].update(json.loads(cells or "[]"))
        return {report_id: frozenset(keys) for report_id, keys in out.items()}

    def values_for_keys(self, keys: Iterable[str], report_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """report id → {key: value} for the given cell keys of these reports, in one query."""
        keys = sorted(keys)
        out: dict[int, dict[str, Any]] = defaultdict(dict)
        rows = self.conn.execute(
            "SELECT c.report_id, k.key, c.value FROM cells c JOIN cell_keys k ON k.id = c.key_id "
            f"WHERE c.report_id IN ({placeholders(report_ids)}) AND k.key IN ({placeholders(keys)})",
            (*report_ids, *keys),
        )
        for report_id, key, value in rows:
            out[report_id][key] = value
        return out

    # --- versions and presence: silent edits and takedowns ------------------------------------
    def later_versions(self) -> list[tuple[int, int]]:
        """(report id, version) of every parsed version after the first: each may be an edit after publication."""
        rows = self.conn.execute(
            "SELECT report_id, version FROM report_versions WHERE version > 1 AND parse_status = 'ok' "
            "ORDER BY report_id, version"
        )
        return [(r[0], r[1]) for r in rows]

    def versions(self, report_id: int) -> list[ReportVersion]:
        """Every version of the report, oldest first, with its cells and text: the current one's from cells and
        report_texts, a superseded one's as kept when it was replaced (None when that was before migration 7)."""
        current = self.conn.execute("SELECT version FROM reports WHERE id = ?", (report_id,)).fetchone()
        if current is None:
            return []
        kept: dict[int, dict[str, CellValue]] = defaultdict(dict)
        for version, key, value, raw, unit in self.conn.execute(
            "SELECT v.version, k.key, v.value, v.raw, v.unit FROM version_cells v JOIN cell_keys k ON k.id = v.key_id "
            "WHERE v.report_id = ? ORDER BY v.version, k.id",
            (report_id,),
        ):
            kept[version][key] = CellValue(key, value, raw, unit)
        out = []
        for r in self.conn.execute("SELECT * FROM report_versions WHERE report_id = ? ORDER BY version", (report_id,)):
            is_current = r["version"] == current[0]
            if is_current:
                cells, text = self.cells(report_id), self.text(report_id)
            elif r["kept"]:
                cells, text = kept.get(r["version"], {}), r["full_text"] or ""
            else:
                cells = text = None
            out.append(
                ReportVersion(
                    report_id=report_id,
                    version=r["version"],
                    sha256=r["sha256"],
                    source_url=r["source_url"],
                    seen_at=r["seen_at"],
                    parse_status=r["parse_status"],
                    title=r["title"],
                    template=r["template"],
                    figures=json.loads(r["figures"] or "{}"),
                    current=is_current,
                    cells=cells,
                    text=text,
                )
            )
        return out

    def presence(self) -> list[ReportPresence]:
        """Every report a listing ever showed or whose URL answered 404/410, with the portal's crawls since it was
        last listed: what crawler.rules.changes.takedown decides on. A listing may show any URL the report was
        read from (its page, its file, an earlier version's)."""
        # Two queries merged here, not one joining them: SQLite 3.51 plans that join as a scan of the listed
        # reports for every report (10^10 steps nationally), where 3.40 builds an index.
        listed = {r["report_id"]: r for r in self.conn.execute(_LISTED)}
        gone = {r["report_id"]: r for r in self.conn.execute(_GONE)}
        found = []
        for report in self.conn.execute("SELECT id, portal_id, last_seen FROM reports ORDER BY id"):
            entry, dead = listed.get(report["id"]), gone.get(report["id"])
            if entry is None and dead is None:
                continue
            found.append(
                ReportPresence(
                    report_id=report["id"],
                    portal_id=(entry and entry["portal_id"]) or report["portal_id"],
                    last_seen=report["last_seen"],
                    listed_url=entry and entry["url"],
                    listing_url=entry and entry["listing_url"],
                    listed_run=entry and entry["listed_run"],
                    gone_url=dead and dead["url"],
                    gone_status=dead and dead["gone_status"],
                    gone_at=dead and dead["gone_at"],
                    runs=(),
                )
            )
        since: dict[str, int] = {}
        for p in found:
            if p.portal_id and p.listed_run is not None:
                since[p.portal_id] = min(p.listed_run, since.get(p.portal_id, p.listed_run))
        runs = {portal: self._portal_runs(portal, first) for portal, first in since.items()}
        return [
            replace(p, runs=tuple(x for x in runs.get(p.portal_id, ()) if x.run_id > (p.listed_run or 0)))
            for p in found
        ]

    def _portal_runs(self, portal_id: str, after_run: int) -> list[ListingRun]:
        return [
            ListingRun(
                run_id=r["run_id"],
                started_at=r["started_at"],
                status=r["status"],
                listing_complete=None if r["listing_complete"] is None else bool(r["listing_complete"]),
                full_walk=bool(r["full_walk"]),
                listed_any=bool(r["listed_any"]),
            )
            for r in self.conn.execute(_PORTAL_RUNS, (portal_id, after_run))
        ]

    def text(self, report_id: int) -> str:
        row = self.conn.execute("SELECT full_text FROM report_texts WHERE report_id = ?", (report_id,)).fetchone()
        return row[0] if row else ""

    def search(self, query: str, limit: int = 50) -> list[StoredReport]:
        """Reports whose title or text contains the query (2-character Chinese terms included), newest first."""
        rows = self.conn.execute(
            _REPORT_SELECT
            + " WHERE r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY r.id DESC",
            (fts_query(query), limit),
        )
        return [_stored_report(r) for r in rows]


def _version_values(row: _ReportRow, version: int, seen_at: str) -> tuple[Any, ...]:
    """The values of _VERSION_COLUMNS for this version of the report."""
    p, failure = row.parsed, row.failure
    return (
        row.agency_id,
        row.year,
        row.agency_parsed,
        row.year_parsed,
        row.title,
        row.source_url,
        row.page_url,
        row.portal_id,
        row.sha256,
        p.format if p else row.format,
        p.template if p else None,
        p.pages if p else None,
        p.signed_date if p else None,
        seen_at,
        version,
        "failed" if failure else "ok",
        failure[0] if failure else None,
        failure[1] if failure else None,
        len(p.cells) if p else 0,
        *(row.figures[f] for f in FIGURES),
    )


def _title(w: ReportWrite) -> str | None:
    return (w.parsed.title if w.parsed else None) or w.doc.title


def _search_entry(title: str | None, text: str) -> tuple[str, str]:
    return index_text(title), index_text(text)


def _checked(findings: list[Finding]) -> bool:
    """The in-document rules ran before the write: a report with rule results has been checked."""
    return any(f.status != "info" and not f.rule.startswith(("parse.", "archive.")) for f in findings)


def _date_candidates(doc: IncomingDocument) -> dict[str, str]:
    out: dict[str, str] = {}
    if doc.published_at:
        out[doc.published_source or "manual"] = doc.published_at[:10]
    last_modified = http_date(doc.http.last_modified)
    if last_modified:
        out.setdefault("last_modified", last_modified)
    return out


def _best_source(candidates: Mapping[str, str]) -> str:
    return min(candidates, key=PUBLISHED_SOURCES.index)


def _stored_report(r: Mapping[str, Any]) -> StoredReport:
    return StoredReport(
        id=r["id"],
        agency=r["agency"],
        agency_id=r["agency_id"],
        kind=r["kind"],
        province=r["province"],
        city=r["city"],
        year=r["year"],
        title=r["title"],
        template=r["template"],
        format=r["format"],
        source_url=r["source_url"],
        page_url=r["page_url"],
        portal_id=r["portal_id"],
        sha256=r["sha256"],
        published_at=r["published_at"],
        published_source=r["published_source"],
        signed_date=r["signed_date"],
        first_seen=r["first_seen"],
        last_seen=r["last_seen"],
        changed_at=r["changed_at"],
        version=r["version"],
        parse_status=r["parse_status"],
        parse_reason=r["parse_reason"],
        failing_checks=r["failing_checks"],
        figures={f: r[f] for f in FIGURES},
    )
