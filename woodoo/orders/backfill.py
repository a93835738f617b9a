"""Backfill: shop orders whose event never reached the daemon, read from the shop and applied.

An order event can be missing for a while (the daemon down, the network between shop and daemon
cut, the plugin's retry not due yet), and while it is, the shop has lowered its stock for an
order Woodoo does not know of: any push for that SKU would show the sold units again. So the
daemon also reads the shop's orders changed since the newest it has (REST `orders` with
`modified_after`, one request when nothing changed) and feeds those it lacks through the same
idempotent pipeline as the events: an order both paths bring is applied once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from woodoo import log
from woodoo.config import Config
from woodoo.errors import WoodooError
from woodoo.gateways.woocommerce import WooError, WooGateway
from woodoo.orders.sync import OrderEvent, OrderSync, misdated, oversized_line
from woodoo.state import State

WATERMARK = "orders_backfill_after"
# Re-read this far before the newest change seen: modified_after is strict at one-second
# resolution, and an order saved in a slow transaction may carry a slightly older time.
OVERLAP_SECONDS = 60
REST_TIME = "%Y-%m-%dT%H:%M:%S"


class BackfillError(WoodooError):
    """The shop's orders could not be read, so its figures may hide orders Woodoo lacks."""


@dataclass
class BackfillResult:
    """What one backfill read and did."""

    read: int = 0
    found: list[str] = field(default_factory=list)  # order numbers only the backfill brought
    updated: list[str] = field(default_factory=list)  # known orders with a newer snapshot
    unreadable: list[str] = field(default_factory=list)  # "order N: why"


def order_event(row: dict[str, Any], refunds: list[dict[str, Any]], store_url: str) -> dict[str, Any]:
    """The order event the plugin would have sent for this REST order (pure).

    Refunded units per line come from the refunds' line items: WooCommerce stores a refund's
    items with negative quantities and `_refunded_item_id` naming the order's line item (its
    REST refunds controller returns them so).
    """
    refunded: dict[int, int] = {}
    for refund in refunds:
        for item in refund.get("line_items") or []:
            meta = {m.get("key"): m.get("value") for m in item.get("meta_data") or []
                    if isinstance(m, dict)}
            line_id = int(meta.get("_refunded_item_id") or 0)
            refunded[line_id] = refunded.get(line_id, 0) + abs(int(item.get("quantity") or 0))
    billing = row.get("billing") or {}
    modified = f"{row['date_modified_gmt']}Z"
    return {
        "event_id": f"backfill-{row['id']}-{row['date_modified_gmt']}",
        "event": "order.status_changed", "store_url": store_url, "sent_at": None, "refund": None,
        "order": {
            "id": int(row["id"]), "number": str(row.get("number") or row["id"]),
            "status": str(row["status"]), "previous_status": None, "date_modified": modified,
            "currency": str(row.get("currency") or ""),
            "customer": {"email": str(billing.get("email") or ""),
                         "first_name": str(billing.get("first_name") or ""),
                         "last_name": str(billing.get("last_name") or "")},
            "lines": [{
                "line_id": int(item["id"]), "product_id": int(item.get("product_id") or 0),
                "variation_id": int(item.get("variation_id") or 0),
                "sku": str(item.get("sku") or ""),
                "quantity": max(0, round(float(item.get("quantity") or 0))),
                "refunded_quantity": refunded.get(int(item["id"]), 0),
            } for item in row.get("line_items") or []],
        },
    }


