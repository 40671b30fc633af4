"""The spiders on frozen pages shaped like the real portals (tests/files, see its README.md), no network.

Each page is written by hand after a structure documented in research/portal-patterns.md (TRS static lists,
the Fujian platform, Hanweb datastores and dataproxy, JPAAS, JSON do-search APIs, Guangdong, Heilongjiang and
ASP.NET variants). A test hands the page to the spider code the crawl would call (a registry spider's callback,
built by the registry loader over a throwaway archive) and checks what a person reading the page finds there:
the reports listed (URL, title, date), the next page, a report page's attachments and publication date, and
whether a page printing the template's tables is taken as the report itself. Where a spider follows a request
of its own (next page, dataproxy group, search API page, attachment), the next page answers that request.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs

import pytest
from parsel import Selector
from scrapy.http import Request
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from support.files import fixture_bytes, fixture_response, served_response

from crawler.crawl.incremental import SKIP
from crawler.crawl.items import DocumentItem, ReportItem
from spiders.base import dates, pages
from spiders.base.fujian import api_config, search_links
from spiders.base.hanweb import datastore_links, proxy_params
from spiders.base.report import Entry
from spiders.base.titles import report_title
from spiders.loader import RegistrySpiderLoader

REGISTRY = """
portals:
  - id: qinglan
    name: 青岚市人民政府
    cms: trs
    start_url: http://www.qinglan.gov.cn/zwgk/zfxxgk/zfxxgknb/
    domains: [qinglan.gov.cn]
    agencies:
      - {name: 青岚市人民政府, kind: government}
      - {name: 青岚市住房和城乡建设局, kind: department}
  - id: oulan
    name: 瓯澜市人民政府
    cms: hanweb
    start_url: https://www.oulan.gov.cn/col/col1229634071/index.html
    domains: [oulan.gov.cn]
    agencies:
      - {name: 瓯澜市人民政府, kind: government}
  - id: luchuan-kjj
    name: 鲁川市科学技术局
    cms: hanweb
    start_url: http://kjj.luchuan.gov.cn/col/col104321/index.html
    domains: [luchuan.gov.cn]
    agencies:
      - {name: 鲁川市科学技术局, kind: department}
  - id: rongxi
    name: 榕溪县人民政府
    cms: fujian
    start_url: http://www.rongxi.gov.cn/zwgk/zfxxgk/zfxxgknb/
    domains: [rongxi.gov.cn]
    agencies:
      - {name: 榕溪县人民政府, kind: government}
  - id: jilan
    name: 济澜市人民政府
    cms: jsonapi
    start_url: https://www.jilan.gov.cn/col/col24521/index.html
    domains: [jilan.gov.cn]
    options:
      list_url: /api-gateway/jpaas-jpolicy-web-server/front/info/do-search
      detail_url: /api-gateway/jpaas-jpolicy-web-server/front/info/detail?iid={id}
      params: {pageNo: "{page}", pageSize: "{size}", keywords: "政府信息公开工作年度报告"}
      page_size: 10
    agencies:
      - {name: 济澜市人民政府, kind: government}
  - id: jiangyu
    name: 江屿区人民政府
    cms: generic
    start_url: http://www.jiangyu.gov.cn/
    domains: [jiangyu.gov.cn]
    agencies:
      - {name: 江屿区人民政府, kind: government}
  - id: haiwan
    name: 海湾县人民政府
    cms: generic
    start_url: http://www.haiwan.gov.cn/zfxxgk/xxgkndbg/
    domains: [haiwan.gov.cn]
    agencies:
      - {name: 海湾县人民政府, kind: government}
  - id: songhe
    name: 松河市人民政府
    cms: generic
    start_url: http://www.songhe.gov.cn/songhe/c100437/list.shtml
    domains: [songhe.gov.cn]
    agencies:
      - {name: 松河市人民政府, kind: government}
  - id: zheshan-rsj
    name: 喆山区人力资源和社会保障局
    cms: generic
    start_url: http://rsj.zheshan.gov.cn/InfoPublic.aspx?cid=1019&pid=971&page=1&kw=
    domains: [zheshan.gov.cn]
    agencies:
      - {name: 喆山区人力资源和社会保障局, kind: department}
