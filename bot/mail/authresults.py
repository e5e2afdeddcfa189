"""What the receiving server found about the sender: SPF, DKIM and DMARC verdicts from the
`Authentication-Results` header it added (RFC 8601; 126.com adds one).

Anyone can write an Authentication-Results header into the mail they send, so only headers
from our own receiving server count: those whose authserv-id is one the config names, or, when
none is configured, the top-most one (a receiving server prepends its own above whatever the
mail already carried).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .message import ParsedMail

PASS, FAIL, NONE = "pass", "fail", "none"
_METHOD_RE = re.compile(r"(?:^|;)\s*(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)
_COMMENT_RE = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class SenderCheck:
    """The receiving server's verdicts, lower case ("pass", "fail", "softfail", "none", ...);
    None where the server said nothing about that method."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None
    authserv_id: str | None = None

    @property
    def checked(self) -> bool:
        return self.authserv_id is not None

    @property
    def forged(self) -> bool:
        """The From cannot be the sender's: DMARC failed, or (no DMARC verdict) SPF failed and
        no DKIM signature passed. A softfail or a missing signature alone is not proof."""
        if self.dmarc == FAIL:
            return True
        if self.dmarc == PASS:
            return False
        return self.spf == FAIL and self.dkim != PASS

    def summary(self) -> str:
        """`SPF=pass，DKIM=fail` for the admin."""
        parts = [f"{name.upper()}={value}" for name, value in (("spf", self.spf), ("dkim", self.dkim),
                                                               ("dmarc", self.dmarc)) if value]
        return "，".join(parts) or "无验证结果"


def sender_check(mail: ParsedMail, trusted_ids: tuple[str, ...] = ()) -> SenderCheck:
    """The verdicts of our own server's Authentication-Results header, or an unchecked
    SenderCheck when there is none."""
    headers = mail.header_all("authentication-results")
    trusted = {i.lower() for i in trusted_ids}
    for value in headers if trusted else headers[:1]:
        text = _COMMENT_RE.sub("", value.replace("\r", " ").replace("\n", " "))
        authserv_id = text.split(";", 1)[0].strip().split()[0].lower() if text.strip() else ""
        if trusted and authserv_id not in trusted:
            continue
        found: dict[str, str] = {}
        for method, result in _METHOD_RE.findall(text):
            method, result = method.lower(), result.lower()
            # several signatures: one passing DKIM signature is enough
            if method == "dkim" and found.get("dkim") == PASS:
                continue
            found[method] = result
        return SenderCheck(found.get("spf"), found.get("dkim"), found.get("dmarc"), authserv_id or "?")
    return SenderCheck()
