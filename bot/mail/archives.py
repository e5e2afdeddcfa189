"""Zip, 7z and RAR archives found in mail, opened behind one interface with one set of guards.

Chinese offices compress with Windows' own zip, WinRAR, 7-Zip and 360压缩: whatever the
format, an archive is opened here and only here, with the same guards:

- member count: more than `max_members` files and nothing is opened;
- size: the members' declared sizes against what is left of the mail's budget (`Budget`,
  shared by every archive of one mail) and against `max_ratio` times the packed size
  (`bot.zipguard`, the rule office documents are held to as well); and
  since declared sizes can lie, no member is read beyond its declared size or the budget
  (a read that goes on past it is a bomb);
- nesting is decided by the caller (`bot.mail.mime`: an archive in an archive in the mail,
  no deeper);
- names: legacy (GBK, UTF-8 without a flag) zip and RAR4 names decoded from their bytes.

Encrypted archives are opened with the passwords the caller found (the mail's text:
`passwords_in`), a bounded number of tries; without one the reason says the archive is
password-protected. Nothing here raises for an archive: whatever cannot be opened is an
`Unpacked` with `error` set, a Chinese sentence naming the archive.

Libraries: zipfile (ZipCrypto passwords; WinZip AES is refused with a precise reason),
py7zr for 7z (pure Python, AES-256 passwords), rarfile for RAR, which reads stored members
itself and needs an extractor for compressed or encrypted ones: `unrar` when installed, else
Debian's `unar` (RAR 1.5 to 5, passwords). 7-Zip as Debian ships it has no RAR code and
bsdtar ignores passwords (it writes the ciphertext and exits 0), so neither is used.
"""
from __future__ import annotations

import io
import os
import re
import struct
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from bot.zipguard import MAX_RATIO, expands_too_much

ZIP, SEVEN_ZIP, RAR = "zip", "7z", "rar"

# Stored and deflate are what Windows, WinRAR, 7-Zip and WeChat write. bzip2/LZMA zip members
# are refused: zipfile decompresses them without an output bound, so one small read could
# expand to gigabytes before any cap applies.
_SAFE_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_AES = 99  # WinZip AES (WinRAR's and 7-Zip's "AES-256" zip): zipfile cannot decrypt it
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
# How many of the passwords found in a mail are tried on one archive.
MAX_PASSWORD_TRIES = 4
# 7-Zip's AES key derivation runs 2**cycles SHA-256 rounds; 7-Zip writes 19. A crafted
# archive asking for more only costs time.
_MAX_7Z_CYCLES = 22
_7Z_AES = b"\x06\xf1\x07\x01"
# The decoded 7z header (the file list) is held in memory: py7zr allows 256 MiB of it.
_MAX_7Z_HEADER = 16 * 1024 * 1024
# How long the RAR extractor may take over one member.
_RAR_TIMEOUT = 120


@dataclass(frozen=True)
class Limits:
    max_members: int = 200
    max_total: int = 200 * 1024 * 1024
    max_ratio: int = MAX_RATIO


@dataclass
class Budget:
    """Bytes the archives of one mail may still expand to, all together."""

    remaining: int


@dataclass(frozen=True)
class Unpacked:
    """What came out of one archive: `files` as (name as its author wrote it, bytes), and
    `error`, a Chinese sentence naming the archive, when it or some of its members could not
    be read (the caller keeps the archive itself then, so that nothing vanishes)."""

    files: tuple[tuple[str, bytes], ...] = ()
    error: str | None = None
    password_used: bool = False


