"""read_ahead: the IMAP read-ahead thread of keep_new."""
from __future__ import annotations

import threading
import time

import pytest

from bot.mail.prefetch import read_ahead


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
    time.sleep(0.3)  # let the thread run as far as it may
    # one item handed out, one waiting in the slot, one produced and blocked on the full slot
    assert len(produced) <= 3
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
    reader.close()
    stopped_consuming.set()
    time.sleep(0.3)
    assert threading.active_count() == before
    assert not touched.is_set()
