"""Shop orders on a real WooCommerce reaching a real Odoo as sale orders: a checkout through
the Store API, a cancellation, a partial refund, and an order placed while the daemon is down."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e import systems as real
from tests.e2e.systems import CatalogMaker, Daemon, free_qty, shown

ADDRESS = {"first_name": "Ann", "last_name": "Lee", "address_1": "1 Main St", "city": "Lyon",
           "postcode": "69001", "country": "FR", "email": "ann.lee.e2e@example.com",
           "phone": "0400000000"}


def checkout(systems: real.Systems, woo_id: int, quantity: int) -> int:
    """A guest buys `quantity` of a product through the Store API (cash on delivery); the order
    id. Whatever the shop does at checkout runs: stock, hooks, the plugin's event."""
    store = f"{systems.shop_url}/wp-json/wc/store/v1"
    with requests.Session() as session:
        cart = session.get(f"{store}/cart", timeout=60)
        headers = {"Nonce": cart.headers["Nonce"], "Cart-Token": cart.headers["Cart-Token"]}
        added = session.post(f"{store}/cart/add-item", json={"id": woo_id, "quantity": quantity},
                             headers=headers, timeout=60)
        assert added.status_code == 201, added.text[:500]
        placed = session.post(f"{store}/checkout", headers=headers, timeout=120, json={
            "billing_address": ADDRESS, "shipping_address": ADDRESS, "payment_method": "cod"})
        assert placed.status_code == 200, placed.text[:500]
        assert placed.json()["status"] == "processing", placed.json()
        return placed.json()["order_id"]


def sale_order(odoo: Any, catalog: CatalogMaker, sku: str) -> dict[str, Any] | None:
    """The newest sale order holding this SKU, with its lines' quantities by product."""
    found = odoo.env["sale.order"].search_read(
        [("order_line.product_id", "=", catalog.catalog.odoo_ids[sku])],
        ["state", "client_order_ref", "order_line"], order="id desc", limit=1)
    if not found:
        return None
    lines = odoo.env["sale.order.line"].read(found[0]["order_line"],
                                            ["product_id", "product_uom_qty"])
    found[0]["quantities"] = {line["product_id"][0]: line["product_uom_qty"] for line in lines}
    return found[0]


@pytest.fixture(scope="module")
def products(catalog: CatalogMaker, daemon: Daemon) -> dict[str, str]:
    """Two products in stock on both sides, and the daemon running."""
    skus = {"C": catalog.simple("C", 40), "D": catalog.simple("D", 25)}
    result = daemon.cli("sync", "--full")
    assert result.returncode == 0, result.stderr
    daemon.start()
    return skus


def test_a_checkout_becomes_one_confirmed_sale_order_and_stock_follows(products, systems, odoo,
                                                                       shop, catalog):
    sku = products["C"]
    order = checkout(systems, catalog.catalog.shop_ids[sku], 2)
    catalog.catalog.orders.append(order)
    real.wait_for(lambda: (sale_order(odoo, catalog, sku) or {}).get("state") == "sale",
                  timeout=60)
    sale = sale_order(odoo, catalog, sku)
    assert sale["quantities"] == {catalog.catalog.odoo_ids[sku]: 2}
    assert str(order) in sale["client_order_ref"]
    real.wait_for(lambda: shown(shop, catalog, sku)[0] == free_qty(odoo, catalog, sku) == 38,
                  timeout=60)

    # Cancelled in the shop: the sale order is cancelled, the units come back.
    real.ok(shop.put(f"orders/{order}", {"status": "cancelled"}))
    real.wait_for(lambda: sale_order(odoo, catalog, sku)["state"] == "cancel", timeout=60)
    real.wait_for(lambda: shown(shop, catalog, sku)[0] == free_qty(odoo, catalog, sku) == 40,
                  timeout=60)


def test_a_partial_refund_lowers_the_sale_order(products, systems, odoo, shop, catalog):
    sku = products["D"]
    order = checkout(systems, catalog.catalog.shop_ids[sku], 3)
    catalog.catalog.orders.append(order)
    real.wait_for(lambda: (sale_order(odoo, catalog, sku) or {}).get("state") == "sale",
                  timeout=60)
    [line] = real.ok(shop.get(f"orders/{order}"))["line_items"]
    real.ok(shop.post(f"orders/{order}/refunds", {
        "amount": "10.00", "api_refund": False,
        "line_items": [{"id": line["id"], "quantity": 1, "refund_total": 10}]}))
    product = catalog.catalog.odoo_ids[sku]
    real.wait_for(lambda: sale_order(odoo, catalog, sku)["quantities"] == {product: 2},
                  timeout=60)


def test_an_order_placed_while_the_daemon_is_down_arrives_when_it_starts(products, systems,
                                                                         odoo, shop, catalog,
                                                                         daemon):
    sku = products["D"]
    before = (sale_order(odoo, catalog, sku) or {}).get("id")
    daemon.stop()
    try:
        order = checkout(systems, catalog.catalog.shop_ids[sku], 1)
        catalog.catalog.orders.append(order)
    finally:
        daemon.start()
    real.wait_for(lambda: (sale_order(odoo, catalog, sku) or {}).get("id") != before
                  and sale_order(odoo, catalog, sku)["state"] == "sale", timeout=60)
    sale = sale_order(odoo, catalog, sku)
    assert str(order) in sale["client_order_ref"]
    assert sale["quantities"] == {catalog.catalog.odoo_ids[sku]: 1}
