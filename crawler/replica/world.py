"""What the replica portals publish: six portals, one per CMS family, and every report on them.

The story the demo tells lives here, as data:
- 沈阳 (TRS, GBK pages, two list pages): an inconsistent government report (2022); a page whose URL date and
  PubDate disagree (2021).
- 温州 (Hanweb JCMS, datastore + dataproxy): the 人防办 files its 2022 report late (2023-02-20); DOCX attachments.
- 淄博 (JSON API): report bodies in the detail JSON, the 人防办's as PDF attachments.
- 嘉兴 (list drawn by JavaScript): the government's 2023 report is missing; a Word-97 DOC attachment.
- 大渡口 (generic portal with navigation chrome, reached from the home page): the government's 2023 report is
  edited after publication (epoch 2 corrects its inconsistent table); DOC, DOCX and zip attachments; a page
  with no date at all (Last-Modified); links to a look-alike domain and to private addresses.
- 榕溪县 (fictional, Fujian platform): 21 reports, the first 10 static, the rest only through the search API;
  PDFs behind the "全真版" viewer.
- 沈阳's 人防办 takes its 2019 report down in epoch 2: gone from the list, its page answers 404.
- 大渡口 is declared by its home page only: the crawl finds the column from it. In epoch 3 the column moves
  (its old list answers 404, the 政府信息公开 menu links the new one; the report pages stay where they were):
  the next crawl finds it again and the check raises one 「年报栏目地址已变更」.
- 桐溪县 (fictional) never answers: its registry entry points at a port where nothing listens (only when the
  server is asked for it, see ReplicaServer(down_portal=True)), so its agency cannot be verified.
"""

from __future__ import annotations

import hashlib
from dataclasses import KW_ONLY, dataclass, field
from datetime import date, timedelta

from crawler.replica.figures import Figures, make_inconsistent, seed_figures, series
from crawler.replica.render import Report

YEARS = list(range(2019, 2026))


@dataclass
class Agency:
    name: str  # the registry's name
    kind: str  # department | government
    short: str | None = None  # how this portal's titles name it, when shorter than the registry name
    first_year: int = 2019


@dataclass
class Portal:
    """One replica portal, declared once: `crawler/replica/registry.py` derives its registry entry from this.

    Paths are relative to the server (the base URL is known only once it listens). Where the portal sits
    (province, city or county, level) is the same for every agency on it, so it is said here, once per portal.
    """

    id: str
    cms: str
    name: str
    prefix: str  # the portal's root path on the replica server
    start: str  # start path
    agencies: list[Agency]
    _: KW_ONLY
    province: str
    level: str  # the agencies' level: city | county
    note: str  # what the replica replays, for whoever reads the registry
    city: str | None = None
    county: str | None = None
    listing: str | None = None  # the report list's path, when the crawl starts elsewhere (a home page)
    js: bool = False
    options: dict = field(default_factory=dict)
    down: bool = False  # never answers: nothing is served for it, and its registry entry points at a closed port
    by_home: bool = False  # the registry declares it by its home page (start) only: the crawl finds the column
    moved: tuple[int, str] | None = None  # (epoch, path): from that epoch its list lives there, the old one is 404

    @property
    def listing_path(self) -> str:
        """The page a journalist would check for the reports: the list, which is the start page unless said."""
        return self.listing or self.start

    def listing_in(self, epoch: int) -> str:
        """The report list's path in an epoch (after a move, the new one)."""
        return self.moved[1] if self.moved and epoch >= self.moved[0] else self.listing_path


@dataclass
class Published:
    """One report as a portal publishes it."""

    portal: str
    agency: Agency
    year: int
    published: date
    fmt: str  # where the report is: html (the page) | pdf | docx | doc | zip (a docx inside) | json (API body)
    reports: dict[int, Report]  # epoch → content (an edited report has two)
    docid: int
    case: str | None = None  # late | inconsistent | edited | dates_disagree | no_date | taken_down
    url_date: date | None = None  # when the URL's date differs from the published date
    withdrawn: int | None = None  # the epoch from which the portal no longer lists it and its page answers 404

    def listed(self, epoch: int) -> bool:
        """The portal publishes it in this epoch (lists it and serves it)."""
        return self.withdrawn is None or epoch < self.withdrawn

    def report(self, epoch: int) -> Report:
        """Its content in an epoch: the latest edit made by then."""
        return self.reports[max((e for e in self.reports if e <= epoch), default=min(self.reports))]

    @property
    def title(self) -> str:
        return self.reports[min(self.reports)].title