class OrderBackfill:
    """Reads the shop's recently changed orders and applies those the daemon lacks."""

    def __init__(self, config: Config, state: State, woo: WooGateway, orders: OrderSync, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.state = state
        self.woo = woo
        self.orders = orders
        self.clock = clock
        self.last_run = 0.0
        self.log = log.get("woodoo.orders.backfill")

    def due(self) -> bool:
        """Whether `orders.backfill_interval` has passed since the last run."""
        interval = self.config.orders.backfill_interval
        return interval > 0 and self.clock() - self.last_run >= interval

    def run(self) -> BackfillResult:
        """Read the orders changed since the newest known (less the overlap) and apply what is
        new; BackfillError when the shop cannot be read."""
        started = self.clock()
        run_id = uuid.uuid4().hex[:12]
        since = self._since()
        try:
            rows = self.woo.orders_modified_after(since.strftime(REST_TIME))
        except Exception as error:  # any failure: the caller must know it is blind
            self.state.runs.record("backfill", run_id, started, error=str(error))
            raise BackfillError(f"cannot read the shop's orders: {error}") from error
        result = BackfillResult(read=len(rows))
        newest = since
        for row in rows:
            self._take(row, result)
            changed = _rest_time(row.get("date_modified_gmt"))
            newest = max(newest, changed) if changed else newest
        # Never past our clock: an order dated in the future (refused by _take) would otherwise
        # put every order changed before that date out of reach.
        newest = min(newest, _utc(started))
        self.state.runs.set_meta(WATERMARK, newest.strftime(REST_TIME))
        self.last_run = started
        self.state.runs.record("backfill", run_id, started, checked=result.read,
                               changed=len(result.found) + len(result.updated), pushed=0,
                               failed=len(result.unreadable))
        if result.found:
            self.log.warning("orders found only by the backfill: their events never arrived",
                             orders=result.found, run_id=run_id)
            self.flush_plugin()  # it holds their events: sent now, it stops retrying them
        for problem in result.unreadable:
            self.log.error("shop order not taken", problem=problem, run_id=run_id)
        return result

    def flush_plugin(self) -> dict[str, Any] | None:
        """Ask the plugin to send the events it holds now; its counts, or None when it cannot
        be asked (no woocommerce.plugin_secret, plugin missing or unreachable: logged)."""
        if self.config.woocommerce.plugin_secret is None:
            return None
        try:
            counts = self.woo.flush_plugin()
        except WooError as error:
            self.log.warning("could not ask the plugin to send its waiting events",
                             error=str(error))
            return None
        self.log.info("plugin sent its waiting events", **{
            k: v for k, v in counts.items() if k in ("sent", "delivered", "failed", "waiting")})
        return counts

    def _take(self, row: dict[str, Any], result: BackfillResult) -> None:
        name = f"order {row.get('id')!r}" if isinstance(row, dict) else "an order"
        try:
            refunds = self.woo.order_refunds(int(row["id"])) if row.get("refunds") else []
            event = OrderEvent.model_validate(
                order_event(row, refunds, self.config.woocommerce.url))
        except (KeyError, TypeError, ValueError, ValidationError) as error:
            # One odd answer (or a refund read that failed) costs that order, not the others;
            # its event, when it comes, is applied as usual.
            first = error.errors()[0] if isinstance(error, ValidationError) else None
            why = (f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}" if first
                   else f"{type(error).__name__}: {error}")
            result.unreadable.append(f"{name}: {why}"[:300])
            return
        order = event.order
        too_many = oversized_line(order, None, self.config.orders.max_line_quantity)
        if too_many:
            result.unreadable.append(f"{name}: {too_many} is more than orders.max_line_quantity")
            return
        if (wrong_date := misdated(order, self.clock())) is not None:
            # Read again by every run while its date is ahead (the watermark stays behind it).
            result.unreadable.append(f"{name}: {wrong_date}")
            return
        if not self.orders.lacks(order):
            return
        known = self.state.orders.get(order.id) is not None
        self.orders.apply(event.model_dump(), found_by="backfill")
        (result.updated if known else result.found).append(order.number)

    def _since(self) -> datetime:
        stored = self.state.runs.get_meta(WATERMARK)
        newest = self.state.orders.newest_change()
        candidates = [t for t in (_rest_time(stored), _rest_time((newest or "").rstrip("Z")))
                      if t is not None]
        now = _utc(self.clock())
        if not candidates:
            # The first run: orders from before Woodoo took them are not its to bring to Odoo.
            return now
        # Capped at now: an older version let future dates move the watermark (and stored them).
        return min(max(candidates), now) - timedelta(seconds=OVERLAP_SECONDS)


def _utc(timestamp: float) -> datetime:
    """A unix time as the naive UTC datetime, to the second, that the watermark holds."""
    return datetime.fromtimestamp(timestamp, UTC).replace(microsecond=0, tzinfo=None)


def _rest_time(value: Any) -> datetime | None:
    """A REST 'YYYY-MM-DDTHH:MM:SS' as a naive UTC datetime; None when absent or odd."""
    try:
        return datetime.strptime(str(value)[:19], REST_TIME) if value else None
    except ValueError:
        return None
