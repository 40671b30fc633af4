"""Our own renditions of a hand-labelled report, in every format xxgk reads.

From an expected JSON (agency, year, template, cells) this builds a report with our own wording and
layout, its figures taken from the JSON, and renders it as:

- DOCX (python-docx) with merged cells laid out like the national template: row-group labels merged
  vertically, 法人或其他组织 and 行政诉讼 merged horizontally, short table-二 rows spanning columns;
- PDF and Word-97 .doc made from that DOCX by LibreOffice;
- HTML as a TRS portal page pasted from Word (mso styles, <o:p>, nested spans, <br> in labels);
- GBK HTML: an old layout-table portal declaring gb2312, and a Hanweb-style page declaring UTF-8
  while being GBK; and a bare UTF-8 fragment;
- XLSX (openpyxl) and XLS (xlwt) holding the tables with their merges, as a spreadsheet attachment;
- Markdown as PDF→Markdown converters write it (to_markdown, MarkdownStyle): pipe tables with merged cells
  blank or repeated, HTML tables, a table cut by a page break, a repeated header, generic 数据1…N headers.

A null cell prints blank; a key absent from the JSON is absent from the rendition (its whole row,
or its whole table block). Run `python tests/support/renditions.py EXPECTED.json OUTDIR` to look at them.
"""

from __future__ import annotations

import html
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crawler import template as tpl  # noqa: E402
from crawler.parsing.readers.office import convert  # noqa: E402
from crawler.parsing.readers.sheet import number_text  # noqa: E402
from crawler.parsing.values import is_figure  # noqa: E402

KINDS = ("docx", "pdf", "doc", "html", "html-gbk", "html-gbk-lie", "html-fragment", "xlsx", "xls")


@dataclass
class Span:
    """One printed cell at its top-left grid position."""

    text: str
    rows: int = 1
    cols: int = 1
    value: bool = False  # a figure (centred, blank when null) rather than a label


Layout = list[list[Span]]  # rows of cells as HTML lists them: covered positions are not listed


@dataclass
class Report:
    agency: str
    year: int
    template: str
    title: list[str]  # the title as printed, over one or more centred lines
    blocks: list[str | Layout]  # body paragraphs and tables
    closing: list[str]  # the 落款: agency and date, right-aligned (absent when the JSON has no date)
    chrome: list[str] = field(default_factory=list)  # a saved portal page's navigation before the title
    footer: list[str] = field(default_factory=list)  # and its footer after the 落款

    @property
    def full_title(self) -> str:
        return "".join(self.title)


@dataclass(frozen=True)
class Style:
    """How one rendition prints labels and figures."""

    enumerator: str = "."  # 1.属于国家秘密 or 1、属于国家秘密
    change_words: bool = True  # 增7 / 减2 rather than 7 / -2
    thousands: bool = False  # 95,399.67
    typos: bool = False  # 危机 for 危及, 行政法案卷 (both seen in real reports)


# ---- the report model -----------------------------------------------------------------------
_KINDS = {c.key: c.kind for t in tpl.TEMPLATES for c in tpl.cells(t)}


def _fmt(value, kind: tpl.Kind, style: Style) -> str:
    if value is None:
        return ""
    if kind == tpl.Kind.CHANGE and style.change_words and value != 0:
        return f"增{value}" if value > 0 else f"减{-value}"
    if style.thousands and abs(value) >= 1000:
        whole, _, frac = number_text(value).partition(".")
        sign = "-" if whole.startswith("-") else ""
        return sign + f"{int(whole.lstrip('-')):,}" + (f".{frac}" if frac else "")
    return number_text(value)


def _row_values(cells: dict, prefix: str, columns: list[str], style: Style) -> list[str] | None:
    """The printed figures of one template row, or None when the row is not in the document."""
    keys = [f"{prefix}.{c}" for c in columns]
    present = [k in cells for k in keys]
    if not any(present):
        return None
    if not all(present):
        raise ValueError(f"{prefix}: a row is printed whole or not at all; expected JSON has part of it")
    return [_fmt(cells[k], _KINDS[k], style) for k in keys]


