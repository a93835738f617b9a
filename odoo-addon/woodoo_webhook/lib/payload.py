# Part of woodoo_webhook. License LGPL-3.
"""Woodoo event bodies, event ids, the endpoint URL and the retry schedule. No Odoo import.

The daemon's POST /webhooks/odoo takes, as UTF-8 JSON of at most 64 KiB:
    {"event_id": str, "product_ids": [int], "skus": [str], "warehouse": str|null,
     "odoo_time": "YYYY-MM-DD HH:MM:SS" (UTC)}
with product_ids or skus non-empty. The models turn stock.quant / stock.move records into
StockLine values and call build_events; everything else here is plain Python so CI tests it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import namedtuple
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

# Stock in these location usages is the stock the shop sells (as the automation rule's domain
# [('location_id.usage', 'in', ['internal', 'transit'])]); quants elsewhere (customers,
# inventory adjustment, where they go negative) are Odoo's bookkeeping.
STOCK_USAGES = frozenset({"internal", "transit"})
MAX_BODY_BYTES = 64 * 1024
ODOO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ENDPOINT_PATH = "/webhooks/odoo"
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
GIVE_UP_AFTER = timedelta(hours=48)
_SHORT_MODELS = {"stock.quant": "quant", "stock.move": "move"}

# One quant or move: `locations` holds (usage, warehouse code or None) of the quant's location,
# or of the move's source and destination.
StockLine = namedtuple("StockLine", ["record_id", "product_id", "sku", "locations"])


def in_stock_locations(line):
    """Whether the line touches a location whose stock counts (internal or transit)."""
    return any(usage in STOCK_USAGES for usage, _warehouse in line.locations)


def event_id(model, record_ids, transaction):
    """A stable, unique id: the same records in the same transaction give the same id.

    `transaction` names the database transaction (its id and start time). A second call for the
    same records in that transaction finds its event already queued; any later change is another
    transaction, hence another event.
    """
    ids = sorted({int(i) for i in record_ids})
    seed = f"{model}|{','.join(str(i) for i in ids)}|{transaction}"
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
    short = _SHORT_MODELS.get(model, model.replace(".", "_"))
    return f"odoo-{short}-{ids[0] if ids else 0}-{digest}"


def build_events(model, lines, transaction, odoo_time, max_bytes=MAX_BODY_BYTES):
    """The events for one call: all its products in one event (split only past `max_bytes`).

    Lines outside internal/transit locations and without a product are left out; no event at
    all when nothing is left. `warehouse` is the one warehouse code involved, else None.
    """
    kept = [line for line in lines if line.product_id and in_stock_locations(line)]
    if not kept:
        return []
    base_id = event_id(model, [line.record_id for line in kept], transaction)
    when = odoo_time.strftime(ODOO_TIME_FORMAT) if isinstance(odoo_time, datetime) else odoo_time
    by_product = {}
    for line in kept:
        by_product.setdefault(int(line.product_id), []).append(line)
    products = sorted(by_product)
    chunks = [products]
    while True:
        events = []
        for index, chunk in enumerate(chunks):
            chunk_lines = [line for product in chunk for line in by_product[product]]
            events.append(_event(base_id if index == 0 else f"{base_id}-{index + 1}",
                                 chunk, chunk_lines, when))
        too_big = [i for i, e in enumerate(events) if len(encode(e)) > max_bytes]
        if not too_big:
            return events
        if any(len(chunks[i]) == 1 for i in too_big):
            raise ValueError(f"one product's event is larger than {max_bytes} bytes")
        chunks = [half for chunk in chunks
                  for half in (chunk[:len(chunk) // 2], chunk[len(chunk) // 2:]) if half]


def _event(event_id_, products, lines, when):
    skus = sorted({line.sku.strip() for line in lines if line.sku and line.sku.strip()})
    warehouses = {warehouse for line in lines for usage, warehouse in line.locations
                  if usage in STOCK_USAGES}
    warehouse = next(iter(warehouses)) if len(warehouses) == 1 else None
    return {"event_id": event_id_, "product_ids": list(products), "skus": skus,
            "warehouse": warehouse or None, "odoo_time": when}


def heartbeat(when, nonce):
    """The body of a heartbeat: Odoo runs (its cron had nothing to send). It names no product:
    the daemon only learns that Odoo is up, which ends a pause of its calls to Odoo at once."""
    moment = when.strftime(ODOO_TIME_FORMAT) if isinstance(when, datetime) else when
    return {"event_id": f"heartbeat-{nonce}", "heartbeat": True, "odoo_time": moment}


def encode(event):
    """The exact bytes sent (and signed): compact UTF-8 JSON, keys in a fixed order."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


MAX_TARGETS = 8  # daemons besides the default one: each costs every stock change a row
TARGET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def target_names(listed):
    """(names, words about those refused) from the woodoo_webhook.targets parameter, e.g.
    "shop-b, shop-c": each a lower-case name of up to 32 letters, digits, - and _, at most
    MAX_TARGETS, none twice, never "default" (woodoo_webhook.url's own)."""
    names, refused = [], []
    for raw in str(listed or "").split(","):
        name = raw.strip()
        if not name or name in names:
            continue
        if name == "default" or not TARGET_NAME.fullmatch(name):
            refused.append(f"{name[:40]!r} is not a target name (lower-case letters, digits, - "
                           f"and _, at most 32; not 'default')")
        elif len(names) >= MAX_TARGETS:
            refused.append(f"{name!r} left out: at most {MAX_TARGETS} targets")
        else:
            names.append(name)
    return names, "; ".join(refused)


def endpoint_url(url):
    """The POST URL from the woodoo_webhook.url parameter: a bare daemon URL gets /webhooks/odoo."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"woodoo_webhook.url must be an http(s) URL, got {url!r}")
    path = parts.path.rstrip("/")
    if not path:
        path = ENDPOINT_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def retry_delay(attempts):
    """Seconds to wait after failed attempt number `attempts`: 1 min, doubling, at most 1 h."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(int(attempts) - 1, 0), MAX_RETRY_SECONDS)


def next_attempt(now, attempts):
    """When to try again after failed attempt number `attempts`."""
    return now + timedelta(seconds=retry_delay(attempts))


def expired(created, now):
    """Whether an event queued at `created` is too old to keep trying (about 48 h)."""
    return now - created >= GIVE_UP_AFTER
