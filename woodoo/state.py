"""Woodoo's state in SQLite: SKU map, last pushed values, push journal, watermark, audit, dead letters."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from woodoo.rules import ShownStock


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


@dataclass(frozen=True)
class PushItem:
    """One stock write to send: which shop item, and the quantity and status to set."""

    sku: str
    woo_id: int
    parent_id: int
    quantity: int
    status: str
    odoo_id: int = 0

    @property
    def shown(self) -> ShownStock:
        """The quantity and status as a ShownStock."""
        return ShownStock(self.quantity, self.status)  # type: ignore[arg-type]


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


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5,
]


@dataclass(frozen=True)
class QueuedEvent:
    """A received event waiting to be (re)processed."""

    id: int
    source: str
    event_id: str
    payload: dict[str, Any]
    received_at: float
    event_time: float
    reads: int
    attempts: int = 0


def private_file(path: Path) -> None:
    """Create `path` (and a missing parent, 0700) readable by its owner only, or narrow it to 0600.

    The state holds customer emails and the shop's figures. SQLite creates the -wal and -shm
    files with the database file's permissions, so they follow.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    elif path.stat().st_mode & 0o077:
        # chmod, never open(): closing any descriptor of the file would drop the POSIX locks
        # that this process's SQLite connections hold on it (and lose their writes).
        path.chmod(0o600)


