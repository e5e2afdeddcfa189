"""bot/forms/fold.py: the one folding rule, and every reader of forms text folding by it."""
from __future__ import annotations

import random

from bot.forms import classify, liaison, narrative, values
from bot.forms.fold import fold
from bot.forms.progress import folding
from bot.forms.result import LIAISON_FORM, PROGRESS_TABLE, WEEKLY_REPORT


def test_the_rule():
    assert fold("姓　名 \t") == "姓名"  # an ideographic space too
    assert fold("（３）") == "(3)"
    assert fold("ＱＱ号", lower=True) == "qq号"
    assert fold("第 ２ 周", keep_spaces=True) == "第 2 周"
    assert fold("“安全”【3】；、。", marks=True) == "安全(3),,,"
    assert fold("活动㈠") == "活动(一)"
    assert fold(None) == ""


def test_the_progress_tables_fold_by_the_rule():
    # characters that compose with nothing: per character is the same as the whole text
    rng = random.Random(3)
    alphabet = "安全 生产月（）()“”\t，。、3１２ａＢ\u3000‘’;；【】…〔〕「」" + "".join(map(chr, range(0x3200, 0x3210)))
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert folding.fold_plain(text) == fold(text, marks=True)


def test_every_reader_folds_alike():
    assert values.normalize_int("（ ３ ）").value == 3
    assert liaison.label_key("Ｅ－ｍａｉｌ：") == "email"
    assert liaison.label_key("姓　　名") == "name"
    assert classify.keyword_kind("附件 １") == LIAISON_FORM
    assert classify.keyword_kind("附件２统计表") == PROGRESS_TABLE
    assert narrative.named_week("第 ３ 周工作") == 3
    assert narrative.kind_named_in("第３周") == WEEKLY_REPORT
