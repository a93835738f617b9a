"""The event worker on its own: each event isolated, retries with backoff, failed events set
aside, outages that use up no attempts, supervision and the heartbeat."""

from __future__ import annotations

import threading

import pytest
from helpers import Clock, wait_for
from test_orders import order_event

from woodoo import worker as worker_module
from woodoo.orders.sync import OrderSync
from woodoo.state import EventQueue, State
from woodoo.worker import MAX_ATTEMPTS, EventWorker


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def setup(make_engine, clock, tmp_path):
    engine = make_engine(clock=clock, orders={"enabled": True},
                         webhooks={"shop_secrets": ["whsec_worker_shop_0123456789abcdefghij"],
                                   "reread_after": [0.0]})
    state = State(engine.config.state.path, clock=clock)
    orders = OrderSync(engine.config.orders, state.orders, engine.odoo, clock=clock)
    worker = EventWorker(engine, state.events, engine.config.webhooks, orders, clock=clock)
    yield engine, state, worker
    state.close()


def stock_event(state: State, clock: Clock, event_id: str, product_id: int) -> None:
    state.events.enqueue("odoo", event_id, {"product_ids": [product_id], "skus": [], "warehouse": None},
                         event_time=clock.now, due_at=clock.now)


def test_a_poison_event_is_retried_then_set_aside_while_the_rest_go_on(setup, clock, odoo, shop):
    engine, state, worker = setup
    # An order event no schema would take today (stored by an older version, say): it must
    # fail on its own, never stop the events behind it.
    state.events.enqueue("woocommerce", "poison", {"event_id": "poison", "order": {"id": 2**63}},
                         event_time=clock.now, due_at=clock.now)
    odoo.set_on_hand("WDG-1002", "WH", 33)
    stock_event(state, clock, "good", odoo.product_id("WDG-1002"))
    worker.run_once()
    assert shop.stock("WDG-1002")[0] == 33
    for attempt in range(1, MAX_ATTEMPTS):
        [row] = state.database.db.execute("select attempts, failed_at, last_error, due_at from events "
                                          "where event_id = 'poison'").fetchall()
        assert row[0] == attempt and row[1] is None and "ValidationError" in row[2]
        clock.now = row[3]  # its backoff has passed
        worker.run_once()
    [failed] = state.events.failed()
    assert (failed["event_id"], failed["attempts"]) == ("poison", MAX_ATTEMPTS)
    assert state.runs.counts()["events_failed"] == 1 and state.events.stats()["depth"] == 0
    assert 'woodoo_events_failed_total{source="woocommerce"} 1.0' in engine.metrics.render().decode()
    # Staff can put it back once the cause is fixed.
    assert state.events.retry_failed([failed["id"]]) == 1
    assert state.events.stats()["depth"] == 1


def test_an_outage_uses_up_no_attempts(setup, clock, odoo, shop):
    _, state, worker = setup
    odoo.set_on_hand("WDG-1003", "WH", 12)
    stock_event(state, clock, "e-1", odoo.product_id("WDG-1003"))
    odoo.server.go_down()
    for _ in range(MAX_ATTEMPTS + 2):
        worker.run_once()
        clock.now += worker_module.OUTAGE_RETRY_SECONDS
    [row] = state.database.db.execute("select attempts, failed_at, done_at from events").fetchall()
    assert row == (0, None, None)
    odoo.server.come_back()
    clock.now += 300  # Odoo's circuit breaker lets a probe through after its cool-down
    worker.run_once()
    assert shop.stock("WDG-1003")[0] == 12
    assert state.database.db.execute("select done_at is not null from events").fetchone()[0] == 1


class BrokenOnce(EventQueue):
    """A queue whose first claim raises, as a bug in the worker's loop would."""

    broken = True

    def stake_claim(self, **kwargs):
        if self.broken:
            self.broken = False
            raise RuntimeError("boom")
        return super().stake_claim(**kwargs)


def test_a_worker_that_dies_is_restarted_logged_and_counted(make_engine, odoo, shop, monkeypatch):
    engine = make_engine()
    state = State(engine.config.state.path)
    worker = EventWorker(engine, BrokenOnce(state.database), engine.config.webhooks)
    monkeypatch.setattr(worker_module, "RESTART_DELAYS", (0.05,))
    stop = threading.Event()
    thread = threading.Thread(target=worker.supervise, args=(stop,), daemon=True)
    thread.start()
    try:
        odoo.set_on_hand("WDG-1004", "WH", 9)
        state.events.enqueue("odoo", "after-crash", {"product_ids": [odoo.product_id("WDG-1004")],
                                                     "skus": [], "warehouse": None},
                             event_time=0, due_at=0)
        worker.wake.set()
        assert wait_for(lambda: shop.stock("WDG-1004")[0] == 9, timeout=10)
        assert worker.restarts == 1
        assert "woodoo_worker_restarts_total 1.0" in engine.metrics.render().decode()
    finally:
        stop.set()
        worker.wake.set()
        thread.join(timeout=10)
        state.close()
    assert not thread.is_alive()


def test_the_heartbeat_tells_a_stalled_worker_only_while_events_wait(setup, clock):
    _, state, worker = setup
    worker.beat()
    clock.now += worker_module.HEARTBEAT_STALE_SECONDS + 1
    assert not worker.stalled()  # nothing due: an idle worker is not stalled
    stock_event(state, clock, "waiting", 1)
    clock.now += worker_module.HEARTBEAT_STALE_SECONDS + 1
    assert worker.stalled()
    worker.beat()
    assert not worker.stalled()


def test_a_batch_cut_short_hands_its_events_back_at_once(setup, clock, monkeypatch):
    _, state, worker = setup
    stock_event(state, clock, "e-1", 1)

    def broken() -> set[str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(worker.orders, "sync_due", broken)
    with pytest.raises(RuntimeError):
        worker.run_once()
    assert state.events.stats()["next_claimable_at"] == clock.now  # not after the lease


def test_a_poll_never_sees_a_sale_both_in_odoo_and_still_pending(setup, clock, odoo, shop,
                                                                  monkeypatch):
    """Seen in the demo: a poll between Odoo's confirm and our release hid the sold units twice."""
    engine, state, worker = setup
    engine.poll()
    assert shop.stock("WDG-1002")[0] == 80
    order = order_event("sale", lines=[("WDG-1002", 2, 0)])
    state.events.enqueue("woocommerce", "sale", order, event_time=clock.now, due_at=clock.now)
    shown_after_poll: list[int] = []

    def poll() -> None:
        engine.poll()
        shown_after_poll.append(shop.stock("WDG-1002")[0])

    release = worker.orders.orders.synced
    poller = threading.Thread(target=poll)

    def poll_then_release(*args, **kwargs):
        # Odoo has confirmed the sale order; a poll now must wait until the release is done.
        poller.start()
        poller.join(timeout=1.0)
        release(*args, **kwargs)

    monkeypatch.setattr(worker.orders.orders, "synced", poll_then_release)
    worker.run_once()
    poller.join(timeout=10)
    assert odoo.free_qty("WDG-1002", ["WH"]) == 78
    assert shown_after_poll == [78]
    assert shop.stock("WDG-1002")[0] == 78
