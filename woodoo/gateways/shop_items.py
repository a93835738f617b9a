"""What the shop lists, read into ShopItem: every field bounded, a row the daemon cannot
address refused in words (the REST listings and the plugin's catalog answer the same fields)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from woodoo.limits import MAX_QUANTITY, SHOP_MAX_ID
from woodoo.state import ShopProduct

NAME_CHARS = 200  # of a product's name: it only labels a row of the reconciliation report


@dataclass(frozen=True, slots=True)
class ShopItem:
    """One product or variation as listed by the shop, SKU or not (for the index and `check`)."""

    woo_id: int
    parent_id: int
    type: str
    sku: str
    manage_stock: bool
    quantity: int | None
    status: str
    backorders: str
    name: str = ""

    def as_product(self) -> ShopProduct:
        """The SKU map entry for this item."""
        return ShopProduct(self.sku, self.woo_id, self.parent_id, self.manage_stock,
                           self.backorders, self.quantity, self.status)


def parse(row: Any) -> ShopItem:
    """A listed product or variation; ValueError, in words, for one the daemon cannot address."""
    if not isinstance(row, dict):
        raise ValueError(f"the shop listed a {type(row).__name__} where a product belongs")
    woo_id, kind = row.get("id"), text(row.get("type"), "simple")
    if type(woo_id) is not int or not 0 < woo_id <= SHOP_MAX_ID:
        raise ValueError(f"the shop listed a product whose id is not a shop id: "
                         f"{str(woo_id)[:40]!r}")
    parent_id = row.get("parent_id") if kind == "variation" else 0
    if type(parent_id) is not int or not 0 <= parent_id <= SHOP_MAX_ID:
        raise ValueError(f"the shop listed variation {woo_id} with a parent id that is not a "
                         f"shop id: {str(parent_id)[:40]!r}")
    return ShopItem(
        woo_id=woo_id, parent_id=parent_id, type=kind, sku=text(row.get("sku")).strip(),
        manage_stock=row.get("manage_stock") is True,
        quantity=quantity(row.get("stock_quantity")),
        status=text(row.get("stock_status")), backorders=text(row.get("backorders"), "no"),
        name=text(row.get("name"))[:NAME_CHARS],
    )


def text(value: Any, default: str = "") -> str:
    """A listed string field; anything else (a number, an object) is read as absent."""
    return value if isinstance(value, str) and value else default


def quantity(value: Any) -> int | None:
    """A listed stock figure in whole units; a figure out of bounds, or not a number, is read
    as unknown (None), so that the next full comparison writes the right one over it."""
    if type(value) is str:  # a figure passed through as the post meta stores it
        try:
            value = float(value)
        except ValueError:
            return None
    if type(value) not in (int, float) or not -MAX_QUANTITY <= value <= MAX_QUANTITY:
        return None  # NaN fails both comparisons
    return math.floor(value)
