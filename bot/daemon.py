"""The daemon's cycle and loop: fetch -> keep -> process -> move -> send, then IDLE or sleep.

What was sent lives in the outbox, not in memory, so the loop can be stopped (SIGTERM/SIGINT,
between steps) and restarted at any point.
"""
from __future__ import annotations

import imaplib
import logging
import signal
import threading
from contextlib import closing
from dataclasses import dataclass, field

from imapclient.exceptions import IMAPClientError
from sqlalchemy import select, update

from . import pipeline
from .clock import system_clock
from .intake import Intake
from .mail.archive import StorageError
from .os_errors import os_reason
from .mail.imap import Mailbox, MailboxError
from .mail.prefetch import read_ahead
from .outbox import DrainResult, Outbox
from .progress_bars import NoProgress, Progress
from .reading_pool import process_all
from .store.models import PENDING, TAKEN, MailboxState, MailLocation, Message

log = logging.getLogger(__name__)


@dataclass
class CycleResult:
    fetched: int = 0
    new: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    sent: DrainResult = field(default_factory=DrainResult)


def fetch_and_process(intake: Intake, mailbox: Mailbox, should_stop=lambda: False,
                      progress: Progress | None = None) -> CycleResult:
    """One pass over the mailbox: everything new is kept, then processed, then moved."""
    progress = progress or NoProgress()
    result = CycleResult()
    handled = keep_new(intake, mailbox, result, should_stop, progress)
    pending = pipeline.pending_ids(intake)
    progress.stage("识别、登记并回复", len(pending))
    for pk, outcome in process_all(intake, pending, should_stop=should_stop):
        progress.advance()
        if outcome == TAKEN:  # another daemon on the same database has it
            continue
        result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1  # logged by the walk (pipeline.walk)
    if result.outcomes.get(pipeline.SET_ASIDE):
        log.info("已存档 %d 封启用前或活动开始接收报送前的旧邮件（intake messages 可查），不回复、不计入",
                 result.outcomes[pipeline.SET_ASIDE])
    if intake.config.mailbox.processed_folder and handled:
        try:
            mailbox.move_processed(_processed_uids(intake, mailbox, handled))
        except MailboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - the mail is kept and processed; moving can wait
            log.warning("无法把已处理邮件移到 %s：%s", intake.config.mailbox.processed_folder, exc)
    return result


def keep_new(intake: Intake, mailbox: Mailbox, result: CycleResult, should_stop=lambda: False,
             progress: Progress | None = None) -> list[int]:
    """The cycle's first step: every mail above the UID watermark kept on disk and recorded
    (pending), counted in `result`; returns the UIDs handled."""
    folder = intake.config.mailbox.folder
    with intake.db.session() as s:
        state = s.get(MailboxState, folder)
        last_uid = state.last_uid if state and state.uidvalidity == mailbox.uidvalidity else 0
    if state and state.uidvalidity != mailbox.uidvalidity:
        log.warning("邮箱 %s 的 UIDVALIDITY 已变化（%s → %s），按 Message-ID 与内容去重重新检查",
                    folder, state.uidvalidity, mailbox.uidvalidity)
    uids = mailbox.new_uids(last_uid)
    handled: list[int] = []
    progress = progress or NoProgress()
    progress.stage("收取并保存新邮件", len(uids))
    # The next batch downloads while this one is written (bot/mail/prefetch.py); closing the
    # reader waits for its thread, so the connection is idle again when this returns.
    with closing(read_ahead(mailbox.fetch_batches(uids))) as batches:
        _keep_batches(intake, batches, result, handled, should_stop, progress)
    return handled


def _keep_batches(intake: Intake, batches, result: CycleResult, handled: list[int],
                  should_stop, progress: Progress) -> None:
    for batch in batches:
        if should_stop():
            break
        result.fetched += len(batch)
        try:
            kept = pipeline.ingest_batch(intake, batch)
        except OSError as exc:
            # Disk full, storage unwritable: the batch was not recorded and the UID watermark
            # did not move, so its mail stays on the server and the next cycle takes it again.
            raise StorageError(f"无法保存邮件（{intake.config.storage_dir}：{os_reason(exc)}），"
                               "邮件仍在服务器上，稍后重取") from None
        result.new += sum(pk is not None for pk in kept)
        handled.extend(f.uid for f in batch)
        progress.advance(len(batch))


