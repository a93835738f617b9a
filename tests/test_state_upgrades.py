"""Upgrades lose nothing: a state left by each earlier release, with work in flight, opened by
this one and run by the real daemon against the simulators: each event applied once, the push
journal settled once, dead letters and failed events kept, the daemon's settings still shown."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner
from helpers import daemon_thread, wait_for
from test_orders import order_event

from woodoo import daemon
from woodoo.cli import main
from woodoo.state import MIGRATIONS, State
from woodoo.state.database import backup_path

SHOP_SECRET = "whsec_upgrade_shop_0123456789abcdefghij"
NOW = time.time()  # the daemon runs on the real clock
BREAKER = {"state": "open", "failures": 5, "since": NOW - 60, "open_until": NOW + 240,
           "last_error": "Odoo answered 502 Bad Gateway"}
# Quantities Odoo has for the SKUs the old release had work in flight for.
ODOO = {"WDG-1002": 41, "WDG-1003": 42, "WDG-1004": 43, "WDG-1005": 44, "WDG-1001": 45}


def in_flight(version: int, products: dict[str, int], shop_ids: dict[str, int]
              ) -> dict[str, list[dict[str, Any]]]:
    """The rows a release at schema `version` had written while working: every table that
    schema has, in the columns the release wrote (columns it lacked are left out when stored)."""
    order = order_event("ord-queued", order_id=501, lines=[("WDG-1001", 2, 0)])
    pending = order_event("ord-synced", order_id=502, lines=[("WDG-1005", 3, 0)])["order"]
    journal = {"batch_id": "dead-batch", "parent_id": 0, "status": "instock", "odoo_id": 0,
               "source": "poll", "correlation_id": "run-dead", "created_at": NOW - 30,
               "owner": "pid-4242"}  # a dead process's rows: owner recorded from schema 4
    return {
        # Meta is a key-value table since schema 1: the breaker snapshot (written from schema 6
        # on) and the watermark stand for every setting a release keeps there.
        "meta": [{"key": "breaker_odoo", "value": json.dumps(BREAKER)},
                 {"key": "odoo_watermark", "value": "2026-11-30 10:00:00"}],
        # The shop already shows WDG-1003's write (applied, never recorded); WDG-1002's never
        # arrived: one is recorded, the other sent, each once.
        "push_journal": [
            {**journal, "sku": "WDG-1002", "woo_id": shop_ids["WDG-1002"], "quantity": 41},
            {**journal, "sku": "WDG-1003", "woo_id": shop_ids["WDG-1003"], "quantity": 42}],
        "dead_letters": [{"sku": "GONE-1", "odoo_id": 99, "reason": "not in the shop",
                          "source": "poll", "payload": "{}", "attempts": 3,
                          "created_at": NOW - 900, "last_attempt_at": NOW - 300,
                          "resolved_at": None}],
        "events": [
            {**_event("odoo", "ev-queued", products["WDG-1004"]), "due_at": NOW - 5},
            # Claimed by the dead process: its lease (and, from schema 6, its claim) still on it.
            {**_event("odoo", "ev-claimed", products["WDG-1005"]), "due_at": NOW - 5,
             "lease_until": 9e9, "claim_id": "dead-claim"},
            # Set aside after its last try (from schema 4): kept as failed, never run again.
            *([{**_event("odoo", "ev-failed", products["WDG-1017"]), "due_at": NOW - 500,
                "attempts": 5, "last_error": "ValidationError: no such warehouse",
                "failed_at": NOW - 400}] if version >= 4 else []),
            *([{"source": "woocommerce", "event_id": "ord-queued", "payload": json.dumps(order),
                "received_at": NOW - 5, "event_time": NOW - 5, "due_at": NOW - 5, "reads": 0}]
              if version >= 3 else []),
        ],
        # An order already applied in the shop (its units pending) and not yet in Odoo.
        "orders": [{"order_id": 502, "number": "502", "status": "processing",
                    "date_modified": pending["date_modified"], "payload": json.dumps(pending),
                    "sync_needed": 1, "next_sync_at": 0, "sync_attempts": 0,
                    "received_at": NOW - 20, "updated_at": NOW - 20, "found_by": "event"}],
        "pending": [{"order_id": 502, "sku": "WDG-1005", "quantity": 3}],
    }


def _event(source: str, event_id: str, product_id: int) -> dict[str, Any]:
    payload = {"product_ids": [product_id], "skus": [], "warehouse": None}
    return {"source": source, "event_id": event_id, "payload": json.dumps(payload),
            "received_at": NOW - 10, "event_time": NOW - 10, "reads": 0}


def write_old_state(path: Path, version: int, rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """A state file as the release at schema `version` left it: its migrations applied one by
    one (as that release ran them), then `rows` in the columns its tables had; how many rows
    each table got. Schema 0 is the empty file SQLite leaves before any migration."""
    path.touch(mode=0o600)
    if version == 0:
        return {}
    db = sqlite_utils.Database(path)
    db.enable_wal()
    for number, migration in enumerate(MIGRATIONS[:version], start=1):
        migration(db)
        db.execute(f"PRAGMA user_version = {number}")
    stored: dict[str, int] = {}
    for table, table_rows in rows.items():
        if not db[table].exists():
            continue
        columns = set(db[table].columns_dict)
        for row in table_rows:  # one by one: a column a row leaves out takes its default
            db[table].insert({k: v for k, v in row.items() if k in columns})
        stored[table] = len(table_rows)
    db.close()
    return stored


def row_counts(path: Path, tables: list[str]) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def settled(path: Path) -> bool:
    """Nothing the old release left is waiting any more: journal, queue and orders."""
    with sqlite3.connect(path) as db:
        return db.execute(
            "select (select count(*) from push_journal) + (select count(*) from events where "
            "done_at is null and failed_at is null) + (select count(*) from orders where "
            "sync_needed = 1)").fetchone()[0] == 0


@pytest.mark.parametrize("version", range(len(MIGRATIONS)))
def test_a_state_from_each_earlier_release_is_upgraded_and_its_work_done_once(
        version, tmp_path, odoo, shop, shop_ids, make_config, make_config_file):
    sections: dict[str, dict[str, Any]] = {
        "orders": {"enabled": True}, "sync": {"poll_interval": 3600},  # only the start-up poll
        "webhooks": {"shop_secrets": [SHOP_SECRET], "reread_after": [0.0]}}
    config, config_path = make_config(**sections), make_config_file(**sections)
    # The shop in line with Odoo first (a throwaway state), so that what is written after the
    # upgrade is the old release's work in flight, and nothing else.
    with daemon.open_engine(make_config(state={"path": str(tmp_path / "throwaway.sqlite")})) as engine:
        engine.sync(full=True)
    for sku, quantity in ODOO.items():
        odoo.set_on_hand(sku, "WH", quantity)
    shop.set_stock(shop_ids["WDG-1003"], 42)  # the journaled write the shop applied
    shop.set_stock(shop_ids["WDG-1005"], 44 - 3)  # the shop took order 502's units
    shop.set_stock(shop_ids["WDG-1001"], 45 - 2)  # and order 501's
    products = {sku: odoo.product_id(sku) for sku in (*ODOO, "WDG-1017")}
    path = config.state.path
    stored = write_old_state(path, version, in_flight(version, products, shop_ids))
    writes_before = len(shop.stock_writes)

    # Opened by this release: migrated to the latest schema, every row still there; the file
    # as it was is kept beside it (nothing to keep of an empty one).
    state = State(path)
    assert state.database.schema_version == len(MIGRATIONS)
    state.close()
    assert row_counts(path, list(stored)) == stored
    assert backup_path(str(path), version).exists() == (version > 0)
    if version:
        with sqlite3.connect(backup_path(str(path), version)) as copy:
            assert copy.execute("pragma user_version").fetchone()[0] == version
    if version == 0:
        return  # an empty file: nothing was in flight

    # What `woodoo status` shows before the daemon starts: the old release's breaker and watermark.
    status = CliRunner().invoke(main, ["status", "-c", str(config_path)])
    assert status.exit_code == 0, status.output
    assert "odoo: calls paused since" in status.output  # the breaker still open
    assert BREAKER["last_error"] in status.output
    assert "odoo watermark: 2026-11-30 10:00:00" in status.output
    assert "dead letter GONE-1: not in the shop (attempts 3)" in status.output

    with daemon_thread(config):
        assert wait_for(lambda: settled(path), timeout=60), _dump(path)
    writes = Counter(product_id for product_id, _ in shop.stock_writes[writes_before:])
    assert all(count == 1 for count in writes.values()), writes  # nothing written twice
    assert shop.stock("WDG-1002")[0] == 41 and writes[shop_ids["WDG-1002"]] == 1  # sent once
    assert writes[shop_ids["WDG-1003"]] == 0  # the shop had it: recorded, not sent again
    with sqlite3.connect(path) as db:
        audit = Counter(row[0] for row in db.execute("select sku from audit"))
        events = {row[0]: row[1:] for row in db.execute(
            "select event_id, done_at is not null, failed_at is not null, reads, attempts "
            "from events")}
        letters = db.execute("select sku, reason from dead_letters where resolved_at is null"
                             ).fetchall()
    assert audit["WDG-1002"] == 1 and audit["WDG-1003"] == 1  # each journal row settled once
    assert letters == [("GONE-1", "not in the shop")]
    if version >= 2:
        assert shop.stock("WDG-1004")[0] == 43 and writes[shop_ids["WDG-1004"]] == 1
        assert events["ev-queued"] == (1, 0, 1, 0) and events["ev-claimed"] == (1, 0, 1, 0)
    if version >= 3:
        assert events["ord-queued"][:2] == (1, 0)
        # One sale order each in Odoo: the queued order event's and the pending order's.
        refs = Counter(o["client_order_ref"] for o in odoo.sale_orders())
        assert sorted(refs.values()) == [1, 1], refs
        assert row_counts(path, ["pending"]) == {"pending": 0}
    if version >= 4:
        assert events["ev-failed"][:2] == (0, 1)  # still set aside, its reason kept
        assert writes[shop_ids["WDG-1017"]] == 0


def _dump(path: Path) -> str:
    """What still waits, for a failure's message."""
    with sqlite3.connect(path) as db:
        return repr([db.execute(f"select * from {t}").fetchall()
                     for t in ("push_journal", "events", "orders")])
