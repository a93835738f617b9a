"""Wiring and the long-running daemon: gateways and engine from a config, and the poll scheduler."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from woodoo import log
from woodoo.config import Config
from woodoo.engine import Engine
from woodoo.odoo import OdooError, OdooGateway
from woodoo.retry import RetryPolicy
from woodoo.state import State
from woodoo.woocommerce import WooGateway


@contextmanager
def open_engine(config: Config, *, connect: bool = True,
                clock: Callable[[], float] = time.time) -> Iterator[Engine]:
    """An engine with its state and both gateways, closed on exit."""
    policy = RetryPolicy(config.sync.retries, config.sync.retry_base_seconds)
    state = State(config.state.path)
    odoo = OdooGateway(config.odoo, policy)
    woo = WooGateway(config.woocommerce, policy)
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
    return scheduler


def run(config: Config, *, stop: threading.Event | None = None,
        run_for: float | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT, `stop` is set, or `run_for` seconds have passed."""
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
        scheduler = build_scheduler(engine)
        scheduler.start()
        logger.info("started", poll_interval=config.sync.poll_interval,
                    state=str(config.state.path))
        stop.wait(run_for)
        # Waits for a running poll to finish: its pushes are recorded, or journaled for recovery.
        scheduler.shutdown(wait=True)
        logger.info("stopped")
