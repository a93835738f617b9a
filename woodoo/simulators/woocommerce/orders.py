"""Orders in the simulated shop, the Woodoo Companion plugin's events about them, and the v3 orders
controller (/orders, /orders/<id>/refunds).

What a customer's order does to stock follows the recordings (tests/fixtures/woocommerce11/
order_events/): WooCommerce lowers its own stock when an order reaches processing, completed or
on-hold, and gives it back on cancelled, pending or failed and on restocked refunds. The plugin
side mirrors wp-plugin/woodoo-companion: every change stores an event carrying the whole order
(Woodoo_Payload::order), sent signed to the daemon and kept until a 2xx; the flush route sends
what waits.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests

from woodoo.simulators.woocommerce.args import CONTEXT, ORDER_COLLECTION_ARGS, int_arg, prepare
from woodoo.simulators.woocommerce.catalog import Catalog
from woodoo.simulators.woocommerce.listing import date_tests
from woodoo.simulators.woocommerce.php import gmt, local
from woodoo.simulators.woocommerce.rest import Call, Reply, RestError, page_links, require_auth
from woodoo.web import signing

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator

STOCK_TAKEN = frozenset({"processing", "completed", "on-hold"})
STOCK_GIVEN_BACK = frozenset({"cancelled", "pending", "failed"})
SEND_TIMEOUT = 5


@dataclass
class OrderLine:
    """One line item."""

    id: int
    product_id: int
    variation_id: int
    sku: str
    name: str
    quantity: int


@dataclass
class Refund:
    """A refund: quantity per line item id."""

    id: int
    lines: dict[int, int]
    created: int


@dataclass
class Order:
    """A shop order."""

    id: int
    status: str
    created: int
    modified: int
    email: str
    lines: list[OrderLine]
    refunds: list[Refund] = field(default_factory=list)
    stock_reduced: bool = False

    @property
    def number(self) -> str:
        """The order number (the id, as WooCommerce numbers orders by default)."""
        return str(self.id)

    def refunded(self, line_id: int) -> int:
        """Units of a line refunded so far."""
        return sum(refund.lines.get(line_id, 0) for refund in self.refunds)


@dataclass
class Outgoing:
    """An event in the plugin's outbox."""

    event_id: str
    body: dict[str, Any]
    delivered: bool = False
    attempts: int = 0
    last_status: int = 0


