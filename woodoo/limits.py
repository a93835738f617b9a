"""Bounds on every number and string a sender can send, so that no value overflows what we store.

Odoo keeps ids in PostgreSQL `integer` columns; WordPress keeps post and order ids in `BIGINT`
columns, and SQLite's INTEGER is a signed 64-bit value: a larger number (2^63 was sent) raises
OverflowError where it is stored, so it is refused where it is received.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

ODOO_MAX_ID = 2**31 - 1
SHOP_MAX_ID = 2**63 - 1
MAX_QUANTITY = 10**9  # the hard ceiling; orders.max_line_quantity is the configurable one
MAX_JSON_DEPTH = 8  # our deepest body (order -> lines -> line) is 4 levels
MAX_JSON_VALUES = 100_000  # more than a 64 KiB body can hold: depth is the bound that matters

OdooId = Annotated[int, Field(gt=0, le=ODOO_MAX_ID)]
ShopId = Annotated[int, Field(gt=0, le=SHOP_MAX_ID)]
ShopIdOrZero = Annotated[int, Field(ge=0, le=SHOP_MAX_ID)]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
# Printable ASCII without spaces: ids are logged and shown, and the senders make them so.
EventId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
Sku = Annotated[str, Field(max_length=100)]


def oversized(value: object, *, max_depth: int, max_nodes: int) -> str | None:
    """What makes `value` too deep or too big, in words, or None (walked without recursion).

    Every visit counts, so a value that holds the same list many times (YAML aliases: the
    "billion laughs") is counted as large as it would be once expanded, and stopped early.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    visited = 0
    while stack:
        node, depth = stack.pop()
        visited += 1
        if visited > max_nodes:
            return f"holds more than {max_nodes} values"
        if isinstance(node, dict | list):
            if depth > max_depth:
                return f"nests deeper than {max_depth} levels"
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None
