"""Step 4, decide: a claimed message's outcome from its reading, as a few named steps and one
table. The steps find the facts (who sent it, what it carried, what was recorded); `outcome_for`
reads them against `RULES`, the first rule that applies deciding the outcome, its reason and
whether the sender gets an acknowledgement (the way Mailman's chains write a decision as data).
Everything happens in the caller's transaction; nothing here talks to a server.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from .. import conversation
from ..campaign.calendar import Calendar
from ..campaign.definition import Campaign
from ..campaign.standing import liaison_addresses
from ..forms import classify
from ..forms.definition import Form
from ..forms.result import (ERROR, EVIDENCE, LIAISON_FORM, PARSED, PROGRESS_TABLE, WEEKLY_REPORT,
                            FormResult)
from ..intake import Intake, is_open, latest
from ..mail.authresults import sender_check
from ..mail.message import ParsedMail
from ..store import submissions
from ..store.models import ACCEPTED, AUTO_REPLY, DUPLICATE, IGNORED, NEEDS_REVIEW, AttachmentRecord, Message
from .read import Reading, ReadFile, replies_to_our_mail

# Words that make mail from a registered unit look like a try at this campaign's submission even
# when nothing in it was recognised: such mail waits for a person and its sender is told what
# was missing. Without them it is the office's everyday mail and is not answered.
_CAMPAIGN_WORDS = ("安全生产",)
_SUBMISSION_KINDS = frozenset({LIAISON_FORM, PROGRESS_TABLE, WEEKLY_REPORT})

SOURCE_LABEL = {"form": "表内单位名称", "subject": "邮件主题", "assigned": "管理员指定",
                conversation.SOURCE: "来信人回复说明"}


# -- the facts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """Who a mail is from, and how that was found."""

    unit: str | None
    source: str | None  # address | form | subject | assigned | reply
    answered: int | None = None  # the earlier mail whose unit this one names (its sender's answer)
    unanswered: int | None = None  # the earlier mail whose question this one answers without a known unit


@dataclass(frozen=True)
class Facts:
    """What `outcome_for` decides on."""

    unit: str | None
    forged: bool  # the receiving server says the From is not the sender's
    sender_check: str  # its verdicts, e.g. "SPF=fail"
    new: bool  # at least one submission recorded as new
    recorded: bool  # at least one submission recorded, new or a duplicate
    carried: bool  # a form, a scan of one, or a weekly report in the body was found
    problems: tuple[str, ...]  # what could not be unpacked or read
    answered: int | None
    unanswered: int | None
    replies_to_us: bool  # quotes one of the bot's own mails
    looks_like_submission: bool  # campaign words in the subject, file names or body


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[Facts], bool]
    outcome: str
    reason: Callable[[Facts], str]
    answer: Callable[[Facts], bool]  # whether the sender gets an acknowledgement


@dataclass(frozen=True)
class Verdict:
    rule: str
    outcome: str
    reason: str
    answer: bool


def _always(_: Facts) -> bool:
    return True


def _never(_: Facts) -> bool:
    return False


def _says(text: str) -> Callable[[Facts], str]:
    return lambda _: text


RULES: tuple[Rule, ...] = (
    # A From the receiving server says is not the sender's never replaces a unit's figures:
    # kept for a person to look at; the unit's liaison is told.
    Rule("forged", lambda f: bool(f.unit and f.forged), NEEDS_REVIEW,
         lambda f: f"发件人身份验证未通过（{f.sender_check}），未登记；如确为本单位发送，管理员可用 intake assign 指定",
         _always),
    Rule("accepted", lambda f: bool(f.unit and f.new), ACCEPTED, _says(""), _always),
    Rule("duplicate", lambda f: bool(f.unit and f.recorded), DUPLICATE, _says("与此前收到的内容相同，未重复记录"), _always),
    Rule("unreadable or unknown sender", lambda f: f.carried or bool(f.problems), NEEDS_REVIEW,
         lambda f: "；".join(f.problems) or "附件无法识别" if f.unit else "无法确定报送单位，请用 intake assign 指定",
         lambda f: bool(f.unit or f.carried)),
    # The sender named its unit: the original mail is read again for that unit and answered then.
    Rule("unit named in a reply", lambda f: f.answered is not None, IGNORED,
         lambda f: f"来信人回复说明单位为 {f.unit}，已据此重新处理邮件 #{f.answered}", _never),
    # Asking again would repeat the same question: a person reads the answer.
    Rule("reply naming no known unit", lambda f: f.unanswered is not None, NEEDS_REVIEW,
         lambda f: (f"回复了关于邮件 #{f.unanswered} 单位名称的询问，但回复中未找到名单上的单位，"
                    f"请用 intake assign {f.unanswered} 单位名称 指定"), _never),
    Rule("reply to our mail", lambda f: bool(f.unit and f.replies_to_us), NEEDS_REVIEW,
         _says("回复本系统的自动邮件，未附新的材料；如有询问，请人工答复"), _never),
    Rule("campaign mail without material", lambda f: bool(f.unit and f.looks_like_submission), NEEDS_REVIEW,
         _says("来自登记单位，但未发现本次活动的表格或材料"), _always),
    Rule("everyday mail of a unit", lambda f: bool(f.unit), IGNORED,
         lambda f: f"来自登记单位（{f.unit}），但不是本次活动的报送（无活动表格、材料或关键词），未回复", _never),
    Rule("unrelated", _always, IGNORED, _says("来自未登记地址，且不含本次活动的材料"), _never),
)


def outcome_for(facts: Facts) -> Verdict:
    """The first rule of RULES that applies to the facts."""
    for rule in RULES:
        if rule.applies(facts):
            return Verdict(rule.name, rule.outcome, rule.reason(facts), rule.answer(facts))
    raise AssertionError("RULES ends with a rule that always applies")


# -- the steps ------------------------------------------------------------------------------

def start_over(s, msg: Message, mail: ParsedMail, now: datetime) -> None:
    """A message read before (reprocess, assign) forgets what it recorded; its headers are
    stored as read now."""
    if msg.processed_at is not None:
        submissions.forget_message(s, msg.id)
        msg.attachments.clear()
        s.flush()
    msg.from_addr, msg.from_name, msg.subject = mail.from_addr, mail.from_name, mail.subject
    msg.processed_at, msg.flags = now, []


def set_aside(s, msg: Message, reading: Reading, reason: str, now: datetime) -> str:
    """Kept and listed with its sender and subject; nothing read, recorded or answered; no
    campaign's."""
    start_over(s, msg, reading.mail, now)
    msg.outcome, msg.reason, msg.kinds, msg.unit, msg.unit_source = IGNORED, reason, [], None, None
    msg.campaign = None
    return IGNORED


