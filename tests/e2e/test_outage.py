"""Odoo stopped for a few minutes under a running daemon (a relay the suite cuts: the real Odoo
keeps running): few calls while it is down, an alert, an all-clear, and nothing lost."""

from __future__ import annotations

import time

from tests.e2e import systems as real
from tests.e2e.systems import CatalogMaker, Daemon, OdooProxy, shown

DOWN_SECONDS = 150


def test_odoo_down_for_minutes_costs_few_calls_alerts_and_recovers(
        catalog: CatalogMaker, daemon: Daemon, mailbox, shop, odoo_proxy: OdooProxy, systems):
    sku = catalog.simple("O", 8)
    assert daemon.cli("sync", "--full").returncode == 0
    daemon.start()
    setup = daemon.cli("odoo", "setup-webhooks", "--mode", "signed", "--url",
                       f"http://127.0.0.1:{systems.daemon_port}")
    assert setup.returncode == 0, setup.stderr
    received = len(mailbox[0].messages)
    odoo_proxy.cut()
    catalog.set_on_hand(sku, 13)  # its signed event reaches the daemon, which cannot read Odoo
    time.sleep(DOWN_SECONDS)
    calls = odoo_proxy.refused
    print(f"Odoo down {DOWN_SECONDS} s: {calls} calls reached it")
    assert calls <= 10
    alerts = mailbox[0].messages[received:]
    assert any("[Woodoo] ALERT" in m and "Odoo" in m for m in alerts), alerts
    odoo_proxy.mend()
    back = real.wait_for(lambda: shown(shop, catalog, sku)[0] == 13, timeout=120, every=0.2)
    print(f"the change reached the shop {back:.1f} s after Odoo was back")
    real.wait_for(lambda: any("[Woodoo] cleared" in m for m in mailbox[0].messages[received:]),
                  timeout=120)
