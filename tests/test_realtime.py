"""Webhooks end to end: Odoo simulator change -> webhook -> daemon -> WooCommerce simulator."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from helpers import free_port, wait_for

from woodoo import daemon
from woodoo.web import signing

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "whsec_realtime_0123456789abcdefghijklm"
SHOP_SECRET = "whsec_realtime_shop_0123456789abcdefghij"
TOKEN = "native-token-0123456789abcdefghijklmnop"


def realtime_sections(port: int, **webhooks) -> dict:
    return {
        "server": {"port": port},
        "sync": {"poll_interval": 3600},  # only the start-up poll: changes must come by webhook
        "webhooks": {"odoo_secrets": [SECRET], "native_tokens": [TOKEN],
                     "reread_after": [0.2, 1.5], **webhooks},
    }


@contextmanager
def running_daemon(make_config, shop, **sections):
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(make_config(**sections),),
                              kwargs={"stop": stop}, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115), "start-up poll did not finish"
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def post_signed(port: int, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(f"http://127.0.0.1:{port}/webhooks/odoo", data=body, timeout=5,
                         headers={"Content-Type": "application/json",
                                  signing.HEADER: signing.sign(body, SECRET, signing.ODOO_EVENTS)})


def post_native(port: int, payload: dict) -> requests.Response:
    return requests.post(f"http://127.0.0.1:{port}/webhooks/odoo-native/{TOKEN}", json=payload,
                         timeout=5)


def test_a_signed_webhook_brings_an_odoo_change_to_the_shop_within_2_seconds(
        make_config, odoo, shop):
    port = free_port()
    with running_daemon(make_config, shop, **realtime_sections(port)):
        odoo.set_on_hand("WDG-1002", "WH", 17)
        answer = post_signed(port, {"event_id": "e-1", "product_ids": [odoo.product_id("WDG-1002")],
                                    "odoo_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})
        assert answer.status_code == 202
        assert wait_for(lambda: shop.stock("WDG-1002")[0] == 17, timeout=2), (
            "the change did not reach the shop within 2 s")
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'woodoo_pushes_total{source="webhook"} 1.0' in metrics
        assert "woodoo_sync_latency_seconds_count 1.0" in metrics


def test_a_notification_sent_before_odoo_commits_is_read_again(make_config, odoo, shop):
    port = free_port()
    with running_daemon(make_config, shop, **realtime_sections(port)):
        product = odoo.product_id("WDG-1003")
        with odoo.transaction():
            odoo.set_on_hand("WDG-1003", "WH", 9)
            # Odoo's native action posts from inside the transaction, before the commit.
            answer = post_native(port, {"_model": "stock.quant", "_id": 3, "product_id": product,
                                        "warehouse_id": 1, "write_date": "2026-11-23 13:52:26.1"})
            assert answer.status_code == 202
            time.sleep(0.6)  # the first read (at 0.2 s) sees the old, committed value
            assert shop.stock("WDG-1003")[0] == 45
        assert wait_for(lambda: shop.stock("WDG-1003")[0] == 9, timeout=5)


def test_replayed_and_out_of_order_webhooks_never_show_an_older_quantity(
        make_config, odoo, shop, shop_ids):
    port = free_port()
    with running_daemon(make_config, shop, **realtime_sections(port, reread_after=[0.1])):
        product = odoo.product_id("WDG-1004")
        for step, quantity in enumerate((12, 7, 3), start=1):
            odoo.set_on_hand("WDG-1004", "WH", quantity)
            post_signed(port, {"event_id": f"s-{step}", "product_ids": [product]})
            assert wait_for(lambda q=quantity: shop.stock("WDG-1004")[0] == q)
        # Old events arrive again, late and out of order: Odoo is read, not the event.
        for event_id in ("s-2", "s-1", "late-1", "late-2"):
            post_signed(port, {"event_id": event_id, "product_ids": [product],
                               "odoo_time": "2026-01-01 00:00:00"})
        time.sleep(1.0)
        assert shop.stock("WDG-1004")[0] == 3
    shown = [q for product_id, q in shop.stock_writes if product_id == shop_ids["WDG-1004"]]
    assert shown[-3:] == [12, 7, 3]


@pytest.mark.slow
def test_kill_9_with_events_queued_then_restart_delivers_all(make_config_file, odoo, shop,
                                                            tmp_path):
    port = free_port()
    config_path = make_config_file(**realtime_sections(port, reread_after=[1.5]))
    log = (tmp_path / "daemon.log").open("w")
    command = [sys.executable, "-m", "woodoo", "run", "-c", str(config_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20)
    assert wait_for(lambda: _listening(port), timeout=10)
    changes = {"WDG-1002": 21, "WDG-1003": 22, "TSH-S-RED": 23}
    writes_before = len(shop.stock_writes)
    written = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    for n, (sku, quantity) in enumerate(changes.items(), start=1):
        odoo.set_on_hand(sku, "WH", quantity)
        # Native notifications wait for their first read (reread_after 1.5 s): still queued.
        assert post_native(port, {"_model": "stock.quant", "_id": n, "warehouse_id": 1,
                                  "product_id": odoo.product_id(sku), "write_date": written}
                           ).status_code == 202
    os.kill(process.pid, signal.SIGKILL)  # acknowledged, queued, not yet processed
    process.wait(timeout=10)
    assert all(shop.stock(s)[0] != q for s, q in changes.items())

    def events():
        with sqlite3.connect(tmp_path / "woodoo.sqlite") as db:
            return db.execute("select event_id, reads, done_at from events").fetchall()

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # None lost: every acknowledged event is processed by the restarted daemon.
        assert wait_for(lambda: all(done for _, _, done in events()), timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert sorted(e[0] for e in events()) == [f"stock.quant:{n}:{written}" for n in (1, 2, 3)]
    assert all(shop.stock(s)[0] == q for s, q in changes.items())
    counts = Counter(pid for pid, _ in shop.stock_writes[writes_before:])
    assert len(counts) == len(changes) and set(counts.values()) == {1}


def _listening(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.ConnectionError:
        return False


def test_the_recorded_odoo_18_sequence_ends_with_the_shop_at_odoo_s_final_figure(
        make_config, odoo, shop):
    """Replays what a real Odoo 18 sent for an adjustment, a confirmed order and a delivery:
    several requests per operation, intermediate values, the body's quantities never trusted."""
    recorded = json.loads((FIXTURES / "odoo18" / "webhooks" /
                           "webhook_sequence_by_operation.json").read_text())
    port = free_port()
    with running_daemon(make_config, shop, **realtime_sections(port)):
        assert odoo.product_id("WDG-1005") == 5  # the recorded product id
        operations = (lambda: odoo.set_on_hand("WDG-1005", "WH", 203),
                      lambda: odoo.reserve("WDG-1005", "WH", 3),
                      lambda: odoo.deliver("WDG-1005", "WH", 3))
        for operation, step in zip(operations, recorded["steps"], strict=True):
            operation()
            for webhook in step["webhooks"]:
                assert post_native(port, webhook["body_json"]).status_code == 202
        final = odoo.free_qty("WDG-1005", ["WH"])
        assert final == 200
        assert wait_for(lambda: shop.stock("WDG-1005")[0] == final, timeout=5)
        time.sleep(1.6)  # the second reads happen too: they must not move the shop
        assert shop.stock("WDG-1005")[0] == final


