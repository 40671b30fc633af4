"""DOCX: paragraphs and tables in body order; merged cells expanded into a grid.

Tables are read from the WordprocessingML itself rather than through python-docx's cell API:
a horizontally merged cell is one <w:tc> with w:gridSpan, a vertically merged one repeats as
<w:tc> with w:vMerge="continue". The text sits in the first grid position, covered ones are None.
"""

from __future__ import annotations

import email
import io
import zipfile
import zlib

from docx.opc.exceptions import PackageNotFoundError
from docx.opc.package import OpcPackage
from docx.oxml.parser import parse_xml
from lxml import etree

from crawler.model import ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.html import read_html
from crawler.parsing.readers.text import read_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Office Open XML never declares a DTD; one that does is hostile (entity expansion bombs).
_DTD_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))
MAX_UNPACKED = limits.XML_BYTES  # module-level so that a test can lower it


def check_package(data: bytes, kind: str) -> None:
    """Refuse an OOXML package that is not a zip, unpacks to too much, declares XML entities, or holds more
    XML elements than a reader should build a tree of.

    The sizes the zip declares bound what zipfile will ever inflate (it stops at the declared size
    and fails the CRC), so a bomb is refused here without inflating it. XML members are then scanned
    in chunks for a DTD, and their elements counted: python-docx and openpyxl parse every part whole,
    and 20 MB of repeated table cells (100 KB zipped) would take lxml a quarter of a gigabyte.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > limits.PACKAGE_BYTES:
            raise limits.too_large(f"the {kind} unpacks to more than {limits.PACKAGE_BYTES >> 20} MB")
        members = [i for i in infos if i.filename.lower().endswith((".xml", ".rels"))]
        if sum(i.file_size for i in members) > MAX_UNPACKED:
            raise limits.too_large(f"the {kind} unpacks to more than {MAX_UNPACKED >> 20} MB of XML")
        elements = 0
        for info in members:
            tail = b""
            with zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    window = tail + chunk
                    if any(m in window for m in _DTD_MARKERS):
                        raise ParseError("unreadable", f"the {kind} declares XML entities ({info.filename}); refused")
                    tail = window[-24:]
                    # every "<" in XML opens markup (text escapes it); end tags, comments and PIs are no elements
                    elements += chunk.count(b"<") - chunk.count(b"</") - chunk.count(b"<!") - chunk.count(b"<?")
            if elements > limits.XML_ELEMENTS:
                raise limits.too_large(f"the {kind} holds more than {limits.XML_ELEMENTS:,} XML elements")
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        ValueError,
        zlib.error,
    ) as e:
        raise ParseError("unreadable", f"the {kind} is not a readable zip package ({e})") from e


def _local(el) -> str:
    tag = el.tag
    return tag[len(W) :] if isinstance(tag, str) and tag.startswith(W) else ""


def _run_text(el, out: list[str]) -> None:
    """Visible text under `el` in order: w:t, tabs, breaks; no field codes, deletions or fallbacks."""
    for child in el:
        if child.tag == _MC_FALLBACK:
            continue  # the same content as mc:Choice, for older readers
        name = _local(child)
        if name == "t":
            out.append(child.text or "")
        elif name == "tab":
            out.append("\t")
        elif name in ("br", "cr"):
            out.append("\n")
        elif name == "noBreakHyphen":
            out.append("-")
        elif name in ("del", "moveFrom", "instrText", "delText", "rPr", "pPr"):
            continue
        else:
            _run_text(child, out)


def paragraph_text(p) -> str:
    out: list[str] = []
    _run_text(p, out)
    return "".join(out)


def _val(el, child: str) -> str | None:
    """The w:val of tcPr/trPr child `child`, "" when present without a value, None when absent."""
    node = el.find(W + child) if el is not None else None
    if node is None:
        return None
    return node.get(W + "val", "")


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(0, min(int(value or default), limits.SPAN))
    except ValueError:
        return default


def _tcs(parent, name: str) -> list:
    """Direct children `name`, looking through content controls (w:sdt) that wrap them."""
    out = []
    for child in parent:
        local = _local(child)
        if local == name:
            out.append(child)
        elif local in ("sdt", "customXml"):
            content = child.find(W + "sdtContent") if local == "sdt" else child
            if content is not None:
                out.extend(_tcs(content, name))
    return out


def _cell_text(tc) -> str:
    lines: list[str] = []
    for p in tc.iter(W + "p"):
        lines.append(paragraph_text(p).replace("\t", " "))
    return "\n".join(lines).strip("\n")


def table_grid(tbl, budget: limits.Budget) -> Table:
    """The table as a grid; every position is charged to `budget` first (w:gridSpan reaches 1000 per cell)."""
    rows: list[list[str | None]] = []
    for tr in _tcs(tbl, "tr"):
        before = _int(_val(tr.find(W + "trPr"), "gridBefore"), 0)
        budget.take(max(1, before))
        row: list[str | None] = [None] * before
        for tc in _tcs(tr, "tc"):
            pr = tc.find(W + "tcPr")
            span = max(1, _int(_val(pr, "gridSpan")))
            budget.take(span)
            vmerge, hmerge = _val(pr, "vMerge"), _val(pr, "hMerge")
            covered = (vmerge is not None and vmerge != "restart") or (hmerge is not None and hmerge != "restart")
            row.append(None if covered else _cell_text(tc))
            row.extend([None] * (span - 1))
        rows.append(row)
    return Table(rows)


def _is_layout(tbl) -> bool:
    """A table that frames other tables: its cells are read as running text instead."""
    return any(True for _ in tbl.iterdescendants(W + "tbl"))


def _body_blocks(parent, blocks: list[str | Table], part, budget: limits.Budget) -> None:
    for child in parent:
        name = _local(child)
        if name == "p":
            blocks.extend(line.strip() for line in paragraph_text(child).split("\n") if line.strip())
        elif name == "tbl":
            if _is_layout(child):
                for tr in _tcs(child, "tr"):
                    for tc in _tcs(tr, "tc"):
                        _body_blocks(tc, blocks, part, budget)
            else:
                blocks.append(table_grid(child, budget))
        elif name == "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                _body_blocks(content, blocks, part, budget)
        elif name == "customXml":
            _body_blocks(child, blocks, part, budget)
        elif name == "altChunk":
            blocks.extend(_chunk_blocks(part, child.get(R + "id"), budget))


def _chunk_blocks(part, rid: str | None, budget: limits.Budget) -> list[str | Table]:
    """An altChunk: content another program embedded whole — HTML, MHT or a DOCX, the way OA
    systems and web editors export Word files. It is read by the reader of its own format, against
    the same grid budget. A chunk whose target is External (a URL) is never fetched: it adds nothing."""
    try:
        target = part.rels[rid].target_part
    except (KeyError, AttributeError, ValueError):  # python-docx: ValueError for an External target
        return []
    ctype, blob = target.content_type.lower(), target.blob
    try:
        if "html" in ctype:
            return read_html(blob, budget).blocks
        if ctype == "message/rfc822":
            page = _mht_html(blob)
            return read_html(page, budget).blocks if page else []
        if "wordprocessingml" in ctype:
            return read_docx(blob, budget).blocks
        if ctype.startswith("text/"):
            return read_text(blob).blocks
    except ParseError as e:
        if e.reason == "too_large":
            raise  # the chunk's expansion is the document's
        return []  # an empty or unreadable chunk adds nothing; the rest of the document stands
    return []


def _mht_html(blob: bytes) -> bytes | None:
    """The HTML part of a MIME (MHT) web archive."""
    for sub in email.message_from_bytes(blob).walk():
        if sub.get_content_type() == "text/html":
            payload = sub.get_payload(decode=True)
            if payload:
                return payload
    return None


def read_docx(data: bytes, budget: limits.Budget | None = None) -> Document:
    """`budget`: the grid budget of an enclosing document (a DOCX embedded in a DOCX shares it)."""
    check_package(data, "DOCX")
    try:
        part = OpcPackage.open(io.BytesIO(data)).main_document_part
        # A macro-enabled or template document loads as a plain part: parse its XML the same way.
        root = part.element if hasattr(part, "element") else parse_xml(part.blob)
    except (
        PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, NotImplementedError
    ) as e:  # fmt: skip
        raise ParseError("unreadable", f"the DOCX cannot be opened ({e})") from e
    body = root.find(W + "body")
    if body is None:
        raise ParseError("unreadable", "the DOCX has no document body")
    blocks: list[str | Table] = []
    try:
        _body_blocks(body, blocks, part, budget or limits.Budget("DOCX"))
    except RecursionError as e:
        raise ParseError("unreadable", "the DOCX is nested too deeply to read") from e
    if not blocks:
        raise ParseError("no_text", "the DOCX has no text")
    return Document(blocks, "docx")
