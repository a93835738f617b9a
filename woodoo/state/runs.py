"""Runs and what is known across them: settings (meta), drift history, the sync's health figures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from woodoo.limits import STORED_TEXT_CHARS, cut
from woodoo.state.database import Store

FAILING_RUNS = 3  # this many failed runs in a row: /readyz not ready, `woodoo status`, an alert
MAX_STREAK = 100  # a failing streak is counted up to this many runs
MAX_REASON_CHARS = 200  # the latest failed run's error, as readiness and status show it


class RunStore(Store):
    """Runs, settings such as the watermark, and figures read across the database (status, health)."""

    def record(self, kind: str, run_id: str, started_at: float, **counts: Any) -> None:
        """Store one run's summary (its error, which may quote a remote, cut to a bound)."""
        if isinstance(counts.get("error"), str):
            counts["error"] = cut(counts["error"], STORED_TEXT_CHARS)
        with self.database.atomic() as db:
            db["runs"].insert(
                {"kind": kind, "run_id": run_id, "started_at": started_at,
                 "duration": self.database.clock() - started_at, **counts}
            )

    def last(self, kind: str | None = None) -> dict[str, Any] | None:
        """The most recent run (of `kind`, if given)."""
        where, args = ("kind = ?", [kind]) if kind else (None, [])
        with self.database.read() as db:
            rows = list(db["runs"].rows_where(where, args, order_by="id desc", limit=1))
        return rows[0] if rows else None

    def finished(self, kind: str, since: float) -> list[tuple[float, int]]:
        """(started_at, changed) of the runs of `kind` since `since` that ended without error."""
        with self.database.read() as db:
            return [(row[0], row[1] or 0) for row in db.execute(
                "select started_at, changed from runs where kind = ? and started_at >= ? "
                "and error is null order by started_at", [kind, since])]

    def failing_streak(self) -> tuple[int, str | None]:
        """How many of the latest runs failed in a row (up to MAX_STREAK), and why the newest did.

        A run failed when it raised (a crash, a remote down after its retries) or when it wrote
        nothing of what it tried (every write refused, or the shop unreachable for the batch).
        """
        with self.database.read() as db:
            rows = db.execute("select error, failed, pushed from runs order by id desc limit ?",
                              [MAX_STREAK]).fetchall()
        streak = 0
        for error, failed, pushed in rows:
            if error is None and not (failed and not pushed):
                break
            streak += 1
        if not streak:
            return 0, None
        error, failed, _ = rows[0]
        reason = error if error is not None else f"none of its {failed} writes went through"
        return streak, reason[:MAX_REASON_CHARS]

    def get_meta(self, key: str) -> str | None:
        """A stored setting such as the poll watermark, or None."""
        with self.database.read() as db:
            row = db.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.database.atomic() as db:
            db["meta"].upsert({"key": key, "value": value}, pk="key")

    def record_drift(self, run_id: str, skus: Iterable[str], day: str) -> None:
        """Remember which SKUs a reconciliation found drifted on `day` (YYYY-MM-DD, store time)."""
        with self.database.atomic() as db:
            db["drift_history"].upsert_all(
                ({"run_id": run_id, "sku": sku, "day": day} for sku in skus),
                pk=("run_id", "sku"))

    def repeat_drifters(self, since_day: str, nights: int = 2) -> list[tuple[str, int]]:
        """SKUs found drifted on at least `nights` different days since `since_day`."""
        with self.database.read() as db:
            return [(sku, count) for sku, count in db.execute(
                "select sku, count(distinct day) as n from drift_history where day >= ? "
                "group by sku having n >= ? order by n desc, sku", [since_day, nights])]

    def activity(self, since: float) -> dict[str, dict[str, int]]:
        """Events received and stock values pushed since `since`, by source."""
        with self.database.read() as db:
            events = db.execute(
                "select source, count(*) from events where received_at >= ? group by source",
                [since]).fetchall()
            pushes = db.execute(
                "select source, count(*) from audit where at >= ? group by source",
                [since]).fetchall()
            polls = db.execute(
                "select max(started_at) from runs where kind = 'poll' and error is null"
            ).fetchone()[0]
        return {"events": dict(events), "pushes": dict(pushes),
                "last_good_poll": {"at": polls} if polls else {}}

    def health(self, since: float) -> dict[str, Any]:
        """The sync's figures since `since`: polls, events, pushes, failures, latencies, queue."""
        with self.database.read() as db:
            one = db.execute
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
            "queue_depth": self.counts()["events_waiting"],
            "last_backfill": last_backfill, "backfill_failures": backfill_failures,
        }

    def counts(self) -> dict[str, int]:
        """Sizes that `woodoo status` shows."""
        with self.database.read() as db:
            one = db.execute
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
