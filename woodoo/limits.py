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

# -- what a remote (the shop, Odoo, the chat webhook) may answer ---------------------------------
# Each bound is far above what a real answer holds, and far below what would hurt the daemon: it
# counts bytes on the wire and bytes decoded (a 1 MB gzip answer can expand to 1 GiB), and a
# listing stops at an empty page and at the most rows a catalog can hold, whatever page count
# the remote claims.
#
# The shop: a REST page of 100 products with every field is 100-300 KB (with the `_fields` the
# daemon asks for, about 20 KB); a page of 100 orders with their lines about 1-3 MB; the
# plugin's catalog page of 5,000 items at most about 7 MB (a 200-character name, every character
# escaped as \uXXXX). 32 MiB holds all of them several times over.
SHOP_ANSWER_BYTES = 32 * 2**20
# Odoo: a search_read page of odoo.page_size (at most 10,000) rows of a few fields is about
# 2 MB; a version or database list a few hundred bytes.
ODOO_ANSWER_BYTES = 32 * 2**20
# The chat webhook answers "ok" (Slack) or a short JSON: nothing of it is used but its status.
CHAT_ANSWER_BYTES = 64 * 2**10
# Products and variations in one shop, orders read by one backfill, or rows of one Odoo listing
# (products; quant and move writes since the last poll). WooCommerce slows to a crawl long
# before a million products; a listing claiming more is refused rather than read for hours.
MAX_LISTED_ROWS = 1_000_000

# A remote's own words (an error message, a value it answered) quoted in one of ours: enough to
# say what it said. A longer text is cut where it enters the message, so that nothing that logs,
# stores or shows the message holds more (a 200 KB error page was once stored and shown whole).
REMOTE_TEXT_CHARS = 300
# A reason as it is stored (dead letters, runs, events) or shown: ours, with a few quotes cut to
# REMOTE_TEXT_CHARS. The stores cut to it again, as a second line of defence.
STORED_TEXT_CHARS = 2000


def cut(text: object, limit: int = REMOTE_TEXT_CHARS) -> str:
    """`text` as a string of at most about `limit` characters, saying how many were left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"
