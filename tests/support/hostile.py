"""Hostile documents for the hardening suite: each generator returns bytes built here, at run time.

Broken, encrypted, image-only, bomb-laden, oversized and garbled inputs that a crawler meets on real portals
(and that an attacker could plant). The fuzzers use the good documents (the seeds' figures rendered by
tests/renditions.py, and the real PDF, all read from ../shared at run time, never copied) and the mutators here.
`parse_isolated` runs one parse in a child interpreter with time and memory limits.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


# ---------------------------------------------------------------------------------------------------------------
# Good documents: the seeds' figures in the renditions tests/renditions.py builds (our own wording and layout).


def rendition(expected: dict, kind: str) -> bytes:
    """A hand-labelled report (an expected JSON) as a TRS page, a Hanweb page that is GBK but declares UTF-8,
    a DOCX with merged cells, an XLSX, an OFD, or a converter's Markdown."""
    import tempfile

    from support import renditions
    from support.ofd import to_ofd

    report = renditions.report_from(expected)
    if kind == "html":
        return renditions.trs_page(report).encode("utf-8")
    if kind == "html-gbk-lie":
        return renditions.hanweb_page(report, "utf-8").encode("gbk")
    if kind == "ofd":
        return to_ofd(report)
    if kind == "markdown":
        return renditions.to_markdown(report, renditions.MarkdownStyle(split=True)).encode("utf-8")
    writer = {"docx": renditions.to_docx, "xlsx": renditions.to_xlsx}[kind]
    with tempfile.TemporaryDirectory(prefix="xxgk-rendition-") as tmp:
        return writer(report, Path(tmp) / f"report.{kind}").read_bytes()


def minimal_docx(text: str = "2023年度政府信息公开工作年度报告") -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def minimal_xlsx(text: str = "2023年度政府信息公开工作年度报告") -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append([text])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# PDFs: the real one, truncated, encrypted, image only.


def real_pdf_bytes() -> bytes:
    from support.shared import SHARED

    return (SHARED / "real" / "huaian-city-gov-2024.pdf").read_bytes()


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: max(1, int(len(data) * fraction))]


def _pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """Serialise numbered objects (1..n) with a correct xref table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A genuine RC4-40 (Standard security handler, R2) PDF that needs a user password to open."""
    file_id = hashlib.md5(b"xxgk-encrypted").digest()
    pad = lambda pw: (pw + _PDF_PAD)[:32]  # noqa: E731 - the spec's padding step, used three times
    owner = _rc4(hashlib.md5(pad(owner_password)).digest()[:5], pad(user_password))
    permissions = -44
    key = hashlib.md5(pad(user_password) + owner + struct.pack("<i", permissions) + file_id).digest()[:5]
    user = _rc4(key, _PDF_PAD)

    def crypt(num: int, data: bytes) -> bytes:
        return _rc4(hashlib.md5(key + struct.pack("<i", num)[:3] + b"\x00\x00").digest()[:10], data)

    content = crypt(4, b"BT /F1 18 Tf 72 720 Td (2023 annual report) Tj ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner.hex().encode(), user.hex().encode(), permissions),
    ]
    trailer = b"/Encrypt 6 0 R /ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode())
    return _pdf(objects, trailer)


def pdf_with_broken_title() -> bytes:
    """A one-page PDF with a text line whose Info /Title is UTF-16 with a lone surrogate (FEFF D800 0041)."""
    content = b"BT /F1 18 Tf 72 720 Td (2023 annual report) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title <FEFFD8000041> /Author <FEFFDC00> >>",
    ]
    return _pdf(objects, b"/Info 6 0 R ")


