"""Behaviour of the Odoo simulator beyond the recordings: transactions, versions, stock, domains."""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import odoorpc
import pytest
import requests

from woodoo.simulators.clock import ManualClock
from woodoo.simulators.odoo import (
    CUSTOMERS,
    INVENTORY_ADJUSTMENT,
    OdooSimulator,
)

SEEDED = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "odoo18" / "seeded_state.json").read_text())
T0 = datetime(2026, 3, 2, 9, 30, 0, 250_000)  # microseconds on purpose: RPC shows seconds only
QTY_FIELDS = ["qty_available", "free_qty", "virtual_available"]


class Fault(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["data"]["message"])
        self.error = error
        self.name = error["data"]["name"]


def post(sim: OdooSimulator, path: str, params: dict[str, Any], **options: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}
    return requests.post(sim.url + path, json=body, timeout=10, **options).json()


def rpc(sim: OdooSimulator, model: str, method: str, *args: Any, password: str = "admin",
        **kwargs: Any) -> Any:
    """object.execute_kw over raw JSON-RPC; raise Fault on an error answer."""
    answer = post(sim, "/jsonrpc", {"service": "object", "method": "execute_kw",
                                    "args": [sim.database, 2, password, model, method,
                                             list(args), kwargs]})
    if "error" in answer:
        raise Fault(answer["error"])
    return answer.get("result")


def figures(sim: OdooSimulator, sku: str, context: dict[str, Any] | None = None) -> list[float]:
    """[on hand, free, forecast] of one product, read over RPC with `context`."""
    options: dict[str, Any] = {"fields": QTY_FIELDS}
    if context is not None:
        options["context"] = context
    [row] = rpc(sim, "product.product", "search_read", [("default_code", "=", sku)], **options)
    return [row[name] for name in QTY_FIELDS]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def demo(clock: ManualClock, version: str = "18.0", **options: Any) -> OdooSimulator:
    simulator = OdooSimulator(version=version, clock=clock, **options)
    simulator.load_catalog()
    return simulator


@pytest.fixture
def sim(clock) -> Iterator[OdooSimulator]:
    """Odoo 18 with the demo catalog (WH and RET)."""
    with demo(clock) as simulator:
        yield simulator


# -- transactions ------------------------------------------------------------------------------

def test_odoo_transaction_commits_late_with_its_start_time_as_write_date(sim, clock):
    clock.advance(60)
    start = clock.now
    with sim.transaction():
        sim.set_on_hand("WDG-1002", "WH", 61)
        sim.reserve("WDG-1003", "WH", 4)
        clock.advance(5)
        # Not committed yet: RPC readers see the old state and no new rows.
        assert figures(sim, "WDG-1002", {"warehouse_id": 1}) == [80, 80, 80]
        assert rpc(sim, "stock.quant", "search", [("write_date", ">=", stamp(start))]) == []
        assert sim.free_qty("WDG-1002", ["WH"]) == 80
        seen_during = clock.now
    assert figures(sim, "WDG-1002", {"warehouse_id": 1}) == [61, 61, 61]
    assert figures(sim, "WDG-1003", {"warehouse_id": 1}) == [45, 41, 41]
    quants = rpc(sim, "stock.quant", "search_read", [("write_date", ">=", stamp(start))],
                 fields=["product_id", "location_id", "write_date"])
    moves = rpc(sim, "stock.move", "search_read", [("write_date", ">=", stamp(start))],
                fields=["write_date"])
    assert {q["location_id"][0] for q in quants} == {8, INVENTORY_ADJUSTMENT}
    assert {r["write_date"] for r in quants + moves} == {stamp(start)}  # start, in seconds
    # The late-commit trap: a reader that saw `seen_during` as newest finds the rows older.
    assert rpc(sim, "stock.quant", "search", [("write_date", ">=", stamp(seen_during))]) == []


def test_odoo_transaction_rolls_back_on_an_exception(sim, clock):
    with pytest.raises(RuntimeError), sim.transaction():
        sim.set_on_hand("WDG-1002", "WH", 1)
        raise RuntimeError("boom")
    assert sim.free_qty("WDG-1002", ["WH"]) == 80
    sim.set_on_hand("WDG-1002", "WH", 2)  # outside any transaction: visible at once
    assert sim.free_qty("WDG-1002", ["WH"]) == 2


