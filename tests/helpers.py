"""Small helpers the tests share: free ports, waiting for a condition, a settable clock, an SMTP
inbox."""

from __future__ import annotations

import email
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import policy as email_policy
from pathlib import Path
from typing import Any


def unit_directives(unit: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every line of a systemd unit file, in order (keys may repeat)."""
    section, found = "", []
    for line in unit.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            found.append((section, key, value))
    return found


def listening(port: int) -> bool:
    """True when a daemon answers /healthz on 127.0.0.1:`port`."""
    import requests

    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.ConnectionError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Clock:
    """A settable clock, shared by a state and whatever runs on it."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def hold_state_lock(database: Path, command: str = "run") -> subprocess.Popen[str]:
    """Another process holding the state lock as `command` (SIGKILL it to let go); it holds it
    by the time this returns."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from woodoo.lock import StateLock; "
         f"StateLock({str(database)!r}).acquire({command!r}); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def wait_for(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> bool:
    """True as soon as `condition()` holds, False if it never did within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


class Inbox:
    """An aiosmtpd handler that keeps what it receives, after refusing the first `busy` tries."""

    def __init__(self, busy: int = 0, reply: str = "451 4.3.0 Busy, try again later") -> None:
        self.busy, self.reply = busy, reply
        self.attempts = 0
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []
        self.logins: list[bytes | None] = []

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts <= self.busy:
            return self.reply
        self.envelopes.append(envelope)
        self.logins.append(getattr(session.auth_data, "login", None))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


@contextmanager
def daemon_thread(config: Any, ready: Callable[[str], bool] | None = None) -> Iterator[str]:
    """`woodoo run` in a thread of this process; its base URL (once `ready(url)`, when given);
    stopped after, its batch in hand finished (the command line then hands over in-process)."""
    from woodoo import daemon

    stop = threading.Event()
    thread = threading.Thread(target=daemon.run, args=(config,), kwargs={"stop": stop},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{config.server.port}"
    try:
        if ready is not None:
            assert wait_for(lambda: ready(url), timeout=30), f"{url} not ready"
        yield url
    finally:
        stop.set()
        thread.join(timeout=60)


def systemd_verify(unit: Path, text: str, binary: str) -> str:
    """What `systemd-analyze verify` says of `text` written as `unit` ("exit N: " then the lines
    naming the unit): the Exec commands must exist, so `binary` is replaced by this Python.
    Nothing is started."""
    unit.write_text(text.replace(binary, sys.executable), "utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60, check=False)
    # A template's lines name it as woodoo@ or woodoo@<instance>.service.
    name = unit.name.split("@")[0] + "@" if "@" in unit.name else unit.name
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if name in line]
    return f"exit {result.returncode}: " + "\n".join(complaints)
