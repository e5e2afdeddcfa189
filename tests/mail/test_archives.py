"""bot/mail/archives.py: zip, 7z and RAR behind one interface, one set of guards, passwords."""
from __future__ import annotations

import io
import zipfile

import pytest
import rarfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail import archives
from bot.mail.archives import Budget, Limits, kind_of, legacy_name, passwords_in, unpack
from tests.fixtures import hostile_mime as M

LIMITS = Limits()
ASK = "请在邮件正文写明解压密码（如“解压密码：1234”）或去掉密码后重新发送"


def run(data, name="材料", *, passwords=(), limits=LIMITS, budget=None):
    return unpack(data, name, limits=limits, budget=budget or Budget(limits.max_total), passwords=passwords)


FILES = [("附件1联络员推荐表.docx", b"form one" * 50), ("材料/附件2统计表.xlsx", b"form two" * 30)]
FORMATS = {
    "zip": lambda files: M.zip_of(files),
    "7z": lambda files: M.seven_zip(files),
    "rar5": lambda files: M.rar5(files),
    "rar4": lambda files: M.rar4(files),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_yields_its_files_with_their_names(fmt):
    data = FORMATS[fmt](FILES)
    result = run(data, f"材料.{fmt[:3]}")
    assert result.error is None
    assert [(n, d) for n, d in result.files] == FILES


def test_kind_is_told_by_the_bytes():
    assert kind_of(M.zip_of(FILES)) == archives.ZIP
    assert kind_of(M.seven_zip(FILES)) == archives.SEVEN_ZIP
    assert kind_of(M.rar5(FILES)) == kind_of(M.rar4(FILES)) == archives.RAR
    assert kind_of(b"%PDF-1.4") is None


def test_rar4_gbk_names_without_the_unicode_flag():
    data = M.rar4([("附件1：联络员推荐表（桐城市总工会）.docx", b"x")], legacy_encoding="gbk")
    # rarfile alone decodes such a name as UTF-16 or cp1252: mojibake
    assert rarfile.RarFile(io.BytesIO(data)).infolist()[0].filename != "附件1：联络员推荐表（桐城市总工会）.docx"
    assert [n for n, _ in run(data).files] == ["附件1：联络员推荐表（桐城市总工会）.docx"]


def test_legacy_names_utf8_then_gbk():
    assert legacy_name("表.docx".encode("utf-8")) == "表.docx"
    assert legacy_name("表.docx".encode("gbk")) == "表.docx"
    assert legacy_name(b"\xff\xfe\xfd") == "\xff\xfe\xfd"


# ---------------------------------------------------------------- guards, the same for all

BOMBS = {
    "zip": lambda: M.zip_of([("z.bin", bytes(8 * 1024 * 1024))]),
    "7z": lambda: M.seven_zip([("z.bin", bytes(8 * 1024 * 1024))]),
}


@pytest.mark.parametrize("fmt", BOMBS)
def test_high_ratio_is_a_bomb(fmt):
    result = run(BOMBS[fmt](), "炸弹")
    assert result.files == () and "疑似压缩炸弹" in result.error


@pytest.mark.parametrize("fmt", FORMATS)
def test_over_the_mail_budget_is_a_bomb_and_the_budget_is_shared(fmt):
    data = FORMATS[fmt](FILES)
    total = sum(len(d) for _, d in FILES)
    budget = Budget(total + 10)
    assert run(data, budget=budget).error is None
    assert budget.remaining == 10  # what the first archive took is gone for the next
    again = run(data, budget=budget)
    assert again.files == () and "疑似压缩炸弹" in again.error


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_members(fmt):
    data = FORMATS[fmt]([(f"{i}.txt", b"x") for i in range(6)])
    result = run(data, "多", limits=Limits(max_members=5))
    assert result.files == () and result.error.endswith("内文件过多（6 个，上限 5 个），未解开")


def test_rar_member_larger_than_declared_is_not_read_past_its_size():
    # the header says 50 bytes unpacked: the stream holds 5000
    result = run(_rar5_declaring(5000, 50))
    assert result.files and all(len(d) <= 50 for _, d in result.files)


def _rar5_declaring(real: int, declared: int) -> bytes:
    """A stored RAR5 member holding `real` bytes whose header declares `declared`."""
    vint, block = M.vint, M._rar5_block  # noqa: SLF001 - the fixture's own block writer
    import struct
    import zlib
    data = b"B" * real
    fields = (vint(0x0004) + vint(declared) + vint(0x20) + struct.pack("<I", zlib.crc32(data[:declared]))
              + vint(0) + vint(0) + vint(5) + b"b.txt")
    return b"Rar!\x1a\x07\x01\x00" + block(1, vint(0)) + block(2, fields, b"", data) + block(5, vint(0))


def test_junk_and_directories_skipped_in_every_format():
    files = [("__MACOSX/._a.docx", b"j"), ("材料/.DS_Store", b"j"), ("a.docx", b"real")]
    for fmt, build in FORMATS.items():
        assert [n for n, _ in run(build(files)).files] == ["a.docx"], fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty(fmt):
    data = FORMATS[fmt]([("Thumbs.db", b"j")])
    assert run(data, "空").error.endswith("是空的")


@pytest.mark.parametrize("data,label", [(b"PK\x03\x04broken", "压缩包 坏 已损坏"), (b"7z\xbc\xaf\x27\x1cjunkjunk", "7z 压缩包 坏 已损坏"),
                                        (b"Rar!\x1a\x07\x01\x00junk", "RAR 压缩包 坏 已损坏")])
def test_corrupt(data, label):
    assert run(data, "坏").error.startswith(label)


# ---------------------------------------------------------------- passwords

LOCKED = {
    "zip": lambda pw: M.zip_crypto([("lly.docx", b"secret form" * 20)], pw),
    "7z": lambda pw: M.seven_zip([("lly.docx", b"secret form" * 20)], password=pw),
    "7z-names": lambda pw: M.seven_zip([("lly.docx", b"secret form" * 20)], password=pw, encrypt_names=True),
    "rar5": lambda pw: M.rar5([("lly.docx", b"secret form" * 20)], password=pw),
    "rar5-names": lambda pw: M.rar5([("lly.docx", b"secret form" * 20)], password=pw, encrypt_names=True),
}


@pytest.mark.parametrize("fmt", LOCKED)
def test_locked_without_a_password_says_password_protected(fmt):
    result = run(LOCKED[fmt]("1234"))
    assert result.files == () and "设有密码" in result.error and result.error.endswith(ASK)


@pytest.mark.parametrize("fmt", LOCKED)
def test_locked_opened_with_the_right_password_among_wrong_ones(fmt):
    result = run(LOCKED[fmt]("ah2020"), passwords=("1234", "ah2020"))
    assert result.error is None and result.password_used
    assert result.files == (("lly.docx", b"secret form" * 20),)


@pytest.mark.parametrize("fmt", LOCKED)
def test_wrong_passwords_are_named(fmt):
    result = run(LOCKED[fmt]("ah2020"), passwords=("1234",))
    assert result.files == () and "密码不正确" in result.error


def test_tries_are_bounded():
    tried = []
    original = archives._Zip.read  # noqa: SLF001

    def counting(self, member, cap, password):
        tried.append(password)
        return original(self, member, cap, password)

    archives._Zip.read = counting  # noqa: SLF001
    try:
        run(LOCKED["zip"]("right"), passwords=tuple(f"w{i}" for i in range(20)) + ("right",))
    finally:
        archives._Zip.read = original  # noqa: SLF001
    assert tried == [f"w{i}" for i in range(archives.MAX_PASSWORD_TRIES)]


def test_winzip_aes_is_refused_by_name():
    data = bytearray(M.zip_of([("a.docx", b"x" * 10)]))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # compression method 99
        pos = data.find(signature)
        data[pos + offset:pos + offset + 2] = (99).to_bytes(2, "little")
    assert "AES 加密" in run(bytes(data)).error


def test_rar_without_an_extractor_names_the_missing_tool(monkeypatch):
    data = LOCKED["rar5"]("1234")
    monkeypatch.setattr(rarfile, "UNRAR_TOOL", "/nonexistent/unrar")
    monkeypatch.setattr(rarfile, "UNAR_TOOL", "/nonexistent/unar")
    monkeypatch.setattr(rarfile, "CURRENT_SETUP", None)
    try:
        result = run(data, "材料.rar", passwords=("1234",))
    finally:
        rarfile.CURRENT_SETUP = None
    assert result.error == ("RAR 压缩包 材料.rar 无法解开：本机缺少 RAR 解压工具（unar），"
                            "请管理员安装（apt-get install unar）后重新处理")
    # stored members need no extractor at all
    monkeypatch.setattr(rarfile, "CURRENT_SETUP", None)
    assert run(M.rar5(FILES)).files == tuple(FILES)


@pytest.mark.parametrize("text,expected", [
    ("附件已加密，密码：1234。", ("1234",)),
    ("附件已加密，password: 1234.", ("1234.", "1234")),
    ("解压密码 1234", ("1234",)),
    ("压缩包密码是abc123，谢谢", ("abc123",)),
    ("密码为“Ah-2020”", ("Ah-2020",)),
    ("Password: x9Y!z", ("x9Y!z",)),
    ("解压密码：１２３４", ("1234",)),  # full-width digits, as Chinese IMEs type them
    ("密码：1234；如打不开请试 解压密码：5678", ("1234", "5678")),
    ("请查收附件。", ()),
    ("邮箱密码忘了", ()),
])
def test_passwords_in_text(text, expected):
    assert passwords_in(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789!@#$%^&*-_+=~", min_size=1,
               max_size=20),
       st.sampled_from(["密码：{}", "解压密码 {}", "密码是{}，请查收", "password: {}", "解压密码为“{}”。"]),
       st.text(max_size=40))
def test_a_password_written_in_any_usual_way_is_found(password, template, noise):
    found = passwords_in(noise + "\n" + template.format(password) + "\n")
    assert password in found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["zip", "7z", "rar5", "rar4"]), st.binary(max_size=64), st.integers(0, 400), st.integers(0, 400))
def test_never_raises_on_damaged_archives(fmt, noise, at, cut):
    data = bytearray(FORMATS[fmt](FILES))
    pos = at % len(data)
    data[pos:pos + cut % 50] = noise
    result = run(bytes(data))
    assert result.error is None or isinstance(result.error, str)
    assert sum(len(d) for _, d in result.files) <= LIMITS.max_total
