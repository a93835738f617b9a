"""The same push through WooCommerce's REST API and through the plugin's bulk routes leaves the
same rows in the shop's tables (read in MariaDB, not through either path)."""

from __future__ import annotations

import pytest

from tests.e2e import systems as real
from tests.e2e.systems import TABLE_PREFIX as PREFIX
from tests.e2e.systems import CatalogMaker, Daemon, daemon_config

# (Odoo on hand, shop figure before): in stock, out of stock, both ways, and unchanged.
CASES = [(0, 4), (5, 0), (0, 0), (12, 2), (3, 3), (0, 7)]


def rows(systems: real.Systems, woo_id: int) -> tuple[object, ...]:
    """What the shop's tables hold for one product's stock."""
    meta = dict(real.mysql(systems, (
        f"select meta_key, meta_value from {PREFIX}postmeta where post_id = {woo_id} and "
        f"meta_key in ('_stock', '_stock_status', '_manage_stock', '_backorders')")))
    lookup = real.mysql(systems, (
        f"select stock_quantity, stock_status from {PREFIX}wc_product_meta_lookup "
        f"where product_id = {woo_id}"))
    hidden = real.mysql(systems, (
        f"select count(*) from {PREFIX}term_relationships r join {PREFIX}term_taxonomy tt "
        f"using (term_taxonomy_id) join {PREFIX}terms t using (term_id) where r.object_id = "
        f"{woo_id} and tt.taxonomy = 'product_visibility' and t.slug = 'outofstock'"))
    return (float(meta["_stock"]), meta["_stock_status"], meta["_manage_stock"],
            meta.get("_backorders"), [(float(q), s) for q, s in lookup], hidden)


def test_rest_and_bulk_pushes_leave_the_same_rows(catalog: CatalogMaker, systems, mailbox,
                                                  odoo_proxy, tmp_path):
    if not systems.mysql:
        pytest.skip("WOODOO_E2E_MYSQL is not set: the shop's tables cannot be read")
    paths = {}
    gap = term_count_gap(systems)
    for path in ("REST", "BULK"):
        skus = [catalog.simple(f"{path}{n}", on_hand, shop_quantity=before)
                for n, (on_hand, before) in enumerate(CASES)]
        document = daemon_config(systems, f"{catalog.catalog.prefix}{path}",
                                 systems.odoo_url, mailbox[1], tmp_path / f"{path}.sqlite",
                                 bulk=path == "BULK")
        document["server"]["port"] = 0
        (tmp_path / path).mkdir()
        pusher = Daemon(tmp_path / path, document)
        result = pusher.cli("sync", "--full")
        assert result.returncode == 0, result.stderr + result.stdout
        paths[path] = skus
    for rest_sku, bulk_sku, (on_hand, _) in zip(paths["REST"], paths["BULK"], CASES, strict=True):
        rest = rows(systems, catalog.catalog.shop_ids[rest_sku])
        bulk = rows(systems, catalog.catalog.shop_ids[bulk_sku])
        assert rest == bulk, (rest_sku, rest, bulk_sku, bulk)
        assert rest[0] == on_hand and rest[1] == ("instock" if on_hand else "outofstock")
    assert term_count_gap(systems) == gap  # both paths keep the term's count as true as it was


def term_count_gap(systems: real.Systems) -> int:
    """The `outofstock` visibility term's stored count minus the products it is attached to."""
    [[counted, actual]] = real.mysql(systems, (
        f"select tt.count, (select count(*) from {PREFIX}term_relationships r where "
        f"r.term_taxonomy_id = tt.term_taxonomy_id) from {PREFIX}term_taxonomy tt join "
        f"{PREFIX}terms t using (term_id) where tt.taxonomy = 'product_visibility' and "
        f"t.slug = 'outofstock'"))
    return int(counted) - int(actual)
