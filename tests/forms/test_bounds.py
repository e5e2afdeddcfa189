"""Reading is bounded in time, text and memory for every kind of file (issue 17).

Every file of the hostile collection (tests/fixtures/hostile_files.py) is read as the pipeline
reads an attachment, in a fresh interpreter under an address-space limit and a timeout, and must
give its expected outcome; then the limits one by one: the time budget in this process and in
the sandbox, the sandbox's memory limit, the text budget over merged ranges, LibreOffice kept
for what may be a form. The bounds are asserted as outcomes and reasons, never as times.
"""
from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.forms import classify, libreoffice, readers, sandbox
from bot.forms.readers import Budget, ReadTimeout, UnreadableFile, read_document, read_html_text
from bot.forms.result import ERROR, MAX_DOCUMENT_CHARS, SKIPPED, reason_memory, reason_timeout
from tests.fixtures import hostile_files as H
from tests.fixtures.office_files import html_table

# What one file's read may use in the suite: the sandbox limits its own children to 1 GiB, so
# the reading process itself must stay well under this.
MEMORY_MB = 1024
TIMEOUT = 180  # a hang guard for a loaded machine, not a speed test


@pytest.mark.parametrize("case", [c for c in H.CASES if not c.heavy], ids=lambda c: c.key)
def test_every_hostile_file_gives_its_outcome_under_limits(case):
    got = H.read_limited(case.filename, case.build(), memory_mb=MEMORY_MB, timeout=TIMEOUT)
    assert H.check(case, got) == [], got


def test_the_collection_covers_issue_17():
    keys = set(H.BY_KEY)
    assert {"xlsx-shared-string-bomb", "xlsx-50k-merges", "htm-outlook-fragment", "txt-latin1", "docx-deep-xml",
            "docx-100k-runs", "docx-truncated", "xlsx-dimension-claim", "xlsx-huge-cell", "docx-huge-main-part",
            "txt-shift-jis", "txt-utf16-bom"} <= keys
    # the builders make what they say (not a file the zip checks refuse first)
    for key in ("xlsx-shared-string-bomb", "xlsx-50k-merges", "docx-100k-runs"):
        assert readers.safety.check_zip(H.BY_KEY[key].build()) is None
    with zipfile.ZipFile(io.BytesIO(H.many_merges())) as archive:
        assert archive.read("xl/worksheets/sheet1.xml").count(b"<mergeCell ") == 50_000


# ---------------------------------------------------------------------------- time


def test_an_in_process_read_stops_at_its_budget():
    data = H.tiny_runs(100_000, per_paragraph=500)  # ~7 MiB of XML: many rows of work
    with pytest.raises(ReadTimeout) as caught:
        with _in_process():
            read_document(data, "a.docx", budget=Budget(0.01))
    assert caught.value.reason == reason_timeout(0.01) == "文件读取超过时间限制（0.01 秒），已停止"


def _sandbox_children() -> list[int]:
    import os
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), None)
        if ppid == os.getpid() and b"bot.forms.sandbox" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_sandboxed_read_stops_at_its_budget_and_leaves_no_child():
    data = H.big_table(4000, 100)  # 400,000 cells: far over the in-process bound, read in the sandbox
    assert readers.heavy_part("xlsx", zipfile.ZipFile(io.BytesIO(data)).infolist())
    result = classify.read_attachment("数据.xlsx", data, timeout=0.5)
    assert result.status == ERROR and result.reason == "文件读取超过时间限制（0.5 秒），已停止"
    assert _sandbox_children() == []


def test_the_budget_counts_from_the_start_of_the_attachment():
    budget = Budget(0.0)
    with pytest.raises(ReadTimeout):
        budget.remaining()
    with pytest.raises(ReadTimeout):
        read_document(H.huge_cell(10), "a.xlsx", budget=budget)


# ---------------------------------------------------------------------------- memory


def test_the_sandbox_runs_under_its_address_space_limit():
    # a 24 MiB document.xml of short runs needs some 400 MB for its element tree: under a
    # 200 MB limit the child stops, with the limit as the reason
    data = H.huge_main_part(24)
    with pytest.raises(UnreadableFile) as caught:
        sandbox.read(data, "docx", Budget(60), megabytes=200)
    assert caught.value.reason == reason_memory(200) == "文件读取所需内存超过限制（200 MB），已停止"


def test_heavy_parts_decide_where_a_package_is_read():
    def members(data):
        return zipfile.ZipFile(io.BytesIO(data)).infolist()

    assert readers.heavy_part("docx", members(H.tiny_runs(2000)), "word/document.xml") is None
    assert "word/document.xml" in readers.heavy_part("docx", members(H.tiny_runs(100_000)), "word/document.xml")
    assert readers.heavy_part("xlsx", members(H.dimension_claim())) is None
    assert readers.heavy_part("xlsx", members(H.bloated_styles())).startswith("XML ")
    # a shared-strings part under another name counts as well
    package = H.xlsx_package([H.worksheet("")], shared=[H.noise(3 * 1024 * 1024)])
    renamed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info).replace(b"sharedStrings.xml", b"strings.xml")
            target.writestr(info.filename.replace("sharedStrings.xml", "strings.xml"), content)
    assert readers.heavy_part("xlsx", members(renamed.getvalue()))


# ---------------------------------------------------------------------------- text