"""

QINGLAN = "http://www.qinglan.gov.cn/zwgk/zfxxgk/zfxxgknb/"
OULAN = "https://www.oulan.gov.cn/col/col1229634071/index.html"
LUCHUAN = "http://kjj.luchuan.gov.cn/col/col104321/index.html"
RONGXI = "http://www.rongxi.gov.cn/zwgk/zfxxgk/zfxxgknb/"
JILAN_API = "https://www.jilan.gov.cn/api-gateway/jpaas-jpolicy-web-server/front/info/"
HAIWAN = "http://www.haiwan.gov.cn/zfxxgk/xxgkndbg/"
SONGHE_REPORT = "http://www.songhe.gov.cn/songhe/c100437/202602/c01_468213.shtml"
ZHESHAN = "http://rsj.zheshan.gov.cn/InfoPublic.aspx?cid=1019&pid=971&page=1&kw="
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- the spiders ---------------------------------------------------------------------------------------------
@pytest.fixture
def spider(tmp_path):
    """spider(portal_id): the registry loader's spider for a portal of REGISTRY, over an empty archive."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    made = []

    def make(portal_id: str):
        settings = {"XXGK_DB": str(tmp_path / f"{portal_id}.db"), "XXGK_REGISTRY": str(registry)}
        cls = RegistrySpiderLoader(Settings(settings)).load(portal_id)
        s = cls.from_crawler(get_crawler(cls, settings))
        made.append(s)
        return s

    yield make
    for s in made:
        s.session.close()


def start_request(spider) -> Request:
    """The first request of `spider.start()`. It awaits nothing, so one step of the coroutine yields it."""
    step = spider.start().__anext__()
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("start() awaited something")


def answer(name: str, request: Request):
    return fixture_response(name, request.url, request=request)


def reports(out) -> list[tuple[str, str, str | None]]:
    """The report entries a callback requested: (URL, title as listed, date beside it)."""
    return [
        (r.url, r.meta["xxgk_entry"].text, r.meta["xxgk_entry"].date)
        for r in out
        if isinstance(r, Request) and r.meta.get("xxgk_role") == "report"
    ]


def requests(out, **meta) -> list[Request]:
    return [r for r in out if isinstance(r, Request) and all(r.meta.get(k) == v for k, v in meta.items())]


def request_for(out, url: str) -> Request:
    (request,) = [r for r in out if isinstance(r, Request) and r.url == url]
    return request


def form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


# --- TRS WCM static lists (portal-patterns.md §0, §1) --------------------------------------------------------
TRS_PAGE_1 = [
    ("202603/t20260328_4781203.html", "青岚市人民政府2025年政府信息公开工作年度报告", "2026-03-28"),
    ("202601/t20260129_4765531.html", "青岚市教育局2025年政府信息公开工作年度报告", "2026-01-29"),
    ("202601/t20260127_4763018.html", "青岚市财政局2025年政府信息公开工作年度报告", "2026-01-27"),
    ("202601/t20260126_4762240.html", "青岚市人力资源和社会保障局2025年政府信息公开工作年度报告", "2026-01-26"),
    ("202601/t20260123_4760987.html", "青岚市自然资源和规划局2025年政府信息公开工作年度报告", "2026-01-23"),
    ("202601/t20260122_4760112.html", "青岚市生态环境局2025年政府信息公开工作年度报告", "2026-01-22"),
    ("202601/t20260120_4758836.html", "青岚市住房和城乡建设局2025年政府信息公开工作年度报告", "2026-01-20"),
    ("202601/t20260119_4757710.html", "青岚市交通运输局2025年政府信息公开工作年度报告", "2026-01-19"),
    ("202601/t20260116_4755402.html", "青岚市卫生健康委员会2025年政府信息公开工作年度报告", "2026-01-16"),
    ("202503/t20250327_4410876.html", "青岚市人民政府2024年政府信息公开工作年度报告", "2025-03-27"),
]


