"""Commands a command line hands to the running daemon, the one writer of the state."""

from __future__ import annotations

import json
from typing import Any

from woodoo.limits import STORED_TEXT_CHARS, cut
from woodoo.state.database import Store


class CommandStore(Store):
    """Requested, started and finished commands, with their results for whoever waits."""

    def request(self, command: str, args: dict[str, Any], requested_by: int) -> int:
        """Queue a command for the daemon that holds the state lock; returns its id."""
        with self.database.atomic() as db:
            return db.execute(
                "insert into commands (command, args, requested_at, requested_by) "
                "values (?, ?, ?, ?)",
                [command, json.dumps(args), self.database.clock(), requested_by],
            ).lastrowid or 0

    def claim(self) -> dict[str, Any] | None:
        """The oldest command not started yet, now marked started; None when there is none."""
        with self.database.read() as db:
            # Asked twice a second: a read when there is nothing, not a write transaction.
            if db.execute("select 1 from commands where started_at is null limit 1"
                          ).fetchone() is None:
                return None
        with self.database.atomic() as db:
            row = db.execute(
                "update commands set started_at = ? where id = (select id from commands "
                "where started_at is null order by id limit 1) "
                "returning id, command, args, requested_by",
                [self.database.clock()],
            ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "command": row[1], "args": json.loads(row[2]),
                "requested_by": row[3]}

    def finish(self, command_id: int, *, result: dict[str, Any] | None = None,
               error: str | None = None) -> None:
        """Store a command's result (or its error in words) for whoever waits for it."""
        with self.database.atomic() as db:
            db.execute(
                "update commands set finished_at = ?, result = ?, error = ? where id = ?",
                [self.database.clock(), None if result is None else json.dumps(result),
                 None if error is None else cut(error, STORED_TEXT_CHARS), command_id],
            )

    def get(self, command_id: int) -> dict[str, Any] | None:
        """A command's row, its args and result decoded; None once it is gone."""
        with self.database.read() as db:
            rows = list(db["commands"].rows_where("id = ?", [command_id]))
        if not rows:
            return None
        row = rows[0]
        return {**row, "args": json.loads(row["args"]),
                "result": json.loads(row["result"]) if row["result"] is not None else None}

    def cancel(self, command_id: int) -> bool:
        """Withdraw a command the daemon has not started; False when it has (or it is gone)."""
        with self.database.atomic() as db:
            return db.execute("delete from commands where id = ? and started_at is null",
                              [command_id]).rowcount == 1

    def abandon(self, reason: str) -> int:
        """Close commands started by a process that is gone (at start-up, under the state lock):
        they are not run again, a half-done sync or reconciliation is not resumed blindly."""
        with self.database.atomic() as db:
            return db.execute(
                "update commands set finished_at = ?, error = ? "
                "where started_at is not null and finished_at is null",
                [self.database.clock(), reason],
            ).rowcount

    def prune(self, older_than: float) -> int:
        """Forget commands finished, or requested and never started, before `older_than`."""
        with self.database.atomic() as db:
            return db.execute(
                "delete from commands where (finished_at is not null and finished_at < ?) "
                "or (started_at is null and requested_at < ?)",
                [older_than, older_than],
            ).rowcount
