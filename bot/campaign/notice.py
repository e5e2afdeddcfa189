"""A campaign folder drafted from the union's notice (`intake campaign new`).

The notice is read like any attachment (`forms.readers.read_document`: .docx; .doc/.wps through
LibreOffice; a PDF's text layer; plain text). From it:

* the title (关于做好全市2020年“安全生产月”活动的通知) gives the name and the year;
* the 附件 list and the pages after the `附件1` / `附件2` headings give the forms: in a Word
  notice each page (heading, title, header line, table) is copied into a blank .docx of its
  own; in a PDF or text notice the table is rebuilt from its lines (cells split at tabs or at
  runs of spaces, the columns of a prose table followed down the page); files given beside
  the notice (`forms`) take the place of a page;
* the sentences naming deadlines (`于6月10日前报送…（附件1）`, `6月28日前报送…（附件2）和…总结`,
  `每周四下午下班前，报送本周…`) give the items: every form and every free document is an item
  of its own; a date alone is the end of that day, 下班 the office's closing time;
* the 联系人/邮箱 line gives the mailbox, the month the notice names (今年6月) the period, else
  the first to the last deadline; the signature's date, when there is one, the day
  submissions open.

Every guessed value carries, in campaign.toml, a comment naming the sentence it came from;
what could not be understood is listed in Chinese (`Draft.unclear`). `write` puts the folder on
disk and loads it back (`definition.load_campaign`), so a draft that is written is one the
bot can run.
"""
from __future__ import annotations

import calendar as month_calendar
import copy
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterable

from ..config import WEEKDAYS
from ..outfiles import write_file
from ..forms import safety
from ..forms.definition import (BLANK_RE, GRID, LIST, MANY, ONE, PROSE, TYPE_NAMES, DefinitionError, Form,
                                derive_form)
from ..forms.readers import UnreadableFile, read_document
from ..forms.readers import libreoffice
from .definition import DEFINITION_FILE, DOCUMENT, FORM, WEEKLY, Campaign, load_campaign

TIMEZONE = "Asia/Shanghai"
CONVERT_SECONDS = 120.0
WEEKLY_KEYWORDS = ("周报", "本周", "每周")
_WEEKDAY_DIGITS = "一二三四五六日"


# ---------------------------------------------------------------------------- the draft


@dataclass(frozen=True)
class DraftItem:
    item: str
    label: str
    kind: str  # FORM | DOCUMENT | WEEKLY
    source: str  # the notice's words it came from
    form: str = ""
    due: datetime | None = None  # naive, in the campaign's zone
    due_note: str = ""  # how the time was read (日期 alone, 下班, …)
    weekday: int | None = None
    time: time | None = None
    first: date | None = None
    last: date | None = None
    keywords: tuple[str, ...] = ()
    note: str = ""  # a further comment for the clerk


@dataclass(frozen=True)
class DraftForm:
    form: str  # 附件1
    title: str
    file: str  # the blank's name in the folder
    data: bytes
    derived: Form
    origin: str  # where the blank came from (a page of the notice, a file given beside it)
    title_source: str = ""
    liaison: bool = False
    liaison_source: str = ""
    per_unit: str = ONE
    per_unit_source: str = ""


@dataclass(frozen=True)
class Draft:
    notice: str  # the notice's file name
    title: str
    name: str
    year: int
    start: date
    end: date
    submissions_open: date
    closing_time: time
    mailbox: str
    keywords: tuple[str, ...]
    items: tuple[DraftItem, ...]
    forms: tuple[DraftForm, ...]
    sources: dict[str, str] = field(default_factory=dict)  # [campaign] key -> the words it came from
    unclear: tuple[str, ...] = ()  # Chinese, for the clerk
    notes: tuple[str, ...] = ()  # understood, but not an item (重大活动可随时报送)
    timezone: str = TIMEZONE

    @property
    def slug(self) -> str:
        return default_folder_name(self)

    def toml(self) -> str:
        return render_toml(self)


def default_folder_name(draft: Draft) -> str:
    """`2020-全市安全生产月活动`: the year, then the name without it and without punctuation."""
    rest = draft.name.replace(f"{draft.year}年度", "").replace(f"{draft.year}年", "")
    rest = re.sub(r"[\W_]+", "", rest)
    return f"{draft.year}-{rest}" if rest else str(draft.year)


# ---------------------------------------------------------------------------- reading the notice


@dataclass(frozen=True)
class _Block:
    kind: str  # "p" | "table"
    text: str = ""
    element: object = None  # docx: the w:p / w:tbl element, copied into a form's blank


@dataclass(frozen=True)
class _Notice:
    blocks: tuple[_Block, ...]
    mode: str  # "docx" (real paragraphs and tables) | "pdf" (laid-out lines) | "txt"
    docx: object = None  # the python-docx Document, for copying pages


def _unreadable(filename: str, exc: UnreadableFile) -> DefinitionError:
    return DefinitionError(f"通知 {filename} 无法读取：{exc.reason}")


def _read_notice(data: bytes, filename: str) -> _Notice:
    fmt = safety.sniff(data, filename)
    try:
        if fmt in ("doc", "wps", "rtf", "odt"):
            data = libreoffice.convert(data, fmt, "docx", timeout=CONVERT_SECONDS)
            fmt = "docx"
        if fmt == "docx":
            read_document(data, "notice.docx")  # the bounded, guarded read of every attachment
            return _docx_notice(data)
        if fmt in ("pdf", "txt"):
            document = read_document(data, filename, fmt=fmt)
            return _Notice(tuple(_Block("p", line) for line in document.paragraphs), fmt)
    except UnreadableFile as exc:
        raise _unreadable(filename, exc) from None
    raise DefinitionError(f"通知 {filename} 应为 Word（.docx/.doc/.wps）、带文字层的 PDF 或文本文件（.txt）")


def _docx_notice(data: bytes) -> _Notice:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    blocks = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(_Block("p", Paragraph(child, document).text, child))
        elif tag == "tbl":
            text = "\n".join("\t".join(c.text for c in row.cells) for row in Table(child, document).rows)
            blocks.append(_Block("table", text, child))
    return _Notice(tuple(blocks), "docx", document)


# ---------------------------------------------------------------------------- text helpers

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_CJK_ASCII_GAP = re.compile(r"(?<=[^\x00-\x7f])[ \u00a0]+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])[ \u00a0]+(?=[^\x00-\x7f\s])")
_HEADING_RE = re.compile(r"^附\s*件\s*([0-9]+)\s*[：:．.、]?\s*(.*)$")
_LIST_START_RE = re.compile(r"^附\s*件\s*[：:]\s*(.*)$")
_LIST_ENTRY_RE = re.compile(r"^([0-9]+)\s*[.．、]\s*(.+)$")
_TITLE_END_RE = re.compile(r"(通知|方案|意见|函|办法|细则|安排)$")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_CN_NUM = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CN_NUM["零"] = 0
_CN_NUM["○"] = 0


def _clean(text: str) -> str:
    """Body text for reading: ASCII digits, no spaces a PDF puts between Chinese and digits."""
    text = text.translate(_FULLWIDTH_DIGITS).replace("\u00a0", " ")
    return _CJK_ASCII_GAP.sub("", text).strip(" \u3000\t")