# -- attribution: which campaign a mail is for ------------------------------------------------

def _form_signature(form: Form) -> tuple:
    """What a unit fills in: two campaigns whose forms have the same signature (next year's copy
    of an unchanged 附件2) cannot be told apart by a filled copy."""
    return form.shape, form.title, tuple((f.key, f.label) for f in form.fields)


def _own_campaign(campaigns: tuple[Campaign, ...], result: FormResult) -> Campaign | None:
    """The campaign whose definition recognised the result (FormResult.campaign)."""
    return next((c for c in campaigns if c.slug == result.campaign), None) if result.campaign else None


def _fitting(campaigns: tuple[Campaign, ...], result: FormResult) -> list[Campaign]:
    """The campaigns a reading's content fits: its own campaign's, and every campaign with the
    same form; for a document or weekly report (named by words, not by a form), every campaign
    with an item of that name, or with weekly reports; [] when no campaign's definition
    recognised it."""
    own = _own_campaign(campaigns, result)
    if own is None:
        return []
    if not result.form:
        if _is_weekly(own, result.kind):
            return [c for c in campaigns if c is own or c.weekly_item is not None]
        return [c for c in campaigns if c is own or any(i.item == result.kind for i in c.items)]
    try:
        signature = _form_signature(own.form(result.form))
    except KeyError:
        return [own]
    return [c for c in campaigns if c is own or any(_form_signature(f) == signature for f in c.forms)]


def _content(reading: Reading) -> list[FormResult]:
    results = [f.result for f in reading.files if f.result.status in (PARSED, EVIDENCE)]
    return results + ([reading.body] if reading.body is not None and reading.body.status == PARSED else [])


