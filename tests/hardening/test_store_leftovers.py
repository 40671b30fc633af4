"""What a write killed midway leaves in the document store (`.incoming-*`) is removed once it is a day old.

A kill -9 or a full disk between writing the temporary file and linking it into place leaves the file behind.
Opening the archive removes those older than a day (no write in progress is that old) and keeps younger ones
(a concurrent writer's); a store written before the staging folder existed is swept once, at its first write.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from storage import Archive, store_dir_for

DAY = 24 * 3600


def _leftover(path: Path, age: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a document")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_temporary_files_older_than_a_day_are_removed_when_the_archive_opens(tmp_path):
    db = tmp_path / "xxgk.db"
    with Archive(db) as archive:
        archive.store.put(b"a document")
    staging = store_dir_for(db) / ".incoming"
    old = _leftover(staging / ".incoming-killed", 2 * DAY)
    young = _leftover(staging / ".incoming-writing", 60)
    with Archive(db):
        pass
    assert not old.exists() and young.exists()


def test_a_store_from_before_the_staging_folder_is_swept_at_its_first_write(tmp_path):
    db = tmp_path / "xxgk.db"
    store = store_dir_for(db)
    old = _leftover(store / "ab" / "cd" / ".incoming-killed", 2 * DAY)
    young = _leftover(store / "ab" / "cd" / ".incoming-writing", 60)
    with Archive(db) as archive:
        stored = archive.store.put(b"a document")
    assert not old.exists() and young.exists()
    assert (store / stored.path).read_bytes() == b"a document"
    assert list((store / ".incoming").iterdir()) == []  # the write's own temporary file is gone


def test_a_read_only_store_keeps_its_leftovers_without_an_error(tmp_path):
    db = tmp_path / "xxgk.db"
    with Archive(db) as archive:
        archive.store.put(b"a document")
    staging = store_dir_for(db) / ".incoming"
    old = _leftover(staging / ".incoming-killed", 2 * DAY)
    staging.chmod(0o555)
    try:
        from storage.store import DocumentStore

        DocumentStore(store_dir_for(db))  # as `xxgk serve` opens it
        assert old.exists() or os.geteuid() == 0  # root writes anyway
    finally:
        staging.chmod(0o755)
