"""Negative (backorders) and empty (null) stock figures in the shop are ordinary: every write
path (REST batches, the plugin's conditional route, its bulk route) writes over them, and the
other SKUs of the same batch are written too."""

from __future__ import annotations

import pytest

PLUGIN_SECRET = "whsec_figures_plugin_0123456789abcdefghij"

PATHS = {
    "rest": {},
    "conditional": {"conditional_writes": True, "plugin_secret": PLUGIN_SECRET},
    "bulk": {"plugin_secret": PLUGIN_SECRET},
}


@pytest.fixture(params=list(PATHS))
def engine_on_path(request, make_engine, shop):
    """An engine writing through one path; `shop` answers on that path only."""
    if request.param != "rest":
        shop.plugin_secret = PLUGIN_SECRET
    shop.front.plugin.bulk_routes = request.param == "bulk"
    engine = make_engine(woocommerce=PATHS[request.param])
    assert engine.woo.write_path().bulk is (request.param == "bulk")
    return engine


def test_a_backordered_and_an_empty_figure_are_written_over_with_the_rest_of_the_batch(
        engine_on_path, shop, shop_ids, odoo):
    shop.set_backorders(shop_ids["WDG-1006"], "notify")
    shop.set_stock(shop_ids["WDG-1006"], -2)  # oversold: the shop shows what it owes
    shop.set_stock(shop_ids["TSH-L-BLK"], None)  # managed, but the figure is empty
    assert shop.stock("WDG-1006") == (-2, "onbackorder")
    odoo.set_on_hand("WDG-1006", "WH", 7)
    odoo.set_on_hand("WDG-1002", "WH", 61)
    engine = engine_on_path
    summary = engine.poll()  # the first poll reads both sides whole and writes every difference
    assert not summary.failures
    assert shop.stock("WDG-1006") == (7, "instock")
    assert shop.stock("TSH-L-BLK") == (15, "instock")
    assert shop.stock("WDG-1002") == (61, "instock")
    assert shop.stock("TSH-M-BLU") == (22, "instock")  # 3 reserved in WH
    odoo.set_on_hand("WDG-1006", "WH", 4)
    again = engine.poll()
    assert not again.failures and again.pushed == 1
    assert shop.stock("WDG-1006") == (4, "instock")


def test_a_push_over_a_negative_figure_mixes_products_and_variations(engine_on_path, shop,
                                                                     shop_ids, odoo):
    """The figures the first read saw decide the write: simple and variation in one call."""
    engine = engine_on_path
    engine.poll()
    for sku in ("WDG-1003", "TSH-S-RED"):
        shop.set_backorders(shop_ids[sku], "yes")
        shop.set_stock(shop_ids[sku], -5)
    engine.reconcile(dry_run=False)  # corrects the drift over both negative figures
    assert shop.stock("WDG-1003") == (45, "instock")
    assert shop.stock("TSH-S-RED") == (40, "instock")


def test_a_figure_emptied_behind_the_daemons_back_is_written_without_holding_anything(
        engine_on_path, shop, shop_ids, odoo):
    """Seen on a real shop: the plugin's routes, expecting the figure the map held, found none;
    the write must learn that the shop shows none, hold nothing back, and write Odoo's."""
    engine = engine_on_path
    engine.poll()
    shop.set_stock(shop_ids["WDG-1003"], None)  # an import empties the figure
    odoo.set_on_hand("WDG-1003", "WH", 12)
    summary = engine.poll()
    assert not summary.failures
    assert shop.stock("WDG-1003") == (12, "instock")
    assert engine.state.orders.pending_by_sku(["WDG-1003"]) == {}
