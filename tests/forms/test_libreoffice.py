"""LibreOffice conversions: private profile and temp dir per run, timeouts, missing soffice."""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest

from bot.forms import safety
from bot.forms.readers import libreoffice
from bot.forms.readers.libreoffice import ConversionError, convert
from bot.forms.readers import UnreadableFile, read_document
from tests.fixtures.office_files import liaison_docx, liaison_columns_xlsx, report_docx


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at a fresh dir so a test can see exactly what a conversion leaves."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_docx_to_doc_and_back(private_tmp):
    doc = convert(liaison_docx(), "docx", "doc", timeout=120)
    assert safety.sniff(doc, "x") == "doc"
    back = convert(doc, "doc", "docx", timeout=120)
    assert safety.sniff(back, "x") == "docx"
    assert "高玉兰" in read_document(back, "x.docx").text
    assert list(private_tmp.iterdir()) == []  # temp dirs and profiles removed


def test_the_senders_name_never_reaches_the_disk(private_tmp):
    # convert() takes no file name at all; what is written is input.<ext> in a private dir
    doc = convert(liaison_docx(), "docx", "doc", timeout=120)
    hostile = "../../tmp/pwned_by_corpus.docx"
    read_document(doc, hostile)
    assert not Path("/tmp/pwned_by_corpus.docx").exists()


def test_parallel_conversions_do_not_lose_files():
    sources = [report_docx(f"第{i}周工作情况", [f"第{i}份报告的正文"]) for i in range(1, 4)]
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = read_document(convert(sources[i], "docx", "doc", timeout=120), "a.doc").text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 2]
    for i in range(3):
        assert f"第{i + 1}份报告的正文" in results[i]


def test_timeout_kills_the_process_group(private_tmp):
    with pytest.raises(ConversionError) as caught:
        convert(liaison_columns_xlsx(), "xlsx", "xls", timeout=0.05)
    assert caught.value.reason == libreoffice.REASON_TIMEOUT
    assert isinstance(caught.value, UnreadableFile)
    assert _processes_mentioning(str(private_tmp)) == []
    assert list(private_tmp.iterdir()) == []


def test_output_judged_by_the_file_not_the_exit_status(private_tmp):
    with pytest.raises(ConversionError) as caught:
        convert(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "doc", "docx", timeout=120)
    assert caught.value.reason == libreoffice.REASON_FAILED
    assert list(private_tmp.iterdir()) == []


def test_soffice_missing(monkeypatch, tmp_path):
    doc = convert(liaison_docx(), "docx", "doc", timeout=120)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert libreoffice.soffice_path() is None
    with pytest.raises(UnreadableFile) as caught:
        convert(b"x", "doc", "docx", timeout=5)
    assert caught.value.reason == "服务器未安装 LibreOffice，无法读取 .doc/.wps 文件"
    with pytest.raises(UnreadableFile) as caught:
        read_document(doc, "a.doc")
    assert caught.value.reason == libreoffice.REASON_NOT_INSTALLED


def test_unsupported_arguments():
    with pytest.raises(ValueError):
        convert(b"x", "doc", "odt", timeout=5)
    with pytest.raises(ValueError):
        convert(b"x", "exe", "docx", timeout=5)