def test_odoo_transaction_can_create_and_stock_a_product_and_nests(sim, clock):
    with sim.transaction():
        product_id = sim.add_product("NEW-1", "New Lamp")
        with sim.transaction():  # joins the outer one
            sim.set_on_hand("NEW-1", "WH", 9)
        assert rpc(sim, "product.product", "search", [("default_code", "=", "NEW-1")]) == []
    assert rpc(sim, "product.product", "search", [("default_code", "=", "NEW-1")]) == [
        product_id]
    assert figures(sim, "NEW-1", {"warehouse_id": 1}) == [9, 9, 9]


# -- versions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_odoo_versions_report_themselves(clock, version):
    with demo(clock, version) as simulator:
        client = odoorpc.ODOO("127.0.0.1", port=simulator.server.port, timeout=10)
        assert client.version == version
        answer = post(simulator, "/jsonrpc", {"service": "common", "method": "version",
                                              "args": []})
        assert answer["result"]["server_serie"] == version
        assert answer["result"]["server_version_info"][:2] == [int(version[:2]), 0]


def test_odoo18_honours_warehouse_id_and_silently_ignores_warehouse(sim):
    assert figures(sim, "WDG-1001", {"warehouse_id": 1}) == [120, 115, 115]
    assert figures(sim, "WDG-1001", {"warehouse_id": "Retail"}) == [35, 35, 35]
    assert figures(sim, "WDG-1001", {"warehouse": 2}) == [155, 150, 150]  # every warehouse
    assert figures(sim, "WDG-1001") == [155, 150, 150]


@pytest.mark.parametrize("version", ["16.0", "17.0"])
def test_odoo16_and_17_honour_warehouse_and_ignore_warehouse_id(clock, version):
    with demo(clock, version) as simulator:
        assert figures(simulator, "WDG-1001", {"warehouse": 1}) == [120, 115, 115]
        assert figures(simulator, "WDG-1001", {"warehouse": "Retail"}) == [35, 35, 35]
        assert figures(simulator, "WDG-1001", {"warehouse_id": 2}) == [155, 150, 150]


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_odoo_location_context_is_honoured_in_every_version(clock, version):
    with demo(clock, version) as simulator:
        assert figures(simulator, "WDG-1001", {"location": 8}) == [120, 115, 115]
        assert figures(simulator, "WDG-1001", {"location": [7, 17]}) == [155, 150, 150]
        assert figures(simulator, "WDG-1001", {"location": "RET/Stock"}) == [35, 35, 35]


def test_odoo_warehouse_plus_location_differs_between_16_and_17_18(clock):
    """16 intersects ids (view & stock: nothing, so no location filter at all); 17/18 keep the
    given locations that lie inside the warehouse."""
    with demo(clock, "16.0") as v16, demo(clock, "17.0") as v17, demo(clock, "18.0") as v18:
        # 16: {7} & {8} is empty -> every quant counts, the inventory-adjustment ones included
        assert figures(v16, "WDG-1002", {"warehouse": 1, "location": 8}) == [0, 0, 0]
        assert figures(v16, "WDG-1002", {"warehouse": 1, "location": 7}) == [80, 80, 80]
        assert figures(v17, "WDG-1002", {"warehouse": 1, "location": 8}) == [80, 80, 80]
        assert figures(v17, "WDG-1002", {"warehouse": 1, "location": 18}) == [0, 0, 0]
        assert figures(v18, "WDG-1002", {"warehouse_id": 1, "location": 8}) == [80, 80, 80]
        assert figures(v18, "WDG-1002", {"warehouse_id": 1, "location": 18}) == [0, 0, 0]


@pytest.mark.parametrize("version", ["16.0", "17.0"])
def test_odoo_before_18_storables_are_type_product_and_is_storable_is_unknown(clock, version):
    with demo(clock, version) as simulator:
        rows = rpc(simulator, "product.product", "search_read", [("type", "=", "product")],
                   fields=["default_code"])
        assert "WDG-1001" in {r["default_code"] for r in rows}
        assert "GIFT-WRAP" not in {r["default_code"] for r in rows}
        with pytest.raises(Fault) as raised:
            rpc(simulator, "product.product", "search", [("is_storable", "=", True)])
        assert raised.value.name == "builtins.ValueError"
        assert str(raised.value) == ("Invalid field product.product.is_storable in leaf "
                                     "('is_storable', '=', True)")
        with pytest.raises(Fault) as raised:
            rpc(simulator, "product.product", "search_read", [], fields=["is_storable"])
        assert str(raised.value) == "Invalid field 'is_storable' on model 'product.product'"