class State:
    """The SQLite state; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time,
                 synchronous: Literal["FULL", "NORMAL"] = "FULL") -> None:
        """Open (creating and migrating) the database; `synchronous` NORMAL only for benchmarks."""
        if str(path) != ":memory:":
            private_file(Path(path))
        connection = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(connection)
        self.clock = clock
        self._lock = threading.RLock()
        self.db.execute("PRAGMA busy_timeout = 30000")
        if str(path) != ":memory:":
            self.db.enable_wal()
        # FULL: a commit is on disk before it returns, so a 202 (an acknowledged event the
        # sender will never resend) survives a power loss; NORMAL under WAL may lose it.
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self._migrate()

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        """One transaction: everything inside commits together or not at all.

        It starts with BEGIN IMMEDIATE (sqlite-utils' atomic() says BEGIN): the daemon writes
        from several connections (web acks, engine), and a deferred transaction that reads and
        then writes fails at once with "database is locked" when another connection committed
        in between, instead of waiting its turn.
        """
        with self._lock:
            if self.db.conn.in_transaction:
                with self.db.atomic() as db:  # nested: a savepoint
                    yield db
                return
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.conn.execute("COMMIT")  # inside: a failed COMMIT (disk full) rolls back
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.conn.rollback()
                raise

    def _migrate(self) -> None:
        with self._lock:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                with self.db.atomic():
                    migration(self.db)
                    self.db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        """The migration the database is at."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A stored setting such as the poll watermark, or None."""
        with self._lock:
            row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.atomic() as db:
            db["meta"].upsert({"key": key, "value": value}, pk="key")

    # -- SKU map ---------------------------------------------------------------------------------

    def replace_sku_map(self, products: Iterable[ShopProduct]) -> None:
        """Replace the whole SKU map with a fresh index of the shop."""
        now = self.clock()
        with self.atomic() as db:
            db.execute("delete from sku_map")
            db["sku_map"].insert_all((self._map_row(p, now) for p in products), pk="sku")
            db.execute("delete from shop_absent")

    def remember_products(self, products: Iterable[ShopProduct]) -> None:
        """Add or refresh some SKU map entries (from an on-demand lookup)."""
        now = self.clock()
        rows = [self._map_row(p, now) for p in products]
        with self.atomic() as db:
            db["sku_map"].upsert_all(rows, pk="sku", alter=False)
            for row in rows:
                db.execute("delete from shop_absent where sku = ?", [row["sku"]])

    def forget_product(self, sku: str) -> None:
        """Drop an SKU map entry that the shop no longer knows (e.g. the product was deleted)."""
        with self.atomic() as db:
            db.execute("delete from sku_map where sku = ?", [sku])

    def link_odoo_ids(self, odoo_ids: dict[str, int]) -> None:
        """Record which Odoo product each mapped SKU belongs to (where it is new or changed)."""
        with self.atomic() as db:
            db.conn.executemany(
                "update sku_map set odoo_id = ? where sku = ? and odoo_id is not ?",
                [(odoo_id, sku, odoo_id) for sku, odoo_id in odoo_ids.items()],
            )

    def odoo_ids(self) -> dict[str, int]:
        """Odoo product id by SKU, for mapped SKUs seen in Odoo."""
        with self._lock:
            rows = self.db.execute("select sku, odoo_id from sku_map where odoo_id is not null")
            return dict(rows.fetchall())

    def mark_absent(self, skus: Iterable[str]) -> None:
        """Remember that these SKUs were looked up in the shop and not found."""
        now = self.clock()
        with self.atomic() as db:
            db["shop_absent"].upsert_all(
                ({"sku": s, "checked_at": now} for s in skus), pk="sku"
            )

    def absent_since(self, skus: Iterable[str]) -> dict[str, float]:
        """When each of these SKUs was last found missing from the shop."""
        return {
            row["sku"]: row["checked_at"]
            for row in self._select_in("shop_absent", "sku", list(skus))
        }

    def products(self, skus: Iterable[str] | None = None) -> dict[str, ShopProduct]:
        """SKU map entries for `skus` (all when None)."""
        if skus is None:
            with self._lock:
                rows = list(self.db["sku_map"].rows)
        else:
            rows = self._select_in("sku_map", "sku", list(skus))
        return {row["sku"]: self._product(row) for row in rows}

    def sku_map_size(self) -> int:
        """How many SKUs the map holds."""
        with self._lock:
            return self.db["sku_map"].count

    @staticmethod
    def _map_row(product: ShopProduct, now: float) -> dict[str, Any]:
        row = asdict(product)
        row["manage_stock"] = int(product.manage_stock)
        row["seen_at"] = now
        return row

    @staticmethod
    def _product(row: dict[str, Any]) -> ShopProduct:
        return ShopProduct(
            sku=row["sku"], woo_id=row["woo_id"], parent_id=row["parent_id"],
            manage_stock=bool(row["manage_stock"]), backorders=row["backorders"],
            quantity=row["quantity"], status=row["status"],
        )

    # -- pushes ----------------------------------------------------------------------------------

    def last_pushed(self, skus: Iterable[str]) -> dict[str, ShownStock]:
        """The quantity and status last written to the shop for each SKU that has one."""
        return {
            row["sku"]: ShownStock(row["quantity"], row["status"])
            for row in self._select_in("pushed", "sku", list(skus))
        }

    def journal(self, batch_id: str, items: list[PushItem], source: str, correlation_id: str,
                *, owner: str | None = None) -> None:
        """Write down a batch about to be sent, before sending it, as `owner`'s (a process token)."""
        now = self.clock()
        with self.atomic() as db:
            db["push_journal"].insert_all(
                (
                    {**asdict(i), "batch_id": batch_id, "source": source,
                     "correlation_id": correlation_id, "created_at": now, "owner": owner}
                    for i in items
                ),
                pk=("batch_id", "sku"),
            )

    def record_outcome(
        self,
        batch_id: str,
        applied: list[PushItem],
        failed: list[tuple[PushItem, str]],
        source: str,
        correlation_id: str,
        *,
        retryable: bool = False,
    ) -> None:
        """In one transaction: record what the shop applied (pushed + audit) and what failed.

        Clears the batch's journal rows, so the state never claims a push that did not happen.
        """
        now = self.clock()
        with self.atomic() as db:
            previous = self.last_pushed(i.sku for i in applied)
            shop = self.products(i.sku for i in applied)
            for item in applied:
                old = previous.get(item.sku)
                if old is None and item.sku in shop:
                    old = ShownStock(shop[item.sku].quantity or 0, shop[item.sku].status)  # type: ignore[arg-type]
                db["pushed"].upsert(
                    {"sku": item.sku, "quantity": item.quantity, "status": item.status,
                     "pushed_at": now, "correlation_id": correlation_id},
                    pk="sku",
                )
                db.execute(
                    "update sku_map set quantity = ?, status = ? where sku = ?",
                    [item.quantity, item.status, item.sku],
                )
                db["audit"].insert(
                    {"sku": item.sku, "old_quantity": old.quantity if old else None,
                     "new_quantity": item.quantity, "old_status": old.status if old else None,
                     "new_status": item.status, "source": source,
                     "correlation_id": correlation_id, "at": now},
                )
            self._resolve_dead_letters(db, [i.sku for i in applied], now)
            for item, reason in failed:
                self._add_dead_letter(db, item.sku, reason, source, asdict(item), now)
            db.execute("delete from push_journal where batch_id = ?", [batch_id])

    def unfinished_pushes(self, *, not_owned_by: str | None = None
                          ) -> list[tuple[str, PushItem, str, str]]:
        """Journal rows whose outcome is not recorded: (batch id, item, source, correlation id).

        With `not_owned_by`, that owner's rows are left out: they are its pushes in flight.
        Rows from before owners were recorded (owner NULL) always count.
        """
        where, args = ("owner is not ?", [not_owned_by]) if not_owned_by else (None, [])
        with self._lock:
            rows = list(self.db["push_journal"].rows_where(where, args,
                                                           order_by="created_at, batch_id"))
        return [
            (r["batch_id"],
             PushItem(r["sku"], r["woo_id"], r["parent_id"], r["quantity"], r["status"],
                      r["odoo_id"] or 0),
             r["source"], r["correlation_id"])
            for r in rows
        ]

    # -- dead letters ----------------------------------------------------------------------------

    def add_dead_letter(
        self, sku: str, reason: str, source: str, payload: dict[str, Any] | None = None
    ) -> None:
        """Record that `sku` could not be handled; an open letter for the same SKU is updated."""
        with self.atomic() as db:
            self._add_dead_letter(db, sku, reason, source, payload or {}, self.clock())

    def open_dead_letters(self) -> list[DeadLetter]:
        """Dead letters not yet resolved, oldest first."""
        with self._lock:
            rows = self.db["dead_letters"].rows_where(
                "resolved_at is null", order_by="created_at"
            )
            return [
                DeadLetter(r["id"], r["sku"], r["odoo_id"], r["reason"], r["source"], r["attempts"],
                           r["created_at"], r["last_attempt_at"])
                for r in rows
            ]

    @staticmethod
    def _add_dead_letter(
        db: sqlite_utils.Database, sku: str, reason: str, source: str,
        payload: dict[str, Any], now: float,
    ) -> None:
        existing = db.execute(
            "select id from dead_letters where sku = ? and resolved_at is null", [sku]
        ).fetchone()
        odoo_id = payload.get("odoo_id") or None
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

    @staticmethod
    def _resolve_dead_letters(db: sqlite_utils.Database, skus: list[str], now: float) -> None:
        for chunk in _chunks(skus, 500):
            marks = ",".join("?" * len(chunk))
            db.execute(
                f"update dead_letters set resolved_at = ? where resolved_at is null "
                f"and sku in ({marks})",
                [now, *chunk],
            )

    # -- event queue -----------------------------------------------------------------------------

    def enqueue(self, source: str, event_id: str, payload: dict[str, Any], *,
                event_time: float, due_at: float) -> bool:
        """Store a received event durably; False when this (source, event id) was already stored."""
        with self.atomic() as db:
            cursor = db.execute(
                "insert into events (source, event_id, payload, received_at, event_time, due_at, "
                "reads) values (?, ?, ?, ?, ?, ?, 0) on conflict (source, event_id) do nothing",
                [source, event_id, json.dumps(payload), self.clock(), event_time, due_at],
            )
            return cursor.rowcount == 1

    def claim_events(self, *, lease_seconds: float, limit: int = 500, early: float = 0.0,
                     source: str | None = None) -> list[QueuedEvent]:
        """Lease the events due now (or within `early` seconds, of `source` only when given)
        and not leased by a live worker."""
        now = self.clock()
        with self.atomic() as db:
            rows = db.execute(
                "update events set lease_until = ? where id in (select id from events "
                "where done_at is null and failed_at is null and due_at <= ? "
                "and (lease_until is null or lease_until < ?) and source = coalesce(?, source) "
                "order by due_at limit ?) returning id, source, event_id, payload, received_at, "
                "event_time, reads, attempts",
                [now + lease_seconds, now + early, now, source, limit],
            ).fetchall()
        return [QueuedEvent(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7])
                for r in rows]

    def event_read(self, event: QueuedEvent, next_due: float | None) -> None:
        """Count one Odoo read for the event: due again at `next_due`, or done when None."""
        now = self.clock()
        with self.atomic() as db:
            db.execute(
                "update events set reads = reads + 1, lease_until = null, due_at = coalesce(?, due_at), "
                "first_read_at = coalesce(first_read_at, ?), "
                "done_at = case when ? is null then ? end where id = ?",
                [next_due, now, next_due, now, event.id],
            )

    def event_failed(self, event: QueuedEvent, error: str, *, retry_at: float | None,
                     counted: bool = True) -> None:
        """Record a failed try: due again at `retry_at`, or set aside as failed when None.

        `counted` is False when the failure was the remote side's (down, timing out): such tries
        wait with backoff but never use up the event's attempts, so an outage loses nothing.
        """
        now = self.clock()
        with self.atomic() as db:
            db.execute(
                "update events set attempts = attempts + ?, last_error = ?, lease_until = null, "
                "due_at = coalesce(?, due_at), failed_at = case when ? is null then ? end "
                "where id = ? and done_at is null",
                [int(counted), error[:1000], retry_at, retry_at, now, event.id],
            )

    def failed_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events set aside after their last try, newest first, with the reason."""
        with self._lock:
            return list(self.db["events"].rows_where(
                "failed_at is not null", order_by="failed_at desc", limit=limit,
                select="id, source, event_id, attempts, last_error, received_at, failed_at"))

    def retry_failed_events(self, ids: list[int] | None = None) -> int:
        """Put failed events (all, or these ids) back in the queue with fresh attempts."""
        where, params = ("failed_at is not null", []) if not ids else (
            f"failed_at is not null and id in ({','.join('?' * len(ids))})", ids)
        with self.atomic() as db:
            return db.execute(
                f"update events set failed_at = null, attempts = 0, due_at = ? where {where}",
                [self.clock(), *params]).rowcount

    def release_leases(self) -> int:
        """Free every lease (at start-up: the previous process is gone); returns how many."""
        with self.atomic() as db:
            return db.execute(
                "update events set lease_until = null where done_at is null and lease_until is not null"
            ).rowcount

    def queue_stats(self) -> dict[str, float | int | None]:
        """Queue depth, the oldest due time, and when the next event can be claimed."""
        with self._lock:
            depth, oldest, claimable = self.db.execute(
                "select count(*), min(due_at), min(max(due_at, coalesce(lease_until, 0))) "
                "from events where done_at is null and failed_at is null"
            ).fetchone()
        return {"depth": depth, "oldest_due_at": oldest, "next_claimable_at": claimable}

    def prune_events(self, older_than: float) -> int:
        """Delete processed events older than `older_than` (unix time); returns how many."""
        with self.atomic() as db:
            return db.execute(
                "delete from events where done_at is not null and done_at < ?", [older_than]
            ).rowcount

    # -- shop orders -------------------------------------------------------------------------------

    def order(self, order_id: int) -> dict[str, Any] | None:
        """The stored snapshot of a shop order, or None."""
        with self._lock:
            rows = list(self.db["orders"].rows_where("order_id = ?", [order_id]))
        if not rows:
            return None
        return {**rows[0], "payload": json.loads(rows[0]["payload"])}

    def save_order(self, row: dict[str, Any], pending: dict[str, int]) -> None:
        """Store an order's snapshot and its pending quantities together."""
        now = self.clock()
        with self.atomic() as db:
            existing = db.execute("select received_at, found_by from orders where order_id = ?",
                                  [row["order_id"]]).fetchone()
            kept = {} if not existing else {"found_by": existing[1]}  # the first finder stays
            db["orders"].upsert(
                {**row, "payload": json.dumps(row["payload"]),
                 "received_at": existing[0] if existing else now, "updated_at": now, **kept},
                pk="order_id", alter=False,
            )
            self._replace_pending(db, row["order_id"], pending)

    def order_synced(self, order_id: int, *, sale_order_id: int | None, sale_order_name: str | None,
                     odoo_state: str | None, pending: dict[str, int],
                     attention: str | None = None) -> None:
        """Record what Odoo now has for an order, and what of it is still pending."""
        with self.atomic() as db:
            db.execute(
                "update orders set sale_order_id = ?, sale_order_name = ?, odoo_state = ?, "
                "sync_needed = 0, sync_attempts = 0, last_error = null, attention = ?, "
                "updated_at = ? where order_id = ?",
                [sale_order_id, sale_order_name, odoo_state, attention, self.clock(), order_id],
            )
            self._replace_pending(db, order_id, pending)

    def order_sync_failed(self, order_id: int, error: str, retry_at: float) -> None:
        """Keep the order for another try at `retry_at`."""
        with self.atomic() as db:
            db.execute(
                "update orders set sync_needed = 1, sync_attempts = sync_attempts + 1, "
                "last_error = ?, next_sync_at = ? where order_id = ?",
                [error, retry_at, order_id],
            )

    def orders_to_sync(self, limit: int = 50) -> list[dict[str, Any]]:
        """Orders whose Odoo side needs work now, oldest first."""
        with self._lock:
            rows = list(self.db["orders"].rows_where(
                "sync_needed = 1 and coalesce(next_sync_at, 0) <= ?", [self.clock()],
                order_by="updated_at", limit=limit))
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    def retry_orders(self, order_ids: list[int] | None = None) -> int:
        """Bring orders needing attention (or the given ones) back to the Odoo sync; how many."""
        where, args = ("attention is not null", []) if not order_ids else (
            f"order_id in ({','.join('?' * len(order_ids))})", order_ids)
        with self.atomic() as db:
            return db.execute(
                f"update orders set sync_needed = 1, next_sync_at = 0, attention = null "
                f"where {where}", args).rowcount

    def newest_order_change(self) -> str | None:
        """The newest `date_modified` of any stored order (UTC, as order events carry it)."""
        with self._lock:
            return self.db.execute("select max(date_modified) from orders").fetchone()[0]

    def orders_found_by_backfill(self, since: float) -> list[dict[str, Any]]:
        """Orders received since `since` that only the backfill found, newest first."""
        with self._lock:
            return list(self.db["orders"].rows_where(
                "found_by = 'backfill' and received_at >= ?", [since], order_by="received_at desc",
                select="order_id, number, status, received_at"))

    def orders_needing_attention(self) -> list[dict[str, Any]]:
        """Orders Woodoo could not bring to Odoo by itself, with the reason."""
        with self._lock:
            return list(self.db["orders"].rows_where(
                "attention is not null", order_by="updated_at",
                select="order_id, number, status, attention, updated_at"))

    def pending_by_sku(self, skus: Iterable[str], *, orders_only: bool = False) -> dict[str, int]:
        """Quantity per SKU the shop has taken that Odoo does not have yet: pending order lines
        plus unexpired unexplained drops (SKUs with nothing pending are left out)."""
        wanted = list(skus)
        totals: dict[str, int] = {}
        query = "select sku, sum(quantity) from pending where sku in ({}) group by sku"
        if not orders_only:
            query = (
                "select sku, sum(quantity) from (select sku, quantity from pending union all "
                "select sku, quantity from unexplained where expires_at > ?) "
                "where sku in ({}) group by sku"
            )
        with self._lock:
            for chunk in _chunks(wanted, 500):
                marks = ",".join("?" * len(chunk))
                arguments = chunk if orders_only else [self.clock(), *chunk]
                for sku, total in self.db.execute(query.format(marks), arguments):
                    totals[sku] = int(total)
        return totals

    def hold_unexplained(self, sku: str, quantity: int, expires_at: float) -> None:
        """Hold back a stock drop seen in the shop that no order event has explained yet."""
        with self.atomic() as db:
            db.execute(
                "insert into unexplained (sku, quantity, expires_at) values (?, ?, ?) "
                "on conflict (sku) do update set quantity = case when unexplained.expires_at > ? "
                "then unexplained.quantity + excluded.quantity else excluded.quantity end, "
                "expires_at = excluded.expires_at",
                [sku, quantity, expires_at, self.clock()],
            )

    def note_shop_quantity(self, sku: str, quantity: int | None) -> None:
        """Remember what the shop was found to show for an SKU."""
        with self.atomic() as db:
            db.execute("update sku_map set quantity = ? where sku = ?", [quantity, sku])

    @staticmethod
    def _replace_pending(db: sqlite_utils.Database, order_id: int, pending: dict[str, int]) -> None:
        before = dict(db.execute("select sku, quantity from pending where order_id = ?",
                                 [order_id]).fetchall())
        for sku, quantity in pending.items():
            # An order's new pending quantity explains that much of an unexplained drop.
            explained = quantity - before.get(sku, 0)
            if explained > 0:
                db.execute("update unexplained set quantity = max(0, quantity - ?) where sku = ?",
                           [explained, sku])
        db.execute("delete from pending where order_id = ?", [order_id])
        db["pending"].insert_all(
            ({"order_id": order_id, "sku": sku, "quantity": quantity}
             for sku, quantity in pending.items() if quantity > 0),
            pk=("order_id", "sku"),
        )

    # -- commands --------------------------------------------------------------------------------

    def request_command(self, command: str, args: dict[str, Any], requested_by: int) -> int:
        """Queue a command for the daemon that holds the state lock; returns its id."""
        with self.atomic() as db:
            return db.execute(
                "insert into commands (command, args, requested_at, requested_by) "
                "values (?, ?, ?, ?)",
                [command, json.dumps(args), self.clock(), requested_by],
            ).lastrowid or 0

    def claim_command(self) -> dict[str, Any] | None:
        """The oldest command not started yet, now marked started; None when there is none."""
        with self._lock:
            # Asked twice a second: a read when there is nothing, not a write transaction.
            if self.db.execute("select 1 from commands where started_at is null limit 1"
                               ).fetchone() is None:
                return None
        with self.atomic() as db:
            row = db.execute(
                "update commands set started_at = ? where id = (select id from commands "
                "where started_at is null order by id limit 1) "
                "returning id, command, args, requested_by",
                [self.clock()],
            ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "command": row[1], "args": json.loads(row[2]),
                "requested_by": row[3]}

    def finish_command(self, command_id: int, *, result: dict[str, Any] | None = None,
                       error: str | None = None) -> None:
        """Store a command's result (or its error in words) for whoever waits for it."""
        with self.atomic() as db:
            db.execute(
                "update commands set finished_at = ?, result = ?, error = ? where id = ?",
                [self.clock(), None if result is None else json.dumps(result), error, command_id],
            )

    def command(self, command_id: int) -> dict[str, Any] | None:
        """A command's row, its args and result decoded; None once it is gone."""
        with self._lock:
            rows = list(self.db["commands"].rows_where("id = ?", [command_id]))
        if not rows:
            return None
        row = rows[0]
        return {**row, "args": json.loads(row["args"]),
                "result": json.loads(row["result"]) if row["result"] is not None else None}

    def cancel_command(self, command_id: int) -> bool:
        """Withdraw a command the daemon has not started; False when it has (or it is gone)."""
        with self.atomic() as db:
            return db.execute("delete from commands where id = ? and started_at is null",
                              [command_id]).rowcount == 1

    def abandon_commands(self, reason: str) -> int:
        """Close commands started by a process that is gone (at start-up, under the state lock):
        they are not run again, a half-done sync or reconciliation is not resumed blindly."""
        with self.atomic() as db:
            return db.execute(
                "update commands set finished_at = ?, error = ? "
                "where started_at is not null and finished_at is null",
                [self.clock(), reason],
            ).rowcount

    def prune_commands(self, older_than: float) -> int:
        """Forget commands finished, or requested and never started, before `older_than`."""
        with self.atomic() as db:
            return db.execute(
                "delete from commands where (finished_at is not null and finished_at < ?) "
                "or (started_at is null and requested_at < ?)",
                [older_than, older_than],
            ).rowcount

    # -- runs and audit --------------------------------------------------------------------------

    def record_run(self, kind: str, run_id: str, started_at: float, **counts: Any) -> None:
        """Store one poll/sync run's summary."""
        with self.atomic() as db:
            db["runs"].insert(
                {"kind": kind, "run_id": run_id, "started_at": started_at,
                 "duration": self.clock() - started_at, **counts}
            )

    def last_run(self, kind: str | None = None) -> dict[str, Any] | None:
        """The most recent run (of `kind`, if given)."""
        where, args = ("kind = ?", [kind]) if kind else (None, [])
        with self._lock:
            rows = list(
                self.db["runs"].rows_where(where, args, order_by="id desc", limit=1)
            )
        return rows[0] if rows else None

    def audit(self, sku: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows (for one SKU, if given)."""
        where, args = ("sku = ?", [sku]) if sku else (None, [])
        with self._lock:
            return list(self.db["audit"].rows_where(where, args, order_by="id desc", limit=limit))

    def activity(self, since: float) -> dict[str, dict[str, int]]:
        """Events received and stock values pushed since `since`, by source."""
        with self._lock:
            events = self.db.execute(
                "select source, count(*) from events where received_at >= ? group by source",
                [since]).fetchall()
            pushes = self.db.execute(
                "select source, count(*) from audit where at >= ? group by source",
                [since]).fetchall()
            polls = self.db.execute(
                "select max(started_at) from runs where kind = 'poll' and error is null"
            ).fetchone()[0]
        return {"events": dict(events), "pushes": dict(pushes),
                "last_good_poll": {"at": polls} if polls else {}}

    def record_drift(self, run_id: str, skus: Iterable[str], day: str) -> None:
        """Remember which SKUs a reconciliation found drifted on `day` (YYYY-MM-DD, store time)."""
        with self.atomic() as db:
            db["drift_history"].upsert_all(
                ({"run_id": run_id, "sku": sku, "day": day} for sku in skus),
                pk=("run_id", "sku"))

    def repeat_drifters(self, since_day: str, nights: int = 2) -> list[tuple[str, int]]:
        """SKUs found drifted on at least `nights` different days since `since_day`."""
        with self._lock:
            return [(sku, count) for sku, count in self.db.execute(
                "select sku, count(distinct day) as n from drift_history where day >= ? "
                "group by sku having n >= ? order by n desc, sku", [since_day, nights])]

    def stuck_orders(self, older_than: float) -> list[dict[str, Any]]:
        """Orders still holding pending stock, received before `older_than` (unix time)."""
        with self._lock:
            rows = self.db.execute(
                "select o.order_id, o.number, o.status, o.received_at, o.last_error, "
                "group_concat(p.sku || ' x' || p.quantity, ', ') from orders o "
                "join pending p on p.order_id = o.order_id where o.received_at < ? "
                "group by o.order_id order by o.received_at", [older_than]).fetchall()
        return [{"order_id": r[0], "number": r[1], "status": r[2], "received_at": r[3],
                 "last_error": r[4], "skus": r[5]} for r in rows]

    def health(self, since: float) -> dict[str, Any]:
        """The sync's figures since `since`: polls, events, pushes, failures, latencies, queue."""
        with self._lock:
            one = self.db.execute
            polls, failed = one(
                "select count(*), count(error) from runs where kind = 'poll' and started_at >= ?",
                [since]).fetchone()
            latencies = [row[0] for row in one(
                "select first_read_at - event_time from events where first_read_at is not null "
                "and received_at >= ? order by 1", [since])]
            push_failures = one(
                "select count(*) from dead_letters where last_attempt_at >= ?", [since]
            ).fetchone()[0]
            last_backfill, backfill_failures = one(
                "select max(case when error is null then started_at end), count(error) "
                "from runs where kind = 'backfill' and started_at >= ?", [since]).fetchone()
        activity = self.activity(since)
        return {
            "polls": polls, "polls_failed": failed, "webhook_events": activity["events"],
            "pushes": activity["pushes"], "push_failures": push_failures,
            "latencies": [max(0.0, value) for value in latencies],
            "queue_depth": self.queue_stats()["depth"] or 0,
            "last_backfill": last_backfill, "backfill_failures": backfill_failures,
        }

    def counts(self) -> dict[str, int]:
        """Sizes that `woodoo status` shows."""
        with self._lock:
            one = self.db.execute
            return {
                "skus_mapped": one("select count(*) from sku_map").fetchone()[0],
                "skus_pushed": one("select count(*) from pushed").fetchone()[0],
                "audit_rows": one("select count(*) from audit").fetchone()[0],
                "dead_letters_open": one(
                    "select count(*) from dead_letters where resolved_at is null"
                ).fetchone()[0],
                "unfinished_pushes": one("select count(*) from push_journal").fetchone()[0],
                "events_waiting": one(
                    "select count(*) from events where done_at is null and failed_at is null"
                ).fetchone()[0],
                "events_failed": one(
                    "select count(*) from events where failed_at is not null").fetchone()[0],
                "orders_pending_odoo": one(
                    "select count(*) from orders where sync_needed = 1").fetchone()[0],
                "orders_needing_attention": one(
                    "select count(*) from orders where attention is not null").fetchone()[0],
            }

    def _select_in(self, table: str, column: str, values: list[Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with self._lock:
            for chunk in _chunks(values, 500):
                marks = ",".join("?" * len(chunk))
                rows.extend(self.db[table].rows_where(f"{column} in ({marks})", chunk))
        return rows


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
