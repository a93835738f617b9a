"""The Odoo gateway on each Odoo version's behaviour: warehouse filtering and storable products."""

from __future__ import annotations

import pytest

from woodoo.config import OdooConfig
from woodoo.gateways.odoo import OdooGateway, OdooSetupError
from woodoo.gateways.retry import RetryPolicy
from woodoo.simulators.odoo import OdooSimulator


def gateway(simulator: OdooSimulator, warehouses: list[str],
            password: str | None = None) -> OdooGateway:
    config = OdooConfig(url=simulator.url, database=simulator.database,
                        username=simulator.login, password=password or simulator.password,
                        warehouses=warehouses)
    connected = OdooGateway(config, RetryPolicy(1, 0.01))
    connected.connect()
    return connected


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_figures_are_restricted_to_the_configured_warehouses_on_every_version(version):
    with OdooSimulator(version=version) as simulator:
        simulator.load_catalog()
        wh = {p.sku: p.figure for p in gateway(simulator, ["WH"]).read_products()}
        both = {p.sku: p.figure for p in gateway(simulator, ["WH", "RET"]).read_products()}
    assert (wh["WDG-1001"], wh["WDG-1006"], wh["TSH-M-BLU"]) == (115, 0, 22)
    assert (both["WDG-1001"], both["WDG-1006"]) == (150, 25)
    assert "GIFT-WRAP" not in wh  # a consumable: no stock to sync


def test_api_key_logs_in_like_a_password():
    with OdooSimulator(api_key="k" * 40) as simulator:
        simulator.load_catalog()
        connected = gateway(simulator, ["Main Warehouse"], password="k" * 40)
        assert connected.warehouses[0].code == "WH"
        assert {p.sku for p in connected.read_products()} >= {"WDG-1001"}


def test_an_unknown_warehouse_names_the_known_ones():
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        with pytest.raises(OdooSetupError) as caught:
            gateway(simulator, ["WH", "RETAIL"])
    assert caught.value.problems == [
        "odoo.warehouses[1]: no warehouse 'RETAIL' in Odoo; known: WH, RET"]
