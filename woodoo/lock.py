"""One writer per state file: an exclusive lock beside the database, naming who holds it.

Hand-written on the standard library's fcntl.flock because the libraries do not fit:
`filelock` opens the lock file with O_TRUNC before it tries the lock, so every process that
merely tries erases the holder's pid that a second `woodoo run` must report, and neither it nor
`fasteners` records a holder at all. flock, not fcntl/lockf record locks: a record lock is
dropped when *any* descriptor of the file in the process is closed, and an flock belongs to one
open file description, so it also excludes a second opener inside the same process. Either way
the kernel releases it when the holder dies (even by kill -9): a lock file left on disk is never
stale, and whoever takes the lock knows that the previous holder is gone.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from woodoo.errors import WoodooError
from woodoo.state.files import open_private, private_folder

_HOLDER_READ_SECONDS = 1.0  # a holder writes its name right after it takes the lock

_token: tuple[int, str] | None = None


def process_token() -> str:
    """This process's name in the push journal: made once per process (a fork gets its own)."""
    global _token
    if _token is None or _token[0] != os.getpid():
        _token = (os.getpid(), uuid.uuid4().hex)
    return _token[1]


def lock_path(state_path: Path | str) -> Path:
    """Where the lock of a state database lives: beside it, `<state path>.lock`."""
    return Path(f"{state_path}.lock")


@dataclass(frozen=True)
class Holder:
    """Who holds a state lock: its pid and what it runs (`run`, `sync`, ...)."""

    pid: int | None
    command: str

    def __str__(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "pid unknown"
        return f"`woodoo {self.command}` ({pid})"


class LockHeld(WoodooError):
    """Another process holds the state lock."""

    def __init__(self, state_path: Path, holder: Holder) -> None:
        self.state_path = state_path
        self.holder = holder
        super().__init__(f"the state {state_path} is in use by {holder}")


class StateLock:
    """An exclusive, non-blocking lock on one state database, held until `release` or exit."""

    def __init__(self, state_path: Path | str) -> None:
        self.state_path = Path(state_path)
        self.path = lock_path(state_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self, command: str) -> StateLock:
        """Take the lock at once, or raise LockHeld naming the holder; returns self."""
        if self._fd is not None:
            return self
        # The state's folder is made private before anything goes in it (the lock comes first).
        private_folder(self.path.parent)
        # No O_TRUNC: a process that only tries must not erase the holder's name; and never
        # through a link, whose target this would truncate.
        fd = open_private(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(self.state_path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race with the next taker)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def holder(self) -> Holder | None:
        """Who holds the lock now (None when nobody does); this object if it is the holder.

        For tools and tests: when the lock is free it is taken for a moment to find out, so a
        process starting in that moment is refused.
        """
        if self._fd is not None:
            return _read_holder(self._fd)
        try:
            self.acquire("probe")
        except LockHeld as held:
            return held.holder
        self.release()
        return None

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> Holder:
    """The holder's pid and command as it wrote them; waits briefly for a holder that has just
    taken the lock and not written its name yet."""
    deadline = time.monotonic() + _HOLDER_READ_SECONDS
    while True:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        pid, _, command = text.partition(" ")
        if pid.isdigit() and command:
            return Holder(int(pid), command)
        if time.monotonic() >= deadline:
            return Holder(None, command or "unknown")
        time.sleep(0.02)
