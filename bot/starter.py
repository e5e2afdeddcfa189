"""The files a new installation starts from: config.example.toml and data/units.example.csv.

`intake init` copies them; the demo rewrites the example's server settings and keeps its
campaign, so the demo and a real installation read the same dates and schedule. The examples
live in the source tree beside the package (as templates/ does), which is why the bot is
installed from its checkout (`pip install -e .`).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .resources import project_file
from .os_errors import os_reason

EXAMPLE_CONFIG = project_file("config.example.toml")
EXAMPLE_ROSTER = project_file("data", "units.example.csv")
ROSTER_RELATIVE = Path("data") / "units.csv"  # where config.example.toml's [roster] file points


class StarterError(Exception):
    """A starting file cannot be written; one Chinese line."""


def example_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise StarterError(f"找不到示例文件 {path}：请在项目源码目录中用 pip install -e . 安装") from None


_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
_KEY = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$")


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _comment_of(rest: str) -> str:
    """The `# ...` part of a TOML value line, ignoring a # inside a quoted string."""
    quote = ""
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return rest[i:]
    return ""


def config_with(text: str, overrides: dict[str, dict[str, object]]) -> str:
    """The example config with some keys' values replaced, section by section; each replaced
    line keeps its place and its comment. Every override must match a key of the example."""
    pending = {(section, key) for section, keys in overrides.items() for key in keys}
    out, section = [], ""
    for line in text.splitlines(keepends=True):
        head = _SECTION.match(line)
        if head:
            section = head.group(1).strip()
        else:
            m = _KEY.match(line.rstrip("\n"))
            if m and (section, m.group(2)) in pending:
                comment = _comment_of(m.group(4))
                value = _toml_value(overrides[section][m.group(2)])
                line = f"{m.group(1)}{m.group(2)}{m.group(3)}{value}{'   ' + comment if comment else ''}\n"
                pending.discard((section, m.group(2)))
        out.append(line)
    if pending:
        missing = ", ".join(f"[{s}] {k}" for s, k in sorted(pending))
        raise StarterError(f"示例配置中没有 {missing}")
    return "".join(out)


@dataclass
class InitResult:
    config: Path
    roster: Path
    roster_kept: bool  # the roster existed and was left as it was


def write_starter(directory: Path) -> InitResult:
    """DIR/config.toml from the example (never overwritten) and DIR/data/units.csv from the
    example roster (an existing roster is kept)."""
    directory = Path(directory)
    config = directory / "config.toml"
    roster = directory / ROSTER_RELATIVE
    if config.exists():
        raise StarterError(f"{config} 已存在，未覆盖（如需重新生成，请先移走或删除它）")
    config_text, roster_bytes = example_bytes(EXAMPLE_CONFIG), example_bytes(EXAMPLE_ROSTER)
    made: list[Path] = []  # removed again on failure: half a config would block the next `init`
    try:
        roster.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a config appearing meanwhile is not overwritten; 0600 as `intake check` advises
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        made.append(config)
        with os.fdopen(fd, "wb") as f:
            f.write(config_text)
        kept = roster.exists()
        if not kept:
            made.append(roster)
            roster.write_bytes(roster_bytes)
    except OSError as exc:
        if isinstance(exc, FileExistsError) and not made and config.exists():
            raise StarterError(f"{config} 已存在，未覆盖") from None
        for path in made:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        raise StarterError(f"无法写入 {directory}：{os_reason(exc)}") from None
    return InitResult(config, roster, kept)


def program_name() -> str:
    """How the user can call the CLI again: `intake` when that is on PATH, else the path they
    used (`.venv/bin/intake` right after the README's first command)."""
    if os.environ.get("INTAKE_CALLED_AS"):  # deploy/intake, the admin's wrapper, runs us
        return os.environ["INTAKE_CALLED_AS"]
    used = sys.argv[0] if sys.argv else ""
    if Path(used).name != "intake":
        return "intake"  # python -m bot
    found = shutil.which("intake")
    if found and Path(found).resolve() == Path(used).resolve():
        return "intake"
    return used
