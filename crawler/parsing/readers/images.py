"""Page images (PNG, JPEG, GIF, BMP, TIFF, WebP) read by OCR: the tables of a 图片版 HTML report, or a report
published as a sequence of page images.

Each image goes through the same OCR as a scanned PDF page (crawler.parsing.ocr) and the same positional
reading (pdf_layout.read_layout), so its ruled tables become the same grids every other reader produces.
An image that does not state its resolution is taken as an A4 page if it has a page's proportions, else as a
screen image (96 CSS pixels per inch); one below 150 dpi is enlarged to OCR's resolution to be read reliably.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from crawler.model import ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document, Table

_SCREEN_DPI = 96.0
_MIN_DPI = 150.0  # images below this are enlarged to ocr.DPI


def decode(data: bytes) -> tuple[np.ndarray, float]:
    """An image file as 8-bit grey pixels at OCR resolution, and that resolution. Refused past RENDER_PIXELS
    before it is decoded (a 100-byte PNG can claim to be 100,000 pixels square)."""
    from PIL import Image, UnidentifiedImageError

    from crawler.parsing.ocr import DPI

    try:
        img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ParseError("unreadable", f"an image cannot be read ({e})") from e
    if img.width * img.height > limits.RENDER_PIXELS:
        raise limits.too_large(f"an image has more than {limits.RENDER_PIXELS:,} pixels")
    try:
        img.seek(0)  # the first frame of a GIF or TIFF
        if img.mode in ("RGBA", "LA", "P"):  # transparent pixels are the page behind: white
            img = img.convert("RGBA")
            white = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, img)
        gray = img.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ParseError("unreadable", f"an image cannot be read ({e})") from e
    stated = img.info.get("dpi")
    dpi = float(stated[0]) if stated and stated[0] else _resolution(gray.width, gray.height)
    factor = DPI / dpi if dpi < _MIN_DPI else 1.0
    if factor != 1.0:
        if gray.width * gray.height * factor * factor > limits.RENDER_PIXELS:
            raise limits.too_large(f"an image enlarged for OCR has more than {limits.RENDER_PIXELS:,} pixels")
        gray = gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.Resampling.BICUBIC)
        dpi = DPI
    return np.asarray(gray), dpi


_A4 = (8.27, 11.69)  # inches


def _resolution(width: int, height: int) -> float:
    """The resolution of an image that does not say: a page (A4's proportions, portrait or landscape) spans
    A4's width; anything else is a screen image, 96 CSS pixels to the inch."""
    short, long = sorted((width, height))
    if abs(long / max(short, 1) - _A4[1] / _A4[0]) < 0.08 and short >= 600:
        return short / _A4[0]
    return _SCREEN_DPI


@dataclass
class _Page:
    """One image standing in for a pdfium page in read_layout."""

    data: bytes


@dataclass
class ImageReading:
    """What OCR made of a sequence of images: the blocks in order, and what the parse.ocr finding says."""

    blocks: list[str | Table]
    doubtful: list[str] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)


def read_images(images: list[bytes], until: float | None = None) -> ImageReading:
    """The images' text and tables, in order, as one document would lay them out; OCR stops at `until`
    (time.monotonic(); default: the document's budget from now)."""
    from crawler.parsing import ocr
    from crawler.parsing.readers.pdf_layout import read_layout

    reading = ImageReading([])
    until = ocr.deadline() if until is None else until

    def reader(page: _Page, i: int):
        gray, dpi = decode(page.data)
        try:
            got = ocr.ocr_image(gray, dpi, deadline=until)
        except ocr.OcrTimeout:
            reading.timed_out.append(i)
            return None
        reading.doubtful.extend(got.doubtful)
        return got.chars, got.grids

    reading.blocks = read_layout([_Page(d) for d in images], reader).blocks
    return reading


def read_image_document(images: list[bytes], title: str | None = None) -> Document:
    """A report published as page images, read as one document (with the parse.ocr finding)."""
    from crawler.parsing import ocr

    reading = read_images(images)
    doc = Document(reading.blocks, "image", title_hint=title, pages=len(images))
    doc.extra_findings = [
        ocr.finding(
            list(range(len(images))), reading.doubtful, reading.timed_out, ocr.read_cells(doc), what="页为图片"
        )
    ]
    return doc


__all__ = ["ImageReading", "decode", "read_image_document", "read_images"]
