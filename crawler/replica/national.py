"""The national replay: thousands of replica portals, one per loopback address, for bench/national.py.

    world = NationalWorld(portals=3000, reports=100_000)
    with NationalServer(world) as server:          # one selector thread over 127.10.x.y, one per portal
        server.registry_path(tmpdir)
        server.set_epoch(2)                        # spring: 15% of the agencies publish their next report

Each portal is a county (or district, or city) people's government and a few of its departments, all listed in
the government's 年报 column, with reports for 2019–2024 (the first `reports` reports, spread evenly); in epoch 2
a share of the agencies publishes its 2025 report. The CMS families are mixed as on the real national list
(TRS, Hanweb, generic, Fujian, JSON API, and every 500th portal's list drawn by JavaScript), and so are the
formats: mostly the page itself (HTML, or the JSON API's detail body) and PDF, some DOCX, a few zips and Word-97
DOCs. Pages are made by the demo replica's own builders (crawler/replica/sites.py) and renderers (render.py),
for one portal at a time when it is first asked for, and kept for the portals in flight only (a bounded cache):
100,000 reports never sit in memory at once.

PDF, DOC and DOCX renditions cost LibreOffice (or python-docx) seconds each, so they come from a small pool of
distinct rendered reports (`POOL`), cached on disk like the demo's: their bytes repeat across portals (the store
keeps them once) and their text names the pool's agency, not the listing's (the archive keeps the crawler's
agency and year, and notes the difference as archive.agency_differs). Parsing cost per format is the real one.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path

import yaml

from crawler.registry import Agency as RegistryAgency
from crawler.registry import Portal as RegistryPortal
from crawler.registry import Registry
from crawler.replica import render, sites, world
from crawler.replica.figures import series
from crawler.replica.registry import _Dumper, _plain
from crawler.replica.server import Listener, respond

BASE_YEARS = list(range(2019, 2025))
SPRING_YEAR = 2025
SPRING_SHARE = 0.15  # agencies that publish their next report in the spring epoch
JS_EVERY = 500  # every JS_EVERY-th portal's list is drawn by JavaScript (rendered in Chromium)
PER_PAGE = 8  # list entries per page: ~35 reports → several list pages per portal
POOL = {"pdf": 24, "docx": 24, "doc": 3}  # distinct renditions per format
SITE_CACHE = 256  # portals whose pages are kept built
NETWORK = "127.10.0.0/16"  # where the portals listen (the crawl's --allow-network)
TRAP_BASE = "http://127.0.0.1"
# (family, weight): the national list's mix, by what the portals run
FAMILIES = (("trs", 35), ("hanweb", 20), ("generic", 25), ("fujian", 10), ("jsonapi", 10))
# (format, share of reports per 10,000): the rest is the page itself
FORMATS = (("pdf", 3300), ("docx", 800), ("zip", 150), ("doc", 30))
DEPARTMENTS = "教育局 民政局 财政局 卫生健康委员会 交通运输局 自然资源局 生态环境局 住房和城乡建设局 农业农村局 市场监督管理局".split()
PROVINCES = "河北省 山西省 辽宁省 吉林省 江苏省 浙江省 安徽省 福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 四川省 贵州省 云南省 陕西省 甘肃省".split()
_SYLLABLES = "安 宝 昌 崇 大 德 东 丰 福 阜 高 广 海 和 华 怀 嘉 建 江 金 靖 久 康 乐 临 龙 隆 梅 南 宁 平 清 庆 瑞 山 上 邵 顺 泰 桃 天 通 威 文 武 西 仙 祥 新 兴 永 玉 元 云 长 正 中".split()
_SUFFIXES = ("县", "县", "县", "区", "市")
_SCALE = {"government": 12, "department": 1}


def _h(*parts: object) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


@dataclass(frozen=True)
class NationalPortal:
    index: int
    host: str
    portal: world.Portal  # the demo world's own Portal record: sites.py's builders take it
    agencies: tuple[world.Agency, ...]
    base_reports: int  # reports in epoch 1 (agency by agency, BASE_YEARS each)

    @property
    def id(self) -> str:
        return self.portal.id

    def spring(self, agency: world.Agency) -> bool:
        return _h("spring", self.id, agency.name) % 10_000 < SPRING_SHARE * 10_000


class NationalWorld:
    def __init__(self, portals: int = 3000, reports: int = 100_000):
        if reports < portals:
            raise ValueError("at least one report per portal")
        self.reports = reports
        per, extra = divmod(reports, portals)
        self.portals = [self._portal(i, per + (i < extra)) for i in range(portals)]
        self._lock = threading.Lock()

    # --- the portals ---------------------------------------------------------------------------------------
    def _portal(self, i: int, count: int) -> NationalPortal:
        place = self._place(i)
        weights = [w for _, w in FAMILIES]
        pick = _h("family", i) % sum(weights)
        cms = next(f for (f, _), edge in zip(FAMILIES, _edges(weights), strict=True) if pick < edge)
        js = i % JS_EVERY == JS_EVERY - 1
        departments = [d for d in DEPARTMENTS]
        n_agencies = -(-count // len(BASE_YEARS))
        agencies = [world.Agency(f"{place}人民政府", "government")]
        agencies += [world.Agency(f"{place}{d}", "department") for d in departments[: n_agencies - 1]]
        pid = f"nat-{i:04d}"
        start, listing, options = _paths(cms, js)
        province = PROVINCES[i % len(PROVINCES)]
        portal = world.Portal(
            pid,
            "generic" if js else cms,
            f"{place}人民政府（全国回放）",
            "",
            start,
            agencies,
            province=province,
            county=place,
            level="county",
            note="National replay portal (crawler/replica/national.py); the place is fictional.",
            listing=listing,
            js=js,
            options=options,
        )
        if cms in ("trs", "fujian", "generic") and not js:
            # sites.py reads the page size by portal id (the demo's portals): the national ones are added here.
            sites.PER_PAGE.setdefault(pid, PER_PAGE)
        host = f"127.10.{i // 250}.{i % 250 + 1}"  # inside NETWORK
        return NationalPortal(i, host, portal, tuple(agencies), count)

    @staticmethod
    def _place(i: int) -> str:
        """A fictional place name, unique per portal, with no Arabic digits (titles are read as agency + year)."""
        n = len(_SYLLABLES)
        a, b, c = i % n, (i // n) % n, (i // (n * n)) % n
        name = _SYLLABLES[a] + _SYLLABLES[(a + b + 1) % n] + (_SYLLABLES[c] if i >= n * n else "")
        return name + _SUFFIXES[_h("suffix", i) % len(_SUFFIXES)]

    # --- what each portal publishes ---------------------------------------------------------------------------
    def publications(self, p: NationalPortal, epoch: int) -> list[world.Published]:
        out: list[world.Published] = []
        left = p.base_reports
        for number, agency in enumerate(p.agencies):
            years = BASE_YEARS[: max(0, min(len(BASE_YEARS), left))]
            left -= len(years)
            spring = epoch >= 2 and p.spring(agency)
            if spring:
                years = [*years, SPRING_YEAR]
            if not years:
                continue
            figures = series(agency.name, years, scale=_SCALE[agency.kind])
            for year in years:
                docid = 10_000 + 100 * number + year - 2000  # the same URL in every epoch, as on a real portal
                published = world.publication_date(agency, year, p.id)
                title = world.report_title(p.portal, agency, year)
                report = render.Report(figures[year], title, published - timedelta(days=3))
                fmt = self._format(p, agency, year)
                out.append(world.Published(p.id, agency, year, published, fmt, {1: report}, docid))
        return sorted(out, key=lambda x: (x.published, x.docid), reverse=True)

    def _format(self, p: NationalPortal, agency: world.Agency, year: int) -> str:
        pick = _h("format", p.id, agency.name, year) % 10_000
        fmt = "html"
        for name, share in FORMATS:
            if pick < share:
                fmt = name
                break
            pick -= share
        if p.portal.cms == "fujian" and fmt != "html":
            fmt = "pdf"  # the Fujian platform shows attachments in its PDF viewer
        if p.portal.cms == "jsonapi" and fmt == "html":
            fmt = "json"  # the report body sits in the detail API's JSON
        return fmt

    def expected(self, epoch: int) -> int:
        """How many reports a crawl of this epoch must archive (computed, not built)."""
        spring = sum(p.spring(a) for p in self.portals for a in self._agencies_with_reports(p)) if epoch >= 2 else 0
        return self.reports + spring

    def _agencies_with_reports(self, p: NationalPortal) -> tuple[world.Agency, ...]:
        return p.agencies[: -(-p.base_reports // len(BASE_YEARS))]

    def requests_per_portal(self) -> float:
        """Scale for the politeness projection: every report page and attachment, list pages, robots.txt."""
        return self.reports / len(self.portals)

    # --- the pages ---------------------------------------------------------------------------------------------
    @cached_property
    def pool(self) -> dict[str, list[bytes]]:
        """A few distinct renditions per format (LibreOffice output cached on disk, as the demo's)."""
        reports = []
        for k in range(max(POOL.values())):
            agency = world.Agency(f"样本{_SYLLABLES[k % len(_SYLLABLES)]}县人民政府", "government")
            year = BASE_YEARS[k % len(BASE_YEARS)]
            figures = series(agency.name, [year], scale=_SCALE[agency.kind])
            title = f"{agency.name}{year}年政府信息公开工作年度报告"
            reports.append(render.Report(figures[year], title, world.publication_date(agency, year, "pool")))
        out = {}
        for fmt, n in POOL.items():
            made = render.converted(reports[:n], fmt)
            out[fmt] = [made[render.content_key(r)] for r in reports[:n]]
        return out

    def site(self, p: NationalPortal, epoch: int) -> sites.Site:
        pubs = self.publications(p, epoch)
        assets = sites.Assets({}, {}, {})
        for pub in pubs:
            if pub.fmt in ("pdf", "doc", "docx", "zip"):
                fmt = "docx" if pub.fmt == "zip" else pub.fmt
                rendition = self.pool[fmt][_h("pool", pub.portal, pub.docid) % len(self.pool[fmt])]
                getattr(assets, fmt)[render.content_key(pub.report(epoch))] = rendition
        site = sites.Site()
        robots = b"User-agent: *\nDisallow: /_replica/\nDisallow: /private/\n"
        site.routes["/robots.txt"] = sites.Resource(robots, "text/plain; charset=utf-8")
        builder = sites.BUILDERS["js" if p.portal.js else p.portal.cms]  # the demo's builders, not copies
        # `base` only places the generic family's trap links: on 127.0.0.1's neighbour, a private address the
        # crawl refuses (the national portals are allowed 127.10.0.0/16 only).
        builder(site, p.portal, pubs, assets, TRAP_BASE, epoch)
        sites.add_navigation(site, p.portal)
        return site

    # --- the registry ---------------------------------------------------------------------------------------
    def registry(self, bases: dict[str, str]) -> Registry:
        """Every portal as the crawler must see it, `bases` giving each host's base URL."""
        portals = []
        for p in self.portals:
            base = bases[p.host]
            listing = base + p.portal.listing_path
            agencies = tuple(
                RegistryAgency(
                    name=a.name, kind=a.kind, province=p.portal.province, county=p.portal.county,
                    level=p.portal.level, listing_url=listing,
                )
                for a in self._agencies_with_reports(p)
            )
            portals.append(
                RegistryPortal(
                    id=p.id, name=p.portal.name, cms=p.portal.cms, start_url=base + p.portal.start,
                    domains=(p.host,), js=p.portal.js, verified=True, note=p.portal.note,
                    options=dict(p.portal.options), agencies=agencies,
                )
            )
        return Registry(tuple(portals))

    def registry_yaml(self, bases: dict[str, str]) -> str:
        data = {"portals": [_plain(asdict(p)) for p in self.registry(bases).portals]}
        head = "# The national replay's registry (crawler/replica/national.py), generated; the places are fictional.\n"
        return head + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16)


