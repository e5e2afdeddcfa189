"""Click's own words (Usage:, Options, Error: No such option …) in Chinese.

Click marks every text it prints for gettext, importing `gettext`/`ngettext` into each of its
modules as `_` and `ngettext`. There is no Chinese catalogue shipped with click, and a compiled
.mo under the process-wide "messages" domain would translate other libraries too, so the
catalogue below is bound to click's modules only: each module's `_` / `ngettext` is replaced
by a lookup in it. Texts not in the catalogue stay as click wrote them (never an error).
"""
from __future__ import annotations

import importlib

import click

CATALOGUE: dict[str, str] = {
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "No such option: {name}": "没有这个选项：{name}",
    "No such option {name!r}.": "没有这个选项：{name}",
    "No such command {name!r}.": "没有这个命令：{name}",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name} 不接受取值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 需要 {nargs} 个值。",
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "{name} {filename!r} is a file.": "{name}“{filename}”是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name}“{filename}”是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”不可读。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Do you want to continue?": "是否继续？",
    "Error: invalid input": "错误：输入无效",
}

# ngettext texts: (singular, plural) -> one Chinese text (Chinese has no plural form)
PLURALS: dict[tuple[str, str], str] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): "多余的参数：{args}",
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): "您是否想输入：{possibility}？",
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): "选项 {name} 需要取值。",
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): "“{value}”不是可选值（{choices}）。",
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        "“{value}”不符合格式 {formats}。",
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        "需要 {nargs} 个值，实际给了 {len} 个。",
}

_CLICK_MODULES = ("core", "exceptions", "parser", "formatting", "decorators", "types", "termui", "utils")


def gettext(message: str) -> str:
    return CATALOGUE.get(message, message)


class _Plural(str):
    """A translated plural text whose format() tolerates a placeholder of the English forms
    that the caller did not pass."""

    def format(self, *args, **kwargs) -> str:  # noqa: A003 - str.format's own name
        for name in ("possibility", "possibilities", "choice", "choices", "format", "formats", "len", "nargs"):
            kwargs.setdefault(name, "")
        return str.format(self, *args, **kwargs)


def ngettext(singular: str, plural: str, n: int) -> str:
    chinese = PLURALS.get((singular, plural))
    if chinese is None:
        return singular if n == 1 else plural
    return _Plural(chinese)


class Command(click.Command):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class Group(click.Group):
    """A command group whose usage line, and its subcommands', is in Chinese too."""

    command_class = Command

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)


Group.group_class = Group


def install() -> None:
    """Bind the catalogue to click's modules (idempotent)."""
    for name in _CLICK_MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # a click without that module: nothing of it to translate
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
