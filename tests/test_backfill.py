"""Shop orders never wait on a retry timer: the plugin's waiting events are sent when the daemon
starts, and orders whose event never arrives are read from the shop (backfill), applied once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port, wait_for

from woodoo import daemon
from woodoo.orders.backfill import WATERMARK, BackfillError, order_event
from woodoo.orders.sync import OrderEvent

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce11"
SHOP_SECRET = "whsec_backfill_shop_0123456789abcdefghij"
PLUGIN_SECRET = "whsec_backfill_plugin_0123456789abcdefgh"
SKU = "WDG-1002"  # Odoo and the shop both show 80 at first
ORDERS = "/wp-json/wc/v3/orders"


def sections(port: int) -> dict:
    return {
        "server": {"port": port},
        "sync": {"poll_interval": 3600},  # only the start-up poll
        "orders": {"enabled": True},
        "webhooks": {"shop_secrets": [SHOP_SECRET], "reread_after": [0.2]},
        "woocommerce": {"plugin_secret": PLUGIN_SECRET},
    }


@pytest.fixture
def plugin(shop) -> Iterator[None]:
    """The shop with the Woodoo Companion plugin: its stock secret and its events secret."""
    shop.plugin_secret = PLUGIN_SECRET
    shop.orders.events_secret = SHOP_SECRET
    yield


@contextmanager
def running(make_config, port: int) -> Iterator[float]:
    """The daemon in a thread; yields when it started."""
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(make_config(**sections(port)),),
                              kwargs={"stop": stop}, daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        yield started
    finally:
        stop.set()
        thread.join(timeout=30)


def run_once_then_stop(make_config, shop, port: int) -> None:
    """A first run of the daemon: it learns the catalog and when it last read the shop's orders."""
    with running(make_config, port):
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20)
        assert wait_for(lambda: "backfill" in _run_kinds(make_config), timeout=10)


def _run_kinds(make_config) -> set[str]:
    import sqlite3
    path = make_config(**sections(0)).state.path
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("select distinct kind from runs")}


def writes_of(shop, shop_ids, sku: str) -> list[int | None]:
    return [quantity for pid, quantity in shop.stock_writes if pid == shop_ids[sku]]


def test_a_recorded_rest_order_becomes_the_event_the_plugin_would_send():
    recorded = json.loads((FIXTURES / "list_orders_modified_after.json").read_text())
    row = recorded["response"]["body"][0]
    event = OrderEvent.model_validate(order_event(row, [], "http://shop.test"))
    assert event.event_id == "backfill-39-2026-12-01T03:49:19"
    assert event.order.date_modified == "2026-12-01T03:49:19Z"  # as Woodoo_Payload::utc writes
    assert event.order.customer.email == "holdout@example.com"
    [line] = event.order.lines
    assert (line.line_id, line.product_id, line.variation_id, line.sku, line.quantity) == (
        3, 31, 33, "TSH-M-BLU", 1)


@pytest.mark.parametrize("delivery", ["the plugin's event waits for its retry",
                                      "the plugin's event never arrives"])
def test_an_order_placed_while_the_daemon_is_down_reaches_odoo_within_10_s_of_its_start(
        make_config, odoo, shop, shop_ids, plugin, delivery):
    port = free_port()
    shop.orders.daemon_url = f"http://127.0.0.1:{port}"
    run_once_then_stop(make_config, shop, port)
    if delivery == "the plugin's event never arrives":
        shop.orders.events_secret = "w" * 40  # the daemon refuses every event it sends
    order_id = shop.orders.place([(SKU, 2)])
    assert shop.orders.deliver()["delivered"] == 0  # the daemon is down: the event waits
    assert shop.stock(SKU)[0] == 78
    writes_before = len(shop.stock_writes)
    with running(make_config, port) as started:
        assert wait_for(lambda: [s["state"] for s in odoo.sale_orders(f"WC-{order_id}")]
                        == ["sale"], timeout=10)
        elapsed = time.monotonic() - started
        assert odoo.free_qty(SKU, ["WH"]) == 78
        assert wait_for(lambda: _pending(make_config) == {}, timeout=10)  # Odoo has it now
    assert elapsed < 10
    # No push in between showed the two sold units again.
    assert all(q is not None and q <= 78 for pid, q in shop.stock_writes[writes_before:]
               if pid == shop_ids[SKU])
    assert shop.stock(SKU)[0] == 78
    [row] = _orders(make_config)
    expected = "event" if delivery.startswith("the plugin's event waits") else "backfill"
    assert row["found_by"] == expected, (row, _events(make_config))
    if expected == "event":
        assert shop.orders.waiting() == 0  # the flush at start sent it


