"""A pool of long-lived LibreOffice processes: a DOC costs a conversion (~0.03 s), not a LibreOffice start (1-3 s).

    pool = office_pool.start()      # the crawl's parent process; sets XXGK_OFFICE_POOL for its children
    ...                             # every read_office() in a child sends its bytes to the pool
    pool.stop()                     # LibreOffice ended, profiles removed

The caller (the crawl, a benchmark) starts one *broker* process (`python -m crawler.parsing.office_pool`, the
code below `# ---- the broker`), which listens on a Unix socket in a private directory and keeps up to
XXGK_OFFICE_POOL_SIZE (default 2) LibreOffice processes. Each is `soffice --accept=pipe,...` with a profile of
its own (LibreOffice needs one per concurrent process; macros off, as in the cold run), its scratch files in
its own directory, and beside it crawler/parsing/office_bridge.py under the Python that has UNO (Debian's
python3-uno), in the same process group. The socket path goes into XXGK_OFFICE_POOL, which the archive
workers and their parse sandboxes inherit; the parse child (crawler/parsing/readers/office.py) sends the
document's bytes and gets the DOCX back. Without that variable, or when the pool cannot take a document, the
parse converts cold as before, so `xxgk parse` of one file needs no daemon (a pool there would cost the same
cold start, then outlive the command).

LibreOffice processes start on the first document that needs one (a crawl with no DOC pays for none), or all
at once with `warm=True`, and end after XXGK_OFFICE_POOL_IDLE seconds unused (default 300). The broker owns
every deadline: a conversion past its timeout (XXGK_SOFFICE_TIMEOUT) kills that LibreOffice's process group and
starts a fresh one, and the document gets `timeout`; a parse that is killed meanwhile (its sandbox's own
limit) closes its socket, and the broker ends that conversion the same way. A LibreOffice that dies converting
a document is replaced and the document tried once more on another process; if that one dies too, the
document's reason is `parser_error`. One found dead while idle is replaced. Each is also replaced after
MAX_USES conversions, and held to the parse's memory allowance (RLIMIT_AS: XXGK_PARSE_MEMORY_MB over what it
holds when ready). The DOCX it writes is refused past limits.INPUT_BYTES, and the client checks that size too.

Nothing outlives the pool: the broker dies with its parent (PR_SET_PDEATHSIG), each bridge kills its process
group when the broker goes, `stop()` removes the directory (profiles, scratch, LibreOffice's pipe sockets in
/tmp), and the directory of a pool whose broker was killed is removed by the next pool's start (its lock file
is no longer held).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crawler.parsing.limits import INPUT_BYTES
from crawler.parsing.readers import office
from crawler.parsing.sandbox import Limits, die_with_parent

log = logging.getLogger(__name__)

SIZE_ENV = "XXGK_OFFICE_POOL_SIZE"
DEFAULT_SIZE = 2  # one per core of a small machine; each LibreOffice holds ~150 MB
IDLE_ENV = "XXGK_OFFICE_POOL_IDLE"
DEFAULT_IDLE = 300.0  # seconds unused after which a LibreOffice is ended (started again when a DOC comes)
MAX_USES = 500  # conversions before a LibreOffice is replaced (its memory only grows)
START_SECONDS = 60.0  # for one LibreOffice to start and answer on its pipe
START_FAILURES = 3  # starts failing in a row before the pool stops trying (no python3-uno, no soffice)
FILTER = "MS Word 2007 XML"  # the cold run's docx filter (office.FILTERS)
FORMATS = ("doc", "wps", "rtf")
_PREFIX = "xxgk-office-pool-"
_STALE_UNLOCKED = 3600  # a pool directory whose broker never took its lock: removed after an hour


def size_from_env() -> int:
    try:
        return max(1, int(os.environ.get(SIZE_ENV, DEFAULT_SIZE)))
    except ValueError:
        return DEFAULT_SIZE


def idle_from_env() -> float:
    try:
        return max(1.0, float(os.environ.get(IDLE_ENV, DEFAULT_IDLE)))
    except ValueError:
        return DEFAULT_IDLE


# ---- the caller's side ---------------------------------------------------------------------------------------
@dataclass
class Pool:
    process: subprocess.Popen  # the broker
    root: Path
    address: str
    previous: str | None = None  # the XXGK_OFFICE_POOL this one replaced (a pool started inside another's run)

    def stop(self) -> None:
        """End the broker and its LibreOffice processes, remove the pool's directory. Idempotent."""
        if os.environ.get(office.POOL_ENV) == self.address:
            if self.previous is None:
                del os.environ[office.POOL_ENV]
            else:
                os.environ[office.POOL_ENV] = self.previous
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # the broker's signal to end
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        _remove(self.root)