PORTALS: list[Portal] = [
    Portal(
        "demo-shenyang",
        "trs",
        "沈阳市人民政府（复制站）",
        "/shenyang",
        "/shenyang/zwgk/zfxxgk/zfxxgknb/index.html",
        [Agency("沈阳市人民政府", "government"), Agency("沈阳市人民防空办公室", "department")],
        province="辽宁省",
        city="沈阳市",
        level="city",
        note="TRS WCM replica — GBK pages, index_N.html paging through createPageHTML.",
    ),
    Portal(
        "demo-wenzhou",
        "hanweb",
        "温州市人民政府（复制站）",
        "/wenzhou",
        "/wenzhou/col/col1229116978/index.html",
        [Agency("温州市人民政府", "government"), Agency("温州市人民防空办公室", "department", short="温州市人防办")],
        province="浙江省",
        city="温州市",
        level="city",
        note="Hanweb JCMS replica — list records in a datastore, later records from dataproxy.jsp.",
    ),
    Portal(
        "demo-zibo",
        "jsonapi",
        "淄博市人民政府（复制站）",
        "/zibo",
        "/zibo/col/col34563/index.html",
        [Agency("淄博市人民政府", "government"), Agency("淄博市人民防空办公室", "department")],
        province="山东省",
        city="淄博市",
        level="city",
        note="JSON-API replica — do-search list, report bodies from the detail API.",
        options={
            "list_url": "/zibo/api-gateway/jpaas-jpolicy-web-server/front/info/do-search",
            "page_size": 5,
            "detail_url": "/zibo/api-gateway/jpaas-jpolicy-web-server/front/info/detail?iid={id}",
        },
    ),
    Portal(
        "demo-jiaxing",
        "generic",
        "嘉兴市人民政府（复制站）",
        "/jiaxing",
        "/jiaxing/zfxxgk/zfxxgknb/index.html",
        [Agency("嘉兴市人民政府", "government"), Agency("嘉兴市人民防空办公室", "department")],
        province="浙江省",
        city="嘉兴市",
        level="city",
        note="The list exists only once JavaScript has run (fetch + DOM); rendered in Chromium.",
        js=True,
    ),
    Portal(
        "demo-dadukou",
        "generic",
        "重庆市大渡口区人民政府（复制站）",
        "/dadukou",
        "/dadukou/index.html",
        [
            Agency("重庆市大渡口区人民政府", "government", short="大渡口区人民政府"),
            Agency("重庆市大渡口区人民防空办公室", "department", short="大渡口区人民防空办公室"),
        ],
        province="重庆市",
        county="大渡口区",
        level="county",
        note="A portal with navigation chrome, declared by its home page: the crawl finds its column from there.",
        listing="/dadukou/zwgk/zfxxgk/zfxxgknb/index.html",
        by_home=True,
        moved=(3, "/dadukou/zwgk/zfxxgk/ndbg/index.html"),
    ),
    Portal(
        "demo-rongxi",
        "fujian",
        "榕溪县人民政府（复制站，虚构）",
        "/rongxi",
        "/rongxi/zwgk/zfxxgk/zfxxgknb/index.htm",
        [
            Agency("榕溪县人民政府", "government"),
            Agency("榕溪县人民防空办公室", "department"),
            Agency("榕溪县教育局", "department"),
        ],
        province="福建省",
        county="榕溪县",
        level="county",
        note="Fujian platform replica — 10 reports static, the rest only through /fjdzapp/search. The county is fictional.",
    ),
    Portal(
        "demo-tongxi",
        "trs",
        "桐溪县人民政府（复制站，虚构，不应答）",
        "/tongxi",
        "/tongxi/zwgk/zfxxgk/zfxxgknb/index.html",
        [Agency("桐溪县人民政府", "government")],
        province="福建省",
        county="桐溪县",
        level="county",
        note="A portal that never answers (connection refused): its agency is unverified, never missing. The county is fictional.",
        down=True,
    ),
]