def attribute(campaigns: tuple[Campaign, ...], reading: Reading, received_at: datetime) -> Campaign:
    """The campaign a mail is for, each step narrowing the candidates until one is left: the
    campaigns its forms fit (content first: of several forms, the campaigns they all fit); those
    whose keywords its subject names (Campaign.keywords, e.g. 安全生产月; the longest named wins);
    then the one whose period (opens_at to the end of its `end` day) holds the arrival; else
    the latest that had opened by then, else the latest. With one campaign, that one."""
    if len(campaigns) == 1:
        return campaigns[0]
    candidates = list(campaigns)
    fits = [set(c.slug for c in _fitting(campaigns, r)) for r in _content(reading)]
    fits = [f for f in fits if f]
    if fits:
        common = set.intersection(*fits) or fits[0]
        candidates = [c for c in candidates if c.slug in common]
        if len(candidates) == 1:
            return candidates[0]
    subject = reading.mail.subject or ""
    # the longest keyword named decides between campaigns sharing a theme (安全生产月 and
    # 2021年安全生产月); campaigns naming equally long ones go on to the period
    named = {c.slug: max((len(k) for k in c.keywords if k and k in subject), default=0) for c in candidates}
    if any(named.values()):
        candidates = [c for c in candidates if named[c.slug] == max(named.values())]
        if len(candidates) == 1:
            return candidates[0]
    running = [c for c in candidates if is_open(c, received_at)]
    if running:
        return latest(running)
    return latest([c for c in candidates if c.opens_at <= received_at] or candidates)


def attribute_step(intake: Intake, msg: Message, reading: Reading, received_at: datetime) -> Intake:
    """`attribute`, stored on the message; the Intake that speaks of that campaign (its calendar
    records the submissions and words the answers)."""
    campaign = attribute(intake.campaigns or (intake.campaign,), reading, received_at)
    msg.campaign = campaign.slug
    return intake.for_campaign(campaign.slug)


def machine_mail(msg: Message, reading: Reading) -> str:
    msg.outcome, msg.reason, msg.kinds, msg.unit = AUTO_REPLY, reading.machine, [], None
    return AUTO_REPLY


def record_attachments(s, msg: Message, reading: Reading) -> list[AttachmentRecord]:
    records = []
    for i, f in enumerate(reading.files):
        r = f.result
        rec = AttachmentRecord(position=i, filename=f.filename, content_type=f.content_type,
                               origin=list(f.origin), sha256=f.data_sha, size=f.size, kind=r.kind,
                               status=r.status, values=dict(r.values),
                               errors=[p.as_json() for p in r.errors],
                               warnings=[p.as_json() for p in r.warnings], reason=r.reason)
        msg.attachments.append(rec)
        records.append(rec)
    s.flush()
    return records


def _form_unit_names(reading: Reading) -> list[str]:
    names = []
    for f in reading.files:
        for key in ("unit_name", "header.unit_name"):
            v = f.result.values.get(key)
            if isinstance(v, str) and v.strip():
                names.append(v)
    return names


def identify_unit(intake: Intake, reading: Reading, liaison_addrs: dict[str, str],
                  assigned: str | None) -> tuple[str | None, str | None]:
    """In order: assigned by an admin, the sender's address on record (roster or an accepted
    liaison form), the form's own 单位名称 / 填报单位, the subject."""
    roster = intake.roster
    if assigned:
        return assigned, "assigned"
    # Only From decides: a Reply-To is whatever the sender chose to write.
    unit = roster.unit_for_address(reading.mail.from_addr or "", liaison_addrs)
    if unit:
        return unit.name, "address"
    for name in _form_unit_names(reading):
        unit = roster.match_name(name)
        if unit:
            return unit.name, "form"
    unit = roster.find_in_text(reading.mail.subject)
    if unit:
        return unit.name, "subject"
    return None, None


