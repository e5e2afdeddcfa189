"""Property tests: for any input, the mail and form readers give a result (a ParsedMail with
its problems, a FormResult with a reason), never an unhandled exception, and never the
"program error" reason with which their last-resort guards cover a bug.

Inputs are arbitrary bytes and text, and mutations of real material: the sample mails in
/work/shared/samples/messages and 附件1/附件2 files built with python-docx and openpyxl.
`FUZZ_EXAMPLES` (environment) sets the examples per property: ~150 in CI (the whole module in
well under a minute); scripts/fuzz.py imports this module with a large number and counts.
"""
from __future__ import annotations

import os
import random
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.forms import classify
from bot.forms.document import Document, Table
from bot.forms.liaison import FIELDS, parse_liaison
from bot.forms.progress import parse_progress
from bot.forms.progress_template import BLANKS, ITEMS, render_header_line, render_progress
from bot.forms.result import ERROR, EVIDENCE, FORM_KINDS, PARSED, SKIPPED, FormResult
from bot.forms.values import EXPECT_INTEGER, EXPECT_NUMBER, NormalizedValue, chinese_to_int, is_blank_marker, \
    normalize_int, normalize_text
from bot.mail import headers, mime
from bot.mail.message import Attachment, ParsedMail

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None if EXAMPLES > 1000 else settings().database,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
# Slow properties (a .docx opened per example) run a third as many examples.
FUZZ_SLOW = settings(FUZZ, max_examples=max(EXAMPLES // 3, 20))

RUNS: Counter[str] = Counter()  # examples run per property (scripts/fuzz.py prints them)

SAMPLE_MAILS = tuple(p.read_bytes() for p in sorted(Path("/work/shared/samples/messages").glob("*.eml")))
GUARD_MAIL = "邮件无法解析（"  # parse_mail's last guard: an exception escaped the real parser
GUARD_FILE = ("读取附件时程序出错", "读取表格内容时程序出错")  # classify's guards
STATUSES = (PARSED, ERROR, EVIDENCE, SKIPPED)

# Bytes that steer a mutated mail into the parser's corners.
MIME_TOKENS = (
    b"\r\n", b"\n", b"\r\n\r\n", b"\r\n--", b"--", b"boundary=", b'boundary="', b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"--x\r\n", b"--x--\r\n", b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Type: message/rfc822\r\n", b"Content-Type: application/ms-tnef\r\n", b"Content-Disposition: attachment; ",
    b"filename*0*=utf-8''%E9%99%84", b"filename*1*=%E4%BB", b"name=\"=?gb2312?B?uL28/g==?=\"", b"=?utf-8?B?", b"=?gbk?Q?=B8",
    b"?=", b"=\r\n", b"=0D=0A", b"\x00", b"\xff\xfe", b"\xe9\x99", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"begin 644 a.txt\r\n",
    b"charset=\"", b"charset=unknown-8bit", b";;;;", b"\t", b" ", b"=", b"\"",
)


@contextmanager
def big_run_threshold(value: int):
    """Set the size from which mime cuts base64 runs out of the raw mail (see mime._Bodies)."""
    saved = mime._BIG_RUN
    mime._BIG_RUN = value
    try:
        yield
    finally:
        mime._BIG_RUN = saved


# ---------------------------------------------------------------------------- strategies

@st.composite
def mutated(draw, seeds, tokens=MIME_TOKENS, max_ops: int = 8) -> bytes:
    """One of `seeds` with up to `max_ops` edits: bytes flipped, runs deleted, duplicated or
    truncated, tokens inserted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("flip", "delete", "duplicate", "insert", "truncate")))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 400))]
        elif op == "duplicate":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 2000))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(tokens))
        elif op == "truncate" and draw(st.integers(0, 3)) == 0:
            del data[pos:]
    return bytes(data)


def header_text() -> st.SearchStrategy[str]:
    """Header values: arbitrary text, with encoded-words, quotes and parameters mixed in."""
    pieces = st.sampled_from(["=?utf-8?B?", "=?gb2312?B?", "=?gbk?Q?", "?=", "=E9=99=84", "5Lit5paH", "\"", "\\",
                              ";", "filename*=utf-8''", "filename*0*=", "filename*1=", "name=", "%E4%", "'", "<",
                              ">", "@", ",", "\r\n", "\r\n ", "\x00", "\udce9", "../", "C:\\", "附件1.docx", " "])
    return st.lists(st.one_of(st.text(max_size=12), pieces), max_size=16).map("".join)


def cell_text() -> st.SearchStrategy[str]:
    """Table cells: labels of both forms, values as units write them, and noise."""
    labels = [label for _, label, spellings in FIELDS for label in (label, *spellings)]
    words = labels + ["附件1", "附件2", "联络员推荐表", "“安全生产月”活动进展情况统计表", "填报单位：", "联系人：",
                      "（", "）", "(", ")", "3", "１２", "三", "约50", "/", "无", "—", "13342782718", "a@b.cn",
                      "0556-5588941", "男", "女", "\n", "：", " "]
    words += [b.label for b in BLANKS[:12]]
    return st.lists(st.one_of(st.sampled_from(words), st.text(max_size=6)), max_size=6).map("".join)


@st.composite
def documents(draw) -> Document:
    """A Document shaped like what the readers produce: paragraphs, then tables (ragged rows
    allowed, merged cells repeated as the contract says)."""
    paragraphs = tuple(draw(st.lists(cell_text(), max_size=6)))
    tables = []
    for _ in range(draw(st.integers(0, 3))):
        width = draw(st.integers(1, 8))
        rows = draw(st.lists(st.lists(cell_text(), min_size=1, max_size=width), max_size=10))
        tables.append(Table(tuple(tuple(row) for row in rows)))
    text = "\n".join(list(paragraphs) + ["\t".join(row) for t in tables for row in t.rows])
    return Document(paragraphs, tuple(tables), text, draw(st.sampled_from(("docx", "xlsx", "doc", "pdf", "txt"))))


@st.composite
def progress_documents(draw) -> Document:
    """附件2 as its real layout (item, requirements, progress prose) with arbitrary text typed
    into the blanks, some cells cut or swapped."""
    rows = [("活动项目", "内容要求", "进展情况")]
    for item in ITEMS:
        written = {b.key: draw(st.one_of(st.sampled_from(("3", "（５）", "约50", "无", "", "若干", "1，200", "三十")),
                                         st.text(max_size=8))) for b in item.blanks}
        prose = render_progress(item, written)
        if draw(st.integers(0, 9)) == 0:
            prose = prose[:draw(st.integers(0, len(prose)))]
        rows.append((item.name, item.requirements, prose))
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))
    header = render_header_line({"header.unit_name": draw(st.text(max_size=10)), "header.contact": "陈刚"})
    paragraphs = ("附件2", "“安全生产月”活动进展情况统计表", header)
    table = Table(tuple(rows))
    return Document(paragraphs, (table,), "\n".join(paragraphs + tuple("\t".join(r) for r in rows)), "docx")


# ---------------------------------------------------------------------------- checks

def check_mail(mail: ParsedMail) -> None:
    assert isinstance(mail, ParsedMail)
    assert not any(p.startswith(GUARD_MAIL) for p in mail.problems), mail.problems
    assert isinstance(mail.subject, str) and isinstance(mail.body_text, str)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    for att in mail.attachments:
        assert isinstance(att, Attachment) and isinstance(att.data, bytes)
        check_filename(att.filename)


def check_filename(name: str) -> None:
    assert name and len(name) <= headers.MAX_NAME
    assert "/" not in name and "\\" not in name and "\x00" not in name and "\n" not in name and "\r" not in name


def check_result(result: FormResult) -> None:
    assert isinstance(result, FormResult)
    assert result.status in STATUSES and (result.kind is None or result.kind in FORM_KINDS)
    assert not result.reason.startswith(GUARD_FILE), result.reason
    if result.status != PARSED:
        assert result.reason, result


# ---------------------------------------------------------------------------- MIME

@FUZZ
@given(st.binary(max_size=4000))
def test_parse_mail_on_arbitrary_bytes(raw):
    RUNS["mime: arbitrary bytes"] += 1
    check_mail(mime.parse_mail(raw))


@FUZZ
@given(mutated(SAMPLE_MAILS))
def test_parse_mail_on_mutated_sample_mails(raw):
    RUNS["mime: mutated sample mails"] += 1
    check_mail(mime.parse_mail(raw))


@FUZZ
@given(st.one_of(st.sampled_from(SAMPLE_MAILS), mutated(SAMPLE_MAILS, max_ops=4)))
def test_cutting_base64_runs_out_changes_nothing(raw):
    """mime reads long base64 runs straight from the raw bytes: with every run cut out (a
    16-byte threshold) a mail reads exactly as the stdlib alone reads it."""
    RUNS["mime: base64 runs cut vs. stdlib"] += 1
    with big_run_threshold(10 ** 12):
        plain = mime.parse_mail(raw)
    with big_run_threshold(16):
        cut = mime.parse_mail(raw)
    assert cut.body_text == plain.body_text
    assert [(a.filename, a.content_type, a.data, a.origin) for a in cut.attachments] == \
           [(a.filename, a.content_type, a.data, a.origin) for a in plain.attachments]
    assert (cut.subject, cut.from_addr, cut.problems) == (plain.subject, plain.from_addr, plain.problems)


# ---------------------------------------------------------------------------- headers and names

@FUZZ
@given(header_text())
def test_header_decoding_never_fails(value):
    RUNS["headers: decode_header / parse_params / parse_address"] += 1
    text = headers.decode_header(value)
    assert not any(ch in text for ch in "\r\n\x00")
    main, params = headers.parse_params(value)
    assert isinstance(main, str) and all(isinstance(v, str) for v in params.values())
    name, addr = mime.parse_address(value)
    assert "\n" not in name and (addr == "" or "@" in addr)


@FUZZ
@given(st.one_of(header_text(), st.text()), st.sampled_from(("", "application/octet-stream", "image/png",
                                                             "application/msword", "x/\x00")),
       st.one_of(st.binary(max_size=64), st.sampled_from((b"PK\x03\x04junk", b"%PDF-1.4", b"\xd0\xcf\x11\xe0"))))
def test_file_names_are_always_safe(name, ctype, data):
    RUNS["headers: clean_filename"] += 1
    check_filename(headers.clean_filename(name, ctype, data))


@FUZZ
@given(st.binary(max_size=200), st.one_of(st.none(), st.sampled_from(("gb2312", "utf-8", "big5", "x-unknown",
                                                                       "utf-16", "idna", "rot13", "")),
                                           st.text(max_size=12)))
def test_decode_bytes_with_any_label(data, charset):
    RUNS["headers: decode_bytes"] += 1
    assert isinstance(headers.decode_bytes(data, charset), str)


# ---------------------------------------------------------------------------- values

VALUE_ALPHABET = "0123456789０１２３一二三四五六七八九十百千万亿零两〇,，.。（）()[]【】约近余多左右场次人个/—-无 "


@FUZZ
@given(st.one_of(st.text(), st.text(alphabet=VALUE_ALPHABET, max_size=14)))
def test_value_normaliser_reads_or_names_what_it_expected(written):
    RUNS["values: normalize_int / normalize_text"] += 1
    number = normalize_int(written)
    assert isinstance(number, NormalizedValue)
    if number.error is None:
        assert number.value is None or (isinstance(number.value, int) and number.value >= 0)
    else:
        assert number.value is None and number.error in (EXPECT_NUMBER, EXPECT_INTEGER)
    text = normalize_text(written)
    assert text.value is None or (isinstance(text.value, str) and text.value == text.value.strip())
    assert isinstance(is_blank_marker(written), bool)
    value = chinese_to_int(written)
    assert value is None or value >= 0


# ---------------------------------------------------------------------------- form parsers

@FUZZ
@given(documents())
def test_form_parsers_on_any_document(doc):
    RUNS["forms: parse_liaison / parse_progress / classify_document"] += 1
    for parse in (parse_liaison, parse_progress):
        check_result(parse(doc))
    check_result(classify.classify_document(doc, filename="附件.docx", subject="报送"))


@FUZZ
@given(progress_documents())
def test_progress_parser_on_mangled_forms(doc):
    RUNS["forms: parse_progress on mangled 附件2"] += 1
    result = parse_progress(doc)
    check_result(result)
    for key, value in result.values.items():
        assert value is None or isinstance(value, (int, str)), (key, value)


def _seed_files() -> tuple[tuple[str, bytes], ...]:
    from tests.fixtures.hostile import xlsx_base
    from tests.fixtures.office_files import liaison_columns_xlsx, liaison_docx, report_docx

    return (("附件1.docx", liaison_docx()), ("附件1.xlsx", liaison_columns_xlsx()), ("附件2.xlsx", xlsx_base()),
            ("周报.docx", report_docx("第二周工作开展情况", ["本周开展隐患排查3次，参加职工120人。"])))


SEED_FILES = _seed_files()
FILE_TOKENS = (b"\x00", b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"<!DOCTYPE x [<!ENTITY a \"b\">]>", b"&a;",
               b"<w:tbl>", b"</w:tc>", b"<w:gridSpan w:val=\"99999\"/>", b"<w:vMerge/>", b"\xff\xff\xff\xff")


@FUZZ_SLOW
@given(st.integers(0, len(SEED_FILES) - 1), st.data())
def test_reading_mutated_office_files(index, data):
    RUNS["forms: read_attachment on mutated .docx/.xlsx"] += 1
    filename, seed = SEED_FILES[index]
    raw = data.draw(mutated((seed,), tokens=FILE_TOKENS, max_ops=6))
    check_result(classify.read_attachment(filename, raw, subject="报送材料"))


@FUZZ_SLOW
@given(st.integers(0, len(SEED_FILES) - 1), st.randoms(use_true_random=False))
def test_reading_office_files_with_mutated_xml(index, rng: random.Random):
    """The zip intact (so the XML parsers, not the zip reader, meet the damage): one XML member
    rewritten with bytes flipped, cut or duplicated."""
    import io
    import zipfile

    from tests.fixtures.office_files import replace_member

    RUNS["forms: read_attachment on mutated XML members"] += 1
    filename, seed = SEED_FILES[index]
    names = [n for n in zipfile.ZipFile(io.BytesIO(seed)).namelist() if n.endswith((".xml", ".rels"))]
    name = rng.choice(names)
    xml = bytearray(zipfile.ZipFile(io.BytesIO(seed)).read(name))
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(xml) or 1)
        choice = rng.random()
        if choice < 0.4 and xml:
            xml[pos] = rng.randrange(256)
        elif choice < 0.7:
            del xml[pos:pos + rng.randint(1, 80)]
        else:
            xml[pos:pos] = xml[pos:pos + rng.randint(1, 200)]
    check_result(classify.read_attachment(filename, replace_member(seed, name, bytes(xml)), subject="报送材料"))
