"""The demo's June: the mail a dozen units of the example roster send to the intake mailbox.

Realistic on purpose, so the demo shows what the bot meets: 附件1 and 附件2 as .docx and as
.xlsx in the layouts units make, blanks filled the ways forms.md lists (（３）, 1,200, 三, 约50,
若干, 无), a weekly report in the body and one as .docx, a summary, a form sent from a
personal mailbox, a corrected resend, late mail, an out-of-office auto-reply and a mail nobody
can place. Every unit address is one of data/units.example.csv's. Deterministic: the same
mail (and Message-IDs) every run.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import docx

from ..forms.blank_forms import fill_liaison_docx, fill_liaison_xlsx, fill_progress_docx, fill_progress_xlsx
from ..forms.progress_template import BLANKS, INT

TZ = ZoneInfo("Asia/Shanghai")
INTAKE = "aqghljb@126.com"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class DemoMail:
    when: datetime  # aware: the INTERNALDATE the mailbox gives it, i.e. when the bot sees it arrive
    raw: bytes
    sender: str  # the From address, for the demo's own checks


def _at(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2020, month, day, hour, minute, tzinfo=TZ)


def _mail(n: int, when: datetime, sender: tuple[str, str], subject: str, body: str,
          attachments: tuple[tuple[str, bytes, str], ...] = (), headers: tuple[tuple[str, str], ...] = ()) -> DemoMail:
    name, addr = sender
    msg = EmailMessage()
    msg["From"] = f"{name} <{addr}>"
    msg["To"] = f"安庆市总工会劳动经济部 <{INTAKE}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<demo-{n:03d}.{when:%Y%m%d%H%M}@{addr.split('@', 1)[1]}>"
    for key, value in headers:
        msg[key] = value
    msg.set_content(body)
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return DemoMail(when, msg.as_bytes(policy=SMTP), addr)


def _docx(title: str, paragraphs: list[str]) -> bytes:
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- 附件1 ----------------------------------------------------------------------------------

def _liaison(unit: str, name: str, gender: str, title: str, office: str, mobile: str, email: str,
             address: str, qq: str = "", wechat: str = "", fax: str = "") -> dict[str, str]:
    return {"name": name, "gender": gender, "title": title, "office_phone": office, "mobile": mobile,
            "fax": fax, "qq": qq, "wechat": wechat, "email": email, "unit_name": unit, "address": address}


# -- 附件2 ----------------------------------------------------------------------------------

_FORMS = ("视频会议", "现场启动仪式", "线上直播", "宣讲、咨询", "知识竞赛", "座谈会、现场观摩")


def _progress_values(seed: int, variants: dict[str, str]) -> dict[str, str]:
    """Every blank filled with a plausible figure (seeded), then the unit's own way of writing
    some of them."""
    rng = random.Random(seed)
    values = {}
    for blank in BLANKS:
        if blank.type == INT:
            people = "人" in blank.label
            values[blank.key] = str(rng.randint(40, 2400) if people else rng.randint(1, 18))
        else:
            values[blank.key] = rng.choice(_FORMS)
    values.update(variants)
    return values


def _header(unit: str, contact: str, phone: str, day: str) -> dict[str, str]:
    return {"header.unit_name": unit, "header.contact": contact, "header.phone": phone, "header.fill_date": day}


# -- the reports ------------------------------------------------------------------------------

def _weekly_text(unit: str, week: int, seed: int) -> str:
    rng = random.Random(seed)
    return (f"{unit}“安全生产月”活动第{'一二三四'[week - 1]}周工作情况\n\n"
            f"本周，我会围绕“消除事故隐患，筑牢安全防线”主题，组织开展了以下工作：\n"
            f"一、召开专题会议{rng.randint(1, 3)}次，传达学习习近平总书记关于安全生产的重要论述，"
            f"参加人员{rng.randint(20, 80)}人次；\n"
            f"二、组织{rng.randint(3, 15)}家企业职工参加“安全生产大家谈”云课堂学习，"
            f"共{rng.randint(200, 1500)}人次；\n"
            f"三、联合应急管理部门开展隐患排查{rng.randint(2, 9)}次，发现并督促整改隐患{rng.randint(5, 40)}处；\n"
            f"四、在微信公众号发布安全生产宣传信息{rng.randint(2, 8)}条。\n\n"
            f"下周将继续推进安全宣传“五进”工作。\n\n{unit}\n")


def _summary_text(unit: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"按照市总工会《关于开展2020年全市“安全生产月”活动的通知》要求，{unit}结合实际，"
        "精心组织，广泛发动，圆满完成了各项活动任务。现将有关情况总结如下：",
        f"一、加强组织领导。成立活动领导小组，制定活动方案，召开动员部署会{rng.randint(1, 3)}次。",
        f"二、突出宣传教育。组织开展安全宣传“五进”活动{rng.randint(8, 30)}场，"
        f"参与职工{rng.randint(800, 5000)}人次。",
        f"三、深化隐患排查。组织{rng.randint(10, 60)}家企业开展“安全生产啄木鸟”活动，"
        f"排查整治隐患{rng.randint(50, 300)}个。",
        "四、存在的问题和下一步打算。部分企业职工参与线上活动积极性不高，下一步将创新活动形式，"
        "推动安全生产工作常态化。",
    ]


# -- the month ---------------------------------------------------------------------------------

YJ = ("迎江区总工会 王丽", "yjqzgh@example.test")
DG = ("大观区总工会", "dgqzgh@example.test")
YX = ("宜秀区总工会", "yxqzgh@example.test")
HN = ("怀宁县总工会劳动保护部", "hn_ldb@example.test")
TH = ("太湖县总工会", "thxzgh@example.test")
SS_PERSONAL = ("张红", "zhanghong1985@qq.example.test")  # 宿松县's clerk, from her own mailbox
WJ = ("望江县总工会", "wjxzgh@example.test")
YUEXI = ("岳西县总工会", "yuexzgh@example.test")
TC = ("桐城市总工会", "tcszgh@example.test")
QS = ("潜山市总工会", "qsszgh@example.test")
JY = ("安庆市教育工会", "aqjygh@example.test")
YCHG = ("宜城化工集团工会", "ychg_gh@example.test")
STRANGER = ("小李", "xiaoli.work@mail.example.net")

GREETING = "市总工会劳动经济部：\n\n"


def june() -> list[DemoMail]:
    """Every demo mail, in the order they arrive."""
    mails: list[DemoMail] = []

    def add(when, sender, subject, body, attachments=(), headers=()):
        mails.append(_mail(len(mails) + 1, when, sender, subject, body, tuple(attachments), tuple(headers)))

    yj_liaison = _liaison("迎江区总工会", "王丽", "女", "办公室主任", "0556-5512345", "13905561234",
                          "yjqzgh@example.test", "安庆市迎江区龙山路88号", qq="12345678")
    add(_at(6, 1, 10, 12), YJ, "迎江区总工会联络员推荐表",
        GREETING + "附件是我会“安全生产月”活动联络员推荐表，请查收。\n\n迎江区总工会 王丽",
        [("附件1：联络员推荐表（迎江区总工会）.docx", fill_liaison_docx(yj_liaison), DOCX)])

    add(_at(6, 2, 15, 40), DG, "报送大观区总工会安全生产月联络员",
        GREETING + "现报送我会联络员推荐表（Excel），请审核。\n\n大观区总工会",
        [("大观区联络员推荐表.xlsx", fill_liaison_xlsx(_liaison(
            "安庆市大观区总工会", "陈军", "男", "副主席", "0556-5567890", "13705562345", "dgqzgh@example.test",
            "安庆市大观区菱湖南路12号", wechat="chenjun_dg")), XLSX)])

    add(_at(6, 3, 9, 25), TC, "桐城市总工会 附件1",
        "您好，附件为我会联络员推荐表。\n\n桐城市总工会 刘洋 0556-6212345",
        [("桐城市总工会联络员推荐表.docx", fill_liaison_docx(_liaison(
            "桐城市总工会", "刘洋", "男", "经济工作部部长", "0556-6212345", "13855603456", "tcszgh@example.test",
            "桐城市龙眠街道和平路6号")), DOCX)])

    add(_at(6, 3, 16, 5), JY, "市教育工会联络员推荐表",
        GREETING + "附件请查收。\n\n安庆市教育工会",
        [("联络员推荐表.xlsx", fill_liaison_xlsx(_liaison(
            "安庆市教育工会", "周敏", "女", "干事", "0556-5501234", "15956004567", "aqjygh@example.test",
            "安庆市迎江区人民路1号"), layout="columns"), XLSX)])

    # Out of office, answering the 09:00 weekly reminder: kept, never answered.
    add(_at(6, 4, 9, 10), WJ, "自动回复：关于报送“安全生产月”活动周报的提醒",
        "您好，我已收到您的邮件。本人6月1日至6月7日外出学习，返回后将尽快回复。",
        headers=[("X-Autoreply", "yes"), ("Auto-Submitted", "auto-replied")])

    add(_at(6, 4, 11, 30), YJ, "迎江区总工会安全生产月第一周周报",
        GREETING + _weekly_text("迎江区总工会", 1, 101))
    add(_at(6, 4, 16, 50), YUEXI, "岳西县总工会本周工作开展情况",
        _weekly_text("岳西县总工会", 1, 201))

    # 宿松县's clerk sends from her personal mailbox: the form names the unit, the roster
    # address is told.
    add(_at(6, 5, 10, 20), SS_PERSONAL, "宿松县总工会联络员推荐表",
        "领导好，单位邮箱登不上，用个人邮箱发送，请查收。\n张红",
        [("宿松县总工会-附件1.docx", fill_liaison_docx(_liaison(
            "宿松县总工会", "张红", "女", "办公室副主任", "0556-7812345", "13645567890",
            "ssxzgh@example.test", "宿松县孚玉镇人民路20号")), DOCX)])

    add(_at(6, 8, 14, 0), HN, "怀宁县总工会报送联络员推荐表",
        GREETING + "附件为我县联络员推荐表，请查收。",
        [("怀宁县联络员.xlsx", fill_liaison_xlsx(_liaison(
            "怀宁县总工会", "何平", "男", "劳动保护部部长", "0556-4612345", "18956001234",
            "hn_ldb@example.test", "怀宁县高河镇府前路1号"), layout="columns"), XLSX)])

    add(_at(6, 9, 10, 45), YX, "宜秀区总工会联络员推荐表",
        GREETING + "附件是我会联络员推荐表。\n\n宜秀区总工会",
        [("附件1.docx", fill_liaison_docx(_liaison(
            "宜秀区总工会", "杨帆", "女", "组织部部长", "0556-5321234", "13966005678", "yxqzgh@example.test",
            "安庆市宜秀区文苑路9号")), DOCX)])

    add(_at(6, 10, 17, 20), YUEXI, "岳西县总工会联络员推荐表",
        "附件请查收。", [("岳西县总工会联络员推荐表.xlsx", fill_liaison_xlsx(_liaison(
            "岳西县总工会", "储国强", "男", "副主席", "0556-2112345", "13805562222", "yuexzgh@example.test",
            "岳西县天堂镇建设路3号")), XLSX)])

    add(_at(6, 11, 10, 0), YJ, "迎江区总工会第二周周报", GREETING + _weekly_text("迎江区总工会", 2, 102))
    add(_at(6, 11, 15, 30), YCHG, "宜城化工集团工会第二周工作周报",
        GREETING + "我会第二周工作周报见附件。",
        [("宜城化工第二周周报.docx", _docx("宜城化工集团有限公司工会“安全生产月”第二周工作周报",
                                     _weekly_text("宜城化工集团有限公司工会", 2, 302).split("\n")[2:]), DOCX)])
    add(_at(6, 11, 16, 10), YUEXI, "岳西县总工会周报（第二周）", _weekly_text("岳西县总工会", 2, 202))

    # Late: the liaison deadline was June 10.
    add(_at(6, 12, 9, 40), TH, "太湖县总工会联络员推荐表（补报）",
        GREETING + "因工作疏忽，我会联络员推荐表迟报，敬请谅解。",
        [("太湖县总工会联络员推荐表.docx", fill_liaison_docx(_liaison(
            "太湖县总工会", "汪涛", "男", "办公室主任", "0556-4112345", "13505563333", "thxzgh@example.test",
            "太湖县晋熙镇人民路15号")), DOCX)])

    # Nobody can place this one: a personal address, no unit named anywhere.
    add(_at(6, 12, 11, 0), STRANGER, "安全生产月周报",
        "您好，这是我们单位本周安全生产月工作情况：本周组织职工观看警示教育片2场，参与职工150人次；"
        "开展隐患排查1次，整改隐患4处。")

    add(_at(6, 18, 10, 30), YJ, "迎江区总工会第三周周报",
        GREETING + "第三周周报见附件。",
        [("迎江区总工会第三周周报.docx", _docx("迎江区总工会“安全生产月”第三周工作周报",
                                        _weekly_text("迎江区总工会", 3, 103).split("\n")[2:]), DOCX)])
    add(_at(6, 18, 17, 0), TC, "桐城市总工会第三周周报", _weekly_text("桐城市总工会", 3, 403))
    # After Thursday 17:30: late for week three.
    add(_at(6, 19, 8, 50), YUEXI, "岳西县总工会第三周周报", _weekly_text("岳西县总工会", 3, 203))

    # 怀宁县 types 若干 into one blank (an error named in the acknowledgement), then resends.
    hn_header = _header("怀宁县总工会", "何平", "18956001234", "2020年6月22日")
    add(_at(6, 22, 10, 0), HN, "怀宁县总工会进展情况统计表",
        GREETING + "附件为我县活动进展情况统计表。",
        [("怀宁县进展情况统计表.docx", fill_progress_docx(
            _progress_values(4, {"inspection.violations": "若干", "exemplary.videos": "无"}), hn_header), DOCX)])
    add(_at(6, 23, 9, 15), HN, "更正：怀宁县总工会进展情况统计表",
        GREETING + "昨天报送的统计表有一处未填准确，现更正后重新报送，以此为准。",
        [("怀宁县进展情况统计表（更正）.docx", fill_progress_docx(
            _progress_values(4, {"inspection.violations": "12", "exemplary.videos": "无"}),
            dict(hn_header, **{"header.fill_date": "2020年6月23日"})), DOCX)])

    add(_at(6, 24, 15, 0), YJ, "迎江区总工会统计表及活动总结",
        GREETING + "附件为我会进展情况统计表和活动总结，请审阅。\n\n迎江区总工会 王丽",
        [("附件2：进展情况统计表（迎江区）.docx", fill_progress_docx(
            _progress_values(1, {"launch.forms": "视频会议、现场启动", "study.online_participants": "1,200"}),
            _header("迎江区总工会", "王丽", "13905561234", "2020.6.24")), DOCX),
         ("迎江区总工会2020年安全生产月活动总结.docx",
          _docx("迎江区总工会2020年“安全生产月”活动总结", _summary_text("迎江区总工会", 11)), DOCX)])
    add(_at(6, 25, 11, 20), YJ, "迎江区总工会第四周周报", GREETING + _weekly_text("迎江区总工会", 4, 104))
    add(_at(6, 25, 16, 0), YUEXI, "岳西县总工会第四周周报", _weekly_text("岳西县总工会", 4, 204))

    # Full-width digits and a Chinese numeral, one row per activity item.
    add(_at(6, 26, 10, 30), DG, "大观区总工会附件2进展情况统计表",
        GREETING + "附件为进展情况统计表，请查收。",
        [("大观区总工会进展情况统计表.xlsx", fill_progress_xlsx(
            _progress_values(2, {"launch.events": "３", "study.group_sessions": "三", "exemplary.reports": "十二"}),
            _header("大观区总工会", "陈军", "13705562345", "6月26日"), layout="rows"), XLSX)])

    # One cell per blank, with an approximate figure (约50: read as 50, with a warning).
    add(_at(6, 28, 16, 40), YX, "宜秀区总工会进展情况统计表",
        GREETING + "统计表见附件。", [("宜秀区统计表.xlsx", fill_progress_xlsx(
            _progress_values(3, {"training.video_interviews": "约50"}),
            _header("宜秀区总工会", "杨帆", "13966005678", "2020-06-28"), layout="cells",
            header_in_cells=True), XLSX)])

    add(_at(6, 28, 21, 30), QS, "潜山市总工会安全生产月活动总结",
        GREETING + "活动总结见附件。", [("潜山市总工会活动总结.docx",
                                   _docx("潜山市总工会2020年“安全生产月”活动总结", _summary_text("潜山市总工会", 12)), DOCX)])

    # Late: the table and the summary were due June 28.
    add(_at(6, 29, 9, 0), JY, "安庆市教育工会进展情况统计表",
        GREETING + "因期末工作较忙，统计表迟报，请谅解。", [("教育工会进展情况统计表.xlsx", fill_progress_xlsx(
            _progress_values(5, {}), _header("安庆市教育工会", "周敏", "15956004567", "2020年6月29日")), XLSX)])
    add(_at(6, 30, 10, 0), TC, "桐城市总工会统计表和总结",
        "附件为我会统计表和活动总结。\n\n桐城市总工会 刘洋",
        [("桐城市进展情况统计表.docx", fill_progress_docx(
            _progress_values(6, {}), _header("桐城市总工会", "刘洋", "0556-6212345", "2020年6月30日")), DOCX),
         ("桐城市总工会活动总结.docx", _docx("桐城市总工会2020年“安全生产月”活动总结", _summary_text("桐城市总工会", 16)),
          DOCX)])

    return sorted(mails, key=lambda m: m.when)
