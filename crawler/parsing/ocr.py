"""OCR of page images (scanned PDF pages, the images of an HTML report's tables) into the positional model.

A page image becomes what a digital PDF page gives the layout reader (pdf_layout): characters placed in PDF
points, and the grids of its ruled tables. The steps:

1. The page is straightened (the skew angle that makes rows of ink sharpest) and binarised.
2. Ruling lines are long runs of dark pixels; they become the same grids as vector ruling lines
   (pdf_grid.lattice) and are erased, with the specks of the scan, before anything is read.
3. The text lines are found by projection: inside each grid cell, and in the rest of the page (where a
   line is split at wide gaps, so that a table printed without ruling lines keeps its columns apart).
4. Each line image is read by an engine (crawler.parsing.ocr_engines: RapidOCR, else tesseract), which gives
   every character its place along the line and its probability. Characters then go through the same
   positional reading as a digital PDF, so a blank cell is still a blank cell.

Reading, not judging: a figure with a character the engine is unsure of is not guessed. It is printed as
unreadable (values.UNREADABLE), so its cell is null with a parse.unreadable_value finding, and the parse.ocr
finding names the cells OCR read (its `cells`): the rules treat a sum that fails over them as needing a human
look at the original, never as the agency's inconsistency.
"""

from __future__ import annotations

import functools
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from crawler.model import Finding, ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document, Table
from crawler.parsing.ocr_engines import Engine, OcrTimeout, Reading, TesseractEngine, engine
from crawler.parsing.readers.pdf_grid import Grid, Segment, lattice
from crawler.parsing.readers.pdf_layout import Char
from crawler.parsing.values import UNREADABLE, classify, is_figure, is_number

DPI = 200  # a scanned PDF page is rendered at this resolution: PP-OCR reads 10.5 pt print best about here
SURE = 0.95  # a figure with any character read below this probability is unsure: null, never a guess
AGREE = 0.8  # ... unless, read again, it is at least this sure and tesseract reads the same digits
BUDGET = 600.0  # seconds of OCR per document by default (XXGK_OCR_SECONDS); pages past it are not read
_LINE_INCHES = 0.4  # a dark run this long is a ruling line, not a stroke of a (title) character
_MAX_SKEW = 2.0  # degrees a scan may be turned


def budget_seconds() -> float:
    try:
        value = float(os.environ.get("XXGK_OCR_SECONDS", BUDGET))
    except ValueError:
        return BUDGET
    return value if value > 0 else BUDGET


@dataclass
class OcrPage:
    chars: list[Char]  # one per character read, in PDF points of the rendering
    grids: list[Grid]
    doubtful: list[str] = field(default_factory=list)  # figures read unsure, left unreadable


# ---- the image ------------------------------------------------------------------------------------------------
def _otsu(gray: np.ndarray) -> int:
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cum = np.cumsum(hist)
    mean = np.cumsum(hist * np.arange(256))
    between = (mean[-1] * cum - mean * total) ** 2 / np.maximum(cum * (total - cum), 1)
    return int(np.clip(between.argmax(), 100, 200))  # a mostly white page: keep the threshold sensible


def _profile_score(dark: np.ndarray, degrees: float) -> float:
    from PIL import Image

    img = Image.fromarray(dark.astype(np.uint8) * 255).rotate(degrees, resample=Image.Resampling.NEAREST)
    rows = np.asarray(img, dtype=np.float64).sum(axis=1)
    return float((rows**2).sum())


