"""free_qty summed from quants, as Odoo 18 and 19 compute it, and when that sum is exact.

What Odoo does (read in `stock/models/product.py`, `product.product._compute_quantities_dict`,
of 18.0 and 19.0; `_get_domain_locations` with the `location` context the gateway passes):

- The quants counted are those whose location lies under one of the given locations
  (`parent_path =like`, archived locations too: the quants are searched with
  `active_test=False`), of any usage, any company the user may read (the same record rules
  apply to the quant read), any lot, package and owner: an owner (consigned stock) is only
  filtered when the context names one (`owner_id`, or `owners` in 19), which the gateway never
  does. So `stock.quant` `search_read` of `location_id child_of` the warehouses' view locations,
  with `active_test=False`, reads exactly those quants.
- free_qty = round(sum(quantity) - sum(reserved_quantity)) in the product's unit of measure:
  18 `float_round(..., precision_rounding=product.uom_id.rounding)`, 19
  `product.uom_id.round(...)` (every unit rounds to 10 ** -(Product Unit digits) there).
  Quants hold their quantity in the product's unit, so no conversion happens.
- Kits (`mrp`, `is_kits`) get their figure from their components, not their quants.
- 19 with `product_expiry` also subtracts the unreserved quantity of quants whose removal date
  has passed (`with_expiration`, set by that module's override).

So a sum of quants is Odoo's figure when it is an integer, the unit's rounding divides 1 (an
integer then rounds to itself), the product is no kit and, on 19, none of its quants has a
removal date. Anything else keeps Odoo's own figure (the gateway reads it for those products).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

# How far a sum of float quantities may sit from an integer and still be that integer: Odoo sums
# numeric columns in SQL, we sum floats; both are far closer than this to a whole unit.
INTEGRAL = 1e-6


class QuantError(ValueError):
    """A quant row Odoo answered is not a quant (no product id, or a quantity not a number)."""


def sums(quants: Iterable[Any], wanted: set[int], *, expiring: bool) -> tuple[dict[int, float],
                                                                              set[int]]:
    """Sum quantity - reserved per wanted product; also the products with a quant that has a
    removal date (only looked at when `expiring`: Odoo 19 with product_expiry)."""
    free: dict[int, float] = {}
    expired: set[int] = set()
    for quant in quants:
        if not isinstance(quant, dict):
            raise QuantError(f"a {type(quant).__name__} where a quant belongs")
        product = quant.get("product_id")
        if product is False:
            continue
        if type(product) is not int:
            raise QuantError(f"quant {str(quant.get('id'))[:40]} has a product_id that is no id: "
                             f"{str(product)[:40]!r}")
        if product not in wanted:
            continue
        amounts = [quant.get("quantity"), quant.get("reserved_quantity")]
        if any(type(a) not in (int, float) or not math.isfinite(a) for a in amounts):
            raise QuantError(f"quant {str(quant.get('id'))[:40]} of product {product} has a "
                             f"quantity that is not a number: {str(amounts)[:80]}")
        free[product] = free.get(product, 0.0) + amounts[0] - amounts[1]
        if expiring and quant.get("removal_date"):
            expired.add(product)
    return free, expired


def divides_one(rounding: Any) -> bool:
    """Whether a unit's rounding divides 1 (0.01, 0.5, 1): an integer then rounds to itself."""
    if type(rounding) not in (int, float) or not 0 < rounding <= 1:
        return False
    steps = 1 / rounding
    return abs(steps - round(steps)) < INTEGRAL


def exact(total: float) -> float | None:
    """Odoo's rounded figure for a sum of quants in a unit whose rounding divides 1, or None
    when only Odoo can say it (a fraction: rounding it is Odoo's business)."""
    whole = round(total)
    return float(whole) if abs(total - whole) < INTEGRAL else None
