"""Hostile state paths: each is a StatePathError naming the path and what is wrong; nothing is
created, truncated or chmod'ed through a link, and no traceback reaches the command line."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from adversarial.hostile import TALLY
from woodoo.cli import main
from woodoo.lock import StateLock, lock_path
from woodoo.state import State
from woodoo.state.files import StatePathError

OTHER = "someone else's file\n"


def _other(tmp: Path) -> Path:
    """A file that is not Woodoo's, readable by all, that no state step may touch."""
    other = tmp / "elsewhere" / "notes.txt"
    other.parent.mkdir()
    other.write_text(OTHER)
    other.chmod(0o644)
    return other


def dangling_link(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite").symlink_to(tmp / "gone" / "woodoo.sqlite")
    return tmp / "woodoo.sqlite"


def link_to_another_file(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite").symlink_to(_other(tmp))
    return tmp / "woodoo.sqlite"


def link_to_a_folder(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite").symlink_to(_other(tmp).parent)
    return tmp / "woodoo.sqlite"


def a_folder(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite").mkdir()
    return tmp / "woodoo.sqlite"


def a_pipe(tmp: Path) -> Path:
    os.mkfifo(tmp / "woodoo.sqlite")
    return tmp / "woodoo.sqlite"


def parent_is_a_file(tmp: Path) -> Path:
    (tmp / "state").write_text("not a folder")
    return tmp / "state" / "woodoo.sqlite"


def parent_is_a_dangling_link(tmp: Path) -> Path:
    (tmp / "state").symlink_to(tmp / "gone")
    return tmp / "state" / "woodoo.sqlite"


def wal_links_to_another_file(tmp: Path) -> Path:
    (tmp / "woodoo.sqlite-wal").symlink_to(_other(tmp))
    return tmp / "woodoo.sqlite"


def lock_links_to_another_file(tmp: Path) -> Path:
    lock_path(tmp / "woodoo.sqlite").symlink_to(_other(tmp))
    return tmp / "woodoo.sqlite"


def lock_is_a_folder(tmp: Path) -> Path:
    lock_path(tmp / "woodoo.sqlite").mkdir()
    return tmp / "woodoo.sqlite"


# Each: how to make the path, what its error must say, and who opens it (the state or the lock).
CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "a dangling symbolic link": (dangling_link, "is a symbolic link to nothing", "state"),
    "a link to another file": (link_to_another_file, "is a symbolic link to another file", "state"),
    "a link to a folder": (link_to_a_folder, "is a symbolic link to a folder", "state"),
    "a folder": (a_folder, "is a folder, not a plain file; set state.path to a file inside it",
                 "state"),
    "a named pipe": (a_pipe, "is a special file", "state"),
    "a parent that is a file": (parent_is_a_file, "state is a file, not a folder", "state"),
    "a parent that is a dangling link": (parent_is_a_dangling_link, "is a symbolic link to nothing",
                                         "state"),
    "a -wal that links to another file": (wal_links_to_another_file,
                                          "-wal is a symbolic link to another file", "state"),
    "a lock file that links to another file": (lock_links_to_another_file,
                                               ".lock is a symbolic link to another file", "lock"),
    "a lock file that is a folder": (lock_is_a_folder, ".lock is a folder", "lock"),
}


def _snapshot(tmp: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under `tmp` (links not followed): its mode, and a plain file's bytes."""
    found = {}
    for entry in sorted(tmp.rglob("*")):
        mode = os.lstat(entry).st_mode
        found[str(entry)] = (mode, entry.read_bytes() if stat.S_ISREG(mode) else None)
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_state_path_is_refused_in_words_and_touches_nothing(case, tmp_path):
    make, said, opener = CASES[case]
    TALLY.inputs["state path"] += 1
    path = make(tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(StatePathError) as raised:
        if opener == "lock":
            StateLock(path).acquire("run")
        else:
            State(path)
    assert said in str(raised.value)
    assert str(tmp_path) in str(raised.value)  # names the path
    assert _snapshot(tmp_path) == before  # nothing created, chmod'ed or truncated


def test_a_state_path_that_is_a_folder_is_one_line_on_the_command_line(make_config_file,
                                                                        tmp_path):
    TALLY.inputs["state path"] += 1
    folder = tmp_path / "a-folder.sqlite"
    folder.mkdir()
    path = make_config_file(state={"path": str(folder)})
    for command in (["status"], ["audit"], ["run", "--run-for", "0"]):
        result = CliRunner().invoke(main, [*command, "-c", str(path)])
        assert result.exit_code == 1, (command, result.output)
        assert f"error: {folder} is a folder, not a plain file" in result.output
        assert "Traceback" not in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit)
