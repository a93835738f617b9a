"""Stock rules: from Odoo's figure to what the shop shows. Pure functions, no I/O."""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

StockStatus = Literal["instock", "outofstock", "onbackorder"]
BACKORDERS_ALLOWED = frozenset({"notify", "yes"})


@dataclass(frozen=True)
class StockPolicy:
    """The store owner's stock rules, from the `sync` section of the config."""

    buffer: int = 0
    negative_to_zero: bool = True
    out_of_stock_threshold: int = 0
    backorders: Literal["respect_product", "never"] = "respect_product"


@dataclass(frozen=True)
class ShownStock:
    """What the shop should show for one SKU: always a quantity and a status together."""

    quantity: int
    status: StockStatus


def quantity_to_show(figure: float, pending: int, policy: StockPolicy) -> int:
    """Odoo's figure minus orders Odoo does not have yet, minus the buffer (which never goes below 0).

    Odoo quantities are floats (units of measure); the shop counts whole units, so we round down:
    showing 3 when Odoo has 3.5 can never oversell.
    """
    available = math.floor(figure + 1e-9) - pending
    if available > 0:
        available = max(0, available - policy.buffer)
    if policy.negative_to_zero:
        available = max(0, available)
    return available


def stock_status(quantity: int, backorders: str, policy: StockPolicy) -> StockStatus:
    """In stock above the threshold; otherwise on backorder if the product allows it, else out."""
    if quantity > policy.out_of_stock_threshold:
        return "instock"
    if policy.backorders == "respect_product" and backorders in BACKORDERS_ALLOWED:
        return "onbackorder"
    return "outofstock"


def stock_to_show(figure: float, pending: int, backorders: str, policy: StockPolicy) -> ShownStock:
    """The quantity and status the shop should show for one SKU."""
    quantity = quantity_to_show(figure, pending, policy)
    return ShownStock(quantity, stock_status(quantity, backorders, policy))


def sku_scope(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether an SKU is synced: it matches one of the shell-style patterns (none: every SKU)."""
    listed = list(patterns)
    if not listed:
        return lambda sku: True
    # One compiled expression: fnmatch.fnmatchcase per pattern would translate each every call.
    match = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in listed)).match
    return lambda sku: match(sku) is not None
