"""DOC/WPS/RTF: LibreOffice headless converts to DOCX, then read_docx.

Two ways to LibreOffice, the same filter and the same answers. When a pool of long-lived LibreOffice processes
runs (crawler/parsing/office_pool.py; its socket in XXGK_OFFICE_POOL), the bytes go to it over that Unix socket
and the DOCX comes back in about 0.03 s. Otherwise, and whenever the pool cannot take the document, one cold
`soffice --convert-to` runs here (1-3 s, most of it LibreOffice starting).

The cold run gets its own LibreOffice profile (parallel runs sharing one fail silently), with macro execution
switched off in it, and a timeout that kills the whole process group (soffice forks soffice.bin). The group
stays in the caller's session, so that the parse sandbox, which kills a parse by its session, ends LibreOffice
with it. Downloaded files are only ever converted, never run.

Every process xxgk starts for LibreOffice is started here, the pool's included (`start_listener`,
`start_bridge`, `start_pool`), so that this module alone says what runs.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import olefile

from crawler.model import ParseError
from crawler.parsing.document import Document
from crawler.parsing.limits import INPUT_BYTES, too_large
from crawler.parsing.readers.docx import read_docx

DEFAULT_TIMEOUT = 60.0
FILTERS = {"docx": "docx:MS Word 2007 XML", "doc": "doc:MS Word 97", "pdf": "pdf:writer_pdf_Export"}
POOL_ENV = "XXGK_OFFICE_POOL"  # the pool's socket; unset: no pool, the cold path
UNO_PYTHON_ENV = "XXGK_UNO_PYTHON"  # the Python with LibreOffice's UNO bindings (Debian: python3-uno)
UNO_PYTHON = "/usr/bin/python3"
POOL_WAIT = 60.0  # what a conversion may wait for a pool process to be free or started, besides its own timeout
HEADER_BYTES = 4096  # one JSON line before the bytes, each way
_BRIDGE = Path(__file__).resolve().parent.parent / "office_bridge.py"

# Written into the fresh profile: never run document macros, whatever the build's default.
_NO_MACROS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def timeout_from_env() -> float:
    try:
        return float(os.environ.get("XXGK_SOFFICE_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def write_profile(profile: Path) -> None:
    """A fresh LibreOffice profile in `profile` with macro execution off."""
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_NO_MACROS, encoding="utf-8")


def _soffice(profile: Path, *args: str) -> list[str]:
    return [
        "soffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        *args,
    ]


def _start(cmd: list[str], **popen) -> subprocess.Popen:
    try:
        return subprocess.Popen(cmd, **popen)
    except FileNotFoundError as e:
        raise ParseError("unsupported", f"{cmd[0]} is not installed; cannot read this format (LibreOffice)") from e


def convert(sources: list[Path], target: str, outdir: Path, timeout: float | None = None) -> None:
    """Convert `sources` to `target` (docx, doc, pdf) into `outdir` with one cold LibreOffice run.

    Raises ParseError('timeout') when the run overstays; callers check for the files they expect
    (LibreOffice exits 0 even when it could not load a source).
    """
    timeout = timeout_from_env() if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-profile-") as profile:
        write_profile(Path(profile))
        cmd = _soffice(Path(profile), "--convert-to", FILTERS.get(target, target), "--outdir", str(outdir))
        proc = _start(
            [*cmd, *map(str, sources)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,  # its own process group, so a timeout can end all of it
            env={**os.environ, "HOME": profile},
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise ParseError("timeout", f"LibreOffice did not finish converting within {timeout:g} s") from e


# ---- the pool's processes (crawler/parsing/office_pool.py runs them) ----------------------------------------
def start_listener(profile: Path, pipe: str, tmp: Path) -> subprocess.Popen:
    """A long-lived LibreOffice listening for UNO on the local pipe `pipe`, in a process group of its own."""
    return _start(
        _soffice(profile, f"--accept=pipe,name={pipe};urp;"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
        env={**os.environ, "HOME": str(profile), "TMPDIR": str(tmp)},
    )


def start_bridge(pipe: str, group: int, stderr) -> subprocess.Popen:
    """crawler/parsing/office_bridge.py under the UNO Python, in LibreOffice's process group `group`."""
    python = os.environ.get(UNO_PYTHON_ENV, UNO_PYTHON)
    return _start(
        [python, "-I", str(_BRIDGE), pipe],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        process_group=group,
    )


