"""Unit tests of the HTML, DOCX, XLSX/XLS and LibreOffice readers on small inputs made here."""

from __future__ import annotations

import io
import os
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import psutil
import pytest

from crawler.model import ParseError
from crawler.parsing import parse_bytes, sniff
from crawler.parsing.document import Table
from crawler.parsing.readers import docx as docx_reader
from crawler.parsing.readers.docx import read_docx
from crawler.parsing.readers.html import decode_html, read_html
from crawler.parsing.readers.office import convert, read_office
from crawler.parsing.readers.sheet import number_text, read_sheet


def tables(doc) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table)]


def lines(doc) -> list[str]:
    return [b for b in doc.blocks if isinstance(b, str)]


# ---- HTML -----------------------------------------------------------------------------------
def test_rowspan_and_colspan_expand_into_a_grid():
    page = """<table>
    <tr><td rowspan=2 colspan=2>信息内容</td><td colspan=3>申请人情况</td></tr>
    <tr><td>自然人</td><td colspan=2>法人</td></tr>
    <tr><td rowspan=3>三、办理结果</td><td>（一）予以公开</td><td>1</td><td></td><td>3</td></tr>
    <tr><td>（二）部分公开</td><td>4</td><td>5</td><td>6</td></tr>
    <tr><td>（三）不予公开</td><td>7</td><td>8</td><td>9</td></tr>
    </table>""".encode()
    (table,) = tables(read_html(page))
    assert table.rows == [
        ["信息内容", None, "申请人情况", None, None],
        [None, None, "自然人", "法人", None],
        ["三、办理结果", "（一）予以公开", "1", "", "3"],
        [None, "（二）部分公开", "4", "5", "6"],
        [None, "（三）不予公开", "7", "8", "9"],
    ]


def test_spans_are_capped_and_rowspan_zero_runs_to_the_end():
    page = b"<table><tr><td rowspan=0>a</td><td colspan=99999>b</td></tr><tr><td>c</td></tr></table>"
    (table,) = tables(read_html(page))
    assert table.rows[0][:2] == ["a", "b"] and len(table.rows[0]) == 1001
    assert table.rows[1][:2] == [None, "c"]


PAGE = "<html><head><meta charset='{cs}'><title>{t}</title></head><body><p>{t}</p><p>{b}</p></body></html>"
SIMPLIFIED = ("某市人民政府2021年政府信息公开工作年度报告", "统计期限自2021年1月1日起。")
TRADITIONAL = ("某市人民政府2021年政府資訊公開工作年度報告", "統計期限自2021年1月1日起。")


@pytest.mark.parametrize(
    ("declared", "encoding", "words"),
    [
        ("utf-8", "gbk", SIMPLIFIED),  # the lie the issue names: declares UTF-8, is GBK
        ("gb2312", "utf-8", SIMPLIFIED),
        ("iso-8859-1", "gbk", SIMPLIFIED),  # a single-byte declaration decodes anything: not trusted
        ("gb2312", "gbk", SIMPLIFIED),
        ("big5", "big5", TRADITIONAL),  # a true multi-byte declaration is used
    ],
)
def test_charset_is_decided_by_the_bytes_when_the_page_lies(declared, encoding, words):
    title, body = words
    text = PAGE.format(cs=declared, t=title, b=body)
    data = text.encode(encoding)
    assert decode_html(data) == text
    doc = read_html(data)
    assert doc.title_hint == title and lines(doc) == [title, body]


def test_declared_gbk_page_with_a_stray_byte_still_decodes_as_gbk():
    text = PAGE.format(cs="gbk", t=SIMPLIFIED[0], b=SIMPLIFIED[1] * 40)
    data = text.encode("gbk").replace(b"</body>", b"\xff</body>")
    assert SIMPLIFIED[0] in decode_html(data) and decode_html(data).count("\ufffd") == 1


def test_gbk_page_with_characters_outside_gb2312_decodes_as_gb18030():
    data = PAGE.format(cs="gb2312", t="测试", b="朱镕基").encode("gbk")
    assert "朱镕基" in decode_html(data)  # 镕 is in GBK, not in GB2312


