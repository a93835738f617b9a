"""Wiring and the long-running daemon: gateways and engine from a config, and the poll scheduler."""

from __future__ import annotations

import json
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from woodoo import commands, log
from woodoo.config import BreakerConfig, Config
from woodoo.engine import Engine
from woodoo.errors import WoodooError
from woodoo.gateways.breaker import Breaker, BreakerSettings
from woodoo.gateways.odoo import OdooError, OdooGateway
from woodoo.gateways.retry import RetryPolicy
from woodoo.gateways.woocommerce import WooGateway
from woodoo.lock import StateLock
from woodoo.orders.backfill import BackfillError, OrderBackfill
from woodoo.orders.sync import OrderSync
from woodoo.reporting import reconcile
from woodoo.reporting.alerts import Alerts, Figures, channels_for
from woodoo.reporting.findings import percentile
from woodoo.state import State
from woodoo.state.runs import FAILING_RUNS, RunStore
from woodoo.web import peers
from woodoo.web.metrics import Metrics
from woodoo.web.server import HttpServer, PortUnavailable, WSGIApp, ensure_port_free
from woodoo.web.webhooks import create_app
from woodoo.worker import EventWorker

EVENT_RETENTION_SECONDS = 7 * 86400  # processed events kept this long, to spot replays
READINESS_SECONDS = 5.0  # /readyz's remote checks are this old at most (plus their probes)
PROBE_SECONDS = 3.0  # one readiness probe of a remote: one call, no retries, this long at most
MAX_CHECK_CHARS = 300  # a /readyz check's words, a remote's error text included


@contextmanager
def open_engine(config: Config, *, connect: bool = True,
                clock: Callable[[], float] = time.time,
                lock: StateLock | None = None) -> Iterator[Engine]:
    """An engine with its state and both gateways, closed on exit; `lock`, when this process
    holds the state lock, lets it settle what a dead process left in the push journal."""
    policy = RetryPolicy(config.sync.retries, config.sync.retry_base_seconds)
    state = State(config.state.path)
    metrics = Metrics(shop=config.shop_name)
    breakers = side_breakers(config.circuit_breaker, metrics, state.runs, clock)
    if lock is not None and lock.held:
        # This process owns the state now: breakers a stopped process left open are gone, and
        # `woodoo status` (another process) must not go on showing them.
        for breaker in breakers.values():
            record_breaker(state.runs, breaker)
    odoo = OdooGateway(config.odoo, policy, breakers["odoo"])
    woo = WooGateway(config.woocommerce, policy, breakers["woocommerce"])
    try:
        if connect:
            odoo.connect()
        engine = Engine(config, state, odoo, woo, clock=clock, state_lock=lock, metrics=metrics)
        if config.orders.enabled:
            orders = OrderSync(config.orders, state.orders, odoo, clock=clock)
            engine.backfill = OrderBackfill(config, state, woo, orders, clock=clock)
        yield engine
    finally:
        woo.close()
        state.close()


def side_breakers(settings: BreakerConfig, metrics: Metrics, runs: RunStore,
                  clock: Callable[[], float]) -> dict[str, Breaker]:
    """A circuit breaker for each side; its changes go to the log, /metrics and the state (for
    `woodoo status`, which runs in another process)."""
    logger = log.get("woodoo.gateways.breaker")

    def changed(breaker: Breaker, old: str, new: str) -> None:
        metrics.watch_breaker(breaker.side, new)
        snapshot = record_breaker(runs, breaker)
        words = {"open": "calls paused: the side is down", "half-open": "probing",
                 "closed": "calls resumed"}[new]
        (logger.warning if new == "open" else logger.info)(
            words, side=breaker.side, was=old, cooldown_seconds=breaker.cooldown,
            last_error=snapshot["last_error"])

    limits = BreakerSettings(settings.failures, settings.cooldown, settings.max_cooldown)
    return {side: Breaker(side, limits, clock=clock, on_change=changed)
            for side in ("odoo", "woocommerce")}


def record_breaker(runs: RunStore, breaker: Breaker) -> dict[str, Any]:
    """Store a breaker's state for the other processes that show it; returns it."""
    snapshot = breaker.snapshot()
    runs.set_meta(f"breaker_{breaker.side}", json.dumps(snapshot))
    return snapshot


