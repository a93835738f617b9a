"""Poison events must not stop the worker: refused at the route now, and set aside when an older
version already stored them."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any

import requests
from helpers import free_port, wait_for

from adversarial.hostile import ODOO_SECRET, SHOP_SECRET, TALLY, order_event, signed_headers
from woodoo import daemon
from woodoo.state import State
from woodoo.worker import MAX_ATTEMPTS


def test_a_signed_order_with_an_id_of_2_63_is_refused_at_the_route(live):
    """Before: stored with a 202, then OverflowError in SQLite on every try killed the worker."""
    payload = order_event(live.shop.url)
    payload["order"]["id"] = 2**63
    body = json.dumps(payload).encode()
    answer = live.target.hostile("worker", "POST", "/webhooks/woocommerce", body=body,
                                 headers=signed_headers(body, "/webhooks/woocommerce",
                                                        secret=SHOP_SECRET),
                                 expect={400}, label="order.id=2^63")
    assert answer.json()["field"] == "order.id"
    live.prove_worker_alive()


def old_order(**order: Any) -> dict[str, Any]:
    payload = order_event("http://whatever.example")
    payload["order"].update(order)
    return payload


# What an older version stored (its route checked less), as (source, payload, words in the error).
POISON: dict[str, tuple[str, Any, str]] = {
    "order id 2^63": ("woocommerce", old_order(id=2**63), "order.id"),
    "order id 10^100": ("woocommerce", old_order(id=10**100), "order.id"),
    "line quantity 10^12": ("woocommerce", old_order(lines=[
        {"line_id": 1, "product_id": 11, "sku": "WDG-1001", "quantity": 10**12}]), "quantity"),
    "an order that is a list": ("woocommerce", [1, 2, 3], "ValidationError"),
}
# Only a hint of which product to read: Odoo finds no such product, and the event is done.
HARMLESS: dict[str, tuple[str, Any]] = {
    "Odoo product id 2^63": ("odoo", {"product_ids": [2**63], "skus": [], "warehouse": None}),
    "Odoo product id 10^100": ("odoo", {"product_ids": [10**100], "skus": ["\x00" * 50],
                                        "warehouse": "W" * 10000}),
}


def insert(db_path, source: str, event_id: str, payload: Any, *, attempts: int) -> int:
    now = time.time()
    with sqlite3.connect(db_path) as db:
        cursor = db.execute(
            "insert into events (source, event_id, payload, received_at, event_time, due_at, "
            "reads, attempts) values (?, ?, ?, ?, ?, ?, 0, ?)",
            [source, event_id, json.dumps(payload), now, now, now, attempts])
        return cursor.lastrowid


def event_row(db_path, row_id: int) -> dict[str, Any]:
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("select * from events where id = ?", [row_id]).fetchone())


def test_poison_events_stored_by_an_older_version_are_retried_then_set_aside(live):
    path = live.config.state.path
    last_try, first_try = {}, {}
    for name, (source, payload, _) in POISON.items():
        # One on its last attempt (set aside now), one on its first (retried later).
        last_try[name] = insert(path, source, f"poison-last-{name}", payload,
                                attempts=MAX_ATTEMPTS - 1)
        first_try[name] = insert(path, source, f"poison-first-{name}", payload, attempts=0)
        TALLY.inputs["poison"] += 2
    harmless = {name: insert(path, source, f"odd-{name}", payload, attempts=0)
                for name, (source, payload) in HARMLESS.items()}
    TALLY.inputs["poison"] += len(harmless)
    # Later events go through while the poison is tried.
    live.prove_worker_alive()
    assert wait_for(lambda: all(event_row(path, i)["failed_at"] for i in last_try.values()),
                    timeout=10), [event_row(path, i) for i in last_try.values()]
    state = State(path)
    try:
        failed = {row["event_id"]: row for row in state.events.failed(limit=1000)}
    finally:
        state.close()
    for name, (_, _, words) in POISON.items():
        row = failed[f"poison-last-{name}"]
        assert row["attempts"] == MAX_ATTEMPTS and words in row["last_error"], row
        retried = event_row(path, first_try[name])
        assert retried["failed_at"] is None and retried["done_at"] is None, retried
        assert 1 <= retried["attempts"] < MAX_ATTEMPTS and words in retried["last_error"], retried
        assert retried["due_at"] > time.time(), "a failed event is retried later, not at once"
    for name, row_id in harmless.items():
        row = event_row(path, row_id)
        assert row["done_at"] or row["failed_at"] or row["attempts"], (name, row)
    live.prove_worker_alive()


def test_a_malformed_stored_payload_is_set_aside_without_killing_the_worker(make_config, odoo,
                                                                            shop):
    port = free_port()
    config = make_config(server={"port": port}, sync={"poll_interval": 3600},
                         webhooks={"odoo_secrets": [ODOO_SECRET], "reread_after": [0.05]})
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(config,), kwargs={"stop": stop},
                              daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20)
        row_id = insert(config.state.path, "odoo", "not-a-list", {"product_ids": 5},
                        attempts=MAX_ATTEMPTS - 1)
        TALLY.inputs["poison"] += 1
        assert wait_for(lambda: event_row(config.state.path, row_id)["failed_at"], timeout=3)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "woodoo_worker_restarts_total 0.0" in metrics
    finally:
        stop.set()
        thread.join(timeout=30)


def test_zz_the_worker_survives_the_batch(live):
    live.prove_worker_alive()
