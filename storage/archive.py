"""The archive: one SQLite file plus a folder of original documents, and the API that writes it.

    >>> from storage import Archive
    >>> with Archive("data/xxgk.db") as archive:
    ...     result = archive.ingest(pdf_bytes, url="https://…/2023nb.pdf", agency="某市人民政府", year=2023)

The crawler, the checks and `xxgk import` all write through this class. Every write is an upsert
inside one transaction: an interrupted run leaves either the whole report or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crawler.model import CellValue, Finding, ParsedReport, ParseError
from crawler.parsing import meta, parse_bytes, sniff
from crawler.registry import Registry
from storage.bookkeeping import Bookkeeping
from storage.clock import http_date, utcnow
from storage.db import connect, default_db_path, sqlite3, transaction
from storage.figures import FIGURES, key_figures
from storage.records import DocumentRecord, HttpMeta, IngestResult, StoredReport
from storage.schema import migrate, sync_cell_keys
from storage.search import fts_query, index_text
from storage.store import DocumentStore, StoredFile, store_dir_for

# Where a publication date came from, most trustworthy first. `manual`: a person gave it.
PUBLISHED_SOURCES = ("manual", "page_meta", "visible", "url", "last_modified", "first_seen")
PARSE_SCOPE = "parse"


class Archive(Bookkeeping):
    def __init__(self, db_path: str | Path | None = None):
        self.db_path = Path(db_path or default_db_path())
        self.conn = connect(self.db_path)
        migrate(self.conn)
        self._key_ids = sync_cell_keys(self.conn)
        self.store = DocumentStore(store_dir_for(self.db_path))

    def close(self) -> None:
        try:
            # Keeps the query planner's statistics current as the archive grows (cheap: it samples).
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass  # statistics are an optimisation; a full disk must not turn a clean close into a crash
        finally:
            self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self):
        """Group several archive writes into one all-or-nothing transaction."""
        return transaction(self.conn)

    # --- registry ---------------------------------------------------------------------------
    def sync_registry(self, registry: Registry) -> None:
        """Upsert the declared portals and agencies; those no longer declared keep their rows (reports
        point at them) but lose in_registry."""
        with transaction(self.conn):
            self.conn.execute("UPDATE portals SET in_registry = 0")
            self.conn.execute("UPDATE agencies SET in_registry = 0")
            for p in registry.portals:
                self.conn.execute(
                    "INSERT INTO portals(id, name, cms, start_url, domains, js, verified, in_registry, note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, cms=excluded.cms, "
                    "start_url=excluded.start_url, domains=excluded.domains, js=excluded.js, verified=excluded.verified, "
                    "in_registry=1, note=excluded.note",
                    (p.id, p.name, p.cms, p.start_url, json.dumps(list(p.domains)), int(p.js), int(p.verified), p.note),
                )
                for a in p.agencies:
                    self.conn.execute(
                        "INSERT INTO agencies(name, kind, province, city, county, level, portal_id, listing_url, "
                        "deadline_override, first_year, in_registry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                        "ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, province=excluded.province, city=excluded.city, "
                        "county=excluded.county, level=excluded.level, portal_id=excluded.portal_id, "
                        "listing_url=excluded.listing_url, deadline_override=excluded.deadline_override, "
                        "first_year=excluded.first_year, in_registry=1",
                        (
                            a.name,
                            a.kind,
                            a.province,
                            a.city,
                            a.county,
                            a.level,
                            p.id,
                            a.listing_url,
                            a.deadline,
                            a.first_year,
                        ),
                    )
            # Reports filed before the registry knew the agency: their copies of its place and kind.
            self.conn.execute(_SYNC_AGENCY_COPIES)

    def _agency_id(self, agency: str | int | None, kind: str | None = None) -> int | None:
        """The id of an agency given by name (created if new) or by id. `kind` fills a missing kind."""
        if agency is None:
            return None
        if isinstance(agency, int):
            return agency
        self.conn.execute("INSERT INTO agencies(name, kind) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", (agency, kind))
        if kind:
            self.conn.execute("UPDATE agencies SET kind = ? WHERE name = ? AND kind IS NULL", (kind, agency))
        return self.conn.execute("SELECT id FROM agencies WHERE name = ?", (agency,)).fetchone()[0]

    def _ensure_portal(self, portal_id: str) -> None:
        """A portal crawled without a registry entry (xxgk crawl --url) still gets a row to point at."""
        self.conn.execute(
            "INSERT INTO portals(id, name) VALUES (?, ?) ON CONFLICT(id) DO NOTHING", (portal_id, portal_id)
        )

    # --- documents --------------------------------------------------------------------------
    def store_document(
        self,
        data: bytes,
        *,
        url: str,
        content_type: str | None = None,
        http_status: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        fetched_at: str | None = None,
    ) -> DocumentRecord:
        """Keep the bytes (deduplicated by sha256) and remember what `url` served."""
        http = HttpMeta(content_type, http_status, etag, last_modified, fetched_at)
        seen_at = fetched_at or utcnow()
        stored = self.store.put(data)
        with transaction(self.conn):
            self._record_document(stored, sniff(data), url, http, seen_at)
        return self.known_document(url, is_new=stored.is_new)

    def known_document(self, url: str, *, is_new: bool = False) -> DocumentRecord | None:
        """What `url` served when last fetched (ETag, Last-Modified, sha256), for conditional GET."""
        row = self.conn.execute(
            "SELECT u.*, d.bytes, d.format, d.path FROM document_urls u JOIN documents d ON d.sha256 = u.sha256 WHERE u.url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return DocumentRecord(
            sha256=row["sha256"],
            path=str(self.store.root / row["path"]),
            bytes=row["bytes"],
            is_new=is_new,
            url=url,
            format=row["format"],
            content_type=row["content_type"],
            http_status=row["http_status"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            fetched_at=row["fetched_at"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )

    def mark_seen(self, url: str, *, fetched_at: str | None = None, http_status: int | None = 304) -> bool:
        """A fetch that brought nothing new (304, or the same bytes): update last_seen of the URL and of
        the reports it is the source of. Returns False when the URL is unknown."""
        seen_at = fetched_at or utcnow()
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE document_urls SET last_seen = ?, fetched_at = ?, http_status = coalesce(?, http_status) WHERE url = ?",
                (seen_at, seen_at, http_status, url),
            )
            self.conn.execute("UPDATE reports SET last_seen = max(last_seen, ?) WHERE source_url = ?", (seen_at, url))
        return cur.rowcount > 0

    def _store_file(self, data: bytes, *, url: str | None, content_type: str | None, seen_at: str) -> str:
        """Store bytes that are not a fetched report (evidence); returns the sha256."""
        stored = self.store.put(data)
        self._insert_document(stored, sniff(data), url, HttpMeta(content_type=content_type), seen_at)
        return stored.sha256

    def _insert_document(self, stored: StoredFile, fmt: str, url: str | None, http: HttpMeta, seen_at: str) -> None:
        # First fetch wins: documents describes where and how these bytes first arrived.
        self.conn.execute(
            "INSERT INTO documents(sha256, bytes, format, content_type, path, link, url, fetched_at, http_status, etag, "
            "last_modified, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING",
            (
                stored.sha256,
                stored.bytes,
                fmt,
                http.content_type,
                stored.path,
                f"/-/original/{stored.sha256}",
                url,
                seen_at,
                http.status,
                http.etag,
                http.last_modified,
                utcnow(),
            ),
        )

    def _record_document(self, stored: StoredFile, fmt: str, url: str, http: HttpMeta, seen_at: str) -> None:
        self._insert_document(stored, fmt, url, http, seen_at)
        self.conn.execute(
            "INSERT INTO document_urls(url, sha256, content_type, http_status, etag, last_modified, fetched_at, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET sha256=excluded.sha256, "
            "content_type=excluded.content_type, http_status=excluded.http_status, etag=excluded.etag, "
            "last_modified=excluded.last_modified, fetched_at=excluded.fetched_at, last_seen=excluded.last_seen",
            (
                url,
                stored.sha256,
                http.content_type,
                http.status,
                http.etag,
                http.last_modified,
                seen_at,
                seen_at,
                seen_at,
            ),
        )

    # --- ingest -----------------------------------------------------------------------------
    def ingest(
        self,
        data: bytes,
        *,
        url: str,
        agency: str | None = None,
        year: int | None = None,
        title: str | None = None,
        published_at: str | None = None,
        published_source: str | None = None,
        portal_id: str | None = None,
        page_url: str | None = None,
        kind: str | None = None,
        http: HttpMeta | Mapping[str, Any] | None = None,
        parse_options: Mapping[str, Any] | None = None,
    ) -> IngestResult:
        """Store → parse → write the report, its cells, findings and text, in one transaction.

        `agency`/`year` from the caller win over what the parser read (both are kept). A file that
        does not parse is kept with its reason. The same bytes again only update last_seen; new bytes
        for the same report (agency+year, or URL while those are unknown) become a new version.
        """
        parsed, error = _parse(data, parse_options or {})
        return self.ingest_parsed(
            data,
            parsed,
            error=error,
            url=url,
            agency=agency,
            year=year,
            title=title,
            published_at=published_at,
            published_source=published_source,
            portal_id=portal_id,
            page_url=page_url,
            kind=kind,
            http=http,
        )

    def ingest_parsed(
        self,
        data: bytes,
        parsed: ParsedReport | None,
        *,
        error: ParseError | None = None,
        url: str,
        agency: str | None = None,
        year: int | None = None,
        title: str | None = None,
        published_at: str | None = None,
        published_source: str | None = None,
        portal_id: str | None = None,
        page_url: str | None = None,
        kind: str | None = None,
        http: HttpMeta | Mapping[str, Any] | None = None,
    ) -> IngestResult:
        """ingest() for bytes already parsed (or that failed with `error`): synthetic archives, re-parses."""
        if (parsed is None) == (error is None):
            raise ValueError("give exactly one of parsed and error")
        failure = (error.reason, str(error)) if error else None
        http = http if isinstance(http, HttpMeta) else HttpMeta(**(http or {}))
        if published_source is not None and published_source not in PUBLISHED_SOURCES:
            raise ValueError(f"published_source must be one of {PUBLISHED_SOURCES}, got {published_source!r}")
        seen_at = http.fetched_at or utcnow()
        stored = self.store.put(data)  # on disk before the rows that point at it
        fmt = sniff(data)
        agency_name = agency or (parsed.agency if parsed else None)
        report_year = year or (parsed.year if parsed else None)
        candidates = _date_candidates(published_at, published_source, http)

        with transaction(self.conn):
            self._record_document(stored, fmt, url, http, seen_at)
            if portal_id:
                self._ensure_portal(portal_id)
            agency_id = self._agency_id(agency_name, kind)
            identity = f"agency:{agency_id}:{report_year}" if agency_id and report_year else f"url:{url}"
            existing = self._find_report(identity, url, agency_id, report_year)
            row = _ReportRow(
                agency_id=agency_id,
                year=report_year,
                agency_parsed=parsed.agency if parsed else None,
                year_parsed=parsed.year if parsed else None,
                title=(parsed.title if parsed else None) or title,
                source_url=url,
                page_url=page_url,
                portal_id=portal_id,
                sha256=stored.sha256,
                format=fmt,
                parsed=parsed,
                failure=failure,
            )
            if existing is None:
                report_id = self._insert_report(identity, row, candidates, seen_at)
                status, version = "new", 1
            else:
                report_id, version = existing["id"], existing["version"]
                seen_before = self.conn.execute(
                    "SELECT version FROM report_versions WHERE report_id = ? AND sha256 = ?", (report_id, stored.sha256)
                ).fetchone()
                self._touch_report(existing, candidates, seen_at)
                if seen_before:
                    status = "unchanged"
                else:
                    new_version = self._add_version(report_id, row, seen_at)
                    if failure and existing["parse_status"] == "ok":
                        # A later file that cannot be read is kept as a version, but does not hide the
                        # numbers of the one that could.
                        status = "failed_version"
                    else:
                        self._replace_report(report_id, row, new_version, seen_at)
                        status, version = "changed", new_version
            if status in ("new", "changed"):
                self._write_parse_findings(report_id, row, agency, year, seen_at)
            self._refresh_facets(report_id)

        return IngestResult(
            report_id=report_id,
            status=status,
            version=version,
            document=self.known_document(url, is_new=stored.is_new),
            agency=agency_name,
            year=report_year,
            parse_status="failed" if failure else "ok",
            parse_reason=failure[0] if failure else None,
            parse_message=failure[1] if failure else None,
            parsed=parsed,
        )

    def _find_report(
        self, identity: str, url: str, agency_id: int | None, year: int | None
    ) -> Mapping[str, Any] | None:
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

    def _insert_report(self, identity: str, row: _ReportRow, candidates: dict[str, str], seen_at: str) -> int:
        candidates = {**candidates, "first_seen": seen_at[:10]}
        published_source = _best_source(candidates)
        cur = self.conn.execute(
            "INSERT INTO reports(identity, agency_id, year, source_url, sha256, published_at, published_source, "
            "published_candidates, first_seen, last_seen, changed_at, version, parse_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'ok')",
            (
                identity,
                row.agency_id,
                row.year,
                row.source_url,
                row.sha256,
                candidates[published_source],
                published_source,
                json.dumps(candidates),
                seen_at,
                seen_at,
                seen_at,
            ),
        )
        report_id = int(cur.lastrowid)
        self._add_version(report_id, row, seen_at)
        self._replace_report(report_id, row, 1, seen_at)
        return report_id

    def _touch_report(self, existing: Mapping[str, Any], candidates: dict[str, str], seen_at: str) -> None:
        """Seen again: last_seen, and publication dates from new sources (earliest date per source kept)."""
        merged = json.loads(existing["published_candidates"] or "{}")
        for source, date in candidates.items():
            merged[source] = min(date, merged.get(source, date))
        best = _best_source(merged)
        self.conn.execute(
            "UPDATE reports SET last_seen = max(last_seen, ?), published_at = ?, published_source = ?, published_candidates = ? WHERE id = ?",
            (seen_at, merged[best], best, json.dumps(merged), existing["id"]),
        )

    def _add_version(self, report_id: int, row: _ReportRow, seen_at: str) -> int:
        version = self.conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM report_versions WHERE report_id = ?", (report_id,)
        ).fetchone()[0]
        self.conn.execute(
            "INSERT INTO report_versions(report_id, version, sha256, source_url, seen_at, parse_status, parse_reason, title, template, figures) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )
        return version

    def _replace_report(self, report_id: int, row: _ReportRow, version: int, seen_at: str) -> None:
        """Point the report at this version: its columns, cells, text and search entry."""
        p = row.parsed
        figures = row.figures
        self.conn.execute(
            "UPDATE reports SET agency_id=?, year=?, agency_parsed=?, year_parsed=?, title=?, source_url=?, page_url=?, "
            "portal_id=coalesce(?, portal_id), sha256=?, format=?, template=?, pages=?, signed_date=?, changed_at=?, version=?, "
            "parse_status=?, parse_reason=?, parse_message=?, cells_count=?, "
            + ", ".join(f"{f}=?" for f in FIGURES)
            + " WHERE id=?",
            (
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
                "failed" if row.failure else "ok",
                row.failure[0] if row.failure else None,
                row.failure[1] if row.failure else None,
                len(p.cells) if p else 0,
                *(figures[f] for f in FIGURES),
                report_id,
            ),
        )
        self.conn.execute("DELETE FROM cells WHERE report_id = ?", (report_id,))
        # Findings of every scope were about the previous version's numbers; the checks rerun.
        self.conn.execute("DELETE FROM findings WHERE report_id = ?", (report_id,))
        if p:
            self.conn.executemany(
                "INSERT INTO cells(report_id, key_id, value, raw, unit) VALUES (?, ?, ?, ?, ?)",
                [(report_id, self._key_id(c.key), c.value, c.raw, c.unit) for c in p.cells.values()],
            )
        text = p.text if p else ""
        self.conn.execute(
            "INSERT INTO report_texts(report_id, full_text) VALUES (?, ?) ON CONFLICT(report_id) DO UPDATE SET full_text=excluded.full_text",
            (report_id, text),
        )
        self.conn.execute("DELETE FROM reports_fts WHERE rowid = ?", (report_id,))
        self.conn.execute(
            "INSERT INTO reports_fts(rowid, title, body) VALUES (?, ?, ?)",
            (report_id, index_text(row.title), index_text(text)),
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

    def _write_parse_findings(
        self, report_id: int, row: _ReportRow, agency: str | None, year: int | None, now: str
    ) -> None:
        findings = list(row.parsed.findings) if row.parsed else []
        if row.failure:
            reason, message = row.failure
            findings.append(
                Finding(
                    "parse.failed", "fail", "error", f"无法解析该文件（{reason}）：{message}", data={"reason": reason}
                )
            )
        if row.parsed and agency and row.parsed.agency and row.parsed.agency != agency:
            findings.append(
                Finding(
                    "archive.agency_differs",
                    "info",
                    "warning",
                    f"采集时指定的机关“{agency}”与报告文本中的机关“{row.parsed.agency}”不一致",
                    data={"given": agency, "parsed": row.parsed.agency},
                )
            )
        if row.parsed and year and row.parsed.year and row.parsed.year != year:
            findings.append(
                Finding(
                    "archive.year_differs",
                    "info",
                    "warning",
                    f"采集时指定的年度{year}与报告文本中的年度{row.parsed.year}不一致",
                    data={"given": year, "parsed": row.parsed.year},
                )
            )
        self._replace_findings(report_id, findings, PARSE_SCOPE, now)
        # parse_bytes runs the in-document rules: a report with rule results has been checked.
        checked = any(f.status != "info" and not f.rule.startswith(("parse.", "archive.")) for f in findings)
        self.conn.execute("UPDATE reports SET checked_at = ? WHERE id = ?", (now if checked else None, report_id))

    # --- findings ---------------------------------------------------------------------------
    def write_findings(
        self, report_id: int, findings: Iterable[Finding], *, scope: str = "checks", now: str | None = None
    ) -> None:
        """Replace the findings `scope` wrote for this report (idempotent) and refresh its failing count."""
        if scope == PARSE_SCOPE:
            raise ValueError("the parse scope is written by ingest()")
        with transaction(self.conn):
            self._replace_findings(report_id, list(findings), scope, now or utcnow())
            self.conn.execute("UPDATE reports SET checked_at = ? WHERE id = ?", (now or utcnow(), report_id))
            self._refresh_facets(report_id)

    def _refresh_facets(self, report_id: int) -> None:
        """Copy the agency, deadline and check status onto the report row (see 0003_facets.sql)."""
        self.conn.execute(_REFRESH_FACETS, (report_id,))

    def _replace_findings(self, report_id: int, findings: list[Finding], scope: str, now: str) -> None:
        self.conn.execute("DELETE FROM findings WHERE report_id = ? AND scope = ?", (report_id, scope))
        self.conn.executemany(
            "INSERT INTO findings(report_id, scope, rule, status, severity, message, cells, data, fingerprint, found_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        self.conn.execute(
            "UPDATE reports SET failing_checks = (SELECT count(*) FROM findings WHERE report_id = ? AND status = 'fail') WHERE id = ?",
            (report_id, report_id),
        )

    def findings_of(self, report_id: int, scope: str | None = None) -> list[Finding]:
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

    # --- reading ----------------------------------------------------------------------------
    def reports(
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

    def report(self, report_id: int) -> StoredReport | None:
        row = self.conn.execute(_REPORT_SELECT + " WHERE r.id = ?", (report_id,)).fetchone()
        return _stored_report(row) if row else None

    def report_for(self, agency: str, year: int) -> StoredReport | None:
        row = self.conn.execute(_REPORT_SELECT + " WHERE r.agency_name = ? AND r.year = ?", (agency, year)).fetchone()
        return _stored_report(row) if row else None

    def cells_of(self, report_id: int) -> dict[str, CellValue]:
        rows = self.conn.execute(
            "SELECT k.key, c.value, c.raw, c.unit FROM cells c JOIN cell_keys k ON k.id = c.key_id WHERE c.report_id = ? ORDER BY k.id",
            (report_id,),
        )
        return {key: CellValue(key, value, raw, unit) for key, value, raw, unit in rows}

    def text_of(self, report_id: int) -> str:
        row = self.conn.execute("SELECT full_text FROM report_texts WHERE report_id = ?", (report_id,)).fetchone()
        return row[0] if row else ""

    def parsed_of(self, report_id: int) -> ParsedReport | None:
        """The stored report as the parser's ParsedReport (its parse findings included), for checks."""
        r = self.conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        if r is None or r["parse_status"] != "ok":
            return None
        text = self.text_of(report_id)
        return ParsedReport(
            agency=r["agency_parsed"],
            year=r["year_parsed"],
            template=r["template"],
            title=r["title"],
            signed_date=r["signed_date"],
            sections=meta.sections(text.splitlines()),
            cells=self.cells_of(report_id),
            findings=[f for f in self.findings_of(report_id, PARSE_SCOPE) if not f.rule.startswith("archive.")],
            text=text,
            format=r["format"],
            pages=r["pages"],
        )

    def search(self, query: str, limit: int = 50) -> list[StoredReport]:
        """Reports whose title or text contains the query (2-character Chinese terms included), newest first."""
        rows = self.conn.execute(
            _REPORT_SELECT
            + " WHERE r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY r.id DESC",
            (fts_query(query), limit),
        )
        return [_stored_report(r) for r in rows]


