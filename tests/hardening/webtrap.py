"""Real HTTP on loopback for the confinement tests: a portal that serves what a test gives it, and a trap.

The trap stands for an address no request may reach (an intranet host, the 169.254.169.254 metadata
service): it listens on a second loopback address, 127.0.0.2, answers anything with a "secret" in magenta,
and counts every TCP connection it accepts (a WebSocket or a preconnect is a connection too, even when no
HTTP request follows). A test proves confinement by the trap's count being zero, and by no magenta pixel in
a screenshot.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import hostile
from support.shared import ROOT, expected_for, seed_paths

SECRET = "IAM-SECRET-ACCESS-KEY-FROM-THE-METADATA-SERVICE"
MAGENTA = (255, 0, 255)
TRAP_HOST = "127.0.0.2"

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


def magenta_png(width: int = 64, height: int = 64) -> bytes:
    """A solid magenta PNG, written by hand (no imaging library needed to make one)."""
    row = b"\x00" + bytes(MAGENTA) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler, owner: Server):
        self.owner = owner
        super().__init__(address, handler)

    def verify_request(self, request, client_address) -> bool:
        self.owner.connections += 1
        return True


class Server:
    """A threaded HTTP server on `host` that logs (path, User-Agent) and answers from `routes` (exact paths),
    else with `default`."""

    def __init__(self, host: str, port: int = 0, routes: dict[str, Route] | None = None, default: Route | None = None):
        self.routes = routes or {}
        self.default = default or (lambda _h: (404, {"Content-Type": "text/html"}, b"<html><body>404</body></html>"))
        self.hits: list[tuple[str, str]] = []
        self.connections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                owner.hits.append((self.path, self.headers.get("User-Agent", "")))
                route = owner.routes.get(self.path.split("#", 1)[0], owner.default)
                status, headers, body = route(self)
                if body is None:  # the route wrote the response itself (a stream)
                    return
                self.send_response(status)
                for k, v in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = _Server((host, port), Handler, self)
        self.host, self.port = host, self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def trap(port: int = 0) -> Server:
    """The address nothing may reach: every answer is the secret, on magenta."""

    def secret(handler) -> tuple[int, dict[str, str], bytes]:
        if handler.path.endswith(".png"):
            return 200, {"Content-Type": "image/png"}, magenta_png()
        page = f"<html><body style='background:#f0f;margin:0;height:3000px'><h1>{SECRET}</h1></body></html>"
        return 200, {"Content-Type": "text/html"}, page.encode()

    return Server(TRAP_HOST, port, default=secret)


def html(body: str, status: int = 200) -> Route:
    return lambda _h: (status, {"Content-Type": "text/html; charset=utf-8"}, body.encode())


def redirect(location: str, status: int = 302) -> Route:
    return lambda _h: (status, {"Location": location}, b"")


def endless_event_stream(handler) -> tuple[int, dict[str, str], None]:
    """An EventSource that never ends (it used to keep "networkidle" from ever firing)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.end_headers()
    try:
        for _ in range(600):
            handler.wfile.write(b"data: tick\n\n")
            handler.wfile.flush()
            threading.Event().wait(0.1)
    except OSError:
        pass
    return 200, {}, None


# --- a report to find, and the crawl that looks for it ---------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A real inline report page (a seed's figures), its agency and year, and the link text a list gives it."""

    agency: str
    year: int
    page: bytes = field(repr=False)

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"


def seed_report(index: int = 0) -> Report:
    expected = expected_for(seed_paths()[index])
    return Report(expected["agency"], expected["year"], hostile.rendition(expected, "html"))


def write_registry(path: Path, portals: list[dict]) -> Path:
    """A registry of generic portals: each dict has id, start_url, domains, agency and optionally js."""
    lines = ["portals:"]
    for p in portals:
        lines += [
            f"  - id: {p['id']}",
            f"    name: {p['agency']}",
            "    cms: generic",
            f"    start_url: {p['start_url']}",
            f"    domains: [{', '.join(p['domains'])}]",
            *([f"    js: {str(p['js']).lower()}"] if "js" in p else []),
            "    agencies:",
            f"      - {{name: {p['agency']}, kind: department, first_year: 2019}}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "20"}


def crawl(
    workdir: Path, registry: Path, *names: str, settings: dict | None = None, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """`xxgk crawl NAMES --json` into a fresh archive in `workdir`; the process and its summary."""
    args = ["crawl", *names, "--db", str(workdir / "xxgk.db"), "--registry", str(registry)]
    args += ["--allow-network", "127.0.0.1/32", "-q", "--json"]
    for key, value in {**FAST, **(settings or {})}.items():
        args += ["-s", f"{key}={value}"]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "TELNETCONSOLE_ENABLED": "False", **(env or {})},
    )
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-4000:]
    return done, json.loads(done.stdout)


def portal_of(summary: dict, portal_id: str) -> dict:
    return next(p for p in summary["portals"] if p["portal_id"] == portal_id)
