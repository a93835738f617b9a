"""The state's files on disk: private folders and files, never reached through a symbolic link.

The state holds customer emails and the shop's figures, and the lock file names its holder.
Hand-written on os because no library checks what a path is before creating or narrowing it:
a state path that is a folder, a dangling link or a link to some other file must be refused in
words, and nothing may be chmod'ed, truncated or created through a link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from woodoo.errors import WoodooError

# SQLite's own files beside the database: created with its mode, so they must not be links either.
SQLITE_SIBLINGS = ("-wal", "-shm", "-journal")


class StatePathError(WoodooError):
    """A state path (or its folder) is not something Woodoo can keep its state in; says why."""


def private_folder(folder: Path) -> None:
    """Make `folder` and each missing parent, each 0700; existing folders are left as they are.

    Path.mkdir(parents=True) makes the parents with the default mode (0755 under the usual
    umask), so each missing level is made here, outermost first, before any file goes in.
    """
    missing: list[Path] = []
    for level in (folder, *folder.parents):
        if _kind(level) is not None:
            break
        missing.append(level)
    for level in reversed(missing):
        try:
            level.mkdir(mode=0o700)
        except FileExistsError:
            pass  # made meanwhile by another process: checked just below
        except OSError as error:
            raise StatePathError(f"cannot create the state folder {level}: "
                                 f"{error.strerror}") from None
    if not folder.is_dir():  # a link to a folder is fine: its folder is what it names
        raise StatePathError(f"the state folder {folder} is {_kind(folder)}, not a folder; "
                             f"point state.path into a folder")


def private_file(path: Path) -> None:
    """Create `path` readable by its owner only (its folder 0700 first), or narrow it to 0600.

    Refused, in words: a folder, a symbolic link (dangling or not: Woodoo would change the
    mode of, and write into, whatever it points at) and anything else that is not a plain
    file. SQLite creates the -wal and -shm files with the database file's mode, so they follow.
    """
    private_folder(path.parent)
    siblings = [Path(f"{path}{suffix}") for suffix in SQLITE_SIBLINGS]
    for candidate in (path, *siblings):  # all checked before anything is made or narrowed
        check_plain_file(candidate)
    _private_regular_file(path, create=True)
    for sibling in siblings:
        if _kind(sibling) is not None:
            _private_regular_file(sibling, create=False)


def open_private(path: Path, flags: int) -> int:
    """Open (creating, 0600) the plain file `path` with `flags`, never through a symbolic link."""
    check_plain_file(path)
    try:
        return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        # Swapped for a link or a folder after the check above: said as plainly.
        raise StatePathError(f"cannot open {path}: {error.strerror}") from None


def check_plain_file(path: Path) -> None:
    """Raise StatePathError unless `path` is missing or a plain file (not a link, not a folder)."""
    kind = _kind(path)
    if kind is None or kind == "a file":
        return
    if kind.startswith("a symbolic link"):
        raise StatePathError(
            f"{path} is {kind}; Woodoo never follows a link to its state files (it would "
            f"narrow the mode of, or write into, whatever the link points at); remove the "
            f"link, or set state.path to the real file's path")
    fix = (f"set state.path to a file inside it, e.g. {path / 'woodoo.sqlite'}"
           if kind == "a folder" else "set state.path to a plain file's path")
    raise StatePathError(f"{path} is {kind}, not a plain file; {fix}")


def _private_regular_file(path: Path, *, create: bool) -> None:
    check_plain_file(path)
    if create:
        try:
            # O_EXCL and O_NOFOLLOW: a link put there meanwhile is refused, never followed.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | os.O_CLOEXEC, 0o600))
            return
        except FileExistsError:
            check_plain_file(path)  # made meanwhile: a plain file is narrowed below
        except OSError as error:
            raise StatePathError(f"cannot create {path}: {error.strerror}") from None
    if os.lstat(path).st_mode & 0o077:
        # chmod, never open(): closing any descriptor of the file would drop the POSIX locks
        # that this process's SQLite connections hold on it (and lose their writes). The lstat
        # just above says it is no link; swapping one in before this chmod takes write access
        # to the state's folder, which is enough to replace the database itself.
        path.chmod(0o600)


def _kind(path: Path) -> str | None:
    """What is at `path`, in words (links not followed); None when nothing is."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StatePathError(f"cannot look at {path}: {error.strerror}") from None
    if stat.S_ISLNK(mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a symbolic link to nothing"
        return f"a symbolic link to {'a folder' if target.is_dir() else 'another file'} ({target})"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    return "a special file (a pipe, socket or device)"
