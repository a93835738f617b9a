"""The event worker: drains the webhook queue through the engine, each event isolated from the rest."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from woodoo import log
from woodoo.config import WebhooksConfig
from woodoo.engine import Engine
from woodoo.gateways.retry import RemoteError
from woodoo.orders.sync import OrderSync
from woodoo.state import Claim, EventQueue, QueuedEvent
from woodoo.web.metrics import Metrics

IDLE_WAKE_SECONDS = 1.0
# Odoo's own webhook action notifies from inside its transaction, before the commit: such events
# are read again on `webhooks.reread_after`. The module's signed events come after the commit.
REREAD_SOURCES = frozenset({"odoo-native"})
# Events due this soon are read with those due now: under a steady stream each event comes due
# on its own, and one Odoo read per event would starve the request threads (seen at 500 req/s).
GATHER_SECONDS = 0.2
# An event that fails for a reason of its own is tried this often, then set aside as failed.
MAX_ATTEMPTS = 5
RETRY_SECONDS = (5, 30, 120, 600)
# Odoo or the shop down: the event waits this long and tries again, without using up attempts.
OUTAGE_RETRY_SECONDS = 30
# Not ready when the worker has not beaten for this long while events are due.
HEARTBEAT_STALE_SECONDS = 10.0
RESTART_DELAYS = (1, 2, 5, 10, 30)


class EventWorker:
    """Claims due events with a lease, coalesces them into one Odoo read, and pushes the result.

    Events are read more than once (`webhooks.reread_after`): Odoo sends its notification inside
    its transaction, before it commits, so a read made at once may still see the old value. An
    event that fails is retried with backoff and, after MAX_ATTEMPTS, set aside with its reason
    while the queue moves on; an outage of Odoo or the shop never uses up an event's attempts.
    """

    def __init__(self, engine: Engine, events: EventQueue, config: WebhooksConfig,
                 orders: OrderSync | None = None, clock: Callable[[], float] = time.time,
                 metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.orders = orders
        self.events = events
        self.config = config
        self.clock = clock
        self.metrics = metrics or engine.metrics
        self.wake = threading.Event()
        self.heartbeat = clock()
        self.restarts = 0
        self.log = log.get("woodoo.worker")

    def supervise(self, stop: threading.Event) -> None:
        """Run the worker until `stop`; if it dies anyway, log it, count it and start it again."""
        while not stop.is_set():
            try:
                self.run(stop)
            except Exception as error:  # nothing may end the queue's only consumer for good
                delay = RESTART_DELAYS[min(self.restarts, len(RESTART_DELAYS) - 1)]
                self.restarts += 1
                self.metrics.worker_restarts.inc()
                self.log.exception("worker died; restarting", error=str(error),
                                   error_type=type(error).__name__, restart_in_seconds=delay)
                stop.wait(delay)

    def run(self, stop: threading.Event) -> None:
        """Process events until `stop` is set; the batch in hand is finished first."""
        released = self.events.release_all_claims()
        if released:
            self.log.warning("took over events left by a previous run", events=released)
        while not stop.is_set():
            self.beat()
            if self.run_once():
                continue
            self.wake.wait(self._idle_seconds())
            self.wake.clear()

    def resume(self) -> None:
        """A side is back: events waiting for it are due now, and the worker wakes for them."""
        self.events.wake_waiting()
        self.wake.set()

    def beat(self) -> None:
        """Say the worker is alive (read by /readyz and /metrics)."""
        self.heartbeat = self.clock()
        self.metrics.worker_heartbeat.set(self.heartbeat)

    def stalled(self) -> bool:
        """Whether events are due and the worker has not beaten for HEARTBEAT_STALE_SECONDS."""
        now = self.clock()
        if now - self.heartbeat <= HEARTBEAT_STALE_SECONDS:
            return False
        claimable = self.events.stats()["next_claimable_at"]
        return claimable is not None and float(claimable) < now - HEARTBEAT_STALE_SECONDS

    def run_once(self, *, push: bool = True) -> int:
        """Process the events and orders due now; returns how many events were claimed.

        Without `push`, only order events are applied (locally): at start-up, before the
        backfill and the first push.
        """
        claim = self.events.stake_claim(lease_seconds=self.config.lease_seconds,
                                        early=GATHER_SECONDS,
                                        source=None if push else "woocommerce")
        try:
            self._settle(claim, push=push)
        except BaseException:
            # Cut short (a bug, the database gone): what the claim had not settled is claimable
            # again at once, not only once its lease has run out.
            self.events.release_claim(claim)
            raise
        return len(claim.events)

    def _settle(self, claim: Claim, *, push: bool) -> None:
        orders = [e for e in claim.events if e.source == "woocommerce"]
        stock = [e for e in claim.events if e.source != "woocommerce"]
        skus: set[str] = set()
        for event in orders:
            try:
                # Local only (SQLite): an order's pending stock counts even while Odoo is down.
                skus |= self.orders.apply(event.payload) if self.orders else set()
            except Exception as error:  # this event's own fault: the others go on
                self._failed(claim, event, error)
                continue
            self._held(self.events.mark_read(claim, event, None), event)
            self.beat()
        if not push:
            return
        if self.orders:
            # Under the engine lock: Odoo confirming an order and the release of its pending
            # units must look like one step to a poll, or the poll sees both (units hidden).
            with self.engine.lock:
                skus |= self.orders.sync_due()
        if stock or skus:
            self._push(claim, stock, skus)

    def _push(self, claim: Claim, stock: list[QueuedEvent], skus: set[str]) -> None:
        try:
            # Inside the try: a payload stored by an older version may not have today's shape.
            product_ids = {int(i) for e in stock for i in e.payload.get("product_ids", [])}
            wanted = skus | {str(s) for e in stock for s in e.payload.get("skus", [])}
            summary = self.engine.push_products(product_ids, wanted, source="webhook")
        except Exception as error:
            if _outage(error) or len(stock) + bool(skus) <= 1:
                for event in stock:
                    self._failed(claim, event, error)
                if skus and not stock:
                    self.log.error("push of order SKUs failed", skus=len(skus), error=str(error))
                return
            # One of them may be what fails: each on its own, so that the rest go through.
            self.log.warning("webhook batch failed; trying its events one by one",
                             events=len(stock), error=str(error))
            if skus:
                self._push(claim, [], skus)
            for event in stock:
                self._push(claim, [event], set())
            return
        now = self.clock()
        for event in stock:
            if event.reads == 0 and summary.failed == 0:
                self.metrics.sync_latency.observe(max(0.0, now - event.event_time))
            self._held(self.events.mark_read(claim, event, self._next_due(event)), event)
        self.beat()

    def _failed(self, claim: Claim, event: QueuedEvent, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        attempts = event.attempts + 1
        outage = _outage(error)
        if outage:
            # When the side's breaker is open, its pause ends the wait: the event is there for
            # the first call after it (the probe), so what was queued goes out once it is back.
            hint = getattr(error, "retry_after", None)
            delay: float | None = min(OUTAGE_RETRY_SECONDS, max(0.5, hint)) if hint is not None else (
                OUTAGE_RETRY_SECONDS)
        elif attempts >= MAX_ATTEMPTS:
            delay = None
        else:
            delay = RETRY_SECONDS[min(attempts - 1, len(RETRY_SECONDS) - 1)]
        retry_at = None if delay is None else self.clock() + delay
        if not self._held(self.events.mark_failure(claim, event, reason, retry_at=retry_at,
                                                   counted=not outage), event):
            return
        if outage:
            self.log.error("event waits for the remote side", event_id=event.event_id,
                           error=str(error), retry_in_seconds=delay)
        elif delay is None:
            self.metrics.events_failed.labels(event.source).inc()
            self.log.error("event set aside after its last attempt", event_id=event.event_id,
                           source=event.source, attempts=attempts, error=reason)
        else:
            self.log.warning("event failed; will retry", event_id=event.event_id,
                             source=event.source, attempts=attempts, error=reason,
                             retry_in_seconds=delay)

    def _held(self, settled: bool, event: QueuedEvent) -> bool:
        """`settled`, saying so when not: the claim's lease ran out and a newer claim took the event."""
        if not settled:
            # The newer claim settles it; what this one found is dropped.
            self.log.warning("event taken over by a newer claim; its outcome here is dropped",
                             event_id=event.event_id, source=event.source)
        return settled

    def _next_due(self, event: QueuedEvent) -> float | None:
        if event.source not in REREAD_SOURCES:
            return None  # sent after the commit: the first read saw it
        reads = event.reads + 1
        delays = self.config.reread_after
        return event.received_at + delays[reads] if reads < len(delays) else None

    def _idle_seconds(self) -> float:
        claimable = self.events.stats()["next_claimable_at"]
        if claimable is None:
            return IDLE_WAKE_SECONDS
        return min(IDLE_WAKE_SECONDS, max(0.01, float(claimable) - self.clock()))


def _outage(error: Exception) -> bool:
    """Whether the remote side is down or slow (retryable), rather than the event being wrong."""
    return isinstance(error, RemoteError) and error.retryable
