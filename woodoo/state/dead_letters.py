"""Dead letters: SKUs Woodoo could not handle, open until a push for them goes through."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from woodoo.limits import STORED_TEXT_CHARS, cut
from woodoo.state.database import Store, chunks


@dataclass(frozen=True)
class DeadLetter:
    """An item Woodoo gave up on, with the reason in words."""

    id: int
    sku: str
    odoo_id: int | None
    reason: str
    source: str
    attempts: int
    created_at: float
    last_attempt_at: float


class DeadLetterStore(Store):
    """One open letter per SKU at most, counting its attempts."""

    def add(self, sku: str, reason: str, source: str, payload: dict[str, Any] | None = None) -> None:
        """Record that `sku` could not be handled; an open letter for the same SKU is updated."""
        payload = payload or {}
        reason = cut(reason, STORED_TEXT_CHARS)  # a reason may quote a remote: a second bound
        now = self.database.clock()
        odoo_id = payload.get("odoo_id") or None
        with self.database.atomic() as db:
            existing = db.execute(
                "select id from dead_letters where sku = ? and resolved_at is null", [sku]
            ).fetchone()
            if existing:
                db.execute(
                    "update dead_letters set reason = ?, source = ?, payload = ?, "
                    "odoo_id = coalesce(?, odoo_id), attempts = attempts + 1, last_attempt_at = ? "
                    "where id = ?",
                    [reason, source, json.dumps(payload), odoo_id, now, existing[0]],
                )
            else:
                db["dead_letters"].insert(
                    {"sku": sku, "odoo_id": odoo_id, "reason": reason, "source": source,
                     "payload": json.dumps(payload), "attempts": 1, "created_at": now,
                     "last_attempt_at": now, "resolved_at": None}
                )

    def resolve(self, skus: list[str]) -> None:
        """Close the open letters of these SKUs (a push for them went through)."""
        now = self.database.clock()
        with self.database.atomic() as db:
            for chunk in chunks(skus, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(
                    f"update dead_letters set resolved_at = ? where resolved_at is null "
                    f"and sku in ({marks})",
                    [now, *chunk],
                )

    def open(self) -> list[DeadLetter]:
        """Dead letters not yet resolved, oldest first."""
        with self.database.read() as db:
            return [
                DeadLetter(r["id"], r["sku"], r["odoo_id"], r["reason"], r["source"], r["attempts"],
                           r["created_at"], r["last_attempt_at"])
                for r in db["dead_letters"].rows_where("resolved_at is null", order_by="created_at")
            ]
