"""OCR of scanned PDF pages: tesseract (chi_sim) on a 300 dpi rendering, words kept with their boxes.

A scanned report still prints its tables with ruling lines. They are found in the image as long
runs of dark pixels, become the same grids as vector ruling lines (pdf_grid.lattice), and are
erased before tesseract reads the page: with the lines gone, tesseract reads the cells as words
instead of as noise. Words then go through the same positional reading as a digital PDF, so a
blank cell is still a blank cell. OCR can misread digits; numbers tesseract is unsure of are
reported with the OCR finding.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

from crawler.model import Finding, ParseError
from crawler.parsing import limits
from crawler.parsing.readers.pdf_grid import Grid, Segment, lattice
from crawler.parsing.readers.pdf_layout import Char
from crawler.parsing.values import UNREADABLE, classify, is_number

DPI = 300
PAGE_TIMEOUT = 120  # seconds of tesseract per page
_LINE_INCHES = 0.4  # a dark run this long is a ruling line, not a stroke of a (title) character
_SURE = 60  # tesseract confidence below which a number is reported as doubtful
_DIGITS = ("-l", "eng", "-c", "tessedit_char_whitelist=0123456789.-")


@dataclass
class OcrPage:
    chars: list[Char]  # one per tesseract word, in PDF points of the rendering
    grids: list[Grid]
    doubtful: list[str] = field(default_factory=list)  # numbers read with low confidence


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


def ruling_lines(gray: np.ndarray, scale: float) -> tuple[list[Segment], list[Segment], np.ndarray]:
    """Horizontal and vertical lines (PDF points, y up) and the image, binarised, without them."""
    dark = gray < 160
    height = gray.shape[0]
    min_len = int(_LINE_INCHES * DPI)
    clean = np.where(dark, 0, 255).astype(np.uint8)  # black on white: grey cell shading goes
    horiz: list[Segment] = []
    vert: list[Segment] = []
    r, a, b = _runs(dark, min_len)
    for y, x0, x1 in zip(r.tolist(), a.tolist(), b.tolist(), strict=True):
        horiz.append(Segment((height - y) / scale, x0 / scale, x1 / scale))
        clean[y, x0:x1] = 255
    c, a, b = _runs(dark.T, min_len)
    for x, y0, y1 in zip(c.tolist(), a.tolist(), b.tolist(), strict=True):
        vert.append(Segment(x / scale, (height - y1) / scale, (height - y0) / scale))
        clean[y0:y1, x] = 255
    return horiz, vert, clean


def _tesseract(image: np.ndarray, timeout: float, *extra: str) -> list[dict[str, str]]:
    """tesseract's TSV rows for an 8-bit grey image."""
    from PIL import Image

    if shutil.which("tesseract") is None:
        raise ParseError("unsupported", "OCR was requested but tesseract is not installed")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PPM")  # uncompressed PGM: no time spent encoding
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page, as the crawler runs
    proc = subprocess.run(
        ["tesseract", "-", "-", *extra, "tsv"],
        input=buf.getvalue(),
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        raise ParseError("unreadable", f"tesseract failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
    return list(csv.DictReader(io.StringIO(proc.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE))


@dataclass
class _Word:
    char: Char
    conf: float


def _words(rows: list[dict[str, str]], height: int, scale: float) -> list[_Word]:
    """TSV word rows as characters in PDF points; each word takes its line's band, so flat
    glyphs (一, 、) stay on their line and gaps are measured against the line height."""
    bands: dict[tuple[str, str, str], tuple[float, float]] = {}
    for row in rows:
        if row.get("level") == "4":
            top, h = float(row["top"]), float(row["height"])
            bands[(row["block_num"], row["par_num"], row["line_num"])] = (
                (height - top - h) / scale,
                (height - top) / scale,
            )
    out: list[_Word] = []
    for row in rows:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        y0, y1 = bands.get((row["block_num"], row["par_num"], row["line_num"]), (0.0, 0.0))
        left, width = float(row["left"]), float(row["width"])
        out.append(_Word(Char(text, left / scale, y0, (left + width) / scale, y1, y0), float(row["conf"])))
    return out


def _figure_like(text: str) -> bool:
    """Mostly digits: a figure, maybe misread ("398S7S8")."""
    digits = sum(ch.isdigit() for ch in text)
    return digits > 0 and digits * 2 >= len(text)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _value_cells(grid: Grid, texts: dict[tuple[int, int], str]) -> set[tuple[int, int]]:
    """Cells of a grid that hold figures: one-column cells right of every label printed in a
    row of figures, from the first such row down, that do not read as a label themselves."""
    numbers = [(r, c) for (r, c), t in texts.items() if _figure_like(t)]
    if not numbers:
        return set()
    rows = {r for r, _ in numbers}
    edge = max((c for (r, c), t in texts.items() if r in rows and len(_CJK.findall(t)) >= 2), default=-1)
    return {
        (r, c)
        for r, owners in enumerate(grid.owner)
        for c, own in enumerate(owners)
        if own == (r, c) and r >= min(rows) and c > edge and grid.span(r, c) == 1
        and len(_CJK.findall(texts.get((r, c), ""))) < 2
    }  # fmt: skip


def _cell_of(w: _Word, grids: list[Grid]) -> tuple[int, tuple[int, int]] | None:
    for g, grid in enumerate(grids):
        if grid.contains(w.char.cx, w.char.cy):
            return g, grid.locate(w.char.cx, w.char.cy)
    return None


def _digit_pass(clean: np.ndarray, grids: list[Grid], words: list[_Word], timeout: float, scale: float):
    """Read the figure cells again, digits only, in place of what the first pass read there.

    The cells are stacked one under another on a blank canvas: tesseract then reads each
    cell as a line of its own, and figures of neighbouring cells cannot run together."""
    height = clean.shape[0]
    first: dict[tuple[int, tuple[int, int]], list[_Word]] = {}
    for w in words:
        key = _cell_of(w, grids)
        if key is not None:
            first.setdefault(key, []).append(w)
    cells: list[tuple[int, tuple[int, int]]] = []
    for g, grid in enumerate(grids):
        texts = {cell: "".join(w.char.text for w in ws) for (k, cell), ws in first.items() if k == g}
        cells += sorted((g, cell) for cell in _value_cells(grid, texts))
    if not cells:
        return words, []
    pad = 12
    boxes = []
    for g, (r, c) in cells:
        grid = grids[g]
        x0, x1 = int(grid.xs[c] * scale) + 4, int(grid.xs[c + 1] * scale) - 4
        y0, y1 = int(height - grid.ys[r] * scale) + 4, int(height - grid.ys[r + 1] * scale) - 4
        boxes.append((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
    canvas = np.full(
        (sum(b[3] - b[1] + 2 * pad for b in boxes), max(b[2] - b[0] for b in boxes) + 2 * pad), 255, np.uint8
    )
    spans: list[tuple[int, int]] = []  # canvas rows of each cell
    top = 0
    for x0, y0, x1, y1 in boxes:
        canvas[top + pad : top + pad + y1 - y0, pad : pad + x1 - x0] = clean[y0:y1, x0:x1]
        spans.append((top, top + y1 - y0 + 2 * pad))
        top = spans[-1][1]
    rows = _tesseract(canvas, timeout, "--psm", "6", *_DIGITS)
    again: dict[int, list[tuple[float, str, float]]] = {}
    for row in rows:
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        mid = float(row["top"]) + float(row["height"]) / 2
        k = next((k for k, (a, b) in enumerate(spans) if a <= mid < b), None)
        if k is not None:
            again.setdefault(k, []).append((float(row["left"]), text, float(row["conf"])))
    taken = set(cells)
    out = [w for w in words if _cell_of(w, grids) not in taken]
    doubtful: list[str] = []
    for k, (g, cell) in enumerate(cells):
        before = first.get((g, cell), [])
        text1 = "".join(w.char.text for w in before)
        parts = sorted(again.get(k, []))
        text2 = "".join(t for _, t, _ in parts)
        grid = grids[g]
        r, c = cell
        place = Char(text2, grid.xs[c], grid.ys[r + 1], grid.xs[c + 1], grid.ys[r], grid.ys[r + 1])
        if is_number(text2):
            out.append(_Word(place, min(conf for _, _, conf in parts)))
            if out[-1].conf < _SURE or (is_number(text1) and classify(text1) != classify(text2)):
                doubtful.append(text2)
        elif text1:
            # tesseract drops a lone thin glyph ("1") from a block: read the cell by itself.
            x0, y0, x1, y1 = boxes[k]
            alone = np.pad(clean[y0:y1, x0:x1], pad, constant_values=255)
            words3 = [r for r in _tesseract(alone, timeout, "--psm", "7", *_DIGITS) if r.get("level") == "5"]
            text3 = "".join((r.get("text") or "").strip() for r in words3)
            if is_number(text3):
                place.text = text3
                out.append(_Word(place, 0.0))
                doubtful.append(text3)
            else:  # printed, but no pass reads a figure there: unreadable, never a guess
                place.text = UNREADABLE + text1
                out.append(_Word(place, 0.0))
    return out, doubtful


def ocr_page(page, timeout: float = PAGE_TIMEOUT) -> OcrPage:
    """Read one pdfium page by OCR. Raises subprocess.TimeoutExpired past `timeout`."""
    scale = DPI / 72
    width, height = page.get_size()
    if width * height * scale * scale > limits.RENDER_PIXELS:  # a page can claim to be 200 inches square
        raise limits.too_large(f"a page of the PDF renders to more than {limits.RENDER_PIXELS:,} pixels")
    gray = np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L"))
    horiz, vert, clean = ruling_lines(gray, scale)
    grids = lattice(horiz, vert)
    words = _words(_tesseract(clean, timeout, "--psm", "6", "-l", "chi_sim"), gray.shape[0], scale)
    words, doubtful = _digit_pass(clean, grids, words, timeout, scale)
    return OcrPage([w.char for w in words], grids, doubtful)


def finding(pages: list[int], doubtful: list[str], failed: list[int]) -> Finding:
    """The parse finding that says OCR was used, and where to look twice."""
    message = f"第{_page_list(pages)}页无文字层，已用OCR识别（tesseract chi_sim），数字可能有误"
    if doubtful:
        message += f"；识别置信度低的数字：{'、'.join(doubtful[:10])}"
    if failed:
        message += f"；第{_page_list(failed)}页识别超时，未读取"
    return Finding(
        "parse.ocr",
        "info",
        "warning" if doubtful or failed else "info",
        message,
        data={"pages": pages, "doubtful_numbers": doubtful, "timed_out_pages": failed, "engine": "tesseract chi_sim"},
    )


def _page_list(pages: list[int]) -> str:
    return "、".join(str(p + 1) for p in pages)
