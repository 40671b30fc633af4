"""`xxgk serve [--db PATH] [--port N]`: browse the archive in Datasette, read-only."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from crawler.commands._options import port

# Pages a journalist opens stay quick on a large archive: facets get time to finish, long texts are cut.
SETTINGS = {
    "facet_time_limit_ms": 1000,
    "sql_time_limit_ms": 5000,
    "truncate_cells_html": 300,
    "suggest_facets": "off",
    "default_page_size": 50,
}


def datasette_args(db: Path, metadata_file: Path, *, host: str, port: int, immutable: bool) -> list[str]:
    """The `datasette serve` command line for the archive at `db`."""
    from storage.datasette.config import PLUGINS_DIR, TEMPLATES_DIR

    args = ["serve", *(["--immutable", str(db)] if immutable else [str(db)])]
    args += ["--metadata", str(metadata_file), "--plugins-dir", str(PLUGINS_DIR), "--template-dir", str(TEMPLATES_DIR)]
    args += ["--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, str(value)]
    return args


def run(args: argparse.Namespace) -> int:
    from datasette.cli import cli

    from storage import Archive, default_db_path
    from storage.datasette.config import metadata
    from storage.datasette.limits import LimitNotApplied, verify

    db = Path(args.db or default_db_path())
    if not db.exists():
        print(f"xxgk serve: no archive at {db} (create one with xxgk import or xxgk crawl)", file=sys.stderr)
        return 2
    try:
        verify()  # every connection gets the limits; refuse to serve without them
    except LimitNotApplied as e:
        print(f"xxgk serve: cannot bound SQLite's memory, not serving: {e}", file=sys.stderr)
        return 2
    immutable = args.immutable
    if writable(db):
        with Archive(db) as archive:  # brings an older archive up to the current schema first
            if immutable:
                # Immutable readers ignore the WAL file: fold it into the database first.
                archive.checkpoint()
    else:
        # A snapshot on a read-only mount (or a file we may not write): migrating or setting WAL would fail, and
        # nobody can change it under us, so it is served as the frozen snapshot it is.
        from storage.newsroom import UnreadableSnapshot, snapshot_version

        try:
            version = snapshot_version(db)
        except UnreadableSnapshot as e:
            print(f"xxgk serve: cannot read the archive {db}: {e}", file=sys.stderr)
            return 2
        immutable = True
        print(f"xxgk serve: {db} cannot be written: serving it as an immutable snapshot (schema v{version})",
              file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="xxgk-serve-") as tmp:
        metadata_file = Path(tmp) / "metadata.json"
        metadata_file.write_text(json.dumps(metadata(db.stem), ensure_ascii=False), encoding="utf-8")
        where = f"http://{args.host}:{args.port}"
        print(f"xxgk serve: {db} read-only at {where}/ (the newsroom; tables at {where}/{db.stem})", file=sys.stderr, flush=True)
        cli.main(
            args=datasette_args(db, metadata_file, host=args.host, port=args.port, immutable=immutable),
            standalone_mode=False,
        )
    return 0


def writable(db: Path) -> bool:
    """Can we write the archive and create its -wal/-shm files beside it (a read-only mount says no)?"""
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="browse the archive in Datasette (read-only)")
    p.add_argument("--db", help="archive database (default: $XXGK_DB or data/xxgk.db)")
    p.add_argument("--port", type=port, default=8001, help="port to listen on, 1 to 65535 (default 8001)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--immutable",
        action="store_true",
        help="serve a frozen snapshot (faster counts); without it the archive is opened read-only and shows new crawls live",
    )
    p.set_defaults(func=run)
