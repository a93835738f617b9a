"""The durable event queue: webhooks stored before they are acknowledged, then claimed by a worker.

A worker stakes a claim on the events due (a lease, and a claim id on their rows) and settles
each one through the claim: read (due again for a later reread, or done) or failed (retried
with backoff, or set aside). A claim whose lease ran out may be taken over by a newer one; the
old claim's updates then change nothing, and say so.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from woodoo.limits import STORED_TEXT_CHARS, cut
from woodoo.state.database import Store


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


@dataclass(frozen=True)
class Claim:
    """Events leased to one worker, and the id that shows it still holds them."""

    id: str
    events: list[QueuedEvent]


class EventQueue(Store):
    """Received events, each stored once per (source, event id), until processed and pruned."""

    def enqueue(self, source: str, event_id: str, payload: dict[str, Any], *,
                event_time: float, due_at: float) -> bool:
        """Store a received event durably; False when this (source, event id) was already stored."""
        with self.database.atomic() as db:
            cursor = db.execute(
                "insert into events (source, event_id, payload, received_at, event_time, due_at, "
                "reads) values (?, ?, ?, ?, ?, ?, 0) on conflict (source, event_id) do nothing",
                [source, event_id, json.dumps(payload), self.database.clock(), event_time, due_at],
            )
            return cursor.rowcount == 1

    def stake_claim(self, *, lease_seconds: float, limit: int = 500, early: float = 0.0,
                    source: str | None = None) -> Claim:
        """Claim the events due now (or within `early` seconds, of `source` only when given)
        that no live claim holds, for `lease_seconds`."""
        claim_id = uuid.uuid4().hex
        now = self.database.clock()
        with self.database.atomic() as db:
            rows = db.execute(
                "update events set lease_until = ?, claim_id = ? where id in (select id from events "
                "where done_at is null and failed_at is null and due_at <= ? "
                "and (lease_until is null or lease_until < ?) and source = coalesce(?, source) "
                "order by due_at limit ?) returning id, source, event_id, payload, received_at, "
                "event_time, reads, attempts",
                [now + lease_seconds, claim_id, now + early, now, source, limit],
            ).fetchall()
        return Claim(claim_id, [QueuedEvent(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7])
                                for r in rows])

    def mark_read(self, claim: Claim, event: QueuedEvent, next_due: float | None) -> bool:
        """Count one Odoo read: due again at `next_due`, or done when None; False if `claim` lost it."""
        now = self.database.clock()
        return self._settle(
            claim, event, "reads = reads + 1, due_at = coalesce(?, due_at), "
            "first_read_at = coalesce(first_read_at, ?), done_at = case when ? is null then ? end",
            [next_due, now, next_due, now])

    def mark_failure(self, claim: Claim, event: QueuedEvent, error: str, *,
                     retry_at: float | None, counted: bool = True) -> bool:
        """Record a failed try: due again at `retry_at`, or set aside as failed when None.

        `counted` is False when the failure was the remote side's (down, timing out): such tries
        wait with backoff but never use up the event's attempts, so an outage loses nothing.
        False, changing nothing, when `claim` no longer holds the event.
        """
        return self._settle(
            claim, event, "attempts = attempts + ?, last_error = ?, due_at = coalesce(?, due_at), "
            "failed_at = case when ? is null then ? end",
            [int(counted), cut(error, STORED_TEXT_CHARS), retry_at, retry_at,
             self.database.clock()])

    def _settle(self, claim: Claim, event: QueuedEvent, changes: str, values: list[Any]) -> bool:
        """Apply `changes` (SQL assignments) to the event and end its lease, if `claim` holds it."""
        with self.database.atomic() as db:
            return db.execute(
                f"update events set {changes}, lease_until = null, claim_id = null "
                "where id = ? and claim_id = ?", [*values, event.id, claim.id],
            ).rowcount == 1

    def release_claim(self, claim: Claim) -> int:
        """Hand back the events `claim` still holds, claimable again at once; how many."""
        with self.database.atomic() as db:
            # `done_at is null` lets the queue's index find them.
            return db.execute(
                "update events set lease_until = null, claim_id = null "
                "where done_at is null and claim_id = ?", [claim.id]
            ).rowcount

    def release_all_claims(self) -> int:
        """Free every claim (at start-up: the process that held them is gone); how many events."""
        with self.database.atomic() as db:
            return db.execute(
                "update events set lease_until = null, claim_id = null "
                "where done_at is null and lease_until is not null"
            ).rowcount

    def failed(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events set aside after their last try, newest first, with the reason."""
        with self.database.read() as db:
            return list(db["events"].rows_where(
                "failed_at is not null", order_by="failed_at desc", limit=limit,
                select="id, source, event_id, attempts, last_error, received_at, failed_at"))

    def retry_failed(self, ids: list[int] | None = None) -> int:
        """Put failed events (all, or these ids) back in the queue with fresh attempts."""
        where, params = ("failed_at is not null", []) if not ids else (
            f"failed_at is not null and id in ({','.join('?' * len(ids))})", ids)
        with self.database.atomic() as db:
            return db.execute(
                f"update events set failed_at = null, attempts = 0, due_at = ? where {where}",
                [self.database.clock(), *params]).rowcount

    def wake_waiting(self) -> int:
        """Make events that wait after a failed try due now (their side is back); how many."""
        now = self.database.clock()
        with self.database.atomic() as db:
            return db.execute(
                "update events set due_at = ? where done_at is null and failed_at is null "
                "and last_error is not null and due_at > ? and claim_id is null", [now, now]
            ).rowcount

    def stats(self) -> dict[str, float | int | None]:
        """Queue depth, the oldest due time, and when the next event can be claimed."""
        with self.database.read() as db:
            depth, oldest, claimable = db.execute(
                "select count(*), min(due_at), min(max(due_at, coalesce(lease_until, 0))) "
                "from events where done_at is null and failed_at is null"
            ).fetchone()
        return {"depth": depth, "oldest_due_at": oldest, "next_claimable_at": claimable}

    def prune(self, older_than: float) -> int:
        """Delete processed events older than `older_than` (unix time); returns how many."""
        with self.database.atomic() as db:
            return db.execute(
                "delete from events where done_at is not null and done_at < ?", [older_than]
            ).rowcount
