"""Sales (sale + sale_stock): res.partner and sale.order over RPC, procurement of confirmed orders
from the warehouse's stock, their delivery, and the recorded orders of a seeded catalog."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from woodoo.simulators.odoo.errors import OdooFault, create_each, missing_record, type_error
from woodoo.simulators.odoo.records import (
    ADMIN_PARTNER_ID,
    Move,
    Partner,
    Picking,
    Product,
    SaleLine,
    SaleOrder,
)
from woodoo.simulators.odoo.schema import Schema, col, dates, display
from woodoo.simulators.odoo.stock import CUSTOMERS, OPEN_MOVE_STATES, Stock
from woodoo.simulators.odoo.store import Store

if TYPE_CHECKING:
    from woodoo.simulators.odoo.query import Query

# Model methods beyond the read methods, per model (see Sales).
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


class Sales:
    """The sale orders of a Store, and the stock they take.

    What the daemon's order sync calls, as Odoo 16-18 (sale + sale_stock) answer it. Read in
    the public copy of Odoo 18 named in stock.selected_locations (informaticeng0011/odoo_18.0
    @ 011dedd, addons/sale/models/sale_order.py, addons/sale_stock/models/sale_order_line.py):
    - action_confirm: UserError "Some orders are not in a state requiring confirmation." unless
      every order is draft/sent (_confirmation_error_message); state 'sale', date_order now;
      sale_stock launches the stock rule: one delivery per order from the warehouse's stock to
      Partners/Customers, a move per goods line whose origin is "<name> - <client_order_ref>"
      (or just the name), reserved at once (delivery type reservation_method 'at_confirm').
      Recorded: 06b/06c (picking_ids), 06d (free_qty drops, on hand does not), 07a/07b.
    - action_cancel: UserError for a locked order; unless the context has
      `disable_cancel_warning`, any order not in draft makes it return the sale.order.cancel
      wizard action (ensure_one: one order only) and cancel nothing (recorded 06e); otherwise
      _action_cancel: the deliveries not done are cancelled (moves cancelled, reservations
      released) and the state is 'cancel' (recorded 06f/06g). Same in 16 and 17.
    - a confirmed order's lines cannot be deleted (_check_line_unlink / _unlink_except_confirmed,
      17/18): "set the quantity to 0 instead". A changed quantity on a confirmed order is
      procured again for the difference (_action_launch_stock_rule with the previous quantity):
      more is added to the line's open move and reserved, less lowers it and frees the excess.
    - amounts: price_unit defaults to the product's lst_price (the default pricelist), and one
      price-excluded tax `tax` (15% as on the recorded server; 0 to ignore taxes) rounded
      per line to the cent (round_per_line); no discounts, pricelists, fiscal positions.
    Not modelled: locking ('done' in 16, `locked` in 17+; off by default), quotation sending,
    invoices, routes other than one-step delivery, UoMs other than Units.
    """

    def __init__(self, store: Store, stock: Stock, tax: float) -> None:
        self.store = store
        self.stock = stock
        # The tax rate applied to every sale order line (one price-excluded tax, as the recorded
        # server's default); 0 to leave taxes out. See order_amounts.
        self.tax = float(tax)
        self._sequence = 0  # the last number the sale.order sequence gave (S00001, ...)

    def schema(self) -> Schema:
        """sale.order and sale.order.line, with the sale_stock fields."""
        states = (("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order"),
                  *((("done", "Locked"),) if self.store.major < 17 else ()), ("cancel", "Cancelled"))

        def amount(index: int) -> Callable[[Any, Query], float]:
            return lambda record, query: self.order_amounts(record.id)[index]

        def type_name(record: SaleOrder, query: Query) -> str:
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
                    lambda r, q: [line.id for line in self.order_lines(r.id)],
                    relation="sale.order.line", store=False),
                col("picking_ids", "one2many", "Transfers",
                    lambda r, q: [p.id for p in self.order_pickings(r.id)],
                    relation="stock.picking", store=False),
                col("delivery_count", "integer", "Delivery Orders",
                    lambda r, q: len(self.order_pickings(r.id)), store=False),
                col("amount_untaxed", "monetary", "Untaxed Amount", amount(0)),
                col("amount_tax", "monetary", "Taxes", amount(1)),
                col("amount_total", "monetary", "Total", amount(2)),
                col("type_name", "char", "Type Name", type_name, store=False),
                *([col("locked", "boolean", "Locked")] if self.store.major >= 17 else []),
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
                    lambda r, q: self.qty_delivered(r.id)),
                col("state", "selection", "Order Status",
                    lambda r, q: self.store.tables["sale.order"][r.order_id].state,
                    selection=states),
                *dates(),
            ],
        }

    def order_lines(self, order_id: int) -> list[SaleLine]:
        return sorted((line for line in self.store.tables["sale.order.line"].values()
                       if line.order_id == order_id), key=lambda line: (line.sequence, line.id))

    def order_pickings(self, order_id: int) -> list[Picking]:
        return sorted((p for p in self.store.tables["stock.picking"].values() if p.sale_id == order_id),
                      key=lambda p: p.id)

    def _line_moves(self, line_id: int) -> list[Move]:
        return [m for m in self.store.tables["stock.move"].values() if m.sale_line_id == line_id]

    def qty_delivered(self, line_id: int) -> float:
        """sale_stock's qty_delivered: done moves to a customer location (minus returns)."""
        total = 0.0
        for move in self._line_moves(line_id):
            if move.state == "done":
                total += move.quantity if move.location_dest_id == CUSTOMERS else -move.quantity
        return round(total, 2)

    def order_amounts(self, order_id: int) -> tuple[float, float, float]:
        """(amount_untaxed, amount_tax, amount_total), rounded per line to the cent."""
        untaxed = tax = 0.0
        for line in self.order_lines(order_id):
            subtotal = round(line.product_uom_qty * line.price_unit, 2)
            untaxed += subtotal
            tax += round(subtotal * self.tax, 2)
        return round(untaxed, 2), round(tax, 2), round(untaxed + tax, 2)

    def call(self, query: Query, model: str, method: str, bound: dict[str, Any]) -> Any:
        """create/write on res.partner and sale.order, action_confirm/action_cancel: all or
        nothing (everything is checked before anything is written), one write time."""
        now = self.store.clock()
        try:
            if method == "create":
                return create_each(bound["vals_list"], lambda items: self._create(model, now, items))
            ids = self.store.existing(model, bound["ids"])
            if method == "write":
                vals = bound["vals"]
                if not isinstance(vals, dict):
                    raise type_error("write() takes a dict of values")
                if model == "res.partner":
                    checked = self._partner_values(vals, creating=False)
                    for partner_id in ids:
                        partner = self.store.tables["res.partner"][partner_id]
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
            self.store.changed()

    def _partner_values(self, vals: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        columns = self.store.columns["res.partner"]
        checked: dict[str, Any] = {}
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model 'res.partner'")
            if name in ("id", "display_name", "create_date", "write_date"):
                continue
            converted = self.store.convert("res.partner", column.field, value, None)
            checked[name] = converted
        if (creating or "name" in checked) and not checked.get("name"):
            # res.partner's SQL constraint check_name, as odoo.service.model reports a violated
            # constraint (not recorded)
            raise OdooFault("odoo.exceptions.ValidationError",
                            "The operation cannot be completed: Contacts require a name")
        return checked

    def _create(self, model: str, now: datetime, items: list[dict[str, Any]]) -> list[int]:
        """Partners or sale orders, every one checked before the first is written."""
        if model == "res.partner":
            checked = [self._partner_values(vals, creating=True) for vals in items]
            return [self._create_partner(now, vals) for vals in checked]
        plans = [self._order_plan(vals) for vals in items]
        return [self._create_order(now, plan) for plan in plans]

    def _create_partner(self, now: datetime, vals: dict[str, Any]) -> int:
        partner_id = self.store.alloc("res.partner")
        partner = Partner(partner_id, vals["name"], vals.get("email"), now, now)
        partner.active = vals.get("active", True) is not False
        partner.customer_rank = int(vals.get("customer_rank") or 0)
        self.store.tables["res.partner"][partner_id] = partner
        return partner_id

    def _product_for_line(self, value: Any) -> Product:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Wrong value for sale.order.line.product_id: {value!r}")
        product = self.store.tables["product.product"].get(value)
        if product is None:
            # The line's precomputed fields (name, price, UoM) read the product first: Odoo
            # answers the MissingError of browsing a record that does not exist (not recorded).
            raise missing_record("product.product", value)
        return product

    def _line_values(self, vals: Any, *, creating: bool) -> dict[str, Any]:
        """Checked values of one sale.order.line command (product, quantity, price, name)."""
        if not isinstance(vals, dict):
            raise ValueError(f"Wrong value for sale.order.order_line: {vals!r}")
        columns = self.store.columns["sale.order.line"]
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
            raise self.store.mandatory("sale.order.line", "product_id")
        return checked

    def _order_plan(self, vals: dict[str, Any]) -> dict[str, Any]:
        """Checked values of one sale.order create."""
        columns = self.store.columns["sale.order"]
        plan: dict[str, Any] = {"lines": []}
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model 'sale.order'")
            if name == "order_line":
                plan["lines"] = self._line_commands(None, value)
            elif name in ("partner_id", "warehouse_id"):
                plan[name] = self.store.convert("sale.order", column.field, value, None)
            elif name in ("client_order_ref", "origin", "name"):
                plan[name] = str(value) if value else None
            # state, amounts, pickings...: read-only or computed, ignored like Odoo does
        if not plan.get("partner_id"):
            raise self.store.mandatory("sale.order", "partner_id")
        if not plan.get("warehouse_id"):
            # sale_stock's default: the company's first warehouse
            warehouses = sorted(w.id for w in self.store.tables["stock.warehouse"].values() if w.active)
            if not warehouses:
                raise self.store.mandatory("sale.order", "warehouse_id")
            plan["warehouse_id"] = warehouses[0]
        return plan

    def _line_commands(self, order: SaleOrder | None, value: Any) -> list[tuple[int, Any, Any]]:
        """order_line x2many commands, checked: (0, None, vals), (1, line, vals), (2, line, None)."""
        if value is None or value is False:
            return []
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for sale.order.order_line: {value!r}")
        lines = self.store.tables["sale.order.line"]
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
                raise missing_record("sale.order.line", command[1])
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
        order_id = self.store.alloc("sale.order")
        self._sequence += 1
        # the sale.order sequence: S + 5 digits (name given on create since 16)
        name = plan.get("name") or f"S{self._sequence:05d}"
        order = SaleOrder(order_id, name, "draft", plan["partner_id"],
                          plan.get("client_order_ref"), plan.get("origin"),
                          plan["warehouse_id"], now, now, now)
        self.store.tables["sale.order"][order_id] = order
        for _code, _line, vals in plan["lines"]:
            self._new_sale_line(now, order, vals)
        return order_id

    def _new_sale_line(self, now: datetime, order: SaleOrder, vals: dict[str, Any]) -> SaleLine:
        product: Product = vals["product_id"]
        sequence = vals.get("sequence")
        if sequence is None:
            sequence = 10  # the field's default
        line = SaleLine(self.store.alloc("sale.order.line"), order.id, product.id,
                        vals.get("name") or self.store.display("product.product", product),
                        vals.get("product_uom_qty", 1.0),
                        vals.get("price_unit", product.lst_price), sequence, now, now)
        self.store.tables["sale.order.line"][line.id] = line
        return line

    def _write_orders(self, now: datetime, ids: list[int], vals: dict[str, Any]) -> None:
        columns = self.store.columns["sale.order"]
        orders = self.store.tables["sale.order"]
        plans: list[tuple[SaleOrder, dict[str, Any], list[tuple[int, Any, Any]]]] = []
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
                    converted = self.store.convert("sale.order", column.field, value, None)
                    if not converted:
                        raise self.store.mandatory("sale.order", name)
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
                        self.stock.cancel_move(now, move)
                    del self.store.tables["sale.order.line"][line.id]
            order.write_date = now

    def _confirm_orders(self, now: datetime, ids: list[int]) -> None:
        orders = [self.store.tables["sale.order"][i] for i in ids]
        for order in orders:
            if order.state not in ("draft", "sent"):
                # sale.order._confirmation_error_message (17/18), not recorded
                raise OdooFault("odoo.exceptions.UserError",
                                "Some orders are not in a state requiring confirmation.")
        for order in orders:
            order.state, order.date_order, order.write_date = "sale", now, now
            for line in self.order_lines(order.id):
                self._procure(now, order, line, line.product_uom_qty)

    def _procure(self, now: datetime, order: SaleOrder, line: SaleLine, delta: float) -> None:
        """sale_stock's procurement of `delta` more (or, negative, less) of a confirmed line."""
        product = self.store.tables["product.product"][line.product_id]
        if product.type == "service" or product.type == "combo" or not delta:
            return
        warehouse = self.store.tables["stock.warehouse"][order.warehouse_id]
        stock = warehouse.lot_stock_id
        open_moves = [m for m in self._line_moves(line.id) if m.state in OPEN_MOVE_STATES]
        if delta < 0:  # a negative procurement merges into the open move: less demand
            for move in reversed(open_moves):
                take = min(-delta, move.product_uom_qty)
                move.product_uom_qty = round(move.product_uom_qty - take, 6)
                delta += take
                if move.product_uom_qty <= 0:
                    self.stock.cancel_move(now, move)
                else:
                    self.stock.unreserve(now, move, max(0.0, move.quantity - move.product_uom_qty))
                    self.stock.set_move_state(move)
                    move.write_date = now
                    self.stock.sync_picking(now, move.picking_id)
                if delta >= 0:
                    break
            return
        move = open_moves[0] if open_moves else None
        if move is None:
            picking = next((p for p in self.order_pickings(order.id)
                            if p.state not in ("done", "cancel")), None)
            origin = (f"{order.name} - {order.client_order_ref}" if order.client_order_ref
                      else order.name)
            if picking is None:
                picking = self.stock.new_picking(now, warehouse, origin, "confirmed", sale_id=order.id)
            move = self.stock.new_move(now, product.id, "confirmed", 0.0, 0.0, stock, CUSTOMERS,
                                       origin, picking.name, picking.id)
            move.sale_line_id = line.id
        move.product_uom_qty = round(move.product_uom_qty + delta, 6)
        move.write_date = now
        if product.storable:
            quant = self.store.quant_at.get((product.id, stock))
            free = quant.quantity - quant.reserved_quantity if quant is not None else 0.0
            reserved = max(0.0, min(delta, free))
            if quant is not None and reserved:
                quant.reserved_quantity = round(quant.reserved_quantity + reserved, 6)
                quant.write_date = now
                move.quantity = round(move.quantity + reserved, 6)
        else:
            move.quantity = move.product_uom_qty  # consumables are always available
        self.stock.set_move_state(move)
        picking = self.store.tables["stock.picking"].get(move.picking_id)
        if picking is not None and picking.state not in ("done", "cancel"):
            states = {m.state for m in self.store.tables["stock.move"].values()
                      if m.picking_id == picking.id and m.state != "cancel"}
            picking.state = "assigned" if states == {"assigned"} else "confirmed"
            picking.write_date = now

    def _cancel_orders(self, now: datetime, ids: list[int], context: dict[str, Any]) -> Any:
        orders = [self.store.tables["sale.order"][i] for i in ids]
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
            for picking in self.order_pickings(order.id):
                if picking.state in ("done", "cancel"):
                    continue
                for move in self.store.tables["stock.move"].values():
                    if move.picking_id == picking.id:
                        self.stock.cancel_move(now, move)
                picking.state, picking.write_date = "cancel", now
            order.state, order.write_date = "cancel", now
        return True

    def seed_orders(self, orders: list[dict[str, Any]],
                    reserved: dict[str, dict[int, float]]) -> None:
        """The recorded sale orders (`seeded_state.json` "sale_orders"), same ids, names, pickings.

        Only their headers are recorded (no customer, no lines): they are sold to the
        Administrator's partner. The recorded reservations of a warehouse (the README's "reserved
        sale order") become lines of its first confirmed order, reserved in that order's first
        delivery; the other deliveries are 'cancel' for cancelled orders and 'done' otherwise,
        without moves. The sale.order sequence continues after the highest recorded name.
        """
        with self.store.lock:
            now = self.store.clock()
            for record in sorted(orders, key=lambda o: o["id"]):
                warehouse_ref = record.get("warehouse_id")
                warehouse = (self.store.tables["stock.warehouse"][warehouse_ref[0]] if warehouse_ref
                             else min(self.store.tables["stock.warehouse"].values(),
                                      key=lambda w: w.id))
                order = SaleOrder(self.store.alloc("sale.order", record["id"]), record["name"],
                                  record["state"], ADMIN_PARTNER_ID,
                                  record.get("client_order_ref") or None, None, warehouse.id,
                                  now, now, now)
                self.store.tables["sale.order"][order.id] = order
                number = re.search(r"(\d+)$", order.name)
                if number:
                    self._sequence = max(self._sequence, int(number.group(1)))
                holds = reserved.pop(warehouse.code, {}) if order.state == "sale" else {}
                origin = (f"{order.name} - {order.client_order_ref}" if order.client_order_ref
                          else order.name)
                for index, picking_id in enumerate(record.get("picking_ids") or []):
                    state = ("cancel" if order.state == "cancel"
                             else "confirmed" if holds and index == 0 else "done")
                    self.stock.new_picking(now, warehouse, origin, state, picking_id=picking_id,
                                           sale_id=order.id)
                for product_id, quantity in holds.items():
                    product = self.store.tables["product.product"][product_id]
                    line = SaleLine(self.store.alloc("sale.order.line"), order.id, product_id,
                                    self.store.display("product.product", product), quantity,
                                    product.lst_price, 10, now, now)
                    self.store.tables["sale.order.line"][line.id] = line
                    self._procure(now, order, line, quantity)
            self.store.changed()
