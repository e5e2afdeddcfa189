"""Reading a backlog's mails on every core: the pure middle of each message's walk
(`pipeline.read_archived`: MIME unpacking, attachment reading, classification, form parsing)
runs in worker processes while this process claims messages and records outcomes in order.

Only the database work stays in one process, one message after another, in the order the
mails arrived, exactly as `pipeline.process` does it: the outcome of a backlog read in
parallel is the outcome of the same backlog read alone (the latest version of a form wins
by arrival, acknowledgements list what was on record at their turn).

A worker that dies (a file that crashes a parser library, the kernel's OOM killer) breaks the
pool: every message it was reading is read again alone, in a fresh single-worker pool, and a
mail that kills that one too is recorded as needing review with its reason, while the rest
of the backlog goes on in a new pool.

Small batches are read in-process: a worker costs about half a second to start (it imports
the parsers), which a handful of mails does not repay. The daemon's usual case, one mail
announced by IDLE, never waits for a pool.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator

from . import pipeline
from .intake import Intake
from .config import Config
from .mail.archive import Archive

log = logging.getLogger(__name__)

# Below this many messages a cycle reads in-process (see the module's docstring).
POOL_MIN = 24


def worker_count(config: Config) -> int:
    """`[limits] read_workers`, or one worker per core when it is 0."""
    return config.limits.read_workers or os.cpu_count() or 1


def process_all(intake: Intake, work: Iterable[pipeline.Pending], *, only_pending: bool = True,
                should_stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, str]]:
    """(pk, outcome) for each message in order, as `pipeline.run` gives them, with the reading
    spread over worker processes when there are enough messages and cores. `only_pending`:
    see `pipeline.begin` (False: an admin's reprocess takes claims over)."""
    work = list(work)
    workers = min(worker_count(intake.config), len(work))
    if workers < 2 or len(work) < POOL_MIN:
        yield from pipeline.run(intake, work, only_pending=only_pending, should_stop=should_stop)
        return
    try:
        readers = _Readers(intake, workers)
    except BrokenProcessPool:
        # Workers that cannot even start (a main script that runs itself again when imported
        # by a worker, a machine out of processes) must not turn every mail into a failure.
        log.warning("无法启动读取进程，改为在本进程内逐封读取")
        yield from pipeline.run(intake, work, only_pending=only_pending, should_stop=should_stop)
        return
    with readers:
        yield from pipeline.run(intake, work, only_pending=only_pending, readers=readers, should_stop=should_stop)


class _Readers:
    """The worker pool, renewed when a worker dies."""

    def __init__(self, intake: Intake, workers: int):
        self.intake, self.config, self.workers = intake, intake.config, workers
        self.depth = 2 * workers  # two mails per worker in flight: one being read, one in its queue
        self.pool = self._start(workers)
        try:
            self.pool.submit(_ready).result()  # raises BrokenProcessPool if workers cannot start
        except BaseException:
            self.pool.shutdown(wait=True, cancel_futures=True)
            raise

    def _start(self, workers: int) -> ProcessPoolExecutor:
        # spawn, not fork: this process has threads (the archive's writers, SQLAlchemy's pool)
        # and open connections that a forked child must not inherit.
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self.config, os.getpid()))

    def __enter__(self) -> _Readers:
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: pipeline.Job) -> Future | None:
        if job.set_aside:
            return None  # headers alone, read here when its turn comes: no worker needed
        digest = job.digest
        try:
            future = self.pool.submit(_read, digest)
        except BrokenProcessPool:
            self._renew()
            future = self.pool.submit(_read, digest)
        future.pool = self.pool  # which pool broke, when it did
        return future

    def result(self, future: Future | None, job: pipeline.Job) -> pipeline.Reading | pipeline.ReadFailure:
        if future is None:
            return pipeline.read_job(self.intake, job)
        digest = job.digest
        try:
            return future.result()
        except BrokenProcessPool:
            pass
        except Exception as exc:  # noqa: BLE001 - a result that could not travel back (pickling)
            log.error("读取邮件原件 %s 的结果无法取回：%r", digest, exc)
            return pipeline.ReadFailure(f"读取结果无法取回（{type(exc).__name__}），原件已保存，请人工查看", repr(exc))
        # A worker died: this mail may be the cause or only have shared the pool with it.
        # Read alone, it either succeeds or is the cause.
        if getattr(future, "pool", None) is self.pool:
            self._renew()
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker, initargs=(self.config, os.getpid())) as alone:
            try:
                return alone.submit(_read, digest).result()
            except BrokenProcessPool:
                log.error("读取邮件原件 %s 时读取进程异常退出", digest)
                return pipeline.ReadFailure("读取此邮件时读取进程异常退出（附件可能损坏或过大），原件已保存，请人工查看")

    def _renew(self) -> None:
        log.warning("读取进程异常退出，重新启动读取进程")
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._start(self.workers)


@dataclass
class _WorkerSide:
    """What `pipeline.read_archived` needs of an Intake: the configuration and the archive."""

    config: Config
    archive: Archive


_SIDE: _WorkerSide | None = None


def _start_worker(config: Config, parent: int) -> None:
    global _SIDE
    # The daemon decides when to stop: a Ctrl-C or a SIGTERM sent to the whole process group
    # lets the worker finish the mail it reads, and the pool's shutdown ends it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _SIDE = _WorkerSide(config, Archive(config.storage_dir))
    # `parent` comes from the daemon itself: a worker still starting when the daemon died
    # has been handed to init already, and its own getppid() would be that.
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker once the daemon is gone. A daemon killed outright (SIGKILL, the OOM
    killer) never shuts its pool down, and the worker would wait for work forever: it holds
    the writing end of its own task queue, so it never sees the end of it."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _ready() -> bool:
    return _SIDE is not None


def _read(digest: str) -> pipeline.Reading | pipeline.ReadFailure:
    assert _SIDE is not None
    reading = pipeline.read_archived(_SIDE, digest)
    if isinstance(reading, pipeline.Reading):
        # The attachments' bytes are archived by hash and not needed by the recording side:
        # sending them back would copy every file through a pipe once more.
        mail = reading.mail
        reading = replace(reading, mail=replace(mail, attachments=tuple(
            replace(a, data=b"") for a in mail.attachments)))
    return reading
