"""A clock that tests and benchmarks move forward, shared by a simulator and the engine."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class OffsetClock:
    """Real time plus an offset: `advance` jumps ahead without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` ahead."""
        self.offset += seconds

    def time(self) -> float:
        """Unix seconds, like time.time()."""
        return time.time() + self.offset

    def utc(self) -> datetime:
        """Naive UTC datetime, as the Odoo simulator's clock returns it."""
        return datetime.fromtimestamp(self.time(), UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that stands still until moved: naive UTC datetimes, as the Odoo simulator takes."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move the clock `seconds` ahead; returns the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now
