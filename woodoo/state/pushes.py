"""Stock writes: the journal of batches in flight, what was last pushed, and the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from woodoo.rules import ShownStock
from woodoo.state.catalog import CatalogStore
from woodoo.state.database import Database, Store
from woodoo.state.dead_letters import DeadLetterStore


@dataclass(frozen=True)
class PushItem:
    """One stock write to send: which shop item, and the quantity and status to set."""

    sku: str
    woo_id: int
    parent_id: int
    quantity: int
    status: str
    odoo_id: int = 0

    @property
    def shown(self) -> ShownStock:
        """The quantity and status as a ShownStock."""
        return ShownStock(self.quantity, self.status)  # type: ignore[arg-type]


class PushStore(Store):
    """A batch journaled before it is sent, its outcome recorded with what it settles."""

    def __init__(self, database: Database, catalog: CatalogStore,
                 dead_letters: DeadLetterStore) -> None:
        """A store over `database` that keeps `catalog` and `dead_letters` true to each push."""
        super().__init__(database)
        self.catalog = catalog
        self.dead_letters = dead_letters

    def last_pushed(self, skus: Iterable[str]) -> dict[str, ShownStock]:
        """The quantity and status last written to the shop for each SKU that has one."""
        return {
            row["sku"]: ShownStock(row["quantity"], row["status"])
            for row in self.database.select_in("pushed", "sku", list(skus))
        }

    def journal(self, batch_id: str, items: list[PushItem], source: str, correlation_id: str,
                *, owner: str | None = None) -> None:
        """Write down a batch about to be sent, before sending it, as `owner`'s (a process token)."""
        now = self.database.clock()
        with self.database.atomic() as db:
            db["push_journal"].insert_all(
                (
                    {**asdict(i), "batch_id": batch_id, "source": source,
                     "correlation_id": correlation_id, "created_at": now, "owner": owner}
                    for i in items
                ),
                pk=("batch_id", "sku"),
            )

    def record_outcome(self, batch_id: str, applied: list[PushItem],
                       failed: list[tuple[PushItem, str]], source: str, correlation_id: str) -> None:
        """In one transaction: record what the shop applied (pushed + audit) and what failed.

        Clears the batch's journal rows, so the state never claims a push that did not happen.
        """
        now = self.database.clock()
        with self.database.atomic() as db:
            previous = self.last_pushed(i.sku for i in applied)
            shop = self.catalog.products(i.sku for i in applied)
            for item in applied:
                old = previous.get(item.sku)
                if old is None and item.sku in shop:
                    old = ShownStock(shop[item.sku].quantity or 0, shop[item.sku].status)  # type: ignore[arg-type]
                db["pushed"].upsert(
                    {"sku": item.sku, "quantity": item.quantity, "status": item.status,
                     "pushed_at": now, "correlation_id": correlation_id},
                    pk="sku",
                )
                db["audit"].insert(
                    {"sku": item.sku, "old_quantity": old.quantity if old else None,
                     "new_quantity": item.quantity, "old_status": old.status if old else None,
                     "new_status": item.status, "source": source,
                     "correlation_id": correlation_id, "at": now},
                )
            self.catalog.note_shown({item.sku: item.shown for item in applied})
            self.dead_letters.resolve([i.sku for i in applied])
            for item, reason in failed:
                self.dead_letters.add(item.sku, reason, source, asdict(item))
            db.execute("delete from push_journal where batch_id = ?", [batch_id])

    def unfinished(self, *, not_owned_by: str | None = None
                   ) -> list[tuple[str, PushItem, str, str]]:
        """Journal rows whose outcome is not recorded: (batch id, item, source, correlation id).

        With `not_owned_by`, that owner's rows are left out: they are its pushes in flight.
        Rows from before owners were recorded (owner NULL) always count.
        """
        where, args = ("owner is not ?", [not_owned_by]) if not_owned_by else (None, [])
        with self.database.read() as db:
            rows = list(db["push_journal"].rows_where(where, args, order_by="created_at, batch_id"))
        return [
            (r["batch_id"],
             PushItem(r["sku"], r["woo_id"], r["parent_id"], r["quantity"], r["status"],
                      r["odoo_id"] or 0),
             r["source"], r["correlation_id"])
            for r in rows
        ]

    def audit(self, sku: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows (for one SKU, if given)."""
        where, args = ("sku = ?", [sku]) if sku else (None, [])
        with self.database.read() as db:
            return list(db["audit"].rows_where(where, args, order_by="id desc", limit=limit))