def kind_of(data: bytes) -> str | None:
    """ZIP, SEVEN_ZIP or RAR by the bytes (never by the name), else None."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return SEVEN_ZIP
    if data.startswith(b"Rar!\x1a\x07"):
        return RAR
    return None


_LABEL = {ZIP: "压缩包", SEVEN_ZIP: "7z 压缩包", RAR: "RAR 压缩包"}


def unpack(data: bytes, name: str, *, limits: Limits, budget: Budget,
           passwords: tuple[str, ...] = ()) -> Unpacked:
    """Open the archive `data` (shown as `name`); see the module docstring."""
    kind = kind_of(data)
    label = f"{_LABEL.get(kind, '压缩包')} {name}"
    try:
        if kind == ZIP:
            return _Zip(data, label, limits, budget).unpack(passwords)
        if kind == SEVEN_ZIP:
            return _SevenZip(data, label, limits, budget).unpack(passwords)
        if kind == RAR:
            return _Rar(data, label, limits, budget).unpack(passwords)
    except Exception as exc:  # noqa: BLE001 - libraries raise anything on hostile input
        return Unpacked(error=f"{label} 无法解开（{type(exc).__name__}），已原样保存")
    return Unpacked(error=f"{label} 不是可识别的压缩包")


# ---------------------------------------------------------------- passwords in the mail

# 密码：1234 / 解压密码 1234 / 密码是1234 / 密码为 1234 / password: 1234 / pwd=1234 / 提取码
_PASSWORD = re.compile(
    r"(?:解压缩?|压缩包|附件|文件|打开)?(?:密\s*码|口\s*令|password|passwd|pwd|pass\s*word)"
    r"\s*(?P<sep>是|为|為|:|：|=|＝)?\s*[:：]?\s*[“\"'「『【\[(（]?\s*"
    r"(?P<pw>[!-~]{1,64})", re.I)
# Written after a password and not part of it: the sentence's punctuation, a closing quote.
_PASSWORD_TRAIL = ".,;:!?)]}>\"'"


_FULL_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}


def passwords_in(*texts: str) -> tuple[str, ...]:
    """The passwords a mail's text gives for its archives, in the order they are written,
    without repeats: 密码：1234, 解压密码 1234, 密码是1234, 密码为“ab12”, password: x9.
    Pure; at most MAX_PASSWORD_TRIES * 2 candidates."""
    found: list[str] = []
    for text in texts:
        if not text:
            continue
        # Full-width letters and digits (a Chinese IME's) as ASCII; full-width punctuation
        # stays, and ends a password as any non-ASCII character does.
        text = text.translate(_FULL_WIDTH)
        for match in _PASSWORD.finditer(text):
            word = match.group("pw")
            # "密码：1234." - the full stop is most likely the sentence's; "ab12!" may be the
            # password's own: both are tried, as written first. "密码 =0" most likely says 0,
            # but "=0" may be the password itself (an ASCII separator written against it).
            own = ""
            sep = match.group("sep") or ""
            if sep in ("=", ":") and text[match.start("pw") - 1] == sep:
                own = sep + word
            for candidate in (word, word.rstrip(_PASSWORD_TRAIL), own):
                if candidate and candidate not in found:
                    found.append(candidate)
            if len(found) >= MAX_PASSWORD_TRIES * 2:
                return tuple(found[:MAX_PASSWORD_TRIES * 2])
    return tuple(found)


# ---------------------------------------------------------------- names

def legacy_name(raw: bytes) -> str:
    """An archive member name written without a Unicode flag, from its bytes: UTF-8 (macOS,
    Linux), else GBK (gb18030: Chinese Windows' code page), else latin-1."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name as its author saw it.

    With the UTF-8 flag (0x800) zipfile has already decoded it. Without, Python 3.11
    decodes with `metadata_encoding` or cp437. We do not pass metadata_encoding="gbk":
    it is applied to every unflagged name at open time, so one name that is not valid
    GBK makes the whole archive raise, and UTF-8 names written without the flag (macOS,
    Linux zip) come out garbled. Instead: the cp437 text is turned back into the exact
    bytes, then the Info-ZIP Unicode Path field, UTF-8, GBK (gb18030) are tried in turn.
    """
    if info.flag_bits & 0x800:
        return info.orig_filename
    try:
        raw = info.orig_filename.encode("cp437")
    except UnicodeEncodeError:
        return info.orig_filename
    unicode_path = _unicode_path_field(info.extra, raw)
    if unicode_path:
        return unicode_path
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return info.orig_filename


def _unicode_path_field(extra: bytes, raw_name: bytes) -> str | None:
    """Info-ZIP Unicode Path extra field (0x7075), written by 7-Zip and WinRAR beside
    a legacy-encoded name; valid only while its CRC matches that name."""
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
        if header_id == 0x7075 and len(body) >= 5 and body[0] == 1:
            if struct.unpack_from("<I", body, 1)[0] == zlib.crc32(raw_name):
                try:
                    return body[5:].decode("utf-8") or None
                except UnicodeDecodeError:
                    return None
    return None


def is_junk(name: str) -> bool:
    """macOS and Windows litter: AppleDouble '._x.docx' files would pose as forms."""
    parts = name.replace("\\", "/").split("/")
    base = parts[-1]
    return parts[0] == "__MACOSX" or base.startswith("._") or base.lower() in _JUNK_NAMES


def _shown(name: str) -> str:
    """A member's name for a sentence: its last path part, no control characters."""
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    return base[:120] or "未命名文件"


# ---------------------------------------------------------------- the common walk

class _TooLarge(Exception):
    pass


class _WrongPassword(Exception):
    pass


class _NoTool(Exception):
    """A RAR member needs the extractor and there is none."""


@dataclass
class _Member:
    name: str
    size: int  # declared uncompressed size
    packed: int | None  # declared packed size, None when unknown (7z solid blocks)
    encrypted: bool = False
    refused: str | None = None  # why this member is not read, before trying
    handle: object = None


@dataclass
class _Reader:
    """One format: list its members, read one with a cap and maybe a password."""

    data: bytes
    label: str
    limits: Limits
    budget: Budget
    members: list[_Member] = field(default_factory=list)

    def open(self) -> str | None:  # an error sentence when the archive cannot be listed
        raise NotImplementedError

    def read(self, member: _Member, cap: int, password: str | None) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def unpack(self, passwords: tuple[str, ...]) -> Unpacked:
        try:
            error = self.open()
            if error:
                return Unpacked(error=error)
            return self._unpack(passwords)
        finally:
            self.close()

    def _bomb(self) -> Unpacked:
        return Unpacked(error=f"{self.label} 解压后过大（疑似压缩炸弹），未解开")

    def _unpack(self, passwords: tuple[str, ...]) -> Unpacked:
        limits = self.limits
        if len(self.members) > limits.max_members:
            return Unpacked(error=f"{self.label} 内文件过多（{len(self.members)} 个，上限 "
                                  f"{limits.max_members} 个），未解开")
        members = [m for m in self.members if not is_junk(m.name)]
        if not members:
            return Unpacked(error=f"{self.label} 是空的")
        total = sum(m.size for m in members)
        packed = sum(m.packed for m in members if m.packed is not None)
        if any(m.packed is None for m in members):
            packed = max(packed, len(self.data))
        if total > self.budget.remaining or expands_too_much(total, packed, limits.max_ratio):
            return self._bomb()
        password = self._password_for([m for m in members if m.encrypted and not m.refused], passwords)
        extracted: list[tuple[str, bytes]] = []
        failed: list[str] = []
        for member in members:
            shown = _shown(member.name)
            if member.refused:
                failed.append(f"{self.label} 中的 {shown} {member.refused}")
                continue
            if member.encrypted and password is None:
                failed.append(_locked(self.label, shown, bool(passwords)))
                continue
            try:
                data = self.read(member, min(member.size, self.budget.remaining), password if member.encrypted else None)
            except _TooLarge:
                return self._bomb()
            except _NoTool:
                raise
            except _WrongPassword:
                failed.append(_locked(self.label, shown, True))
                continue
            except Exception:  # noqa: BLE001 - CRC mismatch, truncated stream, bad header
                failed.append(f"{self.label} 中的 {shown} 已损坏，未能解开")
                continue
            self.budget.remaining -= len(data)
            extracted.append((member.name, data))
        error = None
        if failed:
            error = failed[0] if len(failed) == 1 else "；".join(failed[:3]) + (
                f" 等 {len(failed)} 个文件未能解开" if len(failed) > 3 else "")
        return Unpacked(tuple(extracted), error, password is not None and bool(extracted))

    def _password_for(self, encrypted: list[_Member], passwords: tuple[str, ...]) -> str | None:
        """The first of `passwords` that opens the smallest encrypted member, or None."""
        if not encrypted or not passwords:
            return None
        probe = min(encrypted, key=lambda m: m.size)
        for password in passwords[:MAX_PASSWORD_TRIES]:
            try:
                self.read(probe, min(probe.size, self.budget.remaining), password)
            except _TooLarge:
                return password  # it decrypts; the walk finds the bomb
            except _NoTool:
                raise
            except Exception:  # noqa: BLE001 - a wrong password shows as any error
                continue
            return password
        return None


def _locked(label: str, shown: str, tried: bool) -> str:
    if tried:
        return f"{label} 中的 {shown} 设有密码（已加密），邮件中给出的密码不正确，未能解开"
    return (f"{label} 中的 {shown} 设有密码（已加密），未能解开；请在邮件正文写明解压密码"
            f"（如“解压密码：1234”）或去掉密码后重新发送")


# ---------------------------------------------------------------- zip

class _Zip(_Reader):
    def open(self) -> str | None:
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(self.data))
        except Exception:  # noqa: BLE001 - BadZipFile, struct/value errors from crafted directories
            return f"{self.label} 已损坏，未能解开"
        for info in self.archive.infolist():
            if info.is_dir():
                continue
            member = _Member(member_name(info), info.file_size, info.compress_size,
                             encrypted=bool(info.flag_bits & 0x1), handle=info)
            if info.compress_type == _ZIP_AES:
                member.refused = "使用 AES 加密，本系统无法解开，请改用普通 zip（或 7z）加密，或去掉密码"
            elif info.compress_type not in _SAFE_ZIP_METHODS:
                member.refused = "压缩方式不受支持，未能解开，请改用普通 zip"
            self.members.append(member)
        return None

    def read(self, member: _Member, cap: int, password: str | None) -> bytes:
        # The directory's sizes can lie: read at most cap+1 bytes whatever it declares.
        try:
            with self.archive.open(member.handle, pwd=password.encode("utf-8") if password else None) as handle:
                data = handle.read(cap + 1)
        except RuntimeError as exc:  # "Bad password for file"
            raise _WrongPassword from exc
        if len(data) > cap:
            raise _TooLarge
        return data

    def close(self) -> None:
        archive = getattr(self, "archive", None)
        if archive is not None:
            archive.close()


