"""One writer per state file: the lock, the commands table, and crash recovery that only takes what
a dead process left (never a push in flight in this process)."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import threading
from collections import Counter

import pytest
from click.testing import CliRunner
from helpers import hold_state_lock, wait_for

from woodoo.cli import main
from woodoo.lock import LockHeld, StateLock, lock_path, process_token
from woodoo.state import PushItem, State

BATCH = "/wp-json/wc/v3/products/batch"


def test_a_second_taker_is_refused_naming_the_holder_and_gets_it_once_released(tmp_path):
    database = tmp_path / "state" / "woodoo.sqlite"
    first = StateLock(database).acquire("run")
    assert stat.S_IMODE(os.stat(lock_path(database)).st_mode) == 0o600
    with pytest.raises(LockHeld) as refused:
        StateLock(database).acquire("sync")  # another open file description: refused, even here
    assert (refused.value.holder.pid, refused.value.holder.command) == (os.getpid(), "run")
    assert f"`woodoo run` (pid {os.getpid()})" in str(refused.value)
    assert StateLock(database).holder() == refused.value.holder
    first.release()
    assert StateLock(database).holder() is None
    with StateLock(database).acquire("sync") as second:
        assert second.held


def test_the_lock_dies_with_its_holder_even_by_kill_9(tmp_path):
    database = tmp_path / "woodoo.sqlite"
    holder = hold_state_lock(database)
    try:
        with pytest.raises(LockHeld) as refused:
            StateLock(database).acquire("sync")
        assert refused.value.holder.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    with StateLock(database).acquire("sync") as lock:
        assert lock.held


def test_commands_are_claimed_once_finished_cancelled_abandoned_and_pruned(tmp_path):
    clock = [1000.0]
    state = State(tmp_path / "woodoo.sqlite", clock=lambda: clock[0])
    assert state.commands.claim() is None
    first = state.commands.request("sync", {"full": True}, requested_by=41)
    second = state.commands.request("reconcile", {"dry_run": False}, requested_by=42)
    third = state.commands.request("orders-retry", {"order_ids": []}, requested_by=43)
    claimed = state.commands.claim()
    assert claimed == {"id": first, "command": "sync", "args": {"full": True}, "requested_by": 41}
    assert state.commands.cancel(first) is False  # started: it runs to the end
    state.commands.finish(first, result={"pushed": 2})
    assert state.commands.get(first)["result"] == {"pushed": 2}
    assert state.commands.cancel(third) is True and state.commands.get(third) is None
    assert state.commands.claim()["id"] == second
    # A daemon died while running `second`: the next one closes it instead of running it again.
    assert state.commands.abandon("the daemon stopped while running it") == 1
    assert state.commands.get(second)["error"] == "the daemon stopped while running it"
    assert state.commands.claim() is None
    clock[0] += 10
    late = state.commands.request("sync", {}, requested_by=44)
    assert state.commands.prune(older_than=1005.0) == 2  # finished before 1005
    assert state.commands.get(late) is not None
    clock[0] += 90000
    assert state.commands.prune(older_than=clock[0] - 86400) == 1  # never started, a day old
    state.close()


def test_recovery_takes_only_rows_a_dead_process_left_and_only_under_the_lock(engine, shop):
    engine.poll()
    products = engine.state.catalog.products(["WDG-1002", "WDG-1003"])
    dead = PushItem("WDG-1002", products["WDG-1002"].woo_id, 0, 71, "instock")
    mine = PushItem("WDG-1003", products["WDG-1003"].woo_id, 0, 72, "instock")
    engine.state.pushes.journal("dead-1", [dead], "poll", "dead", owner="a-process-that-died")
    engine.state.pushes.journal("mine-1", [mine], "webhook", "mine", owner=engine.owner)
    engine.recover("without-the-lock")
    assert len(engine.state.pushes.unfinished()) == 2  # without the lock its owner may be alive
    with StateLock(engine.config.state.path).acquire("test") as lock:
        engine.state_lock = lock
        engine.recover("with-the-lock")
    assert shop.stock("WDG-1002")[0] == 71
    assert shop.stock("WDG-1003")[0] != 72  # in flight here: never re-sent by recovery
    assert [item.sku for _, item, _, _ in engine.state.pushes.unfinished()] == ["WDG-1003"]


def test_a_poll_in_the_same_process_never_takes_a_webhook_push_in_flight(
        make_engine, odoo, shop, shop_ids, tmp_path):
    """The worker thread's push is journaled and waiting for the shop when the poll thread's
    engine recovers: on the old code it re-sent the push (two writes, two audit rows)."""
    worker_engine, poll_engine = make_engine(), make_engine()
    with StateLock(tmp_path / "woodoo.sqlite").acquire("run") as lock:
        worker_engine.state_lock = poll_engine.state_lock = lock
        worker_engine.poll()
        writes_before = len(shop.stock_writes)
        odoo.set_on_hand("WDG-1002", "WH", 41)
        shop.server.faults.delay_next(1, seconds=1.5, path_prefix=BATCH)
        pushing = threading.Thread(target=worker_engine.push_products,
                                   args=([odoo.product_id("WDG-1002")], []),
                                   kwargs={"source": "webhook"})
        pushing.start()
        try:
            assert wait_for(lambda: shop.server.faults.delays_begun == 1, timeout=10)
            assert len(poll_engine.state.pushes.unfinished()) == 1
            poll_engine.recover("poll")  # what every poll does first
        finally:
            pushing.join(timeout=30)
    writes = Counter(product for product, _ in shop.stock_writes[writes_before:])
    assert writes == {shop_ids["WDG-1002"]: 1}
    audit = [(row["new_quantity"], row["source"]) for row in poll_engine.state.pushes.audit("WDG-1002")]
    assert audit[0] == (41, "webhook") and (41, "recovery") not in audit
    assert sum(1 for quantity, _ in audit if quantity == 41) == 1
    assert poll_engine.state.pushes.unfinished() == []


def test_journal_rows_carry_this_process_s_token(engine):
    engine.poll()
    assert engine.owner == process_token()
    product = engine.state.catalog.products(["WDG-1002"])["WDG-1002"]
    engine.state.pushes.journal("b-1", [PushItem("WDG-1002", product.woo_id, 0, 5, "instock")], "poll",
                                "r", owner=engine.owner)
    with sqlite3.connect(engine.config.state.path) as db:
        assert db.execute("select owner from push_journal").fetchall() == [(process_token(),)]


def test_a_dry_run_writes_nothing_and_needs_no_lock(make_config_file, shop, shop_ids, tmp_path):
    path = str(make_config_file())
    runner = CliRunner()
    assert runner.invoke(main, ["sync", "-c", path]).exit_code == 0
    database = tmp_path / "woodoo.sqlite"
    with sqlite3.connect(database) as db:
        # An SKU the map has not seen yet: the dry run looks it up, and must not remember it.
        db.execute("delete from sku_map where sku = 'WDG-1003'")
    shop.set_stock(shop_ids["WDG-1004"], 1)

    def dump() -> list[str]:
        with sqlite3.connect(database) as db:
            return list(db.iterdump())

    before = dump()
    with StateLock(database).acquire("run"):  # a daemon holds the state: the dry run still runs
        dry = runner.invoke(main, ["sync", "--dry-run", "-c", path])
        full = runner.invoke(main, ["sync", "--dry-run", "--full", "-c", path])
    assert dry.exit_code == 0, dry.output
    assert "would change, 0 pushed" in dry.output and "handed" not in dry.output
    assert full.exit_code == 0 and "  WDG-1004: 1 instock -> 30 instock" in full.output
    assert dump() == before


@pytest.mark.parametrize(("shop_shows", "sent"), [
    (None, [52]),  # neither batch arrived: the newest figure is sent, once
    (51, [52]),  # the older batch arrived: it is confirmed, the newer one sent
    (52, []),  # the newer batch arrived: confirmed, nothing sent, the older one settled
])
def test_recovery_settles_one_sku_journaled_in_several_batches(engine, shop, shop_ids,
                                                               shop_shows, sent):
    """A poll and a webhook push of a dead process both journaled WDG-1002: on the old code
    recovery re-sent it twice in one batch and died on the journal's (batch, sku) key."""
    engine.poll()
    product = engine.state.catalog.products(["WDG-1002"])["WDG-1002"]
    if shop_shows is not None:
        shop.set_stock(shop_ids["WDG-1002"], shop_shows)
    for batch, quantity, source in (("dead-poll-1", 51, "poll"), ("dead-hook-1", 52, "webhook")):
        engine.state.pushes.journal(batch, [PushItem("WDG-1002", product.woo_id, 0, quantity,
                                                     "instock")], source, batch, owner="dead")
    writes_before = len(shop.stock_writes)
    with StateLock(engine.config.state.path).acquire("test") as lock:
        engine.state_lock = lock
        engine.recover("test")
    assert [quantity for _, quantity in shop.stock_writes[writes_before:]] == sent
    assert shop.stock("WDG-1002")[0] == 52
    assert engine.state.pushes.unfinished() == []
    assert engine.state.pushes.last_pushed(["WDG-1002"])["WDG-1002"].quantity == 52
