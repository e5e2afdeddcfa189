"""Files and folders the commands write for the admin (`export`, `digest --out`, `templates`,
`init`, `demo --dir`), and the one Chinese wording of an operating-system error.

A path is checked before any work is done (a folder given for a file, a missing folder, the
wrong file type, a read-only disk), and a file is written whole or not at all: to a temporary
name beside it, then renamed, so a full disk never leaves half a workbook under the real name.
Every failure is an `OutputError` whose message is one line naming the path.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

# What the admin is told for the errors a disk or a path can give; anything else keeps the
# system's own words.
OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EISDIR: "这是一个文件夹",
    errno.EEXIST: "路径上已有同名的文件（不是文件夹）",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "文件系统只读",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EIO: "磁盘读写错误",
    errno.EFBIG: "文件超过系统允许的大小",
    errno.ENAMETOOLONG: "文件名太长",
    errno.ELOOP: "符号链接层数过多",
    errno.EMFILE: "打开的文件过多",
    errno.ETXTBSY: "文件正被占用",
    errno.EBUSY: "文件或设备正被占用",
}


class OutputError(Exception):
    """A file or folder cannot be written; the message is one Chinese line naming it."""


def os_reason(exc: OSError) -> str:
    """The reason of an OSError in Chinese (the system's words when it is not a disk error)."""
    return OS_REASONS.get(exc.errno, exc.strerror or type(exc).__name__)


def describe(exc: OSError, doing: str = "访问") -> str:
    """"无法写入 /x/y.xlsx：磁盘空间不足" — the path the system named, else the message alone."""
    name = exc.filename if exc.filename is not None else ""
    return f"无法{doing} {os.fsdecode(name)}：{os_reason(exc)}" if name != "" else f"无法{doing}：{os_reason(exc)}"


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
