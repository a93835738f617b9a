"""The one SQLite connection the stores share: its lock, transactions and schema migrations."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from woodoo.state.files import private_file
from woodoo.state.migrations import MIGRATIONS


class Database:
    """One connection, migrated to the latest schema; safe to share between threads (one lock)."""

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
        """Close the connection."""
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

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """The connection to read from, while no other thread uses it."""
        with self._lock:
            yield self.db

    def select_in(self, table: str, column: str, values: list[Any]) -> list[dict[str, Any]]:
        """The rows of `table` whose `column` is one of `values`."""
        rows: list[dict[str, Any]] = []
        with self.read() as db:
            for chunk in chunks(values, 500):
                marks = ",".join("?" * len(chunk))
                rows.extend(db[table].rows_where(f"{column} in ({marks})", chunk))
        return rows

    @property
    def schema_version(self) -> int:
        """The migration the database is at."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._lock:
            version = self.schema_version
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                with self.db.atomic():
                    migration(self.db)
                    self.db.execute(f"PRAGMA user_version = {number}")


class Store:
    """One concern's tables in the shared database."""

    def __init__(self, database: Database) -> None:
        """A store over `database`."""
        self.database = database


def chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    """`values` in lists of at most `size` (SQLite limits the parameters of one statement)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