def image_only_pdf(lines: list[str], dpi: int = 150) -> bytes:
    """A 'scanned' A4 page: the text is pixels only, no text layer (as in the （图片版） reports)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(CJK_FONT), size=dpi // 4)
    y = dpi
    for line in lines:
        draw.text((dpi, y), line, font=font, fill=0)
        y += dpi // 2
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=dpi)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------------------
# Zip containers: entity bombs, external entities, zip bombs.


def _replace_member(container: bytes, name: str, data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(container))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info.filename))
    return buf.getvalue()


def billion_laughs(levels: int = 9, fanout: int = 10) -> str:
    """The DOCTYPE of the classic entity bomb: &lolN; expands to fanout**N copies of 'lol'."""
    decls = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels + 1):
        decls.append(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fanout}">')
    return "<!DOCTYPE w:document [\n" + "\n".join(decls) + "\n]>"


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(doctype: str, paragraph_xml: str) -> bytes:
    """A minimal valid DOCX whose word/document.xml carries `doctype` and one paragraph of raw XML text."""
    base = minimal_docx()
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}\n'
        f'<w:document xmlns:w="{_W_NS}"><w:body>'
        f"<w:p><w:r><w:t>2023年度政府信息公开工作年度报告</w:t></w:r></w:p>"
        f"<w:p><w:r><w:t>{paragraph_xml}</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    return _replace_member(base, "word/document.xml", xml.encode())


def docx_entity_bomb() -> bytes:
    return docx_with_body(billion_laughs(), "&lol9;")


def docx_external_entity(target: str = "file:///etc/passwd") -> bytes:
    """XXE: an external entity pointing at a local file; its content must never reach the parsed text."""
    return docx_with_body(f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>', "&xxe;")


def xlsx_entity_bomb() -> bytes:
    base = minimal_xlsx()
    names = zipfile.ZipFile(io.BytesIO(base)).namelist()
    member = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else "xl/worksheets/sheet1.xml"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + billion_laughs().replace("w:document", "sst") + "\n"
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    return _replace_member(base, member, xml.encode())


def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """Raw deflate of `size` zero bytes and their CRC, built from one compressed megabyte repeated.

    A full flush resets the compressor, so the same block can be repeated: a gigabyte costs a second, not a minute.
    """
    chunk = 1 << 20
    zeros = bytes(chunk)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    rest = size % chunk
    tail = comp.compress(zeros[:rest]) + comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(zeros[:rest], crc)
    return block * (size // chunk) + tail, crc


def _zip_stored_deflate(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip file from pre-deflated members: (name, raw deflate data, uncompressed size, crc32)."""
    out = bytearray()
    central = bytearray()
    for name, data, size, crc in members:
        offset = len(out)
        fname = name.encode()
        big = size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, len(data)) if big else b""
        usize, csize = (0xFFFFFFFF, 0xFFFFFFFF) if big else (size, len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, crc, csize, usize, len(fname), len(extra))
        out += fname + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, size, len(data), offset) if big else b""
        coff = 0xFFFFFFFF if big else offset
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            45,
            45,
            0,
            8,
            0,
            0,
            crc,
            csize,
            usize,
            len(fname),
            len(cextra),
            0,
            0,
            0,
            0,
            coff,
        )
        central += fname + cextra
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_offset, 0)
    return bytes(out)


def zip_bomb(size: int = 1 << 30, name: str = "2023年报告.pdf") -> bytes:
    """A zip attachment whose one member inflates to `size` bytes (1 GiB from about 1 MB)."""
    data, crc = _deflated_zeros(size)
    return _zip_stored_deflate([(name, data, size, crc)])


def docx_zip_bomb(size: int = 1 << 30) -> bytes:
    """A DOCX whose word/document.xml inflates to `size` bytes: a reader must not inflate it into memory."""
    base = zipfile.ZipFile(io.BytesIO(minimal_docx()))
    members = []
    for info in base.infolist():
        raw = base.read(info.filename)
        if info.filename == "word/document.xml":
            data, crc = _deflated_zeros(size)
            members.append((info.filename, data, size, crc))
        else:
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            members.append((info.filename, comp.compress(raw) + comp.flush(), len(raw), zlib.crc32(raw)))
    return _zip_stored_deflate(members)


