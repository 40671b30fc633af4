"""The spiders' readers of portal pages, on page structures as real portals print them (no network here;
tests/test_crawl.py crawls the replica portals over HTTP)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from parsel import Selector

from crawler.confinement import Confinement, parse_networks
from crawler.registry import portal_for_url
from spiders.base import dates, pages
from spiders.base.documents import UnsafeArchive, zip_members
from spiders.base.fujian import api_config, search_links
from spiders.base.hanweb import datastore_links, proxy_params
from spiders.base.titles import is_column_link, is_hub_link, is_year_folder, maybe_report_title, report_title


@pytest.mark.parametrize(
    "text, year, agency",
    [
        ("温州市人民防空办公室2020年政府信息公开工作年度报告", 2020, "温州市人民防空办公室"),
        ("2023年度政府信息公开年报", 2023, None),
        ("2019年度大渡口区人民政府政府信息公开工作年度报告", 2019, "大渡口区人民政府"),
        ("宿州市人民政府2019年政府信息公开工作年度报告（图片版）", 2019, "宿州市人民政府"),
        ("《沈阳市人民政府2021年政府信息公开工作年度报告》", 2021, "沈阳市人民政府"),
        ("2022年度政府信息公开工作年度报告.pdf", 2022, None),
        ("XX区政府信息公开工作年度报告（2022年）", 2022, None),
        ("榕溪县教育局2023年度政府信息公开工作年度报告", 2023, "榕溪县教育局"),
        ("上海市黄浦区人民政府2022年政府信息公开工作年度报告（超链版）", 2022, "上海市黄浦区人民政府"),
    ],
)
def test_report_titles_name_year_and_agency(text: str, year: int, agency: str | None):
    t = report_title(text)
    assert t is not None and t.year == year and t.agency == agency


@pytest.mark.parametrize(
    "text",
    [
        "关于做好2023年政府信息公开工作年度报告编制工作的通知",
        "《沈阳市人民政府2021年政府信息公开工作年度报告》解读",
        "重庆市大渡口区人民防空办公室2020年政府信息公开工作年度报告（图解）",
        "国家统计局2023年统计年报",
        "政府信息公开工作年度报告格式",
        "2023年政务公开工作要点",
        "区领导调研城市更新工作",
    ],
)
def test_other_titles_are_not_reports(text: str):
    assert report_title(text) is None


def test_a_title_cut_short_in_a_list_is_worth_opening():
    assert maybe_report_title("温州市人民防空办公室2020年政府信息公开工作年度...")
    assert not maybe_report_title("区领导调研城市更新工作...")


@pytest.mark.parametrize(
    "text, url, column",
    [
        ("政府信息公开年报", "/zwgk/zfxxgk/zfxxgknb/", True),
        ("年度报告", "/ndbg/", True),
        ("部门年报", "/x/", True),
        ("信息公开年报", "/col/col123/index.html", True),
        ("年报", "/zwgk/xxgknb/index.html", True),
        ("", "/zwgk/zfxxgknb/", False),
        ("统计年报", "/tjnb/", False),
        ("2023年政府信息公开工作年度报告", "/a.html", False),
    ],
)
def test_links_to_the_annual_report_column(text: str, url: str, column: bool):
    assert is_column_link(text, url) is column


def test_links_toward_the_column_and_year_folders():
    assert is_hub_link("政府信息公开", "/zwgk/zfxxgk/index.html")
    assert is_hub_link("法定主动公开内容", "/a/")
    assert not is_hub_link("政府信息公开指南", "/zwgk/zfxxgk/zn.html")
    assert not is_hub_link("政策文件", "/zwgk/zcwj/index.html")
    assert is_year_folder("2023年度") and is_year_folder("2023年") and not is_year_folder("2023年工作要点")


def test_published_dates_from_each_source():
    assert dates.meta_date({"pubdate": "2023-01-19 09:30"}) == date(2023, 1, 19)
    assert dates.visible_date("成文日期：2023-01-10 发布日期：2023年01月19日 来源：") == date(2023, 1, 19)
    assert dates.visible_date("成文日期：2023-01-10") is None  # the signing date is not publication
    assert dates.url_date("http://x.gov.cn/zfxxgknb/202301/t20230119_2136694.html") == (date(2023, 1, 19), True)
    assert dates.url_date("http://x.gov.cn/art/2023/1/9/art_1229_5.html") == (date(2023, 1, 9), True)
    assert dates.url_date("http://x.gov.cn/zwgk/202302/abc.html") == (date(2023, 2, 28), False)
    assert dates.url_date("http://x.gov.cn/P020230120594839304843.pdf") == (date(2023, 1, 20), True)
    assert dates.http_date("Fri, 20 Jan 2023 02:00:00 GMT") == date(2023, 1, 20)


def test_the_best_plausible_date_is_chosen_and_every_candidate_kept():
    # The page meta and the URL disagree (a Fujian county portal: list 03-10, URL t…0313): the meta wins.
    p = dates.choose(
        page_meta=date(2026, 3, 10), url=(date(2026, 3, 13), True), report_year=2025, today=date(2026, 11, 1)
    )
    assert (p.at, p.source) == ("2026-03-10", "page_meta") and p.candidates["url"] == "2026-03-13"
    # A date before the report year is over cannot be the report's: the next source is taken.
    p = dates.choose(page_meta=date(2023, 6, 1), visible=date(2024, 1, 20), report_year=2023, today=date(2026, 1, 1))
    assert (p.at, p.source) == ("2024-01-20", "visible")
    p = dates.choose(
        listing=date(2024, 1, 22), last_modified=date(2024, 2, 1), report_year=2023, today=date(2026, 1, 1)
    )
    assert (p.at, p.source) == ("2024-01-22", "visible")  # the date printed beside the list entry
    p = dates.choose(last_modified=date(2024, 2, 1), report_year=2023, today=date(2026, 1, 1))
    assert (p.at, p.source) == ("2024-02-01", "last_modified")
    p = dates.choose(report_year=2023, today=date(2026, 1, 1))
    assert (p.at, p.source) == ("2026-01-01", "first_seen")


@pytest.mark.parametrize(
    "script, url, following",
    [
        ('createPageHTML(5, 0, "index", "html");', "http://x/nb/index.html", "http://x/nb/index_1.html"),
        ('createPageHTML(5, 3, "index", "html");', "http://x/nb/index_3.html", "http://x/nb/index_4.html"),
        ('createPageHTML(5, 4, "index", "html");', "http://x/nb/index_4.html", None),
        ("createPageHTML('page_div',7,1,'index','shtml',130);", "http://x/nb/", "http://x/nb/index_1.shtml"),
        ("var currentPage = 0;var countPage = 2//共多少页", "http://x/nb/index.htm", "http://x/nb/index_1.htm"),
        ("var countPage = 1;", "http://x/nb/index.html", None),
    ],
)
def test_trs_pagination_walks_one_page_after_another(script: str, url: str, following: str | None):
    assert pages.trs_next_page(script, url) == following


def test_next_page_links_stay_in_the_list_folder():
    sel = Selector(
        text="<div class='pager'><a href='?page=2'>2</a><a href='?page=3'>3</a><a href='?page=2'>下一页</a>"
        "<a href='/other/list.html'>下一页</a><a href='javascript:goPage(2)'>下一页</a></div>"
    )
    got = pages.link_pages(pages.links(sel, "http://x.gov.cn/nb/index.html"), "http://x.gov.cn/nb/index.html")
    assert got == ["http://x.gov.cn/nb/index.html?page=2", "http://x.gov.cn/nb/index.html?page=3"]


HANWEB = """<div id="212860"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1&path=/&columnid=33718&unitid=212860&webname=江苏省人民政府&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href='/art/2024/3/20/art_33718_11828204.html' title='江苏省人民政府2023年政府信息公开工作年度报告'>江苏省人民政府2023年政府信息…</a><span>2024-03-20</span></li>]]></record>
<record><![CDATA[
<li><s></s><a class="ellipsis-line-clamp" href="http://kjt.shandong.gov.cn/art/2024/1/30/art_103585_10328790.html" title="山东省科学技术厅2023年政府信息公开工作年度报告">山东省科学技术厅2023年政府信息公开工作年度报告</a><span class="pull-right">2024-01-30</span></li>]]></record>
</recordset></datastore></script></div>
<script>var param_212860={columnid:33718,unitid:'212860'}; $('#212860').jpage({totalRecord:4895,perPage:19});</script>"""


def test_hanweb_records_hidden_in_the_datastore_and_the_dataproxy_form():
    links = datastore_links(HANWEB, "http://www.jiangsu.gov.cn/col/col33718/index.html")
    assert [(link.url, link.text, link.date) for link in links] == [
        (
            "http://www.jiangsu.gov.cn/art/2024/3/20/art_33718_11828204.html",
            "江苏省人民政府2023年政府信息公开工作年度报告",
            "2024-03-20",
        ),
        (
            "http://kjt.shandong.gov.cn/art/2024/1/30/art_103585_10328790.html",
            "山东省科学技术厅2023年政府信息公开工作年度报告",
            "2024-01-30",
        ),
    ]
    assert not pages.links(Selector(text=HANWEB), "http://www.jiangsu.gov.cn/")  # an HTML parser sees no entry
    proxy, form, perpage, total = proxy_params(HANWEB, "http://www.jiangsu.gov.cn/col/col33718/index.html", {})
    assert proxy == "http://www.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
    assert (form["columnid"], form["unitid"], form["webid"], form["webname"]) == (
        "33718",
        "212860",
        "1",
        "江苏省人民政府",
    )
    assert (perpage, total) == (19, 4895)


FUJIAN = """<div class="gl_list"><ul><li><a href="./202603/t20260313_7123.htm" title="某县人民政府2025年度政府信息公开工作年度报告">某县人民政府2025年度…</a><span>2026-03-10</span></li></ul></div>
<script>require(["list2.trsapi"], function (list) { list.init({ url: "/fjdzapp/search", channelid: 200210, classsql: "chnlid=1813", prepage: 10 }); });</script>"""


def test_fujian_first_page_static_the_rest_through_the_search_api():
    config = api_config(FUJIAN, "http://www.x.gov.cn/zwgk/zfxxgk/zfxxgknb/", {})
    assert config["url"] == "http://www.x.gov.cn/fjdzapp/search"
    assert (config["form"]["channelid"], config["form"]["classsql"], config["prepage"]) == ("200210", "chnlid=1813", 10)
    assert api_config("<ul><li>a plain list</li></ul>", "http://x/", {}) is None
    payload = {
        "data": [
            {
                "doctitle": "某县教育局2024年度政府信息公开工作年度报告",
                "docpuburl": "http://www.x.gov.cn/a/t1.htm",
                "docreltime": 1737331200000,
            }
        ],
        "pagecount": 2,
    }
    (link,) = search_links(payload, "http://www.x.gov.cn/zwgk/")
    assert (link.url, link.date) == ("http://www.x.gov.cn/a/t1.htm", "2025-01-20")


REPORT_PAGE = """<html><head><meta name="ArticleTitle" content="某市人民政府2023年政府信息公开工作年度报告"></head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li></ul></div>
<div class="article"><div class="TRS_Editor"><p>现将报告公布。</p>
<p>附件：<a href="./P020240120594839304843.pdf">某市人民政府2023年政府信息公开工作年度报告.pdf</a></p>
<p><a href="/module/download/downfile.jsp?classid=0&filename=a1b2.docx">报告.docx</a></p>
<p><a href="./report_full.html">报告全文</a></p>
<iframe src="/generic/web/viewer.html?file=/zwgk/202401/P020240120111.pdf"></iframe></div></div>
<div class="footer"><a href="/sqb.doc">政府信息公开申请表.doc</a><a href="/zn.pdf">下载</a></div></body></html>"""


def test_attachments_come_from_the_content_not_the_chrome_nor_the_forms():
    got = pages.attachments(Selector(text=REPORT_PAGE), "http://www.x.gov.cn/zwgk/202401/t20240120_1.html")
    assert [(a.url, pages.is_document_link(a)) for a in got] == [
        ("http://www.x.gov.cn/zwgk/202401/P020240120594839304843.pdf", True),
        ("http://www.x.gov.cn/module/download/downfile.jsp?classid=0&filename=a1b2.docx", True),
        ("http://www.x.gov.cn/zwgk/202401/report_full.html", False),  # offered by its words only
        ("http://www.x.gov.cn/zwgk/202401/P020240120111.pdf", True),  # behind the 全真版 viewer
    ]
    assert pages.title_candidates(Selector(text=REPORT_PAGE))[0] == "某市人民政府2023年政府信息公开工作年度报告"


def test_a_page_printing_the_template_tables_is_an_inline_report():
    assert pages.is_inline_report(
        "二、主动公开政府信息情况 … 一、本年新收政府信息公开申请数量 … （一）予以公开 … 行政复议"
    )
    assert not pages.is_inline_report("现将《某市人民政府2023年政府信息公开工作年度报告》予以公布，详见附件。")


def test_a_gbk_page_declaring_utf8_is_read_right():
    from scrapy.http import HtmlResponse

    body = "<html><head><meta charset='utf-8'><title>年报</title></head><body><a href='/a.html'>某县人民政府2023年政府信息公开工作年度报告</a></body></html>"
    response = HtmlResponse(
        "http://x.gov.cn/nb/", body=body.encode("gbk"), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    (link,) = pages.links(pages.selector(response), response.url)
    assert report_title(link.text).agency == "某县人民政府"


# --- where the crawler may go ------------------------------------------------------------------------------------
RESOLVED = {"www.wenzhou.gov.cn": ("61.164.1.1",), "intranet.wenzhou.gov.cn": ("10.2.3.4",)}
WENZHOU = Confinement(
    ("wenzhou.gov.cn",),
    resolver=lambda host: tuple(__import__("ipaddress").ip_address(a) for a in RESOLVED.get(host, ())),
)


@pytest.mark.parametrize(
    "url, refusal",
    [
        ("http://www.wenzhou.gov.cn/col/col1/index.html", None),
        ("https://wenzhou.gov.cn/a.pdf", None),
        ("http://wenzhou.gov.cn.evil.example/a.html", "offsite"),  # look-alike: the name as a prefix
        ("http://fakewenzhou.gov.cn/a.html", "offsite"),
        ("http://www.wenzhou.gov.cn@haose21.com/a.html", "offsite"),  # userinfo trick
        ("http://haose21.com/zwgk/202111/t20211118_1337823.html", "offsite"),  # a cloned page on a hijacked domain
        ("http://intranet.wenzhou.gov.cn/a.html", "private_address"),  # the agency's name, a private address
        ("http://10.0.0.1/a.html", "private_address"),
        ("http://169.254.169.254/latest/meta-data/", "private_address"),
        ("http://[::1]/a.html", "private_address"),
        ("http://[::ffff:10.0.0.1]/a.html", "private_address"),
        ("http://0.0.0.0/a.html", "private_address"),
        ("http://127.0.0.1:8080/a.html", "private_address"),
        ("ftp://www.wenzhou.gov.cn/a.pdf", "scheme"),
        ("file:///etc/passwd", "scheme"),
    ],
)
def test_confinement_to_the_agency_domains_and_public_addresses(url: str, refusal: str | None):
    assert WENZHOU.refusal(url) == refusal


def test_loopback_only_when_a_test_allows_it_explicitly():
    replica = Confinement(("127.0.0.1",), parse_networks("127.0.0.1/32"), ports=frozenset({80, 443, 8765}))
    assert replica.refusal("http://127.0.0.1:8765/a.html") is None
    assert replica.refusal("http://127.0.0.2:8765/a.html") == "private_address"
    assert replica.refusal("http://10.0.0.1/a.html") == "private_address"


def test_the_generic_path_stays_on_the_start_urls_registrable_domain():
    portal = portal_for_url("http://www.ddk.gov.cn/zwgk_265/index.html", "重庆市大渡口区人民政府", "government")
    assert portal.domains == ("ddk.gov.cn",) and portal.id == "url:www.ddk.gov.cn"
    assert portal_for_url("http://127.0.1.10:8001/index.html", "某局", "department").domains == ("127.0.1.10",)


# --- zip attachments ----------------------------------------------------------------------------------------------
def _zip(members: dict[str, bytes], gbk_names: bool = False) -> bytes:
    """A zip as Windows tools make it when `gbk_names`: names in GBK bytes, without the UTF-8 flag."""
    buf = io.BytesIO()
    raw = {}
    with zipfile.ZipFile(buf, "w") as z:
        for n, (name, data) in enumerate(members.items()):
            stand_in = name
            if gbk_names:
                raw[name] = name.encode("gbk")
                stand_in = f"{n:x}".rjust(len(raw[name]), "_")  # ASCII, same length: swapped for the GBK bytes below
            info = zipfile.ZipInfo(stand_in, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    out = buf.getvalue()
    for n, gbk in enumerate(raw.values()):
        out = out.replace(f"{n:x}".rjust(len(gbk), "_").encode(), gbk)
    return out


def test_zip_members_are_read_in_memory_with_their_chinese_names():
    data = _zip(
        {"附件/某局2023年政府信息公开工作年度报告.pdf": b"%PDF-1.4 test", "说明.txt": b"\x00\x01" * 100}, gbk_names=True
    )
    (member,) = zip_members(data, max_members=10, max_total=1 << 20)
    assert member.name == "附件/某局2023年政府信息公开工作年度报告.pdf" and member.format == "pdf"


def test_zip_bombs_and_crowds_are_refused():
    bomb = _zip({"a.pdf": b"%PDF-" + b"\0" * (5 << 20)})
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeArchive, match="more than"):
        zip_members(bomb, max_members=10, max_total=1 << 20)
    with pytest.raises(UnsafeArchive, match="members"):
        zip_members(_zip({f"{i}.pdf": b"%PDF-" for i in range(11)}), max_members=10, max_total=1 << 20)
