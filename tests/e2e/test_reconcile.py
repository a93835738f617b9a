"""The reconciliation on the real systems: hand-made drift corrected and reported by email."""

from __future__ import annotations

from tests.e2e import systems as real
from tests.e2e.systems import CatalogMaker, Daemon, free_qty, shown


def test_drift_made_by_hand_is_corrected_and_emailed(catalog: CatalogMaker, daemon: Daemon,
                                                     mailbox, shop, odoo):
    skus = [catalog.simple("R1", 11), catalog.simple("R2", 0)]
    assert daemon.cli("sync", "--full").returncode == 0
    daemon.start()
    real.ok(shop.put(f"products/{catalog.catalog.shop_ids[skus[0]]}", {"stock_quantity": 99}))
    real.ok(shop.put(f"products/{catalog.catalog.shop_ids[skus[1]]}", {"stock_quantity": 5}))
    received = len(mailbox[0].messages)
    result = daemon.cli("reconcile")
    assert result.returncode == 0, result.stderr + result.stdout
    assert shown(shop, catalog, skus[0]) == (free_qty(odoo, catalog, skus[0]), "instock") == (
        11, "instock")
    assert shown(shop, catalog, skus[1]) == (0, "outofstock")
    real.wait_for(lambda: len(mailbox[0].messages) > received, timeout=60)
    report = "\n".join(mailbox[0].messages[received:])
    assert skus[0] in report and skus[1] in report
