"""The daemon reads and writes through the plugin's bulk routes when the plugin has them, and
through WooCommerce's REST API otherwise; `woodoo check` says which and why."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from click.testing import CliRunner

from woodoo.cli import main
from woodoo.gateways import shop_items
from woodoo.gateways.woocommerce import WooError
from woodoo.reporting import reconcile
from woodoo.web import signing

PLUGIN_SECRET = "whsec_bulk_plugin_0123456789abcdefghijkl"
BULK = "/wp-json/woodoo/v1/stock/bulk"
CATALOG = "/wp-json/woodoo/v1/catalog"


def paths(shop) -> list[str]:
    return [r.path for r in shop.server.requests]


@pytest.mark.parametrize("plugin", ["0.4 with bulk routes", "0.3 without", "none"])
def test_the_first_sync_and_a_reconciliation_take_the_fastest_path_there_is(make_engine, shop,
                                                                          shop_ids, odoo, plugin):
    if plugin != "none":
        shop.plugin_secret = PLUGIN_SECRET
    shop.front.plugin.bulk_routes = plugin.startswith("0.4")
    engine = make_engine(woocommerce={"plugin_secret": PLUGIN_SECRET})
    engine.poll()
    assert shop.stock("WDG-1001")[0] == 115  # a simple product
    assert shop.stock("TSH-M-BLU")[0] == odoo.free_qty("TSH-M-BLU", ["WH"])  # a variation
    shop.set_stock(shop_ids["WDG-1003"], 3)  # drift made by hand
    shop.server.reset_log()
    summary, _, _ = engine.reconcile(dry_run=False)
    assert summary.pushed == 1 and shop.stock("WDG-1003")[0] == 45
    seen = paths(shop)
    if plugin.startswith("0.4"):
        assert engine.woo.write_path().bulk
        assert seen.count(CATALOG) == 1 and seen.count(BULK) == 1
        assert not any(p.startswith("/wp-json/wc/v3/products") for p in seen)
    else:
        assert not engine.woo.write_path().bulk
        assert CATALOG not in seen and BULK not in seen
        assert "/wp-json/wc/v3/products" in seen


def test_a_bulk_write_still_compares_and_sets(make_engine, shop, shop_ids, odoo):
    shop.plugin_secret = PLUGIN_SECRET
    engine = make_engine(woocommerce={"plugin_secret": PLUGIN_SECRET})
    engine.poll()
    shop.checkout("WDG-1002", 2)  # the shop sells 2; the order event is still on its way
    odoo.set_on_hand("WDG-1002", "WH", 90)
    summary = engine.poll()
    # Never 90: the write is refused (the shop moved), the drop held back until explained.
    assert shop.stock("WDG-1002")[0] == 88
    [change] = [c for c in summary.changes if c.sku == "WDG-1002"]  # once, as finally written
    assert change.new.quantity == 88 and summary.changed == 1


def test_check_says_which_path_and_why_each_in_its_own_sentence(make_config_file, shop):
    path = make_config_file(woocommerce={"plugin_secret": PLUGIN_SECRET})
    rest = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert ("stock is read and written through WooCommerce's REST API (100 items per "
            "request).\n") in rest.output
    assert ("bulk routes: not used, because the Woodoo Companion plugin is not active in the "
            "shop (no REST namespace woodoo/v1).\n") in rest.output
    shop.plugin_secret = PLUGIN_SECRET
    bulk = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert ("stock is read and written through the Woodoo Companion plugin's bulk routes "
            "(thousands of items per request).\n") in bulk.output
    assert ("bulk routes: in use: the Woodoo Companion plugin's catalog and stock/bulk routes "
            "answer.\n") in bulk.output
    unset = CliRunner().invoke(main, ["check", "-c", str(make_config_file())])
    # One sentence each: never "through woocommerce.plugin_secret is not set, ...: REST".
    assert "stock is read and written through WooCommerce's REST API" in unset.output
    assert ("bulk routes: not used, because woocommerce.plugin_secret (the plugin's stock "
            "secret) is not set.\n") in unset.output


@pytest.mark.parametrize("plugin", [True, False], ids=["bulk routes", "REST"])
def test_the_report_names_drifted_items_on_either_path(make_engine, shop, shop_ids, plugin):
    if plugin:
        shop.plugin_secret = PLUGIN_SECRET
    engine = make_engine(woocommerce={"plugin_secret": PLUGIN_SECRET} if plugin else {})
    engine.poll()
    shop.set_stock(shop_ids["WDG-1001"], 500)
    shop.set_stock(shop_ids["TSH-M-BLU"], 77)
    found = reconcile.run_reconciliation(engine)
    assert engine.woo.write_path().bulk is plugin
    names = {d.sku: d.name for d in found.drift}
    assert names == {sku: shop.catalog.products[shop_ids[sku]].name
                     for sku in ("WDG-1001", "TSH-M-BLU")}
    assert all(names.values())


def test_a_rest_listing_reads_ahead_a_bounded_number_of_pages(make_engine, shop):
    shop.bulk_add_simple(2000)  # with the fixture's items: 21 pages of 100
    engine = make_engine(woocommerce={"concurrency": 2})
    shop.server.reset_log()
    pages = engine.woo.item_pages()
    first = next(pages)

    def listed() -> int:
        return sum(1 for r in paths(shop) if r == "/wp-json/wc/v3/products")

    # A slow reader: what is fetched meanwhile waits in memory. The first page, then twice the
    # pool's size ahead, and no more however long the reader takes.
    deadline = time.monotonic() + 10
    while listed() < 1 + 2 * 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert listed() == 1 + 2 * 2
    items = first + [i for page in pages for i in page]
    listed_ids = [i.woo_id for i in items]
    assert sorted(listed_ids) == sorted(
        p.id for p in shop.catalog.products.values() if p.type != "variable")


def test_the_simulated_catalog_route_pages_as_the_plugin_does(shop):
    """A full page is followed by another, possibly empty (CatalogRouteTest checks the plugin)."""
    shop.plugin_secret = PLUGIN_SECRET
    ids = sorted(shop.catalog.products)

    def page(after: int, limit: int) -> dict:
        body = json.dumps({"after_id": after, "limit": limit, "request_id": uuid.uuid4().hex})
        answer = requests.post(f"{shop.url}{CATALOG}", data=body.encode(), timeout=10, headers={
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(body.encode(), PLUGIN_SECRET, signing.PLUGIN_CATALOG)})
        assert answer.status_code == 200, answer.text
        return answer.json()

    full = page(0, len(ids))
    assert [i["id"] for i in full["items"]] == ids and full["next_after_id"] == ids[-1]
    after = page(ids[-1], len(ids))
    assert (after["items"], after["next_after_id"]) == ([], None)
    short = page(0, len(ids) + 1)
    assert len(short["items"]) == len(ids) and short["next_after_id"] is None


@pytest.mark.parametrize(("item", "says"), [
    ("WDG-1001", "listed a str where a product belongs"),
    ({"id": "11", "type": "simple", "sku": "WDG-1001"}, "id is not a shop id: '11'"),
    ({"id": 2**63, "type": "simple", "sku": "WDG-1001"}, "id is not a shop id"),
    ({"id": 0, "type": "simple", "sku": "WDG-1001"}, "id is not a shop id: '0'"),
    ({"id": 33, "type": "variation", "parent_id": -1, "sku": "TSH"}, "parent id that is not"),
])
def test_a_listing_the_daemon_cannot_address_is_refused_and_nothing_written(make_engine, shop,
                                                                           item, says):
    shop.plugin_secret = PLUGIN_SECRET
    engine = make_engine(woocommerce={"plugin_secret": PLUGIN_SECRET})
    engine.poll()
    mapped = engine.state.catalog.size()
    answer = {"request_id": "0" * 32, "items": [item], "next_after_id": None}
    shop.server.faults.fail_next(status=200, body=json.dumps(answer).encode(), path_prefix=CATALOG)
    shop.server.reset_log()
    with pytest.raises(WooError, match=says):
        engine.reconcile(dry_run=False)
    assert BULK not in paths(shop) and engine.state.catalog.size() == mapped


def test_a_stock_figure_out_of_bounds_is_read_as_unknown_and_written_right(make_engine, shop,
                                                                          shop_ids):
    engine = make_engine()
    engine.poll()
    listed = [{"id": shop_ids["WDG-1001"], "type": "simple", "sku": "WDG-1001",
               "manage_stock": True, "stock_quantity": 1e300, "stock_status": "instock",
               "backorders": "no", "name": {"not": "a name"}}]
    shop.server.faults.fail_next(status=200, body=json.dumps(listed).encode(),
                                 headers={"X-WP-TotalPages": "1", "X-WP-Total": "1"},
                                 path_prefix="/wp-json/wc/v3/products")
    shop.set_stock(shop_ids["WDG-1001"], 7)
    summary, _, names = engine.reconcile(dry_run=False)
    [change] = summary.changes
    assert (change.sku, change.old, change.new.quantity) == ("WDG-1001", None, 115)
    assert shop.stock("WDG-1001")[0] == 115 and names == {"WDG-1001": ""}


@pytest.mark.parametrize(("value", "read"), [
    (5, 5), (3.5, 3), (-2.5, -3), ("41", 41), ("4.5", 4), (None, None), (True, None),
    ("many", None), (float("nan"), None), (float("inf"), None), (10**9, 10**9),
    (10**9 + 1, None), (-(10**9) - 1, None), ([3], None)])
def test_listed_stock_figures_are_bounded(value, read):
    assert shop_items.quantity(value) == read


def test_a_rest_listing_the_daemon_cannot_address_is_refused_too(make_engine, shop):
    engine = make_engine()
    engine.poll()
    shop.server.faults.fail_next(status=200, body=b'[{"id": -4, "type": "simple"}]',
                                 headers={"X-WP-TotalPages": "1"},
                                 path_prefix="/wp-json/wc/v3/products")
    with pytest.raises(WooError, match="id is not a shop id: '-4'"):
        engine.reconcile(dry_run=False)
