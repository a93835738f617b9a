"""Shop orders: their latest snapshots, where each stands in Odoo, and the stock held back for them.

Held back: the quantities orders have taken in the shop that Odoo does not have yet (pending),
and stock drops seen in the shop that no order has explained yet (unexplained, until they expire).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from woodoo.state.database import Store, chunks


class OrderStore(Store):
    """Order snapshots and their Odoo sync, pending quantities and unexplained drops."""

    def get(self, order_id: int) -> dict[str, Any] | None:
        """The stored snapshot of a shop order, or None."""
        with self.database.read() as db:
            rows = list(db["orders"].rows_where("order_id = ?", [order_id]))
        if not rows:
            return None
        return {**rows[0], "payload": json.loads(rows[0]["payload"])}

    def save(self, row: dict[str, Any], pending: dict[str, int]) -> None:
        """Store an order's snapshot and its pending quantities together."""
        now = self.database.clock()
        with self.database.atomic() as db:
            existing = db.execute("select received_at, found_by from orders where order_id = ?",
                                  [row["order_id"]]).fetchone()
            kept = {} if not existing else {"found_by": existing[1]}  # the first finder stays
            db["orders"].upsert(
                {**row, "payload": json.dumps(row["payload"]),
                 "received_at": existing[0] if existing else now, "updated_at": now, **kept},
                pk="order_id", alter=False,
            )
            _replace_pending(db, row["order_id"], pending)

    def synced(self, order_id: int, *, sale_order_id: int | None, sale_order_name: str | None,
               odoo_state: str | None, pending: dict[str, int],
               attention: str | None = None) -> None:
        """Record what Odoo now has for an order, and what of it is still pending."""
        with self.database.atomic() as db:
            db.execute(
                "update orders set sale_order_id = ?, sale_order_name = ?, odoo_state = ?, "
                "sync_needed = 0, sync_attempts = 0, last_error = null, attention = ?, "
                "updated_at = ? where order_id = ?",
                [sale_order_id, sale_order_name, odoo_state, attention, self.database.clock(),
                 order_id],
            )
            _replace_pending(db, order_id, pending)

    def sync_failed(self, order_id: int, error: str, retry_at: float) -> None:
        """Keep the order for another try at `retry_at`."""
        with self.database.atomic() as db:
            db.execute(
                "update orders set sync_needed = 1, sync_attempts = sync_attempts + 1, "
                "last_error = ?, next_sync_at = ? where order_id = ?",
                [error, retry_at, order_id],
            )

    def to_sync(self, limit: int = 50) -> list[dict[str, Any]]:
        """Orders whose Odoo side needs work now, oldest first."""
        with self.database.read() as db:
            rows = list(db["orders"].rows_where(
                "sync_needed = 1 and coalesce(next_sync_at, 0) <= ?", [self.database.clock()],
                order_by="updated_at", limit=limit))
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    def retry(self, order_ids: list[int] | None = None) -> int:
        """Bring orders needing attention (or the given ones) back to the Odoo sync; how many."""
        where, args = ("attention is not null", []) if not order_ids else (
            f"order_id in ({','.join('?' * len(order_ids))})", order_ids)
        with self.database.atomic() as db:
            return db.execute(
                f"update orders set sync_needed = 1, next_sync_at = 0, attention = null "
                f"where {where}", args).rowcount

    def claiming(self, sale_order_id: int, *, besides: int) -> list[str]:
        """Numbers of the orders other than `besides` whose row records this sale order."""
        with self.database.read() as db:
            return [row[0] for row in db.execute(
                "select number from orders where sale_order_id = ? and order_id != ? "
                "order by order_id limit 20", [sale_order_id, besides])]

    def newest_change(self) -> str | None:
        """The newest `date_modified` of any stored order (UTC, as order events carry it)."""
        with self.database.read() as db:
            return db.execute("select max(date_modified) from orders").fetchone()[0]

    def found_by_backfill(self, since: float) -> list[dict[str, Any]]:
        """Orders received since `since` that only the backfill found, newest first."""
        with self.database.read() as db:
            return list(db["orders"].rows_where(
                "found_by = 'backfill' and received_at >= ?", [since], order_by="received_at desc",
                select="order_id, number, status, received_at"))

    def needing_attention(self) -> list[dict[str, Any]]:
        """Orders Woodoo could not bring to Odoo by itself, with the reason."""
        with self.database.read() as db:
            return list(db["orders"].rows_where(
                "attention is not null", order_by="updated_at",
                select="order_id, number, status, attention, updated_at"))

    def stuck(self, older_than: float) -> list[dict[str, Any]]:
        """Orders still holding pending stock, received before `older_than` (unix time)."""
        with self.database.read() as db:
            rows = db.execute(
                "select o.order_id, o.number, o.status, o.received_at, o.last_error, "
                "group_concat(p.sku || ' x' || p.quantity, ', ') from orders o "
                "join pending p on p.order_id = o.order_id where o.received_at < ? "
                "group by o.order_id order by o.received_at", [older_than]).fetchall()
        return [{"order_id": r[0], "number": r[1], "status": r[2], "received_at": r[3],
                 "last_error": r[4], "skus": r[5]} for r in rows]

    def pending_by_sku(self, skus: Iterable[str], *, orders_only: bool = False) -> dict[str, int]:
        """Quantity per SKU the shop has taken that Odoo does not have yet: pending order lines
        plus unexpired unexplained drops (SKUs with nothing pending are left out)."""
        wanted = list(skus)
        totals: dict[str, int] = {}
        query = "select sku, sum(quantity) from pending where sku in ({}) group by sku"
        if not orders_only:
            query = (
                "select sku, sum(quantity) from (select sku, quantity from pending union all "
                "select sku, quantity from unexplained where expires_at > ?) "
                "where sku in ({}) group by sku"
            )
        with self.database.read() as db:
            for chunk in chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                arguments = chunk if orders_only else [self.database.clock(), *chunk]
                for sku, total in db.execute(query.format(marks), arguments):
                    totals[sku] = int(total)
        return totals

    def received_after(self, since: float) -> list[dict[str, Any]]:
        """The snapshots of orders that reached Woodoo after `since` (status and payload)."""
        with self.database.read() as db:
            rows = list(db["orders"].rows_where("received_at > ?", [since],
                                                select="status, payload"))
        return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    def hold_unexplained(self, sku: str, quantity: int, expires_at: float) -> None:
        """Hold back a stock drop seen in the shop that no order event has explained yet."""
        with self.database.atomic() as db:
            db.execute(
                "insert into unexplained (sku, quantity, expires_at) values (?, ?, ?) "
                "on conflict (sku) do update set quantity = case when unexplained.expires_at > ? "
                "then unexplained.quantity + excluded.quantity else excluded.quantity end, "
                "expires_at = excluded.expires_at",
                [sku, quantity, expires_at, self.database.clock()],
            )


def _replace_pending(db: sqlite_utils.Database, order_id: int, pending: dict[str, int]) -> None:
    before = dict(db.execute("select sku, quantity from pending where order_id = ?",
                             [order_id]).fetchall())
    for sku, quantity in pending.items():
        # An order's new pending quantity explains that much of an unexplained drop.
        explained = quantity - before.get(sku, 0)
        if explained > 0:
            db.execute("update unexplained set quantity = max(0, quantity - ?) where sku = ?",
                       [explained, sku])
    db.execute("delete from pending where order_id = ?", [order_id])
    db["pending"].insert_all(
        ({"order_id": order_id, "sku": sku, "quantity": quantity}
         for sku, quantity in pending.items() if quantity > 0),
        pk=("order_id", "sku"),
    )
