"""The one SQLite connection the stores share: its lock, transactions and schema migrations."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from woodoo.errors import WoodooError
from woodoo.state.files import private_file
from woodoo.state.migrations import MIGRATIONS


class StateVersionError(WoodooError):
    """A state file this release cannot use: written by a newer release, or not upgradable."""


class Database:
    """One connection, migrated to the latest schema; safe to share between threads (one lock)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time,
                 synchronous: Literal["FULL", "NORMAL"] = "FULL") -> None:
        """Open (creating and migrating) the database; `synchronous` NORMAL only for benchmarks.

        A state from a newer release is refused (StateVersionError) before anything is written.
        """
        self.path = str(path)
        if self.path != ":memory:":
            private_file(Path(path))
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(connection)
        self.clock = clock
        self._lock = threading.RLock()
        self.db.execute("PRAGMA busy_timeout = 30000")
        try:
            # Read first, before anything is written (WAL mode, migrations): SQLite's -wal and
            # -shm files it may make for the read go when this connection closes. Never read
            # from the file's header by hand: closing any descriptor of the file would drop the
            # locks this process's other connections hold on it.
            known_version(Path(path), self.schema_version)
        except sqlite3.OperationalError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as error:  # not a database, a malformed one
            self.db.close()
            raise StateVersionError(
                f"the state file {path} cannot be read as a SQLite database ({error}); it was "
                f"left untouched: restore it from a copy, or move it aside to start afresh "
                f"(then `woodoo sync --full`)") from None
        except StateVersionError:
            self.db.close()
            raise
        if self.path != ":memory:":
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
        """Apply the migrations this file lacks, all in one transaction, after a backup copy.

        One transaction (SQLite's schema changes and user_version are transactional): a migration
        that fails leaves the file as it was, never half-way between two releases' schemas.
        """
        with self._lock:
            version = self.schema_version
            if version >= len(MIGRATIONS):
                return
            if version > 0 and self.path != ":memory:":
                self._back_up(version)
            step = version  # the migration being applied, for the error
            try:
                with self.atomic():
                    if self.schema_version != version:
                        return  # another process upgraded it meanwhile
                    for migration in MIGRATIONS[version:]:
                        step += 1
                        migration(self.db)
                    self.db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            except (sqlite3.Error, ValueError) as error:  # sqlite-utils says some in ValueError
                self.db.close()
                raise StateVersionError(
                    f"cannot upgrade the state file {self.path} from schema {version} to "
                    f"{len(MIGRATIONS)}: step {step} failed ({error}); the file is left as it "
                    f"was, at schema {version} (a copy is in {backup_path(self.path, version)}); "
                    f"run the earlier release on it, or move it aside to start afresh "
                    f"(then `woodoo sync --full`)") from None

    def _back_up(self, version: int) -> None:
        """Copy the state, as it is before an upgrade, next to it: `<file>.schema-<N>.bak`.

        The copy is what the earlier release can go back to; SQLite's backup API, because a
        file copy could catch a -wal file's pages half-written.
        """
        target = backup_path(self.path, version)
        partial = Path(f"{target}.partial")
        partial.unlink(missing_ok=True)  # a copy a crash cut short: made again whole
        private_file(partial)
        copy = sqlite3.connect(partial)
        try:
            self.db.conn.backup(copy)
        finally:
            copy.close()
        os.replace(partial, target)


def backup_path(path: str, version: int) -> Path:
    """Where the copy of a state file at schema `version` goes before it is upgraded."""
    return Path(f"{path}.schema-{version}.bak")


def known_version(path: Path, version: int) -> None:
    """Raise StateVersionError unless `version` is a schema this release knows (0 to the latest)."""
    if version > len(MIGRATIONS):
        raise StateVersionError(
            f"the state file {path} is at schema {version}, written by a newer release of "
            f"Woodoo; this release knows schemas up to {len(MIGRATIONS)}; run the newer "
            f"release (the file is left untouched)")
    if version < 0:
        raise StateVersionError(
            f"the state file {path} says schema {version}, which no release of Woodoo writes "
            f"(0 to {len(MIGRATIONS)}); the file is left untouched: restore it from a copy")


class Store:
    """One concern's tables in the shared database."""

    def __init__(self, database: Database) -> None:
        """A store over `database`."""
        self.database = database


def chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    """`values` in lists of at most `size` (SQLite limits the parameters of one statement)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
