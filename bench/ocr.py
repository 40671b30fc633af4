"""OCR of scanned real reports, engine by engine and resolution by resolution, side by side.

    nice .venv/bin/python bench/ocr.py [--dpi 150 200 300] [--engines rapid tesseract] [--forms pdf png]
                                       [--reports huaian-city-gov-2024 ...] [--pages 1 4]

Every page of ../shared/real/*.pdf and ../shared/real2/*.pdf (real reports with hand-labelled cells) is scanned
by tests/support/scans.py (rendered, turned up to 0.8°, blurred, speckled; seeded, so every run scans the same
pixels) and read back as an image-only PDF (`pdf`: xxgk's PDF reader) and as PNG pages (`png`: the image
reader of 图片版 reports). For each engine, resolution and form it prints the cells read exactly out of the
labelled total, the wrong figures asserted (a value that is not the printed one: what must never happen),
the nulls (cells left unreadable or missing: a finding asks for a human look) and the seconds per page
(CPU of this process and its children, one core). --pages limits each report to some pages (1-based), for a
quick look while developing; the figures for the record are the full run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.scans import as_pdf, as_png, pages  # noqa: E402
from support.shared import SHARED  # noqa: E402

from crawler.parsing import build_report, parse_bytes  # noqa: E402
from crawler.parsing.ocr_engines import engine  # noqa: E402
from crawler.parsing.readers.images import read_image_document  # noqa: E402


@dataclass
class Score:
    exact: int = 0
    total: int = 0
    wrong: int = 0
    nulls: int = 0
    pages: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    wrong_cells: list[str] | None = None

    def add(self, got: dict, expected: dict, where: str) -> None:
        self.wrong_cells = self.wrong_cells or []
        for key, want in expected.items():
            self.total += 1
            value = got.get(key)
            if key in got and value == want:
                self.exact += 1
            elif value is not None:
                self.wrong += 1
                self.wrong_cells.append(f"{where}:{key} {value}≠{want}")
            else:
                self.nulls += 1


def reports(names: list[str] | None) -> list[tuple[Path, dict]]:
    out = []
    for pdf in sorted([*(SHARED / "real").glob("*.pdf"), *(SHARED / "real2").glob("*.pdf")]):
        if names and pdf.stem not in names:
            continue
        out.append((pdf, json.loads((pdf.parent / "expected" / f"{pdf.stem}.json").read_text())))
    return out


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(engine_name: str, dpi: int, form: str, inputs, only: list[int] | None) -> Score:
    os.environ["XXGK_OCR_ENGINE"] = engine_name
    engine(engine_name)  # loaded before the clock starts: once per process, not per document
    score = Score()
    for pdf, expected in inputs:
        images = pages(pdf, dpi, only=only)
        cells = expected["cells"]
        if only:  # only the cells those pages print: the rest of the report is not there to read
            full = parse_bytes(pdf.read_bytes()).cells
            part = build_report(_digital_part(pdf, only)).cells
            cells = {k: v for k, v in cells.items() if k in part and k in full}
        c0, w0 = cpu(), time.monotonic()
        if form == "pdf":
            report = parse_bytes(as_pdf(images, dpi), ocr=True)
        else:
            report = build_report(read_image_document([as_png(im, dpi) for im in images]))
        score.cpu += cpu() - c0
        score.wall += time.monotonic() - w0
        score.pages += len(images)
        score.add(report.values(), cells, pdf.stem)
    return score


def _digital_part(pdf: Path, only: list[int]):
    """The text-layer reading of just those pages (to know which labelled cells they print)."""
    import io

    import pypdfium2 as pdfium

    from crawler.parsing.readers.pdf import read_pdf

    src = pdfium.PdfDocument(pdf)
    out = pdfium.PdfDocument.new()
    out.import_pages(src, only)
    buf = io.BytesIO()
    out.save(buf)
    out.close()
    src.close()
    return read_pdf(buf.getvalue()).alternative()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 200, 300])
    ap.add_argument("--engines", nargs="+", default=["rapid", "tesseract"])
    ap.add_argument("--forms", nargs="+", default=["pdf", "png"], choices=["pdf", "png"])
    ap.add_argument("--reports", nargs="+", help="report file stems (default: all real reports)")
    ap.add_argument("--pages", type=int, nargs="+", help="1-based pages of each report (default: all)")
    ap.add_argument("--show-wrong", action="store_true", help="list every wrong figure")
    args = ap.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    only = [p - 1 for p in args.pages] if args.pages else None
    inputs = reports(args.reports)
    print(f"{len(inputs)} real reports: {', '.join(p.stem for p, _ in inputs)}" + (f"; pages {args.pages}" if only else ""))
    print(f"{'engine':<11}{'dpi':>5} {'form':<5}{'exact':>14}{'wrong':>7}{'nulls':>7}{'cpu s/page':>12}{'wall s/page':>13}")
    for dpi in args.dpi:
        for name in args.engines:
            for form in args.forms:
                s = run(name, dpi, form, inputs, only)
                pct = 100 * s.exact / max(s.total, 1)
                print(
                    f"{name:<11}{dpi:>5} {form:<5}{s.exact:>6}/{s.total:<4}{pct:>3.0f}%{s.wrong:>7}{s.nulls:>7}"
                    f"{s.cpu / max(s.pages, 1):>12.1f}{s.wall / max(s.pages, 1):>13.1f}",
                    flush=True,
                )
                if args.show_wrong and s.wrong_cells:
                    for w in s.wrong_cells:
                        print(f"    wrong: {w}")


if __name__ == "__main__":
    main()
