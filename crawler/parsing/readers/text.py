"""Plain or linearised text: one cell per line (tab-prefixed, rows split by blank lines),
or rows on one line with cells separated by tabs or spaces, markdown included."""

from __future__ import annotations

import re

from crawler.parsing.document import Document, Table

_CELL_LINE = re.compile(r"^\t[^\t]*$")


def decode(data: bytes) -> str:
    """Bytes to text: BOMs and UTF-8 first, then detection (GBK/GB18030 are common)."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        return str(best) if best else data.decode("gb18030", errors="replace")


def _cell_per_line(lines: list[str]) -> list[str | Table]:
    blocks: list[str | Table] = []
    rows: list[list[str | None]] = []
    cur: list[str | None] | None = None
    prev = "blank"

    def flush() -> None:
        nonlocal rows, cur
        if cur:
            rows.append(cur)
        if rows:
            blocks.append(Table(rows))
        rows, cur = [], None

    for line in lines:
        if line.startswith("\t"):
            if cur is None:
                cur = []
            cur.extend(line[1:].split("\t"))
            prev = "cell"
        elif not line.strip():
            if cur is not None:
                rows.append(cur)
                cur = None
            prev = "blank"
        elif prev == "cell" and cur:
            cur[-1] = f"{cur[-1]}\n{line}"  # a line break inside a cell
        else:
            flush()
            blocks.append(line)
            prev = "text"
    flush()
    return blocks


def read_text(data: bytes | str, fmt: str = "text") -> Document:
    text = data if isinstance(data, str) else decode(data)
    # NUL bytes (damaged or UTF-16-mangled files) carry nothing; left in, one at the start of a
    # cell line hides its tab and shifts every value after it.
    text = text.replace("\x00", "")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if sum(1 for ln in lines if _CELL_LINE.match(ln)) >= 30:
        return Document(_cell_per_line(lines), fmt)
    return Document([ln for ln in lines if ln.strip()], fmt)