def skew(dark: np.ndarray) -> float:
    """The angle (degrees, PIL's sense) that makes the rows of ink sharpest, found on a quarter-size image."""
    h, w = dark.shape
    small = dark[: h - h % 4, : w - w % 4].reshape(h // 4, 4, w // 4, 4).any(axis=(1, 3))
    best = max(np.arange(-_MAX_SKEW, _MAX_SKEW + 1e-9, 0.1), key=lambda a: _profile_score(small, a))
    return max(np.arange(best - 0.1, best + 0.1 + 1e-9, 0.02), key=lambda a: _profile_score(small, a))


def straighten(gray: np.ndarray) -> np.ndarray:
    from PIL import Image

    angle = skew(gray < _otsu(gray))
    if abs(angle) < 0.02:
        return gray
    img = Image.fromarray(gray).rotate(float(angle), resample=Image.Resampling.BICUBIC, fillcolor=255)
    return np.asarray(img)


def _runs(dark: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) of each horizontal run of dark pixels at least min_len long."""
    h, w = dark.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = dark
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)  # row-major: the k-th end closes the k-th start
    keep = ends - starts >= min_len
    return rows[keep], starts[keep], ends[keep]


def _bridged(dark: np.ndarray, gap: int) -> np.ndarray:
    """Dark pixels with gaps of up to `gap` pixels along each row filled: a scan's dropouts (white specks) cut a
    thin ruling line into pieces too short to count as one."""
    before = np.zeros_like(dark)  # ink within `gap` pixels to the left
    after = np.zeros_like(dark)  # ... and to the right
    for k in range(1, gap + 1):
        before[:, k:] |= dark[:, :-k]
        after[:, :-k] |= dark[:, k:]
    return dark | (before & after)


def ruling_lines(dark: np.ndarray, scale: float, dpi: float) -> tuple[list[Segment], list[Segment], np.ndarray]:
    """Horizontal and vertical lines (PDF points, y up) and the ink without them."""
    height = dark.shape[0]
    min_len = int(_LINE_INCHES * dpi)
    gap = max(1, round(dpi / 100))
    ink = dark.copy()
    horiz: list[Segment] = []
    vert: list[Segment] = []
    r, a, b = _runs(_bridged(dark, gap), min_len)
    for y, x0, x1 in zip(r.tolist(), a.tolist(), b.tolist(), strict=True):
        horiz.append(Segment((height - y) / scale, x0 / scale, x1 / scale))
        ink[max(y - 1, 0) : y + 2, x0:x1] = False  # and the anti-aliased fringe beside it
    c, a, b = _runs(_bridged(dark.T, gap), min_len)
    for x, y0, y1 in zip(c.tolist(), a.tolist(), b.tolist(), strict=True):
        vert.append(Segment(x / scale, (height - y1) / scale, (height - y0) / scale))
        ink[y0:y1, max(x - 1, 0) : x + 2] = False
    return horiz, vert, ink


def despeckle(ink: np.ndarray, dpi: float) -> np.ndarray:
    """The ink without the specks of a scan (isolated dots smaller than a printed full stop)."""
    try:
        import cv2
    except ImportError:  # tesseract alone: keep the specks, the engine reads around most of them
        return ink
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= max(1, round((dpi / 100) ** 2))
    small[0] = False
    return ink & ~small[labels]


# ---- lines of text ------------------------------------------------------------------------------------------
@dataclass
class _Line:
    x0: int
    y0: int
    x1: int
    y1: int  # pixels, y down; the ink's box


def _bands(profile: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Runs of non-zero profile, runs closer than min_gap joined."""
    on = np.flatnonzero(profile)
    if not len(on):
        return []
    out = [[int(on[0]), int(on[0]) + 1]]
    for i in on[1:].tolist():
        if i - out[-1][1] < min_gap:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return [(a, b) for a, b in out]


def text_lines(ink: np.ndarray, x0: int, y0: int, dpi: float, split: bool) -> list[_Line]:
    """Printed lines in a region of ink (offset x0, y0). Pieces of a line apart by more than a third of its
    height that are no bigger than a speck are specks, and dropped (a full stop sits beside its digits);
    `split`: a line is cut at gaps wider than two characters (columns of a table without ruling lines)."""
    min_h = max(3, round(dpi * 0.03))
    out: list[_Line] = []
    for a, b in _bands(ink.sum(axis=1), max(2, round(dpi * 0.01))):
        h = b - a
        if h < min_h:
            continue
        band = ink[a:b]
        pieces = [
            (c, d)
            for c, d in _bands(band.sum(axis=0), max(2, h // 3))
            if d - c > h * 0.3 or _ink_height(band[:, c:d]) > h * 0.3
        ]
        groups: list[list[int]] = []
        for c, d in pieces:
            if groups and (not split or c - groups[-1][1] <= 2 * h):
                groups[-1][1] = d
            else:
                groups.append([c, d])
        for c, d in groups:
            rows = np.flatnonzero(band[:, c:d].any(axis=1))
            if len(rows) and rows[-1] - rows[0] + 1 >= min_h:
                out.append(_Line(x0 + c, y0 + a + int(rows[0]), x0 + d, y0 + a + int(rows[-1]) + 1))
    return out


def _ink_height(piece: np.ndarray) -> int:
    rows = np.flatnonzero(piece.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if len(rows) else 0


def _crop(gray: np.ndarray, line: _Line) -> np.ndarray:
    h = line.y1 - line.y0
    pad = max(2, h // 5)
    y0, y1 = max(line.y0 - pad, 0), min(line.y1 + pad, gray.shape[0])
    x0, x1 = max(line.x0 - pad, 0), min(line.x1 + pad, gray.shape[1])
    return gray[y0:y1, x0:x1]


# ---- a page ----------------------------------------------------------------------------------------------------
def _figure_like(text: str) -> bool:
    """Mostly digits: a figure, maybe misread ("398S7S8")."""
    digits = sum(ch.isdigit() for ch in text)
    return digits > 0 and digits * 2 >= len(text)


_EDGE = set(".,，。·、:：;；'\"`‘’“”|")  # what a speck beside a figure reads as; no figure ends with one


def figure(chars: list[tuple[str, float, float, float]]) -> tuple[str, bool]:
    """A figure cell's reading: (text, sure). Specks read as punctuation at either end are dropped (a figure
    may start with a sign, never with a full stop); the rest must read as a number with every character at
    least SURE."""
    kept = [c for c in chars if not c[0].isspace()]
    while kept and kept[-1][0] in _EDGE:
        kept.pop()
    while kept and kept[0][0] in _EDGE - {"."}:
        kept.pop(0)
    text = "".join(c[0] for c in kept)
    value = classify(text)
    sure = (
        bool(kept)
        and value is not None
        and value.number is not None
        and not text.startswith(".")
        and min(c[3] for c in kept) >= SURE
    )
    return text, sure


_CJK = re.compile(r"[\u3400-\u9fff]")


def _figure_cell(text: str) -> bool:
    """A cell's text that stands where a figure would: mostly digits, or a short mark that is not a label and
    not a printed dash ("G" or "。" for a faint "0")."""
    core = text.strip("".join(_EDGE))
    if _figure_like(core):
        return True
    return 0 < len(text) <= 3 and not _CJK.search(text) and not is_figure(text)


def _chars(got: Reading) -> list[tuple[str, float, float, float]]:
    return [c for c in got.chars if not c[0].isspace()]


def _same(a: str, b: str) -> bool:
    va, vb = classify(a), classify(b)
    return va is not None and vb is not None and va.number is not None and va.number == vb.number and a == b


_Cell = tuple[int, int, int]  # (grid, row, column)


def _figure_columns(lines: list[tuple[_Line, _Cell | None]], texts: list[str]) -> dict[tuple[int, int], int]:
    """Grid columns that hold figures (most of their cells read as figures, at least three), each with the row
    of its first figure: below it, a column's short text stands where a figure is printed."""
    seen: dict[tuple[int, int], list[tuple[int, bool]]] = {}
    for (_, cell), text in zip(lines, texts, strict=True):
        if cell is not None and text:
            seen.setdefault(cell[::2], []).append((cell[1], _figure_cell(text)))
    out = {}
    for column, cells in seen.items():
        figures = [r for r, figure_like in cells if figure_like]
        if len(figures) >= 3 and len(figures) * 5 >= len(cells) * 3:
            out[column] = min(figures)
    return out


def _stands_for_figure(cell: _Cell, text: str, columns: dict[tuple[int, int], int]) -> bool:
    """A short text (a digit misread as 凡 or 口) in a figure column, below its first figure: not a label."""
    first = columns.get(cell[::2])
    return first is not None and cell[1] > first and 0 < len(text) <= 2 and not is_figure(text)


def _undotted(text: str) -> str:
    """Without a speck read as a full stop before the digits (".0"): no figure is printed so."""
    return text[1:] if text.startswith(".") and len(text) > 1 else text


def figures(
    readings: list[Reading],
    lines: list[tuple[_Line, _Cell | None]],
    images: tuple[np.ndarray, np.ndarray],
    reader: Engine,
    deadline: float | None,
) -> dict[int, str | None]:
    """The figure cells of a page: line index → the figure read, or None where it is unsure.

    Every figure is read a second time by tesseract, digits only, on the same crop. A sure reading
    (every character at least SURE) stands unless tesseract reads another number there. An unsure one is read
    again by the engine without the specks, and taken where that reading (a speck's leading dot dropped) is at
    least AGREE sure and tesseract reads the very same digits: two engines agreeing on a crop is the evidence
    a lone confidence is not. Without tesseract, only sure readings stand."""
    texts = ["".join(c[0] for c in _chars(got)) for got in readings]
    columns = _figure_columns(lines, texts)
    cells = [k for k, ((_, cell), text) in enumerate(zip(lines, texts, strict=True))
             if cell is not None and (_figure_cell(text) or _stands_for_figure(cell, text, columns))]  # fmt: skip
    if not cells:
        return {}
    clean, spotless = images  # without ruling lines; and without specks, which also takes thin strokes
    try:
        digits = [_undotted(figure([(ch, x0, x1, 1.0) for ch, x0, x1, _ in r.chars])[0])
                  for r in _digits().read([_crop(clean, lines[k][0]) for k in cells], deadline)]  # fmt: skip
    except ParseError:  # no tesseract: no second opinion
        digits = [None] * len(cells)
    out: dict[int, str | None] = {}
    unsure: list[int] = []
    for i, k in enumerate(cells):
        text, sure = figure(_chars(readings[k]))
        if sure and not (digits[i] and is_number(digits[i]) and not _same(text, digits[i])):
            out[k] = text
        else:
            out[k] = None
            unsure.append(i)
    spotless = [_crop(spotless, lines[cells[i]][0]) for i in unsure]
    again = reader.read(spotless, deadline) if unsure and digits[0] is not None else []
    for i, second in zip(unsure, again, strict=False):
        k = cells[i]
        for got in (readings[k], second):
            kept = _chars(got)
            text = _undotted(figure(kept)[0])
            if digits[i] and _same(text, digits[i]) and min((c[3] for c in kept if c[0].isdigit()), default=0.0) >= AGREE:
                out[k] = text
                break
    return out


@functools.cache
def _digits() -> TesseractEngine:
    return TesseractEngine(digits=True)


def ocr_image(gray: np.ndarray, dpi: float, reader: Engine | None = None, deadline: float | None = None) -> OcrPage:
    """Read one greyscale page image (8-bit, `dpi` pixels per inch) into characters and grids."""
    reader = reader or engine()
    scale = dpi / 72
    gray = straighten(gray)
    dark = gray < _otsu(gray)
    horiz, vert, ink = ruling_lines(dark, scale, dpi)
    # What the engine sees: the page without its ruling lines. The specks stay in it (a speck filter would
    # also take the thin strokes a scan breaks up: a "4" whose diagonal is gone reads as "1"); they are kept
    # out of the lines' extents instead, and read at a figure's edge they are dropped (figure()).
    clean = np.where(dark & ~ink, 255, gray).astype(np.uint8)
    ink = despeckle(ink, dpi)
    grids = lattice(horiz, vert)
    height = gray.shape[0]
    lines: list[tuple[_Line, _Cell | None]] = []  # (line, the grid cell it is printed in)
    rest = ink.copy()
    inset = max(2, round(dpi * 0.015))
    for grid in grids:
        for r, owners in enumerate(grid.owner):
            for c, own in enumerate(owners):
                if own != (r, c):
                    continue
                c1 = c + grid.span(r, c)
                r1 = r + 1
                while r1 < len(grid.owner) and grid.owner[r1][c] == (r, c):
                    r1 += 1
                x0, x1 = round(grid.xs[c] * scale) + inset, round(grid.xs[c1] * scale) - inset
                y0, y1 = round(height - grid.ys[r] * scale) + inset, round(height - grid.ys[r1] * scale) - inset
                if x1 > x0 and y1 > y0:
                    cell = (id(grid), r, c)
                    lines += [(ln, cell) for ln in text_lines(ink[y0:y1, x0:x1], x0, y0, dpi, split=False)]
        x0, y0, x1, y1 = grid.bbox
        rest[round(height - y1 * scale) : round(height - y0 * scale) + 1, round(x0 * scale) : round(x1 * scale) + 1] = 0
    lines += [(ln, None) for ln in text_lines(rest, 0, 0, dpi, split=True)]
    readings = reader.read([_crop(clean, ln) for ln, _ in lines], deadline)
    read_figures = figures(readings, lines, (clean, np.where(ink, gray, 255).astype(np.uint8)), reader, deadline)
    chars: list[Char] = []
    doubtful: list[str] = []
    for k, ((line, cell), got) in enumerate(zip(lines, readings, strict=True)):
        in_cell = cell is not None
        read = _chars(got)
        if not read:
            continue
        left = max(line.x0 - max(2, (line.y1 - line.y0) // 5), 0)  # where the crop begins
        top, bottom = (height - line.y0) / scale, (height - line.y1) / scale
        if in_cell and all(c[0] in _EDGE for c in read) and min(c[3] for c in read) >= SURE:
            continue  # a speck read with confidence as a dot: nothing printed here
        if k in read_figures:
            text = read_figures[k]
            if text is None:
                # Unsure, or not a figure as printed ("3O01", "G"): unreadable, its print kept for the finding.
                shown = figure(read)[0] or got.text.strip()
                doubtful.append(shown)
                text = UNREADABLE + shown
            chars.append(Char(text, line.x0 / scale, bottom, line.x1 / scale, top, bottom))
            continue
        for word in _words(got.chars, line.y1 - line.y0):
            text, sure = figure(word)
            if not in_cell and _figure_like(text) and not _CJK.search(text) and len(text) <= 12 and not sure:
                # A figure of a table printed without ruling lines, or of the text, read unsure: not a guess.
                doubtful.append(text)
                x0, x1 = (left + word[0][1]) / scale, (left + word[-1][2]) / scale
                chars.append(Char(UNREADABLE + text, x0, bottom, x1, top, bottom))
                continue
            for ch, a, b, _ in word:
                chars.append(Char(ch, (left + a) / scale, bottom, (left + b) / scale, top, bottom))
    return OcrPage(chars, grids, doubtful)


def _words(chars: list[tuple[str, float, float, float]], height: int) -> list[list[tuple[str, float, float, float]]]:
    """A line's characters in words: split at spaces and at gaps wider than half the line's height."""
    out: list[list[tuple[str, float, float, float]]] = [[]]
    for c in chars:
        if c[0].isspace() or (out[-1] and c[1] - out[-1][-1][2] > height / 2):
            out.append([])
        if not c[0].isspace():
            out[-1].append(c)
    return [w for w in out if w]


def render(page, dpi: float = DPI) -> np.ndarray:
    """A pdfium page as an 8-bit greyscale image at `dpi`."""
    scale = dpi / 72
    width, height = page.get_size()
    if width * height * scale * scale > limits.RENDER_PIXELS:  # a page can claim to be 200 inches square
        raise limits.too_large(f"a page of the PDF renders to more than {limits.RENDER_PIXELS:,} pixels")
    return np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L"))


def ocr_page(page, deadline: float | None = None, reader: Engine | None = None) -> OcrPage:
    """Read one pdfium page by OCR. Raises OcrTimeout past the deadline (time.monotonic())."""
    return ocr_image(render(page), DPI, reader, deadline)


def deadline() -> float:
    return time.monotonic() + budget_seconds()


def finding(
    pages: list[int],
    doubtful: list[str],
    failed: list[int],
    cells: list[str],
    *,
    what: str = "页无文字层",
    text: bool = True,
) -> Finding:
    """The parse finding that says OCR was used, which cells it read and whether the running text was read by
    OCR too (`text`): the provenance crawler.rules.provenance judges failures by."""
    name = engine().name
    message = f"第{_page_list(pages)}{what}，已用OCR识别（{name}）；OCR读出的数字须对照原件核实"
    if doubtful:
        message += f"；{len(doubtful)}个数字识别不确定，未采用：{'、'.join(doubtful[:10])}"
    if failed:
        message += f"；第{_page_list(failed)}页超出OCR时限，未读取"
    return Finding(
        "parse.ocr",
        "info",
        "warning" if doubtful or failed else "info",
        message,
        cells,
        data={"pages": pages, "doubtful_numbers": doubtful, "timed_out_pages": failed, "engine": name, "text": text},
    )


def read_cells(doc: Document, tables: list[Table] | None = None) -> list[str]:
    """The template cells whose values come from OCR: those the table walk reads from `tables` (every table of
    the document when None). Found by walking the document again with those tables' value cells marked; where
    marking blank cells changes the walk (a blank at a row's end is taken for a merged cell's placeholder), the
    blank cells are all claimed: a figure OCR missed reads as blank, so claiming too many is the safe side."""
    from crawler.parsing.tables import extract
    from crawler.parsing.tokens import tokenize

    def walk(blanks: bool) -> dict:
        def mark(c: str | None) -> str | None:
            return UNREADABLE + c if c is not None and (c.strip() or blanks) and classify(c) is not None else c

        blocks = [
            Table([[mark(c) for c in r] for r in b.rows])
            if isinstance(b, Table) and (tables is None or any(b is t for t in tables))
            else b
            for b in doc.blocks
        ]
        return extract(tokenize(Document(blocks, doc.format))).cells

    plain = extract(tokenize(doc)).cells
    for blanks in (True, False):
        walked = walk(blanks)
        if set(walked) == set(plain):
            read = {k for k, c in walked.items() if c.raw.startswith(UNREADABLE)}
            if not blanks:
                read |= {k for k, c in plain.items() if c.raw == ""}
            return sorted(read)
    return sorted(plain)  # the marks changed the walk itself: claim every cell rather than too few


def _page_list(pages: list[int]) -> str:
    return "、".join(str(p + 1) for p in pages)


__all__ = ["OcrPage", "OcrTimeout", "deadline", "finding", "ocr_image", "ocr_page", "render"]
