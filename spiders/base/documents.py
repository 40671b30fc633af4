"""Fetched attachments: which formats are reports, and the members of a zip, read safely.

The type always comes from the bytes (crawler.parsing.sniff), never from the file name: portals serve PDFs
as `.htm`, Word files as `.wps`, and HTML error pages as `.pdf`.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from crawler.parsing.sniff import sniff

logger = logging.getLogger(__name__)

# Formats an attachment may hold a report in. An attachment that sniffs as html/empty/binary is a portal's
# error page or something else, kept for provenance but not parsed as a report.
REPORT_FORMATS = ("pdf", "docx", "doc", "wps", "xls", "xlsx", "rtf", "ofd", "markdown", "text")
# Which rendition of one report to parse when a page offers several: the one readers handle best.
FORMAT_PREFERENCE = {
    "docx": 0,
    "pdf": 1,
    "doc": 2,
    "wps": 3,
    "xlsx": 4,
    "xls": 5,
    "rtf": 6,
    "ofd": 7,
    "md": 8,
    "zip": 9,
}


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes
    format: str


class UnsafeArchive(Exception):
    pass


def _member_name(info: zipfile.ZipInfo) -> str:
    """Chinese zips made on Windows store GBK names without the UTF-8 flag; zipfile reads them as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def zip_members(data: bytes, *, max_members: int, max_total: int) -> list[Member]:
    """The report-format members of a zip, nested folders flattened, read in memory with limits: at most
    `max_members` files and `max_total` uncompressed bytes, each member checked against its declared size
    while reading (a zip bomb lies about it). Nothing is written to disk, so member paths cannot escape."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise UnsafeArchive(f"not a readable zip: {e}") from e
    out: list[Member] = []
    total = 0
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > max_members:
        raise UnsafeArchive(f"{len(infos)} members, more than the limit of {max_members}")
    declared = sum(i.file_size for i in infos)
    if declared > max_total:
        raise UnsafeArchive(f"{declared} bytes uncompressed, more than the limit of {max_total}")
    for info in infos:
        if info.flag_bits & 0x1:
            logger.warning("zip member %s is encrypted: skipped", info.filename)
            continue
        if total + info.file_size > max_total:
            raise UnsafeArchive(f"more than {max_total} bytes uncompressed")
        with archive.open(info) as f:
            body = f.read(info.file_size + 1)
        if len(body) > info.file_size:
            raise UnsafeArchive(f"member {info.filename} is larger than it declares")
        total += len(body)
        fmt = sniff(body)
        name = _member_name(info)
        if PurePosixPath(name).name.startswith(("._", "~$")):
            continue  # macOS resource forks, Word lock files
        if fmt in REPORT_FORMATS or fmt == "html":
            out.append(Member(name, body, fmt))
    return out
