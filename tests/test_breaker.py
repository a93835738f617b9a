"""The circuit breaker on its own, and with the real gateways against a simulator that is down:
a side that is down is not hammered, and nothing is lost."""

from __future__ import annotations

import json

import pytest
from helpers import Clock

from woodoo import daemon
from woodoo.gateways import retry
from woodoo.gateways.breaker import Breaker, BreakerSettings
from woodoo.gateways.retry import CircuitOpen, RemoteError, RetryPolicy
from woodoo.lock import StateLock
from woodoo.state import State


def breaker(clock: Clock, changes: list | None = None) -> Breaker:
    record = (lambda b, old, new: changes.append((old, new))) if changes is not None else None
    return Breaker("odoo", BreakerSettings(failures=3, cooldown=10, max_cooldown=35), clock=clock,
                   on_change=record)


def test_it_opens_after_consecutive_failures_and_lets_one_probe_through_after_the_cooldown():
    clock, changes = Clock(1000.0), []
    guard = breaker(clock, changes)
    for _ in range(2):
        guard.before_call()
        guard.failed("connection refused")
    guard.before_call()
    guard.succeeded()  # an answer in between: the count starts again
    for _ in range(3):
        guard.before_call()
        guard.failed("connection refused")
    assert changes == [("closed", "open")]
    with pytest.raises(CircuitOpen, match="the next try is in 10 s"):
        guard.before_call()
    clock.now += 10
    guard.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        guard.before_call()  # one probe at a time
    guard.succeeded()
    assert changes == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    guard.before_call()  # closed again


def test_the_cooldown_grows_while_the_side_stays_down_up_to_its_cap():
    clock = Clock(1000.0)
    guard = breaker(clock)
    for _ in range(3):
        guard.failed("timeout")
    pauses = []
    for _ in range(4):
        pauses.append(guard.open_until - clock.now)
        clock.now = guard.open_until
        guard.before_call()
        guard.failed("timeout")
    assert pauses == [10, 20, 35, 35]
    assert guard.snapshot()["since"] == 1000.0  # the outage began with the first opening
    clock.now = guard.open_until
    guard.before_call()
    guard.succeeded()
    assert guard.cooldown == 10 and guard.snapshot()["state"] == "closed"


def test_word_from_the_side_ends_the_cooldown_and_the_next_call_probes():
    """Seen on a real Odoo back after 150 s: calls resumed only when a 40 s cool-down ended.
    An event from the side ends it at once; if the probe fails, the cool-down grows as before."""
    clock = Clock(1000.0)
    guard = breaker(clock)
    for _ in range(3):
        guard.before_call()
        guard.failed("connection refused")
    guard.heard_from()
    guard.before_call()  # the probe, at once
    with pytest.raises(CircuitOpen):
        guard.before_call()  # one probe at a time
    guard.failed("connection refused")
    assert guard.snapshot()["open_until"] == 1000.0 + 20  # still down: twice the cool-down
    guard.heard_from()  # it speaks but cannot be reached: not probed again at each word
    with pytest.raises(CircuitOpen):
        guard.before_call()
    clock.now += 20
    guard.heard_from()
    guard.before_call()
    guard.succeeded()
    assert guard.state == "closed"
    guard.heard_from()  # closed: nothing to end
    assert guard.state == "closed"


def test_retry_counts_only_failures_to_answer_and_never_retries_an_open_circuit():
    clock = Clock(1000.0)
    guard = breaker(clock)
    calls = []

    def refused() -> None:
        calls.append("refused")
        raise RemoteError("HTTP 400: bad data", retryable=False)

    for _ in range(5):
        with pytest.raises(RemoteError):
            retry.call(refused, RetryPolicy(0, 0), "x", guard)
    assert guard.snapshot()["state"] == "closed"  # a 4xx is an answer: the side is up

    def down() -> None:
        calls.append("down")
        raise RemoteError("connection refused", retryable=True)

    with pytest.raises(RemoteError):
        retry.call(down, RetryPolicy(10, 0), "x", guard)
    # Three attempts opened it; the other eight of the eleven were never made.
    assert calls.count("down") == 3
    with pytest.raises(CircuitOpen):
        retry.call(down, RetryPolicy(10, 0), "x", guard)
    assert calls.count("down") == 3


def test_an_unexpected_error_does_not_leave_the_probe_out():
    clock = Clock(1000.0)
    guard = breaker(clock)
    for _ in range(3):
        guard.failed("timeout")
    clock.now += 10

    def broken() -> None:
        raise KeyError("an answer we could not read")

    with pytest.raises(KeyError):
        retry.call(broken, RetryPolicy(0, 0), "x", guard)
    guard.before_call()  # closed: the side answered


# -- with the real daemon, against a side that answers 503 for a while ---------------------------

ODOO_SECRET = "whsec_breaker_odoo_0123456789abcdefghijkl"
FAST_BREAKER = {"failures": 3, "cooldown": 1, "max_cooldown": 2}


@pytest.fixture
def daemon_running(make_config):
    import threading

    from woodoo import daemon

    started = []

    def start(port: int, breaker: dict | None = None):
        stop = threading.Event()
        config = make_config(server={"port": port}, circuit_breaker=breaker or FAST_BREAKER,
                             webhooks={"odoo_secrets": [ODOO_SECRET], "reread_after": [0.1]})
        thread = threading.Thread(target=daemon.run, args=(config,), kwargs={"stop": stop},
                                  daemon=True)
        thread.start()
        started.append((stop, thread))
        return config

    yield start
    for stop, thread in started:
        stop.set()
        thread.join(timeout=30)


