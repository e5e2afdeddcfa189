"""SMTP, the protocol side of sending: connect and log in, hand one mail to the server, say what
its answer means (transient or permanent, 126.com's spam throttle) and describe a failure in one
Chinese line. Which mail goes when, and what is recorded, is the outbox's (bot/outbox.py)."""
from __future__ import annotations

import asyncio
import ssl

import aiosmtplib

from ..config import SmtpConfig


class SmtpError(Exception):
    """The SMTP server cannot be used; one Chinese line for the admin."""


async def connect(cfg: SmtpConfig, ssl_context: ssl.SSLContext | None = None) -> aiosmtplib.SMTP:
    """Connect and log in; with security "none" only where the server offers AUTH."""
    client = aiosmtplib.SMTP(hostname=cfg.host, port=cfg.port, timeout=cfg.timeout,
                             use_tls=cfg.security == "ssl", start_tls=cfg.security == "starttls",
                             tls_context=ssl_context)
    await client.connect()
    try:
        if cfg.username and not client.last_ehlo_response:
            await client.ehlo()  # the extensions are known only after EHLO
        if cfg.username and (cfg.security != "none" or client.supports_extension("auth")):
            await client.login(cfg.username, cfg.password())
    except BaseException:
        await quiet_quit(client)
        raise
    return client


async def quiet_quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except Exception:  # noqa: BLE001 - closing a broken connection
        client.close()


async def send(client: aiosmtplib.SMTP, sender: str, recipients: list[str], raw: bytes) -> tuple[int | None, str] | None:
    """Hand one mail to the server: None once it answered 250, else (code, text) of its refusal,
    code None when the connection failed (the client is then of no further use)."""
    try:
        await client.sendmail(sender, recipients, raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0] if exc.recipients else None
        return (first.code, first.message) if first else (550, str(exc))
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        return None, str(exc) or type(exc).__name__
    return None


def is_throttled(code: int | None, text: str) -> bool:
    """126.com's spam throttle (`554 DT:SPM`): sending more now only makes it worse."""
    return code is not None and "DT:SPM" in text.upper()


def is_transient(code: int | None, text: str) -> bool:
    """Whether trying the same mail again later may succeed."""
    if code is None:
        return True
    if "DT:SPM" in text.upper() or "RATE" in text.upper():
        return True
    if code in (530, 534, 535, 538):
        return True  # authentication trouble is the account's state, not this mail's fault
    return 400 <= code < 500


def unreachable_line(exc: BaseException) -> str:
    """One Chinese line for a connection or login that failed before any mail was offered."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "SMTP 登录失败：用户名或授权码错误"
    return f"无法连接 SMTP 服务器：{getattr(exc, 'message', None) or exc or type(exc).__name__}"


def check_smtp(cfg: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
    """Connect and log in; raise SmtpError with one Chinese line on failure."""
    async def run():
        await quiet_quit(await connect(cfg, ssl_context))
    try:
        asyncio.run(run())
    except aiosmtplib.SMTPAuthenticationError:
        raise SmtpError("SMTP 登录失败：用户名或授权码错误（126 邮箱须使用“客户端授权码”，并开启 SMTP 服务）") from None
    except aiosmtplib.SMTPConnectError as exc:
        from .imap import describe_connect_error

        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else ConnectionError(str(exc))
        raise SmtpError(describe_connect_error(cause, "SMTP", cfg.host, cfg.port)) from None
    except (aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError):
        raise SmtpError(f"连接 SMTP 服务器 {cfg.host}:{cfg.port} 超时") from None
    except aiosmtplib.SMTPException as exc:
        raise SmtpError(f"SMTP 服务器 {cfg.host}:{cfg.port} 出错：{exc}") from None
    except OSError as exc:
        raise SmtpError(f"无法连接 SMTP 服务器 {cfg.host}:{cfg.port}：{exc.strerror or exc}") from None