def alerts_for(engine: Engine, worker: EventWorker) -> Alerts:
    """The daemon's alerts: the rules over the state's figures, the worker and the breakers."""
    config, state, clock = engine.config, engine.state, engine.clock

    def gather() -> Figures:
        now = clock()
        latencies = state.runs.health(now - 600)["latencies"]
        stats = state.events.stats()
        counts = state.runs.counts()
        good_poll = state.runs.activity(now - 86400)["last_good_poll"].get("at")
        drift = json.loads(state.runs.get_meta(reconcile.LAST_DRIFT) or "{}")
        open_breakers = {
            side: now - (snapshot["since"] or now)
            for side, snapshot in (("odoo", engine.odoo.guard.snapshot()),
                                   ("woocommerce", engine.woo.guard.snapshot()))
            if snapshot["state"] != "closed"} if engine.odoo.guard and engine.woo.guard else {}
        return Figures(
            latency_p95=percentile(latencies, 0.95),
            failed_pushes_last_hour=state.runs.health(now - 3600)["push_failures"],
            dead_letters_open=counts["dead_letters_open"], failed_events=counts["events_failed"],
            orders_attention=counts["orders_needing_attention"],
            stuck_orders=len(state.orders.stuck(now - config.orders.stuck_after_hours * 3600)),
            queue_depth=int(stats["depth"] or 0),
            oldest_event_age=now - float(stats["oldest_due_at"]) if stats["oldest_due_at"] else None,
            last_good_poll_age=now - good_poll if good_poll else None,
            open_breakers=open_breakers, worker_stalled=worker.stalled(),
            drift_items=drift.get("items"), drift_units=drift.get("units"),
            failing_runs=state.runs.failing_streak()[0],
            failing_pairings=tuple(peers.failing(state)),
        )

    return Alerts(config.alerts, channels_for(config), gather=gather, load=state.runs.get_meta,
                  store=state.runs.set_meta, metrics=engine.metrics,
                  shop=config.shop_name, poll_interval=config.sync.poll_interval,
                  clock=clock)


def scheduled_poll(engine: Engine) -> None:
    """The scheduler's job: one poll; a failure is logged and the next poll tries again."""
    outlive("poll", engine.poll)


def outlive(what: str, job: Callable[[], object]) -> None:
    """Run a scheduled job; a failure is logged (a bug with its traceback) and the daemon goes on."""
    logger = log.get("woodoo.daemon")
    try:
        job()
    except WoodooError as error:  # explained in words: Odoo or the shop down, and so on
        logger.error(f"{what} failed", error=str(error), error_type=type(error).__name__)
    except Exception as error:  # a bug: its traceback, and the daemon outlives it
        logger.exception(f"{what} failed", error=str(error), error_type=type(error).__name__)


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
        lambda: engine.state.events.prune(time.time() - EVENT_RETENTION_SECONDS), "interval",
        hours=6, id="prune-events", name="Forget processed webhook events",
    )
    settings = engine.config.reconciliation
    if settings.enabled:
        schedule = reconcile.trigger(engine.config)
        scheduler.add_job(
            scheduled_reconciliation, schedule, args=[engine], id="reconcile",
            name="Nightly reconciliation", misfire_grace_time=int(settings.catch_up_hours * 3600) or 1,
        )
        last_run = engine.state.runs.get_meta(reconcile.LAST_RUN)
        if last_run is None:
            # A new installation missed nothing: count from now.
            engine.state.runs.set_meta(reconcile.LAST_RUN, repr(time.time()))
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
    outlive("reconciliation", lambda: reconcile.reconcile_and_report(engine))