def identify(intake: Intake, s, reading: Reading, liaison_addrs: dict[str, str], assigned: str | None,
             pk: int, received_at: datetime) -> Identity:
    """identify_unit, then what an unknown sender told us: an address an earlier answer
    confirmed, or this mail answering our question about its unit."""
    mail = reading.mail
    unit, source = identify_unit(intake, reading, liaison_addrs, assigned)
    if unit is not None:
        if source == "assigned" and conversation.confirmed_unit(s, mail.from_addr) == unit:
            source = conversation.SOURCE  # assigned by its sender's answer, not by an admin
        return Identity(unit, source)
    confirmed = conversation.confirmed_unit(s, mail.from_addr)
    if confirmed:
        return Identity(confirmed, conversation.SOURCE)
    question = conversation.awaiting_unit(s, mail.from_addr, pk, received_at)
    if question is None:
        return Identity(None, None)
    named = conversation.named_unit(intake.roster, mail.subject, mail.body_text)
    if named is None:
        return Identity(None, None, unanswered=question)
    return Identity(named.name, conversation.SOURCE, answered=question)


def forms_carried(reading: Reading, records: list[AttachmentRecord]) -> list[tuple[ReadFile, AttachmentRecord]]:
    # a kind is an item of the campaign whose form or document the reader took it for (any
    # campaign's item names, not only 2020's FORM_KINDS)
    return [(f, rec) for f, rec in zip(reading.files, records)
            if f.result.kind is not None and f.result.status in (PARSED, EVIDENCE)]


def problems_of(reading: Reading) -> tuple[str, ...]:
    """What could not be unpacked or read; a file the mail step could not open is already one
    of the mail's problems."""
    mail = reading.mail
    return tuple(mail.problems) + tuple(f"{f.filename}：{f.result.reason}" for f in reading.files
                                        if f.result.status == ERROR and f.result.reason not in mail.problems)


def sender_flags(intake: Intake, mail: ParsedMail, who: Identity, liaison_addrs: dict[str, str],
                 forged: bool, check_summary: str) -> list[str]:
    """Notes for the admin about the sender: an address not on the unit's record, a forged From."""
    flags = []
    if who.unit and who.source != "address":
        on_record = intake.roster.by_name[who.unit].emails + tuple(
            a for a, u in liaison_addrs.items() if u == who.unit)
        if mail.from_addr not in on_record:
            flags.append(f"发件地址 {mail.from_addr or '（无）'} 不在 {who.unit} 的登记记录中"
                         f"（按{SOURCE_LABEL[who.source]}认定）")
    if forged and who.unit:
        flags.append(f"发件人身份验证未通过（{check_summary}），疑为冒用 {mail.from_addr or '（无）'}")
    return flags


def _is_weekly(campaign: Campaign, kind: str | None) -> bool:
    weekly = campaign.weekly_item
    return kind == WEEKLY_REPORT or (weekly is not None and kind == weekly.item)


def _own_item(campaign: Campaign, result: FormResult, own: Campaign | None) -> str:
    """The item of `campaign` a result is: a form another campaign's definition recognised (its
    copy) is the item of this campaign's form of the same signature."""
    if own is not None and own.slug != campaign.slug and result.form:
        try:
            signature = _form_signature(own.form(result.form))
        except KeyError:
            signature = None
        for form in campaign.forms:
            if form.item and (_form_signature(form) == signature or signature is None and form.form == result.form):
                return form.item
    return result.kind


def item_for(cal: Calendar, result: FormResult, received_at: datetime,
             campaigns: tuple[Campaign, ...] = ()) -> str:
    """The item of the calendar's campaign a result counts for; a weekly report's (this
    campaign's, or the one of `campaigns` that recognised it) is its week (`NAME:YYYY-MM-DD`,
    Calendar.week_for)."""
    own = _own_campaign(campaigns, result)
    weekly = _is_weekly(cal.campaign, result.kind) or (own is not None and _is_weekly(own, result.kind))
    if weekly and cal.weeks:
        return cal.week_for(received_at, result.named_week)
    return _own_item(cal.campaign, result, own)


def _campaign_of(intake: Intake, result: FormResult) -> Intake:
    """The Intake a file is recorded under: the mail's campaign when the file fits it, else the
    campaign whose form it is (a mail carrying forms of two campaigns)."""
    campaigns = intake.campaigns or (intake.campaign,)
    fits = _fitting(campaigns, result)
    if not fits or any(c.slug == intake.campaign.slug for c in fits):
        return intake
    return intake.for_campaign(result.campaign)


