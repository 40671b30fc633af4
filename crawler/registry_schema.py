"""What a registry file may say: the schema of crawler/registry.yaml, declared once with pydantic.

Why pydantic (v2) rather than jsonschema: the registry's rules are typed fields plus a few that are not
expressible as a pattern (a deadline must be a real day of the year, a domain must be a host name and not a URL),
and pydantic states both in one place, in Python, with errors that carry the exact location of the bad value
(including the misspelt key itself, which is what the did-you-mean needs). Its core is compiled, so a registry of
thousands of portals validates in milliseconds, and `model_json_schema()` still gives a JSON Schema for editors.

Validation is strict: `first_year: "2020"` is an error, not silently turned into a number, because a registry is
written by people and a quoted number is usually a mistake somewhere else on the line.

`validate(data)` never raises: it returns the problems, each with the path of the value it is about, so that the
caller (crawler/registry_source.py) can point at the line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

KINDS = ("department", "government")
CMS_FAMILIES = ("trs", "hanweb", "fujian", "jsonapi", "generic")
LEVELS = ("province", "city", "county", "township")
EVIDENCE_KINDS = ("public_code", "saved_page", "published_list", "discovered")
FIRST_REPORT_YEAR = 2008  # the 条例 took effect on 2008-05-01; the first annual reports cover 2008

Path = tuple[str | int, ...]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEADLINE = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a registry, at the path of the value (or of the key, for a misspelt field)."""

    path: Path
    message: str
    line: int | None = None  # when the finder knows it better than the path does (a duplicate key's second use)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EvidenceModel(_Strict):
    kind: Literal[EVIDENCE_KINDS]  # type: ignore[valid-type]
    source: Annotated[str, Field(min_length=1)]  # a URL, or "owner/repo:path" for public code
    note: str | None = None
    date: Annotated[dt.date | None, Field(strict=False)] = None  # when it was found (YAML reads 2025-01-31 as a date)


