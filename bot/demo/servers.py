"""The demo's own mail servers, in this process: an IMAP mailbox and an SMTP sink.

IMAP is pymap's in-memory `dict` backend, started in a thread with its own asyncio loop (its
`pymap` command does the same thing, minus argparse and signal handling). The SMTP sink is an
aiosmtpd server that keeps every mail the bot sends, so the demo can show it. Both listen on
free loopback ports and vanish with the process; nothing is installed or configured.
"""
from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from argparse import Namespace
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class EmbeddedImap:
    """One IMAP account (`user` / a random password) held in memory."""

    def __init__(self, user: str):
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._client: IMAPClient | None = None  # the sender's side: one connection for every append

    def start(self, timeout: float = 15.0) -> EmbeddedImap:
        self.port = free_port()
        self._thread = threading.Thread(target=self._serve, name="demo-imap", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("内置 IMAP 服务器未能启动（超时）")
        if self._error is not None:
            raise RuntimeError(f"内置 IMAP 服务器未能启动：{self._error}") from self._error
        return self

    def _serve(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        from pymap.backend.dict import Config, DictBackend, Login
        from pymap.imap import IMAPService
        from pysasl.hashing import BuiltinHash

        class DemoConfig(Config):
            @property
            def greeting(self) -> bytes:
                # The default asks socket.getfqdn(), which can stall for seconds without DNS.
                return b"Server ready intake-demo"

        # The attributes pymap's argparse would have set; TLS off (loopback only), no DNSBL
        # lookups and no delay on a failed login.
        args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None, debug=False)
        # A few hash rounds: the password is random, lives in memory for one run and guards a
        # loopback port; pymap's default (500,000 rounds) costs a quarter second per login.
        config = DemoConfig(args, host=HOST, port=self.port, tls_enabled=False, reject_dnsbl=False,
                            invalid_user_sleep=0.0, hash_context=BuiltinHash(rounds=1000), demo_data=False,
                            demo_user=self.user, demo_password=self.password)
        config.apply_context()
        login = Login(config)
        await DictBackend._add_demo_user(config, login)  # the one account, as `pymap dict` makes it
        backend = DictBackend(login, config)
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            await IMAPService(backend, config).start(stack)
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except Exception:  # noqa: BLE001 - the server may already be gone
                pass
            self._client = None
        if self._loop is not None and self._stop is not None and self._thread and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop already closed
                pass
            self._thread.join(timeout=5)

    def append(self, raw: bytes, when: datetime) -> None:
        """Deliver one mail with the given INTERNALDATE (the moment the bot sees as its arrival)."""
        if self._client is None:
            self._client = IMAPClient(HOST, port=self.port, ssl=False, timeout=10)
            self._client.login(self.user, self.password)
        self._client.append("INBOX", raw, msg_time=when)


@dataclass
class SentMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class SmtpSink:
    """An aiosmtpd server in a thread; every mail it is given is kept in `received`."""

    def __init__(self):
        self.port = 0
        self.received: list[SentMail] = []
        self._lock = threading.Lock()
        self._controller = None

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.received.append(SentMail(envelope.mail_from, list(envelope.rcpt_tos),
                                                  bytes(envelope.content)))
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname=HOST, port=self.port, server_hostname="intake-demo")
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def since(self, start: int) -> list[SentMail]:
        with self._lock:
            return list(self.received[start:])