class Readiness:
    """/readyz: computed in a thread of its own every READINESS_SECONDS, served from memory.

    Its remote probes used to run inside the request, with the gateways' retries and timeouts:
    while a remote was blackholed, a monitor polling /readyz held every request thread and
    /healthz and signed events went unanswered. Now a request only reads the last result (with
    its age); the probes are one call each, PROBE_SECONDS at most, on gateways of their own
    without retries, behind the sides' circuit breakers: a side that is down is not called
    every few seconds by its own readiness check (a real Odoo stopped for 150 s took 30 probes
    when they went round the breakers), and a probe's failure is one the breaker should count.
    The breakers and the worker's heartbeat are read on every request: they are in memory, and
    a dead or hung worker must show at once.
    """

    def __init__(self, engine: Engine, scheduler: BackgroundScheduler, worker: EventWorker, *,
                 stuck_after: float = 300, interval: float = READINESS_SECONDS,
                 probe_seconds: float = PROBE_SECONDS) -> None:
        self.engine, self.scheduler, self.worker = engine, scheduler, worker
        self.stuck_after, self.interval = stuck_after, interval
        config, once = engine.config, RetryPolicy(0, 0.0)
        self.odoo = OdooGateway(config.odoo.model_copy(update={"timeout": probe_seconds}), once,
                                engine.odoo.guard)
        self.woo = WooGateway(config.woocommerce.model_copy(update={"timeout": probe_seconds}),
                              once, engine.woo.guard)
        self._last: tuple[float, dict[str, str]] | None = None  # (monotonic time, checks)
        self._soon = threading.Event()

    def refresh(self) -> None:
        """Compute the checks that reach out (remotes, SQLite) and keep them for the requests."""
        checks: dict[str, str] = {}
        for name, probe in (("odoo", self.odoo.ping), ("woocommerce", self.woo.version)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as error:  # any failure means "not ready", in words
                checks[name] = _bounded(f"unreachable: {error}")
        job = self.scheduler.get_job("poll") if self.scheduler.running else None
        checks["scheduler"] = "ok" if job is not None else "not running"
        state = self.engine.state
        oldest = state.events.stats()["oldest_due_at"]
        late = 0.0 if oldest is None else time.time() - float(oldest)
        checks["queue"] = ("ok" if late < self.stuck_after
                           else f"stuck: oldest event due {late:.0f} s ago")
        streak, reason = state.runs.failing_streak()
        checks["runs"] = ("ok" if streak < FAILING_RUNS else _bounded(
            f"failing: the last {streak} runs failed (not ready from {FAILING_RUNS}); "
            f"the latest: {reason}"))
        self._last = (time.monotonic(), checks)

    def refresh_soon(self) -> None:
        """Refresh now rather than at the next interval (a side was heard from: its probe is
        the call that ends a pause, and it should not wait up to an interval)."""
        self._soon.set()

    def _wait(self, stop: threading.Event) -> None:
        """Until the next refresh: the interval, a `refresh_soon`, or `stop`, whichever first."""
        deadline = time.monotonic() + self.interval
        while not stop.is_set() and not self._soon.is_set() and time.monotonic() < deadline:
            self._soon.wait(min(0.2, max(0.0, deadline - time.monotonic())))
        self._soon.clear()

    def run(self, stop: threading.Event) -> None:
        """Refresh until `stop`; a failure of the refresh itself is a check that fails."""
        logger = log.get("woodoo.daemon")
        while not stop.is_set():
            try:
                self.refresh()
            except Exception as error:  # SQLite busy, a bug: said, and tried again
                logger.exception("readiness could not be computed", error=str(error))
                self._last = (time.monotonic(), {"readiness": _bounded(
                    f"could not be computed: {error}")})
            self._wait(stop)
        self.woo.close()

    def __call__(self) -> tuple[bool, dict[str, str], float | None]:
        """(ready, checks, seconds since the remote checks ran): instant, from memory."""
        last = self._last
        checks = dict(last[1]) if last else {"readiness": "not computed yet (starting)"}
        age = None if last is None else time.monotonic() - last[0]
        if age is not None and age > 3 * self.interval + 4 * PROBE_SECONDS:
            checks["readiness"] = f"stale: last computed {age:.0f} s ago"
        engine = self.engine
        for side, guard in (("odoo", engine.odoo.guard), ("woocommerce", engine.woo.guard)):
            snapshot = guard.snapshot() if guard else {"state": "closed"}
            checks[f"breaker_{side}"] = ("ok" if snapshot["state"] == "closed" else _bounded(
                f"{snapshot['state']}: calls paused after {snapshot['failures']} failures "
                f"({snapshot['last_error']})"))
        checks["worker"] = ("ok" if not self.worker.stalled() else
                            f"stalled: no heartbeat for {time.time() - self.worker.heartbeat:.0f} s "
                            f"while events are due")
        return all(value == "ok" for value in checks.values()), checks, age


def _bounded(text: str, limit: int = MAX_CHECK_CHARS) -> str:
    """A check's words cut to `limit` characters: a remote's error can be any length."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def serve(app: WSGIApp, config: Config) -> HttpServer:
    """The daemon's HTTP server, limited so that slow, idle or huge clients cannot stall it.

    waitress refuses a body over `webhooks.max_body_bytes` before buffering it (its default
    buffers up to 1 GB, chunked bodies included), closes connections idle for
    `server.channel_timeout`, and serves up to `server.connection_limit` at once; a request not
    arrived whole within `server.request_timeout` is dropped (`web.server`), however steadily
    its bytes drip in. No bound per client address: behind the proxy every client is the
    proxy's; the proxy bounds them (README, `limit_conn`).
    """
    server_config = config.server
    _raise_open_files_limit(server_config.connection_limit + 256)
    return HttpServer(app, host=server_config.host, port=server_config.port,
                      threads=server_config.threads,
                      connection_limit=server_config.connection_limit,
                      channel_timeout=server_config.channel_timeout,
                      request_deadline=server_config.request_timeout,
                      # how often both are checked: a late client is closed within half again
                      cleanup_interval=max(1, min(30, int(server_config.channel_timeout / 2),
                                                  int(server_config.request_timeout / 2))),
                      # waitress refuses a body of this size or more; ours is the largest accepted.
                      max_request_body_size=config.webhooks.max_body_bytes + 1,
                      max_request_header_size=16384)


def _raise_open_files_limit(wanted: int) -> None:
    """Raise the soft limit on open files toward `wanted` (one per connection), up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@contextmanager
def _signals_call(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """SIGTERM and SIGINT call `handler` until the block ends, then what handled them before: a
    daemon run inside a process (the demo, tests) must not leave its stop handler behind, or a
    later Ctrl-C there would set a stale event and be lost. Only the main thread may set them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM,
                                                                       signal.SIGINT)}
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, signal.SIG_DFL if before is None else before)


def catch_up_orders(backfill: OrderBackfill, worker: EventWorker) -> None:
    """At start, before anything is pushed: the plugin's waiting events, then the shop's orders
    that no event brought; a push before them could show units the shop has sold."""
    backfill.flush_plugin()  # its events land in the queue through the server, already up
    worker.run_once(push=False)
    try:
        backfill.run()
    except BackfillError as error:
        log.get("woodoo.daemon").error("order backfill failed at start; polls try again",
                                       error=str(error))


def run(config: Config, *, stop: threading.Event | None = None,
        run_for: float | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT, `stop` is set, or `run_for` seconds have passed.

    One process: the poll scheduler, the webhook worker and the HTTP server (waitress).
    Raises LockHeld, before touching anything, when another process holds the state lock, and
    PortUnavailable when `server.port` is taken.
    """
    # For the daemon's whole life: it is the one writer; command lines hand their work to it.
    lock = StateLock(config.state.path).acquire("run")
    try:
        ensure_port_free(config.server.host, config.server.port)
    except PortUnavailable:
        lock.release()
        raise
    stop = stop or threading.Event()
    logger = log.get("woodoo.daemon")
    for warning in config.warnings:  # unsafe but allowed: said at each start, in the log
        logger.warning("unsafe config", warning=warning)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    with lock, _signals_call(request_stop), open_engine(config, connect=False, lock=lock) as engine:
        try:
            engine.odoo.connect()
        except OdooError as error:
            # Odoo down at start is not fatal: each poll connects again.
            logger.error("odoo unreachable at start", error=str(error))
        web_state = State(config.state.path)  # its own connection: acks never wait on the engine
        engine.metrics.track_state(
            lambda: float(web_state.events.stats()["depth"] or 0),
            lambda: float(web_state.runs.counts()["dead_letters_open"]),
        )
        orders = engine.backfill.orders if engine.backfill else None
        worker = EventWorker(engine, engine.state.events, config.webhooks, orders)
        scheduler = build_scheduler(engine)
        alerts = alerts_for(engine, worker)
        for side in (engine.odoo.guard, engine.woo.guard):
            if isinstance(side, Breaker):
                # A side back: what waited for it goes now, not at its own next try.
                side.listeners.append(lambda _, old, new: new == "closed" and worker.resume())
        scheduler.add_job(outlive, "interval", args=["alerts", alerts.check],
                          seconds=config.alerts.check_interval, id="alerts", name="Alert rules")
        readiness = Readiness(engine, scheduler, worker)
        guards = {"odoo": engine.odoo.guard, "odoo-native": engine.odoo.guard,
                  "woocommerce": engine.woo.guard}

        def received(source: str) -> None:
            """An event or a heartbeat came in: the worker takes it now, and its sender is
            alive (a pause of calls to it ends, and the readiness probe is that call, now)."""
            guard = guards.get(source)
            if isinstance(guard, Breaker) and guard.state != "closed":
                guard.heard_from()
                readiness.refresh_soon()
            worker.wake.set()

        app = create_app(config, web_state, engine.metrics, readiness=readiness,
                         notify=received)
        server = serve(app, config)
        readiness_thread = threading.Thread(target=readiness.run, args=(stop,),
                                            name="readiness", daemon=True)
        worker_thread = threading.Thread(target=worker.supervise, args=(stop,), name="worker",
                                         daemon=True)
        commands_thread = threading.Thread(target=commands.serve, args=(engine, stop),
                                           name="commands", daemon=True)
        server.start()
        readiness_thread.start()
        if engine.backfill:
            catch_up_orders(engine.backfill, worker)
        scheduler.start()
        worker_thread.start()
        commands_thread.start()
        logger.info("started", poll_interval=config.sync.poll_interval,
                    listen=f"http://{config.server.host}:{server.port}",
                    state=str(config.state.path))
        stop.wait(run_for)
        stop.set()
        server.stop()  # no new requests; what was acknowledged is already in SQLite
        worker.wake.set()
        worker_thread.join(timeout=120)  # the worker finishes the batch in hand
        commands_thread.join(timeout=120)  # a handed-off command in hand finishes too
        readiness_thread.join(timeout=30)  # its probes are bounded: PROBE_SECONDS each
        scheduler.shutdown(wait=True)  # a running poll finishes: pushes recorded or journaled
        web_state.close()
        logger.info("stopped")