# (portal, agency) → formats by year: where the report lives. Default: the page itself (html).
_FORMATS = {
    ("demo-shenyang", "沈阳市人民防空办公室"): {2020: "pdf", 2021: "pdf", 2022: "pdf"},
    ("demo-wenzhou", "温州市人民防空办公室"): {
        2019: "docx",
        2020: "html",
        2021: "docx",
        2022: "docx",
        2023: "docx",
        2024: "docx",
        2025: "docx",
    },
    ("demo-zibo", "淄博市人民政府"): dict.fromkeys(YEARS, "json"),
    ("demo-zibo", "淄博市人民防空办公室"): {**dict.fromkeys(YEARS, "json"), 2022: "pdf", 2023: "pdf"},
    ("demo-jiaxing", "嘉兴市人民防空办公室"): {2019: "doc"},
    ("demo-dadukou", "重庆市大渡口区人民防空办公室"): {2019: "doc", 2020: "docx", 2021: "zip", 2022: "docx"},
    ("demo-rongxi", "榕溪县教育局"): {2023: "pdf", 2024: "pdf", 2025: "pdf"},
}
_MISSING = {("demo-jiaxing", "嘉兴市人民政府", 2023)}
_LATE = {("demo-wenzhou", "温州市人民防空办公室", 2022): date(2023, 2, 20)}
_INCONSISTENT = {("demo-shenyang", "沈阳市人民政府", 2022)}
_EDITED = {("demo-dadukou", "重庆市大渡口区人民政府", 2023)}
_DATES_DISAGREE = {("demo-shenyang", "沈阳市人民政府", 2021)}
_NO_DATE = {("demo-dadukou", "重庆市大渡口区人民政府", 2019)}
_TAKEN_DOWN = {("demo-shenyang", "沈阳市人民防空办公室", 2019): 2}  # → the epoch from which it is gone
# Governments publish bigger numbers: scale their generated figures up.
_SCALE = {"government": 12, "department": 1}


def publication_date(agency: Agency, year: int, salt: str) -> date:
    """On time, with a few days' margin: departments late January, governments mid to late March."""
    day = int(hashlib.sha1(f"{salt}{agency.name}{year}".encode()).hexdigest(), 16) % 14
    return (
        date(year + 1, 1, 14) + timedelta(days=day)
        if agency.kind == "department"
        else date(year + 1, 3, 10) + timedelta(days=day)
    )


def _figures(agency: Agency) -> dict[int, Figures]:
    seed = next((s for s in seed_figures() if s.agency == agency.name), None)
    return series(agency.name, YEARS, scale=_SCALE[agency.kind], seed=seed)


def report_title(portal: Portal, agency: Agency, year: int) -> str:
    # Some portals print the year first, some use 年度; the title names the agency as the portal does.
    name = agency.short or agency.name
    if portal.cms == "fujian":
        return f"{name}{year}年度政府信息公开工作年度报告"
    if portal.id == "demo-dadukou" and agency.kind == "government":
        return f"{year}年{name}政府信息公开工作年度报告"
    return f"{name}{year}年政府信息公开工作年度报告"


def build() -> list[Published]:
    out: list[Published] = []
    docid = 1000
    for portal in PORTALS:
        if portal.down:
            continue  # publishes nothing anyone can fetch
        for agency in portal.agencies:
            figures = _figures(agency)
            for year in YEARS:
                key = (portal.id, agency.name, year)
                if key in _MISSING:
                    continue
                docid += 7
                published = _LATE.get(key) or publication_date(agency, year, portal.id)
                fig = figures[year]
                case = None
                if key in _INCONSISTENT:
                    fig, case = make_inconsistent(fig), "inconsistent"
                title = report_title(portal, agency, year)
                signed = published - timedelta(days=3)
                reports = {1: Report(fig, title, signed)}
                if key in _EDITED:
                    case = "edited"
                    reports = {
                        1: Report(make_inconsistent(fig, 10), title, signed),
                        2: Report(
                            fig, title, signed, note=f"（更正说明：{published.year}年5月6日更正表三“予以公开”数据。）"
                        ),
                    }
                if key in _LATE:
                    case = "late"
                url_date = None
                if key in _DATES_DISAGREE:
                    case, url_date = "dates_disagree", published + timedelta(days=3)
                if key in _NO_DATE:
                    case = "no_date"
                withdrawn = _TAKEN_DOWN.get(key)
                if withdrawn:
                    case = "taken_down"
                fmt = _FORMATS.get((portal.id, agency.name), {}).get(year, "html")
                out.append(
                    Published(portal.id, agency, year, published, fmt, reports, docid, case, url_date, withdrawn)
                )
    return out


def planted() -> dict[str, int]:
    """What the demo's story plants, by what `xxgk check` must find: the demo checks exactly these counts."""
    return {
        "late": len(_LATE),
        "missing": len(_MISSING),
        "inconsistent": len(_INCONSISTENT),  # the edited report is inconsistent only until its correction
        "edited": len(_EDITED),
        "taken_down": len(_TAKEN_DOWN),
        "unverified": sum(len(p.agencies) for p in PORTALS if p.down),
        "column_moved": sum(1 for p in PORTALS if p.moved),
    }


def portal(portal_id: str) -> Portal:
    return next(p for p in PORTALS if p.id == portal_id)
