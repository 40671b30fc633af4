"""Original documents, stored once by content hash in a folder beside the database.

`<db stem>-documents/ab/cd/<sha256>`: the name is the content, so a file is never rewritten and
the same bytes fetched twice (or from two URLs) are kept once. A file appears under its final name
only when complete (written to a temporary name in `.incoming/`, flushed to disk, then linked into
place). A write killed midway (kill -9, a full disk) leaves its temporary file behind; opening the
store removes those older than a day, which no write in progress can be.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

STAGING = ".incoming"  # the folder of writes in progress, beside the ab/ shards
TEMP_PREFIX = ".incoming-"
STALE_SECONDS = 24 * 3600


def store_dir_for(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(f"{p.stem}-documents")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: str  # relative to the store folder
    bytes: int
    is_new: bool  # False when these bytes were already in the store


class DocumentStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.staging = self.root / STAGING
        _remove_stale(self.staging.glob(f"{TEMP_PREFIX}*"))  # one small folder: cheap at every open

    def path_of(self, sha256: str) -> Path:
        return self.root / relative_path(sha256)

    def put(self, data: bytes) -> StoredFile:
        sha = sha256_of(data)
        rel = relative_path(sha)
        final = self.root / rel
        if final.exists():
            return StoredFile(sha, rel, len(data), False)
        final.parent.mkdir(parents=True, exist_ok=True)
        if not self.staging.is_dir():
            self.staging.mkdir(exist_ok=True)
            # A store written before the staging folder kept its temporary files in the shards: look once.
            _remove_stale(self.root.glob(f"??/??/{TEMP_PREFIX}*"))
        fd, tmp = tempfile.mkstemp(dir=self.staging, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            try:
                # link() refuses to replace: a concurrent writer of the same bytes wins, and that is fine.
                os.link(tmp, final)
                is_new = True
            except FileExistsError:
                is_new = False
        finally:
            os.unlink(tmp)
        return StoredFile(sha, rel, len(data), is_new)

    def read(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()


def _remove_stale(paths: Iterable[Path]) -> None:
    """Remove the temporary files among `paths` older than a day; a read-only store keeps them."""
    cutoff = time.time() - STALE_SECONDS
    try:
        for path in paths:
            try:
                if path.lstat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue
    except OSError:  # the folder cannot be listed
        pass
