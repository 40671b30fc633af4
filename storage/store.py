"""Original documents, stored once by content hash in a folder beside the database.

`<db stem>-documents/ab/cd/<sha256>`: the name is the content, so a file is never rewritten and
the same bytes fetched twice (or from two URLs) are kept once. A file appears under its final name
only when complete (written to a temporary name in `.incoming/`, flushed to disk, then linked into
place, and the folder that gained the name flushed too). A write killed midway (kill -9, a full disk)
leaves its temporary file behind; opening the store removes those older than a day, which no write in
progress can be.

`put_many()` stores a batch (a group commit's originals) with two waits for the disk: every file is
written first, then all are flushed at once, linked into place, and the new names flushed at once (one
syncfs(2) each on Linux, else an fsync per file and folder; a single document's file and folders are
fsync'd). `plan()` and `land()` split that in two: what the files will be, at once, and writing them, which a
group commit runs in a thread beside its SQL. Waiting for the disk file by file is what made one report per transaction slow (bench/archive.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import secrets
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
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
        self._folders: set[Path] = set()  # shard folders known to exist (a mkdir each time costs a system call)
        _remove_stale(self.staging.glob(f"{TEMP_PREFIX}*"))  # one small folder: cheap at every open

    def path_of(self, sha256: str) -> Path:
        return self.root / relative_path(sha256)

    def put(self, data: bytes) -> StoredFile:
        return self.put_many([data])[0]

    def put_many(self, datas: Iterable[bytes]) -> list[StoredFile]:
        """Store every document of `datas` (once per sha256, duplicates within the batch included), each on
        disk under its final name when this returns. A failure (a full disk) raises, leaving no partial file
        under a final name."""
        planned, new = self.plan(datas)
        return not_new(planned, self.land(new))

    def plan(self, datas: Iterable[bytes]) -> tuple[list[StoredFile], dict[str, bytes]]:
        """What storing `datas` will give (their StoredFiles, each new unless already in the store or earlier in
        `datas`), and the new originals (sha256 → bytes) for land(): a group commit lands them while it
        writes its rows, and waits for the landing before its COMMIT."""
        out: list[StoredFile] = []
        new: dict[str, bytes] = {}
        for data in datas:
            sha = sha256_of(data)
            rel = relative_path(sha)
            is_new = sha not in new and not (self.root / rel).exists()
            if is_new:
                new[sha] = data
            out.append(StoredFile(sha, rel, len(data), is_new))
        return out, new

    def land(self, new: dict[str, bytes]) -> set[str]:
        """The originals `new` (sha256 → bytes, from plan()) on disk under their final names; returns the
        sha256s another writer stored first (their files are that writer's, the same bytes). A failure (a full
        disk) raises, leaving no partial file under a final name."""
        temps: dict[str, str] = {}  # sha256 → temporary file
        try:
            for sha, data in new.items():
                temps[sha] = self._write_temporary(data)
            batch = len(temps) > 1
            self._sync(temps.values(), batch=batch)  # the bytes on disk before any name points at them
            folders: set[Path] = set()
            lost: set[str] = set()
            for sha, tmp in temps.items():
                final = self.path_of(sha)
                folders |= self._make_folders(final.parent)
                try:
                    # link() refuses to replace: a concurrent writer of the same bytes wins, and that is fine.
                    os.link(tmp, final)
                    folders.add(final.parent)
                except FileExistsError:
                    lost.add(sha)
            self._sync(folders, batch=batch)  # the new names on disk before any row can point at them
        finally:
            for tmp in temps.values():
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        return lost

    def _sync(self, paths: Iterable[str | Path], *, batch: bool) -> None:
        """Flush `paths` (files, folders) to disk. For a batch, on Linux, one syncfs(2) of the store's filesystem
        does it for all: an fsync per file waits for one journal commit each (several ms on a busy disk),
        syncfs for one. One document's paths are fsync'd: syncfs would also wait for the rest of the
        filesystem's dirty data."""
        paths = list(paths)
        if not paths:
            return
        if _SYNCFS is None or not batch:
            for path in paths:
                _fsync(path)
            return
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _SYNCFS(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs {self.root}: {os.strerror(err)}")
        finally:
            os.close(fd)

    def _write_temporary(self, data: bytes) -> str:
        if not self.staging.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            self.staging.mkdir(exist_ok=True)
            # A store written before the staging folder kept its temporary files in the shards: look once.
            _remove_stale(self.root.glob(f"??/??/{TEMP_PREFIX}*"))
        while True:
            tmp = str(self.staging / f"{TEMP_PREFIX}{secrets.token_hex(8)}")
            try:
                # Read-only from the start (the open descriptor still writes): no chmod, one metadata change less.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o444)
                break
            except FileExistsError:
                continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def _make_folders(self, folder: Path) -> set[Path]:
        """Create the shard folders ab/ and ab/cd/ as needed; returns the folders whose listing changed."""
        if folder in self._folders:
            return set()
        changed = set()
        for f in (folder.parent, folder):
            try:
                f.mkdir()
                changed.add(f.parent)
            except FileExistsError:
                pass
        self._folders.add(folder)
        return changed

    def read(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()


def not_new(stored: list[StoredFile], lost: set[str]) -> list[StoredFile]:
    """`stored` with the originals another writer landed first marked not new."""
    return [replace(s, is_new=False) if s.sha256 in lost else s for s in stored]


def _syncfs():
    """libc's syncfs(2) (Linux; it reports write-back errors since 5.8), or None."""
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _syncfs() if sys.platform.startswith("linux") else None


def _fsync(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
