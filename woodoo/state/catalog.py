"""The SKU map: which shop item each SKU is, the SKUs the shop lacks, and their Odoo products."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from woodoo.rules import ShownStock
from woodoo.state.database import Store


@dataclass(frozen=True)
class ShopProduct:
    """A WooCommerce product or variation as the SKU map knows it."""

    sku: str
    woo_id: int
    parent_id: int  # 0 for a simple product
    manage_stock: bool
    backorders: str
    quantity: int | None
    status: str

    @property
    def is_variation(self) -> bool:
        """True when the item is written through its parent's variations endpoint."""
        return self.parent_id != 0


class CatalogStore(Store):
    """The shop's items by SKU, SKUs looked up and not found, and links to Odoo products."""

    def replace(self, products: Iterable[ShopProduct]) -> None:
        """Replace the whole SKU map with a fresh index of the shop."""
        now = self.database.clock()
        with self.database.atomic() as db:
            db.execute("delete from sku_map")
            db["sku_map"].insert_all((_map_row(p, now) for p in products), pk="sku")
            db.execute("delete from shop_absent")

    def remember(self, products: Iterable[ShopProduct]) -> None:
        """Add or refresh some SKU map entries (from an on-demand lookup)."""
        now = self.database.clock()
        rows = [_map_row(p, now) for p in products]
        with self.database.atomic() as db:
            db["sku_map"].upsert_all(rows, pk="sku", alter=False)
            for row in rows:
                db.execute("delete from shop_absent where sku = ?", [row["sku"]])

    def forget(self, sku: str) -> None:
        """Drop an SKU map entry that the shop no longer knows (e.g. the product was deleted)."""
        with self.database.atomic() as db:
            db.execute("delete from sku_map where sku = ?", [sku])

    def products(self, skus: Iterable[str] | None = None) -> dict[str, ShopProduct]:
        """SKU map entries for `skus` (all when None)."""
        if skus is None:
            with self.database.read() as db:
                rows = list(db["sku_map"].rows)
        else:
            rows = self.database.select_in("sku_map", "sku", list(skus))
        return {row["sku"]: _product(row) for row in rows}

    def size(self) -> int:
        """How many SKUs the map holds."""
        with self.database.read() as db:
            return db["sku_map"].count

    def note_shown(self, shown: dict[str, ShownStock]) -> None:
        """Remember what the shop shows for these SKUs now (a write it applied)."""
        now = self.database.clock()
        with self.database.atomic() as db:
            db.conn.executemany(
                "update sku_map set quantity = ?, status = ?, seen_at = ? where sku = ?",
                [(stock.quantity, stock.status, now, sku) for sku, stock in shown.items()],
            )

    def note_shop_quantity(self, sku: str, quantity: int | None) -> None:
        """Remember what the shop was found to show for an SKU."""
        with self.database.atomic() as db:
            db.execute("update sku_map set quantity = ?, seen_at = ? where sku = ?",
                       [quantity, self.database.clock(), sku])

    def seen_at(self, sku: str) -> float | None:
        """When the shop's figure for an SKU was last learnt (listed, written, or found)."""
        with self.database.read() as db:
            row = db.execute("select seen_at from sku_map where sku = ?", [sku]).fetchone()
        return row[0] if row else None

    def link_odoo_ids(self, odoo_ids: dict[str, int]) -> None:
        """Record which Odoo product each mapped SKU belongs to (where it is new or changed)."""
        with self.database.atomic() as db:
            db.conn.executemany(
                "update sku_map set odoo_id = ? where sku = ? and odoo_id is not ?",
                [(odoo_id, sku, odoo_id) for sku, odoo_id in odoo_ids.items()],
            )

    def odoo_ids(self) -> dict[str, int]:
        """Odoo product id by SKU, for mapped SKUs seen in Odoo."""
        with self.database.read() as db:
            return dict(db.execute("select sku, odoo_id from sku_map where odoo_id is not null"
                                   ).fetchall())

    def mark_absent(self, skus: Iterable[str]) -> None:
        """Remember that these SKUs were looked up in the shop and not found."""
        now = self.database.clock()
        with self.database.atomic() as db:
            db["shop_absent"].upsert_all(
                ({"sku": s, "checked_at": now} for s in skus), pk="sku"
            )

    def absent_since(self, skus: Iterable[str]) -> dict[str, float]:
        """When each of these SKUs was last found missing from the shop."""
        return {
            row["sku"]: row["checked_at"]
            for row in self.database.select_in("shop_absent", "sku", list(skus))
        }


def _map_row(product: ShopProduct, now: float) -> dict[str, Any]:
    row = asdict(product)
    row["manage_stock"] = int(product.manage_stock)
    row["seen_at"] = now
    return row


def _product(row: dict[str, Any]) -> ShopProduct:
    return ShopProduct(
        sku=row["sku"], woo_id=row["woo_id"], parent_id=row["parent_id"],
        manage_stock=bool(row["manage_stock"]), backorders=row["backorders"],
        quantity=row["quantity"], status=row["status"],
    )