def test_an_order_both_paths_bring_makes_one_sale_order(make_config, odoo, shop, plugin):
    port = free_port()
    shop.orders.daemon_url = f"http://127.0.0.1:{port}"
    run_once_then_stop(make_config, shop, port)
    shop.orders.events_secret = "w" * 40
    order_id = shop.orders.place([(SKU, 2)])
    with running(make_config, port):
        assert wait_for(lambda: len(odoo.sale_orders(f"WC-{order_id}")) == 1, timeout=10)
        shop.orders.events_secret = SHOP_SECRET
        assert shop.orders.deliver()["delivered"] == 1  # the event arrives after all
        time.sleep(1.0)  # the worker has taken it
    assert [s["state"] for s in odoo.sale_orders(f"WC-{order_id}")] == ["sale"]
    assert odoo.free_qty(SKU, ["WH"]) == 78


def test_a_full_sync_reads_the_shop_s_orders_before_it_corrects_anything(make_engine, odoo, shop):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.poll()
    shop.orders.place([(SKU, 2)])  # no event reaches the daemon
    summary = engine.sync(full=True)
    assert summary.error is None
    # Odoo still says 80, but the shop sold 2 that Odoo does not know of yet: 78 stays.
    assert shop.stock(SKU)[0] == 78
    assert engine.state.orders.pending_by_sku([SKU]) == {SKU: 2}


def test_no_full_sync_or_reconciliation_from_a_blind_spot(make_engine, odoo, shop, shop_ids):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.poll()
    shop.orders.place([(SKU, 2)])
    shop.server.faults.fail_next(20, status=500, path_prefix=ORDERS)
    writes_before = len(shop.stock_writes)
    with pytest.raises(BackfillError, match="nothing corrected"):
        engine.sync(full=True)
    with pytest.raises(BackfillError, match="nothing corrected"):
        engine.reconcile(dry_run=False)
    assert shop.stock_writes[writes_before:] == []
    assert shop.stock(SKU)[0] == 78


def test_a_poll_goes_on_when_the_backfill_cannot_read_the_shop(make_engine, odoo, shop):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    shop.server.faults.fail_next(20, status=500, path_prefix=ORDERS)
    summary = engine.poll()
    assert summary.error is None and shop.stock("WDG-1001")[0] == 115
    assert engine.state.runs.last("backfill")["error"]


def test_a_quiet_shop_costs_one_request_per_backfill(make_engine, shop):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.backfill.run()
    before = len(shop.server.requests)
    result = engine.backfill.run()
    asked = [r for r in shop.server.requests[before:]]
    assert [r.path for r in asked] == [ORDERS]
    assert (result.read, result.found, result.updated) == (0, [], [])


def test_refunded_units_are_not_held_back(make_engine, odoo, shop):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.poll()
    order_id = shop.orders.place([(SKU, 3), ("WDG-1003", 1)])
    time.sleep(1.1)  # the refund is a later change, a second on
    shop.orders.refund(order_id, {SKU: 1})
    result = engine.backfill.run()
    assert result.found == [str(order_id)]
    assert engine.state.orders.pending_by_sku([SKU, "WDG-1003"]) == {SKU: 2, "WDG-1003": 1}


