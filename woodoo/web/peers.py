"""The versions the plugin and the Odoo module said in their calls, kept in the state's meta for
`woodoo status`, `woodoo check`, the status route and the alerts (judged by woodoo/compat.py).

Only a call that was signed and accepted is recorded: a refused request writes nothing, and what
an unsigned sender claims could be anyone's (a release before 0.2, which signed the v1 way, is
refused with words that say so). A part's record is written when its user agent changes, or to
refresh its time at most once an hour: one write per hour of heartbeats, not one per call.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from woodoo import compat
from woodoo.state import State

REFRESH = 3600  # seconds: a signed part's "last heard" is rewritten at most this often
MAX_SHOWN = 100  # characters of a user agent kept (printable ASCII only)
LEVELS = {"works": "ok", "limited": "works with limits", "broken": "CANNOT WORK",
          "unknown": "UNKNOWN VERSION"}
MAX_TIME = 2**33  # a stored time past this (year 2242) is no time this daemon wrote


def key(part: compat.Part) -> str:
    """The meta key of a part's record."""
    return f"peer_{part}"


@dataclass(frozen=True)
class Heard:
    """What a part last said about itself, and when."""

    part: compat.Part
    agent: str  # its user agent, cut and made printable
    at: int

    @property
    def pairing(self) -> compat.Pairing:
        """How that version works with this daemon."""
        return compat.pairing(self.part, compat.agent_version(self.part, self.agent))


def shown(agent: object) -> str:
    """A user agent as it may be stored and printed: printable ASCII, at most MAX_SHOWN long."""
    text = agent if isinstance(agent, str) else ""
    if len(text) > compat.MAX_AGENT:
        # Cut short before anything else reads it: such an agent is no part's anyway.
        return re.sub(r"[^ -~]", "?", text[:MAX_SHOWN - 3]) + "..."
    return re.sub(r"[^ -~]", "?", text)[:MAX_SHOWN]


class Recorder:
    """Notes each call's user agent; writes the state only when there is something new."""

    def __init__(self, state: State, clock: Callable[[], float]) -> None:
        self.state = state
        self.clock = clock
        self._written: dict[str, tuple[str, float]] = {}  # meta key -> (agent, when written)
        self._lock = threading.Lock()

    def heard(self, part: compat.Part, agent: object) -> None:
        """Record that `part` made a signed call that was accepted, with user agent `agent`."""
        now = self.clock()
        name, text = key(part), shown(agent)
        with self._lock:
            last = self._written.get(name)
            if last is not None and last[0] == text and now - last[1] < REFRESH:
                return
            self._written[name] = (text, now)
        self.state.runs.set_meta(name, json.dumps({"agent": text, "at": int(now)}))


def heard(state: State) -> dict[compat.Part, Heard | None]:
    """Per calling part: what its last recorded call said (None: not heard from yet)."""
    return {part: _read(state, part) for part in compat.PARTS}


def failing(state: State) -> list[compat.Pairing]:
    """The parts whose version cannot work with this daemon (what the alert names)."""
    return [record.pairing for record in heard(state).values()
            if record is not None and record.pairing.fails]


def describe(record: Heard) -> str:
    """One line: how the part works with this daemon, what it said and when."""
    said = repr(record.agent) if record.agent else "no user agent"
    when = datetime.fromtimestamp(record.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{record.pairing.words} (user agent {said}, last heard {when})"


def report(state: State) -> list[tuple[compat.Level | None, str]]:
    """One line per calling part for `status` and `check`, with its level (None: not heard)."""
    lines: list[tuple[compat.Level | None, str]] = []
    for part, record in heard(state).items():
        if record is None:
            lines.append((None, f"{part}: not heard from yet (its version comes with its first "
                                f"signed call that is taken)"))
        else:
            lines.append((record.pairing.level,
                          f"{part}: {LEVELS[record.pairing.level]}: {describe(record)}"))
    return lines


def _read(state: State, part: compat.Part) -> Heard | None:
    raw = state.runs.get_meta(key(part))
    try:
        data: Any = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("at"), int) \
            or isinstance(data.get("at"), bool) or not 0 <= data["at"] < MAX_TIME:
        return None
    return Heard(part, shown(data.get("agent")), data["at"])
