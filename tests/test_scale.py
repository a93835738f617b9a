"""Request counts at scale: a poll costs what changed, not the size of the catalog."""

from __future__ import annotations

import pytest

from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

from .conftest import config_document

CATALOG = 20_000
CHANGED = 10


@pytest.fixture
def big_odoo():
    with OdooSimulator() as simulator:
        simulator.add_warehouse("WH", "Main Warehouse")
        simulator.bulk_add(CATALOG, quantity=lambda i: i % 50)
        yield simulator


@pytest.fixture
def big_shop():
    with WooSimulator() as simulator:
        simulator.bulk_add_simple(CATALOG, quantity=lambda i: i % 50)
        yield simulator


@pytest.mark.slow
def test_20k_catalog_10_changes_costs_3_odoo_calls_and_1_batch(big_odoo, big_shop, tmp_path):
    import yaml

    from woodoo import config as config_module
    from woodoo.daemon import open_engine

    document = config_document(big_odoo, big_shop, tmp_path)
    config = config_module.parse(yaml.safe_dump(document), base_dir=tmp_path)
    with open_engine(config) as engine:
        first = engine.poll()
        assert (first.checked, first.pushed) == (CATALOG, 0)  # already equal: nothing written
        changed = [f"SKU-{n:06d}" for n in range(100, 100 + CHANGED * 37, 37)]
        for sku in changed:
            big_odoo.set_on_hand(sku, "WH", 77)
        big_odoo.reset_calls()
        big_shop.server.reset_log()

        summary = engine.poll()

    assert summary.pushed == CHANGED
    assert big_odoo.call_count(method="execute_kw") <= 3
    posts = [r for r in big_shop.server.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].path == "/wp-json/wc/v3/products/batch"
    assert len(big_shop.server.requests) == 1  # no listing, no lookup: the SKU map knew them all
    assert all(big_shop.stock(sku)[0] == 77 for sku in changed)
