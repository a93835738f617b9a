"""Request counts at scale: a poll costs what changed, not the size of the catalog."""

from __future__ import annotations

import pytest

from woodoo.simulators.clock import OffsetClock
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

CATALOG = 20_000
CHANGED = 10


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
def odoo(clock):
    """Replaces the demo-catalog simulator: 20,000 storable products in WH."""
    with OdooSimulator(clock=clock.utc) as simulator:
        simulator.add_warehouse("WH", "Main Warehouse")
        simulator.bulk_add(CATALOG, quantity=lambda i: i % 50)
        yield simulator


@pytest.fixture
def shop():
    """Replaces the demo-catalog simulator: the same 20,000 SKUs with the same stock."""
    with WooSimulator() as simulator:
        simulator.bulk_add_simple(CATALOG, quantity=lambda i: i % 50)
        yield simulator


@pytest.mark.slow
def test_20k_catalog_10_changes_costs_3_odoo_calls_and_1_batch(odoo, shop, make_engine, clock):
    engine = make_engine(clock=clock.time)
    first = engine.poll()
    assert (first.checked, first.pushed) == (CATALOG, 0)  # already equal: nothing written
    clock.advance(300)  # the catalog import is long committed: its overlap window is sealed
    engine.poll()
    changed = [f"SKU-{n:06d}" for n in range(100, 100 + CHANGED * 37, 37)]
    for sku in changed:
        odoo.set_on_hand(sku, "WH", 77)
    odoo.reset_calls()
    shop.server.reset_log()

    summary = engine.poll()

    assert summary.pushed == CHANGED
    assert odoo.call_count(method="execute_kw") <= 3
    posts = [r for r in shop.server.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].path == "/wp-json/wc/v3/products/batch"
    assert len(shop.server.requests) == 1  # no listing, no lookup: the SKU map knew them all
    assert all(shop.stock(sku)[0] == 77 for sku in changed)
