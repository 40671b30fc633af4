"""A real apprise endpoint on 127.0.0.1 and the small files alert tests write (registry, apprise config)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from storage import Archive

WENZHOU = "温州市人民防空办公室"


class Recorder:
    """A tiny webhook: every POST body (apprise's json:// payload) is kept with its path."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.fail = False
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if recorder.fail:
                    self.send_response(500)
                else:
                    recorder.posts.append((self.path, json.loads(body)))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[tuple[str, dict]]:
        out, self.posts = self.posts, []
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def write_registry(path: Path, listing_url: str, *, verified: bool = False, **extra) -> Path:
    lines = [
        "portals:",
        "  - id: wenzhou",
        "    name: 温州市人民政府",
        "    cms: hanweb",
        f"    start_url: {listing_url}",
        "    domains: [127.0.0.1]",
        f"    verified: {'true' if verified else 'false'}",
        "    agencies:",
        f"      - {{name: {WENZHOU}, kind: department, province: 浙江省, city: 温州市, level: city, first_year: 2020}}",
    ]
    for name, kind in extra.items():
        lines.append(
            f"      - {{name: {name}, kind: {kind}, province: 浙江省, city: 温州市, level: city, first_year: 2020}}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def record_crawl(
    db: Path | str | Archive,
    portal_id: str,
    listing_pages: list[str],
    *,
    started_at: str,
    status: str = "ok",
    listing_complete: bool = True,
) -> int:
    """What a crawl of `portal_id` that began at `started_at` (UTC) leaves in the archive: its run and the
    portal's outcome (the evidence a verdict of absence rests on). Returns the run id."""
    archive = db if isinstance(db, Archive) else Archive(db)
    try:
        run = archive.runs.start("test", now=started_at)
        archive.runs.record_portal(
            run, portal_id, status, pages=len(listing_pages), listing_complete=listing_complete,
            listing_pages=listing_pages, now=started_at,
        )  # fmt: skip
        archive.runs.finish(run, status, now=started_at)
        return run
    finally:
        if archive is not db:
            archive.close()


def write_config(path: Path, port: int, token: str = "s3cret-token") -> Path:
    path.write_text(
        "version: 1\nurls:\n"
        f"  - json://127.0.0.1:{port}/newsroom/{token}:\n      - tag: data\n"
        f"  - json://127.0.0.1:{port}/ops:\n      - tag: health\n",
        encoding="utf-8",
    )
    return path
