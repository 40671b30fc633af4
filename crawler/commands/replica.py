"""`xxgk replica [--port N] [--host 127.0.0.1] [--registry-out FILE] [--epoch 2]`: serve the replica portals
(crawler/replica: six portals, every CMS family, the demo's story) outside the demo, until Ctrl-C.

For trying xxgk by hand against portals that answer: crawl, check and alert at one's own pace, from another
terminal, with the registry it prints (its portals point at this server; crawl it with --allow-network).
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from crawler.commands._options import any_port
from crawler.exits import EXIT_FATAL, EXIT_OK

COMMAND = "xxgk replica"


def listen_address(text: str) -> str:
    """An IP address clients can reach: the registry's URLs and domains are built from it, so 0.0.0.0 (every
    address, no one's) would give a registry no crawler can use."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None
    if address.is_unspecified:
        raise argparse.ArgumentTypeError(f"give the address crawlers will use, not {text!r}")
    return str(address)


def run(args: argparse.Namespace) -> int:
    from crawler.replica import ReplicaServer

    taken = _cannot_listen(args.host, args.port)  # before a minute of building, not after
    if taken is None:
        print(f"{COMMAND}: building the replica portals (a first run converts PDFs with LibreOffice)", file=sys.stderr)
        server = ReplicaServer(host=args.host, port=args.port)
        try:
            server.start()
        except OSError as e:  # taken in the meantime
            taken = e.strerror or str(e)
    if taken is not None:
        print(f"{COMMAND}: cannot listen on {args.host}:{args.port}: {taken}", file=sys.stderr)
        return EXIT_FATAL
    try:
        server.set_epoch(args.epoch)
        with tempfile.TemporaryDirectory(prefix="xxgk-replica-") as tmp:
            registry = _write_registry(server, Path(args.registry_out) if args.registry_out else Path(tmp))
            _announce(server, registry, args.host)
            _wait_for_a_signal()
    finally:
        server.stop()
    print(f"{COMMAND}: stopped", file=sys.stderr)
    return EXIT_OK


def _cannot_listen(host: str, port: int) -> str | None:
    """Why nothing can listen on host:port (in use, not an address of this machine), or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def _write_registry(server, target: Path) -> Path:
    """The registry file: `target` itself when it names a file, else registry.yaml inside the directory."""
    if target.is_dir():
        return server.registry_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(server.registry_text(), encoding="utf-8")
    return target


def _announce(server, registry: Path, host: str) -> None:
    """What a person needs to use the server, on stdout (a script reads the two first lines)."""
    network = ipaddress.ip_network(host)
    print(f"base URL: {server.base_url}", flush=True)
    print(f"registry: {registry}", flush=True)
    print(
        f"crawl it: xxgk crawl --registry {registry} --allow-network {network} --db /tmp/replica.db   "
        "(Ctrl-C here stops the server)",
        flush=True,
    )


def _wait_for_a_signal() -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM (systemd, kill), then return so the server closes cleanly."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replica",
        help="serve the replica portals on this machine until Ctrl-C (try xxgk without the real web)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=any_port, default=0, help="port to listen on (default 0: any free port)")
    p.add_argument("--host", type=listen_address, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--registry-out",
        metavar="FILE",
        help="write the replica registry here and keep it (default: a temporary file, removed on stop)",
    )
    p.add_argument(
        "--epoch",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: serve the portals as after 大渡口's correction of its 2023 report (default 1)",
    )
    p.set_defaults(func=run)
