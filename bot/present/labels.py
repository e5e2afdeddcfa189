"""The Chinese words people see: for each outcome a message can have (interface.md), in the
poll's log lines, the admin's command output and the workbook's 消息记录 sheet; and the words a
campaign's definition gives its items, forms and fields wherever they are shown on their own
(acknowledgements, reminders, `status`, `report`, the digest and the workbook)."""
from __future__ import annotations

import re
from functools import lru_cache

from ..campaign.definition import DOCUMENT, FORM, SHIPPED, WEEKLY, Campaign
from ..forms.definition import LIST, PROSE, Field, Form
from ..store.models import ACCEPTED, AUTO_REPLY, DUPLICATE, IGNORED, NEEDS_REVIEW, PENDING, TAKEN

OUTCOME_LABELS = {ACCEPTED: "已登记", NEEDS_REVIEW: "待人工处理", DUPLICATE: "重复",
                  AUTO_REPLY: "自动回复（不答复）", IGNORED: "已忽略", PENDING: "待处理",
                  TAKEN: "由另一进程处理",
                  # pipeline.SET_ASIDE: a return value only, never stored (stored as "ignored"
                  # with the reason)
                  "set_aside": "启用前或活动开始前的旧邮件（仅存档）"}

# What the timeliness score is for, where a campaign's notice says so. The 2020 notice: 材料报送
# 情况将作为“安康杯”竞赛表彰名额分配重要参考内容. campaign.toml has no key for it yet, so a
# campaign other than these says nothing about what its score is used for.
_SCORE_USE = {SHIPPED: "“安康杯”"}

_ATTACHMENT_RE = re.compile(r"（附件[0-9０-９一二三四五六七八九十]+）$")


def topic(campaign: Campaign) -> str:
    """The campaign's own name for itself in running text: its first keyword (安全生产月),
    else its name."""
    return campaign.keywords[0] if campaign.keywords else campaign.name


def quoted_topic(campaign: Campaign) -> str:
    """“安全生产月” — or the campaign's name, unquoted, when it has no keyword."""
    return f"“{campaign.keywords[0]}”" if campaign.keywords else campaign.name


def system_name(campaign: Campaign) -> str:
    """The sender every automatic mail signs with: “安全生产月”材料接收系统."""
    return f"{quoted_topic(campaign)}材料接收系统"


def score_use(campaign: Campaign) -> str:
    """What the timeliness score is a reference for (“安康杯”), or "" when the notice says nothing."""
    return _SCORE_USE.get(campaign.slug, "")


def workbook_stem(campaign: Campaign) -> str:
    """安全生产月报送汇总: the start of the digest workbook's file name."""
    return f"{topic(campaign)}报送汇总"


def weekly_words(campaign: Campaign) -> str:
    """What the weekly report is about, as a reminder asks for it."""
    return f"本周{quoted_topic(campaign)}活动及其他相关工作开展情况（电子版）"


def bare_label(label: str) -> str:
    """An item's label without its （附件N）: 联络员推荐表（附件1） -> 联络员推荐表."""
    return _ATTACHMENT_RE.sub("", label)


def item_phrase(campaign: Campaign, item: str) -> str:
    """What a file was recognised as, in an acknowledgement: 《“安全生产月”活动联络员推荐表（附件1）》
    for a form, “安全生产月”活动总结 for a document, 本周活动开展情况（周报） for the weekly report."""
    try:
        it = campaign.item(item)
    except KeyError:
        return ""
    if it.kind == FORM:
        form = campaign.form(it.form)
        return f"{form.title or bare_label(it.label)}（{form.form}）"
    if it.kind == WEEKLY:
        return f"本周活动开展情况（{it.label}）"
    return f"{quoted_topic(campaign) if campaign.keywords else ''}{it.label}"


def item_short(campaign: Campaign, item: str) -> str:
    """A word for an item in a list of what a mail carried: 附件1, 总结, 周报."""
    try:
        it = campaign.item(item)
    except KeyError:
        return item
    if it.kind == FORM:
        return it.form or it.label
    if it.kind == DOCUMENT and it.keywords:
        return it.keywords[0]
    return it.label


def kind_short(campaign: Campaign) -> dict[str, str]:
    """Item name -> item_short, for every item of the campaign."""
    return {i.item: item_short(campaign, i.item) for i in campaign.items}


def item_header(campaign: Campaign, item: str) -> str:
    """A narrow column's header for an item (status table): 附1, 总结, 周报\\n6/4."""
    name, _, day = item.partition(":")
    try:
        it = campaign.item(name)
    except KeyError:
        return item
    if it.kind == WEEKLY and day:
        return f"{it.label}\n{int(day[5:7])}/{int(day[8:10])}"
    short = item_short(campaign, name)
    return short.replace("附件", "附") if it.kind == FORM else short


def legend(campaign: Campaign) -> str:
    """What the narrow headers of the form items stand for: 附1 联络员推荐表　附2 进展情况统计表."""
    return "　".join(f"{item_header(campaign, i.item)} {bare_label(i.label)}" for i in campaign.items
                     if i.kind == FORM)


def form_label(campaign: Campaign, form: Form) -> str:
    """A form as a heading names it: its item's label (进展情况统计表（附件2）)."""
    try:
        return campaign.item(form.item).label
    except KeyError:
        return f"{form.title}（{form.form}）"


def numbered_label(field: Field) -> str:
    """How a prose blank is named on its own, everywhere: its number in the form and what it
    counts (`12. 开展“啄木鸟”等活动的企业数`)."""
    return f"{field.number}. {field.short}"


def field_label(form: Form, field: Field) -> str:
    """A field's name where its figure is shown on its own: a prose blank numbered, a grid
    field or list column by its short label."""
    return numbered_label(field) if form.shape == PROSE and not field.header else field.short


def header_label(field: Field) -> str:
    """A prose form's header-line field without its printed remark: 填报单位（盖章） -> 填报单位."""
    return re.sub(r"（[^）]*）$", "", field.short or field.label)


def report_forms(campaign: Campaign) -> tuple[Form, ...]:
    """The forms whose figures are summed and listed (report, digest, 汇总 sheets): every form
    but the liaison form (its own sheet lists it), or every form when that is the only one."""
    forms = tuple(f for f in campaign.forms if not f.liaison)
    return forms or campaign.forms


@lru_cache(maxsize=32)
def blank_phrases(form: Form) -> dict[str, str]:
    """Key -> a prose blank's words as a reader finds it in the form. For a blank whose own
    words do not find it — a bare unit after it (`（ ）人次`) or words other blanks share
    (`参与（ ）人次`, four times in 2020) — the words of the blank before it in the same
    section lead in (`组织观看（ ）场，（ ）人次` -> `组织观看…（ ）人次`)."""
    blanks = [f for f in form.fields if not f.header]
    counts: dict[str, int] = {}
    for b in blanks:
        counts[b.label] = counts.get(b.label, 0) + 1
    out = {b.key: b.label for b in form.fields}
    for previous, blank in zip(blanks, blanks[1:]):
        if previous.section != blank.section:
            continue
        before = re.split(r"[（(]", blank.label, maxsplit=1)[0]
        after = re.split(r"[）)]", blank.label)[-1]
        vague = (not before.strip() and len(after.strip()) <= 3) or counts[blank.label] > 1
        lead = re.split(r"[（(]", previous.label, maxsplit=1)[0].strip()
        if vague and lead and "……" not in blank.label:
            out[blank.key] = lead + "…" + blank.label
    return out


def is_list(form: Form | None) -> bool:
    return form is not None and form.shape == LIST
