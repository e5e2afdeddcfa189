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


def test_a_batch_is_kept_whole_with_duplicates_and_a_folder_removed_under_it(tmp_path):
    import shutil

    from bot.mail.archive import Archive, sha256

    archive = Archive(tmp_path)
    mails = [f"Subject: {n}\r\n\r\nbody {n}\r\n".encode() * 500 for n in range(40)]
    digests = archive.keep_mails(mails + mails[:5])
    assert digests == [sha256(m) for m in mails + mails[:5]]
    assert all(archive.read_mail(d) == m for d, m in zip(digests, mails))
    # an admin tidying up removes a folder the archive made before: the next write remakes it
    shutil.rmtree(archive.raw_path(digests[0]).parent)
    assert archive.keep_mails([mails[0]]) == [digests[0]]
    assert archive.read_mail(digests[0]) == mails[0]
    assert not list(tmp_path.glob("mail/*/.tmp-*"))