CHROME_PAGE = """<html><head><meta charset="utf-8"><title>门户网站</title>
<script>document.write('脚本')</script><style>p{color:red}</style></head><body>
<div class="top"><h1><img alt="logo">某市人民政府门户网站</h1></div>
<div id="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li></ul></div>
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; 年报</div>
<div class="wrap">
 <div class="left-sidebar"><p>相关阅读</p><a href="/a">某市人民政府2020年政府信息公开工作年度报告</a></div>
 <div class="con">
  <div class="art-title">某市人民政府2021年政府信息公开工作年度报告</div>
  <p>本报告依据条例编制。报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止。</p>
  <p>一、总体情况</p><p>全年主动公开政府信息一千余条，持续推进重点领域信息公开，回应社会关切，保障公众知情权。</p>
  <table><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>1</td></tr></table>
  <p>某市人民政府办公室</p><p>2022年1月20日</p>
 </div>
</div>
<footer><p>主办单位：某市人民政府办公室 网站标识码：1234567890</p><p>2022年1月21日</p></footer>
</body></html>"""


def test_navigation_chrome_and_footer_are_dropped():
    doc = read_html(CHROME_PAGE.encode())
    text = "\n".join(lines(doc))
    assert doc.title_hint == "某市人民政府2021年政府信息公开工作年度报告"  # not the logo h1
    for chrome in ("首页", "当前位置", "相关阅读", "2020年政府信息", "网站标识码", "脚本", "color"):
        assert chrome not in text
    assert lines(doc)[0] == "某市人民政府2021年政府信息公开工作年度报告"
    assert lines(doc)[-1] == "2022年1月20日"  # the 落款, not the footer's date
    assert tables(doc)[0].rows == [["信息内容", "本年制发件数"], ["规章", "1"]]


@pytest.mark.parametrize(
    ("name", "chrome"),
    [("left-sidebar", True), ("top-nav", True), ("crumbs", True), ("footer_wrap", True), ("position", True),
     ("position-relative", False), ("article-header-title-text", False), ("content", False)],
)  # fmt: skip
def test_chrome_is_recognised_by_whole_class_tokens(name, chrome):
    from lxml import html as lhtml

    from crawler.parsing.readers.html import _is_chrome

    assert _is_chrome(lhtml.fromstring(f'<div class="x {name}">t</div>')) is chrome


def test_named_article_container_wins_over_text_mass():
    title_div = '<div class="art-title">某市人民政府2021年政府信息公开工作年度报告</div>'
    page = CHROME_PAGE.replace(title_div, title_div + '<div class="TRS_Editor">').replace(
        "</div>\n</div>\n<footer>", "</div></div>\n</div>\n<footer>"
    )
    doc = read_html(page.encode())
    assert lines(doc)[0].startswith("本报告依据条例编制")  # the title div sits outside the TRS body
    assert lines(doc)[-1] == "2022年1月20日"
    assert doc.title_hint == "某市人民政府2021年政府信息公开工作年度报告"


WORD_TABLE = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><body>
<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View></w:WordDocument></xml><![endif]-->
<div class=WordSection1>
<table class=MsoNormalTable border=1 style='border-collapse:collapse;mso-yfti-tbllook:1184'>
<tr style='mso-yfti-irow:0'>
 <td style='border:solid windowtext 1.0pt'><p class=MsoNormal align=center><span style='font-family:宋体'>信息</span><span
 style='font-family:宋体;mso-bidi-font-weight:bold'>内容</span><span lang=EN-US><o:p></o:p></span></p></td>
 <td><p class=MsoNormal><span style='font-family:宋体'>本年新<br>制作数量</span><o:p></o:p></p></td>
 <td><p class=MsoNormal><span lang=EN-US>&nbsp;<o:p></o:p></span></p></td>
</tr>
<tr>
 <td><p class=MsoNormal><span style='font-family:宋体'>规　　章</span></p></td>
 <td><p class=MsoNormal><span lang=EN-US>　　1<span style='display:none;mso-hide:all'>99</span><o:p></o:p></span></p></td>
 <td><p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p></td>
