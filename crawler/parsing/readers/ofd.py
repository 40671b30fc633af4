"""OFD (GB/T 33190): pages of positioned text and vector paths, read into the PDF reader's positional model.

An OFD is a zip: OFD.xml names each document's Document.xml, which lists its pages (Pages/Page_N/Content.xml)
and the template pages drawn under them. A page's layers hold TextObjects (TextCode runs: the origin of the
first glyph, then DeltaX/DeltaY steps to each next one, inside the object's Boundary and CTM), PathObjects
(AbbreviatedData: M/L/Q/B/A/C commands) and PageBlocks that group them. Units are millimetres, y grows downwards.

Every character becomes a pdf_layout.Char and every straight horizontal or vertical stroke a pdf_grid.Segment,
in PDF points with y growing upwards, so the ruled-table lattice (pdf_grid), the borderless column reader
(pdf_columns) and the page-to-page joins (pdf_layout.read_layout) work on an OFD exactly as on a PDF. The XML
is parsed without DTDs or entities, after check_package has bounded the zip; glyph steps ("g 1000000 3.5"),
characters and path points are bounded as they are expanded.
"""

from __future__ import annotations

import io
import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from lxml import etree

from crawler.model import ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document
from crawler.parsing.readers.docx import check_package
from crawler.parsing.readers.pdf_grid import Grid, Segment, lattice
from crawler.parsing.readers.pdf_layout import Char, read_layout

_PT = 72 / 25.4  # OFD millimetres to PDF points
_THIN = 2.5  # points: a path this thin is a ruling line (as in pdf_grid)
_ASCENT, _DESCENT = 0.88, 0.12  # of the font size above and below the baseline (CJK fonts)
_DEPTH = 32  # PageBlocks nested deeper than this are hostile
_NUMBERS = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TOKEN = re.compile(r"\S+")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_A4 = (0.0, 0.0, 210.0, 297.0)

Matrix = tuple[float, float, float, float, float, float]


def _local(el) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str) -> Iterator:
    return (c for c in el if _local(c) == name)


def _child(el, name: str):
    return next(_children(el, name), None) if el is not None else None


def _floats(text: str | None, most: int = 6) -> list[float]:
    """The first `most` numbers of an attribute (a box, a matrix, a size): never more are read."""
    return [float(m[0]) for m in islice(_NUMBERS.finditer(text or ""), most)]