def trs_page_1(spider):
    s = spider("qinglan")
    out = list(s.parse_listing(answer("trs_list_index.html", start_request(s))))
    return s, out


def test_trs_list_page_entries_with_full_titles_and_dates_and_createpagehtml_next_page(spider):
    s, out = trs_page_1(spider)
    # Titles cut short in the list ("…政府信息公开工作...") are read from title=; the date is the <span> beside.
    assert reports(out) == [(QINGLAN + path, title, day) for path, title, day in TRS_PAGE_1]
    # createPageHTML(3, 0, "index", "html"): page 2 of 3 is index_1.html, and only it is asked for next.
    assert [r.url for r in requests(out, xxgk_paged=True)] == [QINGLAN + "index_1.html"]
    assert not requests(out, xxgk_role="attachment")  # the footer's 申请表.doc is nobody's report


def test_trs_index_n_page_counts_pages_from_var_countpage(spider):
    s, first = trs_page_1(spider)
    (following,) = requests(first, xxgk_paged=True)
    out = list(s.parse_listing(answer("trs_list_index_1.html", following)))
    got = reports(out)
    assert len(got) == 10
    assert got[0] == (
        QINGLAN + "202501/t20250127_4302291.html",
        "青岚市教育局2024年政府信息公开工作年度报告",
        "2025-01-27",  # the date printed before the link this time
    )
    assert got[2] == (
        QINGLAN + "202501/t20250123_4299054.html",
        "青岚市人力资源和社会保障局2024年政府信息公开工作年度报告",
        "2025-01-23",
    )
    assert got[-1] == (
        QINGLAN + "202401/t20240125_3901193.html",
        "青岚市财政局2023年政府信息公开工作年度报告",
        "2024-01-25",
    )
    # "var currentPage = 1 … var countPage = 3//共多少页" on index_1.html: index_2.html is the last page.
    assert [r.url for r in requests(out, xxgk_paged=True)] == [QINGLAN + "index_2.html"]


def test_trs_report_page_pubdate_meta_and_its_pdf_attachment(spider):
    page_url = QINGLAN + "202601/t20260120_4758836.html"
    pdf_url = QINGLAN + "202601/P020260120563412708215.pdf"
    title = "青岚市住房和城乡建设局2025年政府信息公开工作年度报告"

    sel = Selector(text=fixture_bytes("trs_report_pubdate.html").decode("utf-8"))
    assert [(a.url, a.text) for a in pages.attachments(sel, page_url)] == [(pdf_url, title + ".pdf")]
    assert pages.title_candidates(sel)[0] == title  # <meta name="ArticleTitle">
    assert dates.meta_date(pages.meta_tags(sel)) == date(
        2026, 1, 20
    )  # <meta name="PubDate" content="2026-01-20 16:32">

    s, listing = trs_page_1(spider)
    request = request_for(listing, page_url)
    out = list(s.parse_report(answer("trs_report_pubdate.html", request)))
    (attachment,) = out  # the attachment first; the page waits for it
    assert attachment.url == pdf_url and attachment.meta["xxgk_role"] == "attachment"
    chain = attachment.meta["xxgk_chain"]
    assert not chain.inline  # the page only links its report
    assert (chain.context.published.at, chain.context.published.source) == ("2026-01-20", "page_meta")

    items = list(s.parse_attachment(served_response(attachment, PDF, "application/pdf")))
    report, page = items
    assert isinstance(report, ReportItem) and isinstance(page, DocumentItem)
    doc = report.document
    assert (doc.url, doc.page_url, doc.title, doc.year, doc.agency, doc.kind) == (
        pdf_url,
        page_url,
        title,
        2025,
        "青岚市住房和城乡建设局",
        "department",
    )
    assert (doc.published_at, doc.published_source) == ("2026-01-20", "page_meta")
    assert (page.document.url, page.role, page.after) == (page_url, "page", (pdf_url,))


