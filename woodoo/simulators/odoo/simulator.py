"""OdooSimulator: the simulated Odoo put together, and what tests do to it (stock, catalogs, calls)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from woodoo.simulators.catalog import DEMO_CATALOG, DEMO_PARENTS, DEMO_WAREHOUSES, CatalogItem
from woodoo.simulators.odoo.automation import Automation
from woodoo.simulators.odoo.configuration import (
    DEFAULT_INSTALLED_MODULES,
    configuration_schema,
    seed_configuration,
    sync_modules,
)
from woodoo.simulators.odoo.query import Query
from woodoo.simulators.odoo.records import (
    ADMIN_PARTNER_ID,
    ADMIN_UID,
    MODEL_NAMES,
    UNITS,
    IrModel,
    Partner,
    Uom,
    User,
    model_rank,
)
from woodoo.simulators.odoo.rpc import JsonRpc, RpcCall
from woodoo.simulators.odoo.sales import DEFAULT_SALE_TAX, Sales
from woodoo.simulators.odoo.schema import stock_schema
from woodoo.simulators.odoo.stock import (
    CUSTOMERS,
    INVENTORY_ADJUSTMENT,
    INVENTORY_REFERENCE,
    OPEN_MOVE_STATES,
    PARTNER_LOCATIONS,
    PHYSICAL_LOCATIONS,
    PROCUREMENTS,
    PRODUCTION,
    SCRAP,
    TRANSIT,
    VENDORS,
    VIRTUAL_LOCATIONS,
    Stock,
)
from woodoo.simulators.odoo.store import Store
from woodoo.simulators.server import SimulatorServer


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class OdooSimulator:
    """An in-memory Odoo (16, 17 or 18 flavour) answering JSON-RPC over HTTP on 127.0.0.1."""

    def __init__(self, *, database: str = "woodoo", login: str = "admin",
                 password: str = "admin", api_key: str | None = None, version: str = "18.0",
                 port: int = 0, clock: Callable[[], datetime] | None = None,
                 installed_modules: Iterable[str] | None = None,
                 sale_tax: float = DEFAULT_SALE_TAX) -> None:
        self.database = database
        self.login = login
        self.password = password
        self.api_key = api_key
        self.store = Store(version, clock or _utcnow)
        self.stock = Stock(self.store)
        self.sales = Sales(self.store, self.stock, sale_tax)
        self.automation = Automation(self.store)
        self.calls: list[RpcCall] = []
        self._calls_lock = threading.Lock()
        schema = {**stock_schema(self.store.major), **configuration_schema(self.store.major),
                  **self.sales.schema()}
        self.store.columns = {model: dict(columns) for model, columns in schema.items()}
        # Module names ir.module.module reports installed; the rows follow this set (see
        # install_module). woodoo_webhook is not among the defaults.
        self.installed_modules: set[str] = set(
            DEFAULT_INSTALLED_MODULES if installed_modules is None else installed_modules)
        # ir.config_parameter: key -> value (get_param / set_param; the module's woodoo_webhook.*).
        self.parameters: dict[str, str] = {}
        self._seed_base(self.store.clock())
        seed_configuration(self.store, self.installed_modules)
        self.rpc = JsonRpc(self)
        self.server = SimulatorServer(self.rpc.wsgi, port=port, name="odoo")

    @property
    def version(self) -> str:
        """The Odoo version simulated, e.g. "18.0"."""
        return self.store.version

    @property
    def sale_tax(self) -> float:
        """The tax rate of every sale order line (0: no taxes)."""
        return self.sales.tax

    @sale_tax.setter
    def sale_tax(self, rate: float) -> None:
        self.sales.tax = float(rate)

    # -- lifecycle ----------------------------------------------------------------------------
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

    # -- call log -----------------------------------------------------------------------------
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

    def log_call(self, call: RpcCall) -> None:
        """Note an RPC the front received."""
        with self._calls_lock:
            self.calls.append(call)

    # -- transactions and catalog set-up ------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes into one Odoo transaction, committed when the block exits (see
        Store.transaction)."""
        return self.store.transaction()

    def add_warehouse(self, code: str, name: str, *, warehouse_id: int | None = None) -> int:
        """Create a warehouse: view location `code`, internal `code/Stock`, and Odoo's sublocations."""
        return self.stock.add_warehouse(code, name, warehouse_id=warehouse_id)

    def add_product(self, sku: str | None, name: str, *, storable: bool = True,
                    barcode: str | None = None, product_id: int | None = None,
                    product_type: str | None = None) -> int:
        """Create a product (its own template); storable as the version has it; returns its id."""
        return self.stock.add_product(sku, name, storable=storable, barcode=barcode,
                                      product_id=product_id, product_type=product_type)

    def add_partner(self, name: str, *, email: str | None = None,
                    partner_id: int | None = None) -> int:
        """Create a contact (res.partner); returns its id."""
        pid = self.store.alloc("res.partner", partner_id)

        def create(now: datetime) -> None:
            self.store.tables["res.partner"][pid] = Partner(pid, name, email, now, now)

        self.store.write(create)
        return pid

    def load_catalog(self, items: Iterable[CatalogItem] = DEMO_CATALOG,
                     warehouses: Iterable[tuple[str, str]] = DEMO_WAREHOUSES) -> dict[str, int]:
        """Create the warehouses and the Odoo side of the catalog; returns product ids by SKU."""
        for code, name in warehouses:
            if self.stock.find_warehouse(code, strict=False) is None:
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
                    templates[item.parent_sku] = self.store.alloc("product.template")
                template_id = templates[item.parent_sku]
                template_name = DEMO_PARENTS.get(item.parent_sku, item.parent_sku)
            pid = self.stock.add_product(item.sku, item.name, storable=item.storable,
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
            sim.stock.add_warehouse(warehouse["code"], warehouse["name"], warehouse_id=warehouse["id"],
                                    view_id=warehouse["view_location_id"][0],
                                    stock_id=warehouse["lot_stock_id"][0])
        products = sorted(seeded["products"], key=lambda p: p["id"])
        for product in products:
            sku = product.get("default_code") or None
            name = _strip_code(product["display_name"], sku)
            template_id, template_display = product["product_tmpl_id"]
            sim.stock.add_product(
                sku, name, storable=bool(product.get("is_storable", product["type"] == "product")),
                barcode=product.get("barcode") or None, product_id=product["id"],
                product_type="service" if product["type"] == "service" else None,
                template_id=template_id, template_name=_strip_code(template_display, sku),
                lst_price=float(product.get("lst_price") or 0.0))
        codes = [w["code"] for w in seeded["warehouses"]]
        figures = {p["id"]: p["qty(on_hand,free,forecast)"] for p in products}
        with sim.store.lock:
            now = sim.store.clock()
            totals: dict[int, float] = {}
            for product in products:  # the stock quants first, product by product
                for code in codes:
                    on_hand = float(figures[product["id"]].get(code, [0.0])[0])
                    if on_hand:
                        warehouse = sim.stock.find_warehouse(code)
                        quant = sim.stock.quant(now, product["id"], warehouse.lot_stock_id)
                        quant.quantity = on_hand
                        sim.stock.new_move(now, product["id"], "done", on_hand, on_hand,
                                           INVENTORY_ADJUSTMENT, warehouse.lot_stock_id, None,
                                           INVENTORY_REFERENCE, None)
                        totals[product["id"]] = totals.get(product["id"], 0.0) + on_hand
            for product in products:  # then each product's inventory-adjustment counterpart
                if totals.get(product["id"]):
                    sim.stock.quant(now, product["id"], INVENTORY_ADJUSTMENT).quantity = (
                        -totals[product["id"]])
            sim.store.changed()
        reserved: dict[str, dict[int, float]] = {}
        for product in products:
            for code in codes:
                on_hand, free = figures[product["id"]].get(code, [0.0, 0.0])[:2]
                if float(on_hand) - float(free) > 0:
                    reserved.setdefault(code, {})[product["id"]] = float(on_hand) - float(free)
        sim.sales.seed_orders(seeded.get("sale_orders") or [], reserved)
        for code, quantities in reserved.items():  # reservations no seeded order holds
            for product_id, quantity in quantities.items():
                sim.reserve(product_id, code, quantity)
        return sim

    def bulk_add(self, count: int, *, sku_format: str = "SKU-{:06d}", warehouse: str = "WH",
                 quantity: Callable[[int], float] = lambda i: i % 50) -> None:
        """Add `count` storable products `sku_format.format(i)` for i in 0..count-1, fast.

        Product i has `quantity(i)` on hand in `warehouse` (an applied inventory adjustment:
        stock quant, inventory-adjustment counterpart quant and done move). Applied at once, even
        inside `transaction()`.
        """
        with self.store.lock:
            target = self.stock.find_warehouse(warehouse)
            stock = target.lot_stock_id
            now = self.store.clock()
            kind, storable = self.stock.product_kind(True, None)
            for i in range(count):
                sku = sku_format.format(i)
                pid = self.store.alloc("product.product")
                template_id = self.store.alloc("product.template")
                self.stock.new_product(now, pid, sku, f"Bulk Product {i}", None, kind, storable,
                                       template_id, f"Bulk Product {i}", 0.0)
                on_hand = float(quantity(i))
                if on_hand:
                    self.stock.quant(now, pid, stock).quantity = on_hand
                    self.stock.quant(now, pid, INVENTORY_ADJUSTMENT).quantity = -on_hand
                    self.stock.new_move(now, pid, "done", abs(on_hand), abs(on_hand),
                                        INVENTORY_ADJUSTMENT if on_hand > 0 else stock,
                                        stock if on_hand > 0 else INVENTORY_ADJUSTMENT, None,
                                        INVENTORY_REFERENCE, None)
            self.store.changed()

    # -- stock operations ---------------------------------------------------------------------
    def set_on_hand(self, sku_or_id: str | int, warehouse: str, quantity: float) -> None:
        """An applied inventory adjustment: the warehouse's stock quant is set to `quantity`.

        The counterpart quant in "Virtual Locations/Inventory adjustment" changes by the
        opposite amount (it goes negative) and a done stock.move is written, as in Odoo 18.
        Product write_date is not touched (recorded).
        """
        pid = self.stock.storable_product(sku_or_id)
        stock = self.stock.stock_location(warehouse)
        target = float(quantity)

        def adjust(now: datetime) -> None:
            quant = self.stock.quant(now, pid, stock)
            delta = round(target - quant.quantity, 6)
            if not delta:
                return
            quant.quantity = target
            quant.write_date = now
            counterpart = self.stock.quant(now, pid, INVENTORY_ADJUSTMENT)
            counterpart.quantity = round(counterpart.quantity - delta, 6)
            counterpart.write_date = now
            source, destination = ((INVENTORY_ADJUSTMENT, stock) if delta > 0
                                   else (stock, INVENTORY_ADJUSTMENT))
            self.stock.new_move(now, pid, "done", abs(delta), abs(delta), source, destination, None,
                                INVENTORY_REFERENCE, None)

        self.store.write(adjust)

    def reserve(self, sku_or_id: str | int, warehouse: str, quantity: float, *,
                origin: str | None = None) -> None:
        """A confirmed delivery of `quantity`: an outgoing move to Partners/Customers, reserved.

        Like Odoo's reservation, only what is free in the stock quant is reserved (the quant's
        reserved_quantity grows by that); the move is `assigned` when fully reserved, else
        `partially_available` or `confirmed`. Its full quantity counts as outgoing in the forecast.
        """
        pid = self.stock.storable_product(sku_or_id)
        code = self.stock.warehouse_code(warehouse)
        wanted = float(quantity)

        def apply_reservation(now: datetime) -> None:
            target = self.stock.find_warehouse(code)
            quant = self.store.quant_at.get((pid, target.lot_stock_id))
            free = quant.quantity - quant.reserved_quantity if quant is not None else 0.0
            reserved = max(0.0, min(wanted, free))
            if quant is not None and reserved:
                quant.reserved_quantity = round(quant.reserved_quantity + reserved, 6)
                quant.write_date = now
            state = ("assigned" if reserved >= wanted
                     else "partially_available" if reserved else "confirmed")
            picking = self.stock.new_picking(now, target, origin, state)
            self.stock.new_move(now, pid, state, wanted, reserved, target.lot_stock_id, CUSTOMERS,
                                origin, picking.name, picking.id)

        self.store.write(apply_reservation)

    def deliver(self, sku_or_id: str | int, warehouse: str, quantity: float) -> None:
        """Reserved goods leave: stock quant quantity and reservation drop, customers' quant grows.

        Open outgoing moves of the product from the warehouse are done first come, first served
        (a partly delivered move is split, the delivered part done); anything beyond them is
        a new done delivery move.
        """
        pid = self.stock.storable_product(sku_or_id)
        code = self.stock.warehouse_code(warehouse)
        wanted = float(quantity)

        def apply_delivery(now: datetime) -> None:
            target = self.stock.find_warehouse(code)
            stock = target.lot_stock_id
            remaining, released = wanted, 0.0
            for move in list(self.store.moves_by_product.get(pid, ())):
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
                    self.stock.new_move(now, pid, "done", take, take, stock, CUSTOMERS, move.origin,
                                        move.reference, move.picking_id)
                move.write_date = now
                self.stock.sync_picking(now, move.picking_id)
                remaining = round(remaining - take, 6)
            if remaining > 0:
                picking = self.stock.new_picking(now, target, None, "done")
                self.stock.new_move(now, pid, "done", remaining, remaining, stock, CUSTOMERS, None,
                                    picking.name, picking.id)
            quant = self.stock.quant(now, pid, stock)
            quant.quantity = round(quant.quantity - wanted, 6)
            quant.reserved_quantity = round(max(0.0, quant.reserved_quantity - released), 6)
            quant.write_date = now
            customer = self.stock.quant(now, pid, CUSTOMERS)
            customer.quantity = round(customer.quantity + wanted, 6)
            customer.write_date = now

        self.store.write(apply_delivery)

    def free_qty(self, sku: str | int, warehouses: list[str] | None = None) -> float:
        """Odoo's free_qty of a product in these warehouses (all if None), as RPC would show it."""
        with self.store.lock:
            pid = self.stock.product_id(sku)
            context: dict[str, Any] = {}
            if warehouses is not None:
                context["location"] = [self.stock.find_warehouse(w).view_location_id
                                       for w in warehouses]
                if not context["location"]:
                    return 0.0
            product = self.store.tables["product.product"][pid]
            return Query(self.store, context).quantities(product)["free_qty"]

    def product_id(self, sku: str) -> int:
        """The id of the (committed) product with this SKU."""
        with self.store.lock:
            return self.stock.product_id(sku)

    # -- configuration and sales --------------------------------------------------------------
    def install_module(self, name: str) -> None:
        """Report the Odoo module `name` installed in ir.module.module from now on."""
        with self.store.lock:
            self.installed_modules.add(name)
            sync_modules(self.store, self.installed_modules)

    def make_module_available(self, name: str) -> None:
        """Put the Odoo module `name` in the addons path, not installed ('uninstalled')."""
        with self.store.lock:
            self.installed_modules.discard(name)
            sync_modules(self.store, self.installed_modules, [name])

    def sale_orders(self, client_order_ref: str | None = None) -> list[dict[str, Any]]:
        """The sale orders (all, or those with this Customer Reference), by id.

        Each: id, name, state, client_order_ref, partner_id, warehouse (code), amount_total,
        picking_ids, lines [(sku, ordered qty, delivered qty)].
        """
        with self.store.lock:
            result = []
            for order in sorted(self.store.tables["sale.order"].values(), key=lambda o: o.id):
                if client_order_ref is not None and order.client_order_ref != client_order_ref:
                    continue
                lines = []
                for line in self.sales.order_lines(order.id):
                    product = self.store.tables["product.product"][line.product_id]
                    lines.append((product.default_code, line.product_uom_qty,
                                  self.sales.qty_delivered(line.id)))
                warehouse = self.store.tables["stock.warehouse"].get(order.warehouse_id)
                result.append({
                    "id": order.id, "name": order.name, "state": order.state,
                    "client_order_ref": order.client_order_ref, "partner_id": order.partner_id,
                    "warehouse": warehouse.code if warehouse else None,
                    "amount_total": self.sales.order_amounts(order.id)[2],
                    "picking_ids": [p.id for p in self.sales.order_pickings(order.id)],
                    "lines": lines})
            return result

    def partners(self) -> list[dict[str, Any]]:
        """Every contact (archived ones too), by id: id, name, email, customer_rank, active."""
        with self.store.lock:
            return [{"id": p.id, "name": p.name, "email": p.email,
                     "customer_rank": p.customer_rank, "active": p.active}
                    for p in sorted(self.store.tables["res.partner"].values(), key=lambda p: p.id)]

    def deliver_order(self, order_id: int) -> None:
        """Ship a confirmed order: validate its open deliveries, as a picker doing all of it.

        Every open move is done for its full demand (Odoo lets the quantity exceed what was
        reserved; the stock quant may go negative): the stock quant loses the quantity and its
        reservation, the customers' quant gains it, moves and pickings are done, and the lines'
        qty_delivered follows. Quants, moves and pickings get the write time.
        """
        with self.store.lock:
            order = self.store.tables["sale.order"].get(order_id)
            if order is None:
                raise KeyError(f"no sale order with id {order_id}")
            if order.state != "sale":
                raise ValueError(f"sale order {order.name} is {order.state!r}, not confirmed")

        def validate(now: datetime) -> None:
            for picking in self.sales.order_pickings(order_id):
                if picking.state in ("done", "cancel"):
                    continue
                for move in [m for m in self.store.tables["stock.move"].values()
                             if m.picking_id == picking.id and m.state in OPEN_MOVE_STATES]:
                    product = self.store.tables["product.product"][move.product_id]
                    if product.storable:
                        quant = self.stock.quant(now, move.product_id, move.location_id)
                        quant.quantity = round(quant.quantity - move.product_uom_qty, 6)
                        quant.reserved_quantity = round(
                            max(0.0, quant.reserved_quantity - move.quantity), 6)
                        quant.write_date = now
                        customer = self.stock.quant(now, move.product_id, move.location_dest_id)
                        customer.quantity = round(customer.quantity + move.product_uom_qty, 6)
                        customer.write_date = now
                    move.state, move.quantity = "done", move.product_uom_qty
                    move.date = move.write_date = now
                picking.state, picking.write_date = "done", now

        self.store.write(validate)

    def version_info(self) -> dict[str, Any]:
        """What /web/webclient/version_info and common.version answer."""
        return {"server_version": self.store.version,
                "server_version_info": [self.store.major, self.store.minor, 0, "final", 0, ""],
                "server_serie": f"{self.store.major}.{self.store.minor}", "protocol_version": 1}

    # -- what a fresh database has ------------------------------------------------------------
    def _seed_base(self, now: datetime) -> None:
        """What a fresh database has: Odoo's own locations, partners and users, and the ir.model rows."""
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
            self.stock.new_location(now, location_id, name, usage, parent, active=active)
        self.store.sequences["stock.location"] = 7
        self.store.tables["uom.uom"][UNITS] = Uom(UNITS, "Units", 0.01, now, now)
        self.store.sequences["uom.uom"] = UNITS + 1
        partners = self.store.tables["res.partner"]
        partners[1] = Partner(1, "My Company", None, now, now)
        partners[2] = Partner(2, "OdooBot", "odoobot@example.com", now, now, active=False)
        partners[ADMIN_PARTNER_ID] = Partner(ADMIN_PARTNER_ID, "Administrator", None, now, now)
        self.store.sequences["res.partner"] = 4
        users = self.store.tables["res.users"]
        users[1] = User(1, "__system__", "OdooBot", 2, now, now, active=False)
        users[ADMIN_UID] = User(ADMIN_UID, self.login, "Administrator", ADMIN_PARTNER_ID,
                                now, now)
        self.store.sequences["res.users"] = 3
        for index, model in enumerate(sorted(self.store.columns, key=model_rank), start=1):
            name = MODEL_NAMES[model]
            if model == "base.automation" and self.store.major < 17:
                name = "Automated Action"
            self.store.tables["ir.model"][index] = IrModel(index, model, name)


def _strip_code(display: str, sku: str | None) -> str:
    """A recorded display name without its "[SKU] " prefix."""
    prefix = f"[{sku}] " if sku else None
    return display[len(prefix):] if prefix and display.startswith(prefix) else display
