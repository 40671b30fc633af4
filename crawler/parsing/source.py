"""Reading a document from a path: regular files only, and never more than INPUT_BYTES.

`xxgk parse` and `xxgk import` take whatever path they are given. A symlink to /dev/zero would be read until
memory runs out, and a FIFO would block forever on open; neither is a document.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from crawler.model import ParseError
from crawler.parsing import limits


def read_file(path: str | Path) -> bytes:
    """The bytes of the regular file at `path`, or ParseError (`unreadable`, `too_large`) in one line."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without waiting for a writer
    except OSError as e:
        raise ParseError("unreadable", f"{p}: cannot read file ({e.strerror})") from e
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ParseError("unreadable", f"{p}: not a regular file ({_kind(st.st_mode)})")
    if st.st_size > limits.INPUT_BYTES:
        os.close(fd)
        raise _too_large(p)
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limits.INPUT_BYTES + 1)  # the file may grow while it is read
        except OSError as e:
            raise ParseError("unreadable", f"{p}: cannot read file ({e.strerror})") from e
    if len(data) > limits.INPUT_BYTES:
        raise _too_large(p)
    return data


def _too_large(p: Path) -> ParseError:
    return limits.too_large(f"{p} is larger than {limits.INPUT_BYTES >> 20} MB")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"
