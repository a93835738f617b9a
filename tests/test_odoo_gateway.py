"""The Odoo gateway on each Odoo version's behaviour: warehouse filtering and storable products."""

from __future__ import annotations

import json

import pytest

from woodoo.config import OdooConfig
from woodoo.gateways.odoo import OdooError, OdooGateway, OdooSetupError
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


@pytest.mark.parametrize(("row", "says"), [
    ("WDG-1001", "answered a str where a product belongs"),
    ({"id": "7", "default_code": "WDG-1001", "free_qty": 5.0}, "id that is not an Odoo id: '7'"),
    ({"id": 2**31, "default_code": "WDG-1001", "free_qty": 5.0}, "id that is not an Odoo id"),
    ({"id": 7, "default_code": "WDG-1001", "free_qty": "5"}, "free_qty that is not a number: '5'"),
    ({"id": 7, "default_code": "WDG-1001", "free_qty": None}, "free_qty that is not a number"),
    ({"id": 7, "default_code": "WDG-1001", "free_qty": float("inf")}, "not a number: 'inf'"),
])
def test_a_product_read_odoo_answers_oddly_is_a_clear_error(row, says):
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        connected = gateway(simulator, ["WH"])
        answer = {"jsonrpc": "2.0", "id": 1, "result": [row]}
        simulator.server.faults.fail_next(status=200, body=json.dumps(answer).encode(),
                                          headers={"Content-Type": "application/json"},
                                          path_prefix="/jsonrpc")
        with pytest.raises(OdooError, match=says):
            connected.read_products([7])  # Odoo's own figure (a full read sums quants)


def test_products_without_an_sku_are_left_out_not_refused():
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        connected = gateway(simulator, ["WH"])
        rows = [{"id": 7, "default_code": False, "free_qty": "odd"},
                {"id": 8, "default_code": "  ", "free_qty": None},
                {"id": 9, "default_code": " WDG-9 ", "free_qty": 4}]
        simulator.server.faults.fail_next(
            status=200, body=json.dumps({"jsonrpc": "2.0", "id": 1, "result": rows}).encode(),
            headers={"Content-Type": "application/json"}, path_prefix="/jsonrpc")
        [product] = connected.read_products([7, 8, 9])
        assert (product.id, product.sku, product.figure) == (9, "WDG-9", 4.0)