def _edges(weights: list[int]) -> list[int]:
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _paths(cms: str, js: bool) -> tuple[str, str | None, dict]:
    """(start path, listing path if elsewhere, registry options) of a portal of family `cms` at the host root."""
    if js:
        return "/zfxxgk/zfxxgknb/index.html", None, {}
    if cms == "trs":
        return "/zwgk/zfxxgk/zfxxgknb/index.html", None, {}
    if cms == "hanweb":
        return f"/col/col{sites.HANWEB_COLUMN}/index.html", None, {}
    if cms == "fujian":
        return "/zwgk/zfxxgk/zfxxgknb/index.htm", None, {}
    if cms == "jsonapi":
        api = "/api-gateway/jpaas-jpolicy-web-server/front/info"
        options = {"list_url": f"{api}/do-search", "page_size": PER_PAGE, "detail_url": f"{api}/detail?iid={{id}}"}
        return "/col/col34563/index.html", None, options
    return "/zwgk/zfxxgk/zfxxgknb/index.html", None, {}  # generic: the column itself




class NationalServer:
    """Every national portal on its own loopback address (one selector thread), pages built per portal on demand."""

    def __init__(self, national: NationalWorld, port: int = 0):
        self.world = national
        self.epoch = 1
        self.listener = Listener([p.host for p in national.portals], self._answer, port)
        self._by_host = {p.host: p for p in national.portals}
        self._sites: OrderedDict[tuple[str, int], sites.Site] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0

    def start(self) -> NationalServer:
        self.world.pool  # noqa: B018 - render (or read from the cache) the renditions before anyone asks
        self.listener.start()
        return self

    def stop(self) -> None:
        self.listener.stop()

    def __enter__(self) -> NationalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def bases(self) -> dict[str, str]:
        return {host: "http://{}:{}".format(*self.listener.address(host)) for host in self._by_host}

    def registry_path(self, directory: str | Path) -> Path:
        path = Path(directory) / "registry.yaml"
        path.write_text(self.world.registry_yaml(self.bases()), encoding="utf-8")
        return path

    def set_epoch(self, epoch: int) -> None:
        with self._lock:
            self.epoch = epoch
            self._sites.clear()

    def site(self, host: str) -> sites.Site:
        key = (host, self.epoch)
        with self._lock:
            site = self._sites.get(key)
            if site is not None:
                self._sites.move_to_end(key)
                return site
            p = self._by_host[host]
            site = self.world.site(p, self.epoch)
            self._sites[key] = site
            while len(self._sites) > SITE_CACHE:
                self._sites.popitem(last=False)
            return site

    def _answer(self, http, body: bytes) -> None:
        self.requests += 1
        respond(http, self.site(http.server.server_address[0]), body)
