"""One route for every message: claim -> read -> finish (decide, answer, commit), whether the
mail is read here or in a reading worker (bot/reading_pool.py hands `run` its pool as the
`readers`). Two commits per message: `keep` recorded it as pending before anything was parsed;
`finish` records the outcome and queues the answers in one transaction that holds the claim.
An exception inside becomes a `needs_review` outcome with its reason, never a stopped daemon.
"""
from __future__ import annotations

import logging
import traceback
from collections import deque
from datetime import datetime
from typing import Callable, Iterable, Iterator, Protocol

from ..intake import Intake
from ..present.labels import OUTCOME_LABELS
from ..store.models import NEEDS_REVIEW, TAKEN
from . import answer, decide
from .claim import ClaimLost, Job, Pending, begin, claimed
from .read import ReadFailure, Reading, read_job

log = logging.getLogger(__name__)

# What `process` returns for mail that is kept and listed but not read: it arrived before the
# campaign accepts submissions, or an admin marked it handled before going live. Stored as
# IGNORED with the reason; the daemon counts these apart so a first start on a full mailbox
# can say how many old mails it set aside.
SET_ASIDE = "set_aside"


class Readers(Protocol):
    """Where claimed mail is read: `depth` claims may be in flight at once."""

    depth: int

    def submit(self, job: Job) -> object: ...

    def result(self, ticket: object, job: Job) -> Reading | ReadFailure: ...


class InProcess:
    """Reading in this process, one mail at a time: a claim is read when its turn comes."""

    depth = 1

    def __init__(self, intake: Intake):
        self.intake = intake

    def submit(self, job: Job) -> Job:
        return job

    def result(self, ticket: object, job: Job) -> Reading | ReadFailure:
        return read_job(self.intake, job)


def run(intake: Intake, work: Iterable[Pending], *, only_pending: bool, readers: Readers | None = None,
        should_stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, str]]:
    """(pk, outcome) for each message in `work`, in order. Claims run ahead of the reading by
    `readers.depth`; outcomes are recorded one after another in arrival order, so a backlog read
    in parallel ends as the same backlog read alone. Stops claiming when `should_stop()` turns
    true; messages already claimed are finished."""
    readers = readers or InProcess(intake)
    queue = iter(work)
    ahead: deque[tuple[int, Job | None, object]] = deque()

    def claim_more() -> None:
        while len(ahead) < readers.depth and not should_stop():
            ref = next(queue, None)
            if ref is None:
                return
            job = begin(intake, ref.pk, only_pending=only_pending, stale_claim=ref.stale_claim)
            ahead.append((ref.pk, job, readers.submit(job) if job else None))

    claim_more()
    while ahead:
        pk, job, ticket = ahead.popleft()
        outcome = TAKEN if job is None else finish(intake, job, readers.result(ticket, job))
        claim_more()
        yield pk, outcome


def process(intake: Intake, pk: int) -> str:
    """An admin's `assign` / `reprocess` of one message: its claim is taken over."""
    return next(run(intake, [Pending(pk)], only_pending=False))[1]


def process_pending(intake: Intake, pending: Pending) -> str:
    """A daemon's: the message is taken only while still pending and not read elsewhere."""
    return next(run(intake, [pending], only_pending=True))[1]


def finish(intake: Intake, job: Job, reading: Reading | ReadFailure) -> str:
    """Record a claimed message's outcome from its reading, in one transaction that holds the
    claim; TAKEN when another process took the message over meanwhile."""
    now = intake.clock()
    try:
        if isinstance(reading, ReadFailure):
            log.error("处理邮件 %s 出错：%s", job.pk, reading.detail or reading.reason)
            return _record_failure(intake, job, reading.reason, now)
        try:
            outcome, follow_ups = _record(intake, job, reading, now)
        except ClaimLost:
            raise
        except Exception as exc:  # noqa: BLE001
            log.error("记录邮件 %s 出错：%s", job.pk, traceback.format_exc())
            return _record_failure(intake, job, f"处理出错（{type(exc).__name__}），原件已保存，请人工查看", now)
    except ClaimLost:
        log.info("邮件 %s 已由另一进程处理，本次结果不记录", job.pk)
        return TAKEN
    for other in follow_ups:  # mail this one settled (its sender named its unit): read again now
        process(intake, other)
    return SET_ASIDE if job.set_aside else outcome


def _record_failure(intake: Intake, job: Job, reason: str, now: datetime) -> str:
    with intake.db.session() as s:
        msg = claimed(s, job.pk, job.token)
        msg.outcome, msg.reason, msg.processed_at = NEEDS_REVIEW, reason, now
    return NEEDS_REVIEW


def _record(intake: Intake, job: Job, reading: Reading, now: datetime) -> tuple[str, list[int]]:
    follow_ups: list[int] = []
    with intake.db.session() as s:
        msg = claimed(s, job.pk, job.token)
        if job.set_aside:
            outcome = decide.set_aside(s, msg, reading, job.set_aside, now)
        else:
            decided = decide.decide(intake, s, msg, reading, job.assigned, job.received_at, now)
            outcome = msg.outcome
            if decided is not None:
                # the answers speak of the campaign the mail was attributed to
                follow_ups = answer.respond(decided.intake, s, msg, reading, decided, job.received_at, now)
        # one line per mail handled; mail set aside (years of an old mailbox) is counted instead
        log.log(logging.DEBUG if job.set_aside else logging.INFO, "邮件 #%d %s 《%s》 → %s%s%s", msg.id,
                msg.from_addr, (msg.subject or "")[:40], OUTCOME_LABELS.get(outcome, outcome),
                f"（{msg.unit}）" if msg.unit else "", f"：{msg.reason}" if msg.reason else "")
    return outcome, follow_ups
