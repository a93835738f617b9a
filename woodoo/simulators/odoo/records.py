"""The model registry of the simulated Odoo (models, default orders, ir.model names) and its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from woodoo.simulators.odoo.domain import Field

if TYPE_CHECKING:
    from woodoo.simulators.odoo.query import Query

ADMIN_UID = 2  # the recordings: login answers uid 2 for "admin"
ADMIN_PARTNER_ID = 3
UNITS = 1  # uom.uom "Units" (uom.product_uom_unit), rounding 0.01 as Odoo 18 and 19 seed it

DEFAULT_ORDER = {
    "product.product": "default_code, name, id",
    "product.template": "name, id",
    "stock.quant": "id",
    "stock.move": "id",
    "stock.picking": "id desc",
    "stock.location": "complete_name, id",
    "stock.warehouse": "id",
    "uom.uom": "id",
    "res.partner": "name, id",
    # sale (18: _order = 'date_order desc, id desc'; sale.order.line: 'order_id, sequence, id')
    "sale.order": "date_order desc, id desc",
    "sale.order.line": "order_id, sequence, id",
    "res.users": "name, login",
    "ir.model": "model",
    # The configuration models `woodoo odoo setup-webhooks` reads and writes (configuration.py,
    # automation.py). base.automation is ordered by id from 17 on (16 ordered by the delegated
    # action's sequence; not modelled).
    "ir.model.fields": "name",
    "ir.model.fields.selection": "sequence, id",
    "ir.module.module": "name",
    "ir.actions.server": "sequence, name",
    "base.automation": "id",
}
MODEL_NAMES = {
    "product.product": "Product Variant", "product.template": "Product",
    "stock.quant": "Quants", "stock.move": "Stock Move", "stock.picking": "Transfer",
    "stock.location": "Inventory Locations", "stock.warehouse": "Warehouse",
    "res.partner": "Contact", "res.users": "User", "ir.model": "Models",
    "ir.model.fields": "Fields", "ir.model.fields.selection": "Fields Selection",
    "ir.module.module": "Module", "ir.actions.server": "Server Actions",
    "base.automation": "Automation Rule",  # "Automated Action" in 16
    "sale.order": "Sales Order", "sale.order.line": "Sales Order Line",
    "uom.uom": "Product Unit of Measure",
}

# Added after the stock models, so those keep the ir.model ids they had before these existed.
CONFIG_MODELS = ("ir.model.fields", "ir.model.fields.selection", "ir.module.module",
                 "ir.actions.server", "base.automation")

# Added after the configuration models, so those keep their ir.model ids too.
SALE_MODELS = ("sale.order", "sale.order.line")

# And the units of measure after those (read for the quant figures: woodoo/gateways/odoo.py).
UOM_MODELS = ("uom.uom",)


def model_rank(model: str) -> tuple[int, str]:
    """Creation order of the simulated models: stock, configuration, sales, units of measure."""
    return (3 if model in UOM_MODELS else 2 if model in SALE_MODELS
            else 1 if model in CONFIG_MODELS else 0, model)


@dataclass(slots=True, eq=False)
class Location:
    id: int
    name: str
    usage: str
    parent_id: int | None
    complete_name: str
    parent_path: str
    create_date: datetime
    write_date: datetime
    active: bool = True
    warehouse_id: int | None = None


@dataclass(slots=True, eq=False)
class Warehouse:
    id: int
    code: str
    name: str
    view_location_id: int
    lot_stock_id: int
    create_date: datetime
    write_date: datetime
    active: bool = True
    out_sequence: int = 0


@dataclass(slots=True, eq=False)
class Template:
    id: int
    name: str
    type: str
    storable: bool
    create_date: datetime
    write_date: datetime
    active: bool = True
    variant_ids: list[int] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Product:
    id: int
    default_code: str | None
    name: str
    barcode: str | None
    type: str
    storable: bool
    tmpl_id: int
    lst_price: float
    create_date: datetime
    write_date: datetime
    active: bool = True


@dataclass(slots=True, eq=False)
class Quant:
    id: int
    product_id: int
    location_id: int
    quantity: float
    reserved_quantity: float
    create_date: datetime
    write_date: datetime


@dataclass(slots=True, eq=False)
class Move:
    id: int
    product_id: int
    state: str
    product_uom_qty: float
    quantity: float
    location_id: int
    location_dest_id: int
    origin: str | None
    reference: str
    picking_id: int | None
    date: datetime
    create_date: datetime
    write_date: datetime
    sale_line_id: int | None = None


@dataclass(slots=True, eq=False)
class Picking:
    id: int
    name: str
    origin: str | None
    state: str
    location_id: int
    location_dest_id: int
    create_date: datetime
    write_date: datetime
    sale_id: int | None = None


@dataclass(slots=True, eq=False)
class SaleOrder:
    id: int
    name: str
    state: str
    partner_id: int
    client_order_ref: str | None
    origin: str | None
    warehouse_id: int
    date_order: datetime
    create_date: datetime
    write_date: datetime
    locked: bool = False


@dataclass(slots=True, eq=False)
class SaleLine:
    id: int
    order_id: int
    product_id: int
    name: str
    product_uom_qty: float
    price_unit: float
    sequence: int
    create_date: datetime
    write_date: datetime


@dataclass(slots=True, eq=False)
class Uom:
    id: int
    name: str
    rounding: float
    create_date: datetime
    write_date: datetime
    active: bool = True


@dataclass(slots=True, eq=False)
class Partner:
    id: int
    name: str
    email: str | None
    create_date: datetime
    write_date: datetime
    active: bool = True
    customer_rank: int = 0


@dataclass(slots=True, eq=False)
class User:
    id: int
    login: str
    name: str
    partner_id: int
    create_date: datetime
    write_date: datetime
    active: bool = True


@dataclass(slots=True, eq=False)
class IrModel:
    id: int
    model: str
    name: str


class Row:
    """A record of a configuration model (automation rules and what they use): plain values."""

    __slots__ = ("id", "values")

    def __init__(self, record_id: int, values: dict[str, Any]) -> None:
        self.id = record_id
        self.values = values

    def __getattr__(self, name: str) -> Any:
        if name == "values":  # not set yet (copying): no recursion through __getattr__
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(slots=True)
class Column:
    field: Field
    get: Callable[[Any, Query], Any]


def attr(name: str) -> Callable[[Any, Query], Any]:
    def get(record: Any, query: Query) -> Any:
        return getattr(record, name)

    return get