# ---------------------------------------------------------------------------------------------------------------
# Memory bombs in tiny files: markup or streams that expand to gigabytes when read naively.

_BOMB_TITLE = "某市人民政府2023年政府信息公开工作年度报告"


def html_span_bomb(rows: int = 1000) -> bytes:
    """A ~56 KB HTML table whose every row starts with `colspan=1000 rowspan=0`: each such cell covers 1000
    columns down to the end of the table, so a naive grid grows as rows² × 1000 positions."""
    body = "".join("<tr><td colspan=1000 rowspan=0>1</td><td>2</td></tr>" for _ in range(rows))
    return f"<html><head><meta charset='utf-8'><title>{_BOMB_TITLE}</title></head><body><h1>{_BOMB_TITLE}</h1><table>{body}</table></body></html>".encode()


def docx_span_bomb(rows: int = 5000, cells: int = 50) -> bytes:
    """A ~140 KB DOCX: a table whose every cell carries `gridSpan=1000`, so rows × cells × 1000 grid positions."""
    tc = '<w:tc><w:tcPr><w:gridSpan w:val="1000"/></w:tcPr><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>'
    table = "<w:tbl>" + ("<w:tr>" + tc * cells + "</w:tr>") * rows + "</w:tbl>"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W_NS}"><w:body>'
        f"<w:p><w:r><w:t>{_BOMB_TITLE}</w:t></w:r></w:p>{table}</w:body></w:document>"
    )
    return _replace_member(minimal_docx(), "word/document.xml", xml.encode())


def _zlib_zeros(size: int) -> bytes:
    """A zlib stream (PDF FlateDecode) of `size` zero bytes, cheaply built from repeated raw deflate blocks."""
    raw, _ = _deflated_zeros(size)
    adler, chunk = 1, bytes(1 << 20)
    for _ in range(size // len(chunk)):
        adler = zlib.adler32(chunk, adler)
    adler = zlib.adler32(chunk[: size % len(chunk)], adler)
    return b"\x78\xda" + raw + struct.pack(">I", adler)


def pdf_flate_bomb(size: int = 2 << 30, uses: int = 8) -> bytes:
    """A ~2 MB PDF whose one page lists the same Flate content stream `uses` times; the stream inflates to
    `size` bytes (2 GiB), so a reader that concatenates the page's content asks for size × uses."""
    return pdf_reused_stream(_zlib_zeros(size), b"/FlateDecode", uses)


def pdf_reused_stream(encoded: bytes, filters: bytes, uses: int, *, indirect_filter: bool = False) -> bytes:
    """One page whose /Contents lists object 4, a stream of `encoded` bytes under `filters`, `uses` times.
    With `indirect_filter`, /Filter is a reference to object 5 (pdfium resolves it)."""
    contents = b" ".join(b"4 0 R" for _ in range(uses))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [" + contents + b"] >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(encoded), b"5 0 R" if indirect_filter else filters)
        + encoded
        + b"\nendstream",
    ]
    return _pdf(objects + [filters] if indirect_filter else objects)