def _cn_number(text: str) -> int | None:
    """二〇二〇 → 2020, 二十五 → 25, 十 → 10; digits as they are."""
    if text.isdigit():
        return int(text)
    if all(c in _CN_NUM for c in text):
        return int("".join(str(_CN_NUM[c]) for c in text))
    if "十" in text and all(c in _CN_NUM or c == "十" for c in text):
        tens, _, ones = text.partition("十")
        return (_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0)
    return None


_ISSUE_DATE_RE = re.compile(r"^([0-9]{4}|[〇○零一二三四五六七八九]{4})\s*年\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*月"
                            r"\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*日$")


def _issue_date(line: str) -> date | None:
    match = _ISSUE_DATE_RE.match(line.strip(" \u3000"))
    if not match:
        return None
    y, m, d = (_cn_number(g) for g in match.groups())
    try:
        return date(y, m, d) if None not in (y, m, d) else None
    except ValueError:
        return None


def _join_wrapped(lines: list[str]) -> list[str]:
    """Paragraphs from laid-out or typed lines: a line that does not end a sentence goes on in
    the next one (a PDF wraps at the margin), unless that one starts something of its own."""
    out: list[str] = []
    open_ = False
    for raw in lines:
        line = _clean(raw)
        if not line:
            open_ = False
            continue
        aside = len(raw) - len(raw.lstrip(" \u3000")) >= 16  # a signature or date set to the right
        starts_own = aside or _issue_date(line) is not None or bool(
            re.match(r"^([一二三四五六七八九十]+、|[0-9]+[.．、]|附\s*件|联系人|（[一二三四五六七八九十]+）)", line))
        if open_ and out and not starts_own:
            out[-1] += line
        else:
            out.append(line)
        last = out[-1]
        open_ = not (aside or re.search(r"[。：:；;！!？?]$", last) or _TITLE_END_RE.search(last)
                     or _issue_date(last) or _LIST_START_RE.match(last) or _LIST_ENTRY_RE.match(last))
    return out


# ---------------------------------------------------------------------------- cutting the notice


def _table_like(text: str) -> bool:
    """A text line that is a table row: cells split by tabs or wide gaps, or a blank in it."""
    body = text.strip(" \u3000")
    return "\t" in body or bool(re.search(r"\S(?: {2,}|\u3000{2,})\S", body)) or bool(BLANK_RE.search(body))


def _cut(notice: _Notice) -> tuple[list[_Block], list[tuple[int, str, list[_Block]]]]:
    """The body (everything before the first 附件 page) and the pages: (number, the heading's
    own title, the blocks after the heading)."""
    blocks = list(notice.blocks)
    heads = [(i, _HEADING_RE.match(_clean(b.text))) for i, b in enumerate(blocks) if b.kind == "p"]
    heads = [(i, m) for i, m in heads if m]
    pages: list[tuple[int, str, list[_Block]]] = []
    first = None
    for n, (i, match) in enumerate(heads):
        stop = heads[n + 1][0] if n + 1 < len(heads) else len(blocks)
        content = blocks[i + 1:stop]
        has_table = any(b.kind == "table" for b in content) or (
            notice.mode != "docx" and sum(1 for b in content if b.kind == "p" and _table_like(b.text)) >= 1)
        if first is None and not has_table:
            continue  # an entry of the 附件 list written 附件1：…, not a page
        if first is None:
            first = i
        pages.append((int(match.group(1)), match.group(2).strip(), content))
    body = blocks[:first] if first is not None else blocks
    return body, pages


# ---------------------------------------------------------------------------- the body


@dataclass
class _Body:
    paragraphs: list[str]
    title: str
    title_lines: list[str]
    attachments: dict[int, str]  # the 附件 list: number -> title
    attachment_sources: dict[int, str]
    issue_date: date | None
    issue_source: str
    sentences: list[str]


def _read_body(blocks: list[_Block], mode: str) -> _Body:
    texts = [b.text for b in blocks if b.kind == "p"]
    paragraphs = [_clean(t) for t in texts if _clean(t)] if mode == "docx" else _join_wrapped(texts)
    # the title: from the line starting 关于 (or the first line) to the one ending 通知
    start = next((i for i, p in enumerate(paragraphs[:8]) if p.startswith("关于")), None)
    if start is None:
        start = next((i for i, p in enumerate(paragraphs) if not re.search(r"(文件|〔\d{4}〕\d+号)$", p)), 0)
    end = start
    while end < min(start + 3, len(paragraphs) - 1) and not _TITLE_END_RE.search(paragraphs[end]):
        end += 1
    if not _TITLE_END_RE.search(paragraphs[end] if paragraphs else ""):
        end = start
    title_lines = paragraphs[start:end + 1]
    title = "".join(title_lines)
    rest = paragraphs[end + 1:]
    attachments: dict[int, str] = {}
    sources: dict[int, str] = {}
    issue, issue_source = None, ""
    sentences_from: list[str] = []
    in_list = False
    for p in rest:
        head = _LIST_START_RE.match(p)
        entry = _LIST_ENTRY_RE.match(p)
        single = _HEADING_RE.match(p)
        if head:
            in_list = True
            inner = _LIST_ENTRY_RE.match(head.group(1).strip())
            if inner:
                attachments[int(inner.group(1))] = inner.group(2).strip()
                sources[int(inner.group(1))] = p
            elif head.group(1).strip():  # 附件：…表 (one attachment, no number)
                attachments[1] = head.group(1).strip()
                sources[1] = p
            continue
        if in_list and entry:
            attachments[int(entry.group(1))] = entry.group(2).strip()
            sources[int(entry.group(1))] = p
            continue
        if single and single.group(2):  # 附件1：…表 as a list entry
            attachments[int(single.group(1))] = single.group(2).strip()
            sources[int(single.group(1))] = p
            in_list = True
            continue
        in_list = False
        when = _issue_date(p)
        if when is not None:
            issue, issue_source = when, p
            continue
        sentences_from.append(p)
    sentences = []
    for p in sentences_from:
        sentences.extend(s for s in re.findall(r"[^。！？!?]+[。！？!?]?", p) if s.strip())
    return _Body(paragraphs, title, title_lines, attachments, sources, issue, issue_source, sentences)


def _name_and_year(title: str) -> tuple[str, int | None]:
    core = re.sub(r"^关于", "", title)
    core = re.sub(r"的(通知|方案|意见|函|办法|细则|安排)$", "", core)
    core = re.sub(r"^(进一步|认真|切实)?(做好|开展|举办|组织开展|组织|启动|印发)", "", core)
    core = re.sub(r"(工作)$", "", core)
    match = re.search(r"(\d{4})\s*年(度)?", core)
    if not match:
        return core, None
    year = int(match.group(1))
    rest = (core[:match.start()] + core[match.end():]).strip()
    return f"{year}年{rest}", year


def _keywords(title: str, name: str, year: int | None) -> tuple[str, ...]:
    quoted = re.findall(r"[“\"]([^”\"]{2,20})[”\"]", title)
    if quoted:
        return tuple(dict.fromkeys(quoted))
    core = name.replace(f"{year}年", "") if year else name
    core = re.sub(r"^(全市|全省|全县|全区)", "", core)
    core = re.sub(r"(活动|工作)$", "", core)
    return (core,) if core else ()


# ---------------------------------------------------------------------------- deadlines

_AMPM = r"(?P<ampm>上午|下午|中午|晚上|晚)?"
_CLOCK = r"(?:(?P<h>\d{1,2})(?:[:：](?P<mi>\d{2})|[时点](?:(?P<mi2>\d{1,2})分|(?P<half>半))?)|(?P<off>下班))?"
_DATE = (r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})[日号]|(?P<eom>底|末))"
         r"(?:[（(](?:星期|周)[一二三四五六日天][）)])?")
