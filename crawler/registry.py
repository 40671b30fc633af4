"""The declared registry of portals and of the agencies that must report (Open States style).

Users edit `crawler/registry.yaml` (or pass their own file with XXGK_REGISTRY / --registry).
Adding a portal on a known CMS family is a few lines: an id, the family, a start URL, the
agency's own domains, and who reports there.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.registry_schema import CMS_FAMILIES, KINDS, Problem, validate
from crawler.registry_source import Located, Source, SourceError, duplicate_keys, read_source

DEFAULT_PATH = Path(__file__).with_name("registry.yaml")
__all__ = [
    "CMS_FAMILIES",
    "DEFAULT_PATH",
    "KINDS",
    "Agency",
    "Evidence",
    "Portal",
    "Registry",
    "RegistryError",
    "check_registry",
    "load_registry",
    "parse_registry",
    "portal_for_url",
    "registry_path",
]


@dataclass(frozen=True)
class Evidence:
    """Public evidence that a URL is the agency's portal or column: who else crawls it (public_code), a stored
    copy of a page of it (saved_page), a list that names it (published_list), or `xxgk discover` (discovered)."""

    kind: str
    source: str  # a URL, or owner/repo:path
    note: str | None = None
    date: dt.date | None = None


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
    evidence: tuple[Evidence, ...] = ()  # why listing_url is this agency's (see Evidence)

    def deadline_for(self, year: int) -> dt.date:
        if self.deadline:
            month, day = (int(x) for x in self.deadline.split("-"))
            return dt.date(year + 1, month, day)
        return dt.date(year + 1, 1, 31) if self.kind == "department" else dt.date(year + 1, 3, 31)


@dataclass(frozen=True)
class Portal:
    id: str  # also the Scrapy spider name
    name: str
    cms: str
    start_url: str  # the 年报 column; for a portal declared by its home page only, the home page (see home_url)
    domains: tuple[str, ...]
    js: bool = False  # listing built in the browser: fetch it through scrapy-playwright
    verified: bool = False  # True only when someone has fetched start_url and seen the list
    note: str | None = None
    options: dict = field(default_factory=dict)  # family-specific settings (column ids, API paths)
    agencies: tuple[Agency, ...] = ()
    evidence: tuple[Evidence, ...] = ()  # why start_url is this portal's (see Evidence)
    # The home page or 信息公开 page the 年报 column is found from, and found again when it moves (self-healing
    # listings: crawler/crawl/columns.py). None: the column is only what start_url says.
    home_url: str | None = None

    @property
    def declares_column(self) -> bool:
        """The registry names the column itself (start_url), not only the home page it is found from."""
        return self.home_url is None or self.start_url != self.home_url


@dataclass(frozen=True)
class Registry:
    portals: tuple[Portal, ...]
    expected: tuple[Agency, ...] = ()  # expected reporters without a declared portal: unmonitored, never missing

    def portal(self, portal_id: str) -> Portal:
        for p in self.portals:
            if p.id == portal_id:
                return p
        raise KeyError(f"no portal {portal_id!r} in the registry")

    def agencies(self) -> list[tuple[Portal, Agency]]:
        return [(p, a) for p in self.portals for a in p.agencies]


class RegistryError(ValueError):
    """A registry that cannot be used. `problems` holds every problem, one line each (`FILE:LINE: message`);
    the exception's text is the first of them, so a command that prints one line prints that one."""

    def __init__(self, problems: list[Located]):
        self.problems = problems
        more = len(problems) - 1
        tail = f" (and {more} more: xxgk registry check {problems[0].file})" if more > 0 else ""
        super().__init__(f"{problems[0]}{tail}")


def registry_path(path: str | Path | None = None) -> Path:
    """The registry a command uses: the one given, else $XXGK_REGISTRY, else the bundled one."""
    return Path(path or os.environ.get("XXGK_REGISTRY") or DEFAULT_PATH)


def check_registry(path: str | Path | None = None) -> tuple[Registry | None, list[Located]]:
    """The registry and no problem, or None and every problem with its line. Never raises."""
    path = registry_path(path)
    try:
        source = read_source(path)
    except SourceError as e:
        return None, [e.located]
    return _build(source)


_loaded: tuple[tuple[str, str], Registry] | None = None  # (path, SHA-256 of its bytes), the registry built


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry at `path` (default: $XXGK_REGISTRY or the bundled file). Raises RegistryError.

    Read once per process while the file's bytes stay the same: `xxgk crawl` checks the registry before it
    starts and Scrapy's spider loader reads it again, and a national one takes seconds to build (a Registry is
    frozen, so every caller can hold the same one)."""
    global _loaded
    key = _content_key(registry_path(path))
    if key is not None and _loaded is not None and _loaded[0] == key:
        return _loaded[1]
    registry, problems = check_registry(path)
    if registry is None:
        raise RegistryError(problems)
    # Read back from a compact copy. Parsing a national registry (3,000 portals) builds a YAML node tree and
    # schema models of ≈ 170 MB, and the few MB of Registry made among them kept ≈ 160 MB of it in every process
    # that loads the registry (CPython's allocator returns an arena to the system only once it is empty). With
    # all of it freed first, the copy is made in fresh memory: ≈ 33 MB.
    compact = pickle.dumps(registry, pickle.HIGHEST_PROTOCOL)
    del registry
    _loaded = None
    gc.collect()
    registry = pickle.loads(compact)
    if key is not None:
        _loaded = (key, registry)
    return registry


def _content_key(path: Path) -> tuple[str, str] | None:
    try:
        with path.open("rb") as f:
            return str(path.resolve()), hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None  # check_registry says what is wrong with it


def parse_registry(data: Any, name: str = "registry") -> Registry:
    """A registry from already-loaded data (tests build them as dicts). Raises RegistryError."""
    registry, problems = _build(Source(name, data, None))
    if registry is None:
        raise RegistryError(problems)
    return registry


def _build(source: Source) -> tuple[Registry | None, list[Located]]:
    model, problems = validate(source.data)
    problems = duplicate_keys(source.root) + problems
    if problems or model is None:
        return None, sorted((_located(source, p) for p in problems), key=lambda x: x.line)
    portals = tuple(
        Portal(
            **p.model_dump(exclude={"start_url", "domains", "agencies", "evidence"}),
            start_url=p.start_url or p.home_url,  # the schema wants one of them
            domains=tuple(p.domains),
            agencies=tuple(_agency(a) for a in p.agencies),
            evidence=_evidence(p.evidence),
        )
        for p in model.portals
    )
    return Registry(portals, expected=tuple(_agency(a) for a in model.expected)), []


def _located(source: Source, problem: Problem) -> Located:
    if source.root is None:  # data without a file: say where by path instead of line
        where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in problem.path).lstrip(".")
        return Located(source.file, 0, f"{where}: {problem.message}" if where else problem.message)
    return source.locate(problem)


def _agency(a) -> Agency:
    return Agency(**a.model_dump(exclude={"evidence"}), evidence=_evidence(a.evidence))


def _evidence(items) -> tuple[Evidence, ...]:
    return tuple(Evidence(**e.model_dump()) for e in items)


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
