"""The event worker: drains the webhook queue through the engine, reading Odoo for each batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from woodoo import log
from woodoo.config import WebhooksConfig
from woodoo.engine import Engine
from woodoo.orders import OrderSync
from woodoo.state import QueuedEvent, State

IDLE_WAKE_SECONDS = 1.0
# Events due this soon are read with those due now: under a steady stream each event comes due
# on its own, and one Odoo read per event would starve the request threads (seen at 500 req/s).
GATHER_SECONDS = 0.2


class EventWorker:
    """Claims due events with a lease, coalesces them into one Odoo read, and pushes the result.

    Events are read more than once (`webhooks.reread_after`): Odoo sends its notification inside
    its transaction, before it commits, so a read made at once may still see the old value.
    """

    def __init__(self, engine: Engine, state: State, config: WebhooksConfig,
                 orders: OrderSync | None = None, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.orders = orders
        self.state = state
        self.config = config
        self.clock = clock
        self.wake = threading.Event()
        self.log = log.get("woodoo.worker")

    def run(self, stop: threading.Event) -> None:
        """Process events until `stop` is set; the batch in hand is finished first."""
        released = self.state.release_leases()
        if released:
            self.log.warning("took over events left by a previous run", events=released)
        while not stop.is_set():
            if self.run_once():
                continue
            self.wake.wait(self._idle_seconds())
            self.wake.clear()

    def run_once(self) -> int:
        """Process the events and orders due now; returns how many events were claimed."""
        events = self.state.claim_events(lease_seconds=self.config.lease_seconds,
                                         early=GATHER_SECONDS)
        orders = [e for e in events if e.source == "woocommerce"]
        stock = [e for e in events if e.source != "woocommerce"]
        skus: set[str] = set()
        for event in orders:
            # Local only (SQLite): an order's pending stock counts even while Odoo is down.
            skus |= self.orders.apply(event.payload) if self.orders else set()
            self.state.event_read(event, None)
        if self.orders:
            skus |= self.orders.sync_due()
        if stock or skus:
            product_ids = {i for e in stock for i in e.payload.get("product_ids", [])}
            skus |= {s for e in stock for s in e.payload.get("skus", [])}
            try:
                summary = self.engine.push_products(product_ids, skus, source="webhook")
            except Exception as error:
                # The leases run out and the events are claimed again: nothing is lost.
                self.log.error("webhook batch failed; will retry", events=len(stock),
                               error=str(error), retry_in_seconds=self.config.lease_seconds)
                return len(events)
            now = self.clock()
            for event in stock:
                if event.reads == 0 and summary.failed == 0:
                    self.engine.metrics.sync_latency.observe(max(0.0, now - event.event_time))
                self.state.event_read(event, self._next_due(event))
        return len(events)

    def _next_due(self, event: QueuedEvent) -> float | None:
        reads = event.reads + 1
        delays = self.config.reread_after
        return event.received_at + delays[reads] if reads < len(delays) else None

    def _idle_seconds(self) -> float:
        claimable = self.state.queue_stats()["next_claimable_at"]
        if claimable is None:
            return IDLE_WAKE_SECONDS
        return min(IDLE_WAKE_SECONDS, max(0.01, float(claimable) - self.clock()))
