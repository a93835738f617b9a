"""Prometheus metrics, in a registry of their own (no global state)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

LATENCY_BUCKETS = (0.25, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600)


class Metrics:
    """Every metric the daemon exports on /metrics."""

    def __init__(self, shop: str | None = None) -> None:
        """`shop`: the shop's name, exported as woodoo_shop_info{shop=...} so that one
        Prometheus scraping several daemons tells their series apart by joining on it."""
        self.registry = CollectorRegistry()
        if shop is not None:
            Info("woodoo_shop", "The shop this daemon serves (shop.name)",
                 registry=self.registry).info({"shop": shop})
        self.sync_latency = Histogram(
            "woodoo_sync_latency_seconds",
            "Odoo event time to WooCommerce write confirmed (or found already right)",
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.events_received = Counter(
            "woodoo_events_received_total", "Webhook events accepted and stored", ["source"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "woodoo_events_rejected_total", "Webhook requests rejected", ["source", "reason"],
            registry=self.registry,
        )
        self.pushes = Counter(
            "woodoo_pushes_total", "Stock values written to WooCommerce", ["source"],
            registry=self.registry,
        )
        self.push_failures = Counter(
            "woodoo_push_failures_total", "Stock values WooCommerce did not take", ["source"],
            registry=self.registry,
        )
        self.last_successful_poll = Gauge(
            "woodoo_last_successful_poll_timestamp_seconds", "Unix time of the last complete poll",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "woodoo_queue_depth", "Events waiting to be processed", registry=self.registry
        )
        self.events_failed = Counter(
            "woodoo_events_failed_total", "Events set aside after their last attempt", ["source"],
            registry=self.registry,
        )
        self.worker_restarts = Counter(
            "woodoo_worker_restarts_total", "Times the event worker died and was started again",
            registry=self.registry,
        )
        self.worker_heartbeat = Gauge(
            "woodoo_worker_heartbeat_timestamp_seconds", "Unix time the event worker last beat",
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "woodoo_breaker_state", "Circuit breaker per side: 0 closed, 1 half-open (probing), "
            "2 open (calls paused)", ["side"], registry=self.registry,
        )
        self.breaker_openings = Counter(
            "woodoo_breaker_openings_total", "Times calls to a side were paused", ["side"],
            registry=self.registry,
        )
        self.alerts_active = Gauge(
            "woodoo_alert_active", "1 while an alert condition holds", ["alert"],
            registry=self.registry,
        )
        self.alert_sends = Counter(
            "woodoo_alert_sends_total", "Alert messages sent or failed, per channel",
            ["channel", "outcome"], registry=self.registry,
        )
        self.dead_letters = Gauge(
            "woodoo_dead_letters_open", "Dead letters not resolved", registry=self.registry
        )

    def watch_breaker(self, side: str, state: str) -> None:
        """Show a breaker's state (0 closed, 1 half-open, 2 open); count its openings."""
        self.breaker_state.labels(side).set({"closed": 0, "half-open": 1, "open": 2}[state])
        if state == "open":
            self.breaker_openings.labels(side).inc()

    def track_state(self, queue_depth: Callable[[], float], dead_letters: Callable[[], float]) -> None:
        """Read the two state-backed gauges at scrape time."""
        self.queue_depth.set_function(queue_depth)
        self.dead_letters.set_function(dead_letters)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