# ---------------------------------------------------------------- 7z

class _SevenZip(_Reader):
    """py7zr decodes an archive in one pass (a solid block from its start), so the first read
    decodes every member at once into per-member sinks, each capped at its declared size and
    all together at the budget; later reads take from there."""

    def open(self) -> str | None:
        import py7zr
        import py7zr.archiveinfo

        # The library default lets a crafted header decode to 256 MiB in memory.
        py7zr.archiveinfo.MAX_HEADER_SIZE = min(py7zr.archiveinfo.MAX_HEADER_SIZE, _MAX_7Z_HEADER)
        self.decoded: dict[str | None, dict[str, bytes]] = {}
        self.listing_password: str | None = None
        try:
            return self._list(py7zr.SevenZipFile(io.BytesIO(self.data), "r"))
        except py7zr.exceptions.PasswordRequired:
            return _HEADER_LOCKED
        except Exception:  # noqa: BLE001
            return f"{self.label} 已损坏，未能解开"

    def _list(self, archive) -> str | None:
        try:
            if self._cycles_too_high(archive):
                return f"{self.label} 的加密参数异常，未解开"
            encrypted = archive.needs_password()
            for info in archive.list():
                if not info.is_directory:
                    self.members.append(_Member(info.filename, int(info.uncompressed or 0), info.compressed,
                                                encrypted=encrypted))
        finally:
            archive.close()
        return None

    def unpack(self, passwords: tuple[str, ...]) -> Unpacked:
        import py7zr

        error = self.open()
        if error is _HEADER_LOCKED:
            # 7-Zip's "加密文件名": even the file list needs the password.
            error = f"{self.label} 设有密码（文件名也已加密），未能解开；" + _ASK
            for password in passwords[:MAX_PASSWORD_TRIES]:
                try:
                    archive = py7zr.SevenZipFile(io.BytesIO(self.data), "r", password=password)
                except Exception:  # noqa: BLE001 - a wrong password breaks the header anywhere
                    continue
                error = self._list(archive)
                self.listing_password = password
                break
            else:
                if passwords:
                    error = f"{self.label} 设有密码（文件名也已加密），邮件中给出的密码不正确，未能解开"
        if error:
            return Unpacked(error=error)
        return self._unpack((self.listing_password,) if self.listing_password else passwords)

    @staticmethod
    def _cycles_too_high(archive) -> bool:
        streams = archive.header.main_streams if archive.header is not None else None
        if streams is None:
            return False
        for folder in streams.unpackinfo.folders:
            for coder in folder.coders:
                props = coder.get("properties") or b""
                if coder.get("method") == _7Z_AES and props and props[0] & 0x3F > _MAX_7Z_CYCLES:
                    return True
        return False

    def read(self, member: _Member, cap: int, password: str | None) -> bytes:
        key = password if member.encrypted else None
        if key not in self.decoded:
            self.decoded[key] = self._decode_all(key)
        data = self.decoded[key].get(member.name)
        if data is None:
            if member.size == 0:
                return b""
            raise ValueError("member not decoded")
        if len(data) > cap:
            raise _TooLarge
        return data

    def _decode_all(self, password: str | None) -> dict[str, bytes]:
        import py7zr
        from py7zr.io import Py7zIO, WriterFactory

        caps = {m.name: m.size for m in self.members}

        class Sink(Py7zIO):
            def __init__(self, cap: int) -> None:
                self.cap = cap
                self.buffer = bytearray()

            def write(self, s) -> int:
                self.buffer += s
                if len(self.buffer) > self.cap:  # more than its declared size: a lie, a bomb
                    raise _TooLarge
                return len(s)

            def read(self, size=None) -> bytes:
                return bytes(self.buffer)

            def seek(self, offset: int, whence: int = 0) -> int:
                return 0

            def flush(self) -> None:
                pass

            def size(self) -> int:
                return len(self.buffer)

        class Factory(WriterFactory):
            def __init__(self) -> None:
                self.sinks: dict[str, Sink] = {}

            def create(self, filename: str) -> Py7zIO:
                sink = self.sinks[filename] = Sink(caps.get(filename, limit))
                return sink

        factory = Factory()
        kwargs = {"password": password} if password else {}
        limit = self.budget.remaining + 1
        try:
            with py7zr.SevenZipFile(io.BytesIO(self.data), "r", max_extract_size=limit, **kwargs) as archive:
                archive.extractall(factory=factory)
        except _TooLarge:
            raise
        except py7zr.exceptions.DecompressionBombError as exc:
            raise _TooLarge from exc
        except Exception as exc:
            if password is not None:
                raise _WrongPassword from exc
            raise
        return {name: bytes(sink.buffer) for name, sink in factory.sinks.items()}