def start_pool(root: Path, size: int, warm: bool) -> subprocess.Popen:
    """The pool's broker (`python -m crawler.parsing.office_pool`) in a session of its own, serving in `root`."""
    args = [sys.executable, "-m", "crawler.parsing.office_pool", str(root), str(size), *(["--warm"] if warm else [])]
    return _start(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)


# ---- the pool's client: what a parse (in its sandbox) asks -----------------------------------------------------
def read_line(sock: socket.socket, limit: int = HEADER_BYTES) -> bytes:
    """One line from `sock`, refused past `limit` bytes; b"" when the other end closed first."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            return b""
        line += byte
        if len(line) > limit:
            raise ConnectionError("header line too long")
    return bytes(line)


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(1 << 20, size - len(data)))
        if not chunk:
            raise ConnectionError("closed before the end")
        data += chunk
    return bytes(data)


def _pool_convert(data: bytes, fmt: str, timeout: float) -> bytes | None:
    """The DOCX of `data` from the pool, or None when no pool runs or it cannot take the document (the caller
    then converts cold). Raises the document's ParseError when the pool converted it and it failed."""
    address = os.environ.get(POOL_ENV)
    if not address:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout + POOL_WAIT + 10)  # the pool's own deadlines come first
            sock.connect(address)
            request = {"fmt": fmt, "timeout": timeout, "size": len(data)}
            sock.sendall(json.dumps(request).encode() + b"\n" + data)
            answer = json.loads(read_line(sock) or b"null")
            if not isinstance(answer, dict):
                return None  # the pool ended meanwhile
            if "size" in answer:
                size = int(answer["size"])
                if size > INPUT_BYTES:  # what the pool sends is as untrusted as what LibreOffice wrote
                    raise too_large(f"LibreOffice's conversion is more than {INPUT_BYTES >> 20} MB")
                return read_exactly(sock, size)
    except (OSError, ValueError):  # no pool at that address, or it died mid-answer
        return None
    error = answer.get("error")
    if error == "timeout":
        raise ParseError("timeout", f"LibreOffice did not finish converting within {timeout:g} s")
    if error == "unreadable":
        raise ParseError("unreadable", f"LibreOffice could not read the {fmt.upper()} file")
    if error == "died":
        raise ParseError("parser_error", f"LibreOffice died converting the {fmt.upper()} file (twice)")
    if error == "too_large":
        raise too_large(f"LibreOffice's conversion is more than {INPUT_BYTES >> 20} MB")
    return None  # busy, or no LibreOffice process could start


def _check_compound(data: bytes, fmt: str) -> None:
    """DOC and WPS are OLE compound files. One that olefile cannot open is damaged: LibreOffice
    would import its bytes as plain text and yield gibberish. A password-protected file (an
    encrypted OOXML package inside OLE, or a Word file with fEncrypted in its FIB) is named as such,
    where LibreOffice would only fail without saying why."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                raise ParseError("encrypted", "the file is an encrypted Office document (password required)")
            if ole.exists("WordDocument"):
                fib = ole.openstream("WordDocument").read(12)
                if len(fib) >= 12 and int.from_bytes(fib[10:12], "little") & 0x0100:
                    raise ParseError("encrypted", "the Word document is encrypted (password required)")
    except ParseError:
        raise
    except Exception as e:  # olefile raises assorted errors on damage
        raise ParseError("unreadable", f"the {fmt.upper()} file is damaged (not a readable compound file: {e})") from e


def _cold_convert(data: bytes, fmt: str, timeout: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="xxgk-office-") as tmp:
        src = Path(tmp) / f"report.{fmt}"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        out.mkdir()
        convert([src], "docx", out, timeout)
        converted = out / "report.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            return b""
        if converted.stat().st_size > INPUT_BYTES:
            raise too_large(f"LibreOffice's conversion is more than {INPUT_BYTES >> 20} MB")
        return converted.read_bytes()


def read_office(data: bytes, fmt: str, timeout: float | None = None) -> Document:
    if fmt in ("doc", "wps"):
        _check_compound(data, fmt)
    timeout = timeout_from_env() if timeout is None else timeout
    converted = _pool_convert(data, fmt, timeout)
    if converted is None:
        converted = _cold_convert(data, fmt, timeout)
    if not converted:
        raise ParseError("unreadable", f"LibreOffice could not read the {fmt.upper()} file")
    doc = read_docx(converted)
    doc.format = fmt
    return doc
