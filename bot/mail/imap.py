"""Fetching new mail with imapclient: ID after LOGIN, UIDVALIDITY, batches of explicit UIDs, IDLE.

Facts that shape this module (lab-notes.md):
- 126.com refuses SELECT ("NO SELECT Unsafe Login") until the client sends ID after LOGIN;
  imapclient never sends ID by itself and `id_()` needs the server to advertise it.
- `UID n:*` always returns the newest message even when n is past it: results are filtered.
- imapclient 4.1's `fetch("1:*")` raises ValueError: always pass explicit UID lists.
- `idle_check` can raise on replies split across packets: the caller reconnects.
- Dovecot reports INTERNALDATE in +0000; we keep aware datetimes (normalise_times=False).
"""
from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ..clock import system_clock
from ..config import MailboxConfig

BATCH = 100
CLIENT_ID = {"name": "anqing-intake-bot", "version": "0.1", "vendor": "Anqing Federation of Trade Unions"}  # ASCII: imapclient encodes ID as ASCII


class MailboxError(Exception):
    """The mailbox cannot be used; one Chinese line for the admin."""


@dataclass(frozen=True)
class FetchedMail:
    folder: str
    uidvalidity: int
    uid: int
    raw: bytes
    internaldate: datetime  # aware


def describe_connect_error(exc: BaseException, what: str, host: str, port: int) -> str:
    """One Chinese line for a failure to reach or log in to a server."""
    text = str(exc)
    if isinstance(exc, LoginError) or "authenticationfailed" in text.lower() or "login" in text.lower() and "fail" in text.lower():
        return (f"{what} 登录失败：用户名或授权码错误（126 邮箱须使用“客户端授权码”，不是网页登录密码；"
                f"并确认已在邮箱设置中开启 IMAP/SMTP 服务）")
    if "unsafe login" in text.lower():
        return f"{what} 服务器拒绝访问（Unsafe Login）：未能发送 ID 命令，或该邮箱禁止第三方客户端"
    if isinstance(exc, socket.gaierror):
        return f"无法解析 {what} 服务器地址 {host}"
    if isinstance(exc, ConnectionRefusedError):
        return f"无法连接 {what} 服务器 {host}:{port}：连接被拒绝"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"连接 {what} 服务器 {host}:{port} 超时"
    if isinstance(exc, ssl.SSLError):
        return f"与 {what} 服务器 {host}:{port} 的加密连接失败：{exc.reason or exc}（检查 security 与 port 配置）"
    if isinstance(exc, OSError):
        return f"无法连接 {what} 服务器 {host}:{port}：{exc.strerror or exc}"
    return f"{what} 服务器 {host}:{port} 出错：{text or type(exc).__name__}"


