"""Step 3, read: a kept mail's bytes -> what it is and carries (MIME, machine mail, attachments,
forms, a weekly report in the body). No database and no mail server: it runs in the daemon or
in a reading worker (bot/reading_pool.py) alike. Its one write is the archive's: each attachment
filed by its hash (content-addressed and idempotent, so reading a mail twice writes nothing new).
"""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field, replace

from ..forms import classify
from ..forms.result import ERROR, FormResult
from ..mail.machines import machine_reason
from ..mail.message import ParsedMail
from ..mail.mime import parse_mail
from .claim import Job

log = logging.getLogger(__name__)

# The footer of every mail the bot sends (templates/*.txt.j2): quoted in a reply, it shows the
# reply answers one of ours.
_OUR_FOOTER = "材料接收系统自动发送"


@dataclass
class ReadFile:
    """One attachment as read, before it is recorded."""

    filename: str
    content_type: str
    origin: tuple[str, ...]
    data_sha: str
    size: int
    result: FormResult


@dataclass
class Reading:
    mail: ParsedMail
    machine: str | None
    files: list[ReadFile] = field(default_factory=list)
    body: FormResult | None = None


@dataclass(frozen=True)
class ReadFailure:
    """Why an archived mail could not be read: `reason` for the admin's `intake messages`,
    `detail` (a traceback) for the log."""

    reason: str
    detail: str = ""


def replies_to_our_mail(mail: ParsedMail) -> bool:
    """The mail quotes one of the bot's own mails (a reply to an acknowledgement or reminder)."""
    return _OUR_FOOTER in (mail.body_text or "")


def read_message(reader, raw: bytes) -> Reading:
    """Bytes in, what the mail is and carries out. `reader` has the `config` and `archive` of an
    Intake (a reading worker, `intake inspect` build just those)."""
    mail = parse_mail(raw)
    own = frozenset({reader.config.smtp.sender_address, reader.config.mailbox.username.lower()} - {""})
    reason = machine_reason(mail, own_addresses=own)
    reading = Reading(mail, reason)
    if reason:
        return reading
    limits = reader.config.limits
    plans = campaign_plans(reader.config)
    for att in mail.attachments:
        digest = reader.archive.keep_file(att.data)
        if att.error:  # the mail step kept it unopened (a locked archive, an unsplittable part)
            result = FormResult(kind=None, status=ERROR, reason=att.error)
        else:
            result = _read_file(att, mail.subject, limits, plans)
        reading.files.append(ReadFile(att.filename, att.content_type, att.origin, digest, len(att.data), result))
    # A reply to one of our mails echoes our subject ("回复：…周报…"): it names nothing the sender
    # wrote, so the body must be a weekly report on its own ("收到，谢谢" is not one).
    reading.body = classify.read_body("" if replies_to_our_mail(mail) else mail.subject, mail.body_text,
                                      plans=plans)
    return reading


def campaign_plans(config) -> tuple | None:
    """What the readers need of each campaign the config names (Campaign.reading, from the
    config alone, as a reading worker has it), in the config's order; None when no campaign
    names a definition folder (the shipped 2020 campaign: the readers' own default, read
    exactly as before campaigns were data)."""
    if not any(c.definition is not None for c in config.campaigns):
        return None
    from ..campaign.definition import resolve

    return tuple(resolve(c).reading() for c in config.campaigns)


def _read_file(att, subject: str, limits, plans=None) -> FormResult:
    try:
        return classify.read_attachment(att.filename, att.data, subject=subject,
                                        max_bytes=int(limits.max_attachment_mb * 1024 * 1024),
                                        timeout=limits.conversion_timeout, plans=plans)
    except Exception as exc:  # noqa: BLE001 - classify promises not to raise; be sure
        log.exception("读取附件出错 %s", att.filename)
        return FormResult(kind=None, status=ERROR, reason=f"读取附件时程序出错（{type(exc).__name__}）")


def read_archived(reader, digest: str, *, headers_only: bool = False) -> Reading | ReadFailure:
    """A kept mail's raw bytes from the archive, read. With `headers_only` (mail set aside)
    only From and Subject are read: years of an everyday mailbox cost no attachment reading.
    Never raises for a mail: a failure is returned with its reason."""
    try:
        raw = reader.archive.read_mail(digest)
    except OSError as exc:
        return ReadFailure(f"原件文件无法读取（{exc.strerror or exc}），请从邮箱重新收取", f"{digest}: {exc}")
    try:
        if headers_only:
            # parse_mail's over-size path reads the header block alone; its problem line
            # (the mail being too large) does not apply here.
            return Reading(replace(parse_mail(raw, max_bytes=0), problems=()), None)
        return read_message(reader, raw)
    except Exception as exc:  # noqa: BLE001 - never stop the daemon for one mail
        return ReadFailure(f"邮件无法解析（{type(exc).__name__}），原件已保存，请人工查看", traceback.format_exc())


def read_job(reader, job: Job) -> Reading | ReadFailure:
    """What a claimed message's walk reads: headers alone for mail set aside, else everything."""
    return read_archived(reader, job.digest, headers_only=job.set_aside is not None)