def start(size: int | None = None, warm: bool = False) -> Pool | None:
    """Start a pool and point XXGK_OFFICE_POOL at it; None (with one logged line) when it cannot start, and
    documents then convert cold. `warm` starts every LibreOffice now and returns once they answer.

    Call it before the processes that parse are started (they inherit the address), and from a thread that
    lives as long as the pool, the main thread: the broker dies with the thread that started it."""
    size = size or size_from_env()
    root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=_parent()))
    process = office.start_pool(root, size, warm)
    answer = _line(process.stdout.fileno(), bytearray(), time.monotonic() + START_SECONDS * (2 if warm else 1))
    if not isinstance(answer, dict) or "ready" not in answer:
        Pool(process, root, "").stop()
        error = answer.get("error") if isinstance(answer, dict) else "no answer"
        log.warning("LibreOffice pool not started (%s); DOC/WPS/RTF convert cold", error)
        return None
    pool = Pool(process, root, answer["ready"], os.environ.get(office.POOL_ENV))
    os.environ[office.POOL_ENV] = pool.address
    return pool


@contextlib.contextmanager
def running(size: int | None = None, warm: bool = False) -> Iterator[Pool | None]:
    pool = start(size, warm)
    try:
        yield pool
    finally:
        if pool is not None:
            pool.stop()


def _parent() -> str:
    """The temporary directory, unless it is too deep for a Unix socket's path (108 bytes) below it."""
    parent = tempfile.gettempdir()
    return parent if len(parent) < 60 else "/tmp"


def _line(fd: int, buffer: bytearray, deadline: float, also: socket.socket | None = None):
    """The next JSON line from `fd`, or None at the deadline or its end; "gone" when `also` (a client waiting
    for the answer) closed its end first."""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        watched = [fd, also] if also is not None else [fd]
        ready = select.select(watched, [], [], max(0.0, left))[0] if left > 0 else []
        if not ready:
            return None
        if also is not None and also in ready:  # it sends nothing more: readable means it closed (or lies)
            return "gone"
        if fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    try:
        return json.loads(line)
    except ValueError:
        return None


def _remove(root: Path) -> None:
    """A pool directory, and the pipe sockets its LibreOffice processes left in /tmp."""
    for pipes in [root / "pipes", *root.glob("*/pipes")]:  # a LibreOffice's directory, or the pool's
        with contextlib.suppress(OSError):
            for path in pipes.read_text().split():
                if path.startswith("/tmp/OSL_PIPE_"):
                    Path(path).unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)


def _sweep(parent: Path, own: Path) -> None:
    """The directories of pools whose broker died without its cleanup (killed with its crawl)."""
    for root in parent.glob(f"{_PREFIX}*"):
        if root == own or not root.is_dir():
            continue
        try:
            with open(root / "lock", "rb") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held while its broker lives
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if root.stat().st_mtime < time.time() - _STALE_UNLOCKED:
                    _remove(root)
            continue
        except OSError:
            continue  # locked: that pool is running
        _remove(root)


