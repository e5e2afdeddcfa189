"""bot/zipguard.py: one zip-bomb rule, with one floor, for a mail's archives and an office
document's package alike."""
from __future__ import annotations

from bot.forms import safety
from bot.mail.archives import Budget, Limits, unpack
from bot.zipguard import MAX_RATIO, RATIO_FLOOR, expands_too_much
from tests.fixtures.hostile_mime import zip_of


def test_the_rule_starts_at_the_floor_and_past_the_ratio():
    assert not expands_too_much(RATIO_FLOOR - 1, 1)
    assert expands_too_much(RATIO_FLOOR, 1)
    assert not expands_too_much(RATIO_FLOOR, RATIO_FLOOR // MAX_RATIO + 1)
    assert expands_too_much(RATIO_FLOOR, RATIO_FLOOR // MAX_RATIO - 1)
    assert not expands_too_much(10 * RATIO_FLOOR, RATIO_FLOOR, max_ratio=10)
    assert expands_too_much(10 * RATIO_FLOOR, 0)  # nothing packed: any volume is a bomb


def _mail_verdict(data: bytes) -> str | None:
    limits = Limits()
    return unpack(data, "材料.zip", limits=limits, budget=Budget(limits.max_total)).error


def test_mail_archives_and_office_packages_draw_the_line_at_the_same_size():
    # zeros deflate about 1000:1, far past the ratio: only the floor decides
    at_floor = zip_of([("word/document.xml", b"\0" * RATIO_FLOOR)])
    below = zip_of([("word/document.xml", b"\0" * (RATIO_FLOOR - 1))])
    assert "压缩炸弹" in safety.check_zip(at_floor)
    assert "压缩炸弹" in _mail_verdict(at_floor)
    assert safety.check_zip(below) is None
    assert _mail_verdict(below) is None
