"""A protocol-faithful Odoo JSON-RPC simulator on real HTTP, for tests and `woodoo demo`.

It answers what the real `odoorpc` client and raw JSON-RPC callers send to Odoo 16-18, the way
the Odoo 18 recordings in `tests/fixtures/odoo18/` show a real server answering: the JSON-RPC
envelope (request id echoed, no `result` key when a method returns None), `common.login` answering
false for a wrong password, the error objects (`code` 200, "Odoo Server Error", `data.name`,
`message`, `arguments`, `debug`, `context`), API keys working as the password on `/jsonrpc` only.

Stock is modelled the way Odoo keeps it: quants per (product, location), including the negative
ones in the non-internal "Inventory adjustment" and the customers' locations, and stock moves.
Quantities (`qty_available`, `free_qty`, `virtual_available`, ...) are computed from them with
the location selection of each version's `product.product._get_domain_locations`; see
`_Query.selected_locations` for what was verified in which Odoo source.

It also keeps the configuration models `woodoo odoo setup-webhooks` reads and writes over RPC
(ir.model.fields and its selection values, ir.module.module, and create/write/unlink on
ir.actions.server and base.automation), with each version's field names and the way 17 and 18
recompute an automation rule's fields; see `_configuration_schema` and `_recompute_automation`.
Automation rules are stored, not run: stock changes do not fire the simulated webhooks.

Sales (sale + sale_stock): res.partner search/create, sale.order create/write/action_confirm/
action_cancel and sale.order.line reads, with confirmation reserving stock in the order's warehouse
and cancellation releasing it, as recorded (06*); `deliver_order` ships an order. See the section
"sales" of OdooSimulator.

Everything is computed from the simulator's state; nothing is replayed from the recordings.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from woodoo.simulators.catalog import DEMO_CATALOG, DEMO_PARENTS, DEMO_WAREHOUSES, CatalogItem
from woodoo.simulators.odoo_domain import (
    DomainSource,
    Field,
    compile_domain,
    domain_fields,
    is_empty,
    parse_datetime,
)
from woodoo.simulators.server import SimulatorServer

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
ADMIN_UID = 2  # the recordings: login answers uid 2 for "admin"
ADMIN_PARTNER_ID = 3

# Odoo's own locations. 5 (customers) and 14 (inventory adjustment) are the recorded ids; the
# others are what a fresh Odoo 18 database creates, with 13, 15 and 16 filled so that the first
# warehouse gets view/stock 7/8 and the second 17/18, as recorded (each warehouse takes six ids:
# view, Stock, Input, Quality Control, Output, Packing Zone).
PHYSICAL_LOCATIONS = 1
PARTNER_LOCATIONS = 2
VIRTUAL_LOCATIONS = 3
VENDORS = 4
CUSTOMERS = 5
TRANSIT = 6
PRODUCTION = 13
INVENTORY_ADJUSTMENT = 14
SCRAP = 15
PROCUREMENTS = 16
WAREHOUSE_SUBLOCATIONS = ("Input", "Quality Control", "Output", "Packing Zone")

# Move states counted as incoming/outgoing by _compute_quantities_dict (Odoo 16-18 alike).
OPEN_MOVE_STATES = frozenset({"waiting", "confirmed", "assigned", "partially_available"})
INVENTORY_REFERENCE = "Product Quantity Updated"  # recorded in the webhook payloads of Odoo 18

DEFAULT_ORDER = {
    "product.product": "default_code, name, id",
    "product.template": "name, id",
    "stock.quant": "id",
    "stock.move": "id",
    "stock.picking": "id desc",
    "stock.location": "complete_name, id",
    "stock.warehouse": "id",
    "res.partner": "name, id",
    # sale (18: _order = 'date_order desc, id desc'; sale.order.line: 'order_id, sequence, id')
    "sale.order": "date_order desc, id desc",
    "sale.order.line": "order_id, sequence, id",
    "res.users": "name, login",
    "ir.model": "model",
    # The configuration models `woodoo odoo setup-webhooks` reads and writes (see the section
    # "Configuration models" of OdooSimulator). base.automation is ordered by id from 17 on (16
    # ordered by the delegated action's sequence; not modelled).
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
}
MODULE_TITLES = {"base": "Base", "web": "Web", "mail": "Discuss", "product": "Products & Pricelists",
                 "stock": "Inventory", "base_automation": "Automation Rules",
                 "woodoo_webhook": "Woodoo Webhook"}
DEFAULT_PYTHON_CODE = "# Available variables:\n#  - env, model, record, records, ...\n\n\n\n"
# 16's base.automation keeps these on its delegated ir.actions.server (_inherits).
DELEGATED_16 = frozenset({"name", "model_id", "state", "code", "usage", "sequence"})
TIME_TRIGGERS = ("on_time", "on_time_created", "on_time_updated")
# trigger: (field types, field names, relation) of the field it watches, as
# _get_trigger_specific_field (18) and _compute_trigger_and_trigger_field_ids (17) search it.
TRIGGER_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "on_stage_set": (("many2one",), ("stage_id", "x_studio_stage_id"), None),
    "on_tag_set": (("many2many",), ("tag_ids", "x_studio_tag_ids"), None),
    "on_priority_set": (("selection",), ("priority", "x_studio_priority"), None),
    "on_state_set": (("selection",), ("state", "x_studio_state"), None),
    "on_user_set": (("many2one", "many2many"),
                    ("user_id", "user_ids", "x_studio_user_id", "x_studio_user_ids"), "res.users"),
    "on_archive": (("boolean",), ("active", "x_active"), None),
    "on_unarchive": (("boolean",), ("active", "x_active"), None),
    "on_time_created": (("datetime",), ("create_date",), None),
    "on_time_updated": (("datetime",), ("write_date",), None),
}
# Like 18's DOMAIN_FIELDS_RE: a quoted field name opening a domain leaf (its first component).
DOMAIN_FIELD = re.compile(r"""[(\[]\s*(?P<quote>['"])(?P<field>[a-z]\w*)(?:\.[.\w]*)?(?P=quote)""")
# Added after the stock models, so those keep the ir.model ids they had before these existed.
CONFIG_MODELS = ("ir.model.fields", "ir.model.fields.selection", "ir.module.module",
                 "ir.actions.server", "base.automation")
WRITABLE_MODELS = frozenset({"ir.actions.server", "base.automation"})
# Added after the configuration models, so those keep their ir.model ids too.
SALE_MODELS = ("sale.order", "sale.order.line")
# Model methods beyond the read methods, per model (see the section "Sales" of OdooSimulator).
SALE_METHODS: dict[str, frozenset[str]] = {
    "res.partner": frozenset({"create", "write"}),
    "sale.order": frozenset({"create", "write", "action_confirm", "action_cancel"}),
}
# What sale.order.action_cancel returns when it shows the cancel wizard: recorded (06e) from the
# Odoo 18 server, whose database gave the view sale.sale_order_cancel_view_form id 1129 and the
# template sale.mail_template_sale_cancellation id 14 (ids of that database, kept as recorded).
CANCEL_WIZARD_VIEW_ID = 1129
CANCEL_TEMPLATE_ID = 14
# The recorded server's default sales tax: 15% (Odoo's generic chart of accounts), price excluded.
# Recorded 06c: 6 x WDG-1009 at its lst_price 15.00 gave amount_total 103.5 = 90 * 1.15.
DEFAULT_SALE_TAX = 0.15
# What a database with Woodoo's prerequisites has installed (base_automation pulls in mail).
DEFAULT_INSTALLED_MODULES = frozenset({"base", "web", "mail", "product", "stock",
                                       "base_automation"})

# Positional parameter names of the model methods the simulator answers (Odoo 17/18 signatures).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("ids", "fields", "load"),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "name_get": ("ids",),
    "context_get": (),
    # create is @api.model_create_multi (a dict or a list of dicts); write/unlink take the ids first.
    "create": ("vals_list",),
    "write": ("ids", "vals"),
    "unlink": ("ids",),
    "action_confirm": ("ids",),
    "action_cancel": ("ids",),
}
REQUIRED = {"search": 1, "search_count": 1, "read": 1, "name_get": 1, "create": 1, "write": 2,
            "unlink": 1, "action_confirm": 1, "action_cancel": 1}


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _parse_version(version: str) -> tuple[int, int]:
    match = re.match(r"(?:saas~)?(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"unrecognised Odoo version {version!r}; give e.g. '18.0'")
    major, minor = int(match.group(1)), int(match.group(2))
    if major < 16:
        raise ValueError(f"the simulator emulates Odoo 16 to 19, not {version}")
    return major, minor


@dataclass(frozen=True)
class RpcCall:
    """One RPC the simulator received: service and method, and for model calls which model/method."""

    service: str
    method: str
    model: str | None = None
    model_method: str | None = None
    context: dict[str, Any] | None = None


class OdooFault(Exception):
    """An error Odoo would report in the JSON-RPC `error` object."""

    def __init__(self, name: str, message: str, *, code: int = 200,
                 title: str = "Odoo Server Error") -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = code
        self.title = title

    def to_json(self, version: str) -> dict[str, Any]:
        """The error object as Odoo serialises it (odoo.http.serialize_exception)."""
        shown = self.name.removeprefix("builtins.")
        debug = ("Traceback (most recent call last):\n"
                 f'  File "odoo/http.py" (simulated by woodoo, Odoo {version})\n'
                 f"{shown}: {self.message}\n")
        return {"code": self.code, "message": self.title,
                "data": {"name": self.name, "debug": debug, "message": self.message,
                         "arguments": [self.message], "context": {}}}


def _type_error(message: str) -> OdooFault:
    return OdooFault("builtins.TypeError", message)


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------

@dataclass(slots=True, eq=False)
class _Location:
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
class _Warehouse:
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
class _Template:
    id: int
    name: str
    type: str
    storable: bool
    create_date: datetime
    write_date: datetime
    active: bool = True
    variant_ids: list[int] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Product:
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
class _Quant:
    id: int
    product_id: int
    location_id: int
    quantity: float
    reserved_quantity: float
    create_date: datetime
    write_date: datetime


@dataclass(slots=True, eq=False)
class _Move:
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
class _Picking:
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
class _SaleOrder:
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
class _SaleLine:
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
class _Partner:
    id: int
    name: str
    email: str | None
    create_date: datetime
    write_date: datetime
    active: bool = True
    customer_rank: int = 0


@dataclass(slots=True, eq=False)
class _User:
    id: int
    login: str
    name: str
    partner_id: int
    create_date: datetime
    write_date: datetime
    active: bool = True


@dataclass(slots=True, eq=False)
class _IrModel:
    id: int
    model: str
    name: str


class _Row:
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
class _Column:
    field: Field
    get: Callable[[Any, _Query], Any]


@dataclass
class _Pending:
    """Writes of an open `transaction()`: applied, with its start time, when it exits."""

    start: datetime
    ops: list[Callable[[datetime], None]] = field(default_factory=list)
    products: dict[int, tuple[str | None, bool]] = field(default_factory=dict)
    warehouses: dict[str, int] = field(default_factory=dict)


def _attr(name: str) -> Callable[[Any, _Query], Any]:
    def get(record: Any, query: _Query) -> Any:
        return getattr(record, name)

    return get


# ----------------------------------------------------------------------------------------------
# One request's view of the state: context, computed quantities, and the domain hooks
# ----------------------------------------------------------------------------------------------

_UNSET = object()


class _Query(DomainSource):
    """A request's context over the simulator state; answers the domain evaluator's questions."""

    def __init__(self, sim: OdooSimulator, context: dict[str, Any] | None) -> None:
        self.sim = sim
        self.context: dict[str, Any] = dict(context or {})
        self._selected: Any = _UNSET
        self._quantities: dict[int, dict[str, float]] = {}

    # -- DomainSource -----------------------------------------------------------------------
    def field(self, model: str, name: str) -> Field | None:
        """The field `name` of `model`, or None."""
        column = self.sim._columns.get(model, {}).get(name)
        return column.field if column else None

    def getter(self, model: str, name: str) -> Callable[[Any], Any]:
        """The raw value getter of a field, bound to this request."""
        get = self.sim._columns[model][name].get
        return lambda record: get(record, self)

    def browse(self, model: str, record_id: int) -> Any | None:
        """The record, or None."""
        table = self.sim._tables.get(model)
        if table is None or not isinstance(record_id, int):
            return None
        return table.get(record_id)

    def name_search_ids(self, model: str, operator: str, value: str) -> set[int]:
        """Ids whose record name matches (products also by reference), active records only."""
        if model == "product.product":
            domain: list[Any] = ["|", ("default_code", operator, value), ("name", operator, value)]
        elif model == "stock.location":
            domain = [("complete_name", operator, value)]
        elif model == "ir.model":
            domain = [("model", operator, value)]
        elif model == "res.users":
            domain = ["|", ("login", operator, value), ("name", operator, value)]
        else:
            domain = [("name", operator, value)]
        return set(self.sim._search(self, model, domain))

    def descendant_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and their children; only stock.location has a hierarchy here."""
        if model != "stock.location":
            return set(ids)
        locations = self.sim._tables["stock.location"]
        paths = [locations[i].parent_path for i in ids if i in locations]
        return {loc.id for loc in locations.values()
                if any(loc.parent_path.startswith(path) for path in paths)}

    def ancestor_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and their parents; only stock.location has a hierarchy here."""
        if model != "stock.location":
            return set(ids)
        locations = self.sim._tables["stock.location"]
        found: set[int] = set()
        for location_id in ids:
            if location_id in locations:
                found |= {int(part) for part in locations[location_id].parent_path.split("/")
                          if part}
        return found

    # -- Quantities -------------------------------------------------------------------------
    def selected_locations(self) -> set[int] | None:
        """The locations whose quants count, from the context; None means no restriction.

        Mirrors `product.product._get_domain_locations` of each version (addons/stock/models/
        product.py, read in public copies of the Odoo source):
        - Odoo 18 (informaticeng0011/odoo_18.0 @ 011dedd, with `is_storable` and
          `location_final_id`; OCA stock-logistics-availability PR #86 says the same: 18 reads
          only `warehouse_id`; the recordings agree, 04a-04e and the odoorpc observations): the
          warehouse key is `warehouse_id`, `warehouse` is silently ignored. With a warehouse and
          `location`, the given locations that lie under one of the warehouses' view locations
          (parent_path prefix) are kept. An empty selection gives `[FALSE_LEAF] * 3`: zero
          everywhere (recorded: RET/Stock + warehouse WH -> all 0).
        - Odoo 17 (filesdna/filesdna17-setup @ 8622892, stock/models/product.py): the key is
          still `warehouse` (also in `@api.depends_context`), same parent_path rule, FALSE only
          in the warehouse+location branch; any other empty selection filters nothing.
        - Odoo 16 (erlitx/odoo16_library_app @ 48dbb20, stock/models/product.py): the key is
          `warehouse`; warehouse + location keep `w_ids & l_ids`, the intersection of the view
          location ids with the given location ids; an empty selection adds no location domain,
          so every quant of the product counts (including the negative inventory ones).
        Strings are matched with `ilike` on the record name (stock.warehouse `name`,
        stock.location `complete_name`); ints are taken as ids. `location` children count
        (parent_path `=like`), except with the `strict` context key (17+).
        """
        if self._selected is not _UNSET:
            return self._selected
        major = self.sim._major
        warehouse_key = "warehouse_id" if major >= 18 else "warehouse"
        location = self.context.get("location")
        if location and not isinstance(location, list):
            location = [location]
        warehouse = self.context.get(warehouse_key)
        if warehouse and not isinstance(warehouse, list):
            warehouse = [warehouse]
        locations = self.sim._tables["stock.location"]
        warehouses = self.sim._tables["stock.warehouse"]
        empty_means_false = major >= 18
        if warehouse:
            view_ids = {warehouses[w].view_location_id
                        for w in self._search_ids("stock.warehouse", warehouse) if w in warehouses}
            if location:
                given = self._search_ids("stock.location", location)
                if major >= 17:
                    parents = [locations[v].parent_path for v in view_ids if v in locations]
                    ids = {i for i in given if i in locations
                           and any(locations[i].parent_path.startswith(p) for p in parents)}
                    empty_means_false = True
                else:
                    ids = view_ids & given
            else:
                ids = view_ids
        elif location:
            ids = self._search_ids("stock.location", location)
        else:
            ids = {w.view_location_id for w in warehouses.values() if w.active}
        ids = {i for i in ids if i in locations}
        if not ids:
            self._selected = set() if empty_means_false else None
        elif major >= 17 and self.context.get("strict"):
            self._selected = ids
        else:
            self._selected = self.descendant_ids("stock.location", ids)
        return self._selected

    def _search_ids(self, model: str, values: list[Any]) -> set[int]:
        ids: set[int] = set()
        for item in values:
            if isinstance(item, int) and not isinstance(item, bool):
                ids.add(item)
            elif isinstance(item, str):
                ids |= self.name_search_ids(model, "ilike", item)
        return ids

    def quantities(self, product: _Product) -> dict[str, float]:
        """qty_available, free_qty, incoming_qty, outgoing_qty, virtual_available, like Odoo.

        `_compute_quantities_dict`: quants (in the selected locations, any usage) give on hand and
        reserved; moves in waiting/confirmed/assigned/partially_available states give incoming
        (destination inside, source outside) and outgoing (the reverse).
        """
        cached = self._quantities.get(product.id)
        if cached is not None:
            return cached
        if not product.storable:
            # Services are forced to 0; consumables never get quants or moves here.
            result = dict.fromkeys(("qty_available", "free_qty", "incoming_qty",
                                    "outgoing_qty", "virtual_available"), 0.0)
            self._quantities[product.id] = result
            return result
        selected = self.selected_locations()
        on_hand = reserved = incoming = outgoing = 0.0
        for quant in self.sim._quants_by_product.get(product.id, ()):
            if selected is None or quant.location_id in selected:
                on_hand += quant.quantity
                reserved += quant.reserved_quantity
        for move in self.sim._moves_by_product.get(product.id, ()):
            if move.state not in OPEN_MOVE_STATES:
                continue
            if selected is None:  # Odoo 16's empty location domain: every move is both
                incoming += move.product_uom_qty
                outgoing += move.product_uom_qty
                continue
            source_in = move.location_id in selected
            destination_in = move.location_dest_id in selected
            if destination_in and not source_in:
                incoming += move.product_uom_qty
            elif source_in and not destination_in:
                outgoing += move.product_uom_qty
        # float_round to the Units UoM rounding (0.01)
        result = {
            "qty_available": round(on_hand, 2),
            "free_qty": round(on_hand - reserved, 2),
            "incoming_qty": round(incoming, 2),
            "outgoing_qty": round(outgoing, 2),
            "virtual_available": round(on_hand + round(incoming, 2) - round(outgoing, 2), 2),
        }
        self._quantities[product.id] = result
        return result


# ----------------------------------------------------------------------------------------------
# The simulator
# ----------------------------------------------------------------------------------------------

class OdooSimulator:
    """An in-memory Odoo (16, 17 or 18 flavour) answering JSON-RPC over HTTP on 127.0.0.1."""

    def __init__(self, *, database: str = "woodoo", login: str = "admin",
                 password: str = "admin", api_key: str | None = None, version: str = "18.0",
                 port: int = 0, clock: Callable[[], datetime] | None = None,
                 installed_modules: Iterable[str] | None = None,
                 sale_tax: float = DEFAULT_SALE_TAX) -> None:
        self.database = database
        # The tax rate applied to every sale order line (one price-excluded tax, as the recorded
        # server's default); 0 to leave taxes out. See _order_amounts.
        self.sale_tax = float(sale_tax)
        self._sale_sequence = 0  # the last number the sale.order sequence gave (S00001, ...)
        self.login = login
        self.password = password
        self.api_key = api_key
        self.version = version
        self._major, self._minor = _parse_version(version)
        self._clock = clock or _utcnow
        self.calls: list[RpcCall] = []
        self._calls_lock = threading.Lock()
        self._lock = threading.RLock()
        self._local = threading.local()
        self._sessions: dict[str, int | None] = {}
        self._tables: dict[str, dict[int, Any]] = {model: {} for model in DEFAULT_ORDER}
        self._sequences: dict[str, int] = dict.fromkeys(DEFAULT_ORDER, 1)
        self._issued: dict[str, set[int]] = {model: set() for model in DEFAULT_ORDER}
        self._quants_by_product: dict[int, list[_Quant]] = {}
        self._quant_at: dict[tuple[int, int], _Quant] = {}
        self._moves_by_product: dict[int, list[_Move]] = {}
        self._skus: dict[str, list[int]] = {}
        self._state_version = 0
        self._search_cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._columns = self._schema()
        # Module names ir.module.module reports installed; the rows follow this set (see
        # install_module). woodoo_webhook is not among the defaults.
        self.installed_modules: set[str] = set(
            DEFAULT_INSTALLED_MODULES if installed_modules is None else installed_modules)
        self._field_ids: dict[tuple[str, str], int] = {}
        self._seed_base(self._clock())
        self._seed_configuration(self._clock())
        self.server = SimulatorServer(self._wsgi, port=port, name="odoo")

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234."""
        return self.server.url

    def start(self) -> OdooSimulator:
        """Serve on 127.0.0.1; returns self."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> OdooSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- call log ---------------------------------------------------------------------------
    def call_count(self, model: str | None = None, method: str | None = None) -> int:
        """RPCs received for `model` (any if None) whose RPC method or model method is `method`."""
        with self._calls_lock:
            return sum(1 for c in self.calls
                       if (model is None or c.model == model)
                       and (method is None or method in (c.method, c.model_method)))

    def reset_calls(self) -> None:
        """Forget the RPCs received so far."""
        with self._calls_lock:
            self.calls.clear()

    def _log(self, call: RpcCall) -> None:
        with self._calls_lock:
            self.calls.append(call)

    # -- ids, writes and transactions -------------------------------------------------------
    def _alloc(self, model: str, explicit: int | None = None) -> int:
        """A new id, like a PostgreSQL sequence (not rolled back); `explicit` forces one."""
        with self._lock:
            table, issued = self._tables[model], self._issued[model]
            if explicit is not None:
                if explicit in table or explicit in issued:
                    raise ValueError(f"{model} id {explicit} is already used")
                issued.add(explicit)
                return explicit
            new_id = self._sequences[model]
            while new_id in table or new_id in issued:
                new_id += 1
            self._sequences[model] = new_id + 1
            issued.add(new_id)
            return new_id

    def _pending(self) -> _Pending | None:
        return getattr(self._local, "pending", None)

    def _write(self, op: Callable[[datetime], None]) -> None:
        """Apply a write now (its own committed transaction), or queue it in the open one."""
        pending = self._pending()
        if pending is not None:
            pending.ops.append(op)
            return
        with self._lock:
            op(self._clock())
            self._changed()

    def _changed(self) -> None:
        self._state_version += 1
        self._search_cache.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one Odoo transaction: committed, all at once, when the block exits.

        Like Odoo on PostgreSQL, every row written gets the transaction's start time as
        `write_date` (PostgreSQL `now()`; shown truncated to seconds over RPC), and nothing is
        visible to RPC reads until the commit: a poll running meanwhile sees the old state, and
        after the commit sees rows "written" before its previous watermark. An exception inside
        the block rolls everything back (ids already handed out stay used, as with sequences).
        Nested blocks join the outer transaction. It holds the writes of the thread that opened
        it; `bulk_add` is applied at once regardless.
        """
        if self._pending() is not None:
            yield
            return
        pending = _Pending(self._clock())
        self._local.pending = pending
        try:
            yield
        except BaseException:
            self._local.pending = None
            raise
        self._local.pending = None
        with self._lock:
            for op in pending.ops:
                op(pending.start)
            self._changed()

    # -- catalog set-up ---------------------------------------------------------------------
    def add_warehouse(self, code: str, name: str, *, warehouse_id: int | None = None) -> int:
        """Create a warehouse: view location `code`, internal `code/Stock`, and Odoo's sublocations."""
        return self._add_warehouse(code, name, warehouse_id=warehouse_id)

    def _add_warehouse(self, code: str, name: str, *, warehouse_id: int | None = None,
                       view_id: int | None = None, stock_id: int | None = None) -> int:
        with self._lock:
            if self._find_warehouse(code, strict=False) is not None:
                raise ValueError(f"a warehouse with code {code!r} exists already")
            wid = self._alloc("stock.warehouse", warehouse_id)
            view = self._alloc("stock.location", view_id)
            stock = self._alloc("stock.location", stock_id)
            others = [self._alloc("stock.location") for _ in WAREHOUSE_SUBLOCATIONS]
        pending = self._pending()
        if pending is not None:
            pending.warehouses[code] = stock

        def create(now: datetime) -> None:
            self._new_location(now, view, code, "view", PHYSICAL_LOCATIONS, warehouse=wid)
            self._new_location(now, stock, "Stock", "internal", view, warehouse=wid)
            for location_id, sub in zip(others, WAREHOUSE_SUBLOCATIONS, strict=True):
                # Odoo creates them archived while the warehouse uses one-step routes.
                self._new_location(now, location_id, sub, "internal", view, warehouse=wid,
                                   active=False)
            self._tables["stock.warehouse"][wid] = _Warehouse(wid, code, name, view, stock,
                                                              now, now)

        self._write(create)
        return wid

    def add_product(self, sku: str | None, name: str, *, storable: bool = True,
                    barcode: str | None = None, product_id: int | None = None,
                    product_type: str | None = None) -> int:
        """Create a product (its own template); storable as the version has it; returns its id."""
        return self._add_product(sku, name, storable=storable, barcode=barcode,
                                 product_id=product_id, product_type=product_type)

    def _add_product(self, sku: str | None, name: str, *, storable: bool = True,
                     barcode: str | None = None, product_id: int | None = None,
                     product_type: str | None = None, template_id: int | None = None,
                     template_name: str | None = None, lst_price: float = 0.0) -> int:
        kind, is_storable = self._product_kind(storable, product_type)
        with self._lock:
            pid = self._alloc("product.product", product_id)
            if template_id is None:
                template_id = self._alloc("product.template")
            elif template_id not in self._issued["product.template"]:
                self._alloc("product.template", template_id)
        pending = self._pending()
        if pending is not None:
            pending.products[pid] = (sku, is_storable)

        def create(now: datetime) -> None:
            self._new_product(now, pid, sku, name, barcode, kind, is_storable, template_id,
                              template_name or name, lst_price)

        self._write(create)
        return pid

    def _product_kind(self, storable: bool, product_type: str | None) -> tuple[str, bool]:
        """`type` and whether stock is tracked: Odoo 18 `consu` + is_storable, before `product`."""
        if self._major >= 18:
            kind = product_type or "consu"
            if kind not in ("consu", "service", "combo"):
                raise ValueError(f"Odoo {self.version} has no product type {kind!r}")
            return kind, storable and kind == "consu"
        if product_type is None:
            return ("product" if storable else "consu"), storable
        if product_type not in ("consu", "service", "product"):
            raise ValueError(f"Odoo {self.version} has no product type {product_type!r}")
        return product_type, product_type == "product"

    def add_partner(self, name: str, *, email: str | None = None,
                    partner_id: int | None = None) -> int:
        """Create a contact (res.partner); returns its id."""
        pid = self._alloc("res.partner", partner_id)

        def create(now: datetime) -> None:
            self._tables["res.partner"][pid] = _Partner(pid, name, email, now, now)

        self._write(create)
        return pid

    def load_catalog(self, items: Iterable[CatalogItem] = DEMO_CATALOG,
                     warehouses: Iterable[tuple[str, str]] = DEMO_WAREHOUSES) -> dict[str, int]:
        """Create the warehouses and the Odoo side of the catalog; returns product ids by SKU."""
        for code, name in warehouses:
            if self._find_warehouse(code, strict=False) is None:
                self.add_warehouse(code, name)
        templates: dict[str, int] = {}
        ids: dict[str, int] = {}
        for item in items:
            if not item.in_odoo:
                continue
            template_id, template_name = None, None
            if item.parent_sku:
                # Variants share their parent's template, as in the recorded catalog.
                if item.parent_sku not in templates:
                    templates[item.parent_sku] = self._alloc("product.template")
                template_id = templates[item.parent_sku]
                template_name = DEMO_PARENTS.get(item.parent_sku, item.parent_sku)
            pid = self._add_product(item.sku, item.name, storable=item.storable,
                                    template_id=template_id, template_name=template_name)
            ids[item.sku] = pid
            for code, quantity in item.on_hand.items():
                if quantity:
                    self.set_on_hand(pid, code, quantity)
            for code, quantity in item.reserved.items():
                if quantity:
                    self.reserve(pid, code, quantity)
        return ids

    @classmethod
    def from_seeded_state(cls, seeded: dict[str, Any], **kwargs: Any) -> OdooSimulator:
        """Rebuild a recorded catalog (`seeded_state.json`) with the same ids and quantities.

        Warehouses, their view/stock locations, products and templates keep their recorded ids.
        Quants are created in the order the recorded ids imply Odoo created them (per product,
        each warehouse's non-zero stock quant; then one inventory-adjustment quant per product):
        that reproduces the recorded quant ids 3, 15 and 31 (WH/Stock of products 2, 9, 18) and
        40 (inventory adjustment of product 5). Reservations make free_qty match.
        """
        sim = cls(**kwargs)
        for warehouse in seeded["warehouses"]:
            sim._add_warehouse(warehouse["code"], warehouse["name"], warehouse_id=warehouse["id"],
                               view_id=warehouse["view_location_id"][0],
                               stock_id=warehouse["lot_stock_id"][0])
        products = sorted(seeded["products"], key=lambda p: p["id"])
        for product in products:
            sku = product.get("default_code") or None
            name = _strip_code(product["display_name"], sku)
            template_id, template_display = product["product_tmpl_id"]
            sim._add_product(
                sku, name, storable=bool(product.get("is_storable", product["type"] == "product")),
                barcode=product.get("barcode") or None, product_id=product["id"],
                product_type="service" if product["type"] == "service" else None,
                template_id=template_id, template_name=_strip_code(template_display, sku),
                lst_price=float(product.get("lst_price") or 0.0))
        codes = [w["code"] for w in seeded["warehouses"]]
        figures = {p["id"]: p["qty(on_hand,free,forecast)"] for p in products}
        with sim._lock:
            now = sim._clock()
            totals: dict[int, float] = {}
            for product in products:  # the stock quants first, product by product
                for code in codes:
                    on_hand = float(figures[product["id"]].get(code, [0.0])[0])
                    if on_hand:
                        warehouse = sim._find_warehouse(code)
                        quant = sim._quant(now, product["id"], warehouse.lot_stock_id)
                        quant.quantity = on_hand
                        sim._new_move(now, product["id"], "done", on_hand, on_hand,
                                      INVENTORY_ADJUSTMENT, warehouse.lot_stock_id, None,
                                      INVENTORY_REFERENCE, None)
                        totals[product["id"]] = totals.get(product["id"], 0.0) + on_hand
            for product in products:  # then each product's inventory-adjustment counterpart
                if totals.get(product["id"]):
                    sim._quant(now, product["id"], INVENTORY_ADJUSTMENT).quantity = (
                        -totals[product["id"]])
            sim._changed()
        reserved: dict[str, dict[int, float]] = {}
        for product in products:
            for code in codes:
                on_hand, free = figures[product["id"]].get(code, [0.0, 0.0])[:2]
                if float(on_hand) - float(free) > 0:
                    reserved.setdefault(code, {})[product["id"]] = float(on_hand) - float(free)
        sim._seed_sale_orders(seeded.get("sale_orders") or [], reserved)
        for code, quantities in reserved.items():  # reservations no seeded order holds
            for product_id, quantity in quantities.items():
                sim.reserve(product_id, code, quantity)
        return sim

    def _seed_sale_orders(self, orders: list[dict[str, Any]],
                          reserved: dict[str, dict[int, float]]) -> None:
        """The recorded sale orders (`seeded_state.json` "sale_orders"), same ids, names, pickings.

        Only their headers are recorded (no customer, no lines): they are sold to the
        Administrator's partner. The recorded reservations of a warehouse (the README's "reserved
        sale order") become lines of its first confirmed order, reserved in that order's first
        delivery; the other deliveries are 'cancel' for cancelled orders and 'done' otherwise,
        without moves. The sale.order sequence continues after the highest recorded name.
        """
        with self._lock:
            now = self._clock()
            for record in sorted(orders, key=lambda o: o["id"]):
                warehouse_ref = record.get("warehouse_id")
                warehouse = (self._tables["stock.warehouse"][warehouse_ref[0]] if warehouse_ref
                             else min(self._tables["stock.warehouse"].values(),
                                      key=lambda w: w.id))
                order = _SaleOrder(self._alloc("sale.order", record["id"]), record["name"],
                                   record["state"], ADMIN_PARTNER_ID,
                                   record.get("client_order_ref") or None, None, warehouse.id,
                                   now, now, now)
                self._tables["sale.order"][order.id] = order
                number = re.search(r"(\d+)$", order.name)
                if number:
                    self._sale_sequence = max(self._sale_sequence, int(number.group(1)))
                holds = reserved.pop(warehouse.code, {}) if order.state == "sale" else {}
                origin = (f"{order.name} - {order.client_order_ref}" if order.client_order_ref
                          else order.name)
                for index, picking_id in enumerate(record.get("picking_ids") or []):
                    state = ("cancel" if order.state == "cancel"
                             else "confirmed" if holds and index == 0 else "done")
                    self._new_picking(now, warehouse, origin, state, picking_id=picking_id,
                                      sale_id=order.id)
                for product_id, quantity in holds.items():
                    product = self._tables["product.product"][product_id]
                    line = _SaleLine(self._alloc("sale.order.line"), order.id, product_id,
                                     self._display("product.product", product), quantity,
                                     product.lst_price, 10, now, now)
                    self._tables["sale.order.line"][line.id] = line
                    self._procure(now, order, line, quantity)
            self._changed()

    def bulk_add(self, count: int, *, sku_format: str = "SKU-{:06d}", warehouse: str = "WH",
                 quantity: Callable[[int], float] = lambda i: i % 50) -> None:
        """Add `count` storable products `sku_format.format(i)` for i in 0..count-1, fast.

        Product i has `quantity(i)` on hand in `warehouse` (an applied inventory adjustment:
        stock quant, inventory-adjustment counterpart quant and done move). Applied at once, even
        inside `transaction()`.
        """
        with self._lock:
            target = self._find_warehouse(warehouse)
            stock = target.lot_stock_id
            now = self._clock()
            kind, storable = self._product_kind(True, None)
            for i in range(count):
                sku = sku_format.format(i)
                pid = self._alloc("product.product")
                template_id = self._alloc("product.template")
                self._new_product(now, pid, sku, f"Bulk Product {i}", None, kind, storable,
                                  template_id, f"Bulk Product {i}", 0.0)
                on_hand = float(quantity(i))
                if on_hand:
                    self._quant(now, pid, stock).quantity = on_hand
                    self._quant(now, pid, INVENTORY_ADJUSTMENT).quantity = -on_hand
                    self._new_move(now, pid, "done", abs(on_hand), abs(on_hand),
                                   INVENTORY_ADJUSTMENT if on_hand > 0 else stock,
                                   stock if on_hand > 0 else INVENTORY_ADJUSTMENT, None,
                                   INVENTORY_REFERENCE, None)
            self._changed()

    # -- stock operations -------------------------------------------------------------------
    def set_on_hand(self, sku_or_id: str | int, warehouse: str, quantity: float) -> None:
        """An applied inventory adjustment: the warehouse's stock quant is set to `quantity`.

        The counterpart quant in "Virtual Locations/Inventory adjustment" changes by the
        opposite amount (it goes negative) and a done stock.move is written, as in Odoo 18.
        Product write_date is not touched (recorded).
        """
        pid = self._storable_product(sku_or_id)
        stock = self._stock_location(warehouse)
        target = float(quantity)

        def adjust(now: datetime) -> None:
            quant = self._quant(now, pid, stock)
            delta = round(target - quant.quantity, 6)
            if not delta:
                return
            quant.quantity = target
            quant.write_date = now
            counterpart = self._quant(now, pid, INVENTORY_ADJUSTMENT)
            counterpart.quantity = round(counterpart.quantity - delta, 6)
            counterpart.write_date = now
            source, destination = ((INVENTORY_ADJUSTMENT, stock) if delta > 0
                                   else (stock, INVENTORY_ADJUSTMENT))
            self._new_move(now, pid, "done", abs(delta), abs(delta), source, destination, None,
                           INVENTORY_REFERENCE, None)

        self._write(adjust)

    def reserve(self, sku_or_id: str | int, warehouse: str, quantity: float, *,
                origin: str | None = None) -> None:
        """A confirmed delivery of `quantity`: an outgoing move to Partners/Customers, reserved.

        Like Odoo's reservation, only what is free in the stock quant is reserved (the quant's
        reserved_quantity grows by that); the move is `assigned` when fully reserved, else
        `partially_available` or `confirmed`. Its full quantity counts as outgoing in the forecast.
        """
        pid = self._storable_product(sku_or_id)
        code = self._warehouse_code(warehouse)
        wanted = float(quantity)

        def apply_reservation(now: datetime) -> None:
            target = self._find_warehouse(code)
            quant = self._quant_at.get((pid, target.lot_stock_id))
            free = quant.quantity - quant.reserved_quantity if quant is not None else 0.0
            reserved = max(0.0, min(wanted, free))
            if quant is not None and reserved:
                quant.reserved_quantity = round(quant.reserved_quantity + reserved, 6)
                quant.write_date = now
            state = ("assigned" if reserved >= wanted
                     else "partially_available" if reserved else "confirmed")
            picking = self._new_picking(now, target, origin, state)
            self._new_move(now, pid, state, wanted, reserved, target.lot_stock_id, CUSTOMERS,
                           origin, picking.name, picking.id)

        self._write(apply_reservation)

    def deliver(self, sku_or_id: str | int, warehouse: str, quantity: float) -> None:
        """Reserved goods leave: stock quant quantity and reservation drop, customers' quant grows.

        Open outgoing moves of the product from the warehouse are done first come, first served
        (a partly delivered move is split, the delivered part done); anything beyond them is
        a new done delivery move.
        """
        pid = self._storable_product(sku_or_id)
        code = self._warehouse_code(warehouse)
        wanted = float(quantity)

        def apply_delivery(now: datetime) -> None:
            target = self._find_warehouse(code)
            stock = target.lot_stock_id
            remaining, released = wanted, 0.0
            for move in list(self._moves_by_product.get(pid, ())):
                if remaining <= 0:
                    break
                if (move.state not in OPEN_MOVE_STATES or move.location_id != stock
                        or move.location_dest_id != CUSTOMERS):
                    continue
                take = min(remaining, move.product_uom_qty)
                release = min(take, move.quantity)
                released += release
                if take >= move.product_uom_qty:
                    move.state, move.quantity, move.date = "done", take, now
                else:
                    move.product_uom_qty = round(move.product_uom_qty - take, 6)
                    move.quantity = round(move.quantity - release, 6)
                    self._new_move(now, pid, "done", take, take, stock, CUSTOMERS, move.origin,
                                   move.reference, move.picking_id)
                move.write_date = now
                self._sync_picking(now, move.picking_id)
                remaining = round(remaining - take, 6)
            if remaining > 0:
                picking = self._new_picking(now, target, None, "done")
                self._new_move(now, pid, "done", remaining, remaining, stock, CUSTOMERS, None,
                               picking.name, picking.id)
            quant = self._quant(now, pid, stock)
            quant.quantity = round(quant.quantity - wanted, 6)
            quant.reserved_quantity = round(max(0.0, quant.reserved_quantity - released), 6)
            quant.write_date = now
            customer = self._quant(now, pid, CUSTOMERS)
            customer.quantity = round(customer.quantity + wanted, 6)
            customer.write_date = now

        self._write(apply_delivery)

    def free_qty(self, sku: str | int, warehouses: list[str] | None = None) -> float:
        """Odoo's free_qty of a product in these warehouses (all if None), as RPC would show it."""
        with self._lock:
            pid = self._product_id(sku)
            context: dict[str, Any] = {}
            if warehouses is not None:
                context["location"] = [self._find_warehouse(w).view_location_id
                                       for w in warehouses]
                if not context["location"]:
                    return 0.0
            return _Query(self, context).quantities(self._tables["product.product"][pid])[
                "free_qty"]

    def product_id(self, sku: str) -> int:
        """The id of the (committed) product with this SKU."""
        with self._lock:
            return self._product_id(sku)

    # -- lookups ----------------------------------------------------------------------------
    def _product_id(self, sku_or_id: str | int) -> int:
        products = self._tables["product.product"]
        if isinstance(sku_or_id, int):
            if sku_or_id not in products:
                raise KeyError(f"no product with id {sku_or_id}")
            return sku_or_id
        ids = self._skus.get(sku_or_id, [])
        if not ids:
            raise KeyError(f"no product with SKU {sku_or_id!r}")
        if len(ids) > 1:
            raise KeyError(f"{len(ids)} products have SKU {sku_or_id!r}: {ids}")
        return ids[0]

    def _storable_product(self, sku_or_id: str | int) -> int:
        """The product id (committed or created in the open transaction); it must be storable."""
        pending = self._pending()
        with self._lock:
            try:
                pid = self._product_id(sku_or_id)
                storable = self._tables["product.product"][pid].storable
            except KeyError:
                if pending is None:
                    raise
                matches = [pid for pid, (sku, _) in pending.products.items()
                           if pid == sku_or_id or sku == sku_or_id]
                if len(matches) != 1:
                    raise
                pid = matches[0]
                storable = pending.products[pid][1]
        if not storable:
            raise ValueError(f"product {sku_or_id!r} is not storable: Odoo keeps no stock for it")
        return pid

    def _find_warehouse(self, code_or_name: str, *, strict: bool = True) -> Any:
        for warehouse in self._tables["stock.warehouse"].values():
            if code_or_name in (warehouse.code, warehouse.name):
                return warehouse
        if strict:
            raise KeyError(f"no warehouse {code_or_name!r}")
        return None

    def _warehouse_code(self, code_or_name: str) -> str:
        pending = self._pending()
        with self._lock:
            found = self._find_warehouse(code_or_name, strict=pending is None)
        if found is not None:
            return found.code
        assert pending is not None
        if code_or_name not in pending.warehouses:
            raise KeyError(f"no warehouse {code_or_name!r}")
        return code_or_name

    def _stock_location(self, code_or_name: str) -> int:
        pending = self._pending()
        with self._lock:
            found = self._find_warehouse(code_or_name, strict=pending is None)
            if found is not None:
                return found.lot_stock_id
        assert pending is not None
        # A warehouse created in the open transaction: its location ids are already handed out.
        return pending.warehouses[self._warehouse_code(code_or_name)]

    # -- record creation (callers hold the lock) --------------------------------------------
    def _seed_base(self, now: datetime) -> None:
        base = [
            (PHYSICAL_LOCATIONS, "Physical Locations", "view", None, True),
            (PARTNER_LOCATIONS, "Partners", "view", None, True),
            (VIRTUAL_LOCATIONS, "Virtual Locations", "view", None, True),
            (VENDORS, "Vendors", "supplier", PARTNER_LOCATIONS, True),
            (CUSTOMERS, "Customers", "customer", PARTNER_LOCATIONS, True),
            (TRANSIT, "Inter-company transit", "transit", PHYSICAL_LOCATIONS, False),
            (PRODUCTION, "Production", "production", VIRTUAL_LOCATIONS, True),
            (INVENTORY_ADJUSTMENT, "Inventory adjustment", "inventory", VIRTUAL_LOCATIONS, True),
            (SCRAP, "Scrap", "inventory", VIRTUAL_LOCATIONS, True),
            (PROCUREMENTS, "Procurements", "production", VIRTUAL_LOCATIONS, False),
        ]
        for location_id, name, usage, parent, active in base:
            self._new_location(now, location_id, name, usage, parent, active=active)
        self._sequences["stock.location"] = 7
        partners = self._tables["res.partner"]
        partners[1] = _Partner(1, "My Company", None, now, now)
        partners[2] = _Partner(2, "OdooBot", "odoobot@example.com", now, now, active=False)
        partners[ADMIN_PARTNER_ID] = _Partner(ADMIN_PARTNER_ID, "Administrator", None, now, now)
        self._sequences["res.partner"] = 4
        users = self._tables["res.users"]
        users[1] = _User(1, "__system__", "OdooBot", 2, now, now, active=False)
        users[ADMIN_UID] = _User(ADMIN_UID, self.login, "Administrator", ADMIN_PARTNER_ID,
                                 now, now)
        self._sequences["res.users"] = 3
        for index, model in enumerate(sorted(self._columns, key=_model_rank), start=1):
            name = MODEL_NAMES[model]
            if model == "base.automation" and self._major < 17:
                name = "Automated Action"
            self._tables["ir.model"][index] = _IrModel(index, model, name)

    def _new_location(self, now: datetime, location_id: int, name: str, usage: str,
                      parent: int | None, *, warehouse: int | None = None,
                      active: bool = True) -> _Location:
        locations = self._tables["stock.location"]
        parent_location = locations.get(parent) if parent else None
        if parent_location is None:
            complete_name, parent_path = name, f"{location_id}/"
        else:
            # stock.location._compute_complete_name: a view parent is shown, except at the root
            complete_name = (f"{parent_location.complete_name}/{name}"
                             if usage != "view" else name)
            parent_path = f"{parent_location.parent_path}{location_id}/"
        location = _Location(location_id, name, usage, parent, complete_name, parent_path, now,
                             now, active=active, warehouse_id=warehouse)
        locations[location_id] = location
        return location

    def _new_product(self, now: datetime, pid: int, sku: str | None, name: str,
                     barcode: str | None, kind: str, storable: bool, template_id: int,
                     template_name: str, lst_price: float) -> None:
        templates = self._tables["product.template"]
        template = templates.get(template_id)
        if template is None:
            template = _Template(template_id, template_name, kind, storable, now, now)
            templates[template_id] = template
        template.variant_ids.append(pid)
        self._tables["product.product"][pid] = _Product(pid, sku, name, barcode, kind, storable,
                                                        template_id, lst_price, now, now)
        if sku:
            self._skus.setdefault(sku, []).append(pid)

    def _quant(self, now: datetime, pid: int, location_id: int) -> _Quant:
        quant = self._quant_at.get((pid, location_id))
        if quant is None:
            quant = _Quant(self._alloc("stock.quant"), pid, location_id, 0.0, 0.0, now, now)
            self._tables["stock.quant"][quant.id] = quant
            self._quant_at[(pid, location_id)] = quant
            self._quants_by_product.setdefault(pid, []).append(quant)
        return quant

    def _new_move(self, now: datetime, pid: int, state: str, demand: float, quantity: float,
                  source: int, destination: int, origin: str | None, reference: str,
                  picking_id: int | None) -> _Move:
        move = _Move(self._alloc("stock.move"), pid, state, demand, quantity, source,
                     destination, origin, reference, picking_id, now, now, now)
        self._tables["stock.move"][move.id] = move
        self._moves_by_product.setdefault(pid, []).append(move)
        return move

    def _new_picking(self, now: datetime, warehouse: _Warehouse, origin: str | None,
                     state: str, *, picking_id: int | None = None,
                     sale_id: int | None = None) -> _Picking:
        warehouse.out_sequence += 1
        picking = _Picking(self._alloc("stock.picking", picking_id),
                           f"{warehouse.code}/OUT/{warehouse.out_sequence:05d}", origin, state,
                           warehouse.lot_stock_id, CUSTOMERS, now, now, sale_id=sale_id)
        self._tables["stock.picking"][picking.id] = picking
        return picking

    def _sync_picking(self, now: datetime, picking_id: int | None) -> None:
        picking = self._tables["stock.picking"].get(picking_id) if picking_id else None
        if picking is None:
            return
        states = {m.state for m in self._tables["stock.move"].values()
                  if m.picking_id == picking_id}
        state = "done" if states == {"done"} else picking.state
        if state != picking.state:
            picking.state, picking.write_date = state, now

    # -- schema -----------------------------------------------------------------------------
    def _display(self, model: str, record: Any) -> str:
        """display_name as Odoo computes it for the simulated models."""
        if model == "product.product":
            return f"[{record.default_code}] {record.name}" if record.default_code else record.name
        if model == "product.template":
            variants = [self._tables["product.product"][v] for v in record.variant_ids
                        if v in self._tables["product.product"]]
            if len(variants) == 1 and variants[0].default_code:
                return f"[{variants[0].default_code}] {record.name}"
            return record.name
        if model == "stock.location":
            return record.complete_name
        if model == "stock.quant":
            product = self._tables["product.product"][record.product_id]
            return f"{self._tables['stock.location'][record.location_id].complete_name} - " \
                   f"{self._display('product.product', product)}"
        if model == "stock.move":
            return record.reference or str(record.id)
        if model == "sale.order.line":
            # sale.order.line._compute_display_name (17/18): "<order> - <first line of name>"
            order = self._tables["sale.order"].get(record.order_id)
            return f"{order.name if order else ''} - {record.name.splitlines()[0]}"
        if model == "ir.model":
            return record.name
        if model == "ir.model.fields":
            return f"{record.field_description} ({record.model})"
        if model == "ir.module.module":
            return record.shortdesc
        if model == "base.automation" and self._major < 17:
            return self._tables["ir.actions.server"][record.action_server_id].name
        return record.name

    def _schema(self) -> dict[str, dict[str, _Column]]:
        """Fields per model, as this Odoo version has them (only what the simulator models)."""
        major = self._major

        def col(name: str, kind: str, string: str, get: Callable[[Any, _Query], Any] | None = None,
                relation: str | None = None, store: bool = True,
                selection: tuple[tuple[str, str], ...] | None = None) -> tuple[str, _Column]:
            return name, _Column(Field(name, kind, string, relation, store, selection),
                                 get or _attr(name))

        def display(model: str) -> tuple[str, _Column]:
            return col("display_name", "char", "Display Name",
                       lambda r, q: self._display(model, r), store=False)

        def dates() -> list[tuple[str, _Column]]:
            return [col("create_date", "datetime", "Created on"),
                    col("write_date", "datetime", "Last Updated on")]

        def quantity(name: str, string: str) -> tuple[str, _Column]:
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
        location_warehouse = self._tables["stock.location"]

        def quant_warehouse(record: _Quant, query: _Query) -> int | None:
            location = location_warehouse.get(record.location_id)
            return location.warehouse_id if location and location.usage == "internal" else None

        schema: dict[str, list[tuple[str, _Column]]] = {
            "product.product": [
                col("id", "integer", "ID"),
                col("default_code", "char", "Internal Reference"),
                col("barcode", "char", "Barcode"),
                col("name", "char", "Name"),
                display("product.product"),
                col("type", "selection", "Product Type", selection=product_types),
                *storable,
                col("product_tmpl_id", "many2one", "Product Template", _attr("tmpl_id"),
                    relation="product.template"),
                col("active", "boolean", "Active"),
                col("lst_price", "float", "Sales Price", store=False),
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
                col("location_id", "many2one", "Parent Location", _attr("parent_id"),
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
        schema.update(self._configuration_schema(col, display, dates))
        schema.update(self._sale_schema(col, display, dates))
        return {model: dict(columns) for model, columns in schema.items()}

    # -- configuration models: automation rules and what they point at ----------------------
    def install_module(self, name: str) -> None:
        """Report the Odoo module `name` installed in ir.module.module from now on."""
        with self._lock:
            self.installed_modules.add(name)
            self._sync_modules()

    def _configuration_schema(
        self, col: Callable[..., tuple[str, _Column]], display: Callable[[str], tuple[str, _Column]],
        dates: Callable[[], list[tuple[str, _Column]]],
    ) -> dict[str, list[tuple[str, _Column]]]:
        """ir.model.fields(.selection), ir.module.module, ir.actions.server, base.automation.

        Field names as each version has them, read in public copies of the Odoo source:
        - 17 (UmmeHani-SCI/Odoo17-UH_Hospital_Management @ 02f3b73) and 18 (informaticeng0011/
          odoo_18.0 @ 011dedd), addons/base_automation/models/base_automation.py and
          odoo/addons/base/models/ir_actions.py: base.automation has `model_id` (ir.model),
          `trigger`, `trigger_field_ids` (ir.model.fields), `trg_selection_field_id`
          (ir.model.fields.selection), `trg_field_ref`, `filter_pre_domain`, `filter_domain`,
          `active`, and its actions in the one2many `action_server_ids` (inverse
          `base_automation_id` of ir.actions.server, usage 'base_automation'); only 17 has
          `trg_field_ref_display_name`. ir.actions.server has the states 'code' (`code`) and
          'webhook' (`webhook_url`, `webhook_field_ids`) in both.
        - 16 (several public copies of the same base_automation.py): base.automation delegates to
          one server action (`action_server_id`, delegate=True): name, model_id, state and code
          live on the action; the triggers are on_create/on_write/on_create_or_write/on_unlink/
          on_change/on_time; ir.actions.server has no 'webhook' state.
        How the computed fields of base.automation react to writes is in _recompute_automation.
        """
        major = self._major
        actions = self._tables["ir.actions.server"]

        def model_name(record: Any, query: _Query) -> str | None:
            return self._model_name(record.model_id)

        def delegated(name: str) -> Callable[[Any, _Query], Any]:
            return lambda record, query: getattr(actions[record.action_server_id], name)

        field_types = tuple((t, t) for t in (
            "binary", "boolean", "char", "date", "datetime", "float", "html", "integer", "json",
            "many2many", "many2one", "many2one_reference", "monetary", "one2many", "properties",
            "reference", "selection", "text"))
        module_states = (("uninstallable", "Uninstallable"), ("uninstalled", "Not Installed"),
                         ("installed", "Installed"), ("to upgrade", "To be upgraded"),
                         ("to remove", "To be removed"), ("to install", "To be installed"))
        usages = (("ir_actions_server", "Server Action"), ("ir_cron", "Scheduled Action"),
                  ("base_automation", "Automation Rule"))
        states = (("object_write", "Update Record"), ("object_create", "Create Record"),
                  ("code", "Execute Code"),
                  *((("webhook", "Send Webhook Notification"),) if major >= 17 else ()),
                  ("multi", "Execute Existing Actions"), ("mail_post", "Send Email"),
                  ("followers", "Add Followers"), ("next_activity", "Create Activity"))
        schema: dict[str, list[tuple[str, _Column]]] = {
            "ir.model.fields": [
                col("id", "integer", "ID"),
                col("name", "char", "Field Name"),
                col("model", "char", "Model Name"),
                col("model_id", "many2one", "Model", relation="ir.model"),
                col("field_description", "char", "Field Label"),
                col("ttype", "selection", "Field Type", selection=field_types),
                col("relation", "char", "Related Model"),
                col("store", "boolean", "Stored"),
                display("ir.model.fields"),
            ],
            "ir.model.fields.selection": [
                col("id", "integer", "ID"),
                col("field_id", "many2one", "Field", relation="ir.model.fields"),
                col("value", "char", "Value"),
                col("name", "char", "Name"),
                col("sequence", "integer", "Sequence"),
                display("ir.model.fields.selection"),
            ],
            "ir.module.module": [
                col("id", "integer", "ID"),
                col("name", "char", "Technical Name"),
                col("shortdesc", "char", "Module Name"),
                col("state", "selection", "Status", selection=module_states),
                col("latest_version", "char", "Installed Version"),
                display("ir.module.module"),
            ],
            "ir.actions.server": [
                col("id", "integer", "ID"),
                col("name", "char", "Action Name"),
                col("type", "char", "Action Type"),
                col("usage", "selection", "Usage", selection=usages),
                col("state", "selection", "Type", selection=states),
                col("sequence", "integer", "Sequence"),
                col("model_id", "many2one", "Model", relation="ir.model"),
                col("model_name", "char", "Model Name", model_name),
                col("code", "text", "Python Code"),
                *([col("webhook_url", "char", "Webhook URL"),
                   col("webhook_field_ids", "many2many", "Webhook Fields",
                       relation="ir.model.fields"),
                   col("base_automation_id", "many2one", "Automation Rule",
                       relation="base.automation")] if major >= 17 else []),
                display("ir.actions.server"),
                *dates(),
            ],
        }
        if major >= 17:
            triggers = (
                ("on_stage_set", "Stage is set to"), ("on_user_set", "User is set"),
                ("on_tag_set", "Tag is added"), ("on_state_set", "State is set to"),
                ("on_priority_set", "Priority is set to"), ("on_archive", "On archived"),
                ("on_unarchive", "On unarchived"), ("on_create_or_write", "On save"),
                ("on_create", "On creation"), ("on_write", "On update"),
                ("on_unlink", "On deletion"), ("on_change", "On UI change"),
                ("on_time", "Based on date field"), ("on_time_created", "After creation"),
                ("on_time_updated", "After last update"),
                ("on_message_received", "On incoming message"),
                ("on_message_sent", "On outgoing message"), ("on_webhook", "On webhook"))
            schema["base.automation"] = [
                col("id", "integer", "ID"),
                col("name", "char", "Automation Rule Name"),
                col("model_id", "many2one", "Model", relation="ir.model"),
                col("model_name", "char", "Model Name", model_name, store=False),
                col("trigger", "selection", "Trigger", selection=triggers),
                col("trigger_field_ids", "many2many", "Trigger Fields",
                    relation="ir.model.fields"),
                col("trg_selection_field_id", "many2one", "Trigger Field",
                    relation="ir.model.fields.selection"),
                col("trg_field_ref", "many2one_reference", "Trigger Reference"),
                *([col("trg_field_ref_display_name", "char", "Trigger Reference Display Name",
                       lambda r, q: None, store=False)] if major == 17 else []),
                col("filter_pre_domain", "char", "Before Update Domain"),
                col("filter_domain", "char", "Apply on"),
                col("action_server_ids", "one2many", "Actions",
                    lambda r, q: [a.id for a in self._automation_actions(r.id)],
                    relation="ir.actions.server", store=False),
                col("active", "boolean", "Active"),
                col("last_run", "datetime", "Last Run"),
                display("base.automation"),
                *dates(),
            ]
        else:
            triggers = (("on_create", "On Creation"), ("on_write", "On Update"),
                        ("on_create_or_write", "On Creation & Update"),
                        ("on_unlink", "On Deletion"), ("on_change", "Based on Form Modification"),
                        ("on_time", "Based on Timed Condition"))
            schema["base.automation"] = [
                col("id", "integer", "ID"),
                col("action_server_id", "many2one", "Server Actions",
                    relation="ir.actions.server"),
                col("name", "char", "Action Name", delegated("name")),
                col("model_id", "many2one", "Model", delegated("model_id"), relation="ir.model"),
                col("model_name", "char", "Model Name",
                    lambda r, q: self._model_name(actions[r.action_server_id].model_id),
                    store=False),
                col("state", "selection", "Type", delegated("state"), selection=states),
                col("code", "text", "Python Code", delegated("code")),
                col("trigger", "selection", "Trigger", selection=triggers),
                col("trigger_field_ids", "many2many", "Trigger Fields",
                    relation="ir.model.fields"),
                col("filter_pre_domain", "char", "Before Update Domain"),
                col("filter_domain", "char", "Apply on"),
                col("active", "boolean", "Active"),
                col("last_run", "datetime", "Last Run"),
                display("base.automation"),
                *dates(),
            ]
        return schema

    def _seed_configuration(self, now: datetime) -> None:
        """An ir.model.fields row (and its selection values) for every simulated field; modules."""
        model_ids = {row.model: row.id for row in self._tables["ir.model"].values()}
        fields_table = self._tables["ir.model.fields"]
        selections = self._tables["ir.model.fields.selection"]
        for model in sorted(self._columns, key=_model_rank):
            for name, column in self._columns[model].items():
                spec = column.field
                field_id = self._alloc("ir.model.fields")
                fields_table[field_id] = _Row(field_id, {
                    "name": name, "model": model, "model_id": model_ids[model],
                    "field_description": spec.string, "ttype": spec.type,
                    "relation": spec.relation, "store": spec.store})
                self._field_ids[(model, name)] = field_id
                for sequence, (value, label) in enumerate(spec.selection or ()):
                    selection_id = self._alloc("ir.model.fields.selection")
                    selections[selection_id] = _Row(selection_id, {
                        "field_id": field_id, "value": value, "name": label,
                        "sequence": sequence})
        self._sync_modules()

    def _sync_modules(self) -> None:
        """ir.module.module rows follow `installed_modules` (a module taken out: 'uninstalled')."""
        with self._lock:
            table = self._tables["ir.module.module"]
            by_name = {row.name: row for row in table.values()}
            changed = False
            for name in sorted(self.installed_modules | set(by_name)):
                state = "installed" if name in self.installed_modules else "uninstalled"
                row = by_name.get(name)
                if row is None:
                    module_id = self._alloc("ir.module.module")
                    table[module_id] = _Row(module_id, {
                        "name": name, "shortdesc": MODULE_TITLES.get(name, name), "state": state,
                        "latest_version": f"{self._major}.{self._minor}.1.0"})
                    changed = True
                elif row.state != state:
                    row.values["state"] = state
                    changed = True
            if changed:
                self._changed()

    def _model_name(self, model_id: int | None) -> str | None:
        row = self._tables["ir.model"].get(model_id) if model_id else None
        return row.model if row is not None else None

    def _automation_actions(self, automation_id: int) -> list[_Row]:
        """The actions of a rule (17+: their base_automation_id), in ir.actions.server order."""
        rows = [a for a in self._tables["ir.actions.server"].values()
                if a.values.get("base_automation_id") == automation_id]
        return sorted(rows, key=lambda a: (a.sequence or 0, a.name or "", a.id))

    def _config_call(self, model: str, method: str, bound: dict[str, Any]) -> Any:
        """create/write/unlink on a configuration model: all or nothing, like one Odoo RPC."""
        saved = {name: {i: _Row(r.id, copy.deepcopy(r.values))
                        for i, r in self._tables[name].items()} for name in WRITABLE_MODELS}
        try:
            if method == "create":
                vals_list = bound["vals_list"]
                items = [vals_list] if isinstance(vals_list, dict) else vals_list
                if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
                    raise _type_error("create() takes a dict of values or a list of them")
                ids = [self._config_create(model, vals) for vals in items]
                # odoo.api.call_kw: a dict gives one id, a list gives a list of ids
                result: Any = ids[0] if isinstance(vals_list, dict) else ids
            elif method == "write":
                if not isinstance(bound["vals"], dict):
                    raise _type_error("write() takes a dict of values")
                self._config_write(model, self._existing(model, bound["ids"]), bound["vals"])
                result = True
            else:
                self._config_unlink(model, self._existing(model, bound["ids"]))
                result = True
        except BaseException:
            for name, rows in saved.items():
                self._tables[name].clear()
                self._tables[name].update(rows)
            raise
        finally:
            self._changed()
        return result

    def _existing(self, model: str, ids: Any) -> list[int]:
        found = []
        for record_id in _as_ids(ids):
            if not isinstance(record_id, int) or record_id not in self._tables[model]:
                raise OdooFault("odoo.exceptions.MissingError",
                                "Record does not exist or has been deleted.\n"
                                f"(Record: {model}({record_id!r},), User: {ADMIN_UID})")
            found.append(record_id)
        return found

    def _config_defaults(self, model: str, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {name: None for name, column in self._columns[model].items()
                                  if column.field.store and name != "id"}
        if model == "base.automation" and self._major < 17:
            values = {k: v for k, v in values.items() if k not in DELEGATED_16}
        values.update(create_date=now, write_date=now)
        if model == "ir.actions.server":
            values.update(type="ir.actions.server", usage="ir_actions_server",
                          state="object_write", sequence=5, code=DEFAULT_PYTHON_CODE)
            if self._major >= 17:
                values["webhook_field_ids"] = []
        elif model == "base.automation":
            values.update(active=True, trigger_field_ids=[])
        return values

    def _config_create(self, model: str, vals: dict[str, Any]) -> int:
        vals = dict(vals)
        if model == "base.automation" and self._major < 17:
            # 16's delegation: the action's fields create (or update) the delegated action.
            own, delegated = self._split_delegated(vals)
            if own.get("action_server_id"):
                if delegated:
                    self._config_write("ir.actions.server", [own["action_server_id"]], delegated)
            else:
                delegated.setdefault("usage", "base_automation")
                own["action_server_id"] = self._config_create("ir.actions.server", delegated)
            vals = own
        record_id = self._alloc(model)
        row = _Row(record_id, self._config_defaults(model, self._clock()))
        self._tables[model][record_id] = row
        self._assign(model, row, vals, creating=True)
        return record_id

    def _config_write(self, model: str, ids: list[int], vals: dict[str, Any]) -> None:
        for record_id in ids:
            row = self._tables[model][record_id]
            values = dict(vals)
            if model == "base.automation" and self._major < 17:
                values, delegated = self._split_delegated(values)
                if delegated:
                    self._config_write("ir.actions.server", [row.action_server_id], delegated)
            self._assign(model, row, values, creating=False)

    def _split_delegated(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        delegated = {k: v for k, v in vals.items() if k in DELEGATED_16}
        return {k: v for k, v in vals.items() if k not in DELEGATED_16}, delegated

    def _config_unlink(self, model: str, ids: list[int]) -> None:
        table = self._tables[model]
        for record_id in ids:
            if model == "ir.actions.server" and self._major < 17 and any(
                    rule.action_server_id == record_id
                    for rule in self._tables["base.automation"].values()):
                # 16: base.automation.action_server_id is ondelete='restrict'
                raise OdooFault("odoo.exceptions.ValidationError",
                                "The operation cannot be completed: another model requires the "
                                "record being deleted. If possible, archive it instead.")
            if model == "base.automation" and self._major >= 17:
                # ir.actions.server.base_automation_id is ondelete='cascade'
                for action in self._automation_actions(record_id):
                    del self._tables["ir.actions.server"][action.id]
            del table[record_id]

    def _assign(self, model: str, row: _Row, vals: dict[str, Any], *, creating: bool) -> None:
        """Convert and store `vals` on `row`, recompute what depends on them, then validate."""
        columns = self._columns[model]
        written: set[str] = set()
        one2many: list[tuple[str, Any]] = []
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                # Stricter than Odoo, whose create() only logs "includes unknown fields" (write()
                # raises this): a field the version lacks must not pass unnoticed in tests.
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if name == "model_name" and model == "base.automation" and self._major >= 17:
                # 17/18: related with an inverse (_inverse_model_name sets model_id)
                model_id = next((m.id for m in self._tables["ir.model"].values()
                                 if m.model == value), None)
                row.values["model_id"] = model_id
                written.add("model_id")
                continue
            if name in ("id", "display_name", "create_date", "write_date", "model_name") or (
                    not column.field.store and column.field.type != "one2many"):
                continue  # read-only: Odoo ignores what is written to them
            if column.field.type == "one2many":
                one2many.append((name, value))
                written.add(name)
                continue
            row.values[name] = self._convert(model, column.field, value, row.values.get(name))
            written.add(name)
        if model == "base.automation" and self._major >= 17:
            self._recompute_automation(row, written, creating=creating)
        row.values["write_date"] = self._clock()
        for _name, value in one2many:
            self._assign_actions(row, value)
        self._validate(model, row)

    def _convert(self, model: str, field: Field, value: Any, current: Any) -> Any:
        """A written value as the simulator stores it; Odoo's errors for wrong ones."""
        kind, name = field.type, field.name
        if kind == "many2many":
            return self._many2many(model, field, current or [], value)
        if value is None or value is False:
            return False if kind == "boolean" else None
        if kind == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Wrong value for {model}.{name}: {value!r}")
            self._check_ids(model, field, [value])
            return value
        if kind == "selection":
            if value not in dict(field.selection or ()):
                raise ValueError(f"Wrong value for {model}.{name}: {value!r}")
            return value
        if kind in ("char", "text"):
            return str(value)
        if kind == "boolean":
            return bool(value)
        if kind in ("integer", "many2one_reference"):
            return int(value)
        if kind == "datetime":
            return parse_datetime(value)
        return value

    def _check_ids(self, model: str, field: Field, ids: Iterable[Any]) -> None:
        table = self._tables[field.relation or ""]
        for record_id in ids:
            if isinstance(record_id, bool) or not isinstance(record_id, int):
                raise ValueError(f"Wrong value for {model}.{field.name}: {record_id!r}")
            if record_id not in table:
                # A foreign key violation, which odoo.service.model turns into a ValidationError.
                raise OdooFault("odoo.exceptions.ValidationError",
                                f"The operation cannot be completed: {model}.{field.name} "
                                f"refers to {field.relation}({record_id},), which does not exist.")

    def _many2many(self, model: str, field: Field, current: list[int], value: Any) -> list[int]:
        """Apply x2many commands (or a plain list of ids) to a many2many's ids."""
        if value is None or value is False:
            return []
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for {model}.{field.name}: {value!r}")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [[6, 0, list(value)]]
        result = list(current)
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Wrong value for {model}.{field.name}: {command!r}")
            code = command[0]
            if code == 6:
                ids = list(command[2]) if len(command) > 2 and command[2] else []
                self._check_ids(model, field, ids)
                result = list(dict.fromkeys(ids))
            elif code == 5:
                result = []
            elif code == 4:
                self._check_ids(model, field, [command[1]])
                if command[1] not in result:
                    result.append(command[1])
            elif code == 3:
                result = [i for i in result if i != command[1]]
            else:
                raise OdooFault("builtins.NotImplementedError",
                                f"x2many command {code!r} on {model}.{field.name} is not "
                                f"simulated")
        return result

    def _assign_actions(self, rule: _Row, value: Any) -> None:
        """base.automation.action_server_ids commands (17+); the inverse is base_automation_id."""
        current = [a.id for a in self._automation_actions(rule.id)]
        if value is None or value is False:
            value = [[5]]
        elif isinstance(value, (list, tuple)) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [[6, 0, list(value)]]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for base.automation.action_server_ids: {value!r}")
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Wrong value for base.automation.action_server_ids: "
                                 f"{command!r}")
            code = command[0]
            if code == 0:
                vals = dict(command[2] or {})
                vals["base_automation_id"] = rule.id
                # the one2many's context={'default_usage': 'base_automation'}
                vals.setdefault("usage", "base_automation")
                self._config_create("ir.actions.server", vals)
            elif code == 1:
                self._config_write("ir.actions.server", self._existing(
                    "ir.actions.server", [command[1]]), dict(command[2] or {}))
            elif code in (2, 3):
                # unlink (3) deletes too: the inverse base_automation_id is ondelete='cascade'
                self._config_unlink("ir.actions.server",
                                    self._existing("ir.actions.server", [command[1]]))
            elif code == 4:
                self._config_write("ir.actions.server", self._existing(
                    "ir.actions.server", [command[1]]), {"base_automation_id": rule.id})
            elif code in (5, 6):
                keep = list(command[2] or []) if code == 6 and len(command) > 2 else []
                gone = [i for i in current if i not in keep]
                self._config_unlink("ir.actions.server", gone)
                if keep:
                    self._config_write("ir.actions.server",
                                       self._existing("ir.actions.server", keep),
                                       {"base_automation_id": rule.id})
            else:
                raise ValueError(f"Wrong value for base.automation.action_server_ids: "
                                 f"{command!r}")
            current = [a.id for a in self._automation_actions(rule.id)]
        self._validate("base.automation", rule)

    def _validate(self, model: str, row: _Row) -> None:
        """Required fields and the constraints Odoo checks on these models."""
        required = {"ir.actions.server": ("name", "model_id", "state", "usage"),
                    "base.automation": (("model_id", "trigger", "name") if self._major >= 17
                                        else ("action_server_id", "trigger"))}[model]
        for name in required:
            if row.values.get(name) in (None, False, ""):
                string = self._columns[model][name].field.string
                # NOT NULL violation as odoo.service.model reports it (not recorded)
                raise OdooFault("odoo.exceptions.ValidationError",
                                "The operation cannot be completed:\n"
                                "- Create/update: a mandatory field is not set.\n"
                                "- Delete: another model requires the record being deleted. "
                                "If possible, archive it instead.\n\n"
                                f"Model: {MODEL_NAMES[model]} ({model})\n"
                                f"Field: {string} ({name})")
        if model == "ir.actions.server":
            target = self._model_name(row.model_id)
            for field_id in row.values.get("webhook_field_ids") or []:
                name = self._tables["ir.model.fields"][field_id].name
                if name not in self._columns.get(target or "", {}):
                    # _check_webhook_field_ids looks the name up in Model._fields
                    raise OdooFault("builtins.KeyError", repr(name))
            if row.state == "code" and row.code:
                try:
                    compile(row.code, "<server action>", "exec")
                except SyntaxError as error:  # _check_python_code
                    raise OdooFault("odoo.exceptions.ValidationError",
                                    f"SyntaxError : {error.msg} at line {error.lineno}") from None
        elif model == "base.automation" and self._major >= 17:
            wrong = [a for a in self._automation_actions(row.id) if a.model_id != row.model_id]
            if wrong:  # _check_action_server_model
                raise OdooFault("odoo.exceptions.ValidationError",
                                f"Target model of actions {', '.join(a.name for a in wrong)} "
                                f"are different from rule model.")

    def _recompute_automation(self, row: _Row, written: set[str], *, creating: bool) -> None:
        """The stored computed fields of base.automation that depend on what was written.

        Odoo recomputes a stored computed field (readonly=False) when one of its dependencies is
        written and the field itself is not in the same write; on create, every computed field
        not given is computed. The computes differ between versions (base_automation.py of each,
        copies named in _configuration_schema):
        - 18: trigger <- model_id (reset); trg_selection_field_id, trg_field_ref <- trigger
          (reset); filter_domain <- trigger, trg_selection_field_id, trg_field_ref (e.g.
          on_state_set gives [('state', '=', <value>)], on_create_or_write gives False);
          trigger_field_ids <- model_id, trigger, filter_domain (on_create_or_write ADDS the
          fields the domain names, e.g. location_id; other triggers: their field).
        - 17: trigger_field_ids (and trigger) <- model_id, trigger (on_create_or_write: none);
          trg_selection_field_id, trg_field_ref <- trigger, trigger_field_ids (reset);
          filter_domain <- trigger, trigger_field_ids, trg_selection_field_id, trg_field_ref
          (from the one trigger field; left as it is with several, False with none).
        So a write that changes one of these without the others can change the rest.
        """
        values = row.values
        model = self._model_name(values.get("model_id"))
        fields_table = self._tables["ir.model.fields"]

        def selection_value() -> str | None:
            selection = self._tables["ir.model.fields.selection"].get(
                values.get("trg_selection_field_id"))
            return selection.value if selection is not None else None

        def domain_for(field_name: str) -> str | None:
            trigger = values.get("trigger")
            if trigger in ("on_state_set", "on_priority_set"):
                value = selection_value()
                if self._major >= 18:
                    return repr([(field_name, "=", value)]) if value else None
                return f"[('{field_name}', '=', '{value}')]" if value else None
            if trigger == "on_user_set":
                return repr([(field_name, "!=", False)])
            if trigger in ("on_archive", "on_unarchive"):
                return repr([(field_name, "=", trigger == "on_unarchive")])
            return None  # stage/tag need trg_field_ref (not modelled); the others: False

        def filter_domain_18() -> str | None:
            trigger = values.get("trigger")
            if trigger in ("on_create_or_write", *TIME_TRIGGERS):
                return None
            field_id = self._trigger_field(model, trigger)
            return domain_for(fields_table[field_id].name) if field_id else None

        def trigger_fields_18() -> list[int]:
            trigger = values.get("trigger")
            if trigger == "on_create_or_write":
                named = self._domain_field_ids(model, values.get("filter_domain"))
                return list(dict.fromkeys([*(values.get("trigger_field_ids") or []), *named]))
            field_id = None if trigger in TIME_TRIGGERS else self._trigger_field(model, trigger)
            return [field_id] if field_id else []

        def trigger_fields_17() -> list[int]:
            trigger = values.get("trigger")
            if trigger not in TRIGGER_FIELDS:
                return []
            field_id = self._trigger_field(model, trigger)
            if field_id is None and "trigger" not in written:
                values["trigger"] = None
            return [field_id] if field_id else []

        def filter_domain_17() -> str | None:
            ids = values.get("trigger_field_ids") or []
            if len(ids) > 1:
                return values.get("filter_domain")
            return domain_for(fields_table[ids[0]].name) if ids else None

        def reset() -> None:
            return None

        computes: list[tuple[str, set[str], Callable[[], Any]]]
        if self._major >= 18:
            computes = [
                ("trigger", {"model_id"}, reset),
                ("trg_selection_field_id", {"trigger"}, reset),
                ("trg_field_ref", {"trigger"}, reset),
                ("filter_pre_domain", {"trigger", "trg_field_ref"}, reset),
                ("filter_domain", {"trigger", "trg_selection_field_id", "trg_field_ref"},
                 filter_domain_18),
                ("trigger_field_ids", {"model_id", "trigger", "filter_domain"},
                 trigger_fields_18),
            ]
        else:
            computes = [
                ("trigger_field_ids", {"model_id", "trigger"}, trigger_fields_17),
                ("trg_selection_field_id", {"trigger", "trigger_field_ids"}, reset),
                ("trg_field_ref", {"trigger", "trigger_field_ids"}, reset),
                ("filter_pre_domain", {"trigger", "trigger_field_ids", "trg_field_ref"}, reset),
                ("filter_domain", {"trigger", "trigger_field_ids", "trg_selection_field_id",
                                   "trg_field_ref"}, filter_domain_17),
            ]
        changed = set(written)
        for name, depends, compute in computes:
            if name not in written and (creating or depends & changed):
                values[name] = compute()
                changed.add(name)

    def _trigger_field(self, model: str | None, trigger: str | None) -> int | None:
        """_get_trigger_specific_field (18) / the search of 17: the field a trigger watches."""
        spec = TRIGGER_FIELDS.get(trigger or "")
        if spec is None or model is None:
            return None
        types, names, relation = spec
        found = sorted(
            (row.name, row.id) for row in self._tables["ir.model.fields"].values()
            if row.model == model and row.name in names and row.ttype in types
            and (relation is None or row.relation == relation))
        return found[0][1] if found else None

    def _domain_field_ids(self, model: str | None, domain: str | None) -> list[int]:
        """The fields a domain string names (18's DOMAIN_FIELDS_RE, first path component)."""
        if not domain or model is None:
            return []
        names = [m.group("field") for m in DOMAIN_FIELD.finditer(domain)]
        return [self._field_ids[(model, n)] for n in dict.fromkeys(names)
                if (model, n) in self._field_ids]

    # -- sales: res.partner, sale.order, sale.order.line -------------------------------------
    #
    # What the daemon's order sync calls, as Odoo 16-18 (sale + sale_stock) answer it. Read in
    # the public copy of Odoo 18 named in _Query.selected_locations (informaticeng0011/odoo_18.0
    # @ 011dedd, addons/sale/models/sale_order.py, addons/sale_stock/models/sale_order_line.py):
    # - action_confirm: UserError "Some orders are not in a state requiring confirmation." unless
    #   every order is draft/sent (_confirmation_error_message); state 'sale', date_order now;
    #   sale_stock launches the stock rule: one delivery per order from the warehouse's stock to
    #   Partners/Customers, a move per goods line whose origin is "<name> - <client_order_ref>"
    #   (or just the name), reserved at once (delivery type reservation_method 'at_confirm').
    #   Recorded: 06b/06c (picking_ids), 06d (free_qty drops, on hand does not), 07a/07b.
    # - action_cancel: UserError for a locked order; unless the context has
    #   `disable_cancel_warning`, any order not in draft makes it return the sale.order.cancel
    #   wizard action (ensure_one: one order only) and cancel nothing (recorded 06e); otherwise
    #   _action_cancel: the deliveries not done are cancelled (moves cancelled, reservations
    #   released) and the state is 'cancel' (recorded 06f/06g). Same in 16 and 17.
    # - a confirmed order's lines cannot be deleted (_check_line_unlink / _unlink_except_confirmed,
    #   17/18): "set the quantity to 0 instead". A changed quantity on a confirmed order is
    #   procured again for the difference (_action_launch_stock_rule with the previous quantity):
    #   more is added to the line's open move and reserved, less lowers it and frees the excess.
    # - amounts: price_unit defaults to the product's lst_price (the default pricelist), and one
    #   price-excluded tax `sale_tax` (15% as on the recorded server; 0 to ignore taxes) rounded
    #   per line to the cent (round_per_line); no discounts, pricelists, fiscal positions.
    # Not modelled: locking ('done' in 16, `locked` in 17+; off by default), quotation sending,
    # invoices, routes other than one-step delivery, UoMs other than Units.
    def _sale_schema(
        self, col: Callable[..., tuple[str, _Column]], display: Callable[[str], tuple[str, _Column]],
        dates: Callable[[], list[tuple[str, _Column]]],
    ) -> dict[str, list[tuple[str, _Column]]]:
        """sale.order and sale.order.line, with the sale_stock fields."""
        states = (("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"),
                  *((("done", "Locked"),) if self._major < 17 else ()), ("cancel", "Cancelled"))

        def amount(index: int) -> Callable[[Any, _Query], float]:
            return lambda record, query: self._order_amounts(record.id)[index]

        def type_name(record: _SaleOrder, query: _Query) -> str:
            # sale.order._compute_type_name
            return "Quotation" if record.state in ("draft", "sent", "cancel") else "Sales Order"

        return {
            "sale.order": [
                col("id", "integer", "ID"),
                col("name", "char", "Order Reference"),
                display("sale.order"),
                col("state", "selection", "Status", selection=states),
                col("partner_id", "many2one", "Customer", relation="res.partner"),
                col("client_order_ref", "char", "Customer Reference"),
                col("origin", "char", "Source Document"),
                col("warehouse_id", "many2one", "Warehouse", relation="stock.warehouse"),
                col("date_order", "datetime", "Order Date"),
                col("order_line", "one2many", "Order Lines",
                    lambda r, q: [line.id for line in self._order_lines(r.id)],
                    relation="sale.order.line", store=False),
                col("picking_ids", "one2many", "Transfers",
                    lambda r, q: [p.id for p in self._order_pickings(r.id)],
                    relation="stock.picking", store=False),
                col("delivery_count", "integer", "Delivery Orders",
                    lambda r, q: len(self._order_pickings(r.id)), store=False),
                col("amount_untaxed", "monetary", "Untaxed Amount", amount(0)),
                col("amount_tax", "monetary", "Taxes", amount(1)),
                col("amount_total", "monetary", "Total", amount(2)),
                col("type_name", "char", "Type Name", type_name, store=False),
                *([col("locked", "boolean", "Locked")] if self._major >= 17 else []),
                *dates(),
            ],
            "sale.order.line": [
                col("id", "integer", "ID"),
                col("order_id", "many2one", "Order Reference", relation="sale.order"),
                col("sequence", "integer", "Sequence"),
                col("name", "text", "Description"),
                display("sale.order.line"),
                col("product_id", "many2one", "Product", relation="product.product"),
                col("product_uom_qty", "float", "Quantity"),
                col("price_unit", "float", "Unit Price"),
                col("price_subtotal", "monetary", "Subtotal",
                    lambda r, q: round(r.product_uom_qty * r.price_unit, 2)),
                col("qty_delivered", "float", "Delivery Quantity",
                    lambda r, q: self._qty_delivered(r.id)),
                col("state", "selection", "Order Status",
                    lambda r, q: self._tables["sale.order"][r.order_id].state,
                    selection=states),
                *dates(),
            ],
        }

    def _order_lines(self, order_id: int) -> list[_SaleLine]:
        return sorted((line for line in self._tables["sale.order.line"].values()
                       if line.order_id == order_id), key=lambda line: (line.sequence, line.id))

    def _order_pickings(self, order_id: int) -> list[_Picking]:
        return sorted((p for p in self._tables["stock.picking"].values() if p.sale_id == order_id),
                      key=lambda p: p.id)

    def _line_moves(self, line_id: int) -> list[_Move]:
        return [m for m in self._tables["stock.move"].values() if m.sale_line_id == line_id]

    def _qty_delivered(self, line_id: int) -> float:
        """sale_stock's qty_delivered: done moves to a customer location (minus returns)."""
        total = 0.0
        for move in self._line_moves(line_id):
            if move.state == "done":
                total += move.quantity if move.location_dest_id == CUSTOMERS else -move.quantity
        return round(total, 2)

    def _order_amounts(self, order_id: int) -> tuple[float, float, float]:
        """(amount_untaxed, amount_tax, amount_total), rounded per line to the cent."""
        untaxed = tax = 0.0
        for line in self._order_lines(order_id):
            subtotal = round(line.product_uom_qty * line.price_unit, 2)
            untaxed += subtotal
            tax += round(subtotal * self.sale_tax, 2)
        return round(untaxed, 2), round(tax, 2), round(untaxed + tax, 2)

    def _sale_call(self, query: _Query, model: str, method: str, bound: dict[str, Any]) -> Any:
        """create/write on res.partner and sale.order, action_confirm/action_cancel: all or
        nothing (everything is checked before anything is written), one write time."""
        now = self._clock()
        try:
            if method == "create":
                vals_list = bound["vals_list"]
                items = [vals_list] if isinstance(vals_list, dict) else vals_list
                if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
                    raise _type_error("create() takes a dict of values or a list of them")
                if model == "res.partner":
                    checked = [self._partner_values(vals, creating=True) for vals in items]
                    ids = [self._create_partner(now, vals) for vals in checked]
                else:
                    plans = [self._order_plan(vals) for vals in items]
                    ids = [self._create_order(now, plan) for plan in plans]
                # odoo.api.call_kw: a dict gives one id, a list gives a list of ids
                return ids[0] if isinstance(vals_list, dict) else ids
            ids = self._existing(model, bound["ids"])
            if method == "write":
                vals = bound["vals"]
                if not isinstance(vals, dict):
                    raise _type_error("write() takes a dict of values")
                if model == "res.partner":
                    checked = self._partner_values(vals, creating=False)
                    for partner_id in ids:
                        partner = self._tables["res.partner"][partner_id]
                        for name, value in checked.items():
                            setattr(partner, name, value)
                        partner.write_date = now
                    return True
                self._write_orders(now, ids, vals)
                return True
            if method == "action_confirm":
                self._confirm_orders(now, ids)
                return True
            return self._cancel_orders(now, ids, query.context)
        finally:
            self._changed()

    def _partner_values(self, vals: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        columns = self._columns["res.partner"]
        checked: dict[str, Any] = {}
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model 'res.partner'")
            if name in ("id", "display_name", "create_date", "write_date"):
                continue
            converted = self._convert("res.partner", column.field, value, None)
            checked[name] = converted
        if (creating or "name" in checked) and not checked.get("name"):
            # res.partner's SQL constraint check_name, as odoo.service.model reports a violated
            # constraint (not recorded)
            raise OdooFault("odoo.exceptions.ValidationError",
                            "The operation cannot be completed: Contacts require a name")
        return checked

    def _create_partner(self, now: datetime, vals: dict[str, Any]) -> int:
        partner_id = self._alloc("res.partner")
        partner = _Partner(partner_id, vals["name"], vals.get("email"), now, now)
        partner.active = vals.get("active", True) is not False
        partner.customer_rank = int(vals.get("customer_rank") or 0)
        self._tables["res.partner"][partner_id] = partner
        return partner_id

    def _mandatory(self, model: str, name: str) -> OdooFault:
        string = self._columns[model][name].field.string
        # NOT NULL violation as odoo.service.model reports it (not recorded)
        return OdooFault("odoo.exceptions.ValidationError",
                         "The operation cannot be completed:\n"
                         "- Create/update: a mandatory field is not set.\n"
                         "- Delete: another model requires the record being deleted. "
                         "If possible, archive it instead.\n\n"
                         f"Model: {MODEL_NAMES[model]} ({model})\n"
                         f"Field: {string} ({name})")

    def _product_for_line(self, value: Any) -> _Product:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Wrong value for sale.order.line.product_id: {value!r}")
        product = self._tables["product.product"].get(value)
        if product is None:
            # The line's precomputed fields (name, price, UoM) read the product first: Odoo
            # answers the MissingError of browsing a record that does not exist (not recorded).
            raise OdooFault("odoo.exceptions.MissingError",
                            "Record does not exist or has been deleted.\n"
                            f"(Record: product.product({value},), User: {ADMIN_UID})")
        return product

    def _line_values(self, vals: Any, *, creating: bool) -> dict[str, Any]:
        """Checked values of one sale.order.line command (product, quantity, price, name)."""
        if not isinstance(vals, dict):
            raise ValueError(f"Wrong value for sale.order.order_line: {vals!r}")
        columns = self._columns["sale.order.line"]
        checked: dict[str, Any] = {}
        for name, value in vals.items():
            if name not in columns:
                raise ValueError(f"Invalid field {name!r} on model 'sale.order.line'")
            if name == "product_id":
                checked[name] = self._product_for_line(value)
            elif name in ("product_uom_qty", "price_unit"):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"Wrong value for sale.order.line.{name}: {value!r}")
                checked[name] = float(value)
            elif name == "name":
                checked[name] = str(value) if value else None
            elif name == "sequence":
                checked[name] = int(value)
            # other fields (computed or read-only here) are ignored, as Odoo ignores them
        if creating and "product_id" not in checked:
            raise self._mandatory("sale.order.line", "product_id")
        return checked

    def _order_plan(self, vals: dict[str, Any]) -> dict[str, Any]:
        """Checked values of one sale.order create."""
        columns = self._columns["sale.order"]
        plan: dict[str, Any] = {"lines": []}
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model 'sale.order'")
            if name == "order_line":
                plan["lines"] = self._line_commands(None, value)
            elif name in ("partner_id", "warehouse_id"):
                plan[name] = self._convert("sale.order", column.field, value, None)
            elif name in ("client_order_ref", "origin", "name"):
                plan[name] = str(value) if value else None
            # state, amounts, pickings...: read-only or computed, ignored like Odoo does
        if not plan.get("partner_id"):
            raise self._mandatory("sale.order", "partner_id")
        if not plan.get("warehouse_id"):
            # sale_stock's default: the company's first warehouse
            warehouses = sorted(w.id for w in self._tables["stock.warehouse"].values() if w.active)
            if not warehouses:
                raise self._mandatory("sale.order", "warehouse_id")
            plan["warehouse_id"] = warehouses[0]
        return plan

    def _line_commands(self, order: _SaleOrder | None, value: Any) -> list[tuple[int, Any, Any]]:
        """order_line x2many commands, checked: (0, None, vals), (1, line, vals), (2, line, None)."""
        if value is None or value is False:
            return []
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for sale.order.order_line: {value!r}")
        lines = self._tables["sale.order.line"]
        commands: list[tuple[int, Any, Any]] = []
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Wrong value for sale.order.order_line: {command!r}")
            code = command[0]
            if code == 0:
                commands.append((0, None, self._line_values(
                    command[2] if len(command) > 2 else None, creating=True)))
                continue
            if code not in (1, 2) or len(command) < 2:
                raise OdooFault("builtins.NotImplementedError",
                                f"x2many command {command!r} on sale.order.order_line is not "
                                f"simulated")
            line = lines.get(command[1]) if isinstance(command[1], int) else None
            if line is None or order is None or line.order_id != order.id:
                raise OdooFault("odoo.exceptions.MissingError",
                                "Record does not exist or has been deleted.\n"
                                f"(Record: sale.order.line({command[1]!r},), User: {ADMIN_UID})")
            if code == 1:
                commands.append((1, line, self._line_values(
                    command[2] if len(command) > 2 else {}, creating=False)))
            else:
                if order.state == "sale":
                    # sale.order.line._unlink_except_confirmed (17/18; 16 alike), not recorded
                    raise OdooFault(
                        "odoo.exceptions.UserError",
                        "Once a sales order is confirmed, you can't remove one of its lines (we "
                        "need to track if something gets invoiced or delivered).\n"
                        "Set the quantity to 0 instead.")
                commands.append((2, line, None))
        return commands

    def _create_order(self, now: datetime, plan: dict[str, Any]) -> int:
        order_id = self._alloc("sale.order")
        self._sale_sequence += 1
        # the sale.order sequence: S + 5 digits (name given on create since 16)
        name = plan.get("name") or f"S{self._sale_sequence:05d}"
        order = _SaleOrder(order_id, name, "draft", plan["partner_id"],
                           plan.get("client_order_ref"), plan.get("origin"),
                           plan["warehouse_id"], now, now, now)
        self._tables["sale.order"][order_id] = order
        for _code, _line, vals in plan["lines"]:
            self._new_sale_line(now, order, vals)
        return order_id

    def _new_sale_line(self, now: datetime, order: _SaleOrder, vals: dict[str, Any]) -> _SaleLine:
        product: _Product = vals["product_id"]
        sequence = vals.get("sequence")
        if sequence is None:
            sequence = 10  # the field's default
        line = _SaleLine(self._alloc("sale.order.line"), order.id, product.id,
                         vals.get("name") or self._display("product.product", product),
                         vals.get("product_uom_qty", 1.0),
                         vals.get("price_unit", product.lst_price), sequence, now, now)
        self._tables["sale.order.line"][line.id] = line
        return line

    def _write_orders(self, now: datetime, ids: list[int], vals: dict[str, Any]) -> None:
        columns = self._columns["sale.order"]
        orders = self._tables["sale.order"]
        plans: list[tuple[_SaleOrder, dict[str, Any], list[tuple[int, Any, Any]]]] = []
        for order_id in ids:
            order = orders[order_id]
            fields: dict[str, Any] = {}
            commands: list[tuple[int, Any, Any]] = []
            for name, value in vals.items():
                column = columns.get(name)
                if column is None:
                    raise ValueError(f"Invalid field {name!r} on model 'sale.order'")
                if name == "order_line":
                    commands = self._line_commands(order, value)
                elif name in ("partner_id", "warehouse_id"):
                    converted = self._convert("sale.order", column.field, value, None)
                    if not converted:
                        raise self._mandatory("sale.order", name)
                    fields[name] = converted
                elif name in ("client_order_ref", "origin", "name"):
                    fields[name] = str(value) if value else None
            plans.append((order, fields, commands))
        for order, fields, commands in plans:
            for name, value in fields.items():
                setattr(order, name, value)
            for code, line, line_vals in commands:
                if code == 0:
                    line = self._new_sale_line(now, order, line_vals)
                    if order.state == "sale":
                        self._procure(now, order, line, line.product_uom_qty)
                elif code == 1:
                    previous = line.product_uom_qty
                    if "product_id" in line_vals:
                        line.product_id = line_vals["product_id"].id
                    for name in ("product_uom_qty", "price_unit", "name", "sequence"):
                        if name in line_vals and line_vals[name] is not None:
                            setattr(line, name, line_vals[name])
                    line.write_date = now
                    if order.state == "sale" and line.product_uom_qty != previous:
                        self._procure(now, order, line, line.product_uom_qty - previous)
                else:
                    for move in self._line_moves(line.id):
                        self._cancel_move(now, move)
                    del self._tables["sale.order.line"][line.id]
            order.write_date = now

    def _confirm_orders(self, now: datetime, ids: list[int]) -> None:
        orders = [self._tables["sale.order"][i] for i in ids]
        for order in orders:
            if order.state not in ("draft", "sent"):
                # sale.order._confirmation_error_message (17/18), not recorded
                raise OdooFault("odoo.exceptions.UserError",
                                "Some orders are not in a state requiring confirmation.")
        for order in orders:
            order.state, order.date_order, order.write_date = "sale", now, now
            for line in self._order_lines(order.id):
                self._procure(now, order, line, line.product_uom_qty)

    def _procure(self, now: datetime, order: _SaleOrder, line: _SaleLine, delta: float) -> None:
        """sale_stock's procurement of `delta` more (or, negative, less) of a confirmed line."""
        product = self._tables["product.product"][line.product_id]
        if product.type == "service" or product.type == "combo" or not delta:
            return
        warehouse = self._tables["stock.warehouse"][order.warehouse_id]
        stock = warehouse.lot_stock_id
        open_moves = [m for m in self._line_moves(line.id) if m.state in OPEN_MOVE_STATES]
        if delta < 0:  # a negative procurement merges into the open move: less demand
            for move in reversed(open_moves):
                take = min(-delta, move.product_uom_qty)
                move.product_uom_qty = round(move.product_uom_qty - take, 6)
                delta += take
                if move.product_uom_qty <= 0:
                    self._cancel_move(now, move)
                else:
                    self._unreserve(now, move, max(0.0, move.quantity - move.product_uom_qty))
                    self._set_move_state(move)
                    move.write_date = now
                    self._sync_picking(now, move.picking_id)
                if delta >= 0:
                    break
            return
        move = open_moves[0] if open_moves else None
        if move is None:
            picking = next((p for p in self._order_pickings(order.id)
                            if p.state not in ("done", "cancel")), None)
            origin = (f"{order.name} - {order.client_order_ref}" if order.client_order_ref
                      else order.name)
            if picking is None:
                picking = self._new_picking(now, warehouse, origin, "confirmed", sale_id=order.id)
            move = self._new_move(now, product.id, "confirmed", 0.0, 0.0, stock, CUSTOMERS,
                                  origin, picking.name, picking.id)
            move.sale_line_id = line.id
        move.product_uom_qty = round(move.product_uom_qty + delta, 6)
        move.write_date = now
        if product.storable:
            quant = self._quant_at.get((product.id, stock))
            free = quant.quantity - quant.reserved_quantity if quant is not None else 0.0
            reserved = max(0.0, min(delta, free))
            if quant is not None and reserved:
                quant.reserved_quantity = round(quant.reserved_quantity + reserved, 6)
                quant.write_date = now
                move.quantity = round(move.quantity + reserved, 6)
        else:
            move.quantity = move.product_uom_qty  # consumables are always available
        self._set_move_state(move)
        picking = self._tables["stock.picking"].get(move.picking_id)
        if picking is not None and picking.state not in ("done", "cancel"):
            states = {m.state for m in self._tables["stock.move"].values()
                      if m.picking_id == picking.id and m.state != "cancel"}
            picking.state = "assigned" if states == {"assigned"} else "confirmed"
            picking.write_date = now

    @staticmethod
    def _set_move_state(move: _Move) -> None:
        move.state = ("assigned" if move.quantity >= move.product_uom_qty
                      else "partially_available" if move.quantity else "confirmed")

    def _unreserve(self, now: datetime, move: _Move, quantity: float) -> None:
        """Give back `quantity` of what the move reserved in its source quant."""
        if quantity <= 0:
            return
        move.quantity = round(move.quantity - quantity, 6)
        quant = self._quant_at.get((move.product_id, move.location_id))
        if quant is not None and self._tables["product.product"][move.product_id].storable:
            quant.reserved_quantity = round(max(0.0, quant.reserved_quantity - quantity), 6)
            quant.write_date = now

    def _cancel_move(self, now: datetime, move: _Move) -> None:
        if move.state in ("done", "cancel"):
            return
        self._unreserve(now, move, move.quantity)
        move.state, move.quantity, move.write_date = "cancel", 0.0, now
        self._sync_picking(now, move.picking_id)

    def _cancel_orders(self, now: datetime, ids: list[int], context: dict[str, Any]) -> Any:
        orders = [self._tables["sale.order"][i] for i in ids]
        if any(order.locked for order in orders):
            raise OdooFault("odoo.exceptions.UserError",
                            "You cannot cancel a locked order. Please unlock it first.")
        if not context.get("disable_cancel_warning") and any(
                order.state != "draft" for order in orders):
            # _show_cancel_wizard: the wizard, for one order only (ensure_one); recorded 06e
            if len(orders) != 1:
                raise ValueError(f"Expected singleton: sale.order{tuple(ids)!r}")
            order = orders[0]
            kind = ("Quotation" if order.state in ("draft", "sent", "cancel")
                    else "Sales Order")
            return {
                "name": f"Cancel {kind}", "view_mode": "form", "res_model": "sale.order.cancel",
                "view_id": CANCEL_WIZARD_VIEW_ID, "type": "ir.actions.act_window",
                "context": {
                    "default_template_id": CANCEL_TEMPLATE_ID, "default_order_id": order.id,
                    "mark_so_as_canceled": True,
                    "default_email_layout_xmlid":
                        "mail.mail_notification_layout_with_responsible_signature",
                    "model_description": kind},
                "target": "new"}
        for order in orders:
            for picking in self._order_pickings(order.id):
                if picking.state in ("done", "cancel"):
                    continue
                for move in self._tables["stock.move"].values():
                    if move.picking_id == picking.id:
                        self._cancel_move(now, move)
                picking.state, picking.write_date = "cancel", now
            order.state, order.write_date = "cancel", now
        return True

    # -- sales: Python API ----------------------------------------------------------------------
    def sale_orders(self, client_order_ref: str | None = None) -> list[dict[str, Any]]:
        """The sale orders (all, or those with this Customer Reference), by id.

        Each: id, name, state, client_order_ref, partner_id, warehouse (code), amount_total,
        picking_ids, lines [(sku, ordered qty, delivered qty)].
        """
        with self._lock:
            result = []
            for order in sorted(self._tables["sale.order"].values(), key=lambda o: o.id):
                if client_order_ref is not None and order.client_order_ref != client_order_ref:
                    continue
                lines = []
                for line in self._order_lines(order.id):
                    product = self._tables["product.product"][line.product_id]
                    lines.append((product.default_code, line.product_uom_qty,
                                  self._qty_delivered(line.id)))
                warehouse = self._tables["stock.warehouse"].get(order.warehouse_id)
                result.append({
                    "id": order.id, "name": order.name, "state": order.state,
                    "client_order_ref": order.client_order_ref, "partner_id": order.partner_id,
                    "warehouse": warehouse.code if warehouse else None,
                    "amount_total": self._order_amounts(order.id)[2],
                    "picking_ids": [p.id for p in self._order_pickings(order.id)],
                    "lines": lines})
            return result

    def partners(self) -> list[dict[str, Any]]:
        """Every contact (archived ones too), by id: id, name, email, customer_rank, active."""
        with self._lock:
            return [{"id": p.id, "name": p.name, "email": p.email,
                     "customer_rank": p.customer_rank, "active": p.active}
                    for p in sorted(self._tables["res.partner"].values(), key=lambda p: p.id)]

    def deliver_order(self, order_id: int) -> None:
        """Ship a confirmed order: validate its open deliveries, as a picker doing all of it.

        Every open move is done for its full demand (Odoo lets the quantity exceed what was
        reserved; the stock quant may go negative): the stock quant loses the quantity and its
        reservation, the customers' quant gains it, moves and pickings are done, and the lines'
        qty_delivered follows. Quants, moves and pickings get the write time.
        """
        with self._lock:
            order = self._tables["sale.order"].get(order_id)
            if order is None:
                raise KeyError(f"no sale order with id {order_id}")
            if order.state != "sale":
                raise ValueError(f"sale order {order.name} is {order.state!r}, not confirmed")

        def validate(now: datetime) -> None:
            for picking in self._order_pickings(order_id):
                if picking.state in ("done", "cancel"):
                    continue
                for move in [m for m in self._tables["stock.move"].values()
                             if m.picking_id == picking.id and m.state in OPEN_MOVE_STATES]:
                    product = self._tables["product.product"][move.product_id]
                    if product.storable:
                        quant = self._quant(now, move.product_id, move.location_id)
                        quant.quantity = round(quant.quantity - move.product_uom_qty, 6)
                        quant.reserved_quantity = round(
                            max(0.0, quant.reserved_quantity - move.quantity), 6)
                        quant.write_date = now
                        customer = self._quant(now, move.product_id, move.location_dest_id)
                        customer.quantity = round(customer.quantity + move.product_uom_qty, 6)
                        customer.write_date = now
                    move.state, move.quantity = "done", move.product_uom_qty
                    move.date = move.write_date = now
                picking.state, picking.write_date = "done", now

        self._write(validate)

    # -- ORM methods ------------------------------------------------------------------------
    def _search(self, query: _Query, model: str, domain: Any, offset: int = 0,
                limit: int | None = None, order: str | None = None) -> list[int]:
        """Ids matching `domain`, ordered and sliced like Odoo's search (active_test included)."""
        terms = self._order_terms(model, order)
        try:
            key: tuple[Any, ...] | None = (
                model, json.dumps(domain), order,
                json.dumps(query.context, sort_keys=True), self._state_version)
        except (TypeError, ValueError):
            key = None
        ids = self._search_cache.get(key) if key is not None else None
        if ids is None:
            predicate = compile_domain(domain, model, query)
            columns = self._columns[model]
            active_only = ("active" in columns and query.context.get("active_test", True)
                           and "active" not in domain_fields(domain or []))
            rows = [r for r in self._tables[model].values()
                    if (not active_only or r.active) and predicate(r)]
            for name, descending in reversed(terms):
                column = columns[name]
                rows.sort(key=self._sort_key(query, column), reverse=descending)
            ids = [r.id for r in rows]
            if key is not None:
                self._search_cache[key] = ids
                while len(self._search_cache) > 16:
                    self._search_cache.popitem(last=False)
        start = int(offset or 0)
        return ids[start:start + int(limit)] if limit else ids[start:]

    def _order_terms(self, model: str, order: str | None) -> list[tuple[str, bool]]:
        spec = order or DEFAULT_ORDER[model]
        terms = []
        for part in spec.split(","):
            match = re.fullmatch(r"\s*(\w+)(?:\s+(asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*",
                                 part, re.IGNORECASE)
            if not match:
                raise ValueError(f"Invalid order {spec!r}")
            name = match.group(1)
            column = self._columns[model].get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if column.field.store:  # Odoo cannot order by a non-stored computed field
                terms.append((name, (match.group(2) or "asc").lower() == "desc"))
        return terms

    def _sort_key(self, query: _Query, column: _Column) -> Callable[[Any], Any]:
        get, relation = column.get, column.field.relation

        def key(record: Any) -> tuple[int, Any]:
            value = get(record, query)
            if relation and value:
                target = self._tables[relation].get(value)
                value = self._display(relation, target) if target is not None else None
            # PostgreSQL puts NULLs last ascending and first descending (reverse=True)
            return (1, 0) if is_empty(value) and value is not False else (0, value)

        return key

    def _read(self, query: _Query, model: str, ids: Iterable[Any], fields: Any,
              load: Any = "_classic_read") -> list[dict[str, Any]]:
        columns = self._columns[model]
        names = list(fields) if fields else list(columns)
        for name in names:
            if not isinstance(name, str) or name not in columns:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
        table = self._tables[model]
        rows = []
        for record_id in ids:
            record = table.get(record_id) if isinstance(record_id, int) else None
            if record is None:
                raise OdooFault("odoo.exceptions.MissingError",
                                "Record does not exist or has been deleted.\n"
                                f"(Record: {model}({record_id!r},), User: {ADMIN_UID})")
            row: dict[str, Any] = {"id": record.id}
            for name in names:
                if name != "id":
                    row[name] = self._value(query, columns[name], record, load)
            rows.append(row)
        return rows

    def _value(self, query: _Query, column: _Column, record: Any, load: Any) -> Any:
        """A field value as Odoo's read() serialises it."""
        raw = column.get(record, query)
        kind = column.field.type
        if kind == "many2one":
            if not raw:
                return False
            if load != "_classic_read":
                return raw
            relation = column.field.relation or ""
            target = self._tables[relation].get(raw)
            return [raw, self._display(relation, target) if target is not None else ""]
        if kind == "datetime":
            return raw.strftime(ODOO_DATETIME) if raw else False
        if kind in ("float", "monetary"):
            return float(raw or 0.0)
        if kind == "integer":
            return int(raw or 0)
        if kind == "boolean":
            return bool(raw)
        if kind in ("one2many", "many2many"):
            return list(raw or [])
        return False if raw is None or raw is False else raw

    def _fields_get(self, model: str, allfields: Any, attributes: Any) -> dict[str, Any]:
        result = {}
        for name, column in self._columns[model].items():
            if allfields and name not in allfields:
                continue
            spec = column.field
            description: dict[str, Any] = {
                "type": spec.type, "string": spec.string, "store": spec.store,
                "readonly": not spec.store or name in ("id", "create_date", "write_date"),
                "required": False, "searchable": True, "sortable": spec.store,
            }
            if spec.relation:
                description["relation"] = spec.relation
            if spec.selection:
                description["selection"] = [list(pair) for pair in spec.selection]
            if attributes:
                description = {k: v for k, v in description.items() if k in attributes}
            result[name] = description
        return result

    def _call_model(self, uid: int, model: str, method: str, args: list[Any],
                    kwargs: dict[str, Any]) -> Any:
        """Run one model method like odoo.service.model.execute_kw + odoo.api.call_kw."""
        if not isinstance(method, str) or method.startswith("_"):
            # odoo.models.check_method_name, recorded (08c)
            raise OdooFault("odoo.exceptions.AccessError",
                            f"Private methods (such as {method}) cannot be called remotely.")
        if model not in self._columns:
            raise OdooFault("odoo.exceptions.UserError", f"Object {model} doesn't exist")
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        if not isinstance(context, dict):
            raise _type_error("context must be a dictionary")
        known = ("search", "search_read", "search_count", "read", "fields_get", "name_search")
        available = set(known) | ({"name_get"} if self._major < 17 else set())
        if model == "res.users":
            available.add("context_get")
        if model in WRITABLE_MODELS:
            available |= {"create", "write", "unlink"}
        sale_methods = SALE_METHODS.get(model, frozenset())
        available |= sale_methods
        if method not in available:
            # odoo.api.call_kw (17/18); not recorded
            raise OdooFault("builtins.AttributeError",
                            f"The method '{method}' does not exist on the model '{model}'")
        names = SIGNATURES[method]
        if method == "search" and self._major < 17:
            names = (*names, "count")  # Odoo 16's search(args, offset, limit, order, count)
        bound = self._bind(method, names, list(args or []), kwargs)
        with self._lock:
            query = _Query(self, context)
            if model == "ir.module.module":
                self._sync_modules()
            if method in sale_methods:
                return self._sale_call(query, model, method, bound)
            if method in ("create", "write", "unlink"):
                return self._config_call(model, method, bound)
            if method == "context_get":
                return {"lang": "en_US", "tz": False, "uid": uid}
            if method == "search":
                ids = self._search(query, model, bound["domain"], bound.get("offset", 0),
                                   bound.get("limit"), bound.get("order"))
                return len(ids) if bound.get("count") else ids
            if method == "search_count":
                count = len(self._search(query, model, bound["domain"]))
                limit = bound.get("limit")
                return min(count, limit) if limit else count
            if method == "search_read":
                ids = self._search(query, model, bound.get("domain") or [],
                                   bound.get("offset", 0), bound.get("limit"),
                                   bound.get("order"))
                return self._read(query, model, ids, bound.get("fields"))
            if method == "read":
                return self._read(query, model, _as_ids(bound["ids"]), bound.get("fields"),
                                  bound.get("load", "_classic_read"))
            if method == "fields_get":
                return self._fields_get(model, bound.get("allfields"), bound.get("attributes"))
            if method == "name_get":
                rows = self._read(query, model, _as_ids(bound["ids"]), ["display_name"])
                return [[row["id"], row["display_name"]] for row in rows]
            # name_search
            name = bound.get("name") or ""
            operator = bound.get("operator") or "ilike"
            matching = query.name_search_ids(model, operator, name) if name else None
            ids = self._search(query, model, bound.get("domain") or [])
            ids = [i for i in ids if matching is None or i in matching]
            limit = bound.get("limit", 100)
            rows = self._read(query, model, ids[:limit] if limit else ids, ["display_name"])
            return [[row["id"], row["display_name"]] for row in rows]

    @staticmethod
    def _bind(method: str, names: tuple[str, ...], args: list[Any],
              kwargs: dict[str, Any]) -> dict[str, Any]:
        """Positional and keyword arguments by parameter name, with Python's TypeErrors."""
        if len(args) > len(names):
            raise _type_error(f"BaseModel.{method}() takes {len(names) + 1} positional arguments "
                              f"but {len(args) + 1} were given")
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise _type_error(f"BaseModel.{method}() got an unexpected keyword argument "
                                  f"'{key}'")
            if key in bound:
                raise _type_error(f"BaseModel.{method}() got multiple values for argument '{key}'")
            bound[key] = value
        required = names[:REQUIRED.get(method, 0)]
        missing = [name for name in required if name not in bound]
        if missing:
            raise _type_error(f"BaseModel.{method}() missing 1 required positional argument: "
                              f"'{missing[0]}'")
        return bound

    # -- authentication ---------------------------------------------------------------------
    def _check_db(self, db: Any) -> None:
        if db != self.database:
            # What psycopg2 reports for a database that does not exist; not recorded.
            raise OdooFault("psycopg2.OperationalError",
                            f'connection to server failed: FATAL:  database "{db}" does not exist')

    def _authenticate(self, login: Any, secret: Any, *, allow_api_key: bool = True) -> int | None:
        if login != self.login or not isinstance(secret, str):
            return None
        if secret == self.password or (allow_api_key and self.api_key and secret == self.api_key):
            return ADMIN_UID
        return None

    def _check(self, db: Any, uid: Any, secret: Any) -> int:
        """odoo.service.security.check: AccessDenied unless uid and password/API key match."""
        self._check_db(db)
        try:
            uid = int(uid)
        except (TypeError, ValueError):
            raise OdooFault("builtins.ValueError",
                            f"invalid literal for int() with base 10: {uid!r}") from None
        if uid != ADMIN_UID or self._authenticate(self.login, secret) is None:
            raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
        return uid

    def version_info(self) -> dict[str, Any]:
        """What /web/webclient/version_info and common.version answer."""
        return {"server_version": self.version,
                "server_version_info": [self._major, self._minor, 0, "final", 0, ""],
                "server_serie": f"{self._major}.{self._minor}", "protocol_version": 1}

    # -- HTTP -------------------------------------------------------------------------------
    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()  # always consumed, so keep-alive connections stay in sync
        path = request.path
        routes = ("/jsonrpc", "/web/webclient/version_info", "/web/database/list",
                  "/web/session/authenticate")
        if path not in routes and not (path == "/web/dataset/call_kw"
                                       or path.startswith("/web/dataset/call_kw/")):
            return Response("<h1>Not Found</h1>", status=404,
                            content_type="text/html; charset=utf-8")(environ, start_response)
        if request.method != "POST":
            return Response("Method Not Allowed", status=405,
                            content_type="text/plain")(environ, start_response)
        try:
            envelope = json.loads(body or b"null")
        except ValueError:
            return Response("Invalid JSON data", status=400,
                            content_type="text/plain")(environ, start_response)
        if not isinstance(envelope, dict):
            return Response("Invalid JSON-RPC data", status=400,
                            content_type="text/plain")(environ, start_response)
        request_id = envelope.get("id")
        params = envelope.get("params") or {}
        cookies: list[str] = []
        session_id = request.cookies.get("session_id")
        if path.startswith("/web/") and session_id not in self._sessions:
            # Odoo hands every /web caller a (not yet authenticated) session cookie.
            session_id = self._new_session(None)
            cookies.append(self._cookie(session_id))
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        try:
            if not isinstance(params, dict):
                raise _type_error("params must be an object")
            result = self._route(path, params, session_id, cookies)
            if result is not None:  # odoo.http: no `result` key when the method returned None
                payload["result"] = result
        except OdooFault as fault:
            payload["error"] = fault.to_json(self.version)
        except Exception as error:
            # Odoo reports any exception raised while serving as an error object, named by
            # its class (e.g. the recorded builtins.ValueError for an unknown domain field).
            name = f"{type(error).__module__}.{type(error).__qualname__}"
            payload["error"] = OdooFault(name, str(error)).to_json(self.version)
        response = Response(json.dumps(payload), status=200,
                            content_type="application/json; charset=utf-8")
        for cookie in cookies:
            response.headers.add("Set-Cookie", cookie)
        return response(environ, start_response)

    def _new_session(self, uid: int | None) -> str:
        session_id = secrets.token_urlsafe(63)[:84]
        with self._lock:
            self._sessions[session_id] = uid
        return session_id

    def _cookie(self, session_id: str) -> str:
        expires = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
        return (f"session_id={session_id}; Expires={expires}; Max-Age=604800; HttpOnly; "
                f"Path=/")

    def _route(self, path: str, params: dict[str, Any], session_id: str | None,
               cookies: list[str]) -> Any:
        if path == "/web/webclient/version_info":
            self._log(RpcCall("web", "version_info"))
            return self.version_info()
        if path == "/web/database/list":
            self._log(RpcCall("db", "list"))
            return [self.database]
        if path == "/web/session/authenticate":
            self._log(RpcCall("web", "session.authenticate"))
            return self._session_authenticate(params, cookies)
        if path.startswith("/web/dataset/call_kw"):
            model, method = params.get("model"), params.get("method")
            kwargs = params.get("kwargs") or {}
            self._log(RpcCall("web", "call_kw", model, method,
                              kwargs.get("context") if isinstance(kwargs, dict) else None))
            uid = self._sessions.get(session_id or "")
            if uid is None:
                # odoo.http: an auth='user' route without a logged-in session
                raise OdooFault("odoo.http.SessionExpiredException", "Session expired",
                                code=100, title="Odoo Session Expired")
            return self._call_model(uid, model, method, params.get("args") or [], kwargs)
        return self._dispatch_rpc(params.get("service"), params.get("method"),
                                  params.get("args") or [])

    def _session_authenticate(self, params: dict[str, Any], cookies: list[str]) -> Any:
        self._check_db(params.get("db"))
        # Interactive login: API keys are refused here, they are for RPC only (recorded README).
        uid = self._authenticate(params.get("login"), params.get("password"),
                                 allow_api_key=False)
        if uid is None:
            raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
        session_id = self._new_session(uid)
        cookies.clear()
        cookies.append(self._cookie(session_id))
        user = self._tables["res.users"][uid]
        return {
            "uid": uid, "is_system": True, "is_admin": True, "is_public": False,
            "is_internal_user": True,
            "user_context": {"lang": "en_US", "tz": False, "uid": uid}, "db": self.database,
            "server_version": self.version,
            "server_version_info": self.version_info()["server_version_info"],
            "name": user.name, "username": user.login, "partner_display_name": user.name,
            "partner_id": user.partner_id, "web.base.url": self.url,
        }

    def _dispatch_rpc(self, service: Any, method: Any, args: list[Any]) -> Any:
        if not isinstance(args, list):
            raise _type_error("args must be a list")
        if service == "common":
            self._log(RpcCall("common", str(method)))
            if method == "version":
                return self.version_info()
            if method in ("login", "authenticate"):
                if len(args) < 3:
                    raise _type_error(f"exp_{method}() missing required positional arguments")
                self._check_db(args[0])
                # A wrong password is `false`, not an error (recorded 02d).
                return self._authenticate(args[1], args[2]) or False
            raise OdooFault("builtins.KeyError", f"'Method not found: {method}'")
        if service == "db":
            self._log(RpcCall("db", str(method)))
            if method == "list":
                return [self.database]
            if method == "server_version":
                return self.version
            raise OdooFault("builtins.KeyError", f"'Method not found: {method}'")
        if service == "object":
            if method not in ("execute", "execute_kw"):
                self._log(RpcCall("object", str(method)))
                raise OdooFault("builtins.NameError", f"Method not available {method}")
            if len(args) < 5:
                self._log(RpcCall("object", method))
                raise _type_error(f"{method}() needs db, uid, password, model and method")
            db, uid, secret, model, model_method = args[:5]
            if method == "execute_kw":
                call_args = args[5] if len(args) > 5 else []
                call_kwargs = args[6] if len(args) > 6 else {}
            else:
                call_args, call_kwargs = list(args[5:]), {}
            context = call_kwargs.get("context") if isinstance(call_kwargs, dict) else None
            self._log(RpcCall("object", method, model, model_method, context))
            uid = self._check(db, uid, secret)
            if not isinstance(call_args, list) or not isinstance(call_kwargs, dict):
                raise _type_error("execute_kw takes a list of args and a dict of kwargs")
            return self._call_model(uid, model, model_method, call_args, call_kwargs)
        self._log(RpcCall(str(service), str(method)))
        raise OdooFault("builtins.Exception", f"Unknown service {service!r}")


def _model_rank(model: str) -> tuple[int, str]:
    """Creation order of the simulated models: stock first, then configuration, then sales."""
    return (2 if model in SALE_MODELS else 1 if model in CONFIG_MODELS else 0, model)


def _as_ids(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _strip_code(display: str, sku: str | None) -> str:
    prefix = f"[{sku}] " if sku else None
    return display[len(prefix):] if prefix and display.startswith(prefix) else display
