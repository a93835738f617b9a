"""woodoo.read_ahead: one remote's pages read in a thread while the caller reads another's."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator

import pytest

from woodoo.read_ahead import AHEAD, read_ahead

RUN = contextvars.ContextVar("run", default="none")


class Pages:
    """Numbered pages; records which were read, in which thread and run, and whether closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.read: list[int] = []
        self.threads: set[str] = set()
        self.runs: set[str] = set()
        self.closed = False
        self.started = threading.Event()

    def __iter__(self) -> Iterator[list[int]]:
        self.started.set()
        try:
            for number in range(self.count):
                if number == self.fail_at:
                    raise ConnectionError(f"page {number}: connection reset")
                self.read.append(number)
                self.threads.add(threading.current_thread().name)
                self.runs.add(RUN.get())
                yield [number]
        finally:
            self.closed = True


def test_pages_come_in_order_read_by_a_thread_started_before_they_are_asked_for():
    pages = Pages(7)
    with read_ahead(pages, "odoo") as taken:
        assert pages.started.wait(5)  # reading while the caller does something else
        assert list(taken) == [[n] for n in range(7)]
    assert pages.threads == {"read-ahead odoo"} and pages.closed


def test_the_reader_stays_a_few_pages_ahead_whatever_the_catalog_size():
    pages = Pages(1000)
    with read_ahead(pages, "odoo") as taken:
        first = next(taken)
        threading.Event().wait(0.3)
        # Taken, queued, and the one waiting to be queued: memory is a few pages.
        assert first == [0] and len(pages.read) <= AHEAD + 2
    assert pages.closed and len(pages.read) <= AHEAD + 3


def test_an_error_is_raised_where_the_caller_takes_the_page_it_stopped_at():
    pages = Pages(5, fail_at=3)
    got: list[list[int]] = []
    with pytest.raises(ConnectionError, match="page 3"), read_ahead(pages, "odoo") as taken:
        for page in taken:
            got.append(page)
    assert got == [[0], [1], [2]]


def test_a_caller_that_gives_up_stops_the_reader_and_no_thread_is_left():
    pages = Pages(1000)
    with pytest.raises(RuntimeError), read_ahead(pages, "odoo"):
        assert pages.started.wait(5)
        raise RuntimeError("the shop's listing failed")
    assert pages.closed and len(pages.read) < 1000
    assert not [t for t in threading.enumerate() if t.name == "read-ahead odoo"]


def test_the_reader_runs_in_the_callers_context():
    pages = Pages(2)
    token = RUN.set("run-42")
    try:
        with read_ahead(pages, "odoo") as taken:
            list(taken)
    finally:
        RUN.reset(token)
    assert pages.runs == {"run-42"}
