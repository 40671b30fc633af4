"""`xxgk import FILE... [--agency NAME] [--year Y] [--url URL]`: archive local report files.

The command form of crawler.ingest.ingest: each file is stored, parsed and written with its cells.
It is also how a user adds a report obtained by other means (by email, on paper scanned to PDF).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.commands._options import iso_date, year
from crawler.registry import KINDS


def _line(path: str, r) -> str:
    who = f"{r.agency or '?'} {r.year or '?'}年"
    if r.status == "unchanged":
        return f"{path}: report #{r.report_id} {who}: already archived, unchanged"
    cells = len(r.parsed.cells) if r.parsed else 0
    return f"{path}: report #{r.report_id} {who}: {r.status}, version {r.version}, {cells} cells, sha256 {r.document.sha256[:12]}"


def run(args: argparse.Namespace) -> int:
    from crawler.ingest import ingest
    from crawler.model import IncomingDocument
    from crawler.parsing.readers.pdf import ocr_enabled  # resolved here: the parse sandbox sizes its time limit by it
    from storage import Archive, default_db_path
    from storage.db import sqlite3

    if args.url and len(args.files) > 1:
        print("xxgk import: --url names one document; give one FILE with it", file=sys.stderr)
        return 2
    status = 0
    db = args.db or default_db_path()
    try:
        archive = Archive(db)
    except (OSError, sqlite3.Error) as e:
        print(f"xxgk import: cannot open the archive {db}: {e}", file=sys.stderr)
        return 2
    with archive:
        for name in args.files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as e:
                print(f"xxgk import: {name}: cannot read file ({e.strerror})", file=sys.stderr)
                status = 2
                continue
            try:
                doc = IncomingDocument(
                    data,
                    url=args.url or path.resolve().as_uri(),
                    agency=args.agency,
                    year=args.year,
                    kind=args.kind,
                    published_at=args.published_at.isoformat() if args.published_at else None,
                    published_source="manual" if args.published_at else None,
                )
                result = ingest(archive, doc, parse_options={"ocr": ocr_enabled(args.ocr)})
            except (OSError, sqlite3.Error) as e:
                # A full disk or a broken archive: the transaction rolled back, nothing half-written.
                print(f"xxgk import: {name}: not archived: {e}", file=sys.stderr)
                status = 2
                continue
            if result.parse_status == "failed":
                # Kept in the archive all the same (report #N, parse_status failed), so nothing is lost.
                print(
                    f"xxgk import: {name}: {result.parse_message} [{result.parse_reason}] (archived as report #{result.report_id})",
                    file=sys.stderr,
                )
                status = 2
            else:
                print(_line(name, result))
    return status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="archive local report files: store, parse and write their cells")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--agency", help="agency name (default: as the report names itself)")
    p.add_argument("--year", type=year, help="report year, 2000 to 2100 (default: as the report states)")
    p.add_argument("--url", help="where the document was published (default: the file's file:// URL)")
    p.add_argument("--kind", choices=KINDS, help="agency kind, for the deadline (Jan 31 / Mar 31)")
    p.add_argument("--published-at", type=iso_date, metavar="YYYY-MM-DD", help="publication date, if known")
    p.add_argument("--db", help="archive database (default: $XXGK_DB or data/xxgk.db)")
    p.add_argument(
        "--ocr",
        action=argparse.BooleanOptionalAction,
        help="OCR pages without a text layer (on by default; --no-ocr, or XXGK_OCR=0, turns it off)",
    )
    p.set_defaults(func=run)
