"""Stock from a real Odoo to a real WooCommerce: a full sync, a poll, both webhook paths, and
the shop figures (negative, empty) that broke pushes. Every assertion reads the real shop."""

from __future__ import annotations

import time

import pytest

from tests.e2e import systems as real
from tests.e2e.systems import TABLE_PREFIX as PREFIX
from tests.e2e.systems import CatalogMaker, Daemon, free_qty, latencies, report, shown

CHANGES = 10  # stock changes per webhook path


@pytest.fixture(scope="module")
def products(catalog: CatalogMaker) -> dict[str, str]:
    """Two simple products and a variable one with two variations."""
    skus = {"A": catalog.simple("A", 12), "B": catalog.simple("B", 7)}
    small, medium = catalog.variable("V", {"S": 4, "M": 9})
    return {**skus, "V-S": small, "V-M": medium}


def test_a_full_sync_writes_warehouse_figures_to_products_and_variations(products, daemon: Daemon,
                                                                        shop, catalog, odoo):
    result = daemon.cli("sync", "--full")
    assert result.returncode == 0, result.stderr + result.stdout
    for sku in products.values():
        quantity = free_qty(odoo, catalog, sku)
        assert shown(shop, catalog, sku) == (quantity, "instock"), sku
    assert shown(shop, catalog, products["V-S"])[0] == 4


def test_a_poll_after_a_change_writes_it(products, daemon: Daemon, shop, catalog):
    daemon.ensure_started()
    catalog.set_on_hand(products["B"], 15)
    result = daemon.cli("sync")  # handed to the running daemon: a poll now
    assert result.returncode == 0, result.stderr
    assert real.wait_for(lambda: shown(shop, catalog, products["B"])[0] == 15, timeout=30) >= 0


def test_signed_webhooks_bring_each_change_with_its_own_run(products, daemon: Daemon, shop,
                                                            catalog, odoo, systems):
    daemon.ensure_started()
    setup = daemon.cli("odoo", "setup-webhooks", "--mode", "signed", "--url",
                       f"http://127.0.0.1:{systems.daemon_port}")
    assert setup.returncode == 0, setup.stderr + setup.stdout
    started = time.time()
    seconds = latencies(catalog, shop, products["A"], [20 + n for n in range(CHANGES)])
    report("signed webhooks (module, commit -> shop)", seconds)
    # Every event left with the run its commit triggered, never with the next change (2 s
    # later) or the cron's minute: the outbox says when each was queued and sent.
    events = odoo.env["woodoo.webhook.event"].search_read(
        [("create_date", ">=", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started - 1)))],
        ["create_date", "sent_at", "state", "payload"])
    ours = [e for e in events if products["A"] in e["payload"]]
    assert len(ours) >= CHANGES and all(e["state"] == "sent" for e in ours)
    waited = [(_time(e["sent_at"]) - _time(e["create_date"])) for e in ours]
    assert max(waited) < 2, waited


def test_native_webhooks_bring_changes_too(products, daemon: Daemon, shop, catalog, systems):
    daemon.ensure_started()
    setup = daemon.cli("odoo", "setup-webhooks", "--mode", "native", "--url",
                       f"http://127.0.0.1:{systems.daemon_port}", "--token", systems.native_token)
    assert setup.returncode == 0, setup.stderr + setup.stdout
    try:
        seconds = latencies(catalog, shop, products["V-M"], [30 + n for n in range(CHANGES)])
        report("native webhooks (Odoo's action, change -> shop)", seconds)
    finally:
        back = daemon.cli("odoo", "setup-webhooks", "--mode", "signed", "--url",
                          f"http://127.0.0.1:{systems.daemon_port}")
        assert back.returncode == 0, back.stderr


def test_negative_and_empty_shop_figures_are_written_over(products, daemon: Daemon, shop,
                                                          catalog, systems, mailbox, tmp_path):
    """As seen on the real shop: a backordered product at -2 and an empty figure, read by a
    `woodoo sync` together with another SKU's change, made it exit 1 (FrozenInstanceError)."""
    daemon.stop()  # the webhook path would write these first: this is `woodoo sync` alone
    try:
        backordered, empty = products["B"], products["V-S"]
        real.ok(shop.put(f"products/{catalog.catalog.shop_ids[backordered]}",
                         {"backorders": "notify", "stock_quantity": -2}))
        assert shown(shop, catalog, backordered) == (-2, "onbackorder")
        if systems.mysql:
            # An empty figure on a managed product: what an import or a direct edit leaves
            # (the REST API and wp-admin store 0 for an empty field).
            real.mysql(systems, f"update {PREFIX}postmeta set meta_value = '' where post_id = "
                                f"{catalog.catalog.shop_ids[empty]} and meta_key = '_stock'")
            assert shown(shop, catalog, empty)[0] is None
        catalog.set_on_hand(backordered, 6)
        catalog.set_on_hand(empty, 3)
        catalog.set_on_hand(products["A"], 44)  # and another SKU, in the same push
        # A state of its own: its first read of the shop learns -2 and the empty figure.
        fresh = Daemon(tmp_path, real.daemon_config(
            systems, catalog.catalog.prefix, systems.odoo_url, mailbox[1],
            tmp_path / "fresh.sqlite"))
        result = fresh.cli("sync")
        assert result.returncode == 0, result.stderr + result.stdout
        assert shown(shop, catalog, backordered) == (6, "instock")
        assert shown(shop, catalog, empty) == (3, "instock")
        assert shown(shop, catalog, products["A"])[0] == 44
        again = fresh.cli("sync")
        assert again.returncode == 0, again.stderr + again.stdout
    finally:
        daemon.ensure_started()


def _time(value: str) -> float:
    """Unix seconds of an Odoo datetime string (UTC, microseconds optional)."""
    from datetime import UTC, datetime
    text = value if "." in value else f"{value}.0"
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
