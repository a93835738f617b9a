"""The SQLite state: migrations, transactions, crash leftovers, and each store on its own."""

import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils
from helpers import Clock

from woodoo.lock import StateLock, lock_path
from woodoo.rules import ShownStock
from woodoo.state import MIGRATIONS, PushItem, ShopProduct, State


@pytest.fixture
def state(tmp_path):
    opened = State(tmp_path / "state.sqlite")
    yield opened
    opened.close()


def shop(sku, woo_id, parent=0, quantity=5):
    return ShopProduct(sku, woo_id, parent, True, "no", quantity, "instock")


def test_migrations_run_once_and_use_wal(tmp_path):
    first = State(tmp_path / "s.sqlite")
    assert first.database.schema_version == len(MIGRATIONS)
    first.runs.set_meta("odoo_watermark", "2026-11-23 10:00:00")
    first.close()
    again = State(tmp_path / "s.sqlite")
    assert again.runs.get_meta("odoo_watermark") == "2026-11-23 10:00:00"
    assert again.database.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    again.close()


def test_outcome_records_push_audit_and_clears_journal(state):
    state.catalog.replace([shop("A", 11), shop("B", 12)])
    a, b = PushItem("A", 11, 0, 7, "instock", 1), PushItem("B", 12, 0, 0, "outofstock", 2)
    state.pushes.journal("run-1", [a, b], "poll", "run")
    assert [item for _, item, _, _ in state.pushes.unfinished()] == [a, b]
    state.pushes.record_outcome("run-1", [a], [(b, "SKU B: rejected")], "poll", "run")
    assert state.pushes.unfinished() == []
    assert state.pushes.last_pushed(["A", "B"]) == {"A": ShownStock(7, "instock")}
    [audit] = state.pushes.audit()
    assert (audit["sku"], audit["old_quantity"], audit["new_quantity"], audit["source"]) == (
        "A", 5, 7, "poll")
    [letter] = state.dead_letters.open()
    assert (letter.sku, letter.reason, letter.odoo_id) == ("B", "SKU B: rejected", 2)


def test_a_failed_outcome_write_leaves_the_journal_intact(state, monkeypatch):
    item = PushItem("A", 11, 0, 7, "instock")
    state.pushes.journal("run-1", [item], "poll", "run")
    original = state.dead_letters.resolve

    def explode(*args):
        original(*args)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(state.dead_letters, "resolve", explode)
    with pytest.raises(sqlite3.OperationalError):
        state.pushes.record_outcome("run-1", [item], [], "poll", "run")
    assert state.pushes.last_pushed(["A"]) == {}
    assert state.pushes.audit() == []
    assert len(state.pushes.unfinished()) == 1


def test_journal_survives_a_process_that_never_recorded_the_outcome(tmp_path):
    first = State(tmp_path / "s.sqlite")
    first.pushes.journal("run-9-1", [PushItem("A", 11, 0, 3, "instock")], "poll", "run-9")
    first.database.db.conn.close()  # like kill -9: no clean shutdown
    again = State(tmp_path / "s.sqlite")
    [(batch, item, source, correlation)] = again.pushes.unfinished()
    assert (batch, item.sku, source, correlation) == ("run-9-1", "A", "poll", "run-9")
    again.close()


def test_dead_letters_update_instead_of_piling_up_and_resolve(state):
    state.dead_letters.add("X", "SKU X could not be found in WooCommerce", "lookup", {"odoo_id": 4})
    state.dead_letters.add("X", "SKU X could not be found in WooCommerce", "lookup")
    [letter] = state.dead_letters.open()
    assert letter.attempts == 2 and letter.odoo_id == 4
    item = PushItem("X", 40, 0, 1, "instock")
    state.pushes.journal("b", [item], "poll", "r")
    state.pushes.record_outcome("b", [item], [], "poll", "r")  # a later push went through
    assert state.dead_letters.open() == []
    assert state.runs.counts()["dead_letters_open"] == 0


