"""read_ahead: the IMAP read-ahead thread of keep_new."""
from __future__ import annotations

import queue
import sys
import threading
import time

import pytest

from bot.mail.prefetch import read_ahead


def reading_thread() -> threading.Thread:
    [thread] = [t for t in threading.enumerate() if t.name == "imap-read-ahead"]
    return thread


def parked_on_full_slot(thread: threading.Thread) -> bool:
    """Whether `thread` is inside queue.Queue.put on a full queue: it cannot go on until the
    consumer takes an item, so whatever it was going to produce meanwhile it has produced."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code is queue.Queue.put.__code__:
            return frame.f_locals["self"].full()
        frame = frame.f_back
    return False


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_items_come_in_order_and_the_thread_ends():
    before = threading.active_count()
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert threading.active_count() == before


def test_the_source_runs_at_most_depth_items_ahead():
    produced = []

    def source():
        for n in range(10):
            produced.append(n)
            yield n

    reader = read_ahead(source(), depth=1)
    assert next(reader) == 0
    # the thread has run as far as it may once it waits for room in the full slot
    assert wait_until(lambda: parked_on_full_slot(reading_thread()))
    # one item handed out, one waiting in the slot, one produced and blocked on the full slot
    assert len(produced) == 3
    reader.close()


def test_an_error_in_the_source_reaches_the_consumer_after_the_good_items():
    def source():
        yield 1
        yield 2
        raise ConnectionResetError("IMAP connection dropped")

    got = []
    with pytest.raises(ConnectionResetError, match="dropped"):
        for item in read_ahead(source()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_thread_before_returning():
    touched = threading.Event()
    stopped_consuming = threading.Event()

    def source():
        for n in range(1000):
            if stopped_consuming.is_set():
                touched.set()  # the source ran on after the consumer had its connection back
            yield n

    before = threading.active_count()
    reader = read_ahead(source())
    for item in reader:
        if item == 3:
            break
    thread = reading_thread()
    reader.close()
    # close() returned: the thread that alone runs the source has ended, so nothing can run it
    # any more (no waiting needed to see whether it does)
    assert not thread.is_alive()
    stopped_consuming.set()
    assert threading.active_count() == before
    assert not touched.is_set()