def test_odoo18_storables_are_consu_with_is_storable(sim):
    rows = rpc(sim, "product.product", "search_read", [("default_code", "in", ["WDG-1001",
                                                                                "GIFT-WRAP"])],
               fields=["default_code", "type", "is_storable"], order="default_code")
    assert [(r["default_code"], r["type"], r["is_storable"]) for r in rows] == [
        ("GIFT-WRAP", "consu", False), ("WDG-1001", "consu", True)]
    assert rpc(sim, "product.product", "search", [("type", "=", "product")]) == []
    with pytest.raises(Fault) as raised:
        rpc(sim, "product.product", "search", [("type", "=", "consu"), ("nope", "=", 1)])
    assert str(raised.value) == "Invalid field product.product.nope in leaf ('nope', '=', 1)"


def test_odoo_name_get_and_search_count_exist_only_before_17(clock):
    with demo(clock, "16.0") as v16, demo(clock, "17.0") as v17:
        assert rpc(v16, "product.product", "name_get", [1]) == [
            [1, "[WDG-1001] Bamboo Cutting Board"]]
        with pytest.raises(Fault) as raised:
            rpc(v17, "product.product", "name_get", [1])
        assert raised.value.name == "builtins.AttributeError"
        assert rpc(v16, "product.product", "search", [], count=True) == 11  # gone in 17
        with pytest.raises(Fault) as raised:
            rpc(v17, "product.product", "search", [], count=True)
        assert raised.value.name == "builtins.TypeError"


def test_odoo16_moves_have_quantity_done_not_quantity(clock):
    with demo(clock, "16.0") as simulator:
        rows = rpc(simulator, "stock.move", "search_read", [("state", "=", "assigned")],
                   fields=["quantity_done", "reserved_availability", "product_uom_qty"])
        assert {(r["quantity_done"], r["reserved_availability"]) for r in rows} == {
            (0.0, 5.0), (0.0, 3.0)}
        with pytest.raises(Fault) as raised:
            rpc(simulator, "stock.move", "search_read", [], fields=["quantity"])
        assert str(raised.value) == "Invalid field 'quantity' on model 'stock.move'"


# -- consumables ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["16.0", "18.0"])
def test_odoo_consumables_and_services_have_no_stock_anywhere(clock, version):
    with demo(clock, version) as simulator:
        simulator.add_product("SERVICE-1", "Gift message", product_type="service")
        for context in (None, {"location": [7, 17]}, {"location": CUSTOMERS},
                        {"warehouse_id": 1}, {"warehouse": 2}):
            assert figures(simulator, "GIFT-WRAP", context) == [0, 0, 0]
            assert figures(simulator, "SERVICE-1", context) == [0, 0, 0]
        with pytest.raises(ValueError, match="not storable"):
            simulator.set_on_hand("GIFT-WRAP", "WH", 5)
        [row] = rpc(simulator, "product.product", "search_read",
                    [("default_code", "=", "GIFT-WRAP")], fields=["type"])
        assert row["type"] == "consu"


# -- stock operations -------------------------------------------------------------------------

def test_odoo_inventory_adjustment_writes_quants_and_a_done_move_but_not_the_product(sim, clock):
    [before] = rpc(sim, "product.product", "search_read", [("default_code", "=", "WDG-1002")],
                   fields=["write_date"])
    clock.advance(30)
    sim.set_on_hand("WDG-1002", "WH", 70)
    quants = rpc(sim, "stock.quant", "search_read", [("product_id.default_code", "=", "WDG-1002")],
                 fields=["location_id", "warehouse_id", "quantity", "available_quantity",
                         "write_date"], order="id")
    by_location = {q["location_id"][1]: q for q in quants}
    assert by_location["WH/Stock"]["quantity"] == 70
    assert by_location["WH/Stock"]["warehouse_id"] == [1, "Main Warehouse"]
    inventory = by_location["Virtual Locations/Inventory adjustment"]
    assert (inventory["quantity"], inventory["warehouse_id"]) == (-90, False)  # -100 + 10
    assert inventory["available_quantity"] == -90
    [move] = rpc(sim, "stock.move", "search_read", [("write_date", ">=", stamp(clock.now))],
                 fields=["state", "product_uom_qty", "quantity", "location_id",
                         "location_dest_id", "reference", "origin", "picking_id"])
    assert move == {"id": move["id"], "state": "done", "product_uom_qty": 10.0, "quantity": 10.0,
                    "location_id": [8, "WH/Stock"],
                    "location_dest_id": [14, "Virtual Locations/Inventory adjustment"],
                    "reference": "Product Quantity Updated", "origin": False,
                    "picking_id": False}
    [after] = rpc(sim, "product.product", "search_read", [("default_code", "=", "WDG-1002")],
                  fields=["write_date"])
    assert after == before  # a stock change does not touch the product (recorded)


