"""The one zip-bomb rule, for every archive the bot opens: a mail's zip, 7z or RAR
(`bot.mail.archives`) and an office document's package (`bot.forms.safety`).

An archive, or one of its members, whose declared unpacked size is more than `MAX_RATIO`
times its packed size is a bomb — from `RATIO_FLOOR` bytes unpacked on: below that a high
ratio is harmless (10 KB of spaces compresses 200:1), and a bomb needs volume to do harm.
Declared sizes are a true bound for zip (zipfile never inflates a member past the size the
central directory states); the mail's archives also cap every read at the declared size.
"""
from __future__ import annotations

RATIO_FLOOR = 1024 * 1024
MAX_RATIO = 200


def expands_too_much(unpacked: int, packed: int, max_ratio: int = MAX_RATIO) -> bool:
    """True when `unpacked` bytes from `packed` are a bomb by the rule above."""
    return unpacked >= RATIO_FLOOR and unpacked > max_ratio * max(packed, 1)