_ACTIVE_BLOCKS = {
    "2019": [
        ("第二十条第（一）项", ["本年新\n制作数量", "本年新\n公开数量", "对外公开总数量"], ["rules", "normative_docs"]),
        ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["licensing", "other_services"]),
        ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"], ["penalty", "enforcement"]),
        ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], ["fees"]),
        ("第二十条第（九）项", ["采购项目数量", "采购总金额"], ["procurement"]),
    ],
    "2021": [
        ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"], ["rules", "normative_docs"]),
        ("第二十条第（五）项", ["本年处理决定数量"], ["licensing"]),
        ("第二十条第（六）项", ["本年处理决定数量"], ["penalty", "enforcement"]),
        ("第二十条第（八）项", ["本年收费金额（单位：万元）"], ["fees"]),
    ],
}


def _spread(texts: list[str], width: int, value: bool) -> list[Span]:
    """Cells filling `width` columns; the last one spans what is left (the national layout)."""
    spans = [Span(t, value=value) for t in texts]
    spans[-1].cols = width - len(texts) + 1
    return spans


def active_layout(cells: dict, template: str, style: Style) -> Layout | None:
    rows_by_id = {row: (label, cols) for row, label, _, cols in tpl.ACTIVE_ROWS[template]}
    layout: Layout = []
    for block, headers, row_ids in _ACTIVE_BLOCKS[template]:
        printed = []
        for row_id in row_ids:
            label, cols = rows_by_id[row_id]
            values = _row_values(cells, f"active.{row_id}", list(cols), style)
            if values is not None:
                printed.append([Span(label), *_spread(values, 3, True)])
        if printed:
            layout.append([Span(block, cols=4)])
            layout.append([Span("信息内容"), *_spread(headers, 3, False)])
            layout.extend(printed)
    return layout or None


def _numbered(label: str, style: Style) -> str:
    label = re.sub(r"^(\d)\.", lambda m: m[1] + style.enumerator, label)
    if style.typos:
        label = label.replace("危及", "危机").replace("行政执法案卷", "行政法案卷")
    return label