def pdf_packed_page_bomb(size: int = 10 << 20, uses: int = 8) -> bytes:
    """A PDF 1.5 file whose page dictionary and its /Contents array sit inside a compressed object stream
    (found through a cross-reference stream), the array listing one Flate stream of `size` bytes `uses` times."""
    stream = _zlib_zeros(size)
    packed = [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>",
        b"[" + b" ".join(b"4 0 R" for _ in range(uses)) + b"]",
    ]
    offsets, body = [], b""
    for obj in packed:
        offsets.append(len(body))
        body += obj + b"\n"
    header = b" ".join(b"%d %d" % (num, off) for num, off in zip((3, 5), offsets, strict=True)) + b"\n"
    objstm = zlib.compress(header + body)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    top = [
        (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (4, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"),
        (
            6,
            b"<< /Type /ObjStm /N 2 /First %d /Length %d /Filter /FlateDecode >>\nstream\n" % (len(header), len(objstm))
            + objstm
            + b"\nendstream",
        ),
    ]
    where = {}
    for num, obj in top:
        where[num] = len(out)
        out += b"%d 0 obj\n" % num + obj + b"\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00\x00\x00\x00\x00\xff\xff"]  # object 0: free
    for num in range(1, 7):
        if num in where:
            rows.append(b"\x01" + struct.pack(">IH", where[num], 0))
        else:  # 3 and 5 are packed in object stream 6, at index 0 and 1
            rows.append(b"\x02" + struct.pack(">IH", 6, 0 if num == 3 else 1))
    rows.append(b"\x01" + struct.pack(">IH", xref_at, 0))  # object 7: the xref stream itself
    table = b"".join(rows)
    out += (
        b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return bytes(out)


def lzw_zeros(cycles: int) -> bytes:
    """PDF LZW (early change) of runs of zero bytes: each code spells one more zero than the last, so a table
    of 4096 codes spells 7.4 million zeros from 6 KB; `cycles` tables, each opened by a clear code."""
    codes: list[int] = []
    for _ in range(cycles):
        codes += [256, 0, *range(258, 4095)]
    codes.append(257)
    out, acc, bits, width, size = bytearray(), 0, 0, 9, 258
    for code in codes:
        acc, bits = (acc << width) | code, bits + width
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
        acc &= (1 << bits) - 1
        if code == 256:
            width, size = 9, 258
            continue
        if code != 0 or size > 258:
            size += 1
        if size + 1 >= 1 << width and width < 12:
            width += 1
    if bits:
        out.append((acc << (8 - bits)) & 0xFF)
    return bytes(out)


def xlsx_merge_bomb() -> bytes:
    """An XLSX of a few KB whose sheet merges A1:XFD1048576: openpyxl makes an object per covered cell."""
    base = minimal_xlsx()
    sheet = zipfile.ZipFile(io.BytesIO(base)).read("xl/worksheets/sheet1.xml")
    merged = sheet.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    )
    return _replace_member(base, "xl/worksheets/sheet1.xml", merged)


def xls_extent_bomb(merge: bool = False) -> bytes:
    """An XLS with a title in A1 and one more cell at the sheet's far corner (row 65536, column 256), so the
    sheet is read as 16.7 million positions; with `merge`, that whole rectangle is one merged range instead."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("s")
    sheet.write(0, 0, _BOMB_TITLE)
    if merge:  # the MERGEDCELLS record alone (write_merge would also write 16.7 million blank cells)
        sheet.merged_ranges.append((0, 65535, 0, 255))
    else:
        sheet.write(65535, 255, "1")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def docx_external_altchunk(title: str | None = None) -> bytes:
    """A DOCX whose body is an altChunk whose relationship points outside the package (TargetMode External),
    after an optional title paragraph."""
    base = minimal_docx()
    rels_name = "word/_rels/document.xml.rels"
    rels = zipfile.ZipFile(io.BytesIO(base)).read(rels_name)
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rIdChunk" TargetMode="External" Target="http://example.invalid/chunk.htm" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"/></Relationships>',
    )
    para = f"<w:p><w:r><w:t>{title}</w:t></w:r></w:p>" if title else ""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W_NS}" xmlns:r="{_R_NS}">'
        f'<w:body>{para}<w:altChunk r:id="rIdChunk"/></w:body></w:document>'
    )
    return _replace_member(_replace_member(base, rels_name, rels), "word/document.xml", xml.encode())


@dataclass
class Bomb:
    """A memory bomb, and a word the refusal must say (which limit was met)."""

    name: str
    make: Callable[[], bytes]
    says: str


MEMORY_BOMBS = [  # the three first
    Bomb("html colspan=1000 rowspan=0 (56 KB)", html_span_bomb, "cells"),
    Bomb("docx gridSpan=1000 on 250,000 cells (140 KB)", docx_span_bomb, "XML elements"),
    Bomb("docx gridSpan=1000 on 10,000 cells (40 KB)", lambda: docx_span_bomb(rows=200), "cells"),
    Bomb("pdf 2 GB Flate stream listed 8 times (2 MB)", pdf_flate_bomb, "64 MB"),
    Bomb(
        "pdf LZW stream of 2.2 GB listed 8 times",
        lambda: pdf_reused_stream(lzw_zeros(300), b"/LZWDecode", 8),
        "64 MB",
    ),
    Bomb(
        "pdf ASCII85 then Flate, 2 GB",
        lambda: pdf_reused_stream(base64.a85encode(_zlib_zeros(2 << 30)) + b"~>", b"[/ASCII85Decode /FlateDecode]", 8),
        "64 MB",
    ),
    Bomb(
        "pdf Flate named through an indirect /Filter",
        lambda: pdf_reused_stream(_zlib_zeros(2 << 30), b"/FlateDecode", 8, indirect_filter=True),
        "64 MB",
    ),
    Bomb(
        "pdf 10 MB stream listed 8 times on one page",
        lambda: pdf_reused_stream(_zlib_zeros(10 << 20), b"/FlateDecode", 8),
        "of content",
    ),
    Bomb("pdf page and /Contents array inside an object stream", pdf_packed_page_bomb, "of content"),
    Bomb("xlsx merging A1:XFD1048576", xlsx_merge_bomb, "cells"),
    Bomb("xls with a cell at the sheet's far corner", xls_extent_bomb, "cells"),
    Bomb("xls merging the whole sheet", lambda: xls_extent_bomb(merge=True), "cells"),
]


# ---------------------------------------------------------------------------------------------------------------
# Oversized and garbled text.


def huge_html_table(rows: int = 50_000, title: str = "某市人民政府2023年政府信息公开工作年度报告") -> bytes:
    head = f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
    body = "".join(f"<tr><td>第{i}项</td><td>{i}</td><td>{i % 7}</td></tr>" for i in range(rows))
    return (head + "<table>" + body + "</table></body></html>").encode()


def deep_html(depth: int = 100_000) -> bytes:
    """Nesting deep enough to overflow a naively recursive tree walker."""
    return (
        "<html><body>" + "<div>" * depth + "2023年度政府信息公开工作年度报告" + "</div>" * depth + "</body></html>"
    ).encode()


def with_nul_bytes(data: bytes, every: int) -> bytes:
    """NUL after every `every` bytes (dense: the file looks binary; sparse: stray NULs in text)."""
    return b"".join(data[i : i + every] + b"\x00" for i in range(0, len(data), every))


def mojibake(text: str) -> bytes:
    """UTF-8 read as Latin-1 and saved again as UTF-8: the classic double encoding, no CJK left."""
    return text.encode("utf-8").decode("latin-1").encode("utf-8")


def utf16_without_bom(text: str) -> bytes:
    return text.encode("utf-16-le")


# ---------------------------------------------------------------------------------------------------------------
# Mutators for the fuzzers. Each takes (data, rng, donor) and returns new bytes; donor is another document.

Mutator = Callable[[bytes, random.Random, bytes], bytes]


def flip_bytes(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def flip_bits(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        if out:
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def splice(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    """Head of one document, tail of another (a half-written download over a stale file)."""
    return data[: rng.randrange(len(data) + 1)] + donor[rng.randrange(len(donor) + 1) :]


def duplicate_chunk(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randint(1, 4096))
    return data[:j] + data[i:j] * rng.randint(1, 8) + data[j:]


def delete_chunk(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 4096) :]


_INTERESTING = [
    b"\x00",
    b"\xff" * 4,
    b"\x7f\xff\xff\xff",
    b"-1",
    b"999999999999",
    b"obj",
    b"endobj",
    b"<<",
    b">>",
    b"stream\n",
    b"</tr>",
    b"<td rowspan=9999>",
    b"<table>",
    b"&#0;",
    b"\xef\xbb\xbf",
    b"\r",
    b"%%EOF",
]


def insert_token(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(_INTERESTING) + data[i:]


_TAG = re.compile(rb"<[^<>]{1,200}>")


def mutate_xml(xml: bytes, rng: random.Random) -> bytes:
    """Structural XML damage: drop, duplicate or swap a tag, or break an attribute, so the tree itself is wrong."""
    tags = list(_TAG.finditer(xml))
    if not tags:
        return flip_bytes(xml, rng, b"")
    m = rng.choice(tags)
    kind = rng.randrange(5)
    if kind == 0:  # drop a tag (unbalanced tree)
        return xml[: m.start()] + xml[m.end() :]
    if kind == 1:  # duplicate a tag
        return xml[: m.end()] + m.group() + xml[m.end() :]
    if kind == 2:  # swap two tags
        other = rng.choice(tags)
        a, b = sorted((m, other), key=lambda t: t.start())
        if a.end() > b.start():
            return xml
        return xml[: a.start()] + b.group() + xml[a.end() : b.start()] + a.group() + xml[b.end() :]
    if kind == 3:  # an absurd attribute value (spans, sizes)
        return xml[: m.end() - 1] + b' w:val="-2147483648" gridSpan="99999" r="XFD1048576"' + xml[m.end() - 1 :]
    return xml[: m.start()] + xml[m.start() : m.end()].replace(b'"', b"", 1) + xml[m.end() :]


def mutate_zip_member(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    """Rewrite one member of a zip container (DOCX/XLSX/OFD) with structural XML damage; other bytes stay valid."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        infos = src.infolist()
        victim = rng.choice([i for i in infos if i.filename.endswith((".xml", ".rels"))] or infos)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in infos:
                body = src.read(info.filename)
                if info is victim:
                    body = mutate_xml(body, rng) if rng.random() < 0.8 else b""
                dst.writestr(info.filename, body)
        return buf.getvalue()
    # a package already broken by an earlier round cannot be rewritten: damage its bytes instead
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError):
        return flip_bytes(data, rng, donor)


