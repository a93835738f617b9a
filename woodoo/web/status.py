"""What `POST /webhooks/status` answers: the daemon's state in figures, for the plugin's settings tab.

Read-only and bounded: a handful of counts and meta values from the state, never a customer's
data, a secret, an error text from a remote, or anything a sender sent. Meta values are the
daemon's own, but are read defensively: one that does not parse is shown as unknown, not a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

from woodoo import __version__
from woodoo.config import Config
from woodoo.reporting import alerts, reconcile
from woodoo.state import State
from woodoo.web import peers

SIDES = ("odoo", "woocommerce")
BREAKER_STATES = frozenset({"closed", "open", "half-open"})
MAX_ALERTS = 20
MAX_TITLE = 200
MAX_WORDS = 500  # a pairing's sentence (our own words)


def daemon_status(config: Config, state: State, now: float) -> dict[str, Any]:
    """The status answer (see docs/order-events.md, section 4)."""
    counts = state.runs.counts()
    good_poll = state.runs.activity(now)["last_good_poll"].get("at")
    return {
        "status": "ok",
        "version": __version__,
        "shop": config.shop_name,
        "now": int(now),
        "orders_enabled": config.orders.enabled,
        "last_successful_poll": _time(good_poll),
        "queue_depth": counts["events_waiting"],
        "dead_letters_open": counts["dead_letters_open"],
        "events_set_aside": counts["events_failed"],
        "orders_needing_attention": counts["orders_needing_attention"],
        "last_reconciliation": _reconciliation(state),
        "breakers": {side: _breaker(_meta(state, f"breaker_{side}")) for side in SIDES},
        "alerts": _alerts(_meta(state, alerts.ACTIVE)),
        "parts": _parts(state),
    }


def _parts(state: State) -> dict[str, dict[str, Any] | None]:
    """The version each calling part said in its last signed call, and how it works with this
    daemon (woodoo/compat.py): null when not heard from yet. Never the user agent itself."""
    found: dict[str, dict[str, Any] | None] = {}
    for part, record in peers.heard(state).items():
        if record is None:
            found[part] = None
            continue
        pairing = record.pairing
        found[part] = {"version": pairing.version, "level": pairing.level,
                       "words": pairing.words[:MAX_WORDS], "heard_at": record.at}
    return found


def _meta(state: State, key: str) -> Any:
    raw = state.runs.get_meta(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _time(value: object) -> int | None:
    """Unix seconds as an integer, or None when absent or not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if value >= 0 else None


def _reconciliation(state: State) -> dict[str, Any] | None:
    """When the last reconciliation ran, and the drift the last one that compared found."""
    raw = state.runs.get_meta(reconcile.LAST_RUN)
    try:
        at = _time(float(raw)) if raw is not None else None
    except ValueError:
        at = None
    drift = _meta(state, reconcile.LAST_DRIFT)
    drift = drift if isinstance(drift, dict) else {}
    at = at if at is not None else _time(drift.get("at"))
    if at is None:
        return None
    return {"at": at, "drift_items": _count(drift.get("items")),
            "drift_units": _count(drift.get("units"))}


def _breaker(snapshot: object) -> dict[str, Any]:
    """A side's breaker as the daemon last recorded it: closed when never recorded. Its
    last_error is left out: it is a remote's words."""
    if snapshot is None:
        return {"state": "closed", "since": None, "failures": 0}
    if not isinstance(snapshot, dict) or snapshot.get("state") not in BREAKER_STATES:
        return {"state": "unknown", "since": None, "failures": None}
    closed = snapshot["state"] == "closed"
    return {"state": snapshot["state"], "since": None if closed else _time(snapshot.get("since")),
            "failures": _count(snapshot.get("failures"))}


def _alerts(active: object) -> list[dict[str, Any]]:
    """The alerts that hold: our own titles (never a customer or a SKU), oldest first, bounded."""
    if not isinstance(active, dict):
        return []
    found = []
    for key, alert in active.items():
        if not isinstance(alert, dict) or not isinstance(alert.get("title"), str):
            continue
        found.append({"key": str(key)[:40], "title": alert["title"][:MAX_TITLE],
                      "since": _time(alert.get("since"))})
    found.sort(key=lambda a: (a["since"] is None, a["since"] or 0, a["key"]))
    return found[:MAX_ALERTS]
