"""Content-addressed storage of raw mail and attachment files, written before anything else.

Paths come only from the sha256 of the bytes, so a sender's filename never becomes a path and
the same bytes are stored once. Writes go to a temporary file in the target folder, are
fsynced, then renamed: a crash leaves either the whole file or nothing (and at worst a
`.tmp-*` file that the next write of the same content, or `sweep_temp`, removes).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


class StorageError(Exception):
    """A mail could not be written to the mail store; the message is one Chinese line."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def raw_path(self, digest: str) -> Path:
        return self.root / "mail" / digest[:2] / f"{digest}.eml"

    def file_path(self, digest: str) -> Path:
        return self.root / "files" / digest[:2] / digest

    def keep_mail(self, raw: bytes) -> str:
        """Store a raw mail; return its sha256."""
        digest = sha256(raw)
        _write_once(self.raw_path(digest), raw)
        return digest

    def keep_file(self, data: bytes) -> str:
        digest = sha256(data)
        _write_once(self.file_path(digest), data)
        return digest

    def read_mail(self, digest: str) -> bytes:
        return self.raw_path(digest).read_bytes()

    def read_file(self, digest: str) -> bytes:
        return self.file_path(digest).read_bytes()

    def sweep_temp(self) -> int:
        """Remove temporary files left by a process killed mid-write; return how many. A file
        whose writer is still alive (another daemon on the same store) is left alone: its name
        ends with the writer's pid."""
        count = 0
        for folder in ("mail", "files"):
            base = self.root / folder
            if base.exists():
                for tmp in base.glob("*/.tmp-*"):
                    if _writer_alive(tmp):
                        continue
                    tmp.unlink(missing_ok=True)
                    count += 1
        return count


def _writer_alive(tmp: Path) -> bool:
    pid = tmp.name.rpartition("-")[2]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _write_once(path: Path, data: bytes) -> None:
    if path.exists() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{path.name}-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