def test_sku_map_replace_and_absent_skus(state):
    state.catalog.replace([shop("A", 11), shop("V", 32, parent=31)])
    assert state.catalog.products(["V"])["V"].is_variation
    state.catalog.mark_absent(["GONE"])
    assert "GONE" in state.catalog.absent_since(["GONE", "A"])
    state.catalog.remember([shop("GONE", 40)])
    assert state.catalog.absent_since(["GONE"]) == {}
    state.catalog.forget("A")
    assert set(state.catalog.products()) == {"V", "GONE"}


def test_sku_map_links_odoo_ids(state):
    state.catalog.replace([shop("A", 11), shop("B", 12)])
    state.catalog.link_odoo_ids({"A": 1, "C": 3})
    state.catalog.link_odoo_ids({"A": 7})
    assert state.catalog.odoo_ids() == {"A": 7}


def test_two_connections_writing_at_once_wait_for_each_other(tmp_path):
    """A read-then-write transaction must queue behind another writer, not fail at once."""
    import threading

    first, second = State(tmp_path / "s.sqlite"), State(tmp_path / "s.sqlite")
    first.catalog.replace([shop("A", 11)])
    errors = []

    def enqueue_many():
        try:
            for n in range(300):
                second.events.enqueue("odoo", f"e{n}", {"product_ids": [1]}, event_time=0, due_at=0)
        except Exception as error:  # pragma: no cover - the failure this test looks for
            errors.append(error)

    writer = threading.Thread(target=enqueue_many)
    writer.start()
    for n in range(100):
        item = PushItem("A", 11, 0, n, "instock")
        first.pushes.journal(f"b{n}", [item], "poll", "r")
        first.pushes.record_outcome(f"b{n}", [item], [], "poll", "r")
    writer.join()
    assert errors == []
    assert second.events.stats()["depth"] == 300
    first.close()
    second.close()


def test_a_second_connection_in_the_process_keeps_the_first_one_s_locks(tmp_path):
    # Opening and closing any descriptor of the database file drops every POSIX lock this
    # process holds on it: another process then takes the WAL for abandoned, and stops seeing
    # (or loses) what this one commits. Seen as a daemon whose webhook work vanished.
    path = tmp_path / "s.sqlite"
    first = State(path)
    second = State(path)
    script = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
              "print(c.execute('select count(*) from events').fetchone()[0]); c.close()")

    def seen_by_another_process() -> int:
        return int(subprocess.run([sys.executable, "-c", script, str(path)], check=True,
                                  capture_output=True, text=True).stdout)

    first.events.enqueue("odoo", "before", {}, event_time=0, due_at=0)
    assert seen_by_another_process() == 1
    first.events.enqueue("odoo", "after", {}, event_time=0, due_at=0)
    assert seen_by_another_process() == 2
    first.close()
    second.close()


