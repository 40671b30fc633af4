"""The replica portals' pages, as each CMS family serves them (structure after real pages, wording our own).

`build_site(published, base, epoch)` returns every route of every portal for one epoch: static pages and
files (`Resource`), the POST endpoints (Hanweb dataproxy, the Fujian search API, the JSON list API), and the
manifest of what a crawl must find (`Expected`).
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import parse_qs

from crawler.replica import render
from crawler.replica.world import PORTALS, Portal, Published, portal

PER_PAGE = {"demo-shenyang": 10, "demo-dadukou": 6, "demo-rongxi": 10}
HANWEB_PER_PAGE = 3
HANWEB_UNIT = "4471880"
HANWEB_COLUMN = "1229116978"
FUJIAN_CHANNEL = "200210"
FUJIAN_CHNL = "1813"
EDIT_DATE = date(2024, 5, 6)


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    modified: date | datetime | None = None


PostHandler = Callable[[dict[str, str], bytes], Resource]


@dataclass
class Expected:
    portal: str
    agency: str  # the registry's name
    year: int
    url: str  # the document archived as the report (page, attachment, zip member, API detail)
    fmt: str
    published_at: str
    published_source: str
    case: str | None
    page: str  # the page listing-entry links to


@dataclass
class Site:
    routes: dict[str, Resource] = field(default_factory=dict)
    posts: dict[str, PostHandler] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)


def _page(title: str, body: str, *, head: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>{html.escape(title)}</title>{head}</head>\n<body>\n{body}\n</body></html>"
    )


def _chrome(p: Portal, crumbs: str, inner: str) -> str:
    """Header navigation, breadcrumbs and a footer with the links every page of a portal carries."""
    home = f"{p.prefix}/index.html"
    return (
        f'<div class="header"><div class="logo">{html.escape(p.name)}</div><ul class="nav">'
        f'<li><a href="{home}">首页</a></li><li><a href="{p.prefix}/zwgk/index.html">政务公开</a></li>'
        f'<li><a href="{p.prefix}/zwfw/index.html">政务服务</a></li><li><a href="{p.prefix}/hdjl/index.html">互动交流</a></li></ul></div>\n'
        f'<div class="crumbs">当前位置：<a href="{home}">首页</a> &gt; {crumbs}</div>\n{inner}\n'
        f'<div class="footer"><a href="{p.prefix}/zwgk/zfxxgk/sqb.doc">政府信息公开申请表.doc</a> | '
        f'<a href="{p.prefix}/sitemap.html">网站地图</a><p>主办：{html.escape(p.name)} 网站标识码：5000000000</p></div>'
    )


def _truncate(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _ymd(d: date) -> str:
    return d.isoformat()


def _stamp(d: date) -> str:
    return d.strftime("%Y%m%d")


def _pdf_key(pub: Published, epoch: int) -> str:
    return render.content_key(pub.report(epoch))


@dataclass
class Assets:
    """Binary renditions (LibreOffice output cached on disk), by report content key."""

    pdf: dict[str, bytes]
    doc: dict[str, bytes]
    docx: dict[str, bytes]


def assets_for(published: list[Published], epochs: tuple[int, ...] = (1, 2)) -> Assets:
    reports = {fmt: [] for fmt in ("pdf", "doc", "docx")}
    for pub in published:
        for epoch in epochs:
            fmt = "docx" if pub.fmt == "zip" else pub.fmt
            if fmt in reports:
                reports[fmt].append(pub.report(epoch))
    docx = render.converted(reports["docx"], "docx") if reports["docx"] else {}
    return Assets(render.converted(reports["pdf"], "pdf"), render.converted(reports["doc"], "doc"), docx)


def build_site(published: list[Published], assets: Assets, base: str, epoch: int = 1) -> Site:
    site = Site()
    site.routes["/robots.txt"] = Resource(
        b"User-agent: *\nDisallow: /_replica/\nDisallow: /dadukou/private/\n", "text/plain; charset=utf-8"
    )
    for p in PORTALS:
        if p.down:
            continue  # its registry entry points elsewhere: a port where nothing listens
        # A report taken down in this epoch is neither listed nor served (its page answers 404).
        pubs = sorted(
            (x for x in published if x.portal == p.id and x.listed(epoch)),
            key=lambda x: (x.published, x.docid),
            reverse=True,
        )
        builder = BUILDERS.get(p.cms)
        if p.id == "demo-jiaxing":
            builder = BUILDERS["js"]
        elif p.id == "demo-dadukou":
            builder = BUILDERS["generic"]
        builder(site, p, pubs, assets, base, epoch)
        add_navigation(site, p)
    return site


def add_navigation(site: Site, p: Portal) -> None:
    """The pages every portal's navigation (_chrome) links, where its builder made none, so that the chrome leads
    somewhere, as on a real portal (a link that answers 404 is a failed listing page to the crawl)."""
    for path, title in (
        ("/index.html", p.name),
        ("/zwgk/index.html", "政务公开"),
        ("/zwfw/index.html", "政务服务"),
        ("/hdjl/index.html", "互动交流"),
        ("/sitemap.html", "网站地图"),
    ):
        site.routes.setdefault(
            p.prefix + path,
            Resource(_page(title, _chrome(p, title, f"<div class='main'><h2>{title}</h2></div>")).encode()),
        )


def _expect(site: Site, pub: Published, url: str, page: str, source: str, published_at: date | None = None) -> None:
    site.expected.append(
        Expected(
            pub.portal,
            pub.agency.name,
            pub.year,
            url,
            pub.fmt,
            (published_at or pub.published).isoformat(),
            source,
            pub.case,
            page,
        )
    )


def _attachment(site: Site, pub: Published, assets: Assets, path: str, epoch: int) -> None:
    """The report file itself, at `path`: pdf/docx/doc bytes, or a zip holding the docx."""
    key = render.content_key(pub.report(epoch))
    if pub.fmt == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            # A fixed timestamp: the same report zips to the same bytes (and ETag) in every epoch.
            member = zipfile.ZipInfo(
                f"{pub.title}.docx", date_time=(pub.published.year, pub.published.month, pub.published.day, 10, 0, 0)
            )
            member.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(member, assets.docx[key])
        site.routes[path] = Resource(buf.getvalue(), "application/zip", pub.published)
        return
    data = {"pdf": assets.pdf, "doc": assets.doc, "docx": assets.docx}[pub.fmt][key]
    ctype = {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }[pub.fmt]
    site.routes[path] = Resource(data, ctype, pub.published)


def _document_url(pub: Published, path: str) -> str:
    return f"{path}#{pub.title}.docx" if pub.fmt == "zip" else path


# --- TRS (沈阳): GBK pages, index.html + index_1.html, ./YYYYMM/tYYYYMMDD_id.html ---------------------------
def _trs(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    column = f"{p.prefix}/zwgk/zfxxgk/zfxxgknb/"
    per = PER_PAGE[p.id]
    entries: list[tuple[str, str, date]] = []
    for pub in pubs:
        shown = pub.url_date or pub.published
        rel = f"{shown:%Y%m}/t{_stamp(shown)}_{pub.docid}.html"
        page_path = column + rel
        entries.append((rel, pub.title, pub.published))
        report = pub.report(epoch)
        if pub.fmt == "html":
            content = render.article_html(report)
            _expect(site, pub, page_path, page_path, "page_meta")
        else:
            file_rel = f"P0{_stamp(pub.published)}{pub.docid:012d}.{pub.fmt}"
            _attachment(site, pub, assets, column + f"{shown:%Y%m}/{file_rel}", epoch)
            content = (
                f"<p>现将《{html.escape(pub.title)}》全文予以公布，详见附件。</p>"
                f'<p class="fj">附件：<a href="./{file_rel}">{html.escape(pub.title)}.{pub.fmt}</a></p>'
            )
            _expect(site, pub, column + f"{shown:%Y%m}/{file_rel}", page_path, "page_meta")
        head = (
            f'<meta name="ArticleTitle" content="{html.escape(pub.title)}"><meta name="PubDate" content="{_ymd(pub.published)} 09:30">'
            f'<meta name="ContentSource" content="{html.escape(pub.agency.name)}">'
        )
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开年报",
            f'<div class="article"><h1 class="title">{html.escape(pub.title)}</h1>'
            f'<div class="info">发布时间：{_ymd(pub.published)}　来源：{html.escape(pub.agency.name)}</div>'
            f'<div class="TRS_Editor">{content}</div></div>',
        )
        site.routes[page_path] = Resource(
            _page(pub.title, body, head=head, charset="gb2312").encode("gbk"), "text/html; charset=GBK", pub.published
        )
    # Noise a report filter must leave alone.
    entries.insert(
        2,
        (
            "../zcjd/202304/t20230410_999.html",
            "《沈阳市人民政府2022年政府信息公开工作年度报告》解读",
            date(2023, 4, 10),
        ),
    )
    entries.insert(
        5,
        (
            "../tzgg/202311/t20231120_998.html",
            "关于做好2023年度政府信息公开工作年度报告编制工作的通知",
            date(2023, 11, 20),
        ),
    )
    pages = [entries[i : i + per] for i in range(0, len(entries), per)]
    for n, chunk in enumerate(pages):
        items = "".join(
            f'<li><a href="./{rel}" target="_blank" title="{html.escape(t)}">{html.escape(_truncate(t))}</a><span>{_ymd(d)}</span></li>'
            for rel, t, d in chunk
        )
        paging = f'<div class="page"><script type="text/javascript">var currentPage = {n};var countPage = {len(pages)};createPageHTML(countPage, currentPage, "index", "html");</script></div>'
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开年报",
            f'<div class="list"><h2>政府信息公开年报</h2><ul>{items}</ul>{paging}</div>',
        )
        name = "index.html" if n == 0 else f"index_{n}.html"
        site.routes[column + name] = Resource(
            _page("政府信息公开年报_沈阳市人民政府", body, charset="gb2312").encode("gbk"), "text/html; charset=GBK"
        )


# --- Hanweb JCMS (温州): datastore records, dataproxy.jsp for the rest -------------------------------------------
def _hanweb(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    records = []
    for pub in pubs:
        d = pub.published
        page_path = f"{p.prefix}/art/{d.year}/{d.month}/{d.day}/art_{HANWEB_COLUMN}_{pub.docid}.html"
        records.append(
            f"<li><a href='{page_path}' title='{html.escape(pub.title)}' target='_blank'>{html.escape(pub.title)}</a><span>{_ymd(d)}</span></li>"
        )
        if pub.fmt == "html":
            content = render.article_html(pub.report(epoch))
            _expect(site, pub, page_path, page_path, "visible")
        else:
            path = f"{p.prefix}/module/download/downfile.jsp?classid=0&filename={pub.docid:x}a9.{pub.fmt}"
            _attachment(site, pub, assets, path, epoch)
            content = f'<p>附件：<a href="{html.escape(path)}">{html.escape(pub.title)}.{pub.fmt}</a></p>'
            _expect(site, pub, path, page_path, "visible")
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开年报",
            f'<div class="main-txt"><h1>{html.escape(pub.title)}</h1><div class="info">发布日期：{_ymd(d)}　信息来源：{html.escape(pub.agency.name)}'
            f'　浏览次数：<span id="readcount"></span></div><div id="zoom">{content}</div></div>',
        )
        site.routes[page_path] = Resource(_page(pub.title, body).encode(), modified=d)

    def cdata(items: list[str]) -> str:
        return "".join(f"<record><![CDATA[\n{r}\n]]></record>\n" for r in items)

    proxy = f"{p.prefix}/module/web/jpage/dataproxy.jsp"
    nextgroup = (
        f'<nextgroup><![CDATA[<a href="{proxy}?page=1&appid=1&webid=3070&path=/&columnid={HANWEB_COLUMN}'
        f'&unitid={HANWEB_UNIT}&webname=%E6%B8%A9%E5%B7%9E%E5%B8%82%E4%BA%BA%E6%B0%91%E6%94%BF%E5%BA%9C&permissiontype=0"></a>]]></nextgroup>'
    )
    store = (
        f'<div id="{HANWEB_UNIT}"><script type="text/xml"><datastore>{nextgroup}<recordset>\n'
        f"{cdata(records[:HANWEB_PER_PAGE])}</recordset></datastore></script></div>"
        f"<script type=\"text/javascript\">var param_{HANWEB_UNIT}={{col:1,appid:1,webid:3070,path:'/',columnid:{HANWEB_COLUMN},"
        f"sourceContentType:1,unitid:'{HANWEB_UNIT}',webname:'温州市人民政府',permissiontype:0}};</script>"
        f'<script type="text/javascript" src="{p.prefix}/module/jslib/jquery/jpage/jquery.page.min.js"></script>'
        f"<script>$(document).ready(function(){{$('#{HANWEB_UNIT}').jpage({{dataStore:$('#{HANWEB_UNIT} script[type=\"text/xml\"]').text(),"
        f"perPage:{HANWEB_PER_PAGE},totalRecord:{len(records)},groupSize:3,proxyUrl:'{proxy}',ajaxParam:param_{HANWEB_UNIT}}});}});</script>"
    )
    body = _chrome(p, "政务公开 &gt; 政府信息公开年报", f'<div class="column"><h2>政府信息公开年报</h2>{store}</div>')
    site.routes[f"{p.prefix}/col/col{HANWEB_COLUMN}/index.html"] = Resource(
        _page("政府信息公开年报 温州市人民政府", body).encode()
    )

    def dataproxy(query: dict[str, str], raw: bytes) -> Resource:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("columnid") != HANWEB_COLUMN or form.get("unitid") != HANWEB_UNIT:
            chosen: list[str] = []  # the real proxy answers an empty store to a wrong column
        else:
            start, end = int(query.get("startrecord", 1)), int(query.get("endrecord", 45))
            chosen = records[start - 1 : end]
        per = int(query.get("perpage", HANWEB_PER_PAGE))
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><datastore>'
            f"<totalrecord>{len(records)}</totalrecord><totalpage>{-(-len(records) // per)}</totalpage>"
            f"<recordset>{cdata(chosen)}</recordset></datastore>"
        )
        return Resource(xml.encode(), "text/xml; charset=UTF-8")

    site.posts[proxy] = dataproxy


# --- JSON API (淄博): do-search + detail ------------------------------------------------------------------------
def _jsonapi(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    api = f"{p.prefix}/api-gateway/jpaas-jpolicy-web-server/front/info"
    results = []
    noise = {
        "infoid": 77,
        "title": "淄博市人民政府办公室关于印发2023年政务公开工作要点的通知",
        "publishdate": "2023-04-12",
        "publishunit": "淄博市人民政府办公室",
    }
    for pub in pubs:
        results.append(
            {
                "infoid": pub.docid,
                "title": pub.title,
                "publishdate": _ymd(pub.published),
                "publishunit": pub.agency.name,
            }
        )
        detail_url = f"{api}/detail?iid={pub.docid}"
        attachments = []
        if pub.fmt == "json":
            content = render.article_html(pub.report(epoch))
            _expect(site, pub, detail_url, detail_url, "page_meta")
        else:
            path = f"{p.prefix}/attach/{pub.docid}.{pub.fmt}"
            _attachment(site, pub, assets, path, epoch)
            content = "<p>全文见附件。</p>"
            attachments = [{"name": f"{pub.title}.{pub.fmt}", "url": path}]
            _expect(site, pub, path, detail_url, "page_meta")
        detail = {
            "success": True,
            "code": 200,
            "data": {
                "iid": pub.docid,
                "title": pub.title,
                "content": content,
                "publishdate": f"{_ymd(pub.published)} 10:00:00",
                "attachments": attachments,
            },
        }
        site.routes[detail_url] = Resource(
            json.dumps(detail, ensure_ascii=False).encode(), "application/json;charset=UTF-8", pub.published
        )
    results.insert(3, noise)
    shell = _chrome(
        p,
        "政务公开 &gt; 政府信息公开年报",
        '<div id="app" class="xxgk-list">加载中……</div><script src="/zibo/static/js/app.3f9c.js"></script>',
    )
    site.routes[p.start] = Resource(_page("政府信息公开年报", shell).encode())

    def search(query: dict[str, str], raw: bytes) -> Resource:
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = {}
        page, size = int(params.get("pageNo", 1)), int(params.get("pageSize", 10))
        chunk = results[(page - 1) * size : page * size]
        payload = {"success": True, "code": 200, "data": {"infoCount": len(results), "bean": {"results": chunk}}}
        return Resource(json.dumps(payload, ensure_ascii=False).encode(), "application/json;charset=UTF-8")

    site.posts[f"{api}/do-search"] = search


# --- JavaScript-only list (嘉兴) --------------------------------------------------------------------------------
def _jsjiaxing(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    items = []
    for pub in pubs:
        page_path = f"{p.prefix}/art/{pub.year}/{pub.docid}.html"
        items.append({"i": pub.docid, "t": pub.title, "d": _ymd(pub.published), "y": pub.year})
        if pub.fmt == "html":
            content = render.article_html(pub.report(epoch))
            _expect(site, pub, page_path, page_path, "page_meta")
        else:
            path = f"{p.prefix}/art/{pub.year}/{pub.docid}_fj.{pub.fmt}"
            _attachment(site, pub, assets, path, epoch)
            content = f'<p>附件下载：<a href="{path}">{html.escape(pub.title)}</a></p>'
            _expect(site, pub, path, page_path, "page_meta")
        head = f'<meta name="PubDate" content="{_ymd(pub.published)}">'
        body = _chrome(
            p,
            "政府信息公开 &gt; 年报",
            f'<div class="detail"><h2>{html.escape(pub.title)}</h2><div class="content">{content}</div></div>',
        )
        site.routes[page_path] = Resource(_page(pub.title, body, head=head).encode(), modified=pub.published)
    column = f"{p.prefix}/zfxxgk/zfxxgknb/"
    site.routes[column + "list.json"] = Resource(
        json.dumps({"items": items}, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    )
    script = (
        "<script>\n"
        f"fetch('{column}list.json').then(function (r) {{ return r.json(); }}).then(function (data) {{\n"
        "  var ul = document.getElementById('nb-list');\n"
        "  data.items.forEach(function (it) {\n"
        "    var li = document.createElement('li'), a = document.createElement('a'), s = document.createElement('span');\n"
        f"    a.href = '{p.prefix}/art/' + it.y + '/' + it.i + '.html'; a.textContent = it.t; a.title = it.t;\n"
        "    s.textContent = it.d; li.appendChild(a); li.appendChild(s); ul.appendChild(li);\n"
        "  });\n"
        "});\n</script>"
    )
    body = _chrome(
        p, "政府信息公开 &gt; 年报", f'<div class="list"><h2>政府信息公开年报</h2><ul id="nb-list"></ul></div>{script}'
    )
    site.routes[column + "index.html"] = Resource(_page("政府信息公开年报", body).encode())


# --- A generic portal with navigation chrome (大渡口) ---------------------------------------------------------------
def _dadukou(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    pre = p.prefix
    column = p.listing_path.rsplit("/", 1)[0] + "/"  # where the reports' pages live, in every epoch
    listing = p.listing_in(epoch)  # the list itself: it moves in a later epoch (world.Portal.moved)
    menu_text = "政府信息公开年报" if listing == p.listing_path else "政府信息公开工作年度报告"
    news = "".join(
        f'<li><a href="{pre}/xwzx/{i}.html">区领导调研城市更新工作（{i}）</a><span>2024-0{i}-1{i}</span></li>'
        for i in range(1, 6)
    )
    site.routes[f"{pre}/index.html"] = Resource(
        _page(p.name, _chrome(p, "首页", f'<div class="news"><h2>要闻动态</h2><ul>{news}</ul></div>')).encode()
    )
    hub = (
        '<div class="zwgk"><ul>'
        f'<li><a href="{pre}/zwgk/zfxxgk/index.html">政府信息公开</a></li><li><a href="{pre}/zwgk/zcwj/index.html">政策文件</a></li>'
        f'<li><a href="{pre}/zwgk/zcjd/index.html">政策解读</a></li></ul></div>'
    )
    site.routes[f"{pre}/zwgk/index.html"] = Resource(_page("政务公开", _chrome(p, "政务公开", hub)).encode())
    menu = (
        '<div class="xxgk-menu"><ul>'
        f'<li><a href="{pre}/zwgk/zfxxgk/zn.html">政府信息公开指南</a></li><li><a href="{pre}/zwgk/zfxxgk/zd.html">政府信息公开制度</a></li>'
        f'<li><a href="{pre}/zwgk/zfxxgk/fdzdgknr/index.html">法定主动公开内容</a></li><li><a href="{listing}">{menu_text}</a></li></ul></div>'
    )
    for path, title in (
        ("zn.html", "政府信息公开指南"),
        ("zd.html", "政府信息公开制度"),
        ("fdzdgknr/index.html", "法定主动公开内容"),
    ):
        inner = f"{menu}<div class='main'><h2>{title}</h2><p>（内容从略）</p></div>"
        site.routes[f"{pre}/zwgk/zfxxgk/{path}"] = Resource(
            _page(title, _chrome(p, f"政务公开 &gt; {title}", inner)).encode()
        )
    site.routes[f"{pre}/zwgk/zfxxgk/index.html"] = Resource(
        _page("政府信息公开", _chrome(p, "政务公开 &gt; 政府信息公开", menu)).encode()
    )
    entries = []
    for pub in pubs:
        page_path = f"{column}{pub.docid}.html"
        report = pub.report(epoch)
        if pub.fmt == "html":
            content = render.article_html(report)
            _expect(site, pub, page_path, page_path, "last_modified" if pub.case == "no_date" else "visible")
        else:
            path = f"{pre}/uploadfiles/{pub.docid}.{pub.fmt}"
            _attachment(site, pub, assets, path, epoch)
            content = f'<p>附件：<a href="{path}">{html.escape(pub.title)}.{pub.fmt}</a></p>'
            _expect(site, pub, _document_url(pub, path), page_path, "visible")
        when = "" if pub.case == "no_date" else f'<div class="info">发布日期：{pub.published:%Y年%m月%d日}</div>'
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开 &gt; 政府信息公开年报",
            f'<div class="detail"><h1>{html.escape(pub.title)}</h1>{when}<div class="view">{content}</div></div>',
        )
        modified = EDIT_DATE if pub.case == "edited" and epoch >= 2 else pub.published
        site.routes[page_path] = Resource(_page(f"{pub.title}-{p.name}", body).encode(), modified=modified)
        entries.append((page_path, pub.title, None if pub.case == "no_date" else pub.published))
    # Links a crawler must refuse: a look-alike domain, private addresses, a path robots.txt disallows.
    traps = [
        (
            "http://www.ddk.gov.cn.gov-mirror.example/zwgk/2018nb.html",
            "大渡口区人民政府2018年政府信息公开工作年度报告",
            date(2019, 3, 20),
        ),
        (
            "http://10.0.0.8/zwgk/zfxxgknb/2017nb.html",
            "大渡口区人民政府2017年政府信息公开工作年度报告",
            date(2018, 3, 20),
        ),
        (
            base.replace("127.0.0.1", "127.0.0.2") + "/dadukou/2016nb.html",
            "大渡口区人民政府2016年政府信息公开工作年度报告",
            date(2017, 3, 20),
        ),
        (f"{pre}/private/2015nb.html", "大渡口区人民政府2015年政府信息公开工作年度报告", date(2016, 3, 20)),
    ]
    per = PER_PAGE[p.id]
    pages = [entries[i : i + per] for i in range(0, len(entries), per)]
    pages[0] = pages[0] + traps
    for n, chunk in enumerate(pages, start=1):
        items = "".join(
            f'<li><a href="{html.escape(u)}">{html.escape(t)}</a><span>{_ymd(d) if d else ""}</span></li>'
            for u, t, d in chunk
        )
        links = "".join(f'<a href="{listing}?page={k}">{k}</a> ' for k in range(1, len(pages) + 1) if k != n)
        nxt = f'<a href="{listing}?page={n + 1}">下一页</a>' if n < len(pages) else ""
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开 &gt; 政府信息公开年报",
            f'{menu}<div class="list"><ul>{items}</ul><div class="pager">{links}{nxt}</div></div>',
        )
        site.routes[listing + ("" if n == 1 else f"?page={n}")] = Resource(
            _page("政府信息公开年报", body).encode()
        )


# --- The Fujian platform (榕溪县): first page static, the rest only through the search API --------------------------
def _fujian(site: Site, p: Portal, pubs: list[Published], assets: Assets, base: str, epoch: int) -> None:
    column = f"{p.prefix}/zwgk/zfxxgk/zfxxgknb/"
    docs = []
    for pub in pubs:
        d = pub.published
        page_path = f"{column}{d:%Y%m}/t{_stamp(d)}_{pub.docid}.htm"
        docs.append(
            {
                "doctitle": pub.title,
                "docpuburl": page_path,
                "docreltime": f"{_ymd(d)} 10:00:00",
                "chnlname": "政府信息公开年报",
            }
        )
        if pub.fmt == "html":
            content = render.article_html(pub.report(epoch))
            _expect(site, pub, page_path, page_path, "page_meta")
        else:
            path = f"{column}{d:%Y%m}/P0{_stamp(d)}{pub.docid:012d}.{pub.fmt}"
            _attachment(site, pub, assets, path, epoch)
            content = f'<div class="qzb"><iframe src="{p.prefix}/generic/web/viewer.html?file={path}" width="100%" height="800"></iframe></div>'
            _expect(site, pub, path, page_path, "page_meta")
        head = f'<meta name="ArticleTitle" content="{html.escape(pub.title)}"><meta name="PubDate" content="{_ymd(d)} 10:00">'
        body = _chrome(
            p,
            "政务公开 &gt; 政府信息公开年报",
            f'<div class="xl-main"><h3>{html.escape(pub.title)}</h3><div class="TRS_Editor">{content}</div></div>',
        )
        site.routes[page_path] = Resource(_page(pub.title, body, head=head).encode(), modified=d)
    per = PER_PAGE[p.id]
    items = "".join(
        f'<li><a href="{x["docpuburl"]}" title="{html.escape(x["doctitle"])}" target="_blank">{html.escape(_truncate(x["doctitle"]))}</a>'
        f"<span>{x['docreltime'][:10]}</span></li>"
        for x in docs[:per]
    )
    script = (
        f"<script>var pageConfig = {{ maxStaticIndex: 1, recordCount: '{len(docs)}', prepage: {per}, chnlid: '{FUJIAN_CHNL}' }};\n"
        'require(["list2.trsapi"], function (list) {\n'
        f'  list.init({{ url: "{p.prefix}/fjdzapp/search", channelid: {FUJIAN_CHANNEL}, classsql: "chnlid={FUJIAN_CHNL}", '
        f'prepage: {per}, sortfield: "-docorderpri,-docreltime", el: "#list", maxStaticIndex: 1 }});\n}});</script>'
    )
    body = _chrome(
        p,
        "政务公开 &gt; 政府信息公开年报",
        f'<div class="gl_list" id="list"><ul>{items}</ul></div><div id="page" ms-controller="page"></div>{script}',
    )
    site.routes[column + "index.htm"] = Resource(_page("政府信息公开年报", body).encode())

    def search(query: dict[str, str], raw: bytes) -> Resource:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("classsql") != f"chnlid={FUJIAN_CHNL}" or form.get("channelid") != FUJIAN_CHANNEL:
            return Resource(
                json.dumps({"data": [], "pagecount": 0, "recordCount": 0}).encode(), "application/json;charset=UTF-8"
            )
        page, size = int(form.get("page", 1)), int(form.get("prepage", per))
        payload = {
            "data": docs[(page - 1) * size : page * size],
            "page": page,
            "pagecount": -(-len(docs) // size),
            "recordCount": len(docs),
        }
        return Resource(json.dumps(payload, ensure_ascii=False).encode(), "application/json;charset=UTF-8")

    site.posts[f"{p.prefix}/fjdzapp/search"] = search


def modified_at(resource: Resource) -> datetime:
    m = resource.modified
    if isinstance(m, datetime):
        return m
    if isinstance(m, date):
        return datetime(m.year, m.month, m.day, 10, 0, tzinfo=UTC)
    return datetime(2026, 1, 1, tzinfo=UTC)


__all__ = ["Site", "Resource", "Expected", "build_site", "assets_for", "portal"]


# Each family's pages, by the registry's cms (and "js" for a listing drawn by JavaScript; the generic family's
# portal is found from its home page): the demo's portals and bench/national.py's replay are built by these.
BUILDERS = {
    "trs": _trs,
    "hanweb": _hanweb,
    "jsonapi": _jsonapi,
    "fujian": _fujian,
    "generic": _dadukou,
    "js": _jsjiaxing,
}