def _box(text: str | None, default: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    v = _floats(text)
    return (v[0], v[1], v[2], v[3]) if len(v) >= 4 else default


def _matrix(text: str | None) -> Matrix:
    v = _floats(text)
    return (v[0], v[1], v[2], v[3], v[4], v[5]) if len(v) >= 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _steps(text: str | None, count: int) -> list[float | None]:
    """DeltaX/DeltaY as `count` steps: "g N d" stands for N steps of d; expanded no further than needed."""
    out: list[float | None] = []
    tokens = (m[0] for m in _TOKEN.finditer(text or ""))  # read lazily: the list may be megabytes long
    try:
        while len(out) < count:
            token = next(tokens)
            if token == "g":
                n, d = int(float(next(tokens))), float(next(tokens))
                out.extend([d] * max(0, min(n, count - len(out))))
            else:
                out.append(float(token))
    except (StopIteration, ValueError, OverflowError):
        pass
    return out + [None] * (count - len(out))


def _advance(ch: str) -> float:
    """A glyph's width in font sizes where the file gives none (the last glyph of a run): Latin letters and
    digits are about half as wide as CJK characters."""
    return 0.5 if ord(ch) < 0x2E80 else 1.0


@dataclass
class _Page:
    """One page's marks in PDF space, as they are read."""

    height: float  # millimetres: the page box's bottom edge, where PDF space has y = 0
    chars: list[Char] = field(default_factory=list)
    horiz: list[Segment] = field(default_factory=list)
    vert: list[Segment] = field(default_factory=list)

    def point(self, x: float, y: float) -> tuple[float, float]:
        return x * _PT, (self.height - y) * _PT

    def stroke(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        (x0, y0), (x1, y1) = self.point(*a), self.point(*b)
        if abs(y1 - y0) <= _THIN and abs(x1 - x0) > _THIN:
            self.horiz.append(Segment((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= _THIN and abs(y1 - y0) > _THIN:
            self.vert.append(Segment((x0 + x1) / 2, min(y0, y1), max(y0, y1)))


class _Counter:
    """Characters, path points and objects drawn so far in the document, against the limits."""

    def __init__(self) -> None:
        self.chars = 0
        self.points = 0
        self.objects = 0

    def take_chars(self, n: int) -> None:
        self.chars += n
        if self.chars > limits.LAYOUT_CHARS:
            raise limits.too_large(f"the OFD draws more than {limits.LAYOUT_CHARS:,} characters")

    def take_points(self, n: int) -> None:
        self.points += n
        if self.points > limits.PATH_POINTS:
            raise limits.too_large(f"the OFD's paths have more than {limits.PATH_POINTS:,} points")

    def take_object(self) -> None:
        """Composite objects draw resources, which may draw others: more objects drawn than the package has
        elements is a reference loop or a fan-out bomb."""
        self.objects += 1
        if self.objects > limits.XML_ELEMENTS:
            raise limits.too_large(f"the OFD draws more than {limits.XML_ELEMENTS:,} objects")


_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _placement(el, outer: Matrix) -> Matrix:
    """The object's space → page space: its CTM, then the offset of its Boundary, then what holds it."""
    bx, by, _, _ = _box(el.get("Boundary"), (0.0, 0.0, 0.0, 0.0))
    a, b, c, d, e, f = _matrix(el.get("CTM"))
    oa, ob, oc, od, oe, of = outer
    e, f = e + bx, f + by
    return (
        oa * a + oc * b,
        ob * a + od * b,
        oa * c + oc * d,
        ob * c + od * d,
        oa * e + oc * f + oe,
        ob * e + od * f + of,
    )


def _text_object(el, page: _Page, count: _Counter, outer: Matrix) -> None:
    m = _placement(el, outer)
    a, b, c, d = m[:4]
    size = float((_floats(el.get("Size")) or [3.5])[0])
    hscale = float((_floats(el.get("HScale")) or [1.0])[0])
    height = size * math.hypot(c, d) * _PT  # the font size on the page, in points
    x = y = 0.0
    for code in _children(el, "TextCode"):
        text = code.text or ""
        count.take_chars(len(text))
        x = float((_floats(code.get("X")) or [x])[0])  # an absent X or Y keeps the previous run's
        y = float((_floats(code.get("Y")) or [y])[0])
        dxs = _steps(code.get("DeltaX"), len(text))
        dys = _steps(code.get("DeltaY"), len(text))
        for i, ch in enumerate(text):
            step = dxs[i] if dxs[i] is not None else (0.0 if dys[i] is not None else _advance(ch) * size * hscale)
            if not ch.isspace():
                x0, base = page.point(*_apply(m, x, y))
                end = step if dxs[i] is not None and step > 0 else _advance(ch) * size * hscale
                x1, _ = page.point(*_apply(m, x + end, y))
                lo, hi = sorted((x0, x1))
                page.chars.append(Char(ch, lo, base - _DESCENT * height, hi, base + _ASCENT * height, base))
            x += step
            y += dys[i] or 0.0


def _path_object(el, page: _Page, count: _Counter, outer: Matrix) -> None:
    """The straight strokes of a path, or the whole path when it is a thin bar (a border drawn as a fill)."""
    m = _placement(el, outer)
    data = _child(el, "AbbreviatedData")
    text = (data.text or "") if data is not None else ""
    count.take_points(text.count(" ") + text.count("\n") + 1)  # charged before the text is split
    tokens = text.split()
    points: list[tuple[float, float]] = []
    pieces: list[tuple[tuple[float, float], tuple[float, float]]] = []
    start = cur = None
    arity = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
    i = 0
    while i < len(tokens):
        op = tokens[i].upper()
        n = arity.get(op)
        if n is None:
            i += 1  # a stray number or an unknown command: skip it
            continue
        try:
            args = [float(t) for t in tokens[i + 1 : i + 1 + n]]
        except ValueError:
            args = []
        i += 1 + n
        if len(args) < n:
            break
        if op == "C":
            if cur is not None and start is not None:
                pieces.append((cur, start))
            cur = start
            continue
        p = _apply(m, args[-2], args[-1])
        points.append(p)
        if op == "L" and cur is not None:
            pieces.append((cur, p))
        if op in ("M", "S"):
            start = p
        cur = p
    if not points:
        return
    if el.get("Stroke", "true").strip().lower() != "false" and pieces:
        for a, b in pieces:  # a stroked path: each straight piece is a border (a grid drawn as one path too)
            page.stroke(a, b)
        return
    (x0, y0), (x1, y1) = (
        page.point(min(p[0] for p in points), min(p[1] for p in points)),
        page.point(max(p[0] for p in points), max(p[1] for p in points)),
    )
    xs, ys = sorted((x0, x1)), sorted((y0, y1))
    if ys[1] - ys[0] <= _THIN < xs[1] - xs[0]:  # a thin filled bar: a border drawn as a fill
        page.horiz.append(Segment((ys[0] + ys[1]) / 2, xs[0], xs[1]))
    elif xs[1] - xs[0] <= _THIN < ys[1] - ys[0]:
        page.vert.append(Segment((xs[0] + xs[1]) / 2, ys[0], ys[1]))


def _objects(container, page: _Page, count: _Counter, units: dict, outer: Matrix = _IDENTITY, depth: int = 0) -> None:
    """Draw the objects under `container`; `units` are the composite graphic units of the resources."""
    if depth > _DEPTH:
        raise ParseError("unreadable", "the OFD nests page blocks too deeply to read")
    for el in container:
        name = _local(el)
        count.take_object()
        if name == "TextObject":
            _text_object(el, page, count, outer)
        elif name == "PathObject":
            _path_object(el, page, count, outer)
        elif name in ("PageBlock", "Layer"):
            _objects(el, page, count, units, outer, depth + 1)
        elif name == "CompositeObject":  # a vector graphic of the resources, drawn in this object's box
            content = _child(units.get(el.get("ResourceID", "")), "Content")
            if content is not None:
                _objects(content, page, count, units, _placement(el, outer), depth + 1)


class _Package:
    def __init__(self, data: bytes):
        check_package(data, "OFD")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise ParseError("unreadable", f"the OFD is not a readable zip package ({e})") from e
        self.names = {n.replace("\\", "/").lstrip("/").lower(): n for n in self.zip.namelist()}

    def xml(self, path: str):
        name = self.names.get(path.lstrip("/").lower())
        if name is None:
            raise ParseError("unreadable", f"the OFD names a part it does not hold ({path})")
        try:
            root = etree.fromstring(self.zip.read(name), _PARSER)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, OSError, ValueError) as e:
            raise ParseError("unreadable", f"a part of the OFD cannot be read ({path}: {e})") from e
        if root is None:
            raise ParseError("unreadable", f"a part of the OFD is empty ({path})")
        return root


def _resolve(base: str, loc: str | None) -> str | None:
    """A BaseLoc: absolute within the package, or relative to the folder of the part naming it."""
    if not loc or not loc.strip():
        return None
    loc = loc.strip().replace("\\", "/")
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(posixpath.dirname(base), loc))


def _text(el, *path: str) -> str | None:
    """The text of the element at `path` under `el`, or None."""
    for name in path:
        el = _child(el, name)
        if el is None:
            return None
    return el.text


@dataclass
class _Layout:
    """What Document.xml says: the pages' content parts, the default page box, the template pages."""

    pages: list[str]
    box: tuple[float, float, float, float]
    templates: dict[str, str]  # template page ID → its content part
    title: str | None
    units: dict  # composite graphic unit ID → its element (the document's resources)


def _document(pkg: _Package) -> _Layout:
    """The first document of the package (OFD.xml may list several DocBody; reports hold one)."""
    body = _child(pkg.xml("OFD.xml"), "DocBody")
    doc_path = _resolve("OFD.xml", _text(body, "DocRoot"))
    if doc_path is None:
        raise ParseError("unreadable", "the OFD names no document (OFD.xml has no DocRoot)")
    title = (_text(body, "DocInfo", "Title") or "").strip() or None
    document = pkg.xml(doc_path)
    common = _child(document, "CommonData")
    templates: dict[str, str] = {}
    for t in _children(common, "TemplatePage") if common is not None else ():
        if path := _resolve(doc_path, t.get("BaseLoc")):
            templates[t.get("ID", "")] = path
    listed = _child(document, "Pages")
    pages = (
        [p for p in (_resolve(doc_path, el.get("BaseLoc")) for el in _children(listed, "Page")) if p]
        if listed is not None
        else []
    )
    if len(pages) > limits.PAGES:
        raise limits.too_large(f"the OFD has more than {limits.PAGES:,} pages")
    units: dict = {}
    for kind in ("PublicRes", "DocumentRes"):
        for res in _children(common, kind) if common is not None else ():
            units.update(_units(pkg, _resolve(doc_path, res.text)))
    return _Layout(pages, _box(_text(common, "PageArea", "PhysicalBox"), _A4), templates, title, units)


def _units(pkg: _Package, path: str | None) -> dict:
    """The composite graphic units a resource part declares (a part it names but lacks declares none)."""
    if path is None or path.lstrip("/").lower() not in pkg.names:
        return {}
    units = _child(pkg.xml(path), "CompositeGraphicUnits")
    return {u.get("ID", ""): u for u in _children(units, "CompositeGraphicUnit")} if units is not None else {}


def read_ofd(data: bytes) -> Document:
    pkg = _Package(data)
    layout = _document(pkg)
    if not layout.pages:
        raise ParseError("unreadable", "the OFD has no pages")
    count = _Counter()
    drew_text = False

    def reader(path: str, index: int) -> tuple[list[Char], list[Grid]]:
        nonlocal drew_text
        root = pkg.xml(path)
        _, y, _, h = _box(_text(root, "Area", "PhysicalBox"), layout.box)
        page = _Page(y + h)
        units = dict(layout.units)
        for res in _children(root, "PageRes"):
            units.update(_units(pkg, _resolve(path, res.text)))
        for use in _children(root, "Template"):  # headers, footers and page numbers drawn on every page
            template = layout.templates.get(use.get("TemplateID", ""))
            content = _child(pkg.xml(template), "Content") if template else None
            if content is not None:
                _objects(content, page, count, units)
        content = _child(root, "Content")
        if content is not None:
            _objects(content, page, count, units)
        drew_text = drew_text or bool(page.chars)
        return page.chars, lattice(page.horiz, page.vert)

    doc = read_layout(layout.pages, reader)
    if not drew_text:
        raise ParseError("no_text", "the OFD has no text (its pages are images); OCR of OFD pages is not supported")
    doc.format, doc.title_hint = "ofd", layout.title
    return doc
