"""The replica server: every replica portal on one loopback address, stdlib http.server only.

    with ReplicaServer() as replica:          # builds (and caches) the reports, then serves on 127.0.0.1
        print(replica.base_url)
        replica.registry_path(tmpdir)         # a registry whose portals point here (verified: true)
        replica.set_epoch(2)                  # the edited report changes, one report is taken down

    ReplicaServer(down_portal=True) also holds a port closed (bound, never listening) for the world's down portal,
    and its registry points that portal there: connections are refused at once, for as long as the server runs.

Static resources answer conditional GETs (ETag / If-None-Match, Last-Modified / If-Modified-Since) with 304, as
real portals behind nginx do. `hits` counts requests per path, for tests.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections import Counter
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawler.replica import world
from crawler.replica.registry import registry_yaml
from crawler.replica.sites import Expected, Resource, Site, assets_for, build_site, modified_at

logger = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class ReplicaServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, down_portal: bool = False):
        self.host = host
        self.port = port
        self.down_portal = down_portal
        self._closed: socket.socket | None = None
        self.published = world.build()
        self.assets = assets_for(self.published)
        self.epoch = 1
        self.hits: Counter = Counter()
        self._sites: dict[int, Site] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> ReplicaServer:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "nginx"
            sys_version = ""

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                replica._answer(self, b"")

            def do_HEAD(self) -> None:
                replica._answer(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                replica._answer(self, self.rfile.read(length) if length else b"")

        self._server = _Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        if self.down_portal:
            # Bound and never listening: nobody else can take the port, and every connection to it is refused.
            self._closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._closed.bind((self.host, 0))
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._closed is not None:
            self._closed.close()
            self._closed = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def down_url(self) -> str | None:
        """Where the down portal "answers" (a closed port), when the server was asked for one."""
        return f"http://{self.host}:{self._closed.getsockname()[1]}" if self._closed is not None else None

    # --- what it serves -----------------------------------------------------------------------------------
    def site(self, epoch: int | None = None) -> Site:
        epoch = epoch or self.epoch
        with self._lock:
            if epoch not in self._sites:
                self._sites[epoch] = build_site(self.published, self.assets, self.base_url, epoch)
            return self._sites[epoch]

    def set_epoch(self, epoch: int) -> None:
        self.site(epoch)
        self.epoch = epoch

    def expected(self, portal_id: str | None = None) -> list[Expected]:
        """The reports a crawl of the current epoch must archive (the missing one is, of course, absent)."""
        return [e for e in self.site().expected if portal_id is None or e.portal == portal_id]

    def registry_text(self) -> str:
        """The replica portals' registry, pointing here: generated from the world, which declares each portal once."""
        return registry_yaml(self.base_url, self.down_url)

    def registry_path(self, directory: str | Path) -> Path:
        path = Path(directory) / "registry.yaml"
        path.write_text(self.registry_text(), encoding="utf-8")
        return path

    # --- HTTP ---------------------------------------------------------------------------------------------------
    def _answer(self, http: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(http.path)
        path = parts.path + (f"?{parts.query}" if parts.query and http.command != "POST" else "")
        with self._lock:
            self.hits[parts.path] += 1
        site = self.site()
        try:
            if http.command == "POST" and parts.path in site.posts:
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                return self._send(http, 200, site.posts[parts.path](query, body), conditional=False)
            resource = site.routes.get(path) or site.routes.get(parts.path)
            if resource is None:
                return self._send(
                    http, 404, Resource("<html><body><h1>404</h1><p>页面不存在</p></body></html>".encode())
                )
            return self._send(http, 200, resource, conditional=True)
        except (BrokenPipeError, ConnectionResetError):
            return None
        except Exception:  # a bug in a page builder: answer 500 as a real server would, and say why
            logger.exception("replica failed to answer %s %s", http.command, http.path)
            return self._send(http, 500, Resource(b"<html><body><h1>500</h1></body></html>"))

    def _send(self, http: BaseHTTPRequestHandler, status: int, resource: Resource, conditional: bool = False) -> None:
        etag = '"' + hashlib.sha1(resource.body).hexdigest()[:16] + '"'
        modified = modified_at(resource)
        if conditional and status == 200 and _not_modified(http, etag, modified):
            http.send_response(304)
            http.send_header("ETag", etag)
            http.send_header("Content-Length", "0")
            http.end_headers()
            return
        http.send_response(status)
        http.send_header("Content-Type", resource.content_type)
        http.send_header("Content-Length", str(len(resource.body)))
        if status == 200:
            http.send_header("ETag", etag)
            http.send_header("Last-Modified", format_datetime(modified, usegmt=True))
        http.end_headers()
        if http.command != "HEAD":
            http.wfile.write(resource.body)


def _not_modified(http: BaseHTTPRequestHandler, etag: str, modified) -> bool:
    match = http.headers.get("If-None-Match")
    if match:
        return etag in [m.strip() for m in match.split(",")]
    since = http.headers.get("If-Modified-Since")
    if since:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
