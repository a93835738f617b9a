"""The fields of the base, product and stock models, and the helpers each area's schema is written with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from woodoo.simulators.odoo.domain import Field
from woodoo.simulators.odoo.records import UNITS, Column, Quant, attr

if TYPE_CHECKING:
    from woodoo.simulators.odoo.query import Query

# Each model's fields in order, as (name, column) pairs.
Schema = dict[str, list[tuple[str, Column]]]


def col(name: str, kind: str, string: str, get: Callable[[Any, Query], Any] | None = None,
        relation: str | None = None, store: bool = True,
        selection: tuple[tuple[str, str], ...] | None = None) -> tuple[str, Column]:
    """A field: its spec, and how a record's value is read (by default its attribute `name`)."""
    return name, Column(Field(name, kind, string, relation, store, selection), get or attr(name))


def display(model: str) -> tuple[str, Column]:
    """The display_name field of `model`."""
    return col("display_name", "char", "Display Name", lambda r, q: q.store.display(model, r),
               store=False)


def dates() -> list[tuple[str, Column]]:
    """create_date and write_date."""
    return [col("create_date", "datetime", "Created on"),
            col("write_date", "datetime", "Last Updated on")]


def stock_schema(major: int) -> Schema:
    """Fields per model, as this Odoo version has them (only what the simulator models)."""

    def quantity(name: str, string: str) -> tuple[str, Column]:
        return col(name, "float", string, lambda r, q: q.quantities(r)[name], store=False)

    if major >= 18:
        product_types = (("consu", "Goods"), ("service", "Service"), ("combo", "Combo"))
    else:
        product_types = (("consu", "Consumable"), ("service", "Service"),
                         ("product", "Storable Product"))
    usages = (("supplier", "Vendor"), ("view", "Virtual"), ("internal", "Internal"),
              ("customer", "Customer"), ("inventory", "Inventory Loss"),
              ("production", "Production"), ("transit", "Transit Location"))
    move_states = (("draft", "New"), ("waiting", "Waiting Another Move"),
                   ("confirmed", "Waiting Availability"),
                   ("partially_available", "Partially Available"),
                   ("assigned", "Available"), ("done", "Done"), ("cancel", "Cancelled"))
    storable = [col("is_storable", "boolean", "Track Inventory",
                    lambda r, q: r.storable)] if major >= 18 else []
    if major >= 17:
        move_quantities = [col("quantity", "float", "Quantity")]
    else:
        move_quantities = [
            col("quantity_done", "float", "Quantity Done",
                lambda r, q: r.quantity if r.state == "done" else 0.0),
            col("reserved_availability", "float", "Quantity Reserved",
                lambda r, q: r.quantity if r.state != "done" else 0.0, store=False)]

    def quant_warehouse(record: Quant, query: Query) -> int | None:
        location = query.store.tables["stock.location"].get(record.location_id)
        return location.warehouse_id if location and location.usage == "internal" else None

    return {
        "product.product": [
            col("id", "integer", "ID"),
            col("default_code", "char", "Internal Reference"),
            col("barcode", "char", "Barcode"),
            col("name", "char", "Name"),
            display("product.product"),
            col("type", "selection", "Product Type", selection=product_types),
            *storable,
            col("product_tmpl_id", "many2one", "Product Template", attr("tmpl_id"),
                relation="product.template"),
            col("active", "boolean", "Active"),
            col("lst_price", "float", "Sales Price", store=False),
            # Every simulated product counts in Units (the only unit of measure seeded).
            col("uom_id", "many2one", "Unit", lambda r, q: UNITS, relation="uom.uom"),
            quantity("qty_available", "Quantity On Hand"),
            quantity("free_qty", "Free To Use Quantity "),
            quantity("virtual_available", "Forecasted Quantity"),
            quantity("incoming_qty", "Incoming"),
            quantity("outgoing_qty", "Outgoing"),
            *dates(),
        ],
        "product.template": [
            col("id", "integer", "ID"),
            col("name", "char", "Name"),
            display("product.template"),
            col("type", "selection", "Product Type", selection=product_types),
            *storable,
            col("active", "boolean", "Active"),
            *dates(),
        ],
        "uom.uom": [
            col("id", "integer", "ID"),
            col("name", "char", "Unit Name"),
            display("uom.uom"),
            col("rounding", "float", "Rounding Precision"),
            col("active", "boolean", "Active"),
            *dates(),
        ],
        "stock.warehouse": [
            col("id", "integer", "ID"),
            col("code", "char", "Short Name"),
            col("name", "char", "Warehouse"),
            display("stock.warehouse"),
            col("lot_stock_id", "many2one", "Location Stock", relation="stock.location"),
            col("view_location_id", "many2one", "View Location", relation="stock.location"),
            col("active", "boolean", "Active"),
            *dates(),
        ],
        "stock.location": [
            col("id", "integer", "ID"),
            col("name", "char", "Location Name"),
            col("complete_name", "char", "Full Location Name"),
            display("stock.location"),
            col("usage", "selection", "Location Type", selection=usages),
            col("location_id", "many2one", "Parent Location", attr("parent_id"),
                relation="stock.location"),
            col("warehouse_id", "many2one", "Warehouse", relation="stock.warehouse",
                store=False),
            col("parent_path", "char", "Parent Path"),
            col("active", "boolean", "Active"),
            *dates(),
        ],
        "stock.quant": [
            col("id", "integer", "ID"),
            display("stock.quant"),
            col("product_id", "many2one", "Product", relation="product.product"),
            col("location_id", "many2one", "Location", relation="stock.location"),
            col("warehouse_id", "many2one", "Warehouse", quant_warehouse,
                relation="stock.warehouse", store=False),
            col("quantity", "float", "Quantity"),
            col("reserved_quantity", "float", "Reserved Quantity"),
            col("available_quantity", "float", "Available Quantity",
                lambda r, q: round(r.quantity - r.reserved_quantity, 6), store=False),
            col("inventory_quantity", "float", "Counted Quantity", lambda r, q: 0.0),
            *dates(),
        ],
        "stock.move": [
            col("id", "integer", "ID"),
            display("stock.move"),
            col("product_id", "many2one", "Product", relation="product.product"),
            col("state", "selection", "Status", selection=move_states),
            col("product_uom_qty", "float", "Demand"),
            *move_quantities,
            col("location_id", "many2one", "Source Location", relation="stock.location"),
            col("location_dest_id", "many2one", "Destination Location",
                relation="stock.location"),
            col("origin", "char", "Source Document"),
            col("reference", "char", "Reference"),
            col("picking_id", "many2one", "Transfer", relation="stock.picking"),
            col("date", "datetime", "Date Scheduled"),
            *dates(),
            col("sale_line_id", "many2one", "Sale Line", relation="sale.order.line"),
        ],
        "stock.picking": [
            col("id", "integer", "ID"),
            col("name", "char", "Reference"),
            display("stock.picking"),
            col("origin", "char", "Source Document"),
            col("state", "selection", "Status", selection=move_states),
            col("location_id", "many2one", "Source Location", relation="stock.location"),
            col("location_dest_id", "many2one", "Destination Location",
                relation="stock.location"),
            *dates(),
            col("sale_id", "many2one", "Sales Order", relation="sale.order"),
        ],
        "res.partner": [
            col("id", "integer", "ID"),
            col("name", "char", "Name"),
            display("res.partner"),
            col("email", "char", "Email"),
            col("active", "boolean", "Active"),
            *dates(),
            col("customer_rank", "integer", "Customer Rank"),
        ],
        "res.users": [
            col("id", "integer", "ID"),
            col("login", "char", "Login"),
            col("name", "char", "Name"),
            display("res.users"),
            col("partner_id", "many2one", "Related Partner", relation="res.partner"),
            col("active", "boolean", "Active"),
            *dates(),
        ],
        "ir.model": [
            col("id", "integer", "ID"),
            col("model", "char", "Model"),
            col("name", "char", "Model Description"),
            display("ir.model"),
        ],
    }