def test_odoo_reservation_lowers_free_and_forecast_not_on_hand(sim):
    sim.reserve("WDG-1002", "WH", 6, origin="S00042")
    assert figures(sim, "WDG-1002", {"warehouse_id": 1}) == [80, 74, 74]
    assert figures(sim, "WDG-1002", {"warehouse_id": 2}) == [20, 20, 20]
    [row] = rpc(sim, "product.product", "search_read", [("default_code", "=", "WDG-1002")],
                fields=["outgoing_qty", "incoming_qty"], context={"warehouse_id": 1})
    assert (row["outgoing_qty"], row["incoming_qty"]) == (6, 0)
    [move] = rpc(sim, "stock.move", "search_read", [("origin", "=", "S00042")],
                 fields=["state", "location_dest_id", "quantity", "reference", "picking_id"])
    assert move["state"] == "assigned"
    assert move["location_dest_id"] == [CUSTOMERS, "Partners/Customers"]
    assert move["picking_id"][1] == move["reference"]
    assert move["reference"].startswith("WH/OUT/")


def test_odoo_reservation_is_limited_to_what_is_free(sim):
    sim.reserve("WDG-1003", "WH", 50)  # 45 on hand
    assert figures(sim, "WDG-1003", {"warehouse_id": 1}) == [45, 0, -5]
    [move] = rpc(sim, "stock.move", "search_read",
                 [("product_id.default_code", "=", "WDG-1003"), ("state", "!=", "done")],
                 fields=["state", "product_uom_qty", "quantity"])
    assert (move["state"], move["product_uom_qty"], move["quantity"]) == (
        "partially_available", 50, 45)


def test_odoo_delivery_moves_reserved_goods_to_the_customer(sim):
    sim.deliver("WDG-1001", "WH", 5)  # the 5 reserved in the demo catalog
    assert figures(sim, "WDG-1001", {"warehouse_id": 1}) == [115, 115, 115]
    assert figures(sim, "WDG-1001", {"location": CUSTOMERS}) == [5, 5, 5]
    moves = rpc(sim, "stock.move", "search_read",
                [("product_id.default_code", "=", "WDG-1001"),
                 ("location_dest_id.usage", "=", "customer")], fields=["state"])
    assert [m["state"] for m in moves] == ["done"]
    sim.reserve("WDG-1001", "WH", 10)
    sim.deliver("WDG-1001", "WH", 4)  # part of it: the rest stays reserved
    assert figures(sim, "WDG-1001", {"warehouse_id": 1}) == [111, 105, 105]


def test_odoo_free_qty_helper_matches_rpc(sim):
    for sku in ("WDG-1001", "TSH-M-BLU", "WDG-1006"):
        assert sim.free_qty(sku, ["WH"]) == figures(sim, sku, {"warehouse_id": 1})[1]
        assert sim.free_qty(sku) == figures(sim, sku)[1]
        assert sim.free_qty(sku, ["WH", "RET"]) == figures(sim, sku)[1]


# -- domains, ordering, reading ----------------------------------------------------------------

def skus(sim: OdooSimulator, domain: list[Any], **options: Any) -> list[str]:
    rows = rpc(sim, "product.product", "search_read", domain, fields=["default_code"],
               order=options.pop("order", "default_code"), **options)
    return [r["default_code"] for r in rows]


