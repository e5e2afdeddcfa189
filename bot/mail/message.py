"""What the MIME step hands to the rest of the pipeline.

Plain frozen dataclasses, no I/O: `mime.parse_mail(raw)` builds them from the raw bytes and
everything downstream (machine detection, form reading, replies) reads only these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """One file found anywhere in the mail: a MIME part, a zip member, a forwarded mail's part.

    `filename` is the decoded display name (NFC, no directory parts, never used as a path);
    `origin` says where it was found, outermost first, e.g. ("附件.zip",) for a zip member.
    """

    filename: str
    content_type: str  # as declared by the sender (lower case); the bytes are trusted over it
    data: bytes
    origin: tuple[str, ...] = ()
    inline: bool = False
    # Why the mail step could not open this file although it had to (an archive that is
    # password-protected, corrupt, a bomb, in an unsupported format; a MIME part that could not
    # be split): a Chinese sentence naming it. The file is kept as sent so that nothing
    # vanishes, and is recorded with status `error` and this reason instead of being read.
    error: str | None = None


@dataclass(frozen=True)
class CloudLink:
    """A big attachment or a cloud-drive file sent as a link (`bot.mail.cloud_links`): the
    mail does not carry the file. Never fetched."""

    service: str  # shown to people: "QQ邮箱超大附件", "网易邮箱文件中转站", "OneDrive", "百度网盘", ...
    url: str
    filename: str | None = None  # the file name written beside the link, when there is one


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None  # with angle brackets, as in the header; None when absent
    subject: str  # decoded, NFC, whitespace folded
    from_addr: str  # lower-cased bare address, "" when unparseable
    from_name: str
    reply_to: str | None  # lower-cased bare address
    date: datetime | None  # the sender's Date header (not used for deadlines)
    headers: tuple[tuple[str, str], ...]  # top-level headers, names lower-cased, values decoded
    body_text: str  # the readable body: text/plain, else text/html stripped to text
    attachments: tuple[Attachment, ...]
    content_type: str = "text/plain"  # top-level content type (lower case)
    problems: tuple[str, ...] = field(default=())  # Chinese, one line each: what could not be unpacked
    cloud_links: tuple[CloudLink, ...] = field(default=())  # files sent as download links, in body order

    def header(self, name: str) -> str | None:
        """First value of a top-level header (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]
