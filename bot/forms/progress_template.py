"""The canonical 附件2 (“安全生产月”活动进展情况统计表): the one source of its wording and blanks.

The parser aligns what units send against this text, the blank-form generator writes it out
and acknowledgements quote the blank labels, so every string here is copied verbatim from the
notice (shared/seed/000_350574b689c903f2.txt) — including the inconsistent blanks: some are
full-width `（    ）`, some half-width `(    )` and one opens full-width and closes half-width
`（   )`. Parentheses with text inside (`社区（村）`) are wording, not blanks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ATTACHMENT_LABEL = "附件2"
TITLE = "“安全生产月”活动进展情况统计表"
CATEGORY = "“安全生产月”活动"
COLUMN_HEADERS = ("活动项目", "内容要求", "进展情况")

# The header line above the table, label -> key, in the order the notice prints them.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("填报单位（盖章）", "header.unit_name"),
    ("联系人", "header.contact"),
    ("电话", "header.phone"),
    ("填报日期", "header.fill_date"),
)
HEADER_KEYS = tuple(key for _, key in HEADER_FIELDS)
# The spacing after each label's colon in the notice (where a unit types its value).
HEADER_LINE_GAPS = ("        \u3000\u3000\u3000\u3000\u3000", "    \u3000\u3000 ", "  \u3000\u3000   ", "  \u3000\u3000    ")
HEADER_LINE = "".join(f"{label}：{gap}" for (label, _), gap in zip(HEADER_FIELDS, HEADER_LINE_GAPS))

# A blank is a bracket pair holding nothing but spaces, whichever width each bracket has.
BLANK_RE = re.compile(r"[（(][ \u3000]*[）)]")

INT = "int"
TEXT = "text"


@dataclass(frozen=True)
class Blank:
    key: str  # forms.md key
    type: str  # INT | TEXT
    label: str  # forms.md's "text around the blank", for the unit to find it (acknowledgements)
    item: int = 0  # index into ITEMS
    number: int = 0  # 1-based position in the form
    short: str = ""  # what the blank counts, for people reading totals and read-backs (SHORT_LABELS)


@dataclass(frozen=True)
class ActivityItem:
    name: str  # 活动项目 (line breaks as in the notice)
    requirements: str  # 内容要求
    progress: str  # 进展情况 prose, blanks exactly as printed
    blanks: tuple[Blank, ...]
    # The prose cut at its blanks: literal, bracket text of blank 1, literal, ..., literal.
    parts: tuple[str, ...]


def _blank(key: str, type_: str, label: str) -> tuple[str, str, str]:
    return key, type_, label


def _five_into(code: str, place: str) -> list[tuple[str, str, str]]:
    return [
        _blank(f"five_into.{code}.forms", TEXT, f"以（ ）等形式开展安全宣传进{place}活动"),
        _blank(f"five_into.{code}.events", INT, f"进{place}活动（ ）场"),
        _blank(f"five_into.{code}.participants", INT, f"进{place}活动……参与（ ）人"),
    ]


_ITEM_SOURCE: tuple[tuple[str, str, str, list[tuple[str, str, str]]], ...] = (
    (
        "举办“安全生产月”活动启动仪式",
        "启动仪式形式多样，参与范围广泛，效果良好。",
        "以（    ）等形式启动“安全生产月”活动（  ）场次。",
        [
            _blank("launch.forms", TEXT, "以（ ）等形式启动"),
            _blank("launch.events", INT, "启动“安全生产月”活动（ ）场次"),
        ],
    ),
    (
        "深入学习贯彻\n习近平总书记\n关于安全生产\n重要论述",
        "安排理论学习中心组专题学习；开展习近平总书记关于安全生产重要论述网络课堂培训；"
        "在报刊、广播、网络、新媒体等平台开设专栏专题。",
        "\u3000\u3000安排理论学习中心组专题学习（    ）次，参与（  ）人次；\n"
        "\u3000\u3000开展网络课堂培训(    )场，参与（   ）人次；\n"
        "\u3000\u3000在报刊、广播、网络、新媒体等平台开设专栏专题（  ）个。",
        [
            _blank("study.group_sessions", INT, "理论学习中心组专题学习（ ）次"),
            _blank("study.group_participants", INT, "参与（ ）人次"),
            _blank("study.online_sessions", INT, "开展网络课堂培训( )场"),
            _blank("study.online_participants", INT, "参与（ ）人次"),
            _blank("study.media_columns", INT, "开设专栏专题（ ）个"),
        ],
    ),
    (
        "开展“排查整治\n进行时”专题活动",
        "加强典型事故案例剖析，制作警示教育片，组织人员在线观看；开展“安全生产啄木鸟”“企业风险扫描仪”"
        "“隐患排查显微镜”等活动，对重点场所、关键环节安全风险隐患进行全面深入排查整治；发动城乡社区居（村）委会、"
        "物业公司和居（村）民，开展“身边隐患我来找”“专项整治纠察员”“安全隐患随手拍”等活动，积极举报风险隐患，"
        "排查安全违法违规行为。",
        "\u3000\u3000在各类媒体开设专栏专题（   ）个；\n"
        "\u3000\u3000制作典型事故案例剖析警示教育片（    ）部，组织观看（    ）场，（   ）人次； \n"
        "\u3000\u3000（  ）个企业开展“安全生产啄木鸟”“企业风险扫描仪”“隐患排查显微镜”等活动，"
        "排查整治安全风险隐患（   ）个；（  ）个社区（村）、物业公司开展“身边隐患我来找”“专项整治纠察员”"
        "“安全隐患随手拍”等（   ）场次，排查安全违法违规行为（  ）次，举报风险隐患（  ）个。",
        [
            _blank("inspection.media_columns", INT, "在各类媒体开设专栏专题（ ）个"),
            _blank("inspection.films_made", INT, "警示教育片（ ）部"),
            _blank("inspection.film_screenings", INT, "组织观看（ ）场"),
            _blank("inspection.film_viewers", INT, "（ ）人次"),
            _blank("inspection.enterprises", INT, "（ ）个企业开展"),
            _blank("inspection.enterprise_hazards", INT, "排查整治安全风险隐患（ ）个"),
            _blank("inspection.communities", INT, "（ ）个社区（村）、物业公司开展"),
            _blank("inspection.community_events", INT, "等（ ）场次"),
            _blank("inspection.violations", INT, "排查安全违法违规行为（ ）次"),
            _blank("inspection.hazard_reports", INT, "举报风险隐患（ ）个"),
        ],
    ),
    (
        "组织开展安全培训活动",
        "组织干部职工、企业员工参加“安全生产大家谈”云课堂学习；在电视台、政府网站和网络直播平台等各类媒体平台"
        "开展网络视频访谈、远程在线辅导和安全生产“公开课”、“微课堂”、“公益讲座”等线上直播活动。",
        "  \u3000组织干部职工、企业员工参加“安全生产大家谈”云课堂学习(      )人次；\n"
        "在媒体平台开展网络视频访谈（  ）场，远程在线辅导 （    ）场次，安全生产“公开课”、“微课堂”、"
        "“公益讲座”等线上直播活动(    )场，参与总人数（   )人次。",
        [
            _blank("training.cloud_class_participants", INT, "云课堂学习( )人次"),
            _blank("training.video_interviews", INT, "网络视频访谈（ ）场"),
            _blank("training.remote_tutoring", INT, "远程在线辅导 （ ）场次"),
            _blank("training.livestreams", INT, "等线上直播活动( )场"),
            _blank("training.livestream_participants", INT, "参与总人数（ )人次"),
        ],
    ),
    (
        "开展安全宣传\n咨询日活动",
        "积极组织干部职工、企业员工参与线上“公众开放日”、安全体验场馆360全景示范展示、安全打榜直播答题、"
        "全国网上安全知识竞赛、抖音“我是安全明白人”话题、新浪微博“身边的安全谣言”话题等全国性活动；结合实际，"
        "利用各类媒体、网站、手机应用程序等，创新开展直播互动、网上展厅、线上安全体验、H5安全互动游戏；"
        "发送公益短信等活动。",
        "组织干部职工、企业员工参与线上“公众开放日”（    ）人次，观看安全体验场馆360全景示范展示（     ）人次，"
        "参与安全打榜直播（     ）人次，参与全国网上安全知识竞赛（    ）人次，参与抖音“我是安全明白人”话题"
        "（    ）条微视频，参与新浪微博“身边的安全谣言”话题（    ）条；开展线上“公众开放日”（    ）场次，"
        "参与（    ）人次；发送公益短信（   ）条。\n"
        "创新开展（           ）活动（   ）场，参与（   ）人次。",
        [
            _blank("consultation.open_day_participants", INT, "参与线上“公众开放日”（ ）人次"),
            _blank("consultation.vr_viewers", INT, "360全景示范展示（ ）人次"),
            _blank("consultation.quiz_live_participants", INT, "参与安全打榜直播（ ）人次"),
            _blank("consultation.contest_participants", INT, "全国网上安全知识竞赛（ ）人次"),
            _blank("consultation.douyin_videos", INT, "“我是安全明白人”话题（ ）条微视频"),
            _blank("consultation.weibo_posts", INT, "“身边的安全谣言”话题（ ）条"),
            _blank("consultation.open_days_held", INT, "开展线上“公众开放日”（ ）场次"),
            _blank("consultation.open_days_held_participants", INT, "参与（ ）人次"),
            _blank("consultation.sms_sent", INT, "发送公益短信（ ）条"),
            _blank("consultation.innovative_activity", TEXT, "创新开展（ ）活动"),
            _blank("consultation.innovative_events", INT, "活动（ ）场"),
            _blank("consultation.innovative_participants", INT, "参与（ ）人次"),
        ],
    ),
    (
        "扎实推进安全宣传“五进”工作",
        "采取线上安全教育培训、专家指导服务、先进经验交流、应急预案演练、安全承诺宣誓等形式，开展安全宣传进企业活动；"
        "重点围绕农事活动、特殊群体安全提示教育，开展安全宣传进农村活动；以组织“社区安全志愿者行动”为重点，"
        "开展安全宣传进社区活动；重点围绕开学、复课学生安全防控和居家学生生活安全教育，开展安全宣传进学校活动；"
        "重点围绕家庭安全隐患查找、邻里安全线上互助等，开展安全宣传进家庭活动。",
        "以（   ）等形式开展安全宣传进企业活动（   ）场，参与（   ）人；\n"
        "以（   ）等形式开展安全宣传进农村活动（   ）场，参与（   ）人；\n"
        "以（   ）等形式开展安全宣传进社区活动（   ）场，参与（   ）人；\n"
        "以（   ）等形式开展安全宣传进学校活动（   ）场，参与（   ）人；\n"
        "以（   ）等形式开展安全宣传进家庭活动（   ）场，参与（   ）人。",
        _five_into("enterprise", "企业")
        + _five_into("rural", "农村")
        + _five_into("community", "社区")
        + _five_into("school", "学校")
        + _five_into("family", "家庭"),
    ),
    (
        "开展先进典型主题宣传活动",
        "在媒体平台开设相关专栏专题，加强示范引领；对涌现的先进典型和经验做法、成果，进行报道；"
        "制作专题视频在各类媒体平台发布。",
        "先进典型、经验做法和成果等报道（ ）篇、制作专题视频（   ）部。",
        [
            _blank("exemplary.reports", INT, "报道（ ）篇"),
            _blank("exemplary.videos", INT, "制作专题视频（ ）部"),
        ],
    ),
)

# What each blank counts, in words a clerk reads without the form beside her: the form's own
# words around a blank ("（ ）个企业开展", "等（ ）场次", five times "参与（ ）人次") only make sense
# in their sentence. Shown wherever a blank's figure is shown on its own (the digest, `report`,
# the workbook, acknowledgements), always after the blank's number. Each is unique.
_FIVE_INTO_PLACES = {"enterprise": "企业", "rural": "农村", "community": "社区", "school": "学校", "family": "家庭"}
SHORT_LABELS: dict[str, str] = {
    "launch.forms": "启动仪式的形式",
    "launch.events": "启动仪式场次",
    "study.group_sessions": "中心组专题学习次数",
    "study.group_participants": "中心组专题学习参与人次",
    "study.online_sessions": "网络课堂培训场次",
    "study.online_participants": "网络课堂培训参与人次",
    "study.media_columns": "学习重要论述的专栏专题数",
    "inspection.media_columns": "排查整治的媒体专栏专题数",
    "inspection.films_made": "制作警示教育片部数",
    "inspection.film_screenings": "组织观看警示教育片场次",
    "inspection.film_viewers": "观看警示教育片人次",
    "inspection.enterprises": "开展“啄木鸟”等活动的企业数",
    "inspection.enterprise_hazards": "企业排查整治风险隐患数",
    "inspection.communities": "开展“身边隐患我来找”等活动的社区、物业公司数",
    "inspection.community_events": "社区、物业公司开展“身边隐患我来找”等活动场次",
    "inspection.violations": "排查安全违法违规行为次数",
    "inspection.hazard_reports": "举报风险隐患数",
    "training.cloud_class_participants": "“安全生产大家谈”云课堂学习人次",
    "training.video_interviews": "网络视频访谈场次",
    "training.remote_tutoring": "远程在线辅导场次",
    "training.livestreams": "“公开课”等线上直播场次",
    "training.livestream_participants": "线上直播参与人次",
    "consultation.open_day_participants": "参与全国线上“公众开放日”人次",
    "consultation.vr_viewers": "观看360全景示范展示人次",
    "consultation.quiz_live_participants": "参与安全打榜直播人次",
    "consultation.contest_participants": "参与网上安全知识竞赛人次",
    "consultation.douyin_videos": "抖音“我是安全明白人”微视频条数",
    "consultation.weibo_posts": "微博“身边的安全谣言”话题条数",
    "consultation.open_days_held": "自行开展线上“公众开放日”场次",
    "consultation.open_days_held_participants": "自行开展的“公众开放日”参与人次",
    "consultation.sms_sent": "发送公益短信条数",
    "consultation.innovative_activity": "创新开展的活动名称",
    "consultation.innovative_events": "创新活动场次",
    "consultation.innovative_participants": "创新活动参与人次",
    **{key: label for code, place in _FIVE_INTO_PLACES.items() for key, label in (
        (f"five_into.{code}.forms", f"安全宣传进{place}的形式"),
        (f"five_into.{code}.events", f"安全宣传进{place}活动场次"),
        (f"five_into.{code}.participants", f"安全宣传进{place}参与人数"),
    )},
    "exemplary.reports": "先进典型报道篇数",
    "exemplary.videos": "先进典型专题视频部数",
}

# Rows 1-4 and 5-7 of the notice's table each share one merged 活动项目 category cell.
CATEGORY_GROUPS = ((0, 4), (4, 7))


def _build_items() -> tuple[ActivityItem, ...]:
    items = []
    number = 0
    for index, (name, requirements, progress, blank_specs) in enumerate(_ITEM_SOURCE):
        parts: list[str] = []
        last = 0
        for match in BLANK_RE.finditer(progress):
            parts.append(progress[last : match.start()])
            parts.append(match.group())
            last = match.end()
        parts.append(progress[last:])
        found = (len(parts) - 1) // 2
        if found != len(blank_specs):
            raise AssertionError(f"item {index}: {found} blanks in the prose, {len(blank_specs)} keys")
        blanks = []
        for key, type_, label in blank_specs:
            number += 1
            blanks.append(Blank(key, type_, label, index, number, SHORT_LABELS[key]))
        items.append(ActivityItem(name, requirements, progress, tuple(blanks), tuple(parts)))
    return tuple(items)


ITEMS: tuple[ActivityItem, ...] = _build_items()
BLANKS: tuple[Blank, ...] = tuple(blank for item in ITEMS for blank in item.blanks)
BLANKS_BY_KEY: dict[str, Blank] = {blank.key: blank for blank in BLANKS}
BLANK_KEYS: tuple[str, ...] = tuple(blank.key for blank in BLANKS)


def _lead_ins() -> dict[str, str]:
    """For a blank whose own words do not find it in the form — a bare unit after it
    (`（ ）人次`) or words other blanks share (`参与（ ）人次`, four times) — the words of the
    blank before it in the same sentence (`组织观看（ ）场，（ ）人次` -> `组织观看…`)."""
    counts: dict[str, int] = {}
    for blank in BLANKS:
        counts[blank.label] = counts.get(blank.label, 0) + 1
    lead_ins: dict[str, str] = {}
    for item in ITEMS:
        for previous, blank in zip(item.blanks, item.blanks[1:]):
            before, _, after = blank.label.partition("（")
            vague = (not before.strip() and len(after.split("）")[-1].strip()) <= 3) or counts[blank.label] > 1
            lead = previous.label.split("（", 1)[0].split("(", 1)[0].strip()
            if vague and lead and "……" not in blank.label:
                lead_ins[blank.key] = lead + "…"
    return lead_ins


_LEAD_INS = _lead_ins()


def blank_phrase(blank: Blank) -> str:
    """The blank's words as a reader finds it in the form: `组织观看…（ ）人次`."""
    return _LEAD_INS.get(blank.key, "") + blank.label


