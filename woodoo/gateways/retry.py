"""Retrying remote calls: exponential backoff (1, 2, 4, 8 s by default) that honours Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import tenacity

from woodoo import log
from woodoo.errors import WoodooError

T = TypeVar("T")


class RemoteError(WoodooError):
    """A remote call failed; the message says what happened in words."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class CircuitOpen(RemoteError):
    """The side's circuit breaker is open: the call was not made (it is down; nothing is lost).

    Retryable for whoever keeps work for later (the event worker), but never retried in place:
    the breaker says when to try again.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


class Guard(Protocol):
    """What `call` asks of a circuit breaker (woodoo.gateways.breaker.Breaker)."""

    def before_call(self) -> None:
        """Raise CircuitOpen when no call may be made now."""

    def succeeded(self) -> None:
        """The side answered."""

    def failed(self, error: str) -> None:
        """The side did not answer."""

    def snapshot(self) -> dict[str, Any]:
        """The breaker's state in words and figures (state, since, open_until, last_error)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failed remote call."""

    retries: int = 4
    base_seconds: float = 1.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.base_seconds * 2 ** (attempt - 1)


def call(fn: Callable[[], T], policy: RetryPolicy, what: str, guard: Guard | None = None) -> T:
    """Run `fn`, retrying a retryable RemoteError with backoff; the last error is raised.

    With a `guard` (the side's circuit breaker) each attempt asks it first and tells it how it
    went: a retryable error means the side did not answer; any answer, a refusal of our data
    included, means it is up.
    """
    logger = log.get("woodoo.gateways.retry")

    def attempt() -> T:
        if guard is None:
            return fn()
        guard.before_call()
        try:
            result = fn()
        except RemoteError as error:
            if error.retryable:
                guard.failed(str(error))
                raise
            guard.succeeded()
            raise
        except BaseException:
            guard.succeeded()  # an answer we could not use: the side is up
            raise
        guard.succeeded()
        return result

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        delay = policy.backoff(state.attempt_number)
        if isinstance(error, RemoteError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "retrying", call=what, attempt=state.attempt_number, error=str(error),
            wait_seconds=round(state.upcoming_sleep, 3),
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.retries + 1),
        wait=wait,
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, RemoteError) and e.retryable and not isinstance(e, CircuitOpen)),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)
