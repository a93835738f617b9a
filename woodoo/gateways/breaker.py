"""A circuit breaker per remote side: after a few failures in a row, a side that is down is left
alone for a cool-down that grows while it stays down; then one probe call decides.

Hand-written: the maintained Python breakers (pybreaker, circuitbreaker) count failures per
decorated function and know nothing of our "the remote answered 4xx, so it is up" rule or of a
growing cool-down; this is a small state machine with a clock, tested on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from woodoo.gateways.retry import CircuitOpen

State = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class BreakerSettings:
    """When a breaker opens and how long it stays open."""

    failures: int = 5  # consecutive failures that open it
    cooldown: float = 10.0  # the first cool-down, in seconds; it doubles while the side is down
    max_cooldown: float = 300.0


class Breaker:
    """Closed: calls go through. Open: none until the cool-down ends. Half-open: one probe."""

    def __init__(self, side: str, settings: BreakerSettings = BreakerSettings(), *,
                 clock: Callable[[], float] = time.time,
                 on_change: Callable[[Breaker, State, State], None] | None = None) -> None:
        self.side = side
        self.settings = settings
        self.clock = clock
        self.listeners = [on_change] if on_change else []
        self.state: State = "closed"
        self.failures = 0
        self.opened_at: float | None = None  # when this outage began (the first opening)
        self.open_until = 0.0
        self.cooldown = settings.cooldown
        self.last_error = ""
        self._probing = False
        self._heard = False  # the cool-down was ended early by word from the side
        self._deaf_until = 0.0  # word from the side is not taken again before then
        self._lock = threading.RLock()  # on_change may read the snapshot

    def before_call(self) -> None:
        """Let a call through, or raise CircuitOpen (in the cool-down, or a probe is out)."""
        with self._lock:
            if self.state == "closed":
                return
            now = self.clock()
            if self.state == "open" and now >= self.open_until:
                self._move("half-open")
            if self.state == "half-open" and not self._probing:
                self._probing = True  # this call is the probe
                return
            wait = max(0.0, self.open_until - now)
            raise CircuitOpen(f"{self.side} is unreachable ({self.last_error}); the next try "
                              f"is in {wait:.0f} s", retry_after=wait)

    def heard_from(self) -> None:
        """The side reached us (it sent an event): end a cool-down now, so that the next call
        is the probe that decides, instead of waiting up to max_cooldown for it."""
        with self._lock:
            now = self.clock()
            # A side that speaks but still cannot be reached (a one-way network fault) is not
            # probed at each word: after a failed early probe, words wait for its cool-down.
            if self.state == "open" and now >= self._deaf_until:
                self.open_until = min(self.open_until, now)
                self._heard = True

    def succeeded(self) -> None:
        """The side answered (a 4xx caused by our data counts: the side is up)."""
        with self._lock:
            self.failures = 0
            self._probing = False
            self._heard = False
            if self.state != "closed":
                self.cooldown = self.settings.cooldown
                self.opened_at = None
                self._move("closed")

    def failed(self, error: str) -> None:
        """The side did not answer (timeout, connection error, 5xx)."""
        with self._lock:
            self.failures += 1
            self.last_error = error
            was_probe, self._probing = self._probing, False
            if was_probe:
                # Still down: stay away longer, up to the cap.
                self.cooldown = min(self.cooldown * 2, self.settings.max_cooldown)
                self._open()
                if self._heard:
                    self._deaf_until = self.open_until
                self._heard = False
            elif self.state == "closed" and self.failures >= self.settings.failures:
                self.opened_at = self.clock()
                self._open()

    def snapshot(self) -> dict[str, Any]:
        """The breaker's state for status, /readyz and /metrics."""
        with self._lock:
            return {"state": self.state, "failures": self.failures, "since": self.opened_at,
                    "open_until": self.open_until if self.state != "closed" else None,
                    "last_error": self.last_error}

    def _open(self) -> None:
        self.open_until = self.clock() + self.cooldown
        self._move("open")

    def _move(self, new: State) -> None:
        old, self.state = self.state, new
        if old != new:
            for listener in self.listeners:
                listener(self, old, new)