</tr>
<![if !supportMisalignedColumns]>
<tr height=0><td width=72 style='border:none'></td><td width=72 style='border:none'></td><td width=72 style='border:none'></td></tr>
<![endif]>
</table></div></body></html>"""


def test_word_pasted_markup_reads_as_plain_cells():
    (table,) = tables(read_html(WORD_TABLE.encode()))
    assert table.rows == [["信息内容", "本年新\n制作数量", ""], ["规　　章", "1", ""]]


def test_layout_tables_are_read_through_to_the_data_table():
    page = """<table width=980><tr><td>网站导航</td></tr><tr><td>
    <table><tr><td><p>某县2021年政府信息公开工作年度报告</p>
      <table border=1><tr><td>规章</td><td>1</td><td>0</td></tr></table>
      <p>正文结束</p></td></tr></table></td></tr></table>"""
    doc = read_html(page.encode())
    assert [t.rows for t in tables(doc)] == [[["规章", "1", "0"]]]
    assert "某县2021年政府信息公开工作年度报告" in lines(doc) and lines(doc)[-1] == "正文结束"


def test_report_split_over_word_sections_keeps_every_table():
    """The middle section holds most of the text; the body must still reach the other tables."""
    long = "规章制度建设情况说明。" * 60
    page = f"""<html><body><div class="nav"><a href="/">首页</a></div><div id="main">
    <div class=WordSection1><p>某市2021年政府信息公开工作年度报告</p>
      <table><tr><td>规章</td><td>1</td><td>0</td><td>11</td></tr></table></div>
    <div class=WordSection2><p>{long}</p><table><tr><td>行政许可</td><td>5</td></tr></table></div>
    <div class=WordSection3><table><tr><td>结果维持</td><td>0</td></tr></table><p>2022年1月20日</p></div>
    </div><div class="footer">版权所有</div></body></html>"""
    doc = read_html(page.encode())
    assert [t.rows[0][0] for t in tables(doc)] == ["规章", "行政许可", "结果维持"]
    assert lines(doc)[0] == "某市2021年政府信息公开工作年度报告" and "版权所有" not in lines(doc)


def test_closing_lines_beside_the_main_text_are_kept():
    """The 落款 sits beside the densest block; the unnamed copyright strip at page level does not."""
    text = "".join(f"<p>第{i}段：本机关依法做好政府信息公开工作，及时回应公众关切。</p>" for i in range(20))
    page = f"""<html><body><div class="nav"><a href="/">首页</a><a href="/x">栏目</a></div>
    <div class="page"><div class="text">{text}<table><tr><td>规章</td><td>1</td></tr></table></div>
    <p>某市人民政府办公室</p><p>2022年1月20日</p></div>
    <div class="bottom-info">版权所有：某市人民政府办公室　地址：人民路1号　备案号：00000000号</div></body></html>"""
    doc = read_html(page.encode())
    assert lines(doc)[-2:] == ["某市人民政府办公室", "2022年1月20日"]
    assert lines(doc)[0].startswith("第0段") and not any("版权所有" in line for line in lines(doc))


def test_preformatted_text_keeps_its_lines():
    doc = read_html(
        "<body><p>前言</p><pre>信息内容\t本年制发件数\n规章   1   0   11\n\n行政许可  5</pre></body>".encode()
    )
    assert doc.blocks == ["前言", "信息内容 本年制发件数", "规章 1 0 11", "行政许可 5"]


def test_page_without_text_is_a_clear_error():
    with pytest.raises(ParseError) as e:
        read_html(b"<html><body><script>var a=1;</script></body></html>")
    assert e.value.reason == "no_text"


# ---- DOCX -----------------------------------------------------------------------------------
def _docx_bytes(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_merged_cells_leave_none_where_they_cover():
    document = docx.Document()
    document.add_paragraph("前言")
    table = document.add_table(rows=4, cols=4)
    table.cell(0, 0).merge(table.cell(1, 1)).text = "信息内容"  # 2×2 block
    table.cell(0, 2).merge(table.cell(0, 3)).text = "申请人情况"
    table.cell(1, 2).text, table.cell(1, 3).text = "自然人", "法人"
    table.cell(2, 0).merge(table.cell(3, 0)).text = "三、办理结果"
    table.cell(2, 1).text, table.cell(2, 2).text, table.cell(2, 3).text = "（一）予以公开", "1", ""
    table.cell(3, 1).text, table.cell(3, 2).text, table.cell(3, 3).text = "（二）部分公开", "2", "3"
    document.add_paragraph("结语")
    doc = read_docx(_docx_bytes(document))
    assert doc.blocks[0] == "前言" and doc.blocks[-1] == "结语"
    assert tables(doc)[0].rows == [
        ["信息内容", None, "申请人情况", None],
        [None, None, "自然人", "法人"],
        ["三、办理结果", "（一）予以公开", "1", ""],
        [None, "（二）部分公开", "2", "3"],
    ]


def test_docx_reads_content_controls_and_skips_deleted_text():
    document = docx.Document()
    document.add_paragraph("第一段")
    wrapped = document.add_paragraph("控件里的段落")
    document.add_paragraph("第三段")
    w = docx_reader.W
    body = document.element.body
    from lxml import etree

    sdt = etree.SubElement(body, w + "sdt")
    content = etree.SubElement(sdt, w + "sdtContent")
    body.insert(body.index(wrapped._element), sdt)
    content.append(wrapped._element)
    deleted = etree.fromstring(
        f'<w:del xmlns:w="{w[1:-1]}"><w:r><w:delText>删掉的字</w:delText></w:r></w:del>'.encode()
    )
    document.paragraphs[-1]._element.append(deleted)
    doc = read_docx(_docx_bytes(document))
    assert doc.blocks == ["第一段", "控件里的段落", "第三段"]


MHT = """MIME-Version: 1.0
Content-Type: multipart/related; boundary="----=_NextPart_000"

