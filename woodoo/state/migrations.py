"""The schema's history: migrations in order, the database's `user_version` counting those applied.

Databases in the field are at every version: a migration is never changed once released, only
a new one appended.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _migration_1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["sku_map"].create(
        {
            "sku": str, "woo_id": int, "parent_id": int, "manage_stock": int, "backorders": str,
            "quantity": int, "status": str, "odoo_id": int, "seen_at": float,
        },
        pk="sku",
    )
    db["sku_map"].create_index(["woo_id"])
    # An SKU looked up in the shop and not found, so polls don't look it up again every time.
    db["shop_absent"].create({"sku": str, "checked_at": float}, pk="sku")
    db["pushed"].create(
        {"sku": str, "quantity": int, "status": str, "pushed_at": float, "correlation_id": str},
        pk="sku",
    )
    # The push journal: written before a batch is sent, cleared in the same transaction that
    # records its outcome. Rows left here after a crash are pushes whose fate is unknown.
    db["push_journal"].create(
        {
            "batch_id": str, "sku": str, "woo_id": int, "parent_id": int, "quantity": int,
            "status": str, "odoo_id": int, "source": str, "correlation_id": str, "created_at": float,
        },
        pk=("batch_id", "sku"),
    )
    db["audit"].create(
        {
            "id": int, "sku": str, "old_quantity": int, "new_quantity": int, "old_status": str,
            "new_status": str, "source": str, "correlation_id": str, "at": float,
        },
        pk="id",
    )
    db["audit"].create_index(["sku"])
    db["audit"].create_index(["at"])
    db["dead_letters"].create(
        {
            "id": int, "sku": str, "odoo_id": int, "reason": str, "source": str, "payload": str,
            "attempts": int,
            "created_at": float, "last_attempt_at": float, "resolved_at": float,
        },
        pk="id",
    )
    db["dead_letters"].create_index(["sku", "resolved_at"])
    db["runs"].create(
        {
            "id": int, "kind": str, "run_id": str, "started_at": float, "duration": float,
            "checked": int, "changed": int, "pushed": int, "failed": int, "error": str,
        },
        pk="id",
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    # The durable event queue: a webhook is acknowledged only once its row is committed here.
    db["events"].create(
        {
            "id": int, "source": str, "event_id": str, "payload": str, "received_at": float,
            "event_time": float, "due_at": float, "reads": int, "lease_until": float,
            "first_read_at": float, "done_at": float,
        },
        pk="id",
    )
    # The constraint, not a check-then-insert, makes a duplicate delivery a no-op.
    db["events"].create_index(["source", "event_id"], unique=True)
    db["events"].create_index(["done_at", "due_at"])


def _migration_3(db: sqlite_utils.Database) -> None:
    # The latest snapshot of each shop order and where it stands in Odoo.
    db["orders"].create(
        {
            "order_id": int, "number": str, "status": str, "date_modified": str, "payload": str,
            "sale_order_id": int, "sale_order_name": str, "odoo_state": str, "sync_needed": int,
            "next_sync_at": float, "sync_attempts": int, "last_error": str, "attention": str,
            "received_at": float, "updated_at": float,
        },
        pk="order_id",
    )
    db["orders"].create_index(["sync_needed", "next_sync_at"])
    # Quantities the shop has taken (its own stock is already lower) that Odoo does not have yet.
    db["pending"].create({"order_id": int, "sku": str, "quantity": int}, pk=("order_id", "sku"))
    db["pending"].create_index(["sku"])
    # Stock drops seen in the shop (a conditional write's conflict) that no order event has
    # explained yet: held back like pending until an order explains them or they expire.
    db["unexplained"].create({"sku": str, "quantity": int, "expires_at": float}, pk="sku")
    # Which SKUs each reconciliation found drifted, to spot SKUs that drift night after night.
    db["drift_history"].create({"run_id": str, "sku": str, "day": str}, pk=("run_id", "sku"))
    db["drift_history"].create_index(["sku", "day"])


def _migration_4(db: sqlite_utils.Database) -> None:
    # Each event is processed on its own: a failing one counts its tries and is set aside as
    # failed (a dead letter of the queue) with its reason, instead of blocking the rest.
    db["events"].add_column("attempts", int, not_null_default=0)
    db["events"].add_column("last_error", str)
    db["events"].add_column("failed_at", float)
    # Which process wrote a journal row: only a process holding the state lock settles rows that
    # another (dead) process left.
    db["push_journal"].add_column("owner", str)
    # Work that a command line hands to the running daemon (the one writer of this file).
    db["commands"].create(
        {
            "id": int, "command": str, "args": str, "requested_at": float, "requested_by": int,
            "started_at": float, "finished_at": float, "result": str, "error": str,
        },
        pk="id",
    )
    db["commands"].create_index(["finished_at", "id"])


def _migration_5(db: sqlite_utils.Database) -> None:
    # How the daemon first learnt of an order: its event ('event') or the backfill that reads
    # the shop's orders ('backfill': a delivery the event path missed, worth knowing about).
    db["orders"].add_column("found_by", str)


def _migration_6(db: sqlite_utils.Database) -> None:
    # Which claim holds an event's lease: a worker whose lease ran out while it worked, and
    # whose events another claim has taken since, settles nothing it no longer holds.
    db["events"].add_column("claim_id", str)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6,
]