class ShopOrders:
    """The shop's orders and the plugin's outbox of events about them."""

    def __init__(self, *, clock: Callable[[], float], lock: threading.RLock,
                 product_of: Callable[[str], tuple[int, int, str]],
                 move_stock: Callable[[str, int], None], home_url: Callable[[], str]) -> None:
        self.clock = clock
        self.orders: dict[int, Order] = {}
        self.outbox: list[Outgoing] = []
        # Where the plugin sends events, and its events secret (unset: it only queues them).
        self.daemon_url: str | None = None
        self.events_secret: str | None = None
        self._lock = lock
        self._product_of = product_of  # SKU -> (product id, variation id, name)
        self._move_stock = move_stock  # SKU, change in units
        self._home_url = home_url
        self._next_id = 38  # the recorded store's orders were numbered from the 30s
        self._next_item = 2
        self._send_lock = threading.Lock()

    # -- what customers and shop staff do -----------------------------------------------------

    def place(self, lines: list[tuple[str, int]], *, status: str = "processing",
              email: str = "ann@example.com") -> int:
        """A checkout of `lines` (SKU, quantity); stock is taken as WooCommerce takes it."""
        with self._lock:
            now = int(self.clock())
            items = []
            for sku, quantity in lines:
                product_id, variation_id, name = self._product_of(sku)
                items.append(OrderLine(self._next_item, product_id, variation_id, sku, name,
                                       quantity))
                self._next_item += 1
            order = Order(self._next_id, "pending", now, now, email, items)
            self._next_id += 1
            self.orders[order.id] = order
            self._set_status(order, status)
            self._queue(order, "order.created")
            return order.id

    def set_status(self, order_id: int, status: str) -> None:
        """Staff or a payment gateway moves the order to `status`."""
        with self._lock:
            order = self.orders[order_id]
            previous = order.status
            self._set_status(order, status)
            order.modified = max(order.modified, int(self.clock()))
            self._queue(order, "order.status_changed", previous)

    def refund(self, order_id: int, quantities: dict[str, int]) -> None:
        """A refund of these units (by SKU), restocked."""
        with self._lock:
            order = self.orders[order_id]
            lines = {line.id: quantities[line.sku] for line in order.lines if line.sku in quantities}
            refund = Refund(self._next_id, lines, int(self.clock()))
            self._next_id += 1
            order.refunds.append(refund)
            for line in order.lines:
                if line.id in lines and order.stock_reduced:
                    self._move_stock(line.sku, lines[line.id])
            order.modified = max(order.modified, int(self.clock()))
            self._queue(order, "order.refunded")

    def _set_status(self, order: Order, status: str) -> None:
        if status in STOCK_TAKEN and not order.stock_reduced:
            for line in order.lines:
                self._move_stock(line.sku, -(line.quantity - order.refunded(line.id)))
            order.stock_reduced = True
        elif status in STOCK_GIVEN_BACK and order.stock_reduced:
            for line in order.lines:
                self._move_stock(line.sku, line.quantity - order.refunded(line.id))
            order.stock_reduced = False
        order.status = status

    # -- the plugin ------------------------------------------------------------------------------

    def _queue(self, order: Order, event: str, previous: str | None = None) -> None:
        """Store the event as Woodoo_Queue::store does: a stable id and the whole order."""
        event_id = str(uuid.uuid4())
        self.outbox.append(Outgoing(event_id, {
            "event_id": event_id, "event": event, "store_url": self._home_url(), "sent_at": None,
            "order": self.payload(order, previous), "refund": None,
        }))

    def payload(self, order: Order, previous: str | None = None) -> dict[str, Any]:
        """The order as Woodoo_Payload::order builds it."""
        return {
            "id": order.id, "number": order.number, "status": order.status,
            "previous_status": previous,
            "date_modified": datetime.fromtimestamp(order.modified, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            "currency": "EUR",
            "customer": {"email": order.email, "first_name": "Ann", "last_name": "Lee"},
            "lines": [{"line_id": line.id, "product_id": line.product_id,
                       "variation_id": line.variation_id, "sku": line.sku,
                       "quantity": line.quantity, "refunded_quantity": order.refunded(line.id)}
                      for line in order.lines],
        }

    def waiting(self) -> int:
        """Events not yet acknowledged by the daemon."""
        with self._lock:
            return sum(1 for event in self.outbox if not event.delivered)

    def deliver(self, max_events: int = 100) -> dict[str, int] | None:
        """Send waiting events, oldest first, as the plugin's sender does; what happened.

        One sender at a time (the plugin's flush lock): None to a second caller, which sends
        nothing.
        """
        counts = {"sent": 0, "delivered": 0, "failed": 0}
        if not self._send_lock.acquire(blocking=False):
            return None
        try:
            with self._lock:
                due = [event for event in self.outbox if not event.delivered][:max_events]
            for event in due:
                if not (self.daemon_url and self.events_secret):
                    break
                body = json.dumps(event.body).encode()
                header = signing.sign(body, self.events_secret, signing.SHOP_EVENTS)
                counts["sent"] += 1
                event.attempts += 1
                try:
                    answer = requests.post(f"{self.daemon_url}/webhooks/woocommerce", data=body,
                                           timeout=SEND_TIMEOUT, headers={
                                               "Content-Type": "application/json",
                                               signing.HEADER: header})
                    event.last_status = answer.status_code
                except requests.RequestException:
                    event.last_status = 0
                if 200 <= event.last_status < 300:
                    event.delivered = True
                    counts["delivered"] += 1
                else:
                    counts["failed"] += 1
        finally:
            self._send_lock.release()
        return {**counts, "waiting": self.waiting()}


# -- the v3 orders controller ---------------------------------------------------------------------


def route_orders(shop: WooSimulator, call: Call) -> Reply:
    """GET /orders: the shop's orders, filtered by date and status, ordered, paged."""
    catalog = shop.catalog
    prepare(call, ORDER_COLLECTION_ARGS)
    require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    params = call.params
    statuses = set(params.get("status") or ["any"])
    tests = date_tests(params)
    include = {int(i) for i in params.get("include") or []}
    key = {"id": lambda o: o.id, "modified": lambda o: (o.modified, o.id)}.get(
        str(params.get("orderby")), lambda o: (o.created, o.id))
    with catalog.lock:
        matching = [o for o in shop.orders.orders.values()
                    if ("any" in statuses or o.status in statuses)
                    and (not include or o.id in include) and all(test(o) for test in tests)]
        matching.sort(key=key, reverse=params.get("order") == "desc")
        per_page, page = int(params["per_page"]), int(params["page"])
        chosen = matching[(page - 1) * per_page: page * per_page]
        items = [_order_data(catalog, order) for order in chosen]
    total = len(matching)
    pages = math.ceil(total / per_page) if total else 0
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages)),
               *page_links(call, page, pages)]
    return Reply(items, headers=headers)


