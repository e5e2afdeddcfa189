"""Files and folders the commands write for the admin (`export`, `digest --out`, `templates`,
`init`, `demo --dir`).

A path is checked before any work is done (a folder given for a file, a missing folder, the
wrong file type, a read-only disk), and a file is written whole or not at all: to a temporary
name beside it, then renamed, so a full disk never leaves half a workbook under the real name.
Every failure is an `OutputError` whose message is one line naming the path.
"""
from __future__ import annotations

import os
from pathlib import Path

from .os_errors import describe, os_reason


class OutputError(Exception):
    """A file or folder cannot be written; the message is one Chinese line naming it."""


def _unwritable(folder: Path) -> str:
    """Why an existing folder cannot be written: a read-only file system, or no permission."""
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return "文件系统只读" if read_only else "没有写入权限"


def _writable_folder(folder: Path, shown: str) -> None:
    if not folder.exists():
        raise OutputError(f"文件夹 {shown} 不存在（请先建立它，或换一个位置）")
    if not folder.is_dir():
        raise OutputError(f"{shown} 不是文件夹")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"无法写入文件夹 {shown}：{_unwritable(folder)}")


def folder_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot serve as a folder the bot writes into (made when missing), or None:
    "无法建立：/x 不是文件夹", "无法写入：文件系统只读"."""
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"无法建立：{probe} 不是文件夹"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"无法{'写入' if probe == Path(path) else '建立'}：{_unwritable(probe)}"
    return None


def output_file(path: str | os.PathLike, suffix: str) -> Path:
    """The file a command is about to write, refused before any work when it cannot be: a
    folder, a name without `suffix` (`export out.csv` would be an .xlsx under a .csv name), a
    folder that does not exist or cannot be written."""
    shown = os.fspath(path)
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{shown} 是文件夹：请给出文件名，如 {target / ('全部数据' + suffix)}")
    if target.suffix.lower() != suffix:
        raise OutputError(f"{shown}：文件名须以 {suffix} 结尾（写出的是 {_KINDS.get(suffix, suffix)}），"
                          f"如 {target.with_suffix(suffix).name if target.name else '全部数据' + suffix}")
    parent = target.parent
    _writable_folder(parent, os.fspath(parent) if os.fspath(parent) != "." else "当前文件夹")
    return target


_KINDS = {".xlsx": "Excel 工作簿", ".csv": "CSV 表格", ".docx": "Word 文档"}


def output_folder(path: str | os.PathLike) -> Path:
    """A folder a command writes into, made (with its parents) when missing."""
    shown = os.fspath(path)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{shown} 已存在且不是文件夹")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法建立文件夹 {shown}：{os_reason(exc)}") from None
    _writable_folder(folder, shown)
    return folder


def write_file(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all (a temporary name beside it, fsynced, then
    renamed over the old file)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise OutputError(f"无法写入 {os.fspath(path)}：{os_reason(exc)}") from None
    return target
