"""Shop orders: pending stock, the checkout race, and sale orders in Odoo."""

from __future__ import annotations

import copy
import time

import pytest

from woodoo.orders.sync import OrderSync, pending_quantities, quantities
from woodoo.orders.sync import ShopOrder as Order

SECRET = "whsec_orders_0123456789abcdefghijklmnopqrstuvwxyz"
SHOP_SECRET = "whsec_orders_shop_0123456789abcdefghijklmnop"


def order_event(event_id: str, event: str = "order.created", *, order_id: int = 501,
                status: str = "processing", modified: str = "2026-11-23T13:52:30Z",
                lines: list[tuple[str, int, int]] = (("WDG-1002", 2, 0),),
                number: str | None = None) -> dict:
    return {
        "event_id": event_id, "event": event, "store_url": "http://shop.test",
        "sent_at": "2026-11-23T13:52:31Z", "refund": None,
        "order": {
            "id": order_id, "number": number or str(order_id), "status": status,
            "previous_status": None,
            "date_modified": modified, "currency": "EUR",
            "customer": {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"},
            "lines": [{"line_id": n, "product_id": 10 + n, "variation_id": 0, "sku": sku,
                       "quantity": quantity, "refunded_quantity": refunded}
                      for n, (sku, quantity, refunded) in enumerate(lines, start=1)],
        },
    }


def test_pending_counts_only_what_the_shop_took_and_odoo_lacks():
    order = Order.model_validate(order_event("e")["order"])
    assert pending_quantities(order, "processing", odoo_has_it=False) == {"WDG-1002": 2}
    assert pending_quantities(order, "processing", odoo_has_it=True) == {}
    assert pending_quantities(order, "pending", odoo_has_it=False) == {}  # not paid: no stock taken
    assert pending_quantities(order, "cancelled", odoo_has_it=False) == {}
    refunded = Order.model_validate(order_event("e", lines=[("A", 3, 1), ("A", 1, 0)])["order"])
    assert quantities(refunded) == {"A": 3}


@pytest.fixture
def conditional(make_engine, shop):
    shop.plugin_secret = SECRET
    return make_engine(woocommerce={"conditional_writes": True, "plugin_secret": SECRET})


def writes_of(shop, product_id: int) -> list[int]:
    return [quantity for pid, quantity in shop.stock_writes if pid == product_id]


def test_a_checkout_between_read_and_write_is_never_overwritten(conditional, odoo, shop,
                                                               shop_ids):
    engine = conditional
    engine.poll()
    assert shop.stock("WDG-1002")[0] == 80
    shop.checkout("WDG-1002", 2)  # the shop lowers its stock; the order event is still on its way
    odoo.set_on_hand("WDG-1002", "WH", 90)
    engine.poll()
    # Odoo has 90, the shop has sold 2 Odoo does not know of: 88, never 90.
    assert shop.stock("WDG-1002")[0] == 88
    assert max(writes_of(shop, shop_ids["WDG-1002"])[1:]) <= 88

    orders = OrderSync(engine.config.orders, engine.state.orders, engine.odoo)
    orders.apply(order_event("w-1"))  # now the event arrives: it explains the drop
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {"WDG-1002": 2}
    engine.push_products([], ["WDG-1002"], source="webhook")
    assert shop.stock("WDG-1002")[0] == 88
    assert max(writes_of(shop, shop_ids["WDG-1002"])[1:]) <= 88


def test_without_conditional_writes_the_same_race_oversells(make_engine, odoo, shop):
    """The control: a plain batch write raises the shop back above what can be sold."""
    engine = make_engine()
    engine.poll()
    shop.checkout("WDG-1002", 2)
    odoo.set_on_hand("WDG-1002", "WH", 90)
    engine.poll()
    assert shop.stock("WDG-1002")[0] == 90  # 2 more than Odoo can deliver


def test_an_unexplained_drop_is_released_after_its_hold(conditional, odoo, shop):
    engine = conditional
    engine.poll()
    shop.checkout("WDG-1002", 3)  # e.g. edited by hand: no order event will ever come
    odoo.set_on_hand("WDG-1002", "WH", 70)
    engine.poll()
    assert shop.stock("WDG-1002")[0] == 67
    engine.clock = lambda: __import__("time").time() + 31 * 60
    engine.state.database.clock = engine.clock
    odoo.set_on_hand("WDG-1002", "WH", 71)
    engine.push_products([], ["WDG-1002"], source="webhook")
    assert shop.stock("WDG-1002")[0] == 71


def test_order_events_out_of_order_and_twice_end_in_the_newest_state(conditional, odoo):
    engine = conditional
    orders = OrderSync(engine.config.orders, engine.state.orders, engine.odoo)
    cancelled = order_event("c", "order.cancelled", status="cancelled",
                            modified="2026-11-23T14:00:00Z")
    created = order_event("a", modified="2026-11-23T13:00:00Z")
    orders.apply(cancelled)  # "cancelled before created"
    orders.apply(created)
    orders.apply(copy.deepcopy(created))
    assert engine.state.orders.get(501)["status"] == "cancelled"
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {}


@pytest.fixture
def orders(make_engine):
    engine = make_engine(orders={"enabled": True}, webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.poll()
    return OrderSync(engine.config.orders, engine.state.orders, engine.odoo), engine


def sync(orders, *events):
    sync_, engine = orders
    skus = set()
    for event in events:
        skus |= sync_.apply(event)
    skus |= sync_.sync_due()
    if skus:
        engine.push_products([], skus, source="webhook")
    return engine


def test_the_same_order_event_twice_makes_one_confirmed_sale_order(orders, odoo, shop):
    event = order_event("e-1")
    engine = sync(orders, event, copy.deepcopy(event))
    sync(orders, order_event("e-1b", "order.paid"))
    [sale] = odoo.sale_orders("WC-501")
    assert sale["state"] == "sale"
    assert sale["lines"] == [("WDG-1002", 2.0, 0.0)]
    assert odoo.free_qty("WDG-1002", ["WH"]) == 78
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {}  # Odoo has it: nothing pending
    assert shop.stock("WDG-1002")[0] == 78
    partner = next(p for p in odoo.partners() if p["id"] == sale["partner_id"])
    assert (partner["email"], partner["name"]) == ("ann@example.com", "Ann Lee")


def test_cancelled_before_created_ends_with_no_stock_taken(orders, odoo, shop):
    sync(orders, order_event("c", "order.cancelled", status="cancelled",
                             modified="2026-11-23T14:00:00Z"),
         order_event("a", modified="2026-11-23T13:00:00Z"))
    assert odoo.sale_orders("WC-501") == []  # the older "created" changed nothing
    assert odoo.free_qty("WDG-1002", ["WH"]) == 80


def test_cancel_in_the_shop_cancels_in_odoo_and_releases_stock(orders, odoo, shop):
    sync(orders, order_event("a"))
    assert odoo.free_qty("WDG-1002", ["WH"]) == 78
    engine = sync(orders, order_event("c", "order.cancelled", status="cancelled",
                                      modified="2026-11-23T14:00:00Z"))
    assert [s["state"] for s in odoo.sale_orders("WC-501")] == ["cancel"]
    assert odoo.free_qty("WDG-1002", ["WH"]) == 80
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {}
    assert shop.stock("WDG-1002")[0] == 80


def test_an_order_while_odoo_is_down_is_pending_then_synced(orders, odoo, shop):
    sync_, engine = orders
    odoo.server.go_down()
    sync_.apply(order_event("a"))
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {"WDG-1002": 2}
    assert sync_.sync_due() == set()  # Odoo down: kept for a retry
    assert engine.state.orders.get(501)["sync_needed"] == 1
    odoo.server.come_back()
    engine.state.database.db.execute("update orders set next_sync_at = 0")
    sync(orders)
    assert [s["state"] for s in odoo.sale_orders("WC-501")] == ["sale"]
    assert engine.state.orders.pending_by_sku(["WDG-1002"]) == {}
    assert shop.stock("WDG-1002")[0] == 78


def test_pending_keeps_the_shop_right_until_odoo_has_the_order(make_engine, odoo, shop):
    engine = make_engine(orders={"enabled": True, "create_sale_orders": False},
                         webhooks={"shop_secrets": [SHOP_SECRET]})
    engine.poll()
    sync_ = OrderSync(engine.config.orders, engine.state.orders, engine.odoo)
    sync_.apply(order_event("a"))
    sync_.sync_due()
    engine.push_products([], ["WDG-1002"], source="webhook")
    assert shop.stock("WDG-1002")[0] == 78  # Odoo still 80 free: 80 - 2 pending
    assert odoo.sale_orders("WC-501") == []


def test_an_unknown_sku_needs_attention_and_blocks_no_other_order(orders, odoo):
    _, engine = orders
    sync(orders, order_event("x", order_id=601, lines=[("NOT-IN-ODOO", 1, 0)]),
         order_event("y", order_id=602))
    [attention] = engine.state.orders.needing_attention()
    assert attention["number"] == "601"
    assert attention["attention"] == "SKU NOT-IN-ODOO on order #601 is not a product in Odoo"
    assert [s["state"] for s in odoo.sale_orders("WC-602")] == ["sale"]


def test_partial_refund_before_delivery_reduces_the_line(orders, odoo):
    sync(orders, order_event("a", lines=[("WDG-1002", 3, 0)]))
    sync(orders, order_event("r", "order.refunded", modified="2026-11-23T15:00:00Z",
                             lines=[("WDG-1002", 3, 1)]))
    [sale] = odoo.sale_orders("WC-501")
    assert sale["lines"] == [("WDG-1002", 2.0, 0.0)]
    assert odoo.free_qty("WDG-1002", ["WH"]) == 78


def test_cancel_after_delivery_is_left_for_returns_in_odoo(orders, odoo):
    _, engine = orders
    sync(orders, order_event("a"))
    [sale] = odoo.sale_orders("WC-501")
    odoo.deliver_order(sale["id"])
    sync(orders, order_event("c", "order.cancelled", status="cancelled",
                             modified="2026-11-23T14:00:00Z"))
    assert [s["state"] for s in odoo.sale_orders("WC-501")] == ["sale"]
    [attention] = engine.state.orders.needing_attention()
    assert "already delivered: handle the return in Odoo" in attention["attention"]


def made_by_an_older_version(engine, order_id: int, number: str, skus: dict[str, int]) -> int:
    """A confirmed sale order with the reference older versions wrote (WC-<number>), recorded
    for this order as they recorded it; its id."""
    products = engine.odoo.product_ids(skus)
    sale = engine.odoo.create_sale_order(f"WC-{number}", engine.odoo.partner_for("", "Ann", None),
                                         {products[s]: q for s, q in skus.items()})
    engine.odoo.confirm_sale_order(sale.id)
    recorded(engine, order_id, number, sale.id)
    return sale.id


def recorded(engine, order_id: int, number: str, sale_order_id: int) -> None:
    """The order's row as older versions left it: synced to this sale order."""
    engine.state.orders.save({
        "order_id": order_id, "number": number, "status": "processing",
        "date_modified": "2026-11-23T13:00:00Z", "sync_needed": 0, "found_by": "event",
        "payload": order_event("old", order_id=order_id, number=number)["order"]}, {})
    engine.state.orders.synced(order_id, sale_order_id=sale_order_id, sale_order_name="S",
                               odoo_state="sale", pending={})


def test_a_sale_order_made_under_the_number_is_kept_after_the_upgrade(orders, odoo):
    """Numbers that are not ids (a numbering plugin): the order's recorded sale order is renamed
    to the id-based reference and cancelled with it; no second sale order is made."""
    _, engine = orders
    made = made_by_an_older_version(engine, 501, "2026-0042", {"WDG-1002": 2})
    sync(orders, order_event("c", "order.cancelled", status="cancelled", number="2026-0042",
                             modified="2026-11-23T14:00:00Z"))
    assert [(s["id"], s["client_order_ref"], s["state"]) for s in odoo.sale_orders()
            if "2026-0042" in (s["client_order_ref"] or "")] == [
        (made, "WC-2026-0042 (#501)", "cancel")]


def test_a_sale_order_two_orders_shared_is_not_handed_to_either_by_its_number(orders, odoo):
    """Before: orders 501 and 502, both numbered 7, had one sale order WC-7 between them."""
    _, engine = orders
    shared = made_by_an_older_version(engine, 501, "7", {"WDG-1002": 2})
    recorded(engine, 502, "7", shared)  # both rows name it: whose it is cannot be told
    sync(orders, order_event("b", order_id=502, number="7", lines=[("WDG-1003", 1, 0)]))
    sync(orders, order_event("a", "order.cancelled", status="cancelled", number="7",
                             modified="2026-11-23T14:00:00Z"))
    refs = {s["client_order_ref"]: (s["state"], s["lines"]) for s in odoo.sale_orders()
            if (s["client_order_ref"] or "").startswith("WC-7")}
    assert refs == {"WC-7 (#501)": ("cancel", [("WDG-1002", 2.0, 0.0)]),
                    "WC-7 (#502)": ("sale", [("WDG-1003", 1.0, 0.0)])}


def test_a_future_date_an_older_version_stored_does_not_hide_a_cancellation(orders, odoo):
    """An older version accepted an event dated 2099: the real cancellation after it still wins."""
    sync(orders, order_event("a", modified="2099-01-01T00:00:00Z"))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sync(orders, order_event("c", "order.cancelled", status="cancelled", modified=now))
    assert [s["state"] for s in odoo.sale_orders("WC-501")] == ["cancel"]
