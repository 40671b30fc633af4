"""`xxgk parse FILE... [--json]`: read annual-report files into the canonical contract."""

from __future__ import annotations

import argparse
import json
import sys

from crawler.model import ParsedReport, ParseError


def _print_report(path: str, report: ParsedReport, as_json: bool) -> None:
    c = report.contract()
    if as_json:
        print(json.dumps(c, ensure_ascii=False, indent=1))
        return
    filled = sum(1 for v in c["cells"].values() if v is not None)
    print(
        f"{path}: {c['agency'] or '?'} {c['year'] or '?'}年 template {c['template'] or '?'} "
        f"signed {c['signed_date'] or '?'} — {len(c['cells'])} cells ({filled} with numbers)"
    )
    for f in c["findings"]:
        if f["status"] != "pass":
            print(f"  [{f['severity']}] {f['rule']}: {f['message']}")


def run(args: argparse.Namespace) -> int:
    """Parse each file on its own; one bad file does not stop the others."""
    from crawler.ingest import examine_file
    from crawler.parsing.readers.pdf import ocr_enabled  # resolved here: the parse sandbox sizes its time limit by it

    status = 0
    for path in args.files:
        try:
            report = examine_file(path, ocr=ocr_enabled(args.ocr))
        except ParseError as e:
            print(f"xxgk parse: {path}: {e} [{e.reason}]", file=sys.stderr)
            status = 2
            continue
        _print_report(path, report, args.json)
    return status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="parse annual-report files and print their cells")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the JSON contract")
    p.add_argument(
        "--ocr",
        action=argparse.BooleanOptionalAction,
        help="OCR pages without a text layer (on by default; --no-ocr, or XXGK_OCR=0, turns it off)",
    )
    p.set_defaults(func=run)
