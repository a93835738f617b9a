"""free_qty summed from quants, compared with the real Odoo's own free_qty product by product:
reservations (a confirmed sale order), stock in two warehouses, variants, owner-consigned stock,
a fraction (Odoo's own figure kept) and a consumable (not read)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import systems as real
from tests.e2e.systems import CatalogMaker
from woodoo.config import OdooConfig
from woodoo.gateways.odoo import OdooGateway
from woodoo.gateways.retry import RetryPolicy

SECOND = "WH2"  # the second warehouse of the real Odoos (SYSTEMS.md)


def stock_location(odoo: Any, code: str) -> int:
    """The stock location of a warehouse."""
    [warehouse] = odoo.env["stock.warehouse"].search_read([("code", "=", code)], ["lot_stock_id"])
    return int(warehouse["lot_stock_id"][0])


def put(odoo: Any, catalog: CatalogMaker, sku: str, code: str, quantity: float,
        owner: int | None = None) -> None:
    """An applied inventory adjustment in a warehouse's stock location (of an owner's goods)."""
    context = {"context": {"inventory_mode": True}}
    quant = odoo.execute_kw("stock.quant", "create", [{
        "product_id": catalog.catalog.odoo_ids[sku], "location_id": stock_location(odoo, code),
        "inventory_quantity": quantity, **({"owner_id": owner} if owner else {})}], context)
    odoo.execute_kw("stock.quant", "action_apply_inventory", [[quant]], context)


def sell(odoo: Any, catalog: CatalogMaker, code: str, quantities: dict[str, float]) -> None:
    """A confirmed sale order from a warehouse: its delivery reserves the stock."""
    [warehouse] = odoo.env["stock.warehouse"].search_read([("code", "=", code)], ["id"])
    partner = odoo.env["res.partner"].search([("name", "=", f"Woodoo e2e {catalog.catalog.prefix}")])
    partner = partner[0] if partner else odoo.env["res.partner"].create(
        {"name": f"Woodoo e2e {catalog.catalog.prefix}"})
    order = odoo.env["sale.order"].create({
        "partner_id": partner, "warehouse_id": warehouse["id"],
        "order_line": [(0, 0, {"product_id": catalog.catalog.odoo_ids[sku],
                               "product_uom_qty": quantity})
                       for sku, quantity in quantities.items()]})
    odoo.execute_kw("sale.order", "action_confirm", [[order]])


def odoo_free_qty(odoo: Any, product_id: int, views: list[int]) -> float:
    """Odoo's own free_qty of one product in these warehouses (their view locations)."""
    [row] = odoo.execute_kw("product.product", "read", [[product_id], ["free_qty"]],
                            {"context": {"location": views}})
    return float(row["free_qty"])


def gateway(systems: real.Systems, warehouses: list[str]) -> OdooGateway:
    """Woodoo's Odoo gateway on the real Odoo."""
    config = OdooConfig(url=systems.odoo_url, database=systems.odoo_database,
                        username=systems.odoo_login, password=systems.odoo_key,
                        warehouses=warehouses, timeout=120)
    connected = OdooGateway(config, RetryPolicy(1, 0.5))
    connected.connect()
    return connected


@pytest.fixture(scope="module")
def products(catalog: CatalogMaker, odoo: Any, systems: real.Systems) -> dict[str, str]:
    """The suite's products, their stock and reservations in both warehouses, a consumable."""
    skus = {"A": catalog.simple("A", 10), "B": catalog.simple("B", 8),
            "C": catalog.simple("C", 0), "F": catalog.simple("F", 0)}
    small, medium = catalog.variable("V", {"S": 4, "M": 6})
    skus |= {"V-S": small, "V-M": medium}
    put(odoo, catalog, skus["B"], SECOND, 5)
    put(odoo, catalog, skus["C"], SECOND, 3)
    put(odoo, catalog, medium, SECOND, 2)
    owner = odoo.env["res.partner"].create({"name": f"Woodoo e2e owner {catalog.catalog.prefix}"})
    put(odoo, catalog, skus["A"], systems.warehouse, 4, owner=owner)  # consigned goods
    put(odoo, catalog, skus["F"], systems.warehouse, 2.5)  # a fraction: Odoo's figure is kept
    sell(odoo, catalog, systems.warehouse, {skus["B"]: 3, medium: 1})
    sell(odoo, catalog, SECOND, {skus["B"]: 2, skus["C"]: 5})  # more than C has there
    consumable = catalog.catalog.sku("K")
    template = odoo.env["product.template"].create(
        {"name": f"Woodoo e2e {consumable}", "default_code": consumable, "type": "consu"})
    catalog.catalog.templates.append(template)
    [catalog.catalog.odoo_ids[consumable]] = odoo.env["product.product"].search(
        [("product_tmpl_id", "=", template)])
    return skus | {"K": consumable}


@pytest.mark.parametrize("codes", [["main"], ["main", SECOND]])
def test_free_qty_summed_from_quants_is_odoos_own_for_every_product(codes, products, catalog,
                                                                      odoo, systems):
    connected = gateway(systems, [systems.warehouse if c == "main" else c for c in codes])
    views = [w.view_location_id for w in connected.warehouses]
    full = {p.id: p.figure for p in connected.read_products()}  # summed from quants
    ours = {sku: full.get(catalog.catalog.odoo_ids[sku]) for sku in products.values()}
    own = {sku: odoo_free_qty(odoo, catalog.catalog.odoo_ids[sku], views)
           for sku in products.values() if sku != products["K"]}
    assert ours.pop(products["K"]) is None  # a consumable: no stock to sync, not read
    assert ours == own
    both = len(codes) == 2
    # What the case shows: reservations, consigned goods and the second warehouse count.
    assert own[products["A"]] == 14 and own[products["F"]] == 2.5
    assert own[products["B"]] == (8 + 5 - 3 - 2 if both else 8 - 3)
    assert own[products["C"]] == 0  # 3 in the second warehouse, all reserved
    assert own[products["V-M"]] == (6 + 2 - 1 if both else 6 - 1)
    # And the whole catalog of that Odoo, each product's figure read by Odoo itself.
    assert full == {p.id: p.figure for p in connected.read_products(sorted(full))}