def test_odoo_domain_operators(sim):
    assert skus(sim, ["|", ("default_code", "=", "WDG-1001"), ("default_code", "=", "WDG-1002")]
                ) == ["WDG-1001", "WDG-1002"]
    assert skus(sim, ["&", ("default_code", "like", "TSH"), "!", ("default_code", "ilike", "blu")]
                ) == ["TSH-L-BLK", "TSH-S-RED"]
    assert skus(sim, [("default_code", "=like", "TSH-_-R%")]) == ["TSH-S-RED"]
    assert skus(sim, [("default_code", "like", "tsh")]) == []  # like is case-sensitive
    assert skus(sim, [("name", "ilike", "t-shirt")]) == ["TSH-L-BLK", "TSH-M-BLU", "TSH-S-RED"]
    assert skus(sim, [("name", "=ilike", "linen apron")]) == ["WDG-1004"]
    assert len(skus(sim, [("default_code", "not in", ["WDG-1001", "WDG-1002"])])) == 9
    assert skus(sim, [("id", "<=", 2)]) == ["WDG-1001", "WDG-1002"]
    assert skus(sim, [("id", ">", 9), ("id", "<", 11)]) == ["TSH-L-BLK"]
    assert skus(sim, [("default_code", "=", False)]) == []
    assert len(skus(sim, [("barcode", "in", [False])])) == 11
    assert skus(sim, [("is_storable", "=", False)]) == ["GIFT-WRAP"]
    assert skus(sim, [("qty_available", ">", 100)], context={"warehouse_id": 1}) == [
        "WDG-1001", "WDG-1005"]


def test_odoo_like_patterns_escape_with_a_backslash_as_postgresql_does(sim):
    """Odoo passes `=ilike` values to PostgreSQL's ILIKE unchanged: `%` and `_` are wildcards
    and a backslash makes the next character literal (odoo.tools.sql.escape_psql relies on it)."""
    dot = sim.add_partner("Dot", email="victim.doe@example.com")
    under = sim.add_partner("Under", email="victim_doe@example.com")
    slash = sim.add_partner("Slash", email="a\\b@x.org")

    def emails(operator: str, value: str) -> list[int]:
        return rpc(sim, "res.partner", "search", [("email", operator, value)], order="id")

    assert emails("=ilike", "victim_doe@example.com") == [dot, under]  # `_`: any one character
    assert emails("=ilike", "VICTIM\\_DOE@example.COM") == [under]
    assert emails("=ilike", "victim\\.doe@example.com") == [dot]  # `\.` is a plain `.`
    assert emails("=ilike", "%@example.com") == [dot, under]
    assert emails("=ilike", "\\%@example.com") == []
    assert emails("=ilike", "a\\\\b@x.org") == [slash]
    assert emails("ilike", "m\\_d") == [under]
    with pytest.raises(Fault) as refused:
        emails("=ilike", "victim\\")
    assert refused.value.name == "psycopg2.errors.InvalidEscapeSequence"
    assert str(refused.value) == "LIKE pattern must not end with escape character\n"


def test_odoo_domain_paths_and_hierarchy(sim):
    def quants(domain: list[Any]) -> set[tuple[str, str]]:
        rows = rpc(sim, "stock.quant", "search_read", domain, fields=["product_id", "location_id"])
        return {(r["product_id"][1].split("]")[0][1:], r["location_id"][1]) for r in rows}

    ret = quants([("location_id", "child_of", 17), ("product_id.default_code", "like", "WDG-100")])
    assert ret == {(s, "RET/Stock") for s in ("WDG-1001", "WDG-1002", "WDG-1004", "WDG-1005",
                                               "WDG-1006")}
    assert quants([("location_id", "child_of", "RET"), ("product_id", "=", 6)]) == {
        ("WDG-1006", "RET/Stock")}
    assert quants([("location_id.usage", "=", "inventory"), ("product_id", "=", 1)]) == {
        ("WDG-1001", "Virtual Locations/Inventory adjustment")}
    assert quants([("location_id", "=", "WH/Stock"), ("product_id.default_code", "=", "TSH-L-BLK")]
                  ) == {("TSH-L-BLK", "WH/Stock")}
    negative = rpc(sim, "stock.quant", "search_count", [("quantity", "<", 0)])
    assert negative == rpc(sim, "stock.quant", "search_count",
                           [("location_id.usage", "not in", ["internal", "transit"])])
    assert rpc(sim, "stock.location", "search", [("id", "parent_of", 8)], order="id") == [1, 7, 8]