def record_submissions(intake: Intake, s, msg: Message, reading: Reading, forms, unit: str,
                       received_at: datetime) -> list[tuple[str, str, str]]:
    """Each form and the body's weekly report as a submission of `unit` to the campaign of
    `intake` (the mail's, attribute_step): (item, label, new|duplicate)."""
    items = []
    for f, rec in forms:
        r = f.result
        here = _campaign_of(intake, r)
        item = item_for(here.calendar, r, received_at, intake.campaigns)
        state = submissions.record(
            s, unit=unit, item=item, kind=r.kind, message_pk=msg.id, attachment_pk=rec.id,
            received_at=received_at, values=dict(r.values), text=r.text,
            evidence_only=r.status == EVIDENCE, flags=list(msg.flags), file_sha256=rec.sha256,
            campaign=here.campaign.slug)
        items.append((item, f.filename, state))
    body = reading.body
    if body is not None and body.status == PARSED:
        here = _campaign_of(intake, body)
        if here.calendar.weeks:  # a campaign without weekly reports has no week to count it for
            item = item_for(here.calendar, body, received_at, intake.campaigns)
            state = submissions.record(
                s, unit=unit, item=item, kind=body.kind or WEEKLY_REPORT, message_pk=msg.id, attachment_pk=None,
                received_at=received_at, values={}, text=body.text, flags=list(msg.flags),
                campaign=here.campaign.slug)
            items.append((item, "邮件正文", state))
    return items


def looks_like_submission(reading: Reading, campaign_words: Iterable[str] = ()) -> bool:
    mail = reading.mail
    names = [mail.subject, *(f.filename for f in reading.files)]
    if any(classify.keyword_kind(text) in _SUBMISSION_KINDS for text in names):
        return True
    hay = " ".join(names) + " " + (mail.body_text or "")[:4000]
    return any(word and word in hay for word in (*_CAMPAIGN_WORDS, *campaign_words))


@dataclass
class Decided:
    """A decision and what the answer step needs of its steps."""

    verdict: Verdict
    facts: Facts
    who: Identity
    items: list[tuple[str, str, str]]
    carried: list[FormResult]
    liaison_addrs: dict[str, str]
    intake: Intake  # of the campaign the mail was attributed to: the answers speak of it


def decide(intake: Intake, s, msg: Message, reading: Reading, assigned: str | None, received_at: datetime,
           now: datetime) -> Decided | None:
    """The outcome of a claimed message from its reading, stored on `msg`; None for machine
    mail (never answered)."""
    mail = reading.mail
    start_over(s, msg, mail, now)
    intake = attribute_step(intake, msg, reading, received_at)
    if reading.machine:
        machine_mail(msg, reading)
        return None
    records = record_attachments(s, msg, reading)
    liaison_addrs = liaison_addresses(submissions.liaison_forms(s))
    who = identify(intake, s, reading, liaison_addrs, assigned, msg.id, received_at)
    msg.unit, msg.unit_source = who.unit, who.source

    forms = forms_carried(reading, records)
    carried = [f.result for f, _ in forms] + ([reading.body] if reading.body is not None else [])
    msg.kinds = sorted({r.kind for r in carried if r.status == PARSED})

    check = sender_check(mail, intake.config.mailbox.trusted_authserv_ids)
    msg.sender_check = check.summary() if check.checked else None
    forged = check.forged and who.source != "assigned"  # an admin's assign settles it
    msg.flags = sender_flags(intake, mail, who, liaison_addrs, forged, check.summary())

    items = []
    if who.unit and not forged:
        items = record_submissions(intake, s, msg, reading, forms, who.unit, received_at)
    facts = Facts(unit=who.unit, forged=forged, sender_check=check.summary(),
                  new=any(state == submissions.NEW for _, _, state in items), recorded=bool(items),
                  carried=bool(carried), problems=problems_of(reading), answered=who.answered,
                  unanswered=who.unanswered, replies_to_us=replies_to_our_mail(mail),
                  looks_like_submission=looks_like_submission(
                      reading, [k for c in intake.campaigns for k in c.keywords]))
    verdict = outcome_for(facts)
    msg.outcome, msg.reason = verdict.outcome, verdict.reason
    return Decided(verdict, facts, who, items, carried, liaison_addrs, intake)
