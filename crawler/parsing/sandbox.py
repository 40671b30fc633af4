"""Each parse in a forked child, with a memory limit and a time limit.

The readers refuse what they can measure (crawler/parsing/limits.py); this is for what they cannot: a bug,
pdfium's internals, a bomb nobody thought of. Such a parse must cost one document, never the process that
asked for it: in a crawl the archive worker would die with its queue, the document would never be stored, and
every later run would fetch it again. So the parse runs in a child forked for it. RLIMIT_AS caps what the
child may add to the address space it inherited (XXGK_PARSE_MEMORY_MB, default 1536), and the parent kills it
after XXGK_PARSE_TIMEOUT seconds (default 120; a parse with OCR on gets 15 times as long). However the child
ends becomes the document's answer: its report, its ParseError, `too_large` when memory ran out (a MemoryError,
or an abort: pdfium and C++ code abort when an allocation is refused), `timeout`, and `parser_error` for any
other crash.

The child starts warm: the parent imports the reader of the document's format before it forks (once per
process), so the child only parses: a seed that takes 5 ms of CPU in-process takes about 15 ms sandboxed
(fork, copy-on-write, the pipe), a real PDF 30 ms rather than 45 ms. The child runs in a session of
its own, so that a kill reaches what it started (LibreOffice, tesseract) and a terminal's Ctrl-C reaches only
the parent; it dies with its parent (PR_SET_PDEATHSIG); and it keeps its temporary files (a LibreOffice
profile, OCR renderings) in a directory of its own, which the parent removes however the child ended. Such
directories outlive only a parent that was killed itself; those older than a day are removed by the next
parse.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import pickle
import resource
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from crawler.model import ParseError
from crawler.parsing.readers import reader
from crawler.parsing.sniff import sniff

T = TypeVar("T")

DEFAULT_MEMORY_MB = 1536
DEFAULT_TIMEOUT = 120.0
OCR_TIME_FACTOR = 15  # tesseract takes seconds a page, and a scanned report has dozens
STALE_SECONDS = 24 * 3600
_PREFIX = "xxgk-parse-"
_MEMORY_SIGNALS = {signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGTRAP, signal.SIGKILL}


@dataclass(frozen=True)
class Limits:
    memory_mb: int  # address space the parse may add to what its process holds
    seconds: float

    @classmethod
    def from_env(cls, ocr: bool = False) -> Limits:
        memory = _env_number("XXGK_PARSE_MEMORY_MB", DEFAULT_MEMORY_MB)
        seconds = _env_number("XXGK_PARSE_TIMEOUT", DEFAULT_TIMEOUT)
        return cls(int(memory), seconds * (OCR_TIME_FACTOR if ocr else 1))


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def run(fn: Callable[..., T], data: bytes, **options) -> T:
    """`fn(data, **options)` in a forked child under the limits. Returns what it returned; raises its
    ParseError, or the ParseError its end amounts to. A format xxgk does not read is refused here, unforked."""
    fmt = sniff(data)
    reader(fmt)  # imported here, so that the child inherits it loaded
    limits = Limits.from_env(ocr=(fmt == "pdf" and _ocr(options)) or (fmt == "html" and bool(options.get("images"))))
    _remove_stale_dirs()
    tmp = tempfile.mkdtemp(prefix=_PREFIX)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except BaseException:
        for fd in (read_end, write_end):
            os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if pid == 0:
        os.close(read_end)
        _child(write_end, tmp, limits, fn, data, options)  # never returns
    os.close(write_end)
    payload = None
    try:
        payload = _receive(read_end, time.monotonic() + limits.seconds)
    finally:
        os.close(read_end)
        if payload is None:  # past the deadline, or interrupted: the child must not outlive this call
            _kill(pid)
        ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # not reaped yet: its pid stays its own
        if ended.si_code != os.CLD_EXITED:
            _kill(pid)  # what it started may still run
        status = os.waitpid(pid, 0)[1]
        shutil.rmtree(tmp, ignore_errors=True)
    if payload is None:
        raise ParseError("timeout", f"parsing took longer than {limits.seconds:g} s (XXGK_PARSE_TIMEOUT); stopped")
    return _outcome(payload, status, limits)


def _ocr(options: dict) -> bool:
    from crawler.parsing.readers.pdf import ocr_enabled  # loaded already: the document is a PDF

    return ocr_enabled(options.get("ocr"))  # None: the default (on unless XXGK_OCR says off)


# ---- the child -------------------------------------------------------------------------------------------
def _child(out: int, tmp: str, limits: Limits, fn: Callable, data: bytes, options: dict) -> None:
    try:
        gc.freeze()  # the inherited heap is never collected here: a collection would copy every page of it
        os.setsid()
        die_with_parent()
        for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers are the parent's business
            signal.signal(sig, signal.SIG_DFL)
        os.environ["TMPDIR"] = tempfile.tempdir = tmp
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = _address_space() + (limits.memory_mb << 20)
        resource.setrlimit(resource.RLIMIT_AS, (wanted if soft == resource.RLIM_INFINITY else min(wanted, soft), hard))
        try:
            result: tuple = ("ok", fn(data, **options))
        except ParseError as e:
            result = ("error", e.reason, str(e))
        except MemoryError:
            result = ("memory",)
        except Exception as e:  # a reader bug: the document is kept with it as its reason
            result = ("crash", f"{type(e).__name__}: {e}")
        try:
            blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            blob = pickle.dumps(("memory",))
        view = memoryview(blob)
        while view:
            view = view[os.write(out, view) :]
    finally:
        os._exit(0)


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (a SIGKILLed crawl leaves nothing behind)."""
    parent = os.getppid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


# ---- the parent ------------------------------------------------------------------------------------------
def _receive(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe, or None at the deadline."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(sid: int) -> None:
    """SIGKILL every process of the child's session: the child, and LibreOffice in its own process group."""
    try:
        os.kill(sid, signal.SIGKILL)  # first the child itself, in case it had no session of its own yet
    except ProcessLookupError:
        pass
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == sid and fields[0] != b"Z":
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _outcome(payload: bytes, status: int, limits: Limits):
    if payload:
        try:
            result = pickle.loads(payload)
        except Exception:  # a child killed while writing
            result = None
        if result is not None:
            kind = result[0]
            if kind == "ok":
                return result[1]
            if kind == "error":
                raise ParseError(result[1], result[2])
            if kind == "memory":
                raise ParseError("too_large", f"reading it needs more than {limits.memory_mb} MB of memory")
            raise ParseError("parser_error", result[1][:300])
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig in _MEMORY_SIGNALS:
            raise ParseError("too_large", f"the parse died ({name}) under its {limits.memory_mb} MB memory limit")
        raise ParseError("parser_error", f"the parse crashed ({name})")
    raise ParseError(
        "parser_error", f"the parse ended without an answer (exit status {os.waitstatus_to_exitcode(status)})"
    )


@functools.cache
def _remove_stale_dirs() -> None:
    """Once per process: the temporary directories of parses whose parent was killed, older than a day."""
    cutoff = time.time() - STALE_SECONDS
    for path in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