def test_odoo_datetime_domains_compare_as_datetimes(sim, clock):
    clock.advance(3600)
    sim.set_on_hand("WDG-1004", "WH", 31)
    day = clock.now.strftime("%Y-%m-%d")
    assert rpc(sim, "stock.move", "search_count", [("write_date", ">=", day)]) > 0
    # Stored with microseconds as in PostgreSQL: later than its own second shown over RPC.
    assert rpc(sim, "stock.move", "search_count", [("write_date", ">", stamp(clock.now))]) == 1
    later = stamp(clock.now + timedelta(seconds=1))
    assert rpc(sim, "stock.move", "search_count", [("write_date", ">=", later)]) == 0
    with pytest.raises(Fault, match="Invalid datetime"):
        rpc(sim, "stock.move", "search", [("write_date", ">", "yesterday")])


def test_odoo_order_limit_offset_and_count(sim):
    everything = skus(sim, [], order="default_code desc")
    assert everything == sorted(everything, reverse=True)
    assert skus(sim, [], order="default_code desc", limit=2, offset=1) == everything[1:3]
    assert rpc(sim, "product.product", "search", [], order="id", limit=3) == [1, 2, 3]
    assert rpc(sim, "product.product", "search_count", []) == 11
    assert rpc(sim, "product.product", "search_count", [], limit=4) == 4
    with pytest.raises(Fault) as raised:
        rpc(sim, "product.product", "search", [], order="nope asc")
    assert str(raised.value) == "Invalid field 'nope' on model 'product.product'"


def test_odoo_active_test_hides_archived_records(sim):
    names = {r["complete_name"] for r in rpc(sim, "stock.location", "search_read", [],
                                             fields=["complete_name"])}
    assert "WH/Input" not in names and "WH/Stock" in names
    archived = rpc(sim, "stock.location", "search_read", [("active", "=", False)],
                   fields=["complete_name"])
    assert "WH/Input" in {r["complete_name"] for r in archived}
    everything = rpc(sim, "stock.location", "search_count", [], context={"active_test": False})
    assert everything == len(names) + len(archived)


def test_odoo_read_fields_get_and_missing_records(sim):
    rows = rpc(sim, "product.product", "read", [2, 1], ["default_code", "product_tmpl_id"])
    assert [r["default_code"] for r in rows] == ["WDG-1002", "WDG-1001"]
    assert list(rows[0]) == ["id", "default_code", "product_tmpl_id"]
    assert rpc(sim, "product.product", "read", [1], ["product_tmpl_id"], load=None)[0][
        "product_tmpl_id"] == rows[1]["product_tmpl_id"][0]
    with pytest.raises(Fault) as raised:
        rpc(sim, "product.product", "read", [999], ["name"])
    assert raised.value.name == "odoo.exceptions.MissingError"
    described = rpc(sim, "product.product", "fields_get", attributes=["type", "relation"])
    assert described["product_tmpl_id"] == {"type": "many2one", "relation": "product.template"}
    assert described["free_qty"] == {"type": "float"}
    assert described["write_date"] == {"type": "datetime"}
    assert {"stock.quant", "stock.move", "stock.location", "stock.warehouse"} <= set(
        r["model"] for r in rpc(sim, "ir.model", "search_read", [], fields=["model"]))


def test_odoo_variants_share_a_template_and_shop_only_items_are_absent(sim):
    rows = rpc(sim, "product.product", "search_read", [("default_code", "in", [
        "TSH-S-RED", "TSH-M-BLU", "WDG-1001"])], fields=["default_code", "product_tmpl_id"])
    templates = {r["default_code"]: r["product_tmpl_id"] for r in rows}
    assert templates["TSH-S-RED"] == templates["TSH-M-BLU"]
    assert templates["TSH-S-RED"][1] == "Organic Cotton T-Shirt"
    assert templates["WDG-1001"][1] == "[WDG-1001] Bamboo Cutting Board"
    assert rpc(sim, "product.product", "search", [("default_code", "=", "WOO-ONLY-1")]) == []


# -- errors and authentication ----------------------------------------------------------------