def test_merged_ranges_repeat_text_and_count_every_repetition():
    rows = '<row r="1">' + H.inline_cell("A1", "单位名称") + H.inline_cell("B1", "潜山市总工会") + "</row>"
    merges = '<mergeCells count="2"><mergeCell ref="B1:D2"/><mergeCell ref="D9:C8"/></mergeCells>'
    doc = read_document(H.xlsx_package([H.worksheet(rows, after=merges)]), "a.xlsx")
    assert doc.tables[0].rows == (("单位名称", "潜山市总工会", "潜山市总工会", "潜山市总工会"),
                                  ("", "潜山市总工会", "潜山市总工会", "潜山市总工会"))
    # 6 characters × 4 × 80,000 positions of one merge: over the document's text budget
    wide = '<mergeCells count="1"><mergeCell ref="A1:GR5000"/></mergeCells>'
    with pytest.raises(UnreadableFile) as caught:
        read_document(H.xlsx_package([H.worksheet(rows, after=wide)]), "a.xlsx")
    assert "文字总量超过 200 万字" in caught.value.reason


def test_merges_in_a_prefixed_sheet():
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>\n<x:worksheet xmlns:x="{H.S_NS}"><x:sheetData><x:row r="1">'
             '<x:c r="A1" t="inlineStr"><x:is><x:t>甲</x:t></x:is></x:c></x:row></x:sheetData>'
             '<x:mergeCells count="1"><x:mergeCell ref="A1:C1"/></x:mergeCells></x:worksheet>').encode()
    assert read_document(H.xlsx_package([sheet]), "a.xlsx").tables[0].rows == (("甲", "甲", "甲"),)


def test_text_budget_is_per_document():
    assert MAX_DOCUMENT_CHARS == 2_000_000
    just_under = H.docx_package(H.w_p(H.noise(MAX_DOCUMENT_CHARS - 10)))
    assert len(read_document(just_under, "a.docx").text) == MAX_DOCUMENT_CHARS - 10
    over = H.docx_package(H.w_p(H.noise(MAX_DOCUMENT_CHARS // 2)) * 3)
    with pytest.raises(UnreadableFile):
        read_document(over, "a.docx")


def test_a_cell_at_excels_limit_is_read():
    doc = read_document(H.huge_cell(32_767), "a.xlsx")
    assert len(doc.tables[0].rows[0][0]) == 32_767


def test_a_long_text_file_is_refused_for_its_text_not_called_damaged():
    result = classify.read_attachment("周报.txt", ("本周开展隐患排查。" * 300_000).encode("utf-8"))
    assert result.status == ERROR and "文字总量超过" in result.reason and "损坏" not in result.reason


# ---------------------------------------------------------------------------- HTML and LibreOffice


def test_outlook_fragments_never_start_libreoffice(monkeypatch):
    started = []
    real = libreoffice.convert

    def convert(data, fmt, target, *, timeout):
        started.append(fmt)
        return real(data, fmt, target, timeout=timeout)

    monkeypatch.setattr(libreoffice, "convert", convert)
    for n in range(1, 5):
        result = classify.read_attachment(H.fragment_name(n), H.outlook_fragment(n), subject="桐城市总工会第二周周报")
        assert result.status == SKIPPED and "正文片段" in result.reason, result
    assert started == []
    # a page that may be a form still goes to LibreOffice, which reads its table
    form = html_table([["“安全生产月”活动进展情况统计表"], ["填报单位", "桐城市总工会"]])
    result = classify.read_attachment("统计表.htm", form)
    assert started == ["html"]
    assert "未转换" not in result.reason


def test_html_text_reads_visible_text_only():
    page = ("<html><head><title>标题</title><style>p{color:red}</style><script>var x='隐藏';</script></head>"
            "<body><p>第一段&nbsp;文字</p><div>第二段<br>换行</div><table><tr><td>甲</td><td>乙</td></tr></table>"
            "<!-- 注释 --></body></html>").encode("utf-8")
    doc = read_html_text(page)
    assert doc.paragraphs == ("标题", "第一段 文字", "第二段", "换行", "甲 乙")
    assert "隐藏" not in doc.text and "注释" not in doc.text and "color" not in doc.text


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30), max_size=8))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_html_text_property(paragraphs):
    from html import escape

    page = "<html><body>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs) + "</body></html>"
    doc = read_html_text(page.encode("utf-8"))
    expected = tuple(" ".join(p.replace("\xa0", " ").split()) for p in paragraphs)
    assert doc.paragraphs == tuple(p for p in expected if p)


@given(st.binary(max_size=3000))
@settings(max_examples=100, deadline=None)
def test_html_text_of_any_bytes_is_text_or_a_reason(data):
    try:
        doc = read_html_text(b"<html><body>" + data)
    except UnreadableFile as exc:
        assert exc.reason
    else:
        assert isinstance(doc.text, str)


class _in_process:
    """Read in this process whatever the size (as the sandbox child does)."""

    def __enter__(self):
        self.saved = readers.IN_SANDBOX
        readers.IN_SANDBOX = True

    def __exit__(self, *exc):
        readers.IN_SANDBOX = self.saved


def test_no_budget_outlives_its_read():
    # a budget left current would time out every later read of this thread (the daemon's)
    for name, data in ((H.fragment_name(1), H.outlook_fragment(1)), ("a.txt", H.WEEKLY_TEXT.encode()),
                       ("a.docx", H.tiny_runs(100)), ("a.xlsx", H.dimension_claim())):
        classify.read_attachment(name, data, timeout=0.5)
        assert readers._BUDGET.get() is None
    read_html_text(H.outlook_fragment(1))
    readers.read_docx(H.tiny_runs(100))
    assert readers._BUDGET.get() is None
