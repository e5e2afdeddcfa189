"""The one Chinese wording of an operating-system error, for every message that names a file
or a folder the bot could not read or write (config, roster, database, logs, output files)."""
from __future__ import annotations

import errno
import os

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



def os_reason(exc: OSError) -> str:
    """The reason of an OSError in Chinese (the system's words when it is not a disk error)."""
    return OS_REASONS.get(exc.errno, exc.strerror or type(exc).__name__)


def describe(exc: OSError, doing: str = "访问") -> str:
    """"无法写入 /x/y.xlsx：磁盘空间不足" — the path the system named, else the message alone."""
    name = exc.filename if exc.filename is not None else ""
    return f"无法{doing} {os.fsdecode(name)}：{os_reason(exc)}" if name != "" else f"无法{doing}：{os_reason(exc)}"