def mutate_markup(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    return mutate_xml(data, rng)


BYTE_MUTATORS: list[Mutator] = [flip_bytes, flip_bits, truncate, splice, duplicate_chunk, delete_chunk, insert_token]


def mutate_lines(data: bytes, rng: random.Random, donor: bytes) -> bytes:
    """Line damage for Markdown: drop, repeat or swap a line, or give a table row thousands of cells."""
    lines = data.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.randrange(4)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines[i:i] = [lines[i]] * rng.randint(1, 50)
    elif kind == 2:
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = lines[i] + b"|" * rng.choice((1, 100, 5000))
    return b"\n".join(lines)


def mutators_for(fmt: str) -> list[Mutator]:
    """Byte-level mutators for every format, plus structural ones where the format has structure to break."""
    if fmt in ("docx", "xlsx", "ofd"):
        return BYTE_MUTATORS + [mutate_zip_member] * 4
    if fmt == "html":
        return BYTE_MUTATORS + [mutate_markup] * 3
    if fmt == "markdown":
        return BYTE_MUTATORS + [mutate_lines] * 3
    return BYTE_MUTATORS


def mutate(data: bytes, fmt: str, rng: random.Random, donor: bytes, rounds: int = 1) -> bytes:
    choices = mutators_for(fmt)
    for _ in range(rounds):
        data = rng.choice(choices)(data, rng, donor)
    return data


# ---------------------------------------------------------------------------------------------------------------
# Running one parse in a child process, with a wall-clock limit and an address-space limit.

_CHILD = r"""
import json, re, resource, sys, time, traceback
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from crawler.model import ParseError
from crawler.parsing import parse_bytes
data = sys.stdin.buffer.read()
start = time.perf_counter()
try:
    r = parse_bytes(data, **json.loads(sys.argv[2]))
    out = {"outcome": "report", "year": r.year, "agency": r.agency, "title": r.title, "cells": r.values(),
           "findings": [f.rule for f in r.findings], "text": r.text[:200000]}
except ParseError as e:
    out = {"outcome": "parse_error", "reason": e.reason, "message": str(e)}
except BaseException as e:
    out = {"outcome": "crash", "error": type(e).__name__, "message": str(e)[:500], "traceback": traceback.format_exc()[-3000:]}
out["seconds"] = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would report the forking parent's size
out["maxrss_mb"] = int(re.search(r"VmHWM:\s*(\d+)", open("/proc/self/status").read())[1]) / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def parse_isolated(
    data: bytes, timeout: float = 60, memory_limit: int = 2 << 30, env: dict | None = None, **options
) -> dict:
    """parse_bytes(data) in a fresh interpreter. Returns the outcome dict; a hang is killed (with its whole
    process group) at `timeout` and reported as {"outcome": "hang"}."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    child_env = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(memory_limit), json.dumps(options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"outcome": "hang", "seconds": time.perf_counter() - start}
    if proc.returncode != 0 or not out.strip():
        return {"outcome": "crash", "error": f"exit {proc.returncode}", "message": err.decode(errors="replace")[-3000:]}
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - start
    return result


# ---------------------------------------------------------------------------------------------------------------
# The fuzz corpus: real documents in every format a reader handles.


def fuzz_corpus(with_doc: bool = False) -> list[tuple[str, str, bytes]]:
    """(name, format, bytes): the seeds as text and as HTML/DOCX/XLSX/OFD/Markdown renditions, and the real PDF. With
    `with_doc`, also a Word-97 .doc made by LibreOffice (slow to read: every parse runs soffice)."""
    from support.shared import expected_for, seed_paths

    corpus: list[tuple[str, str, bytes]] = [("huaian.pdf", "pdf", real_pdf_bytes())]
    for path in seed_paths():
        expected = expected_for(path)
        corpus.append((f"{path.stem}.txt", "text", path.read_bytes()))
        for kind, fmt in (
            ("html", "html"),
            ("html-gbk-lie", "html"),
            ("docx", "docx"),
            ("xlsx", "xlsx"),
            ("ofd", "ofd"),
            ("markdown", "markdown"),
        ):
            corpus.append((f"{path.stem}.{kind}", fmt, rendition(expected, kind)))
    if with_doc:
        corpus.append(("seed0.doc", "doc", office_doc(rendition(expected_for(seed_paths()[0]), "docx"))))
    return corpus


def office_doc(docx_bytes: bytes) -> bytes:
    """A Word-97 .doc converted by LibreOffice through the reader's own converter."""
    import tempfile

    from crawler.parsing.readers.office import convert

    with tempfile.TemporaryDirectory(prefix="xxgk-doc-") as tmp:
        src = Path(tmp) / "report.docx"
        src.write_bytes(docx_bytes)
        convert([src], "doc", Path(tmp), timeout=120)
        return (Path(tmp) / "report.doc").read_bytes()


def parse_both_ways(data: bytes, fmt: str) -> None:
    """parse_bytes as the crawler calls it; and, when the damage made the sniffer see another format, the
    original format's reader forced onto the bytes too, so every reader meets its own broken inputs.
    Only ParseError may come out of either."""
    from crawler.model import ParseError
    from crawler.parsing import build_report, parse_bytes, sniff
    from crawler.parsing.readers import read_document

    try:
        parse_bytes(data)
    except ParseError:
        pass
    if sniff(data) != fmt:
        try:
            build_report(read_document(data, fmt))
        except ParseError:
            pass
