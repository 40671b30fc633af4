"""Scans of real reports, made here: each page rendered, turned a little, blurred and speckled, as a scanner
or a phone photo of a printout would leave it.

    scan_pdf(path, dpi=200)        an image-only PDF (no text layer), one image per page
    scan_pngs(path, dpi=200)       the same pages as PNG files (bytes), for image tables and `<img>` reports

Every defect is drawn from a random generator seeded by the file name, the page and the resolution, so a scan
is the same bytes every run and a benchmark figure can be reproduced. The defects are mild on purpose (what a
flatbed scanner of a clean printout does): a rotation of up to ±0.8°, a Gaussian blur of about a third of a
point, and a few hundred dark specks and white dropouts per page.

    python tests/support/scans.py REPORT.pdf OUTDIR [--dpi 200]    writes OUTDIR/<stem>-<dpi>.pdf and page PNGs
"""

from __future__ import annotations

import io
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter


@dataclass(frozen=True)
class Defects:
    max_degrees: float = 0.8  # rotation, either way
    blur_points: float = 0.35  # Gaussian blur radius, in points (scaled with the resolution)
    specks_per_page: int = 600  # dark dots of 1-2 pixels
    dropouts_per_page: int = 300  # white dots inside the ink


MILD = Defects()
CLEAN = Defects(0.0, 0.0, 0, 0)


def _rng(name: str, page: int, dpi: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{name}|{page}|{dpi}".encode()))


def degrade(image: Image.Image, rng: np.random.Generator, dpi: int, defects: Defects = MILD) -> Image.Image:
    """One greyscale page with the defects applied."""
    img = image.convert("L")
    if defects.max_degrees:
        angle = float(rng.uniform(-defects.max_degrees, defects.max_degrees))
        img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    if defects.blur_points:
        img = img.filter(ImageFilter.GaussianBlur(defects.blur_points * dpi / 72 / 2))
    pixels = np.array(img)
    h, w = pixels.shape
    for count, shade in ((defects.specks_per_page, 40), (defects.dropouts_per_page, 235)):
        ys = rng.integers(0, h - 2, count)
        xs = rng.integers(0, w - 2, count)
        sizes = rng.integers(1, 3, count)
        for y, x, s in zip(ys.tolist(), xs.tolist(), sizes.tolist(), strict=True):
            pixels[y : y + s, x : x + s] = shade
    return Image.fromarray(pixels)


def pages(path: Path, dpi: int = 200, defects: Defects = MILD, only: list[int] | None = None) -> list[Image.Image]:
    """The PDF's pages rendered at `dpi` and degraded (a fixed generator per file, page and resolution)."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(path)
    try:
        wanted = range(len(src)) if only is None else only
        out = []
        for i in wanted:
            image = src[i].render(scale=dpi / 72, grayscale=True).to_pil()
            out.append(degrade(image, _rng(path.name, i, dpi), dpi, defects))
        return out
    finally:
        src.close()


def as_pdf(images: list[Image.Image], dpi: int) -> bytes:
    """Images as an image-only PDF, each page the size the resolution gives it."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def as_png(image: Image.Image, dpi: int | None = None) -> bytes:
    """A PNG file, with its resolution recorded (pHYs) when given, as a scanner writes it."""
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=False, **({"dpi": (dpi, dpi)} if dpi else {}))
    return buf.getvalue()


def scan_pdf(path: Path, dpi: int = 200, defects: Defects = MILD, only: list[int] | None = None) -> bytes:
    return as_pdf(pages(path, dpi, defects, only), dpi)


def scan_pngs(path: Path, dpi: int = 200, defects: Defects = MILD, only: list[int] | None = None) -> list[bytes]:
    return [as_png(img, dpi) for img in pages(path, dpi, defects, only)]


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="scans of a report PDF: an image-only PDF and PNG pages")
    ap.add_argument("pdf", type=Path)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    images = pages(args.pdf, args.dpi)
    (args.outdir / f"{args.pdf.stem}-{args.dpi}.pdf").write_bytes(as_pdf(images, args.dpi))
    for i, img in enumerate(images):
        (args.outdir / f"{args.pdf.stem}-{args.dpi}-p{i + 1}.png").write_bytes(as_png(img, args.dpi))
    print(f"{len(images)} pages → {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
