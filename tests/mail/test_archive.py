import os
import hashlib

from bot.mail.archive import Archive


def test_keep_mail_is_content_addressed_and_idempotent(tmp_path):
    archive = Archive(tmp_path)
    raw = b"Subject: x\r\n\r\nbody\r\n"
    digest = archive.keep_mail(raw)
    assert digest == hashlib.sha256(raw).hexdigest()
    path = archive.raw_path(digest)
    assert path.read_bytes() == raw and path.parent.parent.name == "mail"
    assert archive.keep_mail(raw) == digest
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_file_paths_never_come_from_names(tmp_path):
    archive = Archive(tmp_path)
    digest = archive.keep_file(b"../../etc/passwd")
    assert archive.file_path(digest).resolve().is_relative_to(tmp_path.resolve())
    assert archive.read_file(digest) == b"../../etc/passwd"


def test_sweep_temp_removes_crash_leftovers(tmp_path):
    archive = Archive(tmp_path)
    digest = archive.keep_mail(b"x")
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()  # a pid that has exited
    leftover = archive.raw_path(digest).parent / f".tmp-abc-{dead}"
    leftover.write_bytes(b"partial")
    writing = archive.raw_path(digest).parent / f".tmp-def-{os.getppid()}"  # a live writer's
    writing.write_bytes(b"in progress")
    assert archive.sweep_temp() == 1
    assert not leftover.exists() and writing.exists()