def test_an_order_event_from_the_plugin_becomes_a_sale_order(make_config, odoo, shop):
    port = free_port()
    sections = realtime_sections(port, shop_secrets=[SHOP_SECRET])
    with running_daemon(make_config, shop, orders={"enabled": True}, **sections):
        shop.checkout("WDG-1003", 4)
        body = json.dumps({
            "event_id": "wc-1", "event": "order.created", "store_url": shop.url,
            "sent_at": None, "refund": None,
            "order": {"id": 900, "number": "900", "status": "processing",
                      "date_modified": "2026-11-23T13:52:30Z",
                      "customer": {"email": "bo@example.com"},
                      "lines": [{"line_id": 1, "product_id": 13, "sku": "WDG-1003",
                                 "quantity": 4}]},
        }).encode()
        answer = requests.post(f"http://127.0.0.1:{port}/webhooks/woocommerce", data=body,
                               timeout=5, headers={"Content-Type": "application/json",
                                                   signing.HEADER: signing.sign(
                                                       body, SHOP_SECRET, signing.SHOP_EVENTS)})
        assert answer.status_code == 202
        assert wait_for(lambda: [o["state"] for o in odoo.sale_orders("WC-900")] == ["sale"])
        assert odoo.free_qty("WDG-1003", ["WH"]) == 41
        assert wait_for(lambda: shop.stock("WDG-1003")[0] == 41)


def test_a_signed_event_is_read_at_once_and_once(make_config, odoo, shop, tmp_path):
    port = free_port()
    # A long re-read schedule: it must not delay or repeat the module's (post-commit) events.
    with running_daemon(make_config, shop, **realtime_sections(port, reread_after=[5.0, 9.0])):
        odoo.set_on_hand("WDG-1004", "WH", 31)
        sent = time.monotonic()
        assert post_signed(port, {"event_id": "once-1",
                                  "product_ids": [odoo.product_id("WDG-1004")]}).status_code == 202
        assert wait_for(lambda: shop.stock("WDG-1004")[0] == 31, timeout=4, step=0.01)
        assert time.monotonic() - sent < 1.0
        with sqlite3.connect(tmp_path / "woodoo.sqlite") as db:
            assert wait_for(lambda: db.execute(
                "select reads, done_at is not null from events where event_id = 'once-1'"
            ).fetchone() == (1, 1), timeout=2)