------=_NextPart_000
Content-Type: text/html; charset="gb2312"
Content-Transfer-Encoding: base64

{body}
------=_NextPart_000--
"""


@pytest.mark.parametrize("chunk", ["html", "mht"])
def test_docx_alt_chunks_are_read_in_place(chunk):
    """OA systems export Word files whose body is an embedded HTML or MHT page (w:altChunk)."""
    import base64

    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    page = "<html><body><p>正文开头</p><table><tr><td rowspan=2>规章</td><td>1</td></tr><tr><td>2</td></tr></table></body></html>"
    if chunk == "html":
        blob, ctype = page.encode(), "text/html"
    else:
        encoded = base64.encodebytes(page.encode("gb2312")).decode()
        blob, ctype = MHT.format(body=encoded).encode(), "message/rfc822"
    document = docx.Document()
    document.add_paragraph("导出的文件")
    part = Part(PackURI(f"/word/afchunk.{chunk}"), ctype, blob, document.part.package)
    alt = OxmlElement("w:altChunk")
    alt.set(qn("r:id"), document.part.relate_to(part, RELATIONSHIP_TYPE.A_F_CHUNK))
    document.element.body.insert(1, alt)
    document.add_paragraph("结尾")
    doc = read_docx(_docx_bytes(document))
    assert doc.blocks[:2] == ["导出的文件", "正文开头"] and doc.blocks[-1] == "结尾"
    assert tables(doc)[0].rows == [["规章", "1"], [None, "2"]]


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == name else src.read(info.filename))
    return out.getvalue()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""


def _xlsx_bytes(build) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    build(book)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_xml_entity_bomb_is_refused_quickly(kind):
    if kind == "docx":
        data = _with_member(_docx_bytes(docx.Document()), "word/document.xml", BOMB)
    else:
        data = _with_member(_xlsx_bytes(lambda b: None), "xl/workbook.xml", BOMB.replace(b"w:document", b"workbook"))
    start = time.monotonic()
    with pytest.raises(ParseError) as e:
        parse_bytes(data)
    assert e.value.reason == "unreadable" and "entities" in str(e.value)
    assert time.monotonic() - start < 2


def test_package_unpacking_to_too_much_is_refused(monkeypatch):
    monkeypatch.setattr(docx_reader, "MAX_UNPACKED", 1 << 20)
    padding = b"<!-- " + b"0" * (2 << 20) + b" -->"
    data = _with_member(_docx_bytes(docx.Document()), "word/styles.xml", padding)
    assert len(data) < 100_000  # it compresses to almost nothing
    with pytest.raises(ParseError) as e:
        read_docx(data)
    assert e.value.reason == "too_large"


def test_zip_member_inflating_past_its_declared_size_is_unreadable():
    """A lying size header: zipfile stops at the declared size and the CRC check fails."""
    raw = _with_member(_docx_bytes(docx.Document()), "word/styles.xml", b"<x/>" + b" " * 50_000)
    at = raw.rindex(b"word/styles.xml") - 46 + 24  # uncompressed size in its central-directory entry
    lying = raw[:at] + (10).to_bytes(4, "little") + raw[at + 4 :]
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("word/styles.xml").file_size == 10
    with pytest.raises(ParseError) as e:
        read_docx(lying)
    assert e.value.reason == "unreadable"


def test_damaged_docx_is_unreadable():
    data = _with_member(_docx_bytes(docx.Document()), "word/document.xml", b"<w:document>not closed")
    with pytest.raises(ParseError) as e:
        parse_bytes(data)
    assert e.value.reason == "unreadable" and "DOCX" in str(e.value)


# ---- spreadsheets ---------------------------------------------------------------------------
def test_number_text_prints_numbers_as_people_do():
    assert [number_text(v) for v in (3.0, 3, 95399.67, 488.780058, -2.0, 1e16, 0.1 + 0.2)] == [
        "3",
        "3",
        "95399.67",
        "488.780058",
        "-2",
        "10000000000000000",
        "0.30000000000000004",
    ]


def test_xlsx_merged_ranges_numbers_and_separate_tables():
    def build(book):
        ws = book.active
        ws["A1"] = "某局2021年政府信息公开工作年度报告"
        ws.merge_cells("A1:E1")
        ws.append(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
        ws.append(["规章", 3.0, 0, 11])
        ws.append([])
        ws.append(["行政许可", 95399.67, None, datetime(2022, 1, 20)])
        ws.merge_cells("B5:C5")
        hidden = book.create_sheet("草稿")
        hidden["A1"] = "不应读出"
        hidden.sheet_state = "hidden"

    doc = read_sheet(_xlsx_bytes(build), "xlsx")
    assert [t.rows for t in doc.blocks] == [
        [
            ["某局2021年政府信息公开工作年度报告", None, None, None],
            ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "3", "0", "11"],
        ],
        [["行政许可", "95399.67", None, "2022年1月20日"]],
    ]


def test_xls_merged_ranges_and_float_numbers():
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("表三")
    ws.write_merge(0, 1, 0, 0, "三、本年度办理结果")
    ws.write(0, 1, "（一）予以公开")
    ws.write(0, 2, 4)  # xlwt stores every number as a float, as Excel does
    ws.write(1, 1, "（二）部分公开")
    ws.write(1, 2, 0.5)
    ws.write_merge(2, 2, 0, 1, "（七）总计")
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    assert sniff(data) == "xls"
    doc = read_sheet(data, "xls")
    assert doc.blocks[0].rows == [
        ["三、本年度办理结果", "（一）予以公开", "4"],
        [None, "（二）部分公开", "0.5"],
        ["（七）总计", None, ""],
    ]


def test_xlsx_formula_without_saved_result_reads_blank_with_a_finding():
    def build(book):
        ws = book.active
        ws.append(["规章", 1, 2, "=B1+C1"])  # openpyxl saves formulas without results, as generators do
        ws.append(["规范性文件", 3, 4, 7])

    doc = read_sheet(_xlsx_bytes(build), "xlsx")
    assert doc.blocks[0].rows == [["规章", "1", "2", ""], ["规范性文件", "3", "4", "7"]]
    (finding,) = doc.extra_findings
    assert finding.rule == "parse.uncached_formula" and finding.data == {"count": 1}


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_damaged_spreadsheets_are_unreadable(fmt):
    data = b"PK\x03\x04" + b"\x00" * 200 if fmt == "xlsx" else b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 600
    with pytest.raises(ParseError) as e:
        read_sheet(data, fmt)
    assert e.value.reason == "unreadable" and fmt.upper() in str(e.value)


# ---- LibreOffice ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_doc(tmp_path_factory) -> bytes:
    """A Word-97 file made by LibreOffice from a DOCX with a merged table."""
    tmp = tmp_path_factory.mktemp("office")
    document = docx.Document()
    document.add_paragraph("某局2021年政府信息公开工作年度报告")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "行政许可"
    table.cell(0, 1).text, table.cell(0, 2).text = "本年处理决定数量", "5"
    table.cell(1, 1).text, table.cell(1, 2).text = "其他", "7"
    document.add_paragraph("2022年1月20日")
    document.save(tmp / "small.docx")
    convert([tmp / "small.docx"], "doc", tmp)
    return (tmp / "small.doc").read_bytes()


def test_doc_is_converted_and_read_with_its_merged_cells(small_doc):
    assert sniff(small_doc) == "doc"
    doc = read_office(small_doc, "doc")
    assert doc.format == "doc"
    assert doc.blocks[0] == "某局2021年政府信息公开工作年度报告" and "2022年1月20日" in lines(doc)
    assert tables(doc)[0].rows == [["行政许可", "本年处理决定数量", "5"], [None, "其他", "7"]]


def test_rtf_goes_through_libreoffice():
    rtf = (
        r"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0 SimSun;}}"
        r"\pard \u26576?\u23616?2021\u24180?\par"
        r"\trowd\cellx2000\cellx4000 \u35268?\u31456?\cell 11\cell\row"
        r"\pard \par}"
    ).encode("ascii")
    assert sniff(rtf) == "rtf"
    doc = read_office(rtf, "rtf")
    assert doc.format == "rtf" and doc.blocks[0] == "某局2021年"
    assert tables(doc)[0].rows == [["规章", "11"]]


def test_office_timeout_kills_the_whole_process_group(small_doc, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # profile and work dirs land here
    monkeypatch.setenv("XXGK_SOFFICE_TIMEOUT", "0.3")
    start = time.monotonic()
    with pytest.raises(ParseError) as e:
        read_office(small_doc, "doc")
    assert e.value.reason == "timeout" and "0.3 s" in str(e.value)
    assert time.monotonic() - start < 10
    leftovers = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(str(tmp_path) in part for part in proc.info["cmdline"] or []):
                leftovers.append(proc.pid)
        except psutil.Error:
            pass
    assert leftovers == []
    assert not any(tmp_path.iterdir())  # temp files removed


def test_encrypted_docx_is_reported_without_running_libreoffice(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    document = docx.Document()
    document.add_paragraph("机密")
    plain = tmp_path / "plain.docx"
    document.save(plain)
    out = io.BytesIO()
    with plain.open("rb") as fh:
        OOXMLFile(fh).encrypt("secret", out)
    start = time.monotonic()
    with pytest.raises(ParseError) as e:
        parse_bytes(out.getvalue())
    assert e.value.reason == "encrypted" and "password" in str(e.value)
    assert time.monotonic() - start < 1


def test_encrypted_word97_flag_is_reported(small_doc, tmp_path):
    import olefile

    path = tmp_path / "locked.doc"
    path.write_bytes(small_doc)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("WordDocument").read())
        stream[11] |= 0x01  # FIB flags: fEncrypted
        ole.write_stream("WordDocument", bytes(stream))
    with pytest.raises(ParseError) as e:
        parse_bytes(path.read_bytes())
    assert e.value.reason == "encrypted"


def test_garbage_compound_file_is_unreadable():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096)
    with pytest.raises(ParseError) as e:
        parse_bytes(data)
    assert e.value.reason == "unreadable" and "damaged" in str(e.value)


def test_word_file_libreoffice_cannot_load_is_unreadable(small_doc, tmp_path):
    """A sound compound file whose WordDocument stream is wiped: only LibreOffice can tell."""
    import olefile

    path = tmp_path / "wiped.doc"
    path.write_bytes(small_doc)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = len(ole.openstream("WordDocument").read())
        ole.write_stream("WordDocument", b"\0" * size)
    with pytest.raises(ParseError) as e:
        parse_bytes(path.read_bytes())
    assert e.value.reason == "unreadable" and "LibreOffice could not read the DOC file" in str(e.value)


def test_missing_libreoffice_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ParseError) as e:
        convert([Path("x.doc")], "docx", tmp_path)
    assert e.value.reason == "unsupported" and "soffice" in str(e.value)
