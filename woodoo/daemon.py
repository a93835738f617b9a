"""Wiring and the long-running daemon: gateways and engine from a config, and the poll scheduler."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from woodoo import log, reconcile
from woodoo.config import Config
from woodoo.engine import Engine
from woodoo.httpserver import HttpServer
from woodoo.odoo import OdooError, OdooGateway
from woodoo.orders import OrderSync
from woodoo.retry import RetryPolicy
from woodoo.state import State
from woodoo.webhooks import create_app
from woodoo.woocommerce import WooGateway
from woodoo.worker import EventWorker

EVENT_RETENTION_SECONDS = 7 * 86400  # processed events kept this long, to spot replays


@contextmanager
def open_engine(config: Config, *, connect: bool = True,
                clock: Callable[[], float] = time.time) -> Iterator[Engine]:
    """An engine with its state and both gateways, closed on exit."""
    policy = RetryPolicy(config.sync.retries, config.sync.retry_base_seconds)
    state = State(config.state.path)
    odoo = OdooGateway(config.odoo, policy)
    plugin_secret = config.webhooks.secrets[0].get_secret_value() if config.webhooks.secrets else None
    woo = WooGateway(config.woocommerce, policy, plugin_secret)
    try:
        if connect:
            odoo.connect()
        yield Engine(config, state, odoo, woo, clock=clock)
    finally:
        woo.close()
        state.close()


def scheduled_poll(engine: Engine) -> None:
    """The scheduler's job: one poll; a failure is logged and the next poll tries again."""
    try:
        engine.poll()
    except Exception as error:  # the daemon must outlive any one failed poll
        log.get("woodoo.daemon").error("poll failed", error=str(error),
                                       error_type=type(error).__name__)


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    """A scheduler running the poll every `sync.poll_interval`, never overlapping itself."""
    interval = engine.config.sync.poll_interval
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,  # a backlog of missed runs becomes one run
            "max_instances": 1,  # a slow poll delays the next rather than running beside it
            "misfire_grace_time": max(1, int(interval)),
        },
    )
    scheduler.add_job(
        scheduled_poll, "interval", args=[engine], seconds=interval, id="poll",
        name="Odoo stock poll", next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        lambda: engine.state.prune_events(time.time() - EVENT_RETENTION_SECONDS), "interval",
        hours=6, id="prune-events", name="Forget processed webhook events",
    )
    settings = engine.config.reconciliation
    if settings.enabled:
        schedule = reconcile.trigger(engine.config)
        scheduler.add_job(
            scheduled_reconciliation, schedule, args=[engine], id="reconcile",
            name="Nightly reconciliation", misfire_grace_time=int(settings.catch_up_hours * 3600) or 1,
        )
        last_run = engine.state.get_meta(reconcile.LAST_RUN)
        if last_run is None:
            # A new installation missed nothing: count from now.
            engine.state.set_meta(reconcile.LAST_RUN, repr(time.time()))
        missed = reconcile.missed_run(schedule, float(last_run) if last_run else None,
                                      datetime.now(UTC), settings.catch_up_hours)
        if missed is not None:
            log.get("woodoo.daemon").warning("catching up a missed reconciliation",
                                             was_due=missed.isoformat())
            scheduler.add_job(scheduled_reconciliation, "date", args=[engine],
                              id="reconcile-catch-up", name="Missed nightly reconciliation")
    return scheduler


def scheduled_reconciliation(engine: Engine) -> None:
    """The scheduler's reconciliation job: a failure is logged, the daemon goes on."""
    try:
        reconcile.reconcile_and_report(engine)
    except Exception as error:  # the daemon must outlive a failed reconciliation
        log.get("woodoo.daemon").error("reconciliation failed", error=str(error),
                                       error_type=type(error).__name__)


def readiness_check(engine: Engine, scheduler: BackgroundScheduler, *,
                    stuck_after: float = 300, cache_seconds: float = 10) -> Callable[
                        [], tuple[bool, dict[str, Any]]]:
    """A /readyz function: both remotes answer, the scheduler runs, the queue moves (cached)."""
    cached: list[tuple[float, bool, dict[str, Any]]] = []
    lock = threading.Lock()

    def check() -> tuple[bool, dict[str, Any]]:
        with lock:
            if cached and time.monotonic() - cached[0][0] < cache_seconds:
                return cached[0][1], cached[0][2]
            checks: dict[str, Any] = {}
            for name, probe in (("odoo", engine.odoo.ping), ("woocommerce", engine.woo.version)):
                try:
                    probe()
                    checks[name] = "ok"
                except Exception as error:  # any failure means "not ready", in words
                    checks[name] = f"unreachable: {error}"
            job = scheduler.get_job("poll") if scheduler.running else None
            checks["scheduler"] = "ok" if job is not None else "not running"
            oldest = engine.state.queue_stats()["oldest_due_at"]
            late = 0.0 if oldest is None else time.time() - float(oldest)
            checks["queue"] = "ok" if late < stuck_after else f"stuck: oldest event due {late:.0f} s ago"
            ready = all(value == "ok" for value in checks.values())
            cached[:] = [(time.monotonic(), ready, checks)]
            return ready, checks

    return check


def run(config: Config, *, stop: threading.Event | None = None,
        run_for: float | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT, `stop` is set, or `run_for` seconds have passed.

    One process: the poll scheduler, the webhook worker and the HTTP server (waitress).
    """
    stop = stop or threading.Event()
    logger = log.get("woodoo.daemon")

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    with open_engine(config, connect=False) as engine:
        try:
            engine.odoo.connect()
        except OdooError as error:
            # Odoo down at start is not fatal: each poll connects again.
            logger.error("odoo unreachable at start", error=str(error))
        web_state = State(config.state.path)  # its own connection: acks never wait on the engine
        engine.metrics.track_state(
            lambda: float(web_state.queue_stats()["depth"] or 0),
            lambda: float(web_state.counts()["dead_letters_open"]),
        )
        orders = (OrderSync(config.orders, engine.state, engine.odoo)
                  if config.orders.enabled else None)
        worker = EventWorker(engine, engine.state, config.webhooks, orders)
        scheduler = build_scheduler(engine)
        app = create_app(config, web_state, engine.metrics,
                         readiness=readiness_check(engine, scheduler), notify=worker.wake.set)
        server = HttpServer(app, host=config.server.host, port=config.server.port,
                            threads=config.server.threads)
        worker_thread = threading.Thread(target=worker.run, args=(stop,), name="worker",
                                         daemon=True)
        scheduler.start()
        worker_thread.start()
        server.start()
        logger.info("started", poll_interval=config.sync.poll_interval,
                    listen=f"http://{config.server.host}:{server.port}",
                    state=str(config.state.path))
        stop.wait(run_for)
        stop.set()
        server.stop()  # no new requests; what was acknowledged is already in SQLite
        worker.wake.set()
        worker_thread.join(timeout=120)  # the worker finishes the batch in hand
        scheduler.shutdown(wait=True)  # a running poll finishes: pushes recorded or journaled
        web_state.close()
        logger.info("stopped")