def test_a_shop_order_the_schema_refuses_is_reported_and_the_rest_applied(make_engine, shop):
    engine = make_engine(orders={"enabled": True, "max_line_quantity": 5},
                         webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.backfill.run()
    too_big = shop.orders.place([(SKU, 6)])
    fine = shop.orders.place([("WDG-1003", 1)])
    result = engine.backfill.run()
    assert result.found == [str(fine)]
    assert result.unreadable == [f"order {too_big}: order.lines[0].quantity is more than "
                                 f"orders.max_line_quantity"]


def _pending(make_config) -> dict[str, int]:
    from woodoo.state import State
    state = State(make_config(**sections(0)).state.path)
    try:
        return state.orders.pending_by_sku([SKU])
    finally:
        state.close()


def _orders(make_config) -> list[dict]:
    import sqlite3
    with sqlite3.connect(make_config(**sections(0)).state.path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("select * from orders")]


def _events(make_config) -> list:
    import sqlite3
    with sqlite3.connect(make_config(**sections(0)).state.path) as db:
        return db.execute("select source, event_id, reads, done_at, last_error from events").fetchall()


def test_status_and_the_report_show_the_backfill(make_engine, make_config_file, shop, tmp_path):
    from click.testing import CliRunner

    from woodoo.cli import main
    from woodoo.reporting import report
    from woodoo.reporting.reconcile import run_reconciliation

    sections_ = {"orders": {"enabled": True}, "webhooks": {"shop_secrets": [SHOP_SECRET]}}
    engine = make_engine(**sections_)
    engine.backfill.run()
    order_id = shop.orders.place([(SKU, 2)])
    engine.backfill.run()
    status = CliRunner().invoke(main, ["status", "-c", str(make_config_file(**sections_))])
    assert status.exit_code == 0, status.output
    assert "read 1 changed orders, took 1" in status.output
    assert f"orders found only by the backfill in the last 24 h: #{order_id} (their events " \
           f"never arrived" in status.output
    found = run_reconciliation(engine, dry_run=True)
    assert [o["number"] for o in found.backfill_found] == [str(order_id)]
    html = report.render(found, shop_name="shop.test").html
    assert "Orders whose event never arrived" in html and "Last order backfill" in html


def test_the_simulated_flush_route_answers_as_the_plugin_does(shop, plugin):
    import requests

    from woodoo.web import signing

    url = f"{shop.url}/wp-json/woodoo/v1/flush"
    body = b'{"max_events":5,"request_id":"' + b"ab" * 16 + b'"}'

    def post(data: bytes, header: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers[signing.HEADER] = header
        return requests.post(url, data=data, headers=headers, timeout=5)

    signed = signing.sign(body, PLUGIN_SECRET, signing.PLUGIN_FLUSH)
    assert post(body, signed).status_code == 503  # no daemon URL yet: not_configured
    shop.orders.daemon_url = "http://127.0.0.1:1"  # nobody listens: events stay waiting
    shop.orders.place([(SKU, 1)])
    assert post(body, None).status_code == 401
    assert post(body, signing.sign(body, PLUGIN_SECRET, signing.PLUGIN_STOCK)).status_code == 401
    assert post(b"", signing.sign(b"", PLUGIN_SECRET, signing.PLUGIN_FLUSH)).status_code == 400
    answer = post(body, signed)
    assert answer.status_code == 200
    assert answer.json() == {"sent": 1, "delivered": 0, "failed": 1, "waiting": 1}
    assert (post(body, signed).status_code, shop.orders.waiting()) == (409, 1)  # replayed


def test_an_order_dated_in_the_future_neither_applies_nor_moves_the_watermark(make_engine, shop):
    """Before: a shop order dated 2099 was applied and moved the watermark to 2099 less a
    minute, so the shop's later orders were never asked for again."""
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.backfill.run()
    ahead = shop.orders.place([(SKU, 1)])
    shop.orders.orders[ahead].modified = 4_070_908_800  # 2099-01-01: a shop clock gone wrong
    result = engine.backfill.run()
    assert result.unreadable == [f"order {ahead}: order.date_modified: more than 300 s after the "
                                 f"daemon's clock; check the shop's clock"]
    assert engine.state.orders.get(ahead) is None
    assert engine.state.runs.get_meta(WATERMARK) <= time.strftime("%Y-%m-%dT%H:%M:%S",
                                                                  time.gmtime())
    lost = shop.orders.place([("WDG-1003", 1)])  # its event never arrives
    result = engine.backfill.run()
    assert result.found == [str(lost)]
    assert len(result.unreadable) == 1  # the order dated 2099 is still read, and still refused


def test_a_future_date_an_older_version_stored_does_not_blind_the_backfill(make_engine, shop):
    """An older version stored order events dated 2099 and moved the watermark past now: the
    backfill reads from now (less the overlap) again."""
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.backfill.run()
    engine.backfill.orders.apply(order_event(
        {"id": 901, "number": "901", "status": "pending", "date_modified_gmt": "2099-01-01T00:00:00",
         "line_items": []}, [], engine.config.woocommerce.url))
    engine.state.runs.set_meta(WATERMARK, "2098-12-31T23:59:00")
    lost = shop.orders.place([(SKU, 2)])
    assert engine.backfill.run().found == [str(lost)]
    assert engine.state.orders.pending_by_sku([SKU]) == {SKU: 2}