def _processed_uids(intake: Intake, mailbox: Mailbox, uids: list[int]) -> list[int]:
    """Only mail whose processing finished leaves the inbox."""
    with intake.db.session() as s:
        rows = s.execute(select(MailLocation.uid, Message.outcome).join(Message, Message.id == MailLocation.message_pk).where(
            MailLocation.folder == intake.config.mailbox.folder, MailLocation.uidvalidity == mailbox.uidvalidity,
            MailLocation.uid.in_(uids)))
        return sorted(uid for uid, outcome in rows if outcome != PENDING)


def _sweep(intake: Intake) -> None:
    """Half-written files of a predecessor killed mid-write go before this process writes."""
    removed = intake.archive.sweep_temp()
    if removed:
        log.info("已清理上次中断时留下的 %d 个临时文件", removed)


def poll_once(intake: Intake, progress: Progress | None = None) -> CycleResult:
    """`intake poll`: one cycle, then the outbox is drained (also when the mailbox failed).
    Raises MailboxError (one line) for any IMAP trouble, including a connection dropped mid-way."""
    outbox = Outbox.of(intake)
    _sweep(intake)
    try:
        with Mailbox(intake.config.mailbox, clock=intake.clock) as mailbox:
            result = fetch_and_process(intake, mailbox, progress=progress)
    except (MailboxError, StorageError):
        outbox.drain()
        raise
    except (IMAPClientError, OSError, imaplib.IMAP4.error) as exc:
        outbox.drain()
        raise MailboxError(f"IMAP 连接中断：{exc or type(exc).__name__}（已收取的邮件均已保存，下次继续）") from None
    result.sent = outbox.drain()
    return result


def mark_handled(intake: Intake, progress: Progress | None = None) -> int:
    """`intake mark-handled`, before going live: everything in the mailbox now is kept and
    listed but counts as handled by the office: never answered, never counted, also when
    reprocessed later. Mail kept earlier and not yet processed is marked too. Returns how
    many mails were marked."""
    progress = progress or NoProgress()
    _sweep(intake)
    with Mailbox(intake.config.mailbox, clock=intake.clock) as mailbox:
        keep_new(intake, mailbox, CycleResult(), progress=progress)
    now = intake.clock()
    with intake.db.session() as s:
        pending = list(s.scalars(select(Message.id).where(Message.outcome == PENDING).order_by(Message.id)))
        if pending:
            s.execute(update(Message).where(Message.id.in_(pending)).values(marked_handled_at=now)
                      .execution_options(synchronize_session=False))
    progress.stage("标记为已处理", len(pending))
    marked = 0
    for _, outcome in process_all(intake, [pipeline.Pending(pk) for pk in pending]):
        progress.advance()
        marked += outcome == pipeline.SET_ASIDE
    return marked


class StopFlag:
    """Set by SIGTERM/SIGINT; every step checks it between mails."""

    def __init__(self):
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def install(self) -> None:
        def handler(signum, _frame):
            log.info("收到信号 %s，处理完当前步骤后退出", signal.Signals(signum).name)
            self.event.set()
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def sleep(self, seconds: float) -> None:
        self.event.wait(seconds)


