"""A spreadsheet of agencies (CSV) → registry portals, for growing the registry to a province without hand-typing
YAML. The columns are documented in docs/registry.md:

    name, kind, province, city, county, level, portal, domains   (required header; values may be empty
                                                                   except name, kind and portal)
    cms, first_year, deadline                                      (optional columns)

`portal` is the URL of the agency's report column, or its home page (then cms `generic`, which walks to the
column). Rows with the same portal URL become one portal with several agencies. `domains` are space- or
semicolon-separated; when empty, the portal URL's registrable domain is used. A portal's id comes from its host
(`www.wenzhou.gov.cn` → `wenzhou`, `xxgk.hangzhou.gov.cn` → `hangzhou-xxgk`), made unique with -2, -3 ….

Every bad row is one problem with its CSV line; the portals built are validated with the registry schema, so
the output passes `xxgk registry check`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.registry_schema import agency_problems, did_you_mean, validate
from crawler.registry_source import Located

REQUIRED = ("name", "kind", "province", "city", "county", "level", "portal", "domains")
OPTIONAL = ("cms", "first_year", "deadline")
_SPLIT = re.compile(r"[\s;；,，]+")


@dataclass
class Imported:
    portals: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Located] = field(default_factory=list)
    rows: int = 0


def read_csv(path: str | Path) -> Imported:
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        return Imported(problems=[Located(name, 0, f"cannot read: {e.strerror or e}")])
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM when asked for "CSV UTF-8"
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        return Imported(
            problems=[Located(name, line, 'not UTF-8 text: save as "CSV UTF-8" (or: iconv -f gb18030 -t utf-8)')]
        )
    return parse_csv(text, name)


def parse_csv(text: str, name: str = "agencies.csv") -> Imported:
    out = Imported()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        out.problems.append(Located(name, 1, f"empty file: expected a header line {','.join(REQUIRED)}"))
        return out
    except csv.Error as e:
        out.problems.append(Located(name, 1, f"not CSV: {e}"))
        return out
    known = REQUIRED + OPTIONAL
    for h in header:
        if h not in known:
            out.problems.append(Located(name, 1, f"unknown column {h!r}{did_you_mean(h, known)}"))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        out.problems.append(Located(name, 1, f"missing column(s) {', '.join(missing)}"))
    if out.problems:
        return out

    groups: dict[str, dict[str, Any]] = {}
    lines: dict[str, list[int]] = {}  # portal URL → the CSV lines of its rows
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            out.problems.append(Located(name, start, f"not CSV: {e}"))
            break
        line = start
        if not any(cell.strip() for cell in row):
            continue
        out.rows += 1
        if len(row) > len(header):
            out.problems.append(Located(name, line, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        problem = _add_row(cells, groups)
        if problem:
            out.problems.append(Located(name, line, problem))
        else:
            lines.setdefault(cells["portal"], []).append(line)
    portals = _with_ids(list(groups.values()))
    _, problems = validate({"portals": portals})
    for p in problems:  # a portal-level problem is reported on the lines of the rows that made that portal
        index = p.path[1] if len(p.path) > 1 and isinstance(p.path[1], int) else None
        rows = lines.get(portals[index]["start_url"], [0]) if index is not None else [0]
        out.problems += [Located(name, r, p.message) for r in rows]
    out.portals = [] if out.problems else portals
    return out


def _add_row(cells: dict[str, str], groups: dict[str, dict[str, Any]]) -> str | None:
    """Add one row to its portal, or say what is wrong with it."""
    url = cells["portal"]
    if not url:
        return "portal is empty: give the URL of the agency's report column or home page"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"portal must be an http:// or https:// URL, got {url!r}"
    agency: dict[str, Any] = {k: cells[k] for k in ("name", "kind", "province", "city", "county", "level") if cells[k]}
    if cells.get("deadline"):
        agency["deadline"] = cells["deadline"]
    if cells.get("first_year"):
        if not cells["first_year"].isdigit():
            return f"first_year must be a whole number such as 2019, got {cells['first_year']!r}"
        agency["first_year"] = int(cells["first_year"])
    problem = _agency_problem(agency)
    if problem:
        return problem
    domains = [d.lower() for d in _SPLIT.split(cells["domains"]) if d] or [_registrable(parts.hostname)]
    cms = cells.get("cms") or "generic"
    portal = groups.get(url)
    if portal is None:
        portal = groups[url] = {
            "name": agency["name"],
            "cms": cms,
            "start_url": url,
            "domains": [],
            "verified": False,
            "agencies": [],
        }
    elif cells.get("cms") and cms != portal["cms"]:
        return f"cms {cms!r} differs from {portal['cms']!r} given for the same portal on an earlier row"
    if any(a["name"] == agency["name"] for a in portal["agencies"]):
        return f"{agency['name']} is listed twice for the same portal"
    portal["domains"] += [d for d in domains if d not in portal["domains"]]
    portal["agencies"].append(agency)
    if agency.get("kind") == "government" and portal["agencies"][0].get("kind") != "government":
        portal["name"] = agency["name"]  # a portal is named after the government it belongs to, when listed
    return None


def _agency_problem(agency: dict[str, Any]) -> str | None:
    problems = agency_problems(agency)  # the schema's own wording for the same mistakes
    return "; ".join(p.message for p in problems) if problems else None


def _registrable(host: str) -> str:
    """The registrable domain of a host (`www.wenzhou.gov.cn` → `wenzhou.gov.cn`); an IP stays itself."""
    import tldextract  # the public-suffix list bundled with it; no network (suffix_list_urls=())

    ext = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)(host)
    return ext.top_domain_under_public_suffix if ext.suffix and ext.domain else host


def portal_id(host: str, taken: set[str]) -> str:
    """An id from a host: the registrable name plus any subdomain but www (`xxgk.hangzhou.gov.cn` →
    `hangzhou-xxgk`), an IP as dashes; `-2`, `-3` … when taken."""
    import tldextract

    ext = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)(host)
    if ext.suffix and ext.domain:
        sub = [s for s in ext.subdomain.split(".") if s and s != "www"]
        base = "-".join([ext.domain, *reversed(sub)])
    else:
        base = host.replace(".", "-").replace(":", "-").strip("[]-")
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-")[:56] or "portal"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _with_ids(portals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken: set[str] = set()
    out = []
    for p in portals:
        host = urlsplit(p["start_url"]).hostname or ""
        out.append({"id": portal_id(host, taken), **p})
    return out
