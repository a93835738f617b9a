"""Progress bars for long runs, on a terminal only (never in logs)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from woodoo.engine import Progress as ProgressCallback

LABELS = {"index": "Reading the shop (pages)", "push": "Writing stock (items)"}


@contextmanager
def terminal_progress() -> Iterator[ProgressCallback | None]:
    """A progress callback drawing rich bars on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True,
    ) as bars:
        tasks: dict[str, int] = {}

        def advance(task: str, step: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bars.add_task(LABELS.get(task, task), total=total)
            bars.update(tasks[task], advance=step, total=total)

        yield advance