def campaign_tick(intake: Intake, stop: StopFlag) -> None:
    """Send whatever reminders and digest are due now, for every campaign of the config; the
    outbox keys make this idempotent (Intake.outbox_key: a campaign's own), so a daemon that was
    down at 09:00 and is back at 10:30 still sends that day's reminders once, and one down for
    longer than grace_hours sends nothing stale."""
    from .reporting import send_digest, send_reminders

    if stop():
        return
    now = intake.clock()
    several = len(intake.campaigns) > 1
    try:
        for campaign in intake.campaigns or (intake.campaign,):
            if stop():
                break
            this = intake.for_campaign(campaign.slug)
            try:
                sent = send_reminders(this, now, drain=False)
                if sent:
                    log.info("催报提醒 %d 封已排队%s", len(sent), f"（{campaign.name}）" if several else "")
                if send_digest(this, now, drain=False):
                    log.info("周汇总已排队%s", f"（{campaign.name}）" if several else "")
            except Exception:  # noqa: BLE001 - one campaign's failure does not stop the others'
                log.exception("定时任务出错%s", f"（{campaign.name}）" if several else "")
        Outbox.of(intake).drain(should_stop=stop)  # SIGTERM stops it between mails
    except Exception:  # noqa: BLE001 - a failed tick is retried at the next one
        log.exception("定时任务出错")


def start_scheduler(intake: Intake, stop: StopFlag, on_tick=None):
    """APScheduler in the campaign's time zone drives reminders and digests; what was sent lives
    in the outbox, not in the scheduler's memory. `on_tick` is called after every tick.

    The scheduler fires every tick_seconds of the machine's clock, starting now; what time it is
    for the campaign is the tick's question to the Intake's clock."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def tick() -> None:
        campaign_tick(intake, stop)
        if on_tick:
            on_tick()

    scheduler = BackgroundScheduler(timezone=intake.calendar.tz,
                                    job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(tick, "interval", seconds=intake.config.schedule.tick_seconds,
                      id="campaign", next_run_time=system_clock())
    scheduler.start()
    return scheduler


def run(intake: Intake, stop: StopFlag, *, on_cycle=None, on_tick=None) -> None:
    """`intake run`: the mailbox loop, and from the end of its first pass the campaign's
    scheduler, until `stop` is set; a reminder or digest step that is running then finishes
    first. `on_cycle` is called after every pass over the mailbox, `on_tick` after every tick."""
    schedulers = []

    def after_cycle() -> None:
        # Reminders start after the first pass over the mailbox, so that mail which arrived
        # while the daemon was down counts before anyone is reminded of it.
        if not schedulers:
            schedulers.append(start_scheduler(intake, stop, on_tick))
        if on_cycle:
            on_cycle()

    try:
        run_forever(intake, stop, on_cycle=after_cycle)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)


def run_forever(intake: Intake, stop: StopFlag, *, on_cycle=None) -> None:
    """`intake run`: IDLE where the server offers it, else poll every poll_seconds; a broken
    connection or an unreachable server is retried with backoff, never fatal."""
    cfg = intake.config.mailbox
    outbox = Outbox.of(intake)
    _sweep(intake)
    failures = 0
    while not stop():
        mailbox = Mailbox(cfg, clock=intake.clock)
        try:
            mailbox.connect()
            if failures:
                log.info("已重新连接 IMAP 服务器")
            failures = 0
            log.info("已连接 %s:%s（%s）", cfg.host, cfg.port, "IDLE 推送" if mailbox.has_idle else f"每 {cfg.poll_seconds:g} 秒轮询")
            while not stop():
                fetch_and_process(intake, mailbox, stop)
                outbox.drain(should_stop=stop)
                if on_cycle:
                    on_cycle()
                if stop():
                    break
                if mailbox.has_idle:
                    mailbox.idle_wait(min(cfg.poll_seconds, 25 * 60), stop)
                else:
                    stop.sleep(cfg.poll_seconds)
                    mailbox.noop()
        except (MailboxError, StorageError) as exc:
            failures += 1
            log.error("%s", exc)
        except Exception as exc:  # noqa: BLE001 - a broken connection (idle_check, socket) is retried
            failures += 1
            log.warning("IMAP 连接中断（%s: %s），稍后重连", type(exc).__name__, exc)
        finally:
            mailbox.close()
        if failures and not stop():
            # the mailbox being down does not stop what is already queued, nor the calendar
            try:
                outbox.drain(should_stop=stop)
            except Exception:  # noqa: BLE001
                log.exception("发送待发邮件出错")
            if on_cycle:
                on_cycle()
            stop.sleep(min(2 ** min(failures, 8), 300))
    log.info("已退出")

