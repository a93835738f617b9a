"""Hostile state files: one from a newer release, one with a schema no release writes, one that is
not a database, and ones a migration cannot apply to. Each is refused in words naming the file
and its schema; a newer or unreadable one is left byte for byte as it was, with no -wal, -shm or
copy made beside it, and a failed upgrade leaves the file at the schema it had."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from adversarial.hostile import TALLY
from woodoo.cli import main
from woodoo.lock import lock_path
from woodoo.state import MIGRATIONS, State
from woodoo.state.database import StateVersionError, backup_path

LATEST = len(MIGRATIONS)


def at_schema(path: Path, version: int, *, user_version: int | None = None,
              before: Callable[[sqlite_utils.Database], None] | None = None) -> None:
    """A state file in WAL mode with the first `version` migrations and a queued event (from
    schema 2); `before` runs first (a hand-made table), `user_version` overrides the number."""
    db = sqlite_utils.Database(path)
    db.enable_wal()
    if before:
        before(db)
    for migration in MIGRATIONS[:version]:
        migration(db)
    if version >= 2:
        db["events"].insert({"source": "odoo", "event_id": "e-1", "payload": "{}",
                             "received_at": 0, "event_time": 0, "due_at": 0, "reads": 0})
    db.execute(f"PRAGMA user_version = {version if user_version is None else user_version}")
    db.close()
    path.chmod(0o600)


def newer(tmp: Path) -> Path:
    at_schema(tmp / "woodoo.sqlite", LATEST, user_version=LATEST + 1)
    return tmp / "woodoo.sqlite"


def far_newer(tmp: Path) -> Path:
    at_schema(tmp / "woodoo.sqlite", LATEST, user_version=2**31 - 1)
    return tmp / "woodoo.sqlite"


def negative(tmp: Path) -> Path:
    # MIGRATIONS[-1:] would apply the last migration alone to whatever this is.
    at_schema(tmp / "woodoo.sqlite", 1, user_version=-1)
    return tmp / "woodoo.sqlite"


def not_a_database(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite").write_bytes(b"this is no SQLite file, it only has its name\n" * 100)
    (tmp / "woodoo.sqlite").chmod(0o600)
    return tmp / "woodoo.sqlite"


# Each: how to make the file, and what the error must say besides the file's path.
REFUSED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a state from the next release": (
        newer, f"is at schema {LATEST + 1}, written by a newer release of Woodoo; this release "
               f"knows schemas up to {LATEST}"),
    "a state at the largest schema number": (far_newer, f"is at schema {2**31 - 1}, written by "
                                                        f"a newer release"),
    "a negative schema": (negative, f"says schema -1, which no release of Woodoo writes (0 to "
                                    f"{LATEST})"),
    "a file that is not a database": (not_a_database, "cannot be read as a SQLite database "
                                                      "(file is not a database)"),
}


def _snapshot(tmp: Path, *, besides: tuple[Path, ...] = ()) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under `tmp` but `besides`: its mode, and a plain file's bytes."""
    return {str(entry): (os.lstat(entry).st_mode,
                         entry.read_bytes() if stat.S_ISREG(os.lstat(entry).st_mode) else None)
            for entry in sorted(tmp.rglob("*")) if entry not in besides}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_state_this_release_cannot_use_is_refused_in_words_and_left_untouched(case, tmp_path):
    make, said = REFUSED[case]
    TALLY.inputs["state file"] += 1
    path = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(StateVersionError) as raised:
        State(path)
    assert said in str(raised.value) and str(path) in str(raised.value)
    assert _snapshot(tmp_path) == before  # same bytes, same mode; no -wal, -shm or copy


@pytest.mark.parametrize("command", [["status"], ["check"], ["run", "--run-for", "0"]])
def test_each_command_refuses_a_newer_state_in_one_line(command, tmp_path, make_config_file):
    TALLY.inputs["state file"] += 1
    (tmp_path / "state").mkdir(mode=0o700)  # the state's own folder: the config sits outside
    path = newer(tmp_path / "state")
    config_path = make_config_file(state={"path": str(path)})
    before = _snapshot(path.parent, besides=(lock_path(path),))  # `run` takes its lock first
    result = CliRunner().invoke(main, [*command, "-c", str(config_path)])
    assert result.exit_code != 0, result.output
    assert (f"the state file {path} is at schema {LATEST + 1}, written by a newer release of "
            f"Woodoo; this release knows schemas up to {LATEST}") in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert _snapshot(path.parent, besides=(lock_path(path),)) == before


def orders_made_by_hand(db: sqlite_utils.Database) -> None:
    db["orders"].create({"id": int}, pk="id")  # migration 3 creates `orders`


def events_dropped(path: Path) -> None:
    db = sqlite_utils.Database(path)
    db["events"].drop()  # migration 4 adds columns to `events`
    db.close()


def test_a_migration_that_cannot_apply_leaves_the_state_at_its_schema(tmp_path):
    TALLY.inputs["state file"] += 1
    path = tmp_path / "woodoo.sqlite"
    at_schema(path, 1, before=orders_made_by_hand)
    content = path.read_bytes()
    with pytest.raises(StateVersionError) as raised:
        State(path)
    assert (f"cannot upgrade the state file {path} from schema 1 to {LATEST}: step 3 failed "
            f"(table \"orders\" already exists); the file is left as it was, at schema 1") in str(
        raised.value)
    # Steps 2 and 3 were one transaction with the rest: step 2's table is not there either.
    assert path.read_bytes() == content
    db = sqlite_utils.Database(path)
    assert db.execute("pragma user_version").fetchone()[0] == 1
    assert "events" not in db.table_names()
    db.close()
    assert backup_path(str(path), 1).exists()  # the copy made before trying


def test_a_state_missing_a_table_its_schema_has_is_refused_and_kept(tmp_path):
    TALLY.inputs["state file"] += 1
    path = tmp_path / "woodoo.sqlite"
    at_schema(path, 3)
    events_dropped(path)
    content = path.read_bytes()
    with pytest.raises(StateVersionError) as raised:
        State(path)
    assert f"from schema 3 to {LATEST}: step 4 failed" in str(raised.value)
    assert path.read_bytes() == content
