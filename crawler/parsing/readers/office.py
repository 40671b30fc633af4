"""DOC/WPS/RTF: LibreOffice headless converts to DOCX in a throwaway directory, then read_docx.

Each run gets its own LibreOffice profile (parallel runs sharing one fail silently), with macro
execution switched off in it, and a timeout that kills the whole process group (soffice forks
soffice.bin). The group stays in the caller's session, so that the parse sandbox, which kills a
parse by its session, ends LibreOffice with it. Downloaded files are only ever converted, never run.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import olefile

from crawler.model import ParseError
from crawler.parsing.document import Document
from crawler.parsing.readers.docx import read_docx

DEFAULT_TIMEOUT = 60.0
FILTERS = {"docx": "docx:MS Word 2007 XML", "doc": "doc:MS Word 97", "pdf": "pdf:writer_pdf_Export"}

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


def convert(sources: list[Path], target: str, outdir: Path, timeout: float | None = None) -> None:
    """Convert `sources` to `target` (docx, doc, pdf) into `outdir` with one LibreOffice run.

    Raises ParseError('timeout') when the run overstays; callers check for the files they expect
    (LibreOffice exits 0 even when it could not load a source).
    """
    timeout = timeout_from_env() if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_NO_MACROS, encoding="utf-8")
        cmd = [
            "soffice",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            FILTERS.get(target, target),
            "--outdir",
            str(outdir),
            *map(str, sources),
        ]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                process_group=0,  # its own process group, so a timeout can end all of it
                env={**os.environ, "HOME": profile},
            )
        except FileNotFoundError as e:
            raise ParseError("unsupported", "LibreOffice (soffice) is not installed; cannot read this format") from e
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise ParseError("timeout", f"LibreOffice did not finish converting within {timeout:g} s") from e


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


def read_office(data: bytes, fmt: str, timeout: float | None = None) -> Document:
    if fmt in ("doc", "wps"):
        _check_compound(data, fmt)
    with tempfile.TemporaryDirectory(prefix="xxgk-office-") as tmp:
        src = Path(tmp) / f"report.{fmt}"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        out.mkdir()
        convert([src], "docx", out, timeout)
        converted = out / "report.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            raise ParseError("unreadable", f"LibreOffice could not read the {fmt.upper()} file")
        doc = read_docx(converted.read_bytes())
    doc.format = fmt
    return doc