# --- Hanweb JCMS datastore, dataproxy (§0, §3) ---------------------------------------------------------------
OULAN_ART = "https://www.oulan.gov.cn/art/"


def test_hanweb_column_datastore_records_and_the_dataproxy_group_after_them(spider):
    html = fixture_bytes("hanweb_column.html").decode("utf-8")
    assert not [link for link in pages.links(Selector(text=html), OULAN) if "/art/" in link.url]  # no <a> for HTML
    assert len(datastore_links(html, OULAN)) == 15

    s = spider("oulan")
    out = list(s.parse_listing(answer("hanweb_column.html", start_request(s))))
    got = reports(out)
    assert len(got) == 14  # 15 records, one of them the 图解 of the government's report
    assert got[0] == (
        OULAN_ART + "2026/3/27/art_1229634071_59413306.html",
        "瓯澜市人民政府2025年政府信息公开工作年度报告",
        "2026-03-27",
    )
    assert got[1] == (
        OULAN_ART + "2026/1/30/art_1229634071_59378812.html",
        "瓯澜市发展和改革委员会2025年政府信息公开工作年度报告",  # "…工作年…" in the record, full in title=
        "2026-01-30",
    )
    assert got[-1] == (
        OULAN_ART + "2026/1/20/art_1229634071_59355738.html",
        "瓯澜市水利局2025年政府信息公开工作年度报告",
        "2026-01-20",
    )
    assert OULAN_ART + "2026/3/27/art_1229634071_59413318.html" not in [u for u, _, _ in got]  # （图解）

    # 15 of totalRecord 27 on the page: the next group (records 16-27) is a POST to dataproxy.jsp.
    (proxy,) = requests(out, xxgk_role="column", xxgk_startrecord=16)
    assert proxy.method == "POST"
    assert proxy.url == "https://www.oulan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=27&perpage=5"
    body = form(proxy)
    assert (body["columnid"], body["unitid"], body["webid"], body["webname"], body["path"]) == (
        "1229634071",
        "8134552",
        "2917",
        "瓯澜市人民政府",
        "https://www.oulan.gov.cn/",
    )
    assert proxy.headers["Referer"] == OULAN.encode()


def test_hanweb_dataproxy_answer_gives_the_rest_and_no_group_past_the_total(spider):
    s = spider("oulan")
    column = list(s.parse_listing(answer("hanweb_column.html", start_request(s))))
    (proxy,) = requests(column, xxgk_startrecord=16)
    out = list(s.parse_dataproxy(answer("hanweb_dataproxy.xml", proxy)))
    got = reports(out)
    assert len(got) == 11  # 12 records, one of them a 解读
    assert got[0] == (
        OULAN_ART + "2026/1/20/art_1229634071_59355211.html",
        "瓯澜市农业农村局2025年政府信息公开工作年度报告",
        "2026-01-20",
    )
    assert (
        OULAN_ART + "2025/3/28/art_1229634071_58977731.html",
        "瓯澜市人民政府2024年政府信息公开工作年度报告",
        "2025-03-28",
    ) in got
    assert got[-1] == (
        OULAN_ART + "2025/1/24/art_1229634071_58890462.html",
        "瓯澜市教育局2024年政府信息公开工作年度报告",
        "2025-01-24",
    )
    assert OULAN_ART + "2025/3/28/art_1229634071_58977745.html" not in [u for u, _, _ in got]  # 《…》解读
    assert not requests(out, xxgk_role="column")  # 15 + 12 = totalrecord 27: nothing left to ask for