def test_odoo_errors_have_odoo_names(sim):
    cases = [
        (("res.nothing", "search", []), "odoo.exceptions.UserError"),
        (("product.product", "unlink_all", []), "builtins.AttributeError"),
        (("product.product", "_compute_quantities", []), "odoo.exceptions.AccessError"),
    ]
    for (model, method, args), name in cases:
        with pytest.raises(Fault) as raised:
            rpc(sim, model, method, *args)
        assert raised.value.name == name
        assert raised.value.error["code"] == 200
        assert raised.value.error["message"] == "Odoo Server Error"
    with pytest.raises(Fault) as raised:
        rpc(sim, "product.product", "search", [], bogus=1)
    assert raised.value.name == "builtins.TypeError"
    with pytest.raises(Fault) as raised:
        rpc(sim, "product.product", "search_count", [], password="wrong")
    assert (raised.value.name, str(raised.value)) == ("odoo.exceptions.AccessDenied",
                                                      "Access Denied")


def test_odoo_api_key_works_as_the_rpc_password(clock):
    with demo(clock, api_key="k" * 40) as simulator:
        assert rpc(simulator, "product.product", "search_count", [], password="k" * 40) == 11
        client = odoorpc.ODOO("127.0.0.1", port=simulator.server.port, timeout=10)
        client.login("woodoo", "admin", "k" * 40)
        assert client.env.uid == 2
        answer = post(simulator, "/web/session/authenticate",
                      {"db": "woodoo", "login": "admin", "password": "k" * 40})
        assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_odoo_login_answers_false_for_wrong_credentials_and_errors_for_a_wrong_database(sim):
    def login(*args: Any) -> dict[str, Any]:
        return post(sim, "/jsonrpc", {"service": "common", "method": "login", "args": list(args)})

    assert login("woodoo", "admin", "admin")["result"] == 2
    assert login("woodoo", "admin", "nope")["result"] is False
    assert login("woodoo", "someone", "admin")["result"] is False
    assert "error" in login("other_db", "admin", "admin")


def test_odoo_call_kw_needs_a_session(sim):
    params = {"model": "product.product", "method": "search_count", "args": [[]], "kwargs": {}}
    refused = post(sim, "/web/dataset/call_kw/product.product/search_count", params)
    assert refused["error"]["code"] == 100
    session = requests.Session()
    session.post(sim.url + "/web/session/authenticate", timeout=10, json={
        "jsonrpc": "2.0", "method": "call", "id": 1,
        "params": {"db": "woodoo", "login": "admin", "password": "admin"}})
    answer = session.post(sim.url + "/web/dataset/call_kw/product.product/search_count",
                          json={"jsonrpc": "2.0", "method": "call", "id": 2, "params": params},
                          timeout=10).json()
    assert answer == {"jsonrpc": "2.0", "id": 2, "result": 11}


def test_odoo_unknown_paths_and_methods_are_http_errors(sim):
    assert requests.post(sim.url + "/nope", json={}, timeout=10).status_code == 404
    assert requests.get(sim.url + "/jsonrpc", timeout=10).status_code == 405


# -- call log, outages -------------------------------------------------------------------------

def test_odoo_call_log_counts_rpcs_by_method_and_model(sim):
    client = odoorpc.ODOO("127.0.0.1", port=sim.server.port, timeout=10)
    client.login("woodoo", "admin", "admin")
    assert [(c.service, c.method, c.model_method) for c in sim.calls] == [
        ("web", "version_info", None), ("common", "login", None),
        ("object", "execute", "context_get")]
    sim.reset_calls()
    client.execute_kw("product.product", "search_read", [[]],
                      {"fields": ["free_qty"], "context": {"location": [7]}})
    client.execute_kw("stock.quant", "search", [[]])
    assert sim.call_count(method="execute_kw") == 2
    assert sim.call_count(model="product.product", method="search_read") == 1
    assert sim.call_count(model="stock.quant") == 1
    assert sim.calls[0].context == {"location": [7]}
    sim.reset_calls()
    assert sim.call_count() == 0


def test_odoo_going_down_refuses_connections_and_keeps_state(sim):
    client = odoorpc.ODOO("127.0.0.1", port=sim.server.port, timeout=10)
    client.login("woodoo", "admin", "admin")
    sim.set_on_hand("WDG-1002", "WH", 12)
    sim.server.go_down()
    with pytest.raises(urllib.error.URLError):
        client.execute_kw("product.product", "search_count", [[]])
    sim.server.come_back()
    assert figures(sim, "WDG-1002", {"warehouse_id": 1}) == [12, 12, 12]