_DEADLINE_RE = re.compile(_DATE + _AMPM + _CLOCK + r"(?:前|之前|以前|止)")
_DEADLINE_AT_RE = re.compile(r"(?:截止|截至)(?:时间|日期)?(?:为|是|到)?" + _DATE + _AMPM + _CLOCK)
_WEEKLY_RE = re.compile(r"每(?:周|星期)(?P<wd>[一二三四五六日天])" + _AMPM + _CLOCK + r"(?:前|之前|以前)?")
_MONTHLY_RE = re.compile(r"每(?:个)?月(?:\d{1,2}日|底|末)")
_VERBS = r"(?:报送|上报|提交|报至|送至|发送|寄送|交至|呈报|报来|报市)"
_VERB_RE = re.compile(_VERBS)
_REQUEST_RE = re.compile(r"请|务必|须|应当|截止|截至|(?<![关对由用属等基])于")
_ANYTIME_RE = re.compile(r"随时" + _VERBS)
_ATTACH_REF_RE = re.compile(r"附\s*件\s*(\d+)((?:\s*[、和及与,，]\s*(?:附\s*件\s*)?\d+)*)")
_NOUNS = ("总结", "报告", "方案", "计划", "简报", "汇报", "台账", "照片", "视频", "图片", "材料", "案例", "信息",
          "名单", "情况")
_NOTE_RE = re.compile(r"[（(](?:电子版|纸质版|电子稿|纸质稿|电子文档|word版|Word版|pdf版|PDF版|一式[^）)]*|"
                      r"加盖公章[^）)]*|盖章[^）)]*)[）)]")
_PER_APPLICANT_RE = re.compile(r"每(?:名|位|个|人|户)[^，。；]{0,12}(?:填写|填报|一份|一表)")
_SENTENCE_END = "。！？!?"


def _moment(match: re.Match, year: int, closing: time) -> tuple[datetime, str] | None:
    g = match.groupdict()
    y = int(g["y"]) if g.get("y") else year
    m = int(g["m"])
    try:
        if g.get("eom"):
            d = month_calendar.monthrange(y, m)[1]
        else:
            d = int(g["d"])
        day = date(y, m, d)
    except (ValueError, TypeError):
        return None
    at, how = _clock(g, closing)
    return datetime.combine(day, at), how


def _clock(g: dict, closing: time) -> tuple[time, str]:
    if g.get("off"):
        return closing, f"下班前：按下班时间 {closing.strftime('%H:%M')}"
    if g.get("h"):
        h = int(g["h"])
        minute = int(g.get("mi") or g.get("mi2") or (30 if g.get("half") else 0))
        if g.get("ampm") in ("下午", "晚上", "晚") and h < 12:
            h += 12
        if h > 23 or minute > 59:
            return time(23, 59, 59), "时刻无法理解：按当天结束"
        return time(h, minute), f"写明时刻 {h:02d}:{minute:02d}"
    if g.get("ampm") == "上午":
        return time(12, 0), "“上午”：按 12:00"
    return time(23, 59, 59), "只写日期：按当天 23:59:59"


def _split_top(text: str) -> list[tuple[str, str]]:
    """`text` cut at 和 / 及 / 以及 / 、 / 与 outside quotes and brackets: (separator, piece)."""
    pieces: list[tuple[str, str]] = []
    depth, sep, cur, i = 0, "", "", 0
    while i < len(text):
        ch = text[i]
        if ch in "“（(《「":
            depth += 1
        elif ch in "”）)》」" and depth:
            depth -= 1
        if depth == 0:
            for word in ("以及", "和", "及", "、", "与"):
                if text.startswith(word, i):
                    pieces.append((sep, cur))
                    sep, cur = word, ""
                    i += len(word)
                    break
            else:
                cur += ch
                i += 1
            continue
        cur += ch
        i += 1
    pieces.append((sep, cur))
    return [(s, p) for s, p in pieces if p.strip()]


def _names_something(piece: str, attachments: dict[int, str]) -> bool:
    return bool(_ATTACH_REF_RE.search(piece)) or any(n in piece for n in _NOUNS) or any(
        _short_title(t) and _short_title(t) in piece for t in attachments.values())


def _objects(segment: str, attachments: dict[int, str]) -> list[tuple[str, str]]:
    """What a deadline's clause asks for: (separator, piece) per thing named."""
    verb = _VERB_RE.search(segment)
    jiang = re.search(r"将(.+?)" + _VERBS, segment)
    if jiang:
        text = jiang.group(1)
    elif verb:
        text = segment[verb.end():]
    else:
        text = segment
    text = re.split(r"[，,；;。]", text, 1)[0]
    text = re.sub(r"^(至|到|给)?[^“”（）]{0,12}?(?:邮箱|处)", "", text) if verb and text.startswith(("至", "到")) else text
    pieces = _split_top(text)
    merged: list[tuple[str, str]] = []
    pending = ""
    pending_sep = ""
    for sep, piece in pieces:
        if pending:
            piece, sep = pending + sep + piece, pending_sep
            pending = ""
        if not _names_something(piece, attachments):
            pending, pending_sep = piece, sep
            continue
        merged.append((sep, piece))
    if pending:
        if merged:
            s, p = merged[-1]
            merged[-1] = (s, p + pending_sep + pending)
        else:
            merged.append((pending_sep, pending))
    return merged


def _short_title(title: str) -> str:
    """联络员推荐表 of “安全生产月”活动联络员推荐表: without the year, the quoted campaign and 活动."""
    t = _NOTE_RE.sub("", title)
    t = re.sub(r"[（(]\s*附\s*件\s*\d+[^）)]*[）)]", "", t)
    t = re.sub(r"^\d{4}年(度)?", "", t)
    t = re.sub(r"^.*”", "", t) if "”" in t and not t.endswith("”") else t
    t = t.strip(" \u3000“”\"")
    if t.startswith("活动") and len(t) - 2 >= 3:
        t = t[2:]
    return t


def _document_label(piece: str) -> str:
    t = _NOTE_RE.sub("", piece).strip(" \u3000")
    t = re.sub(r"^[^“”]*“[^”]*”", "", t) if t.startswith("“") else t
    t = re.sub(r"^(本单位|各单位|本年度|年度)", "", t)
    return t.strip(" \u3000“”") or piece.strip()


def _noun(piece: str) -> str:
    for noun in _NOUNS:
        if noun in piece:
            return noun
    return ""


@dataclass
class _Found:
    items: list[DraftItem]
    unclear: list[str]
    notes: list[str]
    per_unit: dict[int, str]  # 附件N -> the words saying one per applicant


def _clauses(sentence: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(sentence):
        if ch in "，,；;" + _SENTENCE_END:
            spans.append((start, i))
            start = i + 1
    if start < len(sentence):
        spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if sentence[a:b].strip()]


def _clause_start(sentence: str, at: int) -> int:
    return max(sentence.rfind(m, 0, at) for m in "，,；;") + 1