def test_jpaas_variant_records_with_absolute_links_and_no_paging_when_all_are_shown(spider):
    html = fixture_bytes("jpaas_column.html").decode("utf-8")
    proxy, body, perpage, total = proxy_params(html, LUCHUAN, {})
    assert proxy == "http://kjj.luchuan.gov.cn/module/web/jpage/dataproxy.jsp"
    assert (body["columnid"], body["unitid"], body["webid"], body["webname"]) == (
        "104321",
        "605432",
        "412",
        "鲁川市科学技术局",
    )
    assert (perpage, total) == (15, 7)

    s = spider("luchuan-kjj")
    out = list(s.parse_listing(answer("jpaas_column.html", start_request(s))))
    art = "http://kjj.luchuan.gov.cn/art/"
    assert reports(out) == [
        (art + "2026/1/29/art_104321_10459876.html", "鲁川市科学技术局2025年政府信息公开工作年度报告", "2026-01-29"),
        (art + "2025/1/23/art_104321_10298341.html", "鲁川市科学技术局2024年政府信息公开工作年度报告", "2025-01-23"),
        (art + "2024/1/30/art_104321_10130557.html", "鲁川市科学技术局2023年政府信息公开工作年度报告", "2024-01-30"),
        (art + "2023/1/19/art_104321_9964210.html", "鲁川市科学技术局2022年政府信息公开工作年度报告", "2023-01-19"),
        (art + "2022/1/26/art_104321_9801736.html", "鲁川市科学技术局2021年政府信息公开工作年度报告", "2022-01-26"),
        (art + "2021/1/28/art_104321_9655082.html", "鲁川市科学技术局2020年政府信息公开工作年度报告", "2021-01-28"),
        (art + "2020/1/21/art_104321_9510449.html", "鲁川市科学技术局2019年政府信息公开工作年度报告", "2020-01-21"),
    ]
    assert not [r for r in requests(out) if "dataproxy" in r.url]  # totalRecord 7, all 7 on the page


# --- Fujian intensive platform: static first page, search API (§0, §2) -----------------------------------------
def fujian_static(spider):
    s = spider("rongxi")
    out = list(s.parse_listing(answer("fujian_column.htm", start_request(s))))
    return s, out


def test_fujian_static_first_page_and_the_search_api_it_configures(spider):
    text = fixture_bytes("fujian_column.htm").decode("utf-8")
    config = api_config(text, RONGXI, {})
    assert config["url"] == "http://www.rongxi.gov.cn/fjdzapp/search"
    assert (config["form"]["channelid"], config["form"]["classsql"], config["prepage"], config["records"]) == (
        "200210",
        "chnlid=2746",
        10,
        21,
    )

    s, out = fujian_static(spider)
    got = reports(out)
    assert len(got) == 10  # the static page's ten; the avalon template row links nothing
    # The list says 03-10, the URL t20260313: the entry keeps the list's date (the URL's is another candidate).
    assert got[0] == (
        RONGXI + "202603/t20260313_7834512.htm",
        "榕溪县人民政府2025年度政府信息公开工作年度报告",
        "2026-03-10",
    )
    assert got[5] == (
        RONGXI + "202601/t20260126_7781322.htm",
        "榕溪县住房和城乡建设局2025年度政府信息公开工作年度报告",
        "2026-01-26",
    )
    assert got[-1] == (
        RONGXI + "202503/t20250325_7310467.htm",
        "榕溪县人民政府2024年度政府信息公开工作年度报告",
        "2025-03-25",
    )
    (api,) = requests(out, xxgk_role="api")
    assert (api.url, api.method) == ("http://www.rongxi.gov.cn/fjdzapp/search", "POST")
    body = form(api)
    assert (body["channelid"], body["classsql"], body["page"], body["prepage"]) == ("200210", "chnlid=2746", "1", "10")


