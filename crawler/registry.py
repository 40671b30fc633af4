"""The declared registry of portals and of the agencies that must report (Open States style).

Users edit `crawler/registry.yaml` (or pass their own file with XXGK_REGISTRY / --registry).
Adding a portal on a known CMS family is a few lines: an id, the family, a start URL, the
agency's own domains, and who reports there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml

DEFAULT_PATH = Path(__file__).with_name("registry.yaml")
KINDS = ("department", "government")
CMS_FAMILIES = ("trs", "hanweb", "fujian", "jsonapi", "generic")


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str  # department → Jan 31 of Y+1; government → Mar 31 of Y+1 (Art. 49)
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str | None = None  # province | city | county | township
    listing_url: str | None = None  # the page a journalist would check, screenshot for proof of absence
    deadline: str | None = None  # "MM-DD" in Y+1, overrides the statutory deadline (local rules)
    first_year: int = 2019  # first report year this agency is expected to publish

    def deadline_for(self, year: int) -> date:
        if self.deadline:
            month, day = (int(x) for x in self.deadline.split("-"))
            return date(year + 1, month, day)
        return date(year + 1, 1, 31) if self.kind == "department" else date(year + 1, 3, 31)


@dataclass(frozen=True)
class Portal:
    id: str  # also the Scrapy spider name
    name: str
    cms: str
    start_url: str
    domains: tuple[str, ...]
    js: bool = False  # listing built in the browser: fetch it through scrapy-playwright
    verified: bool = False  # True only when someone has fetched start_url and seen the list
    note: str | None = None
    options: dict = field(default_factory=dict)  # family-specific settings (column ids, API paths)
    agencies: tuple[Agency, ...] = ()


@dataclass(frozen=True)
class Registry:
    portals: tuple[Portal, ...]

    def portal(self, portal_id: str) -> Portal:
        for p in self.portals:
            if p.id == portal_id:
                return p
        raise KeyError(f"no portal {portal_id!r} in the registry")

    def agencies(self) -> list[tuple[Portal, Agency]]:
        return [(p, a) for p in self.portals for a in p.agencies]


class RegistryError(ValueError):
    pass


def _agency(raw: dict, where: str) -> Agency:
    if raw.get("kind") not in KINDS:
        raise RegistryError(f"{where}: kind must be one of {KINDS}, got {raw.get('kind')!r}")
    known = {f for f in Agency.__dataclass_fields__}
    unknown = set(raw) - known
    if unknown:
        raise RegistryError(f"{where}: unknown fields {sorted(unknown)}")
    return Agency(**raw)


def parse_registry(data: dict) -> Registry:
    portals = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("portals") or []):
        where = f"portal #{i + 1} ({raw.get('id', '?')})"
        raw = dict(raw)
        if raw.get("cms") not in CMS_FAMILIES:
            raise RegistryError(f"{where}: cms must be one of {CMS_FAMILIES}")
        if raw["id"] in seen:
            raise RegistryError(f"{where}: duplicate id")
        seen.add(raw["id"])
        agencies = tuple(_agency(a, f"{where} agency {a.get('name', '?')}") for a in raw.pop("agencies", []) or [])
        raw["domains"] = tuple(raw.get("domains") or ())
        portals.append(Portal(**raw, agencies=agencies))
    return Registry(tuple(portals))


# libyaml when PyYAML was built with it: a registry of thousands of portals loads in a fraction of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_registry(path: str | Path | None = None) -> Registry:
    path = Path(path or os.environ.get("XXGK_REGISTRY") or DEFAULT_PATH)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_LOADER) or {}  # a safe loader (CSafeLoader or SafeLoader)
    except (OSError, yaml.YAMLError) as e:
        raise RegistryError(f"cannot read registry {path}: {e}") from e
    return parse_registry(data)


def portal_for_url(url: str, agency: str, kind: str) -> Portal:
    """A portal that is not in the registry, from any page of it: its own registrable domain only."""
    import tldextract  # only here: loading the registry does not need the public-suffix list

    host = (urlsplit(url).hostname or "").lower()
    parts = urlsplit(url)
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    ext = extract(host)
    domain = ext.top_domain_under_public_suffix if ext.suffix and ext.domain else host
    return Portal(
        id=f"url:{parts.netloc}",
        name=agency,
        cms="generic",
        start_url=url,
        domains=(domain or host,),
        agencies=(Agency(name=agency, kind=kind),),
    )