def test_the_database_is_created_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "private" / "s.sqlite"
    State(path).close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    path.chmod(0o644)
    State(path).close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_new_state_folders_are_private_even_when_the_lock_makes_them_first(tmp_path):
    """`woodoo run` takes the lock before it opens the state: on the old code the lock made the
    folders 0755, and the database step found them there."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var").chmod(0o755)  # there before: left as it is
    path = tmp_path / "var" / "lib" / "woodoo" / "woodoo.sqlite"
    with StateLock(path).acquire("run"):
        State(path).close()
    for folder in (tmp_path / "var" / "lib", path.parent):
        assert oct(folder.stat().st_mode & 0o777) == "0o700", folder
    assert oct(lock_path(path).stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "var").stat().st_mode & 0o777) == "0o755"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def clocked(tmp_path, clock):
    opened = State(tmp_path / "clocked.sqlite", clock=clock)
    yield opened
    opened.close()


# -- the database ----------------------------------------------------------------------------------


def test_a_database_at_version_5_is_migrated_and_keeps_its_leased_events(tmp_path):
    path = tmp_path / "field.sqlite"
    old = sqlite_utils.Database(path)
    for number, migration in enumerate(MIGRATIONS[:5], start=1):
        migration(old)
        old.execute(f"PRAGMA user_version = {number}")
    old["events"].insert({"source": "odoo", "event_id": "e-1", "payload": "{}", "received_at": 0,
                          "event_time": 0, "due_at": 0, "reads": 0, "lease_until": 9e9})
    old.close()
    state = State(path)
    assert state.database.schema_version == 6
    assert state.events.stake_claim(lease_seconds=60).events == []  # a live lease is honoured
    assert state.events.release_all_claims() == 1
    claim = state.events.stake_claim(lease_seconds=60)
    assert [e.event_id for e in claim.events] == ["e-1"]
    assert state.events.mark_read(claim, claim.events[0], None) is True
    state.close()


def test_atomic_commits_everything_or_nothing_and_nests_as_a_savepoint(state):
    with pytest.raises(RuntimeError), state.database.atomic():
        state.runs.set_meta("a", "1")
        raise RuntimeError("boom")
    assert state.runs.get_meta("a") is None
    with state.database.atomic():
        state.runs.set_meta("a", "1")
        with pytest.raises(RuntimeError), state.database.atomic():
            state.runs.set_meta("b", "2")
            raise RuntimeError("boom")
    assert (state.runs.get_meta("a"), state.runs.get_meta("b")) == ("1", None)


# -- the stores ------------------------------------------------------------------------------------


def test_the_catalog_remembers_what_the_shop_shows(state):
    state.catalog.replace([shop("A", 11), shop("B", 12)])
    state.catalog.note_shown({"A": ShownStock(0, "outofstock")})
    state.catalog.note_shop_quantity("B", 2)
    products = state.catalog.products(["A", "B", "C"])
    assert (products["A"].quantity, products["A"].status) == (0, "outofstock")
    assert (products["B"].quantity, products["B"].status) == (2, "instock")
    assert state.catalog.size() == 2


def test_unfinished_pushes_leave_out_their_owner_s_own_and_the_audit_filters(state):
    state.catalog.replace([shop("A", 11), shop("B", 12)])
    a, b = PushItem("A", 11, 0, 1, "instock"), PushItem("B", 12, 0, 2, "instock")
    state.pushes.journal("mine", [a], "webhook", "r1", owner="me")
    state.pushes.journal("dead", [b], "poll", "r2", owner="a-dead-process")
    state.pushes.journal("older", [a], "poll", "r3")  # before owners were recorded
    others = state.pushes.unfinished(not_owned_by="me")
    assert [(batch, item.sku) for batch, item, _, _ in others] == [("dead", "B"), ("older", "A")]
    for batch, items in (("mine", [a]), ("dead", [b]), ("older", [a])):
        state.pushes.record_outcome(batch, items, [], "poll", batch)
    assert [row["correlation_id"] for row in state.pushes.audit("A")] == ["older", "mine"]
    assert len(state.pushes.audit(limit=1)) == 1


def test_dead_letters_resolve_only_the_skus_pushed(clocked, clock):
    clocked.dead_letters.add("A", "rejected", "poll")
    clock.now += 1
    clocked.dead_letters.add("B", "rejected", "poll", {"odoo_id": 7})
    clocked.dead_letters.resolve(["A", "C"])
    [letter] = clocked.dead_letters.open()
    assert (letter.sku, letter.odoo_id, letter.created_at) == ("B", 7, clock.now)


def test_pending_orders_explain_unexplained_drops_until_synced(clocked, clock):
    orders = clocked.orders
    orders.hold_unexplained("A", 3, expires_at=clock.now + 60)
    assert orders.pending_by_sku(["A", "B"]) == {"A": 3}
    orders.save(order_row(1), {"A": 2})  # explains 2 of the 3 units dropped
    assert orders.pending_by_sku(["A"]) == {"A": 3}
    assert orders.pending_by_sku(["A"], orders_only=True) == {"A": 2}
    orders.synced(1, sale_order_id=9, sale_order_name="S00009", odoo_state="sale", pending={})
    assert orders.pending_by_sku(["A"]) == {"A": 1}
    clock.now += 61
    assert orders.pending_by_sku(["A"]) == {}


def test_orders_needing_attention_return_to_the_sync_on_retry(clocked, clock):
    orders = clocked.orders
    orders.save(order_row(1, modified="2026-11-20T10:00:00Z", found_by="backfill"), {"A": 1})
    orders.save(order_row(1, modified="2026-11-20T11:00:00Z"), {"A": 1})
    assert orders.get(1)["found_by"] == "backfill"  # the first finder stays
    assert orders.newest_change() == "2026-11-20T11:00:00Z"
    assert [o["order_id"] for o in orders.found_by_backfill(clock.now)] == [1]
    orders.sync_failed(1, "odoo down", retry_at=clock.now + 30)
    assert orders.to_sync() == []
    assert [o["order_id"] for o in orders.stuck(older_than=clock.now + 1)] == [1]
    orders.synced(1, sale_order_id=None, sale_order_name=None, odoo_state=None,
                  pending={"A": 1}, attention="SKU A is not a product in Odoo")
    assert [o["attention"] for o in orders.needing_attention()] == ["SKU A is not a product in Odoo"]
    assert orders.retry() == 1
    assert orders.needing_attention() == []
    assert [o["payload"]["number"] for o in orders.to_sync()] == ["1"]


def test_runs_keep_settings_and_spot_skus_drifting_night_after_night(clocked, clock):
    runs = clocked.runs
    assert runs.last() is None and runs.get_meta("odoo_watermark") is None
    runs.record("poll", "r1", clock.now - 2, checked=3, changed=1, pushed=1, failed=0)
    runs.record("backfill", "r2", clock.now - 1, error="shop down")
    assert (runs.last()["run_id"], runs.last("poll")["duration"]) == ("r2", 2)
    runs.set_meta("odoo_watermark", "2026-11-20 10:00:00")
    assert runs.get_meta("odoo_watermark") == "2026-11-20 10:00:00"
    runs.record_drift("n1", ["A", "B"], "2026-11-20")
    runs.record_drift("n2", ["A"], "2026-11-21")
    assert runs.repeat_drifters("2026-11-20") == [("A", 2)]
    assert runs.repeat_drifters("2026-11-21") == []


def test_health_and_counts_read_every_store(clocked, clock):
    since = clock.now
    clocked.events.enqueue("odoo", "e-1", {}, event_time=clock.now - 2, due_at=clock.now)
    clocked.events.enqueue("odoo", "e-2", {}, event_time=clock.now, due_at=clock.now + 60)
    claim = clocked.events.stake_claim(lease_seconds=60)
    clocked.events.mark_read(claim, claim.events[0], None)
    clocked.runs.record("poll", "r1", clock.now, error="odoo down")
    clocked.dead_letters.add("A", "rejected", "poll")
    health = clocked.runs.health(since)
    assert (health["polls"], health["polls_failed"], health["push_failures"]) == (1, 1, 1)
    assert (health["webhook_events"], health["latencies"], health["queue_depth"]) == (
        {"odoo": 2}, [2.0], 1)
    counts = clocked.runs.counts()
    assert (counts["events_waiting"], counts["dead_letters_open"]) == (1, 1)
    assert clocked.runs.activity(since)["last_good_poll"] == {}


def test_a_handed_off_command_keeps_its_arguments_and_its_error(state):
    command_id = state.commands.request("sync", {"skus": ["A"]}, requested_by=7)
    assert state.commands.get(command_id)["args"] == {"skus": ["A"]}
    claimed = state.commands.claim()
    assert (claimed["id"], claimed["requested_by"]) == (command_id, 7)
    state.commands.finish(command_id, error="odoo down")
    finished = state.commands.get(command_id)
    assert (finished["error"], finished["result"]) == ("odoo down", None)


def order_row(order_id, *, modified="2026-11-20T10:00:00Z", found_by="event"):
    return {"order_id": order_id, "number": str(order_id), "status": "processing",
            "date_modified": modified, "payload": {"number": str(order_id)}, "sync_needed": 1,
            "next_sync_at": 0, "sync_attempts": 0, "found_by": found_by}