def test_fujian_search_answer_adds_what_the_static_page_lacks_and_asks_for_page_two(spider):
    payload = json.loads(fixture_bytes("fujian_search.json"))
    links = search_links(payload, RONGXI)
    assert len(links) == 10 and dates.parse_date(links[0].date) == date(2026, 3, 30)

    s, static = fujian_static(spider)
    (api,) = requests(static, xxgk_role="api")
    out = list(s.parse_search(answer("fujian_search.json", api)))
    got = reports(out)
    # Nine of the answer's ten were on the static page already: only the newest one is new.
    assert [(u, t) for u, t, _ in got] == [
        (RONGXI + "202603/t20260330_7851206.htm", "榕溪县市场监督管理局2025年度政府信息公开工作年度报告")
    ]
    assert dates.parse_date(got[0][2]) == date(2026, 3, 30)
    (following,) = requests(out, xxgk_role="api")
    assert (following.url, form(following)["page"], form(following)["classsql"]) == (
        "http://www.rongxi.gov.cn/fjdzapp/search",
        "2",
        "chnlid=2746",
    )  # pagecount 3


# --- JSON-API do-search list and detail (§0) -------------------------------------------------------------------
JILAN_REPORTS = [
    ("8a1f3c9e9b2e4d7a019c2f5e61a40137", "济澜市人民政府2025年政府信息公开工作年度报告", "2026-03-26"),
    ("8a1f3c9e9ab14c2d019bfa31c7e2009e", "济澜市教育局2025年政府信息公开工作年度报告", "2026-01-29"),
    ("8a1f3c9e9ab14c2d019bf5d8e41a0087", "济澜市财政局2025年政府信息公开工作年度报告", "2026-01-28"),
    ("8a1f3c9e9ab14c2d019bf0a2b6c50071", "济澜市民政局2025年政府信息公开工作年度报告", "2026-01-27"),
    ("8a1f3c9e9ab14c2d019beb6f3a190064", "济澜市商务局2025年政府信息公开工作年度报告", "2026-01-26"),
    ("8a1f3c9e9ab14c2d019be62c15d70052", "济澜市审计局2025年政府信息公开工作年度报告", "2026-01-23"),
    ("8a1f3c9e95d83e6f0195d9a4c03b0019", "济澜市人民政府2024年政府信息公开工作年度报告", "2025-03-28"),
]


def jilan_list(spider):
    s = spider("jilan")
    first = start_request(s)
    assert (first.url, first.method) == (JILAN_API + "do-search", "POST")
    assert json.loads(first.body) == {"pageNo": "1", "pageSize": "10", "keywords": "政府信息公开工作年度报告"}
    return s, list(s.parse_api(answer("jsonapi_search.json", first)))


def test_json_do_search_list_asks_the_detail_of_reports_only_and_the_next_page(spider):
    s, out = jilan_list(spider)
    # Not the 解读, the 编制发布工作的通知, nor the 政务公开工作要点.
    assert reports(out) == [(JILAN_API + f"detail?iid={iid}", title, day) for iid, title, day in JILAN_REPORTS]
    (following,) = requests(out, xxgk_role="api")
    assert json.loads(following.body)["pageNo"] == "2"  # infoCount 23 > 10


def test_json_detail_printing_the_tables_is_an_inline_report_archived_after_its_pdf(spider):
    s, listing = jilan_list(spider)
    detail_url = JILAN_API + "detail?iid=8a1f3c9e9b2e4d7a019c2f5e61a40137"
    request = request_for(listing, detail_url)
    out = list(s.parse_detail(answer("jsonapi_detail.json", request)))
    (attachment,) = out
    assert attachment.url == (
        "https://www.jilan.gov.cn/api-gateway/jpaas-jpolicy-web-server/front/file/download"
        "?fileid=6f2d0c1e7a8b4c39a5e1d2f3b4c5d6e7"
    )
    assert attachment.meta["xxgk_chain"].inline  # the content prints the template's tables

    rendition, report = list(s.parse_attachment(served_response(attachment, PDF, "application/pdf")))
    assert isinstance(rendition, DocumentItem) and rendition.role == "rendition"  # the body is the report
    assert isinstance(report, ReportItem)
    doc = report.document
    assert (doc.url, doc.title, doc.year, doc.agency, doc.kind) == (
        detail_url,
        "济澜市人民政府2025年政府信息公开工作年度报告",
        2025,
        "济澜市人民政府",
        "government",
    )
    assert (doc.published_at, doc.published_source) == ("2026-03-26", "page_meta")  # publishdate 2026-03-26 10:30:00
    text = doc.data.decode("utf-8")
    assert "本年新收政府信息公开申请数量" in text and '<meta name="PubDate" content="2026-03-26">' in text
    assert report.after == (attachment.url,)