def numbered_label(blank: Blank) -> str:
    """How a blank is named on its own, everywhere: its number in the form and what it counts
    (`12. 开展“啄木鸟”等活动的企业数`)."""
    return f"{blank.number}. {blank.short}"


ALL_KEYS: tuple[str, ...] = HEADER_KEYS + BLANK_KEYS
if len(BLANKS) != 51:
    raise AssertionError(f"附件2 has 51 blanks, the template has {len(BLANKS)}")
if set(SHORT_LABELS) != set(BLANK_KEYS) or len(set(SHORT_LABELS.values())) != len(BLANKS):
    raise AssertionError("every blank needs its own short label")


def render_progress(
    item: ActivityItem,
    written: dict[str, str] | None = None,
    *,
    drop_parens_for: frozenset[str] | set[str] = frozenset(),
    drop_close_for: frozenset[str] | set[str] = frozenset(),
) -> str:
    """The item's prose with what a clerk typed put into its blanks.

    A key absent from `written` leaves the blank as printed; a key in `drop_parens_for` loses
    both brackets (`活动3场次`), one in `drop_close_for` loses its closing bracket.
    """
    written = written or {}
    out: list[str] = []
    for position, part in enumerate(item.parts):
        if position % 2 == 0:
            out.append(part)
            continue
        blank = item.blanks[position // 2]
        if blank.key not in written:
            out.append(part)
            continue
        value = written[blank.key]
        if blank.key in drop_parens_for:
            out.append(value)
        elif blank.key in drop_close_for:
            out.append(part[0] + value)
        else:
            out.append(part[0] + value + part[-1])
    return "".join(out)


def render_header_line(header: dict[str, str] | None = None) -> str:
    """The header line with the given `header.*` values typed after each label's colon."""
    header = header or {}
    return "".join(
        f"{label}：{header.get(key, '')}{gap}" for (label, key), gap in zip(HEADER_FIELDS, HEADER_LINE_GAPS)
    )