def post_event(port: int, event_id: str, product_id: int) -> int:
    import json
    import time as time_module

    import requests

    from woodoo.web import signing

    body = json.dumps({"event_id": event_id, "product_ids": [product_id], "odoo_time":
                       time_module.strftime("%Y-%m-%d %H:%M:%S", time_module.gmtime())}).encode()
    return requests.post(f"http://127.0.0.1:{port}/webhooks/odoo", data=body, timeout=5, headers={
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(body, ODOO_SECRET, signing.ODOO_EVENTS)}).status_code


@pytest.mark.parametrize("side", ["odoo", "woocommerce"])
def test_a_side_down_for_a_while_gets_few_calls_and_nothing_is_lost(daemon_running, odoo, shop,
                                                                     side):
    import time as time_module

    from helpers import free_port, wait_for

    port = free_port()
    config = daemon_running(port)
    assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20)
    down = odoo.server if side == "odoo" else shop.server
    prefix = "/" if side == "odoo" else "/wp-json/wc/v3"
    before = len(down.requests)
    down.faults.fail_next(100_000, status=503, path_prefix=prefix)
    odoo.set_on_hand("WDG-1002", "WH", 17)
    assert post_event(port, "during-outage", odoo.product_id("WDG-1002")) == 202
    time_module.sleep(8)  # eight polls (poll_interval 1 s), each retried twice, and the event
    calls = len(down.requests) - before
    # Without the breaker: about 8 polls x 3 attempts, plus the event's reads. With it: three
    # failures open it, then one probe per pause (1 s, then 2 s): about 3 + 4.
    assert calls <= 10, calls
    assert shop.stock("WDG-1002")[0] != 17
    down.faults.clear()
    back = time_module.monotonic()
    assert wait_for(lambda: shop.stock("WDG-1002")[0] == 17, timeout=10)
    assert time_module.monotonic() - back < FAST_BREAKER["max_cooldown"] + 3  # one pause, a poll
    assert wait_for(lambda: _event_done(config.state.path, "during-outage"), timeout=10)


@pytest.mark.parametrize("word", ["the next change's event", "the module's heartbeat"])
def test_word_from_odoo_back_ends_a_long_cooldown_and_what_waited_goes(daemon_running, odoo,
                                                                       shop, word):
    """Odoo back says so (an event, or its idle cron's heartbeat after a restart): the change
    that waited during the outage reaches the shop in seconds, not when a 120 s cool-down ends."""
    from helpers import free_port, wait_for

    port = free_port()
    config = daemon_running(port, breaker={"failures": 3, "cooldown": 120, "max_cooldown": 300})
    assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20)
    odoo.server.faults.fail_next(100_000, status=503, path_prefix="/")
    odoo.set_on_hand("WDG-1002", "WH", 17)
    assert post_event(port, "during-outage", odoo.product_id("WDG-1002")) == 202
    assert wait_for(lambda: _breaker_state(config) == "open", timeout=20)
    odoo.server.faults.clear()
    if word == "the module's heartbeat":
        assert post_heartbeat(port) == 200
    else:
        odoo.set_on_hand("WDG-1003", "WH", 21)
        assert post_event(port, "after-outage", odoo.product_id("WDG-1003")) == 202
        assert wait_for(lambda: shop.stock("WDG-1003")[0] == 21, timeout=15)
    assert wait_for(lambda: shop.stock("WDG-1002")[0] == 17, timeout=15)
    assert wait_for(lambda: _breaker_state(config) == "closed", timeout=10)


def post_heartbeat(port: int, **extra: object) -> int:
    import time as time_module

    import requests

    from woodoo.web import signing

    body = json.dumps({"event_id": f"heartbeat-{time_module.time_ns()}", "heartbeat": True,
                       "odoo_time": time_module.strftime("%Y-%m-%d %H:%M:%S",
                                                         time_module.gmtime()), **extra}).encode()
    return requests.post(f"http://127.0.0.1:{port}/webhooks/odoo", data=body, timeout=5, headers={
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(body, ODOO_SECRET, signing.ODOO_EVENTS)}).status_code


def _breaker_state(config) -> str | None:
    import sqlite3

    with sqlite3.connect(config.state.path) as db:
        row = db.execute("select value from meta where key = 'breaker_odoo'").fetchone()
    return None if row is None else json.loads(row[0]).get("state")


def _event_done(database, event_id: str) -> bool:
    import sqlite3

    with sqlite3.connect(database) as db:
        row = db.execute("select done_at, attempts from events where event_id = ?",
                         [event_id]).fetchone()
    return row is not None and row[0] is not None and row[1] == 0  # no try used up


def test_the_process_that_takes_the_state_forgets_breakers_a_stopped_one_left_open(make_config):
    config = make_config()
    left = State(config.state.path)
    left.runs.set_meta("breaker_odoo", json.dumps(
        {"state": "open", "failures": 9, "since": 1.0, "open_until": 2.0, "last_error": "503"}))
    left.close()
    with daemon.open_engine(config, connect=False) as engine:  # no lock: shows, changes nothing
        assert json.loads(engine.state.runs.get_meta("breaker_odoo"))["state"] == "open"
    lock = StateLock(config.state.path).acquire("run")
    with lock, daemon.open_engine(config, connect=False, lock=lock) as engine:
        shown = {side: json.loads(engine.state.runs.get_meta(f"breaker_{side}"))
                 for side in ("odoo", "woocommerce")}
    assert {side: s["state"] for side, s in shown.items()} == {"odoo": "closed",
                                                                "woocommerce": "closed"}
    assert shown["odoo"]["failures"] == 0
