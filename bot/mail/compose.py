"""Building the mail we send: one place for headers, so every outgoing mail is marked as
automatic and no text copied from a sender can inject a header.

Headers are encoded (RFC 2047) and folded here, once, and stored with `set_raw`: the `email`
package then writes them as they are, instead of parsing each one into a header object on
assignment and refolding it on output — which cost more than everything else in composing an
acknowledgement (bench/backlog.py). Readers of the message still get decoded values: a raw
header is parsed when it is read. Anything this module cannot encode plainly (non-ASCII in a
message id) goes through the `email` package's own path.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
MAX_LINE = 78  # RFC 5322's recommended line length, as the SMTP policy folds to


class _OutgoingPolicy(EmailPolicy):
    """The SMTP policy, remembering what its raw headers parse to. A raw header is parsed
    each time it is read, and writing a message out reads each part's Content-Type half a
    dozen times; ours repeat from mail to mail (the same text/plain; charset="utf-8"), so a
    small cache makes those reads free."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _parsed(self, name, value)


@lru_cache(maxsize=1024)
def _parsed(policy: EmailPolicy, name: str, value: str):
    return EmailPolicy.header_fetch_parse(policy, name, value)


OUTGOING = _OutgoingPolicy(linesep=SMTP.linesep)


def header_safe(text: str, limit: int = 200) -> str:
    """Text from outside (a subject, a unit name) made fit for a header: one line, bounded."""
    text = _CONTROL.sub(" ", text or "").strip()
    return text[:limit]


def new_mail(*, sender: str, to: list[str], subject: str, auto_submitted: str, now: datetime,
             in_reply_to: str | None = None, references: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=OUTGOING)
    _put(msg, "From", _addresses("From", [sender]))
    _put(msg, "To", _addresses("To", to))
    _put(msg, "Subject", _text("Subject", header_safe(subject, 250)))
    _put(msg, "Date", format_datetime(now))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "intake.invalid"
    _put(msg, "Message-ID", make_msgid(domain=domain))
    # RFC 3834: mark automatic mail so that well-behaved responders never answer it, and ask
    # Exchange/Outlook not to send out-of-office replies to it.
    _put(msg, "Auto-Submitted", auto_submitted)
    _put(msg, "X-Auto-Response-Suppress", "All")
    _put(msg, "X-Loop", parseaddr(sender)[1])  # our own mail coming back is recognised by machines.py
    _put(msg, "Precedence", "bulk" if auto_submitted == "auto-generated" else "auto_reply")
    if in_reply_to:
        _put(msg, "In-Reply-To", _words(header_safe(in_reply_to, 998)))
        _put(msg, "References", _words(header_safe(references or in_reply_to, 998)))
    return msg


def set_text(msg: EmailMessage, text: str) -> None:
    """The body: one text/plain part in UTF-8."""
    for name, value in _text_part_headers("plain", text):
        msg.set_raw(name, value)
    msg.set_payload(_body(text))


def set_alternative(msg: EmailMessage, text: str, html: str) -> None:
    """The body: multipart/alternative of text/plain and text/html, both UTF-8 (mail readers
    show the last part they can display: the HTML one where they can)."""
    boundary = _boundary(text, html)
    msg.set_raw("MIME-Version", "1.0")
    msg.set_raw("Content-Type", f'multipart/alternative;\n boundary="{boundary}"')
    for subtype, body in (("plain", text), ("html", html)):
        part = EmailMessage(policy=OUTGOING)
        for name, value in _text_part_headers(subtype, body):
            if name != "MIME-Version":
                part.set_raw(name, value)
        part.set_payload(_body(body))
        msg.attach(part)


# -- headers ------------------------------------------------------------------------------

def _put(msg: EmailMessage, name: str, value: str | None) -> None:
    if value is None:
        return
    if value.isascii() and "\r" not in value and all(len(line) <= MAX_LINE for line in
                                                     f"{name}: {value}".split("\n")):
        msg.set_raw(name, value)
    else:  # the email package's own encoding and folding
        msg[name] = value.replace("\n ", " ")


def _text(name: str, text: str) -> str:
    """Unstructured text (a subject): ASCII as it is when it fits, else UTF-8 encoded words."""
    if text.isascii() and len(name) + 2 + len(text) <= MAX_LINE:
        return text
    return Header(text, "utf-8", maxlinelen=MAX_LINE - 2, header_name=name).encode(linesep="\n")


def _addresses(field: str, values: list[str]) -> str:
    """A list of `Name <addr>` or bare addresses, names encoded, one address per line, an
    address on a line of its own when it would not fit after its name."""
    out: list[str] = []
    for value in values:
        name, addr = parseaddr(value)
        name = header_safe(name, 200)
        if not name:
            out.append(addr)
            continue
        shown = formataddr((name, addr)) if name.isascii() else \
            Header(name, "utf-8", maxlinelen=MAX_LINE - 2, header_name=field).encode(linesep="\n") + f" <{addr}>"
        head, _, last = shown.rpartition("\n")
        indent = len(field) + 2 if not out and not head else 1  # "From: " before the first line
        if indent + len(last) > MAX_LINE:
            shown = shown[:len(shown) - len(addr) - 3] + f"\n <{addr}>"
        out.append(shown)
    return ",\n ".join(out)


def _words(value: str) -> str:
    """Space-separated message ids folded one per line."""
    return "\n ".join(value.split())


# -- bodies -------------------------------------------------------------------------------

def _text_part_headers(subtype: str, body: str) -> list[tuple[str, str]]:
    return [("MIME-Version", "1.0"), ("Content-Type", f'text/{subtype}; charset="utf-8"'),
            ("Content-Transfer-Encoding", _transfer_encoding(body))]


def _transfer_encoding(body: str) -> str:
    """As the email package decides for UTF-8 text under the SMTP policy: 7bit or 8bit when
    every line fits, else base64."""
    data = body.encode("utf-8")
    if max((len(line) for line in data.splitlines()), default=0) > MAX_LINE:
        return "base64"
    return "7bit" if data.isascii() else "8bit"


def _body(body: str) -> str:
    # lines normalised and the last one ended, as the email package's set_content does
    lines = body.splitlines()
    text = "\n".join(lines) + "\n" if lines else ""
    if _transfer_encoding(body) == "base64":
        return base64.encodebytes(text.encode("utf-8")).decode("ascii")
    # an 8bit payload is kept as its UTF-8 bytes in a str with surrogate escapes, as the email
    # package itself stores one
    return text.encode("utf-8").decode("ascii", "surrogateescape")


def _boundary(*bodies: str) -> str:
    """A boundary that appears in no body (the email package makes its own the same way)."""
    while True:
        candidate = "=====" + make_msgid(domain="b").strip("<>").replace("@", "=").replace(".", "=")
        if not any(candidate in body for body in bodies):
            return candidate
