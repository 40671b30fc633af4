"""Agencies and portals: the registry's declarations, and agencies first met in a report."""

from __future__ import annotations

import json
from typing import Any

from crawler.registry import Registry
from storage.db import sqlite3, transaction

# reports column → the agencies column it copies (see 0003_facets.sql)
AGENCY_COPIES = {
    "agency_name": "name",
    "province": "province",
    "city": "city",
    "county": "county",
    "level": "level",
    "kind": "kind",
}
SET_AGENCY_COPIES = ", ".join(f"{mine} = a.{theirs}" for mine, theirs in AGENCY_COPIES.items())
_SYNC_AGENCY_COPIES = f"""
UPDATE reports SET {SET_AGENCY_COPIES}
FROM agencies a
WHERE a.id = reports.agency_id AND ({" OR ".join(f"reports.{mine} IS NOT a.{theirs}" for mine, theirs in AGENCY_COPIES.items())})
"""


# Per agency outside the registry and portal: the report years found there, the portal's row, and the list
# page where its latest listed report was seen.
_OBSERVED = """
SELECT a.id AS agency_id, a.name, a.kind, a.kind_source, a.province, a.city, a.county, a.level,
       r.portal_id, min(r.year) AS first_year, max(r.year) AS last_year, count(*) AS reports,
       p.name AS portal_name, p.cms, p.start_url, p.domains, coalesce(p.verified, 0) AS verified,
       (SELECT e.listing_url FROM reports r2 JOIN listing_entries e ON e.url IN (r2.page_url, r2.source_url)
        WHERE r2.agency_id = a.id AND r2.portal_id = r.portal_id AND e.listing_url IS NOT NULL
        ORDER BY e.last_listed_run DESC, r2.year DESC LIMIT 1) AS listing_url
FROM agencies a
JOIN reports r ON r.agency_id = a.id
LEFT JOIN portals p ON p.id = r.portal_id
WHERE a.in_registry = 0 AND r.portal_id IS NOT NULL AND r.year IS NOT NULL
GROUP BY a.id, r.portal_id
ORDER BY a.name, last_year DESC, reports DESC
"""


class Agencies:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

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
                        "deadline_override, first_year, in_registry, kind_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, "
                        "'registry') ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, kind_source='registry', "
                        "province=excluded.province, city=excluded.city, "
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

    def observed_reporters(self) -> list[dict[str, Any]]:
        """Agencies the registry does not declare whose reports were crawled from a portal (`crawl --url`, or a
        department listed in a government's column): one row per agency and portal, with the first and last
        report year found there, the portal as the archive knows it, and the list page that last listed the
        agency's reports (`listing_url`, None when no listing recorded it)."""
        rows = self.conn.execute(_OBSERVED)
        return [dict(r) for r in rows]

    def set_kind(self, agency: str, kind: str, source: str) -> None:
        """An agency's kind and how it was decided (registry | name), copied onto its reports."""
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE agencies SET kind = ?, kind_source = ? WHERE name = ? AND (kind IS NOT ? OR kind_source IS NOT ?)",
                (kind, source, agency, kind, source),
            )
            if cur.rowcount:
                self.conn.execute(_SYNC_AGENCY_COPIES)

    def id_for(self, agency: str | int | None, kind: str | None = None) -> int | None:
        """The id of an agency given by name (created if new) or by id. `kind` fills a missing kind."""
        if agency is None:
            return None
        if isinstance(agency, int):
            return agency
        self.conn.execute("INSERT INTO agencies(name, kind) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", (agency, kind))
        if kind:
            self.conn.execute("UPDATE agencies SET kind = ? WHERE name = ? AND kind IS NULL", (kind, agency))
        return self.conn.execute("SELECT id FROM agencies WHERE name = ?", (agency,)).fetchone()[0]

    def ensure_portal(self, portal_id: str) -> None:
        """A portal crawled without a registry entry (xxgk crawl --url) still gets a row to point at."""
        self.conn.execute(
            "INSERT INTO portals(id, name) VALUES (?, ?) ON CONFLICT(id) DO NOTHING", (portal_id, portal_id)
        )