def application_layout(cells: dict, template: str, style: Style) -> Layout | None:
    cols = [c for c, _ in tpl.APPLICANT_COLUMNS]
    labels = dict(tpl.application_rows(template))

    def values(row: str) -> list[Span] | None:
        v = _row_values(cells, f"applications.{row}", cols, style)
        return None if v is None else [Span(x, value=True) for x in v]

    # (group label, [(row id, sub label)]) for 三、本年度办理结果; a group of one row spans two columns.
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for row, label in tpl.application_rows(template):
        if row in ("new", "carried_over", "carry_forward"):
            continue
        head, _, sub = label.partition(" ")
        if groups and groups[-1][0] == head and sub:
            groups[-1][1].append((row, sub))
        else:
            groups.append((head, [(row, sub)]))
    result_rows: Layout = []
    for head, members in groups:
        printed = [(sub, v) for row, sub in members if (v := values(row)) is not None]
        for i, (sub, v) in enumerate(printed):
            if not sub:
                result_rows.append([Span(head, cols=2), *v])
            elif i == 0:
                result_rows.append([Span(head, rows=len(printed)), Span(_numbered(sub, style)), *v])
            else:
                result_rows.append([Span(_numbered(sub, style)), *v])
    body: Layout = []
    for row in ("new", "carried_over"):
        if (v := values(row)) is not None:
            body.append([Span(labels[row], cols=3), *v])
    if result_rows:
        result_rows[0].insert(0, Span("三、本年度办理结果", rows=len(result_rows)))
        body.extend(result_rows)
    if (v := values("carry_forward")) is not None:
        body.append([Span(labels["carry_forward"], cols=3), *v])
    if not body:
        return None
    header: Layout = [
        [
            Span("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rows=3, cols=3),
            Span("申请人情况", cols=7),
        ],
        [Span("自然人", rows=2), Span("法人或其他组织", cols=5), Span("总计", rows=2)],
        [Span("商业\n企业"), Span("科研\n机构"), Span("社会公益组织"), Span("法律服务机构"), Span("其他")],
    ]
    return header + body


def review_layout(cells: dict, style: Style) -> Layout | None:
    cols = [c for c, _ in tpl.REVIEW_COLUMNS]
    printed = [_row_values(cells, g, cols, style) for g, _ in tpl.REVIEW_GROUPS]
    if not any(printed):
        return None
    if not all(printed):
        raise ValueError("table 四 is printed whole or not at all")
    names = [Span(label) for _, label in tpl.REVIEW_COLUMNS]
    return [
        [Span("行政复议", cols=5), Span("行政诉讼", cols=10)],
        [*(Span(n.text, rows=2) for n in names), Span("未经复议直接起诉", cols=5), Span("复议后起诉", cols=5)],
        [*(Span(n.text) for n in names), *(Span(n.text) for n in names)],
        [Span(v, value=True) for group in printed for v in group],
    ]


def report_from(expected: dict, style: Style = Style()) -> Report:
    cells = expected["cells"]
    agency, year, template = expected["agency"], expected["year"], expected["template"]
    active = active_layout(cells, template, style)
    applications = application_layout(cells, template, style)
    review = review_layout(cells, style)
    new_total = cells.get("applications.new.total")
    blocks: list[str | Layout] = [
        f"本报告按照《中华人民共和国政府信息公开条例》和国家规定的年度报告格式编写，全文共六个部分。"
        f"报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、总体情况",
        f"{year}年，本机关把政府信息公开作为转变作风、接受监督的日常工作，按照“谁制作、谁公开”的要求落实责任。",
        "（一）主动公开",
        "通过门户网站政府信息公开专栏及时发布机构职能、工作动态和政策文件，做到应公开尽公开。",
        "（二）依申请公开",
        (
            f"全年新收政府信息公开申请{new_total}件，均在法定期限内答复。"
            if isinstance(new_total, int)
            else "依申请公开工作均在法定期限内答复。"
        ),
        "二、主动公开政府信息情况",
    ]
    if active:
        blocks.append(active)
    blocks.append("三、收到和处理政府信息公开申请情况")
    if applications:
        blocks.append(applications)
    blocks.append("四、政府信息公开行政复议、行政诉讼情况")
    if review:
        blocks.append(review)
    blocks += [
        "五、存在的主要问题及改进情况",
        "信息发布的时效性还需提高。下一步将完善信息发布审核流程，加强工作人员培训。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]
    closing = []
    if expected.get("signed_date"):
        y, m, d = (int(x) for x in expected["signed_date"].split("-"))
        closing = [agency, f"{y}年{m}月{d}日"]
    return Report(agency, year, template, [agency, f"{year}年政府信息公开工作年度报告"], blocks, closing)


def grid_origins(layout: Layout) -> list[list[tuple[int, Span]]]:
    """Each listed span with its grid column (the HTML table model)."""
    taken: list[set[int]] = [set() for _ in layout]
    out = []
    for r, row in enumerate(layout):
        placed = []
        c = 0
        for span in row:
            while c in taken[r]:
                c += 1
            placed.append((c, span))
            for dr in range(span.rows):
                taken[r + dr].update(range(c, c + span.cols))
            c += span.cols
        out.append(placed)
    return out


def layout_width(layout: Layout) -> int:
    return max(c + s.cols for row in grid_origins(layout) for c, s in row)


# ---- DOCX -----------------------------------------------------------------------------------
def to_docx(report: Report, path: Path | BinaryIO) -> Path | BinaryIO:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "WenQuanYi Zen Hei")

    for line in report.chrome:  # navigation bars come out of Word as one-row tables, the rest as paragraphs
        if " | " in line:
            items = line.split(" | ")
            nav = document.add_table(rows=1, cols=len(items))
            for cell, item in zip(nav.rows[0].cells, items, strict=True):
                cell.paragraphs[0].add_run(item)
        else:
            document.add_paragraph(line)
    for line in report.title:
        run = document.add_paragraph(style=None).add_run(line)
        run.bold, run.font.size = True, Pt(16)
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for block in report.blocks:
        if isinstance(block, str):
            document.add_paragraph(block).paragraph_format.first_line_indent = Pt(21)
            continue
        width = layout_width(block)
        table = document.add_table(rows=len(block), cols=width)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        # Look every cell up once: table.cell() rescans the whole table on each call. Spans are
        # disjoint, so no merge consumes a corner cell of a later one.
        grid = [list(row.cells) for row in table.rows]
        for r, row in enumerate(grid_origins(block)):
            for c, span in row:
                cell = grid[r][c]
                if span.rows > 1 or span.cols > 1:
                    cell = cell.merge(grid[r + span.rows - 1][c + span.cols - 1])
                para = cell.paragraphs[0]
                for extra in cell.paragraphs[1:]:  # merging gathers the covered cells' empty paragraphs
                    extra._element.getparent().remove(extra._element)
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER if span.value or span.cols > 1 else None
                for i, piece in enumerate(span.text.split("\n")):
                    run = para.add_run(piece)
                    run.font.size = Pt(9)
                    if i < span.text.count("\n"):
                        run.add_break()
        document.add_paragraph("")  # Word always ends a table with a paragraph; LibreOffice needs it
    for line in report.closing:
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for line in report.footer:
        document.add_paragraph(line)
    document.save(path)
    return path


def saved_page(report: Report) -> Report:
    """The report as a portal page saved from the browser and opened in Word: the site's top bar,
    navigation, breadcrumb, the article's metadata and a list of related documents (other years' reports,
    notices that name the report format) before the title, and the site footer after the 落款."""
    agency, year = report.agency, report.year
    chrome = [
        "无障碍浏览 | 长者模式 | 繁體版 | 登录 | 注册",
        f"{agency}门户网站",
        "网站首页 | 信息公开 | 政务服务 | 政民互动 | 数据开放",
        "当前位置：首页 > 政府信息公开 > 政府信息公开年报",
        "相关文章",
        f"{agency}{year - 1}年政府信息公开工作年度报告",
        f"{year}-01-22",
        f"{agency}{year - 2}年政府信息公开工作年度报告",
        f"{year - 1}-01-25",
        f"关于印发《{agency}{year + 1}年政务公开工作要点》的通知",
        "国务院办公厅政府信息与政务公开办公室关于印发《中华人民共和国政府信息公开工作年度报告格式》的通知",
        "信息公开指南 | 信息公开制度 | 法定主动公开内容 | 政府信息公开年报",
        f"索引号：113303000025771{year % 100:02d}B/{year + 1}-00012",
        f"发布机构：{agency}",
        f"发布时间：{year + 1}-01-20 10:32　来源：{agency}　浏览次数：1024",
        "【字体：大 中 小】【打印】【关闭】",
    ]
    footer = [
        "【打印本页】【关闭窗口】",
        "相关链接：中国政府网 | 省人民政府 | 市人民政府",
        f"主办单位：{agency}　网站标识码：3303000012",
        "ICP备案号：浙ICP备05000000号-1　公安机关备案号：33030202000123",
    ]
    return replace(report, chrome=chrome, footer=footer)


# ---- HTML -----------------------------------------------------------------------------------
_TD_STYLE = (
    "border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt;"
    "mso-border-top-alt:solid windowtext .5pt"
)
_SPAN_STYLE = "font-size:10.5pt;font-family:宋体;mso-ascii-font-family:Calibri;mso-hansi-font-family:Calibri;color:black;mso-font-kerning:0pt"


def _word_text(text: str, value: bool) -> str:
    """Cell text the way Word pastes it: nested spans, <br> inside labels, &nbsp; for a blank cell,
    full-width spaces padding figures, and an <o:p> at the end of each paragraph."""
    if value:
        if text == "":
            return f"<span lang=EN-US style='{_SPAN_STYLE}'><o:p>&nbsp;</o:p></span>"
        return f"<span lang=EN-US style='{_SPAN_STYLE}'>\u3000{html.escape(text)}<o:p></o:p></span>"
    pieces = []
    for piece in text.split("\n"):
        esc = html.escape(piece)
        if len(piece) > 4:  # Word splits runs wherever formatting (or proofing) changed
            cut = len(piece) // 2
            esc = f"{html.escape(piece[:cut])}</span><span style='{_SPAN_STYLE};mso-bidi-font-weight:bold'>{html.escape(piece[cut:])}"
        pieces.append(f"<span style='{_SPAN_STYLE}'>{esc}</span>")
    return "<br>\n".join(pieces) + "<span lang=EN-US><o:p></o:p></span>"


def _html_table(layout: Layout) -> str:
    out = [
        "<div align=center>",
        "<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 "
        "style='border-collapse:collapse;mso-table-layout-alt:fixed;border:none;mso-border-alt:solid windowtext .5pt;"
        "mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>",
    ]
    for r, row in enumerate(layout):
        out.append(f"<tr style='mso-yfti-irow:{r};height:20.0pt'>")
        for span in row:
            attrs = (f" rowspan={span.rows}" if span.rows > 1 else "") + (
                f" colspan={span.cols}" if span.cols > 1 else ""
            )
            align = "center" if span.value or span.cols > 1 else "left"
            out.append(
                f"<td{attrs} valign=center style='{_TD_STYLE}'>"
                f"<p class=MsoNormal align={align} style='text-align:{align};mso-pagination:widow-orphan'>"
                f"{_word_text(span.text, span.value)}</p></td>"
            )
        out.append("</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def word_html_body(report: Report) -> str:
    """The report as Word pastes it into a CMS editor."""
    out = [
        f"<p class=MsoNormal align=center style='text-align:center'><b><span style='font-size:16.0pt;"
        f"font-family:方正小标宋简体'>{html.escape(line)}<o:p></o:p></span></b></p>"
        for line in report.title
    ]
    for block in report.blocks:
        if isinstance(block, str):
            out.append(
                f"<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0'>"
                f"<span style='font-family:仿宋_GB2312'>{html.escape(block)}</span><span lang=EN-US><o:p></o:p></span></p>"
            )
        else:
            out.append(_html_table(block))
            out.append("<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>")
    out += [
        f"<p class=MsoNormal align=right style='text-align:right'><span style='font-family:仿宋_GB2312'>"
        f"{html.escape(line)}</span></p>"
        for line in report.closing
    ]
    return "\n".join(out)


def trs_page(report: Report) -> str:
    """A TRS WCM article page: navigation, breadcrumb, sidebar of other reports, footer."""
    title = html.escape(report.full_title)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="SiteName" content="门户网站" />
<meta name="ArticleTitle" content="{title}" />
<meta name="PubDate" content="{report.year + 1}-01-20 09:30" />
<title>{title}_门户网站</title>
<style>.nav li{{float:left}} p.MsoNormal{{margin:0cm;font-size:10.5pt}}</style>
<script type="text/javascript">var countPage = 3; document.write("<p>脚本写入的内容</p>");</script>
</head>
<body>
<div class="header"><div class="logo">门户网站</div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政府信息公开</a> &gt; <a href="./">政府信息公开年报</a></div>
<div class="main">
<div class="sidebar"><h3>相关报告</h3><ul>
<li><a href="../t1.html">{html.escape(report.agency)}{report.year - 1}年政府信息公开工作年度报告</a></li>
<li><a href="../t2.html">{html.escape(report.agency)}{report.year - 2}年政府信息公开工作年度报告</a></li></ul></div>
<div class="article">
<h1 class="title">{title}</h1>
<div class="info">发布时间：{report.year + 1}-01-20 来源：{html.escape(report.agency)} 浏览次数：<span id="hits">0</span></div>
<div class="trs_editor_view TRS_UEDITOR trs_paper_default trs_word">
<div class="TRS_Editor">
{word_html_body(report)}
</div></div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
</div></div>
<div class="footer"><p>主办单位：{html.escape(report.agency)}　网站标识码：3300000001</p><p>ICP备案号：浙ICP备00000000号-1</p>
<p>建议使用1366×768分辨率浏览本网站。</p></div>
<div style="display:none">隐藏统计代码 123 456</div>
</body></html>"""


def layout_table_page(report: Report, declared: str) -> str:
    """An old portal built of nested layout tables, no article class names at all."""
    title = html.escape(report.full_title)
    links = "".join(f"<tr><td><a href='/col/{i}/'>栏目{i}</a></td></tr>" for i in range(1, 9))
    return f"""<html>
<head><meta http-equiv="Content-Type" content="text/html; charset={declared}">
<title>{title}</title></head>
<body topmargin=0>
<table width=980 border=0 align=center cellpadding=0 cellspacing=0>
<tr><td colspan=2 height=90>政府门户网站　|　<a href="/">首页</a>　<a href="/zwgk/">政务公开</a>　<a href="/hdjl/">互动交流</a></td></tr>
<tr><td width=200 valign=top><table width=100%>{links}</table></td>
<td valign=top>
<table width=100% border=0 cellpadding=8>
<tr><td align=center style="font-size:20px;font-weight:bold">{title}</td></tr>
<tr><td align=center>发布日期：{report.year + 1}-01-25　　　字体：[<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>]</td></tr>
<tr><td style="line-height:200%">
{word_html_body(report)}
</td></tr></table>
</td></tr>
<tr><td colspan=2 align=center>版权所有：{html.escape(report.agency)}　技术支持：信息中心<br>地址：人民路1号　邮编：310000</td></tr>
</table>
</body></html>"""


def hanweb_page(report: Report, declared: str) -> str:
    """A Hanweb JCMS article page: the body sits in #zoom, the title in a table cell."""
    title = html.escape(report.full_title)
    return f"""<!DOCTYPE html>
<html><head>
<meta charset="{declared}">
<meta name="ArticleTitle" content="{title}">
<title>{title}</title>
<script>var _hmt = _hmt || [];</script>
</head><body>
<div id="barrierfree_container">
<div class="top-nav"><a href="/">首页</a> | <a href="/col/col1/">政务公开</a> | <a href="/col/col2/">政民互动</a></div>
<div class="crumbs">您现在的位置：<a href="/">首页</a> &gt; <a href="/col/col3/">年度报告</a></div>
<table width="100%"><tr><td class="title">{title}</td></tr>
<tr><td class="tdinfo">发布日期：{report.year + 1}-01-28　信息来源：{html.escape(report.agency)}</td></tr></table>
<div id="zoom">
{word_html_body(report)}
</div>
<div class="bottom">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
</div>
<div class="foot">主办：{html.escape(report.agency)}　承办：信息中心</div>
</body></html>"""


# ---- spreadsheets ---------------------------------------------------------------------------
_HEADING = re.compile(r"^[一二三四五六]、")


def sheet_cells(report: Report) -> list[tuple[int, int, int, int, str | int | float | None]]:
    """(row, column, rows, columns, value) of a one-sheet workbook holding the report's tables:
    title rows, the section headings, each table with its merges, then the 落款. Figures are
    stored as numbers the way a spreadsheet keeps them; prose stays in the document."""
    width = max(layout_width(b) for b in report.blocks if not isinstance(b, str))
    out: list[tuple[int, int, int, int, str | int | float | None]] = []
    r = 0
    for line in report.title:
        out.append((r, 0, 1, width, line))
        r += 1
    for block in report.blocks:
        if isinstance(block, str):
            if _HEADING.match(block):
                out.append((r, 0, 1, width, block))
                r += 1
            continue
        for dr, row in enumerate(grid_origins(block)):
            for c, span in row:
                out.append((r + dr, c, span.rows, span.cols, _sheet_value(span)))
        r += len(block) + 1
    for line in report.closing:
        out.append((r, 0, 1, width, line))
        r += 1
    return out


def _sheet_value(span: Span) -> str | int | float | None:
    if not span.value:
        return span.text
    if span.text == "":
        return None
    plain = span.text.replace(",", "")
    if re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if re.fullmatch(r"-?\d+\.\d+", plain):
        return float(plain)
    return span.text  # 增7 / 减2 are text in a spreadsheet too


def to_xlsx(report: Report, path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "年度报告"
    for r, c, rows, cols, value in sheet_cells(report):
        ws.cell(r + 1, c + 1, value)
        if rows > 1 or cols > 1:
            ws.merge_cells(start_row=r + 1, start_column=c + 1, end_row=r + rows, end_column=c + cols)
    book.save(path)
    return path


def to_xls(report: Report, path: Path) -> Path:
    """A BIFF8 workbook (Excel 97–2003) written by xlwt; numbers are stored as floats, as Excel does."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("年度报告")
    for r, c, rows, cols, value in sheet_cells(report):
        if rows > 1 or cols > 1:
            ws.write_merge(r, r + rows - 1, c, c + cols - 1, value)
        else:
            ws.write(r, c, value)
    book.save(str(path))
    return path


# ---- building every rendition of a set of sources --------------------------------------------
HTML_STYLE = Style(enumerator="、", change_words=False, thousands=True)
GBK_STYLE = Style(enumerator="、", change_words=True, typos=True)


def write_all(sources: dict[str, dict], outdir: Path) -> dict[tuple[str, str], Path]:
    """Write every rendition of every source (name → expected JSON) into `outdir`.

    LibreOffice runs twice in all (DOCX → PDF, DOCX → DOC), each over every DOCX at once, in parallel.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    paths: dict[tuple[str, str], Path] = {}
    docx_paths = []
    for name, expected in sources.items():
        plain = report_from(expected)
        paths[name, "docx"] = to_docx(plain, outdir / f"{name}.docx")
        docx_paths.append(paths[name, "docx"])
        trs = report_from(expected, HTML_STYLE)
        (outdir / f"{name}.html").write_text(trs_page(trs), encoding="utf-8")
        (outdir / f"{name}.fragment.html").write_text(word_html_body(trs), encoding="utf-8")
        gbk = report_from(expected, GBK_STYLE)
        (outdir / f"{name}.gbk.html").write_bytes(layout_table_page(gbk, "gb2312").encode("gbk"))
        (outdir / f"{name}.gbk-lie.html").write_bytes(hanweb_page(gbk, "utf-8").encode("gbk"))
        paths[name, "html"] = outdir / f"{name}.html"
        paths[name, "html-fragment"] = outdir / f"{name}.fragment.html"
        paths[name, "html-gbk"] = outdir / f"{name}.gbk.html"
        paths[name, "html-gbk-lie"] = outdir / f"{name}.gbk-lie.html"
        paths[name, "xlsx"] = to_xlsx(plain, outdir / f"{name}.xlsx")
        paths[name, "xls"] = to_xls(gbk, outdir / f"{name}.xls")
    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(convert, docx_paths, target, outdir, 180) for target in ("pdf", "doc")]
        for job in jobs:
            job.result()
    for name in sources:
        for kind in ("pdf", "doc"):
            path = outdir / f"{name}.{kind}"
            if not path.is_file():
                raise RuntimeError(f"LibreOffice made no {path.name}")
            paths[name, kind] = path
    return paths


# ---- Markdown, as PDF→Markdown converters write it ---------------------------------------------
@dataclass(frozen=True)
class MarkdownStyle:
    """How one converter writes the report's tables."""

    repeat: bool = False  # docling: a merged cell's text in every position it covers (else blank, as marker)
    html_tables: bool = False  # MinerU: each table as an HTML <table> with rowspan/colspan
    split: bool = False  # table 三 cut by a page break: a page number and a running heading between the
    # pieces, its header printed again on the second piece, and the row at the cut split in two
    repeated_header: bool = False  # table 三's header printed again between two rows of one table
    generic: tuple[str, ...] = ()  # tables (applications, review) whose header the converter named 数据1…N


def flat_rows(layout: Layout, repeat: bool = False) -> list[list[str]]:
    """The layout as a full grid: a merged cell's text in its top-left position, covered ones blank
    (or repeating the text)."""
    grid = [[""] * layout_width(layout) for _ in layout]
    for r, row in enumerate(grid_origins(layout)):
        for c, span in row:
            for dr in range(span.rows):
                for dc in range(span.cols):
                    if (dr, dc) == (0, 0) or repeat:
                        grid[r + dr][c + dc] = span.text
    return grid


def _pipe(row: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in row) + " |"


def pipe_table(rows: list[list[str]]) -> list[str]:
    """A pipe table: the first row is its header line."""
    return [_pipe(rows[0]), "|" + "---|" * len(rows[0]), *(_pipe(r) for r in rows[1:])]


def _html_table_plain(layout: Layout) -> str:
    """A table the way MinerU writes one: bare <table><tr><td rowspan colspan>, on one line."""
    out = ["<table>"]
    for row in layout:
        out.append("<tr>")
        for span in row:
            attrs = (f' rowspan="{span.rows}"' if span.rows > 1 else "") + (
                f' colspan="{span.cols}"' if span.cols > 1 else ""
            )
            out.append(f"<td{attrs}>{html.escape(span.text).replace(chr(10), '<br>')}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _header_rows(layout: Layout) -> int:
    """How many rows at the top of a table print no figure."""
    for r, row in enumerate(layout):
        if any(s.value for s in row):
            return r
    return len(layout)


def _table_name(heading: str) -> str:
    return {"二": "active", "三": "applications", "四": "review"}.get(heading[:1], "")


def _markdown_table(layout: Layout, name: str, report: Report, style: MarkdownStyle) -> list[str]:
    if style.html_tables:
        return [_html_table_plain(layout), ""]
    rows = flat_rows(layout, style.repeat)
    head = _header_rows(layout)
    if name in style.generic:
        rows = [[f"数据{i + 1}" for i in range(len(rows[0]))]] + rows[head:]
        head = 1
    if name != "applications" or not (style.split or style.repeated_header):
        return [*pipe_table(rows), ""]
    header, body = rows[:head], rows[head:]
    cut = len(body) // 2
    if style.repeated_header:
        return [*pipe_table(header + body[:cut] + header + body[cut:]), ""]
    # The row at the cut breaks inside its label: the label's head stays above, the rest and the figures below.
    row = body[cut]
    k = max(c for c, text in enumerate(row) if text and not is_figure(text))  # the row's own label
    label = row[k]
    above = ["" if c != k else label[: len(label) // 2] for c in range(len(row))]
    above[:k] = row[:k]
    below = [label[len(label) // 2 :] if c == k else ("" if c < k else row[c]) for c in range(len(row))]
    return [
        *pipe_table(header + body[:cut] + [above]),
        "",
        "- 2 -",
        "",
        f"## {report.full_title}",
        "",
        *pipe_table(header + [below] + body[cut + 1 :]),
        "",
    ]


def to_markdown(report: Report, style: MarkdownStyle = MarkdownStyle()) -> str:
    """The report as a converter's Markdown: title and section headings as # headings, prose as paragraphs,
    the tables as pipe tables (or HTML), merged cells flattened the converter's way."""
    out = [f"# {report.full_title}", ""]
    name = ""
    for block in report.blocks:
        if isinstance(block, str):
            heading = bool(_HEADING.match(block))
            if heading:
                name = _table_name(block)
            out += [f"## {block}" if heading else block, ""]
        else:
            out += _markdown_table(block, name, report, style)
    out += [*(f"{line}  " for line in report.closing), ""]
    return "\n".join(out)


if __name__ == "__main__":
    source = Path(sys.argv[1])
    for (_, kind), path in sorted(write_all({source.stem: json.loads(source.read_text())}, Path(sys.argv[2])).items()):
        print(kind, path)