class _ReportRow:
    """One document's contribution to a report row, computed before the transaction starts."""

    def __init__(self, *, parsed: ParsedReport | None, failure: tuple[str, str] | None, **columns: Any):
        self.parsed = parsed
        self.failure = failure
        self.__dict__.update(columns)
        self.figures = key_figures(parsed.values(), parsed.template) if parsed else dict.fromkeys(FIGURES)


def _parse(data: bytes, options: Mapping[str, Any]) -> tuple[ParsedReport | None, ParseError | None]:
    try:
        return parse_bytes(data, **options), None
    except ParseError as e:
        return None, e
    except Exception as e:  # a parser bug must not lose the document: keep it, say why
        return None, ParseError("parser_error", f"{type(e).__name__}: {e}")


def _date_candidates(published_at: str | None, source: str | None, http: HttpMeta) -> dict[str, str]:
    out: dict[str, str] = {}
    if published_at:
        out[source or "manual"] = published_at[:10]
    last_modified = http_date(http.last_modified)
    if last_modified:
        out.setdefault("last_modified", last_modified)
    return out


def _best_source(candidates: Mapping[str, str]) -> str:
    return min(candidates, key=PUBLISHED_SOURCES.index)


# reports column → the agencies column it copies (see 0003_facets.sql)
_AGENCY_COPIES = {
    "agency_name": "name",
    "province": "province",
    "city": "city",
    "county": "county",
    "level": "level",
    "kind": "kind",
}
_SET_AGENCY_COPIES = ", ".join(f"{mine} = a.{theirs}" for mine, theirs in _AGENCY_COPIES.items())
_REFRESH_FACETS = f"""
UPDATE reports SET
    {_SET_AGENCY_COPIES},
    deadline = d.deadline,
    deadline_status = coalesce(d.status, 'unchecked'),
    days_late = d.days_late,
    check_status = CASE
        WHEN r.parse_status = 'failed' THEN 'unparsed'
        WHEN r.failing_checks > 0 THEN 'fail'
        WHEN r.checked_at IS NULL THEN 'unchecked'
        ELSE 'pass'
    END
FROM reports r
LEFT JOIN agencies a ON a.id = r.agency_id
LEFT JOIN deadline_status d ON d.agency_id = r.agency_id AND d.year = r.year
WHERE r.id = reports.id AND reports.id = ?
"""
_SYNC_AGENCY_COPIES = f"""
UPDATE reports SET {_SET_AGENCY_COPIES}
FROM agencies a
WHERE a.id = reports.agency_id AND ({" OR ".join(f"reports.{mine} IS NOT a.{theirs}" for mine, theirs in _AGENCY_COPIES.items())})
"""

_REPORT_SELECT = "SELECT r.*, r.agency_name AS agency FROM reports r"


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