# --- a generic portal: the way from the home page to the column (§4) -------------------------------------------
def test_generic_home_page_leads_to_the_information_disclosure_section_and_its_annual_report_column(spider):
    s = spider("jiangyu")
    out = list(s.parse_listing(answer("generic_home.html", start_request(s))))
    assert [r.url for r in requests(out, xxgk_role="column")] == ["http://www.jiangyu.gov.cn/zwgk/zfxxgk/zfxxgknb/"]
    hubs = {r.url for r in requests(out, xxgk_role="hub")}
    assert {"http://www.jiangyu.gov.cn/zwgk/", "http://www.jiangyu.gov.cn/zwgk/zfxxgk/"} <= hubs
    assert all(r.meta["xxgk_depth"] == 1 for r in requests(out, xxgk_role="hub"))
    not_the_way = {
        "http://www.jiangyu.gov.cn/zwgk/zfxxgk/zfxxgkzn/",  # 政府信息公开指南
        "http://www.jiangyu.gov.cn/zwgk/zfxxgk/ysqgk/",  # 依申请公开
        "http://www.jiangyu.gov.cn/zwgk/tjxx/tjnb/",  # 统计年报
        "http://www.jiangyu.gov.cn/zwgk/zfgzbg/",  # 政府工作报告
    }
    assert not not_the_way & {r.url for r in requests(out)}
    assert not reports(out)  # no news item on the home page is a report


# --- a list mixing a report with its 解读/图解 and notices (Guangdong, §0) ---------------------------------------
GD = HAIWAN + "content/"


def test_mixed_list_requests_the_reports_and_not_the_interpretations_or_notices(spider):
    s = spider("haiwan")
    out = list(s.parse_listing(answer("gd_list_mixed.html", start_request(s))))
    got = {u: (t, d) for u, t, d in reports(out)}
    assert got[GD + "post_2218734.html"] == ("海湾县人民政府2025年政府信息公开工作年度报告", "2026-03-27")
    assert got[GD + "post_2201147.html"] == ("海湾县教育局2025年政府信息公开工作年度报告", "2026-01-29")
    assert got[GD + "post_2200963.html"] == ("海湾县城镇街道办事处2025年政府信息公开工作年度报告", "2026-01-28")
    assert got[GD + "post_2198530.html"] == ("海湾县卫生健康局2025年政府信息公开工作年度报告", "2026-01-23")
    assert got[GD + "post_1937705.html"] == ("海湾县人民政府2024年政府信息公开工作年度报告", "2025-03-28")
    assert not {GD + "post_2218802.html", GD + "post_2218815.html", GD + "post_2162208.html"} & set(
        got
    )  # 政策解读, （视频解读）, 通知
    # The pager is plain links: pages 2 and 3 (下一页, 尾页) are asked for.
    following = {r.url for r in requests(out, xxgk_role="column")}
    assert {HAIWAN + "index_2.html", HAIWAN + "index_3.html"} <= following


def test_mixed_list_with_nothing_new_does_not_walk_on_through_its_pager(spider, monkeypatch):
    s = spider("haiwan")
    # A re-crawl after a finished one: every entry is archived and fresh, so nothing on the page is fetched.
    s.full_walk = False
    monkeypatch.setattr(s.session.freshness, "decide", lambda url: SKIP)
    out = list(s.parse_listing(answer("gd_list_mixed.html", start_request(s))))
    assert not reports(out)
    assert not {HAIWAN + "index_2.html", HAIWAN + "index_3.html"} & {r.url for r in requests(out)}


