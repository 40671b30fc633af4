"""The replica server: every replica portal on one loopback address, stdlib http.server only.

    with ReplicaServer() as replica:          # builds (and caches) the reports, then serves on 127.0.0.1
        print(replica.base_url)
        replica.registry_path(tmpdir)         # a registry whose portals point here (verified: true)
        replica.set_epoch(2)                  # the edited report changes, one report is taken down

    ReplicaServer(down_portal=True) also holds a port closed (bound, never listening) for the world's down portal,
    and its registry points that portal there: connections are refused at once, for as long as the server runs.

Static resources answer conditional GETs (ETag / If-None-Match, Last-Modified / If-Modified-Since) with 304, as
real portals behind nginx do. `hits` counts requests per path, for tests.

`Listener` serves many addresses (one portal per loopback address, 127.x.y.z, as bench/national.py's thousands
of portals) from one selector thread, and `respond()` answers a request from a `Site`: the replica server and
the national one (crawler/replica/national.py) answer the same way.
"""

from __future__ import annotations

import hashlib
import logging
import selectors
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable
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
        self._server = _Server((self.host, self.port), handler_for(self._answer))
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
        with self._lock:
            self.hits[urlsplit(http.path).path] += 1
        respond(http, self.site(), body)


def handler_for(answer: Callable[[BaseHTTPRequestHandler, bytes], None]) -> type[BaseHTTPRequestHandler]:
    """A request handler that looks like nginx and hands every GET, HEAD and POST (with its body) to `answer`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            answer(self, b"")

        def do_HEAD(self) -> None:
            answer(self, b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            answer(self, self.rfile.read(length) if length else b"")

    return Handler


def respond(http: BaseHTTPRequestHandler, site: Site, body: bytes) -> None:
    """Answer one request from `site`: its POST endpoints, its routes (with conditional GET), else 404."""
    parts = urlsplit(http.path)
    path = parts.path + (f"?{parts.query}" if parts.query and http.command != "POST" else "")
    try:
        if http.command == "POST" and parts.path in site.posts:
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            return _send(http, 200, site.posts[parts.path](query, body), conditional=False)
        resource = site.routes.get(path) or site.routes.get(parts.path)
        if resource is None:
            return _send(http, 404, Resource("<html><body><h1>404</h1><p>页面不存在</p></body></html>".encode()))
        return _send(http, 200, resource, conditional=True)
    except (BrokenPipeError, ConnectionResetError):
        return None
    except Exception:  # a bug in a page builder: answer 500 as a real server would, and say why
        logger.exception("replica failed to answer %s %s", http.command, http.path)
        return _send(http, 500, Resource(b"<html><body><h1>500</h1></body></html>"))


def _send(http: BaseHTTPRequestHandler, status: int, resource: Resource, conditional: bool = False) -> None:
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


class _QuietServer(_Server):
    """HTTPServer.server_bind looks the address up in DNS (getfqdn): for thousands of loopback addresses with no
    name, that is seconds each. The name is only used for CGI variables."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class Listener:
    """Many listening addresses, one selector thread accepting on all of them, a thread per connection.

    A thread per address (serve_forever each) would wake thousands of times a second for nothing; here one
    select() waits on every socket. `answer(http, body)` gets each request; `http.server.server_address`
    says which address it came to."""

    def __init__(self, hosts: list[str], answer: Callable[[BaseHTTPRequestHandler, bytes], None], port: int = 0):
        self.hosts, self.port = hosts, port
        self.handler = handler_for(answer)
        self.servers: dict[str, _Server] = {}
        self._selector: selectors.BaseSelector | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Listener:
        self._selector = selectors.DefaultSelector()
        for host in self.hosts:
            server = _QuietServer((host, self.port), self.handler)
            self.servers[host] = server
            self._selector.register(server, selectors.EVENT_READ, server)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                key.data._handle_request_noblock()

    def address(self, host: str) -> tuple[str, int]:
        return self.servers[host].server_address[:2]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for server in self.servers.values():
            server.server_close()
        if self._selector is not None:
            self._selector.close()


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
