"""The SQLite state: migrations, atomic push records, crash leftovers, dead letters."""

import sqlite3
import subprocess
import sys

import pytest

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
    assert first.schema_version == len(MIGRATIONS)
    first.set_meta("odoo_watermark", "2026-11-23 10:00:00")
    first.close()
    again = State(tmp_path / "s.sqlite")
    assert again.get_meta("odoo_watermark") == "2026-11-23 10:00:00"
    assert again.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    again.close()


def test_outcome_records_push_audit_and_clears_journal(state):
    state.replace_sku_map([shop("A", 11), shop("B", 12)])
    a, b = PushItem("A", 11, 0, 7, "instock", 1), PushItem("B", 12, 0, 0, "outofstock", 2)
    state.journal("run-1", [a, b], "poll", "run")
    assert [item for _, item, _, _ in state.unfinished_pushes()] == [a, b]
    state.record_outcome("run-1", [a], [(b, "SKU B: rejected")], "poll", "run")
    assert state.unfinished_pushes() == []
    assert state.last_pushed(["A", "B"]) == {"A": ShownStock(7, "instock")}
    [audit] = state.audit()
    assert (audit["sku"], audit["old_quantity"], audit["new_quantity"], audit["source"]) == (
        "A", 5, 7, "poll")
    [letter] = state.open_dead_letters()
    assert (letter.sku, letter.reason, letter.odoo_id) == ("B", "SKU B: rejected", 2)


def test_a_failed_outcome_write_leaves_the_journal_intact(state, monkeypatch):
    item = PushItem("A", 11, 0, 7, "instock")
    state.journal("run-1", [item], "poll", "run")
    original = state._resolve_dead_letters

    def explode(*args):
        original(*args)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(state, "_resolve_dead_letters", explode)
    with pytest.raises(sqlite3.OperationalError):
        state.record_outcome("run-1", [item], [], "poll", "run")
    assert state.last_pushed(["A"]) == {}
    assert state.audit() == []
    assert len(state.unfinished_pushes()) == 1


def test_journal_survives_a_process_that_never_recorded_the_outcome(tmp_path):
    first = State(tmp_path / "s.sqlite")
    first.journal("run-9-1", [PushItem("A", 11, 0, 3, "instock")], "poll", "run-9")
    first.db.conn.close()  # like kill -9: no clean shutdown
    again = State(tmp_path / "s.sqlite")
    [(batch, item, source, correlation)] = again.unfinished_pushes()
    assert (batch, item.sku, source, correlation) == ("run-9-1", "A", "poll", "run-9")
    again.close()


def test_dead_letters_update_instead_of_piling_up_and_resolve(state):
    state.add_dead_letter("X", "SKU X could not be found in WooCommerce", "lookup", {"odoo_id": 4})
    state.add_dead_letter("X", "SKU X could not be found in WooCommerce", "lookup")
    [letter] = state.open_dead_letters()
    assert letter.attempts == 2 and letter.odoo_id == 4
    item = PushItem("X", 40, 0, 1, "instock")
    state.journal("b", [item], "poll", "r")
    state.record_outcome("b", [item], [], "poll", "r")  # a later push went through
    assert state.open_dead_letters() == []
    assert state.counts()["dead_letters_open"] == 0


def test_sku_map_replace_and_absent_skus(state):
    state.replace_sku_map([shop("A", 11), shop("V", 32, parent=31)])
    assert state.products(["V"])["V"].is_variation
    state.mark_absent(["GONE"])
    assert "GONE" in state.absent_since(["GONE", "A"])
    state.remember_products([shop("GONE", 40)])
    assert state.absent_since(["GONE"]) == {}
    state.forget_product("A")
    assert set(state.products()) == {"V", "GONE"}


def test_sku_map_links_odoo_ids(state):
    state.replace_sku_map([shop("A", 11), shop("B", 12)])
    state.link_odoo_ids({"A": 1, "C": 3})
    state.link_odoo_ids({"A": 7})
    assert state.odoo_ids() == {"A": 7}


def test_two_connections_writing_at_once_wait_for_each_other(tmp_path):
    """A read-then-write transaction must queue behind another writer, not fail at once."""
    import threading

    first, second = State(tmp_path / "s.sqlite"), State(tmp_path / "s.sqlite")
    first.replace_sku_map([shop("A", 11)])
    errors = []

    def enqueue_many():
        try:
            for n in range(300):
                second.enqueue("odoo", f"e{n}", {"product_ids": [1]}, event_time=0, due_at=0)
        except Exception as error:  # pragma: no cover - the failure this test looks for
            errors.append(error)

    writer = threading.Thread(target=enqueue_many)
    writer.start()
    for n in range(100):
        item = PushItem("A", 11, 0, n, "instock")
        first.journal(f"b{n}", [item], "poll", "r")
        first.record_outcome(f"b{n}", [item], [], "poll", "r")
    writer.join()
    assert errors == []
    assert second.queue_stats()["depth"] == 300
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

    first.enqueue("odoo", "before", {}, event_time=0, due_at=0)
    assert seen_by_another_process() == 1
    first.enqueue("odoo", "after", {}, event_time=0, due_at=0)
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