def test_mixed_list_leaves_out_charts_titled_before_the_report_name(spider):
    s = spider("haiwan")
    out = list(s.parse_listing(answer("gd_list_mixed.html", start_request(s))))
    requested = {u for u, _, _ in reports(out)}
    assert GD + "post_2218790.html" not in requested  # 图解：海湾县人民政府2025年政府信息公开工作年度报告
    assert GD + "post_2198541.html" not in requested  # 一图读懂海湾县卫生健康局2025年政府信息公开工作年度报告
    assert len(requested) == 5


# --- a report page with a 发布时间 line and no meta, printing the tables (Heilongjiang, §0, §1) ---------------------
def test_report_page_with_a_visible_publication_line_printing_the_tables_is_the_report(spider):
    sel = Selector(text=fixture_bytes("hlj_report_visible_date.shtml").decode("utf-8"))
    assert dates.meta_date(pages.meta_tags(sel)) is None
    assert pages.attachments(sel, SONGHE_REPORT) == []
    assert pages.is_inline_report(pages.body_text(sel))

    s = spider("songhe")
    title = "松河市人民政府2025年政府信息公开工作年度报告"
    entry = Entry(
        SONGHE_REPORT, title, "2026-02-10", "http://www.songhe.gov.cn/songhe/c100437/list.shtml", report_title(title)
    )
    request = s.document_request(SONGHE_REPORT, s.parse_report, xxgk_role="report", xxgk_entry=entry)
    (item,) = list(s.parse_report(answer("hlj_report_visible_date.shtml", request)))
    assert isinstance(item, ReportItem)  # the page itself, nothing to wait for
    doc = item.document
    assert (doc.url, doc.title, doc.year, doc.agency) == (SONGHE_REPORT, title, 2025, "松河市人民政府")
    # 发布时间：2026-02-10 09:12:30 — not the 落款 2026年2月6日, not the /202602/ of the URL.
    assert (doc.published_at, doc.published_source) == ("2026-02-10", "visible")
    assert item.published_candidates["visible"] == "2026-02-10"
    assert item.published_candidates["url_month"] == "2026-02-28"
    assert "page_meta" not in item.published_candidates


# --- a GBK page: an ASP.NET list with page=N links (§0, §4) -----------------------------------------------------
ZHESHAN_REPORTS = [
    ("4512", 2025, "2026-01-23"),
    ("3987", 2024, "2025-01-21"),
    ("3406", 2023, "2024-01-26"),
    ("2851", 2022, "2023-01-17"),
    ("2290", 2021, "2022-01-25"),
]


def zheshan(spider):
    s = spider("zheshan-rsj")
    return list(s.parse_listing(answer("aspnet_infopublic_gbk.html", start_request(s))))


def test_gbk_aspnet_list_reads_its_titles_and_follows_page_n(spider):
    raw = fixture_bytes("aspnet_infopublic_gbk.html")
    assert "喆山区".encode("gbk") in raw and "喆山区".encode() not in raw  # 喆 is GBK, not GB2312
    out = zheshan(spider)
    got = reports(out)
    assert [(u, t) for u, t, _ in got] == [
        (
            f"http://rsj.zheshan.gov.cn/InfoDetail.aspx?id={i}&cid=1019",
            f"喆山区人力资源和社会保障局{year}年政府信息公开工作年度报告",
        )
        for i, year, _ in ZHESHAN_REPORTS
    ]
    assert report_title(got[0][1]).agency == "喆山区人力资源和社会保障局"
    assert [r.url for r in requests(out, xxgk_paged=True)] == [
        "http://rsj.zheshan.gov.cn/InfoPublic.aspx?cid=1019&pid=971&page=2&kw="
    ]


def test_gbk_aspnet_list_dates_printed_in_their_own_table_cell(spider):
    got = reports(zheshan(spider))
    assert [d for _, _, d in got] == [d for _, _, d in ZHESHAN_REPORTS]