_HEADER_LOCKED = "header locked"
_ASK = "请在邮件正文写明解压密码（如“解压密码：1234”）或去掉密码后重新发送"


# ---------------------------------------------------------------- RAR

class RarToolMissing(Exception):
    """No RAR extractor on this machine."""


def rar_tool():
    """rarfile's extractor set-up: unrar, else unar; RarToolMissing when neither runs."""
    import rarfile

    try:
        return rarfile.tool_setup(unrar=True, unar=True, bsdtar=False, sevenzip=False, sevenzip2=False)
    except rarfile.RarCannotExec as exc:
        raise RarToolMissing from exc


def _rarfile():
    """rarfile, able to decrypt RAR headers: it looks for AES in `cryptography` or in
    pycryptodome (imported as Crypto); pycryptodomex, which py7zr brings, is the same
    library imported as Cryptodome, with the same AES API."""
    import rarfile

    if not getattr(rarfile, "_have_crypto", 1):
        try:
            from Cryptodome.Cipher import AES
        except ImportError:  # header-encrypted RAR then reads as locked: still a precise reason
            return rarfile
        rarfile.AES, rarfile._have_crypto = AES, 2  # noqa: SLF001
    return rarfile


class _Rar(_Reader):
    def open(self) -> str | None:
        rarfile = _rarfile()
        self.tmp = tempfile.TemporaryDirectory(prefix="intake-rar-")
        self.path = os.path.join(self.tmp.name, "a.rar")
        with open(self.path, "wb") as handle:
            handle.write(self.data)
        self.listing_password: str | None = None
        try:
            self.archive = rarfile.RarFile(self.path, errors="strict")
        except (rarfile.PasswordRequired, rarfile.RarNoFilesError):
            return _HEADER_LOCKED
        except rarfile.NeedFirstVolume:
            return f"{self.label} 是分卷压缩包的一部分，无法单独解开，请不分卷压缩后重新发送"
        except Exception:  # noqa: BLE001
            return f"{self.label} 已损坏，未能解开"
        if self.archive.needs_password() and not self.archive.infolist():
            return _HEADER_LOCKED
        self._list()
        return None

    def unpack(self, passwords: tuple[str, ...]) -> Unpacked:
        try:
            error = self.open()
            if error is _HEADER_LOCKED:
                # WinRAR's 加密文件名 (rar -hp): the file list itself needs the password.
                error = f"{self.label} 设有密码（文件名也已加密），未能解开；" + _ASK
                if passwords:
                    error = f"{self.label} 设有密码（文件名也已加密），邮件中给出的密码不正确，未能解开"
                for password in passwords[:MAX_PASSWORD_TRIES]:
                    try:
                        self.archive.setpassword(password)
                    except Exception:  # noqa: BLE001 - RarWrongPassword, a broken header
                        continue
                    if self.archive.infolist():
                        self.listing_password, error = password, None
                        self._list()
                        break
            if error:
                return Unpacked(error=error)
            return self._unpack((self.listing_password,) if self.listing_password else passwords)
        finally:
            self.close()

    def _list(self) -> None:
        rarfile = _rarfile()
        for info in self.archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if isinstance(info.orig_filename, bytes) and not (info.flags & rarfile.RAR_FILE_UNICODE) \
                    and isinstance(self.archive._file_parser, rarfile.RAR3Parser):  # noqa: SLF001
                name = legacy_name(info.orig_filename).replace("\\", "/")
            member = _Member(name, int(info.file_size or 0), int(info.compress_size or 0),
                             encrypted=info.needs_password() or self.listing_password is not None, handle=info)
            if info.flags & rarfile.RAR_FILE_SPLIT_BEFORE or info.flags & rarfile.RAR_FILE_SPLIT_AFTER:
                member.refused = "分在多个分卷中，无法单独解开，请不分卷压缩后重新发送"
            self.members.append(member)

    def read(self, member: _Member, cap: int, password: str | None) -> bytes:
        rarfile = _rarfile()
        info = member.handle
        direct = info.compress_type == rarfile.RAR_M0 and not member.encrypted and info.file_redir is None
        if not direct:
            try:
                rar_tool()
            except RarToolMissing:
                raise _NoTool from None
        try:
            with self.archive.open(info, pwd=password) as handle:
                # The extractor is a process of its own: it is killed if it takes too long
                # (the read then comes up short, and the CRC check says so).
                process = getattr(handle, "_proc", None)
                deadline = threading.Timer(_RAR_TIMEOUT, process.kill) if process is not None else None
                if deadline is not None:
                    deadline.start()
                try:
                    data = handle.read(cap + 1)
                    if len(data) <= cap and len(data) == info.file_size:
                        handle.read(1)  # reaching the end makes rarfile check the CRC
                finally:
                    if deadline is not None:
                        deadline.cancel()
        except (rarfile.RarWrongPassword, rarfile.PasswordRequired) as exc:
            raise _WrongPassword from exc
        except rarfile.BadRarFile as exc:
            if member.encrypted:  # a wrong password decrypts to bytes whose CRC does not match
                raise _WrongPassword from exc
            raise
        if len(data) > cap:
            raise _TooLarge
        return data

    def _unpack(self, passwords: tuple[str, ...]) -> Unpacked:
        try:
            return super()._unpack(passwords)
        except _NoTool:
            return Unpacked(error=f"{self.label} 无法解开：本机缺少 RAR 解压工具（unar），"
                                  f"请管理员安装（apt-get install unar）后重新处理")

    def close(self) -> None:
        archive = getattr(self, "archive", None)
        if archive is not None:
            archive.close()
        tmp = getattr(self, "tmp", None)
        if tmp is not None:
            tmp.cleanup()


