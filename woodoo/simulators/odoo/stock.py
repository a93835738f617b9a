"""Stock as Odoo keeps it: locations, warehouses, products, quants, moves and deliveries, and the
quantities (qty_available, free_qty, ...) computed from them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from woodoo.simulators.odoo.records import Location, Move, Picking, Product, Quant, Template, Warehouse
from woodoo.simulators.odoo.store import Store

if TYPE_CHECKING:
    from woodoo.simulators.odoo.query import Query

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


def selected_locations(query: Query) -> set[int] | None:
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
    major = query.store.major
    warehouse_key = "warehouse_id" if major >= 18 else "warehouse"
    location = query.context.get("location")
    if location and not isinstance(location, list):
        location = [location]
    warehouse = query.context.get(warehouse_key)
    if warehouse and not isinstance(warehouse, list):
        warehouse = [warehouse]
    locations = query.store.tables["stock.location"]
    warehouses = query.store.tables["stock.warehouse"]
    empty_means_false = major >= 18
    if warehouse:
        view_ids = {warehouses[w].view_location_id
                    for w in _search_ids(query, "stock.warehouse", warehouse) if w in warehouses}
        if location:
            given = _search_ids(query, "stock.location", location)
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
        ids = _search_ids(query, "stock.location", location)
    else:
        ids = {w.view_location_id for w in warehouses.values() if w.active}
    ids = {i for i in ids if i in locations}
    if not ids:
        return set() if empty_means_false else None
    if major >= 17 and query.context.get("strict"):
        return ids
    return query.descendant_ids("stock.location", ids)


def _search_ids(query: Query, model: str, values: list[Any]) -> set[int]:
    """The ids given, and those of the records whose name matches a string given."""
    ids: set[int] = set()
    for item in values:
        if isinstance(item, int) and not isinstance(item, bool):
            ids.add(item)
        elif isinstance(item, str):
            ids |= query.name_search_ids(model, "ilike", item)
    return ids


def quantities(query: Query, product: Product) -> dict[str, float]:
    """qty_available, free_qty, incoming_qty, outgoing_qty, virtual_available, like Odoo.

    `_compute_quantities_dict`: quants (in the selected locations, any usage) give on hand and
    reserved; moves in waiting/confirmed/assigned/partially_available states give incoming
    (destination inside, source outside) and outgoing (the reverse).
    """
    if not product.storable:
        # Services are forced to 0; consumables never get quants or moves here.
        return dict.fromkeys(("qty_available", "free_qty", "incoming_qty", "outgoing_qty",
                              "virtual_available"), 0.0)
    selected = query.selected_locations()
    on_hand = reserved = incoming = outgoing = 0.0
    for quant in query.store.quants_by_product.get(product.id, ()):
        if selected is None or quant.location_id in selected:
            on_hand += quant.quantity
            reserved += quant.reserved_quantity
    for move in query.store.moves_by_product.get(product.id, ()):
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
    return {
        "qty_available": round(on_hand, 2),
        "free_qty": round(on_hand - reserved, 2),
        "incoming_qty": round(incoming, 2),
        "outgoing_qty": round(outgoing, 2),
        "virtual_available": round(on_hand + round(incoming, 2) - round(outgoing, 2), 2),
    }


class Stock:
    """The stock records of a Store: how they are created and changed."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_warehouse(self, code: str, name: str, *, warehouse_id: int | None = None,
                      view_id: int | None = None, stock_id: int | None = None) -> int:
        with self.store.lock:
            if self.find_warehouse(code, strict=False) is not None:
                raise ValueError(f"a warehouse with code {code!r} exists already")
            wid = self.store.alloc("stock.warehouse", warehouse_id)
            view = self.store.alloc("stock.location", view_id)
            stock = self.store.alloc("stock.location", stock_id)
            others = [self.store.alloc("stock.location") for _ in WAREHOUSE_SUBLOCATIONS]
        pending = self.store.pending()
        if pending is not None:
            pending.warehouses[code] = stock

        def create(now: datetime) -> None:
            self.new_location(now, view, code, "view", PHYSICAL_LOCATIONS, warehouse=wid)
            self.new_location(now, stock, "Stock", "internal", view, warehouse=wid)
            for location_id, sub in zip(others, WAREHOUSE_SUBLOCATIONS, strict=True):
                # Odoo creates them archived while the warehouse uses one-step routes.
                self.new_location(now, location_id, sub, "internal", view, warehouse=wid,
                                  active=False)
            self.store.tables["stock.warehouse"][wid] = Warehouse(wid, code, name, view, stock,
                                                                  now, now)

        self.store.write(create)
        return wid

    def add_product(self, sku: str | None, name: str, *, storable: bool = True,
                    barcode: str | None = None, product_id: int | None = None,
                    product_type: str | None = None, template_id: int | None = None,
                    template_name: str | None = None, lst_price: float = 0.0) -> int:
        kind, is_storable = self.product_kind(storable, product_type)
        with self.store.lock:
            pid = self.store.alloc("product.product", product_id)
            if template_id is None:
                template_id = self.store.alloc("product.template")
            elif template_id not in self.store.issued["product.template"]:
                self.store.alloc("product.template", template_id)
        pending = self.store.pending()
        if pending is not None:
            pending.products[pid] = (sku, is_storable)

        def create(now: datetime) -> None:
            self.new_product(now, pid, sku, name, barcode, kind, is_storable, template_id,
                             template_name or name, lst_price)

        self.store.write(create)
        return pid

    def product_kind(self, storable: bool, product_type: str | None) -> tuple[str, bool]:
        """`type` and whether stock is tracked: Odoo 18 `consu` + is_storable, before `product`."""
        if self.store.major >= 18:
            kind = product_type or "consu"
            if kind not in ("consu", "service", "combo"):
                raise ValueError(f"Odoo {self.store.version} has no product type {kind!r}")
            return kind, storable and kind == "consu"
        if product_type is None:
            return ("product" if storable else "consu"), storable
        if product_type not in ("consu", "service", "product"):
            raise ValueError(f"Odoo {self.store.version} has no product type {product_type!r}")
        return product_type, product_type == "product"

    def product_id(self, sku_or_id: str | int) -> int:
        products = self.store.tables["product.product"]
        if isinstance(sku_or_id, int):
            if sku_or_id not in products:
                raise KeyError(f"no product with id {sku_or_id}")
            return sku_or_id
        ids = self.store.skus.get(sku_or_id, [])
        if not ids:
            raise KeyError(f"no product with SKU {sku_or_id!r}")
        if len(ids) > 1:
            raise KeyError(f"{len(ids)} products have SKU {sku_or_id!r}: {ids}")
        return ids[0]

    def storable_product(self, sku_or_id: str | int) -> int:
        """The product id (committed or created in the open transaction); it must be storable."""
        pending = self.store.pending()
        with self.store.lock:
            try:
                pid = self.product_id(sku_or_id)
                storable = self.store.tables["product.product"][pid].storable
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

    def find_warehouse(self, code_or_name: str, *, strict: bool = True) -> Any:
        for warehouse in self.store.tables["stock.warehouse"].values():
            if code_or_name in (warehouse.code, warehouse.name):
                return warehouse
        if strict:
            raise KeyError(f"no warehouse {code_or_name!r}")
        return None

    def warehouse_code(self, code_or_name: str) -> str:
        pending = self.store.pending()
        with self.store.lock:
            found = self.find_warehouse(code_or_name, strict=pending is None)
        if found is not None:
            return found.code
        assert pending is not None
        if code_or_name not in pending.warehouses:
            raise KeyError(f"no warehouse {code_or_name!r}")
        return code_or_name

    def stock_location(self, code_or_name: str) -> int:
        pending = self.store.pending()
        with self.store.lock:
            found = self.find_warehouse(code_or_name, strict=pending is None)
            if found is not None:
                return found.lot_stock_id
        assert pending is not None
        # A warehouse created in the open transaction: its location ids are already handed out.
        return pending.warehouses[self.warehouse_code(code_or_name)]

    def new_location(self, now: datetime, location_id: int, name: str, usage: str,
                     parent: int | None, *, warehouse: int | None = None,
                     active: bool = True) -> Location:
        locations = self.store.tables["stock.location"]
        parent_location = locations.get(parent) if parent else None
        if parent_location is None:
            complete_name, parent_path = name, f"{location_id}/"
        else:
            # stock.location._compute_complete_name: a view parent is shown, except at the root
            complete_name = (f"{parent_location.complete_name}/{name}"
                             if usage != "view" else name)
            parent_path = f"{parent_location.parent_path}{location_id}/"
        location = Location(location_id, name, usage, parent, complete_name, parent_path, now,
                            now, active=active, warehouse_id=warehouse)
        locations[location_id] = location
        return location

    def new_product(self, now: datetime, pid: int, sku: str | None, name: str,
                    barcode: str | None, kind: str, storable: bool, template_id: int,
                    template_name: str, lst_price: float) -> None:
        templates = self.store.tables["product.template"]
        template = templates.get(template_id)
        if template is None:
            template = Template(template_id, template_name, kind, storable, now, now)
            templates[template_id] = template
        template.variant_ids.append(pid)
        self.store.tables["product.product"][pid] = Product(pid, sku, name, barcode, kind, storable,
                                                            template_id, lst_price, now, now)
        if sku:
            self.store.skus.setdefault(sku, []).append(pid)

    def quant(self, now: datetime, pid: int, location_id: int) -> Quant:
        quant = self.store.quant_at.get((pid, location_id))
        if quant is None:
            quant = Quant(self.store.alloc("stock.quant"), pid, location_id, 0.0, 0.0, now, now)
            self.store.tables["stock.quant"][quant.id] = quant
            self.store.quant_at[(pid, location_id)] = quant
            self.store.quants_by_product.setdefault(pid, []).append(quant)
        return quant

    def new_move(self, now: datetime, pid: int, state: str, demand: float, quantity: float,
                 source: int, destination: int, origin: str | None, reference: str,
                 picking_id: int | None) -> Move:
        move = Move(self.store.alloc("stock.move"), pid, state, demand, quantity, source,
                    destination, origin, reference, picking_id, now, now, now)
        self.store.tables["stock.move"][move.id] = move
        self.store.moves_by_product.setdefault(pid, []).append(move)
        return move

    def new_picking(self, now: datetime, warehouse: Warehouse, origin: str | None,
                    state: str, *, picking_id: int | None = None,
                    sale_id: int | None = None) -> Picking:
        warehouse.out_sequence += 1
        picking = Picking(self.store.alloc("stock.picking", picking_id),
                          f"{warehouse.code}/OUT/{warehouse.out_sequence:05d}", origin, state,
                          warehouse.lot_stock_id, CUSTOMERS, now, now, sale_id=sale_id)
        self.store.tables["stock.picking"][picking.id] = picking
        return picking

    def sync_picking(self, now: datetime, picking_id: int | None) -> None:
        picking = self.store.tables["stock.picking"].get(picking_id) if picking_id else None
        if picking is None:
            return
        states = {m.state for m in self.store.tables["stock.move"].values()
                  if m.picking_id == picking_id}
        state = "done" if states == {"done"} else picking.state
        if state != picking.state:
            picking.state, picking.write_date = state, now

    @staticmethod
    def set_move_state(move: Move) -> None:
        move.state = ("assigned" if move.quantity >= move.product_uom_qty
                      else "partially_available" if move.quantity else "confirmed")

    def unreserve(self, now: datetime, move: Move, quantity: float) -> None:
        """Give back `quantity` of what the move reserved in its source quant."""
        if quantity <= 0:
            return
        move.quantity = round(move.quantity - quantity, 6)
        quant = self.store.quant_at.get((move.product_id, move.location_id))
        if quant is not None and self.store.tables["product.product"][move.product_id].storable:
            quant.reserved_quantity = round(max(0.0, quant.reserved_quantity - quantity), 6)
            quant.write_date = now

    def cancel_move(self, now: datetime, move: Move) -> None:
        if move.state in ("done", "cancel"):
            return
        self.unreserve(now, move, move.quantity)
        move.state, move.quantity, move.write_date = "cancel", 0.0, now
        self.sync_picking(now, move.picking_id)