class AgencyModel(_Strict):
    name: Annotated[str, Field(min_length=1)]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: Literal[LEVELS] | None = None  # type: ignore[valid-type]
    listing_url: str | None = None
    deadline: str | None = None
    first_year: Annotated[int, Field(ge=FIRST_REPORT_YEAR, le=2100)] = 2019
    evidence: list[EvidenceModel] = []

    @field_validator("deadline")
    @classmethod
    def _real_day(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = _DEADLINE.match(v)
        if not m:
            raise ValueError(f'deadline must be "MM-DD" (the day in the year after the report year), got {v!r}')
        try:
            dt.date(2024, int(m.group(1)), int(m.group(2)))  # a leap year: 02-29 is a day some year
        except ValueError:
            raise ValueError(
                f"deadline {v!r} is not a day of the year (month 01-12, then a day of that month)"
            ) from None
        return v

    @field_validator("listing_url")
    @classmethod
    def _listing_url(cls, v: str | None) -> str | None:
        return None if v is None else _http_url(v)


class PortalModel(_Strict):
    id: str
    name: Annotated[str, Field(min_length=1)]
    cms: str
    # The 年报 column; may be left out when home_url is given: the crawl then finds the column from the home page
    # (and finds it again when it moves, see docs/registry.md "Self-healing listings").
    start_url: str | None = None
    home_url: str | None = None  # the home page or 信息公开 page the column is (re)discovered from
    domains: Annotated[list[str], Field(min_length=1)]
    js: bool = False
    verified: bool = False
    note: str | None = None
    options: dict[str, Any] = {}
    agencies: list[AgencyModel] = []
    evidence: list[EvidenceModel] = []

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"id must be letters, digits, '-', '_' or '.' (it names the spider), got {v!r}")
        return v

    @field_validator("cms")
    @classmethod
    def _cms(cls, v: str) -> str:
        if v not in CMS_FAMILIES:
            raise ValueError(f"cms must be one of {', '.join(CMS_FAMILIES)}, got {v!r}{did_you_mean(v, CMS_FAMILIES)}")
        return v

    @field_validator("start_url", "home_url")
    @classmethod
    def _start_url(cls, v: str | None) -> str | None:
        return None if v is None else _http_url(v)

    @field_validator("domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [_domain(d) for d in v]


class RegistryModel(_Strict):
    portals: list[PortalModel] = []
    # Agencies expected to report whose portal is not declared (yet), e.g. from `xxgk registry national`:
    # counted as unmonitored, never as missing.
    expected: list[AgencyModel] = []


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _http_url(v: str) -> str:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {v!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"the port in {v!r} is not a number from 0 to 65535") from None
    return v


def _domain(v: str) -> str:
    """A registrable domain or exact host (`wenzhou.gov.cn`, `127.0.0.1`): what Confinement compares hosts to."""
    if "://" in v or "/" in v:
        host = urlsplit(v if "://" in v else "http://" + v).hostname or v
        raise ValueError(f"a domain is a host name, not a URL: write {host!r}, not {v!r}")
    try:
        ipaddress.ip_address(v.strip("[]"))
        return v
    except ValueError:
        pass
    if v != v.lower():
        raise ValueError(f"write domains in lower case: {v.lower()!r}, not {v!r}")
    labels = v.rstrip(".").split(".")
    if not v or any(not _HOST_LABEL.match(label) for label in labels):
        raise ValueError(f"not a host name: {v!r} (one domain per list item, e.g. [a.gov.cn, b.gov.cn])")
    return v


def host_in(host: str, domains: list[str] | tuple[str, ...]) -> bool:
    """The same rule as crawler.confinement.Confinement: the host is a listed domain or below one."""
    host = host.rstrip(".").lower().strip("[]")
    return any(host == d or host.endswith("." + d) for d in domains)


# --- turning pydantic's errors into one readable line each ------------------------------------------------
_FIELDS = {
    "portal": tuple(PortalModel.model_fields),
    "agency": tuple(AgencyModel.model_fields),
    "evidence": tuple(EvidenceModel.model_fields),
    "registry": tuple(RegistryModel.model_fields),
}
_SHAPES = {
    "portal": "a portal must be a mapping (id: …, name: …, cms: …, start_url: or home_url: …, domains: […])",
    "agency": "an agency must be a mapping such as {name: 某市人民政府, kind: government}",
    "evidence": "an evidence entry must be a mapping such as {kind: saved_page, source: URL}",
}


def _what(path: Path) -> str:
    """What the item at `path` is: registry, portal, agency or evidence."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return "registry"
    last = names[-1]
    return {"portals": "portal", "agencies": "agency", "expected": "agency", "evidence": "evidence"}.get(last, last)


def _message(err: dict[str, Any]) -> tuple[Path, str]:
    loc: Path = tuple(err["loc"])
    kind, value = err["type"], err.get("input")
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "extra_forbidden":
        owner = _what(loc[:-1])
        known = _FIELDS.get(owner, ())
        return loc, f"unknown {owner} field {field!r}{did_you_mean(str(field), known)}"
    if kind == "missing":
        return loc[:-1], f"missing field {field!r} ({_what(loc[:-1])} needs it)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        what = _what(loc)
        shape = _SHAPES.get(what, "expected a mapping")
        return loc, f"{shape}, got {_shown(value)}"
    if kind == "list_type":
        hint = f" — write {field}: [{value}]" if isinstance(value, str) and field == "domains" else ""
        return loc, f"{field} must be a list, got {_shown(value)}{hint}"
    if kind == "literal_error":
        owner = _what(loc[:-1])
        choices = EVIDENCE_KINDS if owner == "evidence" else {"kind": KINDS, "level": LEVELS}.get(str(field), ())
        return (
            loc,
            f"{field} must be one of {', '.join(choices)}, got {_shown(value)}{did_you_mean(str(value), choices)}",
        )
    if kind in ("int_type", "int_parsing"):
        return loc, f"{field} must be a whole number such as 2019, got {_shown(value)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        return loc, f"{field} must be a report year from {FIRST_REPORT_YEAR} to 2100, got {_shown(value)}"
    if kind == "bool_type":
        return loc, f"{field} must be true or false, got {_shown(value)}"
    if kind == "string_type":
        return loc, f"{field} must be text, got {_shown(value)}"
    if kind in ("string_too_short", "too_short"):
        return loc, f"{field} must not be empty"
    if kind == "value_error":
        text = str(err["ctx"]["error"])
        return loc, text if text.startswith(str(field)) else f"{field}: {text}"
    return loc, f"{field or _what(loc)}: {err['msg']}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value!r}"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def validate(data: Any) -> tuple[RegistryModel | None, list[Problem]]:
    """The registry model and no problem, or None and every problem found (schema first, then the rules
    between fields: duplicate ids, start and listing URLs outside the portal's domains)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem((), f"the registry must be a mapping with a 'portals:' list, got {_shown(data)}")]
    duplicates = list(_duplicate_ids(data.get("portals")))
    try:
        model = RegistryModel.model_validate(data)
    except ValidationError as e:
        problems = [Problem(*_message(err)) for err in e.errors(include_url=False)]
        return None, _without_explained(_unique(problems)) + duplicates
    problems = duplicates + list(_cross_checks(model))
    return (None, problems) if problems else (model, [])


def _without_explained(problems: list[Problem]) -> list[Problem]:
    """A misspelt field also makes the right one missing: say it once, where the misspelling is."""
    suggested = {
        (p.path[:-1], p.message.rsplit("did you mean ", 1)[1].strip("'?)"))
        for p in problems
        if p.message.startswith("unknown ") and "did you mean " in p.message
    }
    return [
        p
        for p in problems
        if not (p.message.startswith("missing field ") and (p.path, p.message.split("'")[1]) in suggested)
    ]


def _duplicate_ids(portals: Any) -> Iterator[Problem]:
    """Checked on the raw data, so that a duplicate is reported even when other fields are wrong too."""
    if not isinstance(portals, list):
        return
    first: dict[str, int] = {}
    for i, p in enumerate(portals):
        pid = p.get("id") if isinstance(p, dict) else None
        if not isinstance(pid, str):
            continue
        if pid in first:
            yield Problem(("portals", i, "id"), f"duplicate id {pid!r} (portal #{first[pid] + 1} has it too)")
        first.setdefault(pid, i)


def agency_problems(data: Any) -> list[Problem]:
    """What is wrong with one agency entry (for importers that build agencies row by row)."""
    try:
        AgencyModel.model_validate(data)
    except ValidationError as e:
        return _unique([Problem(*_message(err)) for err in e.errors(include_url=False)])
    return []


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Path, str]] = set()
    out = []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def _cross_checks(model: RegistryModel) -> Iterator[Problem]:
    for i, p in enumerate(model.portals):
        if p.start_url is None and p.home_url is None:
            yield Problem(
                ("portals", i),
                "a portal needs start_url (its 年报 column) or home_url (its home page, to find the column from)",
            )
        for name in ("start_url", "home_url"):
            url = getattr(p, name)
            host = (urlsplit(url).hostname or "") if url else ""
            if url and not host_in(host, p.domains):
                yield Problem(
                    ("portals", i, name),
                    f"{name} host {host!r} is outside the portal's domains {p.domains}: the crawl would refuse it",
                )
        for j, a in enumerate(p.agencies):
            if a.listing_url and not host_in(urlsplit(a.listing_url).hostname or "", p.domains):
                yield Problem(
                    ("portals", i, "agencies", j, "listing_url"),
                    f"listing_url is outside the portal's domains {p.domains}",
                )
