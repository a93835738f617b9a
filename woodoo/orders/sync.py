"""Shop orders: pending stock, and the per-order state machine that brings them to Odoo once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from woodoo import log
from woodoo.config import OrdersConfig
from woodoo.gateways.odoo import OdooGateway, SaleOrder
from woodoo.limits import EventId, Quantity, ShopId, ShopIdOrZero, Sku
from woodoo.state import OrderStore

# WooCommerce lowers its own stock when an order reaches these statuses (recorded on WooCommerce
# 11) and gives it back on cancelled, pending, failed and restocked refunds.
STOCK_TAKEN = frozenset({"processing", "completed", "on-hold"})
GONE = frozenset({"cancelled", "failed", "refunded", "trash", "deleted"})
RETRY_SECONDS = (30, 60, 120, 300, 900, 1800, 3600)
# How far after our clock an order's date_modified may be. The plugin's signature must be within
# webhooks.tolerance (300 s by default) of our clock and is made after the order changed, so an
# honest shop stays within it; a later date is a forgery or a broken clock.
FUTURE_SKEW_SECONDS = 300
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class OrderLine(_Model):
    """One line of a shop order."""

    line_id: ShopId
    product_id: ShopIdOrZero
    variation_id: ShopIdOrZero = 0
    sku: Sku = ""
    quantity: Quantity
    refunded_quantity: Quantity = 0


class Customer(_Model):
    """Who ordered."""

    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=200)
    last_name: str = Field("", max_length=200)


class ShopOrder(_Model):
    """The whole current order, as every event carries it."""

    id: ShopId
    number: str = Field(min_length=1, max_length=50)
    status: str = Field(min_length=1, max_length=50)
    previous_status: str | None = Field(None, max_length=50)
    # [0-9], not \d: \d also takes other scripts' digits, which compare wrongly as text.
    date_modified: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                       r"(\.[0-9]{1,9})?Z?$")
    currency: str = Field("", max_length=10)
    customer: Customer = Customer()
    lines: list[OrderLine] = Field(default_factory=list, max_length=1000)


class RefundLine(_Model):
    """Refunded quantity of one line."""

    line_id: ShopId
    quantity: Quantity


class Refund(_Model):
    """A full or partial refund."""

    id: ShopId
    amount: str | None = Field(None, max_length=50)
    restock: bool = True
    lines: list[RefundLine] = Field(default_factory=list, max_length=1000)


class OrderEvent(_Model):
    """The body of `POST /webhooks/woocommerce` (see docs/order-events.md)."""

    event_id: EventId
    event: Literal["order.created", "order.status_changed", "order.paid", "order.cancelled",
                   "order.refunded", "order.deleted"]
    store_url: str = Field(max_length=500)
    sent_at: str | None = Field(None, max_length=50)
    order: ShopOrder
    refund: Refund | None = None


def oversized_line(order: ShopOrder, refund: Refund | None, limit: int) -> str | None:
    """The path of the first quantity above `limit` (orders.max_line_quantity), or None."""
    for index, line in enumerate(order.lines):
        for name in ("quantity", "refunded_quantity"):
            if getattr(line, name) > limit:
                return f"order.lines[{index}].{name}"
    for index, refunded in enumerate(refund.lines if refund else []):
        if refunded.quantity > limit:
            return f"refund.lines[{index}].quantity"
    return None


def modified_at(value: str) -> datetime | None:
    """An order's `date_modified` (UTC) as an aware datetime; None when no such calendar time."""
    try:
        # The schema's pattern has checked the shape; this checks the calendar (2026-99-99).
        return datetime.strptime(value[:19], DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def misdated(order: ShopOrder, now: float) -> str | None:
    """Why `order.date_modified` cannot be taken (no such time, or in the future), or None.

    Refused, not clamped: the newest snapshot wins by this date, so a date we made up would
    rank the order against its own later events wrongly; refused, nothing is written, and the
    backfill takes the order once its date is no longer ahead of our clock.
    """
    when = modified_at(order.date_modified)
    if when is None:
        return "order.date_modified: not a real date and time (YYYY-MM-DDTHH:MM:SS, UTC)"
    if when.timestamp() > now + FUTURE_SKEW_SECONDS:
        return (f"order.date_modified: more than {FUTURE_SKEW_SECONDS} s after the daemon's "
                f"clock; check the shop's clock")
    return None


def sale_order_reference(prefix: str, order: ShopOrder) -> str:
    """The sale order's Customer Reference: one per shop order id, showing its number. Pure.

    `<prefix><id>` when the number is the id (WooCommerce's default, and what Woodoo wrote before
    the id was part of it, so those sale orders are found as they are); else
    `<prefix><number> (#<id>)`. No two ids share one: the first form ends in a digit, the
    second in `)` with the id after its last `#`, whatever the number holds.
    """
    if order.number == str(order.id):
        return f"{prefix}{order.id}"
    return f"{prefix}{order.number} (#{order.id})"


def effective_status(event: str, status: str) -> str:
    """The order's status, with a deleted order counted as gone."""
    return "deleted" if event == "order.deleted" else status


def quantities(order: ShopOrder) -> dict[str, int]:
    """Quantity per SKU still sold (ordered minus refunded), lines without SKU left out."""
    totals: dict[str, int] = {}
    for line in order.lines:
        if line.sku:
            totals[line.sku] = totals.get(line.sku, 0) + max(0, line.quantity - line.refunded_quantity)
    return {sku: qty for sku, qty in totals.items() if qty > 0}


def pending_quantities(order: ShopOrder, status: str, *, odoo_has_it: bool) -> dict[str, int]:
    """What the shop has taken for this order that Odoo does not have yet. Pure."""
    if status not in STOCK_TAKEN or odoo_has_it:
        return {}
    return quantities(order)


class OrderSync:
    """Applies order events locally (always possible) and brings orders to Odoo (when it answers)."""

    def __init__(self, config: OrdersConfig, orders: OrderStore, odoo: OdooGateway,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.orders = orders
        self.odoo = odoo
        self.clock = clock
        self.log = log.get("woodoo.orders.sync")
        self._lock = threading.Lock()

    def apply(self, payload: dict[str, Any], *, found_by: str = "event") -> set[str]:
        """Store an order event's snapshot (unless an older one) and its pending quantities.

        Every event carries the whole order, so the newest snapshot is the truth: events that
        arrive late or twice change nothing, and an order that both its event and the backfill
        bring is applied once. Returns the SKUs whose pending quantity changed.
        """
        event = OrderEvent.model_validate(payload)
        with self._lock:  # the worker and the backfill apply from different threads
            return self._apply(event, found_by)

    def lacks(self, order: ShopOrder) -> bool:
        """Whether this snapshot is newer than what is stored (or the order is unknown)."""
        stored = self.orders.get(order.id)
        return stored is None or (self._stored_date(stored) < order.date_modified
                                  and stored["status"] != "deleted")

    def _stored_date(self, stored: dict[str, Any]) -> str:
        """The stored snapshot's date, or "" (older than any) when no calendar time or in the
        future: an older version stored such dates, and they must not outrank real events."""
        when = modified_at(stored["date_modified"])
        if when is None or when.timestamp() > self.clock() + FUTURE_SKEW_SECONDS:
            return ""
        return str(stored["date_modified"])

    def _apply(self, event: OrderEvent, found_by: str) -> set[str]:
        order = event.order
        stored = self.orders.get(order.id)
        status = effective_status(event.event, order.status)
        if stored and stored["status"] == "deleted" and event.event != "order.deleted":
            return set()  # a deleted order stays deleted
        if stored and self._stored_date(stored) > order.date_modified and status != "deleted":
            self.log.info("older order event ignored", order=order.number, event_id=event.event_id)
            return set()
        if (stored and stored["date_modified"] == order.date_modified
                and stored["status"] == status
                and quantities(ShopOrder.model_validate(stored["payload"])) == quantities(order)):
            return set()  # the same snapshot again (the other path, a retry): nothing new
        previous = ShopOrder.model_validate(stored["payload"]) if stored else None
        in_odoo = bool(stored and stored["odoo_state"] in ("sale", "done"))
        unchanged = previous is not None and quantities(previous) == quantities(order)
        pending = pending_quantities(order, status, odoo_has_it=in_odoo and unchanged)
        self.orders.save({
            "order_id": order.id, "number": order.number, "status": status,
            "date_modified": order.date_modified, "payload": order.model_dump(),
            "sync_needed": 1, "next_sync_at": 0, "sync_attempts": 0, "found_by": found_by,
        }, pending)
        return _skus(order) | (_skus(previous) if previous else set())

    def sync_due(self) -> set[str]:
        """Bring due orders to Odoo; returns the SKUs of orders that changed there."""
        touched: set[str] = set()
        for row in self.orders.to_sync():
            order = ShopOrder.model_validate(row["payload"])
            try:
                self._sync(row, order)
                touched |= _skus(order)
            except Exception as error:  # Odoo down or refusing: try again later, nothing lost
                attempts = row["sync_attempts"] or 0
                delay = RETRY_SECONDS[min(attempts, len(RETRY_SECONDS) - 1)]
                self.orders.sync_failed(order.id, str(error), self.clock() + delay)
                self.log.error("order not synced to odoo; will retry", order=order.number,
                               error=str(error), retry_in_seconds=delay)
        return touched

    def _sync(self, row: dict[str, Any], order: ShopOrder) -> None:
        reference = sale_order_reference(self.config.client_order_ref_prefix, order)
        status = row["status"]
        existing = self.odoo.find_sale_order(reference) or self._adopt(row, order, reference)
        wanted = status in self.config.sale_order_statuses and status not in GONE
        if status in GONE:
            self._gone(order, status, existing)
        elif wanted and self.config.create_sale_orders:
            self._ensure_confirmed(order, status, reference, existing)
        elif wanted:
            # Track only: the order is entered in Odoo by someone else; pending until it is.
            has_it = existing is not None and existing.state in ("sale", "done")
            self._done(order, status, existing, odoo_has_it=has_it)
            if not has_it:
                self.orders.sync_failed(order.id, "waiting for the order in Odoo",
                                        self.clock() + 300)
        else:
            self._done(order, status, existing, odoo_has_it=False)

    def _adopt(self, row: dict[str, Any], order: ShopOrder, reference: str) -> SaleOrder | None:
        """The sale order an older Woodoo made for this order under `<prefix><number>`, renamed
        to `reference`; None when there is none that is surely this order's.

        Found by the id this order's row recorded, never by the number: searching the old
        reference would hand one order's sale order to another with the same number, the bug
        the id-based reference fixes. Shops whose numbers are their ids never come here (the
        reference did not change). A sale order several orders recorded (they shared it before)
        is left to a human, and this order gets its own.
        """
        if not row.get("sale_order_id"):
            return None
        legacy = f"{self.config.client_order_ref_prefix}{order.number}"
        previous = self.odoo.sale_order(row["sale_order_id"])
        if previous is None or previous.reference != legacy:
            return None
        others = self.orders.claiming(previous.id, besides=order.id)
        if others:
            self.log.warning("sale order shared by several shop orders; a new one is made",
                             order=order.number, sale_order=previous.name, others=others)
            return None
        self.odoo.set_sale_order_reference(previous.id, reference)
        self.log.info("sale order renamed to its order's id", order=order.number,
                      sale_order=previous.name, reference=reference)
        return self.odoo.find_sale_order(reference)

    def _ensure_confirmed(self, order: ShopOrder, status: str, reference: str,
                          existing: SaleOrder | None) -> None:
        wanted = quantities(order)
        products = self.odoo.product_ids(wanted)
        unknown = sorted(set(wanted) - set(products))
        missing_sku = [line.line_id for line in order.lines if not line.sku]
        if unknown or missing_sku:
            reason = (f"SKU {', '.join(unknown)} on order #{order.number} is not a product in Odoo"
                      if unknown else
                      f"order #{order.number} has lines without SKU ({missing_sku}); "
                      f"give the products SKUs in the shop")
            self._done(order, status, existing, odoo_has_it=False, attention=reason)
            return
        if existing is None:
            partner = self.odoo.partner_for(order.customer.email, _name(order),
                                            self.config.default_partner)
            existing = self.odoo.create_sale_order(
                reference, partner, {products[sku]: qty for sku, qty in wanted.items()})
            self.log.info("sale order created", order=order.number, sale_order=existing.name)
        elif existing.state in ("draft", "sent", "sale") and existing.quantities != {
                products[sku]: qty for sku, qty in wanted.items()}:
            if existing.delivered:
                self._done(order, status, existing, odoo_has_it=True,
                           attention=f"order #{order.number} changed after {existing.name} was "
                                     f"(partly) delivered; adjust it in Odoo (returns)")
                return
            self.odoo.set_sale_order_quantities(existing, {products[s]: q for s, q in wanted.items()})
        if existing.state in ("draft", "sent"):
            self.odoo.confirm_sale_order(existing.id)
        existing = self.odoo.find_sale_order(reference)
        if existing is not None and existing.state == "cancel":
            self._done(order, status, existing, odoo_has_it=False,
                       attention=f"{existing.name} is cancelled in Odoo but order #{order.number} "
                                 f"is {status} in the shop")
            return
        self._done(order, status, existing, odoo_has_it=True)

    def _gone(self, order: ShopOrder, status: str, existing: SaleOrder | None) -> None:
        attention = None
        if existing is not None and existing.state not in ("cancel",):
            if existing.delivered:
                attention = (f"order #{order.number} is {status} in the shop but {existing.name} "
                             f"was already delivered: handle the return in Odoo")
            else:
                self.odoo.cancel_sale_order(existing.id)
                self.log.info("sale order cancelled", order=order.number, sale_order=existing.name)
                existing = self.odoo.find_sale_order(existing.reference)
        self._done(order, status, existing, odoo_has_it=False, attention=attention)

    def _done(self, order: ShopOrder, status: str, existing: SaleOrder | None, *,
              odoo_has_it: bool, attention: str | None = None) -> None:
        self.orders.synced(
            order.id,
            sale_order_id=existing.id if existing else None,
            sale_order_name=existing.name if existing else None,
            odoo_state=existing.state if existing else None,
            pending=pending_quantities(order, status, odoo_has_it=odoo_has_it),
            attention=attention,
        )
        if attention:
            self.log.warning("order needs attention", order=order.number, reason=attention)



def _skus(order: ShopOrder) -> set[str]:
    return {line.sku for line in order.lines if line.sku}


def _name(order: ShopOrder) -> str:
    name = f"{order.customer.first_name} {order.customer.last_name}".strip()
    return name or order.customer.email or f"Web customer (order #{order.number})"
