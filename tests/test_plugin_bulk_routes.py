"""The plugin's bulk routes (catalog, bulk stock writes) are signed for routes of their own.

The routes themselves are tested on a real WordPress and MariaDB by wp-plugin/tests-integration
(./dev test); here the daemon's constants meet the shared vectors the plugin checks too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from woodoo.gateways import shop_items
from woodoo.simulators.woocommerce import plugin as simulated_plugin
from woodoo.web import signing

VECTORS = json.loads((Path(__file__).parent / "vectors" / "signatures.json").read_text("utf-8"))
PLUGIN_ROUTES = [signing.PLUGIN_STOCK, signing.PLUGIN_FLUSH, signing.PLUGIN_CATALOG,
                 signing.PLUGIN_STOCK_BULK]


def test_the_routes_are_the_vectors() -> None:
    assert VECTORS["routes"]["plugin_catalog"] == signing.PLUGIN_CATALOG == "POST /woodoo/v1/catalog"
    assert VECTORS["routes"]["plugin_stock_bulk"] == signing.PLUGIN_STOCK_BULK
    assert signing.PLUGIN_STOCK_BULK == "POST /woodoo/v1/stock/bulk"


@pytest.mark.parametrize("route", [signing.PLUGIN_CATALOG, signing.PLUGIN_STOCK_BULK])
def test_a_signature_for_one_plugin_route_is_refused_on_the_others(route: str) -> None:
    [case] = [c for c in VECTORS["cases"] if c["valid"] and c["route"] == route]
    body = case["body"].encode("utf-8")
    for other in PLUGIN_ROUTES:
        if other == route:
            assert signing.verify(body, case["header"], [case["secret"]], other,
                                  now=case["timestamp"]) == case["timestamp"]
        else:
            with pytest.raises(signing.SignatureError):
                signing.verify(body, case["header"], [case["secret"]], other, now=case["timestamp"])
    assert json.loads(body)["request_id"] == "5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f"


def test_the_catalog_names_are_cut_alike_by_the_plugin_its_simulator_and_the_daemon() -> None:
    source = (Path(__file__).parent.parent / "wp-plugin" / "woodoo-companion" / "includes"
              / "class-woodoo-bulk-route.php").read_text("utf-8")
    [plugin] = re.findall(r"const NAME_CHARS\s*=\s*(\d+);", source)
    assert int(plugin) == simulated_plugin.CATALOG_NAME_CHARS == shop_items.NAME_CHARS
