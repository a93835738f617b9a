"""A clock that tests and benchmarks move forward, shared by a simulator and the engine."""

from __future__ import annotations

import time
from datetime import UTC, datetime


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
