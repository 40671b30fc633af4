"""Table grids from a PDF page's ruling lines (the lattice a word processor draws around cells).

Word, WPS and LibreOffice print each cell border as a thin stroked path or a thin filled
rectangle. Their positions give the columns and rows of a table and, where a border is
missing between two grid cells, a merged cell. Text placed by these cells keeps blank cells
blank, which plain text extraction cannot do. Coordinates are PDF points, y growing upwards.
"""

from __future__ import annotations

import ctypes
from bisect import bisect_right
from dataclasses import dataclass

from crawler.parsing import limits

_SNAP = 2.0  # points: borders closer than this are one border
_THIN = 2.5  # a path thinner than this is a ruling line
_MIN_GAP = 4.0  # grid lines closer than this are a double border, not a row or column


@dataclass(frozen=True, slots=True)
class Segment:
    at: float  # y of a horizontal line, x of a vertical one
    lo: float  # start along the line
    hi: float  # end along the line


@dataclass
class Grid:
    """One ruled table: boundaries and which grid cells belong to one printed cell."""

    xs: list[float]  # column boundaries, left to right
    ys: list[float]  # row boundaries, top to bottom (descending y)
    owner: list[list[tuple[int, int]]]  # owner[r][c] = top-left grid cell of the printed cell

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return self.xs[0], self.ys[-1], self.xs[-1], self.ys[0]

    def contains(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 <= x <= x1 and y0 <= y <= y1

    def span(self, r: int, c: int) -> int:
        """How many grid columns the printed cell whose top-left is (r, c) spans."""
        row = self.owner[r]
        n = 1
        while c + n < len(row) and row[c + n] == (r, c):
            n += 1
        return n

    def locate(self, x: float, y: float) -> tuple[int, int]:
        """The printed cell (its top-left grid position) under the point."""
        c = min(max(bisect_right(self.xs, x) - 1, 0), len(self.xs) - 2)
        r = min(max(sum(1 for b in self.ys[1:] if y < b), 0), len(self.ys) - 2)
        return self.owner[r][c]


Matrix = tuple[float, float, float, float, float, float]  # a b c d e f, as in PDF
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _then(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix that applies `inner`, then `outer`."""
    a, b, c, d, e, f = inner
    x0, y0 = _apply(outer, e, f)
    ax, ay = _apply(outer, a + e, b + f)
    cx, cy = _apply(outer, c + e, d + f)
    return (ax - x0, ay - y0, cx - x0, cy - y0, x0, y0)


def _matrix(obj, raw) -> Matrix:
    m = raw.FS_MATRIX()
    raw.FPDFPageObj_GetMatrix(obj, m)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _paths(page, raw):
    """(raw path object, matrix to page space) for every path, inside form XObjects too.

    Raw handles: wrapping each of a page's thousands of text objects costs more than reading it."""
    path, form, get_type = raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM, raw.FPDFPageObj_GetType
    forms = []
    for i in range(raw.FPDFPage_CountObjects(page.raw)):
        obj = raw.FPDFPage_GetObject(page.raw, i)
        kind = get_type(obj)
        if kind == path:
            yield obj, _IDENTITY
        elif kind == form:
            forms.append((obj, _IDENTITY))
    while forms:
        outer, to_page = forms.pop()
        inner = _then(_matrix(outer, raw), to_page)
        for k in range(raw.FPDFFormObj_CountObjects(outer)):
            obj = raw.FPDFFormObj_GetObject(outer, k)
            kind = get_type(obj)
            if kind == path:
                yield obj, inner
            elif kind == form:
                forms.append((obj, inner))


def _path_segments(obj, to_page: Matrix, raw) -> list[tuple[float, float, float, float]]:
    """Straight pieces (x0, y0, x1, y1) of a path object, in page space."""
    n = raw.FPDFPath_CountSegments(obj)
    if n <= 0 or n > 2000:
        return []
    m = _then(_matrix(obj, raw), to_page)
    out: list[tuple[float, float, float, float]] = []
    start: tuple[float, float] | None = None
    prev: tuple[float, float] | None = None
    x, y = ctypes.c_float(), ctypes.c_float()
    for k in range(n):
        seg = raw.FPDFPath_GetPathSegment(obj, k)
        raw.FPDFPathSegment_GetPoint(seg, x, y)
        p = _apply(m, x.value, y.value)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == raw.FPDF_SEGMENT_MOVETO or prev is None:
            start = p
        elif kind == raw.FPDF_SEGMENT_LINETO:
            out.append((*prev, *p))
        if raw.FPDFPathSegment_GetClose(seg) and start is not None:
            out.append((*p, *start))
        prev = p
    return out


def _lines(page) -> tuple[list[Segment], list[Segment]]:
    """Horizontal and vertical ruling lines drawn on the page."""
    import pypdfium2.raw as raw

    horiz: list[Segment] = []
    vert: list[Segment] = []

    def add(x0: float, y0: float, x1: float, y1: float) -> None:
        if abs(y1 - y0) <= _THIN and abs(x1 - x0) > _THIN:
            horiz.append(Segment((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= _THIN and abs(y1 - y0) > _THIN:
            vert.append(Segment((x0 + x1) / 2, min(y0, y1), max(y0, y1)))

    fill, stroke = ctypes.c_int(), ctypes.c_int()
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for obj, to_page in _paths(page, raw):
        raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
        corners = [_apply(to_page, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
        x0, x1 = min(c[0] for c in corners), max(c[0] for c in corners)
        y0, y1 = min(c[1] for c in corners), max(c[1] for c in corners)
        if min(x1 - x0, y1 - y0) <= _THIN:
            add(x0, y0, x1, y1)  # a line, or a thin filled bar used as a border
            continue
        raw.FPDFPath_GetDrawMode(obj, fill, stroke)
        if stroke.value:  # a stroked outline: its straight edges are borders
            for piece in _path_segments(obj, to_page, raw):
                add(*piece)
    return horiz, vert


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join collinear pieces: a border drawn cell by cell becomes one line."""
    rows: list[list[Segment]] = []  # segments on one line position
    for s in sorted(segments, key=lambda s: s.at):
        if rows and s.at - rows[-1][-1].at <= _SNAP:
            rows[-1].append(s)
        else:
            rows.append([s])
    out: list[Segment] = []
    for row in rows:
        at = sum(s.at for s in row) / len(row)
        lo, hi = None, None
        for s in sorted(row, key=lambda s: s.lo):
            if lo is not None and s.lo > hi + _SNAP:
                out.append(Segment(at, lo, hi))
                lo = None
            lo, hi = (s.lo, s.hi) if lo is None else (lo, max(hi, s.hi))
        out.append(Segment(at, lo, hi))
    return out


def _clusters(values: list[float]) -> list[float]:
    """Distinct positions: values within _MIN_GAP of each other collapse to their mean."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= _MIN_GAP:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(c) / len(c) for c in out]


def _covered(lines: list[Segment], at: float, lo: float, hi: float) -> bool:
    """Is there a border at `at` along most of lo..hi?"""
    span = hi - lo
    got = sum(max(0.0, min(s.hi, hi) - max(s.lo, lo)) for s in lines if abs(s.at - at) <= _MIN_GAP)
    return got >= span * 0.5


def _groups(horiz: list[Segment], vert: list[Segment]) -> list[tuple[list[Segment], list[Segment]]]:
    """Lines that touch each other form one table."""
    parent = list(range(len(horiz) + len(vert)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, h in enumerate(horiz):
        for j, v in enumerate(vert):
            if h.lo - _SNAP <= v.at <= h.hi + _SNAP and v.lo - _SNAP <= h.at <= v.hi + _SNAP:
                parent[find(i)] = find(len(horiz) + j)
    groups: dict[int, tuple[list[Segment], list[Segment]]] = {}
    for i, h in enumerate(horiz):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vert):
        groups.setdefault(find(len(horiz) + j), ([], []))[1].append(v)
    return list(groups.values())


def _grid(horiz: list[Segment], vert: list[Segment]) -> Grid | None:
    # Tables open at the sides (no outer verticals) still end where their horizontals end.
    xs = _clusters([v.at for v in vert] + [min(h.lo for h in horiz), max(h.hi for h in horiz)])
    ys = _clusters([h.at for h in horiz] + [min(v.lo for v in vert), max(v.hi for v in vert)])[::-1]
    if len(xs) < 3 or len(ys) < 3:
        return None  # a box around a paragraph, not a table
    rows, cols = len(ys) - 1, len(xs) - 1
    if rows * cols > limits.PDF_GRID_CELLS:  # each position below is a scan of the page's lines
        raise limits.too_large(f"a ruled table of the PDF has more than {limits.PDF_GRID_CELLS:,} cells")
    parent = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def find(p: tuple[int, int]) -> tuple[int, int]:
        while parent[p] != p:
            p = parent[p]
        return p

    def join(a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the top-left cell owns the merged cell

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not _covered(vert, xs[c + 1], ys[r + 1], ys[r]):
                join((r, c), (r, c + 1))
            if r + 1 < rows and not _covered(horiz, ys[r + 1], xs[c], xs[c + 1]):
                join((r, c), (r + 1, c))
    owner = [[find((r, c)) for c in range(cols)] for r in range(rows)]
    return Grid(xs, ys, owner)


def lattice(horiz: list[Segment], vert: list[Segment]) -> list[Grid]:
    """The tables that horizontal and vertical ruling lines draw, top to bottom."""
    horiz, vert = _merge(horiz), _merge(vert)
    if len(horiz) + len(vert) > limits.PDF_RULING_LINES:  # grouping them compares every pair
        raise limits.too_large(f"a page of the PDF draws more than {limits.PDF_RULING_LINES:,} ruling lines")
    grids = [g for hs, vs in _groups(horiz, vert) if hs and vs for g in [_grid(hs, vs)] if g]
    return sorted(grids, key=lambda g: -g.ys[0])


def page_grids(page) -> list[Grid]:
    """Every ruled table on a pdfium page."""
    return lattice(*_lines(page))