def route_order_refunds(shop: WooSimulator, call: Call) -> Reply:
    """GET /orders/<id>/refunds: each refund with its line items (negative quantities,
    `_refunded_item_id` naming the order's line item, as WooCommerce stores refund items)."""
    catalog = shop.catalog
    prepare(call, {"order_id": int_arg(), "context": CONTEXT})
    require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    with catalog.lock:
        order = shop.orders.orders.get(int(call.route_args["order_id"]))
        if order is None:
            raise RestError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        lines = {line.id: line for line in order.lines}
        items = [{
            "id": refund.id, "date_created_gmt": gmt(refund.created), "amount": "0.00",
            "reason": "", "line_items": [{
                "id": refund.id * 100 + line_id, "name": lines[line_id].name,
                "product_id": lines[line_id].product_id,
                "variation_id": lines[line_id].variation_id, "quantity": -quantity,
                "sku": lines[line_id].sku,
                "meta_data": [{"id": refund.id * 100 + line_id, "key": "_refunded_item_id",
                               "value": str(line_id)}],
            } for line_id, quantity in refund.lines.items()],
        } for refund in reversed(order.refunds)]
    return Reply(items, headers=[("X-WP-Total", str(len(items))),
                                 ("X-WP-TotalPages", "1" if items else "0")])


def _order_data(catalog: Catalog, order: Order) -> dict[str, Any]:
    """An order as the v3 orders controller answers (the fields a backfill reads, in the
    recorded order; list_orders_modified_after.json)."""
    return {
        "id": order.id, "parent_id": 0, "status": order.status, "currency": "EUR",
        "date_created": local(order.created), "date_modified": local(order.modified),
        "billing": {"first_name": "Ann", "last_name": "Lee", "company": "", "address_1": "",
                    "address_2": "", "city": "", "state": "", "postcode": "",
                    "country": "", "email": order.email, "phone": ""},
        "number": order.number,
        "line_items": [_order_line_data(catalog, line, order) for line in order.lines],
        "refunds": [{"id": r.id, "reason": "", "total": "-0.00"} for r in reversed(order.refunds)],
        "date_created_gmt": gmt(order.created), "date_modified_gmt": gmt(order.modified),
    }


def _order_line_data(catalog: Catalog, line: OrderLine, order: Order) -> dict[str, Any]:
    """A line item as recorded (prices are the catalog's; no taxes in the recorded store)."""
    product = catalog.products.get(line.variation_id or line.product_id)
    price = product.regular_price if product else "0"
    total = f"{float(price or 0) * line.quantity:.2f}"
    parent = catalog.products.get(line.product_id) if line.variation_id else None
    return {
        "id": line.id, "name": line.name, "product_id": line.product_id,
        "variation_id": line.variation_id, "quantity": line.quantity, "tax_class": "",
        "subtotal": total, "subtotal_tax": "0.00", "total": total, "total_tax": "0.00",
        "taxes": [],
        "meta_data": ([{"id": line.id * 10, "key": "_reduced_stock",
                        "value": str(line.quantity), "display_key": "_reduced_stock",
                        "display_value": str(line.quantity)}] if order.stock_reduced else []),
        "sku": line.sku, "global_unique_id": "", "price": float(price or 0),
        "image": {"id": 0, "src": ""}, "parent_name": parent.name if parent else None,
    }
