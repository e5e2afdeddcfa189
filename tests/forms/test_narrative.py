"""Free-text reports: kind from subject / file name / content, the week named, the text kept."""
from __future__ import annotations

import pytest

from bot.forms.readers import read_document
from bot.forms.narrative import MAX_TEXT, named_week, parse_report, report_kind
from bot.forms.result import PARSED, SUMMARY, WEEKLY_REPORT
from tests.fixtures.office_files import sample_attachments, sample_body


@pytest.mark.parametrize("text,week", [
    ("第一周工作情况", 1), ("第1周", 1), ("第 2 周周报", 2), ("第四周周报", 4), ("第十周", 10), ("第１周", 1),
    ("第两周", 2), ("本周工作情况", None), ("第十九个“安全生产月”", None), ("成立十周年", None),
    ("第一周年纪念", None), ("第99周", None), ("", None),
])
def test_named_week(text, week):
    assert named_week(text) == week


def test_named_week_first_text_wins():
    assert named_week("材料", "第三周工作情况", "第一周") == 3
    assert named_week("", "") is None


@pytest.mark.parametrize("subject,filename,text,kind", [
    ("宜城机械公司工会第一周工作情况", "第一周工作情况.docx", "", WEEKLY_REPORT),
    ("桐城市总工会本周工作开展情况", "", "", WEEKLY_REPORT),
    ("大观区总工会第四周周报", "", "", WEEKLY_REPORT),
    ("关于报送每周工作情况", "", "", WEEKLY_REPORT),
    ("宜城化工集团工会“安全生产月”活动总结", "活动总结.docx", "", SUMMARY),
    ("材料", "工作情况.docx", "本周工作情况\n\n按照要求，我会本周……", WEEKLY_REPORT),
    ("材料", "材料.docx", "某某工会2020年“安全生产月”活动总结\n本周……每周……", SUMMARY),
    ("材料", "材料.docx", "某某工会工作情况\n一、\n二、\n本周我会开展了活动", WEEKLY_REPORT),
    ("第一周工作总结", "", "", WEEKLY_REPORT),
    ("材料", "a.docx", "某某工会情况报告\n按照要求……现将活动情况总结如下", SUMMARY),
    ("材料", "a.docx", "通知", None),
])
def test_report_kind(subject, filename, text, kind):
    assert report_kind(subject, filename, text) == kind


def test_parse_report_keeps_trimmed_text():
    result = parse_report("\n\n  第二周工作情况  \n\n\n一是开展活动3场\n\n", WEEKLY_REPORT)
    assert result.status == PARSED and result.kind == WEEKLY_REPORT
    assert result.text == "第二周工作情况\n\n一是开展活动3场"
    assert result.named_week == 2


def test_parse_report_caps_text():
    result = parse_report("本周" + "很长的内容" * 10_000, WEEKLY_REPORT)
    assert len(result.text) == MAX_TEXT


def test_week_from_subject_before_text():
    result = parse_report("本周工作情况……下一步第四周将开展……", WEEKLY_REPORT, subject="第三周周报")
    assert result.named_week == 3
    assert parse_report("一是……", WEEKLY_REPORT, filename="第2周.docx").named_week == 2


def test_summary_has_no_week():
    assert parse_report("第一周……活动总结", SUMMARY).named_week is None


def test_samples():
    (name, data), = sample_attachments("002.eml")
    text = read_document(data, name).text
    assert report_kind("宜城机械公司工会第一周工作情况", name, text) == WEEKLY_REPORT
    assert parse_report(text, WEEKLY_REPORT).named_week == 1
    (name, data), = sample_attachments("006.eml")
    text = read_document(data, name).text
    assert report_kind("材料", name, text) == WEEKLY_REPORT
    (name, data), = sample_attachments("012.eml")
    text = read_document(data, name).text
    assert report_kind("", "", text) == SUMMARY
    assert report_kind("", "", sample_body("010.eml")) == WEEKLY_REPORT