# ---- the broker: one LibreOffice ------------------------------------------------------------------------------
class Worker:
    """One LibreOffice listening on its pipe, and its bridge; `dir` holds its profile and scratch files."""

    def __init__(self, root: Path, memory_mb: int):
        self.dir = Path(tempfile.mkdtemp(prefix="lo-", dir=root))
        self.memory_mb = memory_mb
        self.uses = 0
        self.last_used = time.monotonic()
        self.listener: subprocess.Popen | None = None
        self.bridge: subprocess.Popen | None = None
        self.pids: list[int] = []  # LibreOffice's processes (oosplash, soffice.bin)
        self._buffer = bytearray()

    def start(self) -> None:
        profile, scratch = self.dir / "profile", self.dir / "tmp"
        office.write_profile(profile)
        scratch.mkdir()
        pipe = f"xxgk-{uuid.uuid4().hex}"
        (self.dir / "pipes").write_text(f"/tmp/OSL_PIPE_{os.getuid()}_{pipe}")  # all of them once it is ready
        self.listener = office.start_listener(profile, pipe, scratch)
        with open(self.dir / "bridge.log", "wb") as stderr:
            self.bridge = office.start_bridge(pipe, self.listener.pid, stderr)
        answer = _line(self.bridge.stdout.fileno(), self._buffer, time.monotonic() + START_SECONDS)
        if not (isinstance(answer, dict) and answer.get("ready")):
            tail = (self.dir / "bridge.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"LibreOffice's UNO bridge did not start: {tail[0] if tail else 'no answer'}")
        self.pids = [pid for pid in _group(self.listener.pid) if pid != self.bridge.pid]
        (self.dir / "pipes").write_text("\n".join(_pipes(self.pids)))
        for pid in self.pids:  # before any document: what it holds now, plus what a parse may add
            with contextlib.suppress(OSError):
                limit = _address_space(pid) + (self.memory_mb << 20)
                resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))

    def alive(self) -> bool:
        return bool(self.pids) and self.bridge.poll() is None and all(map(_running, self.pids))

    def convert(self, src: Path, dst: Path, timeout: float, client: socket.socket) -> str:
        """ok, unreadable (LibreOffice could not load or store it), timeout, died, or gone (the client)."""
        request = {"in": str(src), "out": str(dst), "filter": FILTER}
        try:
            self.bridge.stdin.write(json.dumps(request).encode() + b"\n")
            self.bridge.stdin.flush()
        except OSError:
            return "died"
        answer = _line(self.bridge.stdout.fileno(), self._buffer, time.monotonic() + timeout, client)
        if answer == "gone":
            return "gone"
        if answer is None:
            return "died" if self.bridge.poll() is not None else "timeout"
        if answer.get("ok"):
            return "ok"
        if answer.get("error") in ("load", "store"):
            time.sleep(0.05)  # a LibreOffice that crashed on it fails the call a moment before it is gone
            return "unreadable" if self.alive() else "died"
        return "died"  # "uno": the bridge to LibreOffice broke mid-call

    def end(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.listener.pid, signal.SIGKILL)  # LibreOffice and the bridge
            for proc in (self.listener, self.bridge):
                if proc is not None:
                    proc.wait()
        _remove(self.dir)


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _address_space(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _pipes(pids: list[int]) -> list[str]:
    """The Unix sockets these processes listen on (LibreOffice's pipes are /tmp/OSL_PIPE_<uid>_<name>; a killed
    LibreOffice leaves them behind)."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    paths = []
    with contextlib.suppress(OSError), open("/proc/net/unix") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("/tmp/OSL_PIPE_"):
                paths.append(fields[7])
    return sorted(set(paths))  # a socket shows once per process holding it


# ---- the broker: the pool -------------------------------------------------------------------------------------
class Broker:
    def __init__(self, root: Path, size: int):
        self.root = root
        self.size = size
        self.memory_mb = Limits.from_env().memory_mb
        self.idle_seconds = idle_from_env()
        self.changed = threading.Condition()
        self.idle: list[Worker] = []
        self.workers: set[Worker] = set()  # idle, busy and starting
        self.failures = 0  # starts that failed in a row
        self.error = ""
        self.closing = False

    # -- workers
    def _spawn_later(self) -> None:
        """Start one more LibreOffice, in a thread of its own (it takes a second); counted from now on."""
        with self.changed:
            if self.closing:
                return
            worker = Worker(self.root, self.memory_mb)
            self.workers.add(worker)
        threading.Thread(target=self._spawn, args=(worker,), daemon=True).start()

    def _spawn(self, worker: Worker) -> None:
        try:
            worker.start()
        except Exception as e:
            worker.end()
            with self.changed:
                self.workers.discard(worker)
                self.failures += 1
                self.error = str(e)
                self.changed.notify_all()
            return
        with self.changed:
            self.failures = 0
            self.idle.append(worker)
            self.changed.notify_all()

    def warm(self) -> None:
        """Start every LibreOffice now; return once each answered or failed."""
        for _ in range(self.size):
            self._spawn_later()
        with self.changed:
            while len(self.idle) < len(self.workers):
                self.changed.wait()

    def acquire(self, deadline: float) -> Worker | None:
        with self.changed:
            while not self.idle:
                if self.failures >= START_FAILURES:
                    return None
                if len(self.workers) < self.size:
                    self._spawn_later()  # the condition's lock is reentrant
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 1.0))
            return self.idle.pop()

    def release(self, worker: Worker, healthy: bool) -> None:
        worker.uses += 1
        worker.last_used = time.monotonic()
        if healthy and worker.uses < MAX_USES and worker.alive():
            with self.changed:
                self.idle.append(worker)
                self.changed.notify_all()
            return
        self._replace(worker)

    def _replace(self, worker: Worker) -> None:
        worker.end()
        with self.changed:
            self.workers.discard(worker)
        self._spawn_later()

    def watch(self) -> None:
        """Replace the idle LibreOffice processes that died (killed, crashed); end those long unused."""
        while True:
            time.sleep(0.5)
            with self.changed:
                dead = [w for w in self.idle if not w.alive()]
                unused = [w for w in self.idle if w not in dead and time.monotonic() - w.last_used > self.idle_seconds]
                for w in dead + unused:
                    self.idle.remove(w)
                self.workers.difference_update(unused)
            for w in dead:
                self._replace(w)
            for w in unused:
                w.end()

    def shutdown(self) -> None:
        with self.changed:
            self.closing = True
            workers = list(self.workers)
        for w in workers:
            w.end()

    # -- one client
    def handle(self, client: socket.socket) -> None:
        with client:
            try:
                request = json.loads(office.read_line(client) or b"null")
                size, fmt, timeout = int(request["size"]), request["fmt"], float(request["timeout"])
                if size > INPUT_BYTES or fmt not in FORMATS:
                    return
                data = office.read_exactly(client, size)
            except (OSError, ValueError, KeyError, TypeError):
                return
            header, payload = self._convert(data, fmt, timeout, client)
            with contextlib.suppress(OSError):
                client.sendall(json.dumps(header).encode() + b"\n" + payload)

    def _convert(self, data: bytes, fmt: str, timeout: float, client: socket.socket) -> tuple[dict, bytes]:
        for _attempt in range(2):  # a document that kills LibreOffice gets a second, fresh one
            worker = self.acquire(time.monotonic() + office.POOL_WAIT)
            if worker is None:
                return {"error": "busy", "message": self.error}, b""
            src, dst = worker.dir / f"report.{fmt}", worker.dir / "report.docx"
            try:
                src.write_bytes(data)
                dst.unlink(missing_ok=True)
                outcome = worker.convert(src, dst, timeout, client)
                size = dst.stat().st_size if outcome == "ok" and dst.is_file() else 0
                payload = dst.read_bytes() if 0 < size <= INPUT_BYTES else b""
            finally:
                src.unlink(missing_ok=True)
                dst.unlink(missing_ok=True)
            self.release(worker, outcome in ("ok", "unreadable"))
            if outcome == "ok":
                if size > INPUT_BYTES:
                    return {"error": "too_large"}, b""
                return ({"size": size}, payload) if payload else ({"error": "unreadable"}, b"")
            if outcome != "died":
                return {"error": outcome}, b""
        return {"error": "died"}, b""


def _serve(listener: socket.socket, broker: Broker) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=broker.handle, args=(client,), daemon=True).start()


def main(argv: list[str]) -> None:
    """`python -m crawler.parsing.office_pool ROOT SIZE [--warm]`: serve until stdin ends (see Pool.stop)."""
    root, size, warm = Path(argv[0]), int(argv[1]), "--warm" in argv
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides when the pool ends
    lock = open(root / "lock", "wb")  # noqa: SIM115  (held for the broker's life)
    fcntl.flock(lock, fcntl.LOCK_EX)
    _sweep(root.parent, root)
    address = str(root / "pool.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    os.chmod(address, 0o600)
    listener.listen(64)
    broker = Broker(root, size)
    if warm:
        broker.warm()
        if not broker.idle:
            print(json.dumps({"error": broker.error}), flush=True)
            broker.shutdown()
            return
    threading.Thread(target=_serve, args=(listener, broker), daemon=True).start()
    threading.Thread(target=broker.watch, daemon=True).start()
    print(json.dumps({"ready": address}), flush=True)
    sys.stdin.buffer.read()  # until the caller closes it, or dies
    broker.shutdown()
    _remove(root)


if __name__ == "__main__":
    main(sys.argv[1:])