# -- seeded state and scale -------------------------------------------------------------------

def test_odoo_seeded_state_is_rebuilt_with_the_recorded_ids_and_figures(clock):
    with OdooSimulator.from_seeded_state(SEEDED, clock=clock) as simulator:
        warehouses = rpc(simulator, "stock.warehouse", "search_read", [],
                         fields=["code", "name", "lot_stock_id", "view_location_id"])
        assert [[w["id"], w["code"], w["lot_stock_id"], w["view_location_id"]]
                for w in warehouses] == [[w["id"], w["code"], w["lot_stock_id"],
                                          w["view_location_id"]] for w in SEEDED["warehouses"]]
        for product in SEEDED["products"]:
            [row] = rpc(simulator, "product.product", "read", [product["id"]],
                        ["default_code", "display_name", "product_tmpl_id", "type",
                         "is_storable", "barcode"])
            for key in ("default_code", "display_name", "product_tmpl_id", "type",
                        "is_storable", "barcode"):
                assert row[key] == product[key], (product["id"], key)
            for warehouse in SEEDED["warehouses"]:
                assert figures(simulator, product["default_code"],
                               {"warehouse_id": warehouse["id"]}) == product[
                    "qty(on_hand,free,forecast)"][warehouse["code"]]
        internal = rpc(simulator, "stock.location", "search_read", [("usage", "=", "internal")],
                       fields=["complete_name", "warehouse_id"], order="complete_name")
        assert internal == SEEDED["internal_locations"]


def test_odoo_bulk_add_is_fast_and_pages_like_odoo(clock):
    with OdooSimulator(clock=clock) as simulator:
        simulator.add_warehouse("WH", "Main Warehouse")
        started = time.perf_counter()
        simulator.bulk_add(20_000, quantity=lambda i: i % 50)
        assert time.perf_counter() - started < 20
        assert simulator.free_qty("SKU-000000", ["WH"]) == 0  # i = 0, 1, ... count - 1
        assert simulator.free_qty("SKU-000001", ["WH"]) == 1
        assert simulator.free_qty("SKU-019999", ["WH"]) == 49
        client = odoorpc.ODOO("127.0.0.1", port=simulator.server.port, timeout=60)
        client.login("woodoo", "admin", "admin")
        rows: list[dict[str, Any]] = []
        started = time.perf_counter()
        while True:
            page = client.execute_kw(
                "product.product", "search_read",
                [[("default_code", "!=", False), ("is_storable", "=", True)]],
                {"fields": ["default_code", "free_qty"], "order": "id", "limit": 1000,
                 "offset": len(rows), "context": {"location": [7]}})
            rows.extend(page)
            if len(page) < 1000:
                break
        assert time.perf_counter() - started < 30
        assert len(rows) == 20_000
        assert rows[1234] == {"id": rows[1234]["id"], "default_code": "SKU-001234",
                              "free_qty": 1234 % 50}


def test_odoo_products_count_in_units_of_a_hundredth(sim):
    [product] = rpc(sim, "product.product", "search_read", [("default_code", "=", "WDG-1001")],
                    fields=["uom_id"])
    assert product["uom_id"] == [1, "Units"]  # uom.product_uom_unit, as Odoo 18 and 19 seed it
    [bare] = rpc(sim, "product.product", "search_read", [("default_code", "=", "WDG-1001")],
                 fields=["uom_id"], load=None)
    assert bare["uom_id"] == 1
    assert rpc(sim, "uom.uom", "search_read", [], fields=["name", "rounding"]) == [
        {"id": 1, "name": "Units", "rounding": 0.01}]


def test_odoo_free_qty_is_the_sum_of_the_quants_under_the_locations(sim):
    sim.reserve("WDG-1002", "RET", 7)
    views = [w["view_location_id"][0] for w in rpc(sim, "stock.warehouse", "search_read", [],
                                                   fields=["view_location_id"])]
    for sku in ("WDG-1001", "WDG-1002", "TSH-M-BLU", "WDG-1017"):
        quants = rpc(sim, "stock.quant", "search_read",
                     [("product_id.default_code", "=", sku), ("location_id", "child_of", views)],
                     fields=["quantity", "reserved_quantity"], load=None)
        summed = sum(q["quantity"] - q["reserved_quantity"] for q in quants)
        assert figures(sim, sku, {"location": views})[1] == summed, sku