def _find_items(sentences: list[str], year: int, closing: time, attachments: dict[int, str]) -> _Found:
    found = _Found([], [], [], {})
    forms_seen: set[int] = set()
    for sentence in sentences:
        sentence = sentence.strip()
        used: list[tuple[int, int]] = []
        marks = sorted([(m.start(), "deadline", m) for m in _DEADLINE_RE.finditer(sentence)]
                       + [(m.start(), "deadline", m) for m in _DEADLINE_AT_RE.finditer(sentence)]
                       + [(m.start(), "weekly", m) for m in _WEEKLY_RE.finditer(sentence)], key=lambda t: t[0])
        marks = [mark for n, mark in enumerate(marks) if not n or mark[0] >= marks[n - 1][2].end()]
        for n, (at, what, match) in enumerate(marks):
            nxt = marks[n + 1][0] if n + 1 < len(marks) else len(sentence)
            start = _clause_start(sentence, at)
            if what == "weekly":
                item = _weekly(sentence, match, start, nxt, closing)
                if item is not None:
                    found.items.append(item)
                    used.append((start, start + len(item.source)))
                continue
            moment = _moment(match, year, closing)
            segment = sentence[match.end():nxt]
            if nxt < len(sentence):  # the next deadline's own clause is not this one's
                segment = segment[:max(0, _clause_start(sentence, nxt) - match.end() - 1)] or segment
            objects = _objects(segment, attachments)
            if moment is None or not objects:
                continue
            due, how = moment
            offset = match.end()
            for k, (sep, piece) in enumerate(objects):
                pos = sentence.find(piece, offset)
                end = pos + len(piece) if pos >= 0 else offset
                source = sentence[start:end] if k == 0 else (sep + piece)
                offset = max(offset, end)
                used.append((start if k == 0 else max(start, pos - len(sep)), end))
                refs = _refs(piece)
                if refs:
                    for number in refs:
                        forms_seen.add(number)
                        found.items.append(DraftItem("", _form_label(piece, number, attachments, len(refs) > 1),
                                                     FORM, source, form=f"附件{number}", due=due, due_note=how))
                        after = sentence[end:nxt]
                        per = _PER_APPLICANT_RE.search(after.split("；")[0]) or _PER_APPLICANT_RE.search(piece)
                        if per:
                            found.per_unit[number] = per.group()
                    continue
                named = [number for number, t in attachments.items()
                         if _short_title(t) and _short_title(t) in piece and number not in forms_seen]
                if named:
                    number = named[0]
                    forms_seen.add(number)
                    found.items.append(DraftItem("", _form_label(piece, number, attachments, False), FORM, source,
                                                 form=f"附件{number}", due=due, due_note=how))
                    continue
                noun = _noun(piece)
                found.items.append(DraftItem("", _document_label(piece), DOCUMENT, source, due=due, due_note=how,
                                             keywords=(noun,) if noun else ()))
        for a, b in _clauses(sentence):
            clause = sentence[a:b].strip()
            if any(a < ub and ua < b for ua, ub in used):
                continue
            if _ANYTIME_RE.search(clause):
                found.notes.append(f"“{clause}”：理解为不限时间、不单列为报送事项（随时收到的材料照常登记）")
                continue
            if _MONTHLY_RE.search(clause) and _VERB_RE.search(clause):
                found.unclear.append(f"每月报送暂不能自动设置：“{clause}”（可按每项截止时间分别写成 [[items]]）")
                continue
            if _VERB_RE.search(clause) and (_REQUEST_RE.search(clause) or _DEADLINE_RE.search(clause)):
                found.unclear.append(f"未能理解的报送要求：“{clause}”（所在句：{sentence}）")
    return found


def _refs(piece: str) -> list[int]:
    out = []
    for match in _ATTACH_REF_RE.finditer(piece):
        out.append(int(match.group(1)))
        out.extend(int(d) for d in re.findall(r"\d+", match.group(2) or ""))
    return list(dict.fromkeys(out))


def _form_label(piece: str, number: int, attachments: dict[int, str], several: bool) -> str:
    short = "" if several else _short_title(re.split(r"[（(]\s*附\s*件", piece)[0])
    if not short or not re.search(r"[\u4e00-\u9fff]{2}", short):
        short = _short_title(attachments.get(number, "")) or "表格"
    return f"{short}（附件{number}）"


def _weekly(sentence: str, match: re.Match, start: int, nxt: int, closing: time) -> DraftItem | None:
    g = match.groupdict()
    weekday = _WEEKDAY_DIGITS.index(g["wd"]) if g["wd"] in _WEEKDAY_DIGITS else 6
    at, how = _clock(g, closing)
    if at == time(23, 59, 59):
        at, how = time(23, 59), "只写星期：按当天 23:59"
    verb = _VERB_RE.search(sentence, match.end())
    if verb is None:
        return None
    ends = [sentence.find(m, verb.end()) for m in "，,；;。"]
    end = min([e for e in ends if e >= 0] or [len(sentence)])
    return DraftItem("", "周报", WEEKLY, sentence[start:end], weekday=weekday, time=at, due_note=how,
                     keywords=WEEKLY_KEYWORDS)


# ---------------------------------------------------------------------------- the period

_MONTH_RE = re.compile(r"(今年|本年|(\d{4})年)?(\d{1,2})月(?:份)?(?:是|为)")
_RANGE_RE = re.compile(r"(?:活动|竞赛|开展|实施)?(?:时间|期间)[为是：:]?\s*(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日"
                       r"(?:[—–\-~～至到]|至)\s*(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")


def _clause_of(sentence: str, at: int) -> str:
    ends = [i for i in (sentence.find(m, at) for m in "，,；;。") if i >= 0]
    return sentence[_clause_start(sentence, at):min(ends) if ends else len(sentence)].strip()


def _period(sentences: list[str], year: int, deadlines: list[date]) -> tuple[date, date, str]:
    for s in sentences:
        match = _RANGE_RE.search(s)
        if match:
            y1, m1, d1, y2, m2, d2 = match.groups()
            try:
                start = date(int(y1 or year), int(m1), int(d1))
                end = date(int(y2 or y1 or year), int(m2), int(d2))
            except ValueError:
                continue
            if start <= end:
                return start, end, _clause_of(s, match.start())
    for s in sentences:
        match = _MONTH_RE.search(s)
        if match:
            y = int(match.group(2) or year)
            m = int(match.group(3))
            if not 1 <= m <= 12:
                continue
            start = date(y, m, 1)
            end = date(y, m, month_calendar.monthrange(y, m)[1])
            if all(start <= d <= end for d in deadlines):
                return start, end, _clause_of(s, match.start())
    if deadlines:
        return min(deadlines), max(deadlines), ""
    return date(year, 1, 1), date(year, 12, 31), ""


# ---------------------------------------------------------------------------- forms from pages