class Mailbox:
    """One IMAP connection to the intake folder. `clock` dates mail the server gives no
    INTERNALDATE for (the Intake's clock in the daemon)."""

    def __init__(self, cfg: MailboxConfig, *, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = system_clock):
        self.cfg = cfg
        self.ssl_context = ssl_context
        self.clock = clock
        self.client: IMAPClient | None = None
        self.uidvalidity: int = 0
        self.capabilities: set[str] = set()
        self._exists: int | None = None  # the folder's message count as last announced; None: unknown

    # -- connection -------------------------------------------------------------------------
    def connect(self) -> None:
        cfg = self.cfg
        try:
            client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "ssl",
                                ssl_context=self.ssl_context, timeout=cfg.timeout)
        except Exception as exc:  # noqa: BLE001 - mapped to one line
            raise MailboxError(describe_connect_error(exc, "IMAP", cfg.host, cfg.port)) from None
        client.normalise_times = False
        # IMAPClient raises imaplib's debug level, at which imaplib formats repr() of every
        # literal it receives — a copy of each whole mail, three times its size — for a log
        # line nobody reads.
        client._imap.debug = 0
        try:
            if cfg.security == "starttls":
                client.starttls(self.ssl_context or ssl.create_default_context())
            if cfg.username:
                client.login(cfg.username, cfg.password())
            caps = {c.decode().upper() for c in client.capabilities()}
            if "ID" in caps:
                client.id_(CLIENT_ID)
            info = client.select_folder(cfg.folder, readonly=False)
        except MailboxError:
            _quiet_logout(client)
            raise
        except Exception as exc:  # noqa: BLE001
            _quiet_logout(client)
            if isinstance(exc, IMAPClientError) and "select" in str(exc).lower() and "unsafe" not in str(exc).lower():
                raise MailboxError(f"无法打开邮箱文件夹 {cfg.folder!r}：{exc}") from None
            raise MailboxError(describe_connect_error(exc, "IMAP", cfg.host, cfg.port)) from None
        self.client = client
        self.capabilities = caps
        self.uidvalidity = int(info[b"UIDVALIDITY"])
        self._exists = int(info.get(b"EXISTS", 0))

    def close(self) -> None:
        if self.client is not None:
            _quiet_logout(self.client)
            self.client = None

    def __enter__(self) -> Mailbox:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    # -- fetching ---------------------------------------------------------------------------
    def new_uids(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending."""
        assert self.client is not None
        uids = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(u for u in uids if u > last_uid)

    def fetch(self, uids: list[int]) -> Iterator[FetchedMail]:
        """Raw bytes and INTERNALDATE of the given UIDs, in UID order, BATCH at a time."""
        for batch in self.fetch_batches(uids):
            yield from batch

    def fetch_batches(self, uids: list[int]) -> Iterator[list[FetchedMail]]:
        """The given UIDs' mails, one list per FETCH of BATCH UIDs, in UID order; a UID
        expunged meanwhile is left out."""
        assert self.client is not None
        for start in range(0, len(uids), BATCH):
            batch = uids[start:start + BATCH]
            response = self.client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            mails = []
            for uid in batch:
                data = response.get(uid)
                if not data or b"BODY[]" not in data:
                    continue  # expunged meanwhile: nothing to keep
                when = data.get(b"INTERNALDATE")
                if not isinstance(when, datetime):
                    when = self.clock()
                elif when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                mails.append(FetchedMail(self.cfg.folder, self.uidvalidity, uid, bytes(data[b"BODY[]"]), when))
            del response  # the batch's bytes live on only in `mails`
            yield mails

    # -- after processing -------------------------------------------------------------------
    def move_processed(self, uids: list[int]) -> None:
        """Move handled mail to `processed_folder`: MOVE, else COPY + \\Deleted + UID EXPUNGE."""
        target = self.cfg.processed_folder
        if not target or not uids:
            return
        assert self.client is not None
        self._exists = None  # we change the count ourselves; the next EXISTS is news once
        if not self.client.folder_exists(target):
            self.client.create_folder(target)
        if "MOVE" in self.capabilities:
            self.client.move(uids, target)
        elif "UIDPLUS" in self.capabilities:
            self.client.copy(uids, target)
            self.client.add_flags(uids, [b"\\Deleted"], silent=True)
            self.client.uid_expunge(uids)
        else:
            # Without UIDPLUS a plain EXPUNGE would also remove mail someone else flagged
            # \Deleted; copying alone keeps everything and the UID watermark avoids refetching.
            self.client.copy(uids, target)

    # -- waiting ----------------------------------------------------------------------------
    def idle_wait(self, seconds: float, should_stop=lambda: False) -> bool:
        """Wait in IDLE up to `seconds`; True when the server announced something. Checks
        `should_stop` every second so that SIGTERM ends the daemon promptly."""
        assert self.client is not None
        # Mail that arrived while we were busy (processing, sending) is announced by the server
        # at the next command: a NOOP first catches it without waiting for the IDLE timeout.
        _, responses = self.client.noop()
        if self._count_changed(responses):
            return True
        self.client.idle()
        deadline = time.monotonic() + seconds
        try:
            if self._buffered():
                return True
            while not should_stop():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                responses = self.client.idle_check(timeout=min(1.0, left))
                if responses:
                    self._count_changed(responses)
                    return True
            return False
        finally:
            _, responses = self.client.idle_done()
            self._count_changed(responses)  # what came with the end of IDLE is known now

    def _count_changed(self, responses) -> bool:
        """Whether an untagged `* n EXISTS` (imapclient: (n, b"EXISTS")) gives a message count
        other than the last one seen; remembers it. Only a change counts, so a server that
        repeats EXISTS on every NOOP cannot keep the daemon cycling."""
        changed = False
        for r in responses:
            if isinstance(r, tuple) and len(r) >= 2 and r[1] == b"EXISTS" and r[0] != self._exists:
                self._exists, changed = r[0], True
        return changed

    def _buffered(self) -> bool:
        """Whether bytes already wait in imaplib's buffered reader. A notification the server
        sends in the same packet as IDLE's continuation line is read into that buffer together
        with it, where `idle_check`'s poll of the socket never sees it; any data in IDLE means
        the server has something to say."""
        reader = getattr(self.client._imap, "file", None)
        if reader is None or not hasattr(reader, "peek"):
            return False
        sock = self.client.socket()
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            return bool(reader.peek(1))
        except OSError:  # nothing to read without blocking
            return False
        finally:
            sock.settimeout(timeout)

    def noop(self) -> None:
        assert self.client is not None
        self.client.noop()


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass
