"""Old and foreign office formats (.doc, .wps, .xls, .et, .rtf, .odt, HTML "xls") turned into
.docx / .xlsx by a headless LibreOffice, one private process per conversion.

Lab notes: two conversions sharing a profile lose one file silently (exit 1, no message), and
soffice exits 0 even when it wrote nothing — so every run gets its own profile and temp dir,
and success is judged only by the output file.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from bot.forms.readers.bounds import LIBREOFFICE_MEMORY_MB, limit_child
from bot.forms.readers.errors import ConversionError

REASON_NOT_INSTALLED = "服务器未安装 LibreOffice，无法读取 .doc/.wps 文件"
REASON_TIMEOUT = "文件转换超时，无法读取，请另存为 .docx 或 .xlsx 后重新发送"
REASON_FAILED = "文件无法转换（可能已损坏或设有密码），请另存为 .docx 或 .xlsx 后重新发送"

# The name the input gets inside the private dir: the extension steers LibreOffice's type
# detection (.wps -> Word 97 filters, .et -> Excel 97, lab notes), the sender's name never
# reaches the file system.
_INPUT_EXT = {"doc": "doc", "wps": "doc", "rtf": "rtf", "odt": "odt", "html": "html", "docx": "docx",
              "xls": "xls", "et": "xls", "ods": "ods", "xlsx": "xlsx"}
# docx/xlsx are what the readers need; doc/xls/pdf are there for tests and the demo, which
# make old-format files the way units' machines do.
_TARGET_FILTER = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML",
                  "doc": "doc:MS Word 97", "xls": "xls:MS Excel 97", "pdf": "pdf"}
# An HTML page pretending to be a spreadsheet must be opened by Calc, not Writer.
_HTML_CALC_FILTER = "--infilter=calc_HTML_WebQuery"


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, src_ext: str, target: str, *, timeout: float) -> bytes:
    """`data` (a file of format `src_ext`) converted to `target` ("docx" or "xlsx"; "doc",
    "xls" and "pdf" too).

    Raises ConversionError (an UnreadableFile) with a Chinese reason when LibreOffice is missing, times out (the
    whole process group is killed) or produces nothing.
    """
    if target not in _TARGET_FILTER:
        raise ValueError(f"unsupported target {target!r}")
    src_ext = src_ext.lower().lstrip(".")
    if src_ext not in _INPUT_EXT:
        raise ValueError(f"unsupported source {src_ext!r}")
    binary = soffice_path()
    if binary is None:
        raise ConversionError(REASON_NOT_INSTALLED)
    workdir = Path(tempfile.mkdtemp(prefix="intake-lo-"))
    try:
        source = workdir / f"input.{_INPUT_EXT[src_ext]}"
        source.write_bytes(data)
        outdir = workdir / "out"
        outdir.mkdir()
        profile = workdir / "profile"
        command = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                   "--nologo", "--norestore", "--nodefault", "--nolockcheck"]
        if src_ext == "html" and target == "xlsx":
            command.append(_HTML_CALC_FILTER)
        command += ["--convert-to", _TARGET_FILTER[target], "--outdir", str(outdir), str(source)]
        env = dict(os.environ, HOME=str(workdir), TMPDIR=str(workdir), SAL_USE_VCLPLUGIN="svp")
        _run(command, env=env, cwd=workdir, timeout=timeout)
        result = outdir / f"input.{target}"
        if not result.is_file() or result.stat().st_size == 0:
            raise ConversionError(REASON_FAILED)
        return result.read_bytes()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(command: list[str], *, env: dict, cwd: Path, timeout: float) -> None:
    """Run in a new session so a timeout can kill soffice.bin and anything it spawned, under an
    address-space limit (oosplash passes it on to soffice.bin, which it starts later)."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
    limit_child(process, LIBREOFFICE_MEMORY_MB)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ConversionError(REASON_TIMEOUT) from None
    finally:
        # A child left behind by a finished soffice would keep the profile busy: end the group.
        _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
