"""free_qty summed from quants on a full read: the same figures as Odoo's own, far fewer
figures computed by Odoo, and `woodoo check` comparing a sample both ways."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from woodoo.check import compare_figures
from woodoo.cli import main
from woodoo.config import OdooConfig
from woodoo.gateways import quant_figures
from woodoo.gateways.odoo import OdooGateway, OdooProduct
from woodoo.gateways.retry import RetryPolicy
from woodoo.simulators.odoo import OdooSimulator


def gateway(simulator: OdooSimulator, warehouses: list[str], **options: Any) -> OdooGateway:
    config = OdooConfig(url=simulator.url, database=simulator.database,
                        username=simulator.login, password=simulator.password,
                        warehouses=warehouses, **options)
    connected = OdooGateway(config, RetryPolicy(1, 0.01))
    connected.connect()
    return connected


def figure_reads(simulator: OdooSimulator) -> list[list[Any]]:
    """The domains of the product reads that made Odoo compute free_qty."""
    return [call.args[0] for call in simulator.calls
            if call.model == "product.product" and call.model_method == "search_read"
            and "free_qty" in (call.kwargs or {}).get("fields", [])]


@pytest.mark.parametrize("version", ["18.0", "19.0"])
def test_a_full_read_sums_quants_and_equals_odoos_own_free_qty(version):
    with OdooSimulator(version=version) as simulator:
        ids = simulator.load_catalog()
        simulator.reserve("WDG-1002", "RET", 7)  # reservations in both warehouses
        simulator.reserve("TSH-S-RED", "WH", 40)  # all of it
        simulator.set_on_hand("WDG-1003", "WH", 2.5)  # a fraction: Odoo's rounding decides
        connected = gateway(simulator, ["WH", "RET"])
        simulator.reset_calls()
        full = {p.id: p for p in connected.read_products()}
        computed = figure_reads(simulator)
        own = {p.id: p.figure for p in connected.read_products(sorted(full))}
    assert {p.id: p.figure for p in full.values()} == own
    assert own[ids["WDG-1002"]] == 93 and own[ids["TSH-S-RED"]] == 10
    assert own[ids["WDG-1003"]] == 2.5 and ids["GIFT-WRAP"] not in full  # consumable: not read
    # Odoo computed free_qty for the fraction only, in one read of that one id.
    assert computed == [[["default_code", "!=", False], ["is_storable", "=", True],
                         ["id", "in", [ids["WDG-1003"]]]]]


def test_product_pages_sum_quants_too():
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        simulator.reserve("WDG-1001", "WH", 15)
        connected = gateway(simulator, ["WH"], page_size=10)
        simulator.reset_calls()
        pages = list(connected.product_pages())
        assert not figure_reads(simulator)
        assert [len(page) for page in pages] == [10]
        assert {p.sku: p.figure for p in pages[0]}["WDG-1001"] == 100
        assert {p.sku: p.figure for p in pages[0]} == {
            p.sku: simulator.free_qty(p.sku, ["WH"]) for p in pages[0]}


def test_another_stock_field_is_odoos_own_figure():
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        simulator.reserve("WDG-1001", "WH", 15)
        connected = gateway(simulator, ["WH"], stock_field="qty_available")
        simulator.reset_calls()
        figures = {p.sku: p.figure for p in connected.read_products()}
        assert not simulator.call_count("stock.quant")
    assert figures["WDG-1001"] == 120  # on hand: the reservation does not count


@pytest.mark.parametrize(("total", "figure"), [
    (12.0, 12.0), (11.9999999999, 12.0), (0.0, 0.0), (-3.0, -3.0), (2.5, None), (0.3, None)])
def test_only_a_whole_sum_is_taken_as_the_figure(total, figure):
    assert quant_figures.exact(total) == figure


@pytest.mark.parametrize(("rounding", "divides"), [
    (0.01, True), (1.0, True), (0.5, True), (0.001, True), (0.3, False), (5.0, False),
    (0.0, False), (-1.0, False), (None, False), ("0.01", False)])
def test_a_unit_rounds_an_integer_to_itself_when_its_rounding_divides_one(rounding, divides):
    assert quant_figures.divides_one(rounding) is divides


def test_check_says_the_sample_agrees(make_config_file):
    result = CliRunner().invoke(main, ["check", "-c", str(make_config_file())])
    assert result.exit_code == 0, result.output
    assert ("odoo stock figures: free_qty summed from quants, compared with Odoo's own: the same "
            "for all 10 sampled products") in result.output


def test_check_names_a_product_whose_figures_differ():
    with OdooSimulator() as simulator:
        ids = simulator.load_catalog()
        connected = gateway(simulator, ["WH"])
        read = connected.read_products()
        wrong = [p if p.sku != "WDG-1001" else OdooProduct(p.id, p.sku, 999.0) for p in read]
        said, differ = compare_figures(connected, wrong)
    assert differ == ["WDG-1001: free_qty summed from quants 999, Odoo's own 115"]
    assert said.endswith(f"{len(read) - 1} of {len(read)} sampled products agree")
    assert ids["WDG-1001"] in {p.id for p in read}