def _copy_page(notice: _Notice, number: int, heading: str, content: list[_Block]) -> bytes:
    """附件N's page as a docx of its own: the heading, the lines above the table, the table
    (and anything down to the next heading), copied element by element."""
    import docx

    document = docx.Document()
    body = document.element.body
    sect = body.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sectPr")
    heading_p = document.add_paragraph(f"附件{number}" + (f"：{heading}" if heading else ""))
    body.remove(heading_p._p)
    sect.addprevious(heading_p._p)
    last_table = max(i for i, b in enumerate(content) if b.kind == "table")
    for block in content[:last_table + 1]:
        element = copy.deepcopy(block.element)
        for tag in ("drawing", "pict", "object"):  # images (a seal) would name parts this file lacks
            for node in element.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag):
                node.getparent().remove(node)
        for node in list(element.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}sectPr")):
            node.getparent().remove(node)
        sect.addprevious(element)
    tail = document.add_paragraph("")  # a table never ends the body
    body.remove(tail._p)
    sect.addprevious(tail._p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_SPLIT_GAP = re.compile(r"(?: {2,}|\u3000{2,})")


def _segments(line: str, tabs: bool) -> list[tuple[int, str]]:
    """A table line's cells with the column each starts at; blanks kept whole."""
    protected = BLANK_RE.sub(lambda m: m.group()[0] + "\x00" + m.group()[-1], line.rstrip())
    if tabs:
        out, col = [], 0
        for cell in protected.split("\t"):
            out.append((col, cell.replace("\x00", "    ")))
            col += len(cell) + 1
        return out
    protected = protected.replace("\u3000", " ")
    return [(m.start(), m.group().replace("\x00", "    ")) for m in re.finditer(r"\S+(?: \S+)*", protected)]


def _normal_blanks(text: str) -> str:
    return BLANK_RE.sub(lambda m: m.group()[0] + "    " + m.group()[-1], text)


def _is_label(text: str) -> bool:
    t = re.sub(r"[\s\u3000]", "", text).rstrip("：:*＊")
    return 0 < len(t) <= 12 and not re.search(r"\d", t.replace("QQ", "")) and not BLANK_RE.search(text)


def _header_line(text: str) -> bool:
    return len(re.findall(r"[^：:\s\u3000]+[：:]", text)) >= 2


_LIST_TITLE_RE = re.compile(r"名单|花名册|汇总表|一览表|登记表|统计表|报名表")


def _rebuild_page(number: int, heading: str, lines: list[str]) -> tuple[bytes | None, str]:
    """A blank .docx rebuilt from a PDF's or a text file's lines of one 附件 page; None and
    the reason when no table could be seen."""
    tabs = any("\t" in line for line in lines)
    lines = [line.rstrip() for line in lines]
    paragraphs: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _header_line(line) and not BLANK_RE.search(line):
            paragraphs.append(_clean(line) if not tabs else line.strip())
            i += 1
            continue
        segs = [s for s in _segments(line, tabs) if s[1].strip()]
        if len(segs) == 1 and not paragraphs and not BLANK_RE.search(line) and (
                len(segs[0][1].strip()) > 12 or segs[0][1].strip().endswith("表")):
            paragraphs.append(_clean(segs[0][1]))
            i += 1
            continue
        break
    table = [line for line in lines[i:]]
    if not any(line.strip() for line in table):
        return None, "标题下没有表格"
    title = heading or (paragraphs[0] if paragraphs else "")
    if any(BLANK_RE.search(line) for line in table) or any(re.search(r"[（(]\s*$", line) for line in table):
        rows = _prose_rows_tabbed(table) if tabs else _prose_rows_layout(table)
        shape = PROSE
    else:
        rows, shape = _grid_or_list_rows(table, tabs, title)
    if not rows:
        return None, "未能从文字中认出表格"
    return _docx_from_rows(number, paragraphs, rows, shape), ""


_PLACEHOLDER_RE = re.compile(r"^([（(][^）)]*[）)]|(?:年|月|日|\s)+|[（(]?盖章[）)]?)$")


def _continues(text: str, above: str) -> bool:
    """A PDF wraps a label inside its cell: （人） under 家庭人口, 明 under 困难情况说."""
    return text.startswith(("（", "(", "）", ")")) or len(text) == 1 or above.count("（") > above.count("）")


def _layout_cells(table: list[str]) -> list[list[list]]:
    """Each line's cells [start, text, is_value] with a label's wrapped words joined to it and
    placeholders (（盖章）, 年 月 日) kept as the text of the value cell they sit in."""
    lines: list[list[list]] = []
    for line in table:
        segs = [[start, _clean(text), False] for start, text in _segments(line, False) if text.strip()]
        if not segs:
            continue
        if lines and not all(re.fullmatch(r"\d+", t) for _, t, _ in segs):
            above = lines[-1]
            rest = []
            for seg in segs:
                target = next((a for a in above if abs(a[0] - seg[0]) <= 2), None)
                if target is not None and (target[2] or _continues(seg[1], target[1])):
                    target[1] += seg[1]
                else:
                    rest.append(seg)
            if not rest:
                continue
            segs = rest
        for k, seg in enumerate(segs):
            if k and _PLACEHOLDER_RE.match(seg[1]) and not segs[k - 1][2]:
                seg[2] = True
        lines.append(segs)
    return lines


def _grid_or_list_rows(table: list[str], tabs: bool, title: str) -> tuple[list[list[str]], str]:
    label_lines: list[list[tuple[str, bool]]] = []
    numbers = 0
    if tabs:
        parsed = [[[0, _clean(c), False] for _, c in _segments(line, True) if c.strip()] for line in table]
        parsed = [p for p in parsed if p]
    else:
        parsed = _layout_cells(table)
        head = parsed[0] if parsed else []
        if len(head) >= 3 and (head[0][1] in ("序号", "编号") or re.search(r"名单|花名册|汇总表|一览表", title)):
            # a list's header wraps in its narrow columns: every further line of words is more of it
            for cells in parsed[1:]:
                if all(re.fullmatch(r"\d+", t) for _, t, _ in cells):
                    continue
                for seg in cells:
                    nearest = min(head, key=lambda h: abs(h[0] - seg[0]))
                    nearest[1] += seg[1]
            parsed = [head] + [c for c in parsed[1:] if all(re.fullmatch(r"\d+", t) for _, t, _ in c)]
    for cells in parsed:
        if all(re.fullmatch(r"\d+", t) for _, t, _ in cells):
            numbers += 1
            continue
        label_lines.append([(t, value) for _, t, value in cells])
    if not label_lines:
        return [], GRID
    head = [t for t, _ in label_lines[0]]
    listish = len(label_lines) == 1 and len(head) >= 3 and (
        head[0] in ("序号", "编号") or numbers >= 1 or bool(_LIST_TITLE_RE.search(title)))
    if listish:
        count = max(numbers, 5)
        numbered = head[0] in ("序号", "编号")
        return [head] + [[str(n) if numbered else ""] + [""] * (len(head) - 1) for n in range(1, count + 1)], LIST
    rows = []
    for cells in label_lines:
        row: list[str] = []
        for text, value in cells:
            if value and row:
                row[-1] = text  # the label's value cell holds printed words: not a field to fill
            else:
                row.extend([text, ""])
        rows.append(row)
    return rows, GRID


def _prose_rows_tabbed(table: list[str]) -> list[list[str]]:
    """Rows of a prose table copied as text: cells split at tabs, a cell's further paragraphs
    on lines of their own."""
    max_tabs = max(line.count("\t") for line in table)
    rows: list[list[str]] = []
    tabs_in_row = max_tabs
    for line in table:
        if not line.strip():
            continue
        count = line.count("\t")
        if count and (tabs_in_row + count > max_tabs or tabs_in_row == max_tabs) or not rows:
            rows.append(line.split("\t"))
            tabs_in_row = count
            continue
        parts = line.split("\t")
        rows[-1][-1] += "\n" + parts[0]
        rows[-1].extend(parts[1:])
        tabs_in_row += count
    width = max_tabs + 1
    out = []
    for row in rows:
        cells = [c.strip("\n") for c in row]
        if any(BLANK_RE.search(c) for c in cells):
            cells = [""] * (width - len(cells)) + cells
        out.append(cells)
    return out


def _prose_rows_layout(table: list[str]) -> list[list[str]]:
    """Rows of a prose table from a PDF's laid-out lines: the columns followed down each page
    (a PDF lays each page out on its own; within a table an empty line is a page break), the
    last column holding the blanks; a line with a cell in every column (but perhaps the
    merged category's) starts a row when the row above has ended its prose."""
    tol = 3
    pages: list[list[list[tuple[int, str]]]] = [[]]
    for line in table:
        segs = [s for s in _segments(line, False) if s[1].strip()]
        if segs:
            pages[-1].append(segs)
        elif pages[-1]:
            pages.append([])
    header: list[str] = []
    first = pages[0][0] if pages[0] else []
    if first and not any(BLANK_RE.search(t) for _, t in first) and all(len(t) <= 8 for _, t in first):
        header = [t for _, t in first]
        pages[0] = pages[0][1:]
    width = max((len(segs) for page in pages for segs in page), default=0)
    width = max(2, min(width, 4))

    def full(segs: list[tuple[int, str]]) -> bool:
        return len(segs) >= max(2, width - 1)

    def starts(segs: list[tuple[int, str]], est: list[int | None]) -> list[int | None]:
        take = segs[-width:]
        out = list(est)
        for c, (start, _) in zip(range(width - len(take), width), take):
            out[c] = start
        return out

    est: list[int | None] = [None] * width
    rows: list[list[list[str]]] = []
    for page in pages:
        ahead = next((segs for segs in page if full(segs)), None)
        if ahead is not None:
            est = starts(ahead, est)
        for segs in page:
            if full(segs):
                est = starts(segs, est)
                take = segs[-width:]
                prose = "".join(rows[-1][-1]) if rows else ""
                if not rows or not prose or prose.rstrip().endswith(("。", ".")):
                    rows.append([[] for _ in range(width)])
                if len(segs) > width:
                    rows[-1][0].extend(t for _, t in segs[:-width])
                for c, (_, text) in zip(range(width - len(take), width), take):
                    rows[-1][c].append(text)
                continue
            if not rows:
                rows.append([[] for _ in range(width)])
            for start, text in segs:
                column = 0
                for c in range(width - 1, -1, -1):
                    if est[c] is not None and start >= est[c] - tol:
                        column = c
                        break
                rows[-1][column].append(text)
    out: list[list[str]] = []
    if header:
        out.append(header)
    for row in rows:
        cells = ["".join(_clean(t) for t in column) for column in row]
        cells[-1] = _normal_blanks(cells[-1])
        out.append(cells)
    return out


def _docx_from_rows(number: int, paragraphs: list[str], rows: list[list[str]], shape: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(f"附件{number}")
    for line in paragraphs:
        document.add_paragraph(line)
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    category_from: int | None = None
    for r, row in enumerate(rows):
        blanks = any(BLANK_RE.search(c) for c in row)
        if len(row) < width:
            if shape == PROSE and blanks:
                row = [""] * (width - len(row)) + row
            else:  # the row's first cell spans what the row lacks (活动项目 over two columns), or its last
                first = 0 if shape == PROSE else len(row) - 1
                merged = table.cell(r, first).merge(table.cell(r, first + width - len(row)))
                merged.text = row[first]
                rest = row[first + 1:] if first == 0 else []
                for c, text in enumerate(rest, start=first + width - len(row) + 1):
                    table.cell(r, c).text = text
                for c, text in enumerate(row[:first]):
                    table.cell(r, c).text = text
                continue
        for c, text in enumerate(row):
            if shape == PROSE and c == 0 and width >= 4 and blanks:
                if text.strip():
                    category_from = r
                elif category_from is not None:  # the category cell merged down, as printed
                    table.cell(category_from, 0).merge(table.cell(r, 0))
                    continue
            cell = table.cell(r, c)
            lines = text.split("\n")
            cell.text = lines[0]
            for more in lines[1:]:
                cell.add_paragraph(more)
    document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _page_lines(content: list[_Block]) -> list[str]:
    return [b.text for b in content if b.kind == "p"]


# ---------------------------------------------------------------------------- forms given beside


def _given_form(name: str, data: bytes) -> tuple[bytes, str, list[str] | None]:
    """A form file given beside the notice: (docx/xlsx bytes, extension, None) or, for a PDF or
    a text file, (b"", "", its lines) to be rebuilt."""
    fmt = safety.sniff(data, name)
    try:
        if fmt in ("docx", "xlsx"):
            read_document(data, f"form.{fmt}")
            return data, f".{fmt}", None
        if fmt in ("doc", "wps", "rtf", "odt"):
            return libreoffice.convert(data, fmt, "docx", timeout=CONVERT_SECONDS), ".docx", None
        if fmt in ("xls", "et", "ods"):
            return libreoffice.convert(data, fmt, "xlsx", timeout=CONVERT_SECONDS), ".xlsx", None
        if fmt in ("pdf", "txt"):
            return b"", "", list(read_document(data, name, fmt=fmt).paragraphs)
    except UnreadableFile as exc:
        raise DefinitionError(f"表格文件 {name} 无法读取：{exc.reason}") from None
    raise DefinitionError(f"表格文件 {name} 应为 .docx、.xlsx、.doc、.wps、.xls、.pdf 或 .txt")


def _number_of(name: str, derived: Form | None) -> int | None:
    match = re.search(r"附\s*件\s*(\d+)", Path(name).stem)
    if match:
        return int(match.group(1))
    if derived is not None and derived.form:
        found = re.search(r"\d+", derived.form)
        return int(found.group()) if found else None
    return None


def _derive(data: bytes, file: str) -> tuple[Form | None, str]:
    try:
        return derive_form(data, file), ""
    except DefinitionError as exc:
        return None, str(exc)


# ---------------------------------------------------------------------------- the draft itself


def _as_pairs(forms: Iterable) -> list[tuple[str, bytes]]:
    out = []
    for f in forms:
        if isinstance(f, (str, Path)):
            path = Path(f)
            try:
                out.append((path.name, path.read_bytes()))
            except OSError as exc:
                raise DefinitionError(f"无法读取表格文件 {path}：{exc.strerror or exc}") from None
        else:
            name, data = f
            out.append((str(name), bytes(data)))
    return out


def _form_file(number: int, title: str, ext: str) -> str:
    short = re.sub(r"[\\/:*?\"<>|\s]", "", _short_title(title)) or "表格"
    return f"附件{number}（{short}）{ext}"


def _item_names(items: list[DraftItem], forms: dict[str, DraftForm]) -> list[DraftItem]:
    taken: set[str] = set()
    out = []
    documents = 0
    for item in items:
        wanted = ""
        if item.kind == FORM:
            form = forms.get(item.form)
            words = item.label + (form.title if form else "")
            if "联络员" in words:
                wanted = "liaison_form"
            elif "统计表" in words or "进展情况" in words:
                wanted = "progress_table"
            fallback = f"form_{re.sub(r'[^0-9]', '', item.form) or len(out) + 1}"
        elif item.kind == WEEKLY:
            wanted, fallback = "weekly_report", "weekly_report"
        else:
            if "总结" in item.label:
                wanted = "summary"
            documents += 1
            fallback = f"document_{documents}"
        name = wanted if wanted and wanted not in taken else fallback
        while name in taken:
            name += "_"
        taken.add(name)
        out.append(replace(item, item=name))
    return out


def draft(notice_bytes: bytes, filename: str, *, forms: Iterable = (), closing_time: str = "17:30") -> Draft:
    """The campaign a notice describes, as far as it can be read; `forms`: blank form files
    given beside it ((name, bytes) pairs or paths), each taking the place of the page with its
    附件 number."""
    try:
        closing = time.fromisoformat(closing_time)
    except ValueError:
        raise DefinitionError(f"下班时间应写成 时:分，如 17:30，实际为 {closing_time!r}") from None
    notice = _read_notice(notice_bytes, filename)
    body_blocks, pages = _cut(notice)
    body = _read_body(body_blocks, notice.mode)
    unclear: list[str] = []
    sources: dict[str, str] = {}

    name, year = _name_and_year(body.title)
    sources["name"] = body.title
    if year is None:
        mentioned = re.search(r"(\d{4})年", "".join(body.sentences))
        if mentioned:
            year = int(mentioned.group(1))
            sources["year"] = f"标题中没有年份，取正文中最先出现的年份（{year}年）"
            name = f"{year}年{name}"
        elif body.issue_date:
            year = body.issue_date.year
            sources["year"] = f"标题中没有年份，取发文日期的年份：{body.issue_source}"
            name = f"{year}年{name}"
        else:
            year = date.today().year
            unclear.append(f"标题和正文中都没有年份，暂按 {year} 年；请核对 year 和各截止日期")
            sources["year"] = "未找到年份"
    else:
        sources["year"] = body.title
    if not body.title:
        unclear.append("未找到通知标题（“关于……的通知”），活动名称 name 请手工填写")

    found = _find_items(body.sentences, year, closing, body.attachments)
    unclear.extend(found.unclear)

    # the forms: pages of the notice, then the files given beside it (which win)
    drafted: dict[int, DraftForm] = {}
    for number, heading, content in pages:
        title = body.attachments.get(number) or heading
        if notice.mode == "docx":
            if not any(b.kind == "table" for b in content):
                unclear.append(f"附件{number} 的页面上没有表格，未能生成空白表格；请用 --form 提供该表格文件")
                continue
            data, ext, origin = _copy_page(notice, number, heading, content), ".docx", f"通知中“附件{number}”之后的表格"
        else:
            data, why = _rebuild_page(number, heading, _page_lines(content))
            ext, origin = ".docx", f"由通知中“附件{number}”之后的文字重建的表格（请对照原件核对）"
            if data is None:
                unclear.append(f"附件{number}：{why}，未能生成空白表格；请用 --form 提供该表格文件")
                continue
        if not title:
            probe, _ = _derive(data, f"附件{number}.docx")
            title = probe.title if probe else ""
        file = _form_file(number, title or f"附件{number}", ext)
        derived, why = _derive(data, file)
        if derived is None:
            unclear.append(f"附件{number}：{why}")
            continue
        drafted[number] = DraftForm(f"附件{number}", title or derived.title, file, data, derived, origin,
                                    body.attachment_sources.get(number, ""))
    free = sorted(set(body.attachments) - set(drafted))
    for given_name, given in _as_pairs(forms):
        data, ext, lines = _given_form(given_name, given)
        if lines is not None:
            number = _number_of(given_name, None) or (free[0] if free else len(drafted) + 1)
            data, why = _rebuild_page(number, body.attachments.get(number, ""), lines)
            ext = ".docx"
            if data is None:
                unclear.append(f"表格文件 {given_name}：{why}")
                continue
        probe, why = _derive(data, f"form{ext}")
        if probe is None:
            unclear.append(f"表格文件 {given_name}：{why}")
            continue
        number = _number_of(given_name, probe) or (free[0] if free else max(drafted, default=0) + 1)
        if number in free:
            free.remove(number)
        title = body.attachments.get(number) or probe.title or Path(given_name).stem
        file = _form_file(number, title, ext)
        derived, _ = _derive(data, file)
        drafted[number] = DraftForm(f"附件{number}", title, file, data, derived, f"随通知提供的文件 {given_name}",
                                    body.attachment_sources.get(number, ""))

    # items whose form has no blank become documents; forms no sentence names get one
    items: list[DraftItem] = []
    for item in found.items:
        if item.kind == FORM and int(item.form[2:]) not in drafted:
            unclear.append(f"{item.form} 的空白表格未找到（通知中没有该附件的表格，也未用 --form 提供），"
                           f"“{item.label}”暂按普通文档登记；补上表格后请在 [[forms]] 中加上它并把 kind 改为 form")
            noun = _noun(item.label)
            item = replace(item, kind=DOCUMENT, form="", keywords=(noun,) if noun else ())
        items.append(item)
    named = {int(i.form[2:]) for i in items if i.kind == FORM}
    deadlines = [i.due.date() for i in items if i.due is not None]
    start, end, period_source = _period(body.sentences, year, deadlines)
    for number in sorted(set(drafted) - named):
        df = drafted[number]
        items.append(DraftItem("", f"{_short_title(df.title) or df.title}（附件{number}）", FORM,
                               df.title_source or df.origin, form=df.form,
                               due=datetime.combine(end, time(23, 59, 59)),
                               due_note="通知中未找到截止时间：暂按活动结束日，请核对"))
        unclear.append(f"附件{number}（{df.title}）：通知中未找到报送截止时间，暂按活动结束日 {end}；请核对 due")
    for number in sorted(set(body.attachments) - set(drafted) - named):
        unclear.append(f"附件{number}（{body.attachments[number]}）：既没有截止时间也没有空白表格，未列为报送事项")
    if not items:
        unclear.append("未找到任何报送事项（如“于6月10日前报送……（附件1）”），请手工填写 [[items]]")

    # weekly: every such weekday of the period
    for n, item in enumerate(items):
        if item.kind == WEEKLY:
            first = start + timedelta(days=(item.weekday - start.weekday()) % 7)
            last = end - timedelta(days=(end.weekday() - item.weekday) % 7)
            if last < first:
                unclear.append(f"活动期间 {start} 至 {end} 内没有星期{_WEEKDAY_DIGITS[item.weekday]}，每周报送无法安排")
                items[n] = replace(item, first=start, last=start)
            else:
                items[n] = replace(item, first=first, last=last)
    weekly = [i for i in items if i.kind == WEEKLY]
    for extra in weekly[1:]:
        unclear.append(f"通知中有多个每周报送的要求，只保留第一个；另一个是：“{extra.source}”")
        items.remove(extra)

    if period_source:
        sources["start"] = period_source
    elif deadlines:
        sources["start"] = "通知未写明活动期间：按最早到最晚的截止日期"
        unclear.append(f"通知未写明活动期间，暂按最早到最晚的截止日期 {start} 至 {end}；请核对 start、end")
    else:
        sources["start"] = "未找到活动期间"
        unclear.append(f"未找到活动期间，暂按全年 {start} 至 {end}；请核对 start、end")
    opens = start
    if body.issue_date and body.issue_date <= start:
        opens = body.issue_date
        sources["submissions_open"] = f"发文日期：{body.issue_source}"
    elif body.issue_date:
        sources["submissions_open"] = f"发文日期 {body.issue_date} 晚于活动开始，按活动开始日"
    else:
        sources["submissions_open"] = "未找到发文日期：按活动开始日；此日之前收到的邮件不受理"
        unclear.append(f"未找到发文日期（落款日期），submissions_open 暂按活动开始日 {start}；"
                       f"若通知在此之前下发，请改为发文日期，否则之前收到的材料不会登记")

    mailbox, mail_source = _mailbox(body.paragraphs)
    if mailbox:
        sources["mailbox"] = mail_source
    else:
        unclear.append("未找到收件邮箱（联系人/邮箱一行），mailbox 请手工填写")
    keywords = _keywords(body.title, name, year)
    sources["keywords"] = "标题中引号内的词" if re.search(r"[“\"]", body.title) else "活动名称的主体"

    form_items = {i.form: i for i in items if i.kind == FORM}
    finished: list[DraftForm] = []
    liaison_taken = False
    for number in sorted(drafted):
        df = drafted[number]
        item = form_items.get(df.form)
        words = df.title + (item.label if item else "")
        if "联络员" in words and df.derived.shape == GRID and not liaison_taken:
            liaison_taken = True
            df = replace(df, liaison=True, liaison_source="表名含“联络员”：其中的姓名、手机、电子邮箱作为该单位的联络员")
        per = found.per_unit.get(number)
        if per and df.derived.shape != LIST:
            df = replace(df, per_unit=MANY, per_unit_source=f"通知写明“{per}”：每份是一条记录")
        elif df.derived.shape == GRID and re.search(r"申请表|申报表", df.title):
            df = replace(df, per_unit=MANY, per_unit_source="表名为申请表：每人一份，每份是一条记录（如每单位只报一份，请改为 one）")
        finished.append(df)
    named_items = _item_names(items, {f.form: f for f in finished})
    result = Draft(filename, body.title, name, year, start, end, opens, closing, mailbox, keywords,
                   tuple(named_items), tuple(finished), sources, tuple(dict.fromkeys(unclear)),
                   tuple(dict.fromkeys(found.notes)))
    return result


def _mailbox(paragraphs: list[str]) -> tuple[str, str]:
    for p in paragraphs:
        match = re.search(r"(?:电子邮箱|电子信箱|邮箱|E-?mail|email)\s*[：:]?\s*(" + _EMAIL_RE.pattern + ")", p, re.I)
        if match:
            return match.group(1).rstrip("."), p
    for p in paragraphs:
        match = _EMAIL_RE.search(p)
        if match:
            return match.group().rstrip("."), p
    return "", ""


# ---------------------------------------------------------------------------- campaign.toml


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    return "  # " + " ".join(text.split()) if text else ""


def _line(key: str, value: str, comment: str = "") -> str:
    return f"{key} = {value}{_comment(comment)}"


def _form_fields(df: DraftForm) -> list[str]:
    out = ["fields = ["]
    liaison_required = {"name", "mobile", "email", "unit_name"}
    for f in df.derived.fields:
        parts = [f"key = {_s(f.key)}", f"label = {_s(f.label)}"]
        if df.derived.shape == PROSE and not f.header:
            parts.append(f"short = {_s(f.short)}")
        if df.liaison and f.key in liaison_required:
            parts.append("required = true")
        why = f"第{f.position}项，{TYPE_NAMES.get(f.type, f.type)}（{f.type}）"
        if f.guessed:
            why += f"：{f.guessed}"
        out.append("  { " + ", ".join(parts) + " }," + _comment(why))
    out.append("]")
    return out


def render_toml(d: Draft) -> str:
    lines = [
        f"# {d.name} —— 由 intake campaign new 根据通知《{d.notice}》起草。",
        "# 每个猜出来的值后面的注释写明它来自通知的哪一句；请逐项核对、改正，",
        "# 然后运行 intake campaign check 本目录。各项的含义见 docs/CAMPAIGNS.md。",
    ]
    if d.unclear:
        lines.append("#")
        lines.append("# 以下内容未能理解，请手工处理：")
        lines.extend(f"#   - {' '.join(u.split())}" for u in d.unclear)
    if d.notes:
        lines.append("#")
        lines.extend(f"# 另：{' '.join(n.split())}" for n in d.notes)
    lines += ["", "[campaign]",
              _line("name", _s(d.name), f"来自标题：{d.sources.get('name', '')}"),
              _line("year", str(d.year), f"来自：{d.sources.get('year', '')}"),
              _line("timezone", _s(d.timezone), "时区（一般不用改）"),
              _line("start", d.start.isoformat(), f"活动期间，来自：{d.sources.get('start', '')}"),
              _line("end", d.end.isoformat()),
              _line("submissions_open", d.submissions_open.isoformat(), d.sources.get("submissions_open", "")),
              _line("closing_time", _s(d.closing_time.strftime("%H:%M")), "下班时间：“下班前”即此时刻"),
              _line("mailbox", _s(d.mailbox), f"来自：{d.sources.get('mailbox', '未找到')}"),
              _line("keywords", "[" + ", ".join(_s(k) for k in d.keywords) + "]",
                    f"邮件主题含这些词即属本活动；{d.sources.get('keywords', '')}")]
    for item in d.items:
        lines += ["", "[[items]]", _line("item", _s(item.item), "事项的英文名（状态、报表中使用），可改"),
                  _line("label", _s(item.label)),
                  _line("kind", _s(item.kind), {FORM: "表格", DOCUMENT: "文档（不限格式）", WEEKLY: "每周报送"}[item.kind])]
        if item.kind == FORM:
            lines.append(_line("form", _s(item.form)))
        if item.kind == WEEKLY:
            lines += [_line("weekday", _s(WEEKDAYS[item.weekday]), f"星期{_WEEKDAY_DIGITS[item.weekday]}"),
                      _line("time", _s(item.time.strftime("%H:%M")), item.due_note),
                      _line("first", item.first.isoformat(), "活动期间的第一个该星期几"),
                      _line("last", item.last.isoformat(), "活动期间的最后一个该星期几")]
        else:
            lines.append(_line("due", item.due.isoformat(timespec="seconds"), item.due_note))
        if item.keywords:
            lines.append(_line("keywords", "[" + ", ".join(_s(k) for k in item.keywords) + "]",
                               "文件名、标题或主题含这些词即为此项"))
        lines.append(_line("source", _s(" ".join(item.source.split())), "通知原文"))
        if item.note:
            lines.append("# " + item.note)
    for df in d.forms:
        lines += ["", "[[forms]]", _line("form", _s(df.form)),
                  _line("title", _s(df.title), f"来自：{df.title_source}" if df.title_source else "来自表格本身"),
                  _line("file", _s(df.file), f"{df.origin}；形式：{_SHAPE_NAMES[df.derived.shape]}")]
        if df.liaison:
            lines.append(_line("liaison", "true", df.liaison_source))
        lines.append(_line("per_unit", _s(df.per_unit), df.per_unit_source or "每单位一份，以最新一份为准"))
        lines += _form_fields(df)
    return "\n".join(lines) + "\n"


_SHAPE_NAMES = {GRID: "栏目表（栏目名旁留空格）", PROSE: "带（ ）空格的文字表", LIST: "名单表（表头下逐行填写）"}


def write(d: Draft, out_dir: str | Path) -> Campaign:
    """The folder on disk: campaign.toml and the blank forms; refuses to overwrite a
    campaign.toml already there (the clerk's corrections). Returns the folder loaded back."""
    folder = Path(out_dir)
    target = folder / DEFINITION_FILE
    if target.exists():
        raise DefinitionError(f"{target} 已存在（可能已手工改过），未覆盖；请换一个目录，或先移走该文件")
    folder.mkdir(parents=True, exist_ok=True)
    for df in d.forms:
        write_file(folder / df.file, df.data)
    write_file(target, d.toml().encode("utf-8"))
    return load_campaign(folder)
