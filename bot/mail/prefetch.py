"""Read ahead: the next IMAP batch downloads while the current one is written and synced.

Keeping a batch is mostly waiting on the disk (a create, a write and an fsync per mail) and
fetching one is mostly waiting on the socket; both release the GIL, so running the fetch in
a thread, one batch ahead, overlaps the two. Only the reading thread touches the connection
while the generator runs, and closing the generator waits for that thread, so the caller
has the connection back, idle, before it uses it again.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(source: Iterable[T], depth: int = 1) -> Iterator[T]:
    """The items of `source`, produced by a background thread up to `depth` items ahead of
    the consumer. An exception in the source is raised in the consumer at the point where
    its item would have come; a consumer that stops early stops the thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread
            slots.put(_Failed(exc))

    worker = threading.Thread(target=produce, name="imap-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # drain so a producer blocked on put() sees `stop`
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()
