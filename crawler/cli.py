"""The `xxgk` command line. Each subcommand is a thin wrapper over the Python API it names."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crawler.model import ParseError


def _print_report(path: str, report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.contract(), ensure_ascii=False, indent=1))
        return
    c = report.contract()
    filled = sum(1 for v in c["cells"].values() if v is not None)
    print(f"{path}: {c['agency'] or '?'} {c['year'] or '?'}年 template {c['template'] or '?'} "
          f"signed {c['signed_date'] or '?'} — {len(c['cells'])} cells ({filled} with numbers)")
    for f in c["findings"]:
        if f["status"] != "pass":
            print(f"  [{f['severity']}] {f['rule']}: {f['message']}")


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse each file on its own; one bad file does not stop the others."""
    from crawler.parsing import parse_file

    status = 0
    for path in args.files:
        try:
            report = parse_file(path, ocr=args.ocr)
        except ParseError as e:
            print(f"xxgk parse: {path}: {e} [{e.reason}]", file=sys.stderr)
            status = 2
            continue
        _print_report(path, report, args.json)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description="政府信息公开工作年度报告 monitor: crawl, parse, check, alert.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse annual-report files and print their cells")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the JSON contract")
    p.add_argument("--ocr", action="store_true", help="OCR PDFs that have no text layer (tesseract chi_sim)")
    p.set_defaults(func=cmd_parse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("xxgk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
