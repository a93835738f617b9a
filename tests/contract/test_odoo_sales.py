"""Behaviour of the Odoo simulator's sales: partners, sale orders, deliveries (beyond 06*)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import odoorpc
import pytest

from woodoo.simulators.odoo import OdooSimulator

SEEDED = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "odoo18" / "seeded_state.json").read_text())
T0 = datetime(2026, 3, 2, 9, 30, 0)
WH, RET = 1, 2


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> str:
        """Move on; the Odoo-formatted time just before the move (a watermark)."""
        stamp = self.now.strftime("%Y-%m-%d %H:%M:%S")
        self.now += timedelta(seconds=seconds)
        return stamp


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


def start(clock: Clock, version: str = "18.0", **options: Any) -> OdooSimulator:
    return OdooSimulator.from_seeded_state(SEEDED, clock=clock, version=version,
                                           **options).start()


@pytest.fixture
def sim(clock) -> Iterator[OdooSimulator]:
    simulator = start(clock)
    yield simulator
    simulator.stop()


def connect(sim: OdooSimulator) -> odoorpc.ODOO:
    odoo = odoorpc.ODOO("127.0.0.1", protocol="jsonrpc", port=sim.server.port, timeout=10)
    odoo.login("woodoo", "admin", "admin")
    return odoo


def free(odoo: odoorpc.ODOO, product_id: int, warehouse_id: int) -> list[float]:
    [row] = odoo.execute_kw("product.product", "read", [[product_id]], {
        "fields": ["qty_available", "free_qty", "virtual_available"],
        "context": {"warehouse_id": warehouse_id}})
    return [row["qty_available"], row["free_qty"], row["virtual_available"]]


def rpc_error(call: Any) -> dict[str, Any]:
    with pytest.raises(odoorpc.error.RPCError) as raised:
        call()
    return raised.value.info["data"]


def order_for(odoo: odoorpc.ODOO, ref: str, lines: dict[int, float], partner: int = 3) -> int:
    return odoo.execute_kw("sale.order", "create", [{
        "partner_id": partner, "client_order_ref": ref, "origin": ref, "warehouse_id": WH,
        "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": qty}]
                       for pid, qty in lines.items()]}], {})


def test_seeded_orders_keep_the_recorded_ids_names_and_the_reserved_order(sim):
    orders = sim.sale_orders()
    assert [(o["id"], o["name"], o["state"], o["picking_ids"]) for o in orders] == [
        (o["id"], o["name"], o["state"], o["picking_ids"]) for o in SEEDED["sale_orders"]]
    # S00001 holds the recorded WH reservations (5 x WDG-1001, 3 x TSH-M-BLU)
    assert orders[0]["lines"] == [("WDG-1001", 5.0, 0.0), ("TSH-M-BLU", 3.0, 0.0)]
    odoo = connect(sim)
    created = order_for(odoo, "WC-9", {2: 1})
    assert created == 8
    assert odoo.execute_kw("sale.order", "read", [[created]], {"fields": ["name"]})[0][
        "name"] == "S00008"


def test_partner_search_by_email_create_and_read(sim):
    odoo = connect(sim)
    assert odoo.execute_kw("res.partner", "search", [[("email", "=ilike", "A@X.org")]], {}) == []
    pid = odoo.execute_kw("res.partner", "create", [{"name": "Ann", "email": "a@x.org",
                                                     "customer_rank": 1}], {})
    assert odoo.execute_kw("res.partner", "search", [[("email", "=ilike", "A@X.org")]],
                           {"limit": 1, "order": "id"}) == [pid]
    assert odoo.execute_kw("res.partner", "search", [[("email", "=", "A@X.org")]], {}) == []
    [row] = odoo.execute_kw("res.partner", "search_read", [[("id", "=", pid)]],
                            {"fields": ["name", "email", "customer_rank"]})
    assert row == {"id": pid, "name": "Ann", "email": "a@x.org", "customer_rank": 1}
    assert {"id": pid, "name": "Ann", "email": "a@x.org", "customer_rank": 1,
            "active": True} in sim.partners()
    error = rpc_error(lambda: odoo.execute_kw("res.partner", "create", [{"email": "b@x"}], {}))
    assert error["name"] == "odoo.exceptions.ValidationError"


def test_create_takes_a_dict_or_a_list_and_answers_in_kind(sim):
    odoo = connect(sim)
    [first, second] = odoo.execute_kw("res.partner", "create",
                                      [[{"name": "Bo", "email": "bo@x.org"}, {"name": "Cy"}]], {})
    assert second == first + 1
    for bad in ("Dee", [{"name": "Eve"}, 7]):
        error = rpc_error(lambda bad=bad: odoo.execute_kw("res.partner", "create", [bad], {}))
        assert error["name"] == "builtins.TypeError"
    assert "Eve" not in {p["name"] for p in sim.partners()}  # nothing written by a bad call


def test_create_confirm_read_reserves_in_the_order_warehouse(sim, clock):
    odoo = connect(sim)
    order_id = order_for(odoo, "WC-1", {9: 6, 18: 2})
    [order] = odoo.execute_kw("sale.order", "read", [[order_id]], {"fields": [
        "name", "state", "client_order_ref", "origin", "partner_id", "warehouse_id",
        "order_line", "picking_ids", "amount_total", "write_date"]})
    assert order["state"] == "draft" and order["picking_ids"] == []
    assert order["partner_id"] == [3, "Administrator"]
    assert order["warehouse_id"] == [1, "Main Warehouse"]
    assert order["origin"] == order["client_order_ref"] == "WC-1"
    # 6 x 15.00 + 2 x 22.00 = 134.00, plus the 15% sales tax of the recorded server
    assert order["amount_total"] == 154.1
    assert free(odoo, 9, WH) == [300.0, 300.0, 300.0]
    watermark = clock.advance(5)
    assert odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {}) is True
    assert free(odoo, 9, WH) == [300.0, 294.0, 294.0]
    assert free(odoo, 18, WH) == [40.0, 38.0, 38.0]
    assert free(odoo, 9, RET) == [75.0, 75.0, 75.0]
    moves = odoo.execute_kw("stock.move", "search_read", [[("write_date", ">", watermark)]],
                            {"fields": ["product_id", "state", "origin", "picking_id"]})
    assert [(m["product_id"][0], m["state"], m["origin"]) for m in moves] == [
        (9, "assigned", "S00008 - WC-1"), (18, "assigned", "S00008 - WC-1")]
    quants = odoo.execute_kw("stock.quant", "search", [[("write_date", ">", watermark)]], {})
    assert len(quants) == 2
    [order] = odoo.execute_kw("sale.order", "read", [[order_id]],
                              {"fields": ["state", "picking_ids"]})
    assert order["state"] == "sale" and order["picking_ids"] == [moves[0]["picking_id"][0]]
    lines = odoo.execute_kw("sale.order.line", "search_read", [[("order_id", "=", order_id)]],
                            {"fields": ["product_id", "product_uom_qty", "qty_delivered",
                                        "order_id"]})
    assert [(r["product_id"][0], r["product_uom_qty"], r["qty_delivered"], r["order_id"][0])
            for r in lines] == [(9, 6.0, 0.0, order_id), (18, 2.0, 0.0, order_id)]
    error = rpc_error(lambda: odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {}))
    assert error["name"] == "odoo.exceptions.UserError"


def test_search_by_reference_origin_and_state(sim):
    odoo = connect(sim)
    first = order_for(odoo, "WC-7", {2: 1})
    assert odoo.execute_kw("sale.order", "search", [[("client_order_ref", "=", "WC-7")]],
                           {}) == [first]
    assert odoo.execute_kw("sale.order", "search", [[("origin", "=", "WC-7")]], {}) == [first]
    assert odoo.execute_kw("sale.order", "search", [[("state", "=", "draft")]], {}) == [first]
    rows = odoo.execute_kw("sale.order", "search_read", [[("state", "=", "cancel")]],
                           {"fields": ["name"], "order": "id"})
    assert [r["name"] for r in rows] == ["S00002", "S00003", "S00006", "S00007"]
    assert [o["id"] for o in sim.sale_orders("WC-7")] == [first]


def test_unknown_product_is_refused_and_nothing_is_created(sim):
    odoo = connect(sim)
    error = rpc_error(lambda: order_for(odoo, "WC-X", {2: 1, 999: 1}))
    assert error["name"] == "odoo.exceptions.MissingError"
    assert "product.product(999,)" in error["message"]
    assert sim.sale_orders("WC-X") == []


def test_write_updates_quantities_and_deletes_lines(sim):
    odoo = connect(sim)
    order_id = order_for(odoo, "WC-2", {9: 6, 18: 2})
    lines = odoo.execute_kw("sale.order", "read", [[order_id]], {"fields": ["order_line"]})[0][
        "order_line"]
    odoo.execute_kw("sale.order", "write", [[order_id], {"order_line": [
        [1, lines[0], {"product_uom_qty": 4}], [2, lines[1], 0]]}], {})
    assert sim.sale_orders("WC-2")[0]["lines"] == [("WDG-1009", 4.0, 0.0)]
    odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {})
    assert free(odoo, 9, WH) == [300.0, 296.0, 296.0]
    odoo.execute_kw("sale.order", "write", [[order_id], {"order_line": [
        [1, lines[0], {"product_uom_qty": 10}], [0, 0, {"product_id": 2,
                                                         "product_uom_qty": 3}]]}], {})
    assert free(odoo, 9, WH) == [300.0, 290.0, 290.0]
    assert free(odoo, 2, WH) == [80.0, 77.0, 77.0]
    odoo.execute_kw("sale.order", "write", [[order_id], {"order_line": [
        [1, lines[0], {"product_uom_qty": 1}]]}], {})
    assert free(odoo, 9, WH) == [300.0, 299.0, 299.0]
    # a confirmed order's lines cannot be deleted (set the quantity to 0 instead)
    error = rpc_error(lambda: odoo.execute_kw("sale.order", "write", [[order_id], {
        "order_line": [[2, lines[0], 0]]}], {}))
    assert error["name"] == "odoo.exceptions.UserError"
    odoo.execute_kw("sale.order", "write", [[order_id], {"order_line": [
        [1, lines[0], {"product_uom_qty": 0}]]}], {})
    assert free(odoo, 9, WH) == [300.0, 300.0, 300.0]


def test_cancel_needs_the_context_and_releases_the_reservation(sim):
    odoo = connect(sim)
    order_id = order_for(odoo, "WC-3", {9: 6})
    odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {})
    wizard = odoo.execute_kw("sale.order", "action_cancel", [[order_id]], {})
    assert wizard["res_model"] == "sale.order.cancel"
    assert wizard["context"]["default_order_id"] == order_id
    assert sim.sale_orders("WC-3")[0]["state"] == "sale"
    assert free(odoo, 9, WH) == [300.0, 294.0, 294.0]
    # several orders at once without the context: Odoo's ensure_one
    error = rpc_error(lambda: odoo.execute_kw("sale.order", "action_cancel",
                                              [[order_id, 1]], {}))
    assert error["name"] == "builtins.ValueError"
    assert odoo.execute_kw("sale.order", "action_cancel", [[order_id]],
                           {"context": {"disable_cancel_warning": True}}) is True
    assert sim.sale_orders("WC-3")[0]["state"] == "cancel"
    assert free(odoo, 9, WH) == [300.0, 300.0, 300.0]
    # a draft order cancels without the wizard
    draft = order_for(odoo, "WC-4", {9: 1})
    assert odoo.execute_kw("sale.order", "action_cancel", [[draft]], {}) is True
    assert sim.sale_orders("WC-4")[0]["state"] == "cancel"


def test_deliver_order_ships_the_reserved_goods(sim, clock):
    odoo = connect(sim)
    order_id = order_for(odoo, "WC-5", {9: 6})
    odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {})
    watermark = clock.advance(5)
    sim.deliver_order(order_id)
    assert free(odoo, 9, WH) == [294.0, 294.0, 294.0]
    assert sim.sale_orders("WC-5")[0]["lines"] == [("WDG-1009", 6.0, 6.0)]
    moves = odoo.execute_kw("stock.move", "search_read", [[("write_date", ">", watermark)]],
                            {"fields": ["state"]})
    assert [m["state"] for m in moves] == ["done"]
    [line] = odoo.execute_kw("sale.order.line", "search_read", [[("order_id", "=", order_id)]],
                             {"fields": ["qty_delivered"]})
    assert line["qty_delivered"] == 6.0
    [picking] = odoo.execute_kw("sale.order", "read", [[order_id]],
                                {"fields": ["picking_ids"]})[0]["picking_ids"]
    assert odoo.execute_kw("stock.picking", "read", [[picking]], {"fields": ["state"]})[0][
        "state"] == "done"
    # cancelling afterwards leaves the done delivery alone
    odoo.execute_kw("sale.order", "action_cancel", [[order_id]],
                    {"context": {"disable_cancel_warning": True}})
    assert free(odoo, 9, WH) == [294.0, 294.0, 294.0]


def test_taxes_can_be_left_out(clock):
    simulator = start(clock, sale_tax=0)
    try:
        odoo = connect(simulator)
        order_id = order_for(odoo, "WC-6", {9: 6})
        assert odoo.execute_kw("sale.order", "read", [[order_id]], {"fields": [
            "amount_untaxed", "amount_tax", "amount_total"]})[0] == {
            "id": order_id, "amount_untaxed": 90.0, "amount_tax": 0.0, "amount_total": 90.0}
    finally:
        simulator.stop()


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_sale_orders_behave_alike_in_every_version(clock, version):
    simulator = start(clock, version)
    try:
        odoo = connect(simulator)
        context = {"warehouse_id" if version == "18.0" else "warehouse": WH}
        order_id = order_for(odoo, "WC-V", {9: 6})
        odoo.execute_kw("sale.order", "action_confirm", [[order_id]], {})
        [row] = odoo.execute_kw("product.product", "read", [[9]],
                                {"fields": ["free_qty"], "context": context})
        assert row["free_qty"] == 294.0
        assert odoo.execute_kw("sale.order", "action_cancel", [[order_id]], {})[
            "res_model"] == "sale.order.cancel"
        odoo.execute_kw("sale.order", "action_cancel", [[order_id]],
                        {"context": {"disable_cancel_warning": True}})
        [row] = odoo.execute_kw("product.product", "read", [[9]],
                                {"fields": ["free_qty"], "context": context})
        assert row["free_qty"] == 300.0
    finally:
        simulator.stop()
