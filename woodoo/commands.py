"""Write commands (sync, reconcile, orders retry): run here under the state lock, or handed to the
running daemon, which owns the state file, through the `commands` table.

Both ways run `execute` and give back the same JSON-able result, so the command line prints a
handed-off run exactly as a local one.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from types import FrameType
from typing import Any

from woodoo import log
from woodoo.engine import Engine, PlannedChange, Progress, RunSummary
from woodoo.gateways.odoo import OdooError
from woodoo.gateways.woocommerce import WooError
from woodoo.lock import Holder
from woodoo.reporting import reconcile
from woodoo.rules import ShownStock
from woodoo.state import CommandStore

WAIT_SECONDS = 600.0  # how long a command line waits for the daemon by default
PICK_UP_SECONDS = 0.5  # how often the daemon looks for handed-off commands
RETENTION_SECONDS = 86400.0  # finished (or never started) commands are forgotten after this
PRUNE_EVERY_SECONDS = 3600.0
DRIFT_LINES = 50  # the command line lists this many drifted SKUs
ABANDONED = "the daemon stopped while running it; it was not run again"


def execute(engine: Engine, command: str, args: dict[str, Any],
            progress: Progress | None = None) -> dict[str, Any]:
    """Run one write command through the engine; its result, for `woodoo` to print."""
    if command == "sync":
        summary = engine.sync(full=bool(args.get("full")), dry_run=bool(args.get("dry_run")),
                              skus=args.get("skus") or None, progress=progress)
        return summary_result(summary)
    if command == "reconcile":
        dry_run = bool(args.get("dry_run"))
        found, saved, (sent, note) = reconcile.reconcile_and_report(
            engine, dry_run=dry_run, email=bool(args.get("email", True)), progress=progress)
        return {
            "needs_attention": found.needs_attention, "checked": found.checked,
            "drifted": len(found.drift), "dry_run": dry_run, "correct": found.correct,
            "corrected": found.corrected,
            "drift": [{"sku": d.sku, "shop_before": d.shop_before, "should_show": d.should_show,
                       "odoo_figure": d.odoo_figure, "pending": d.pending}
                      for d in found.drift[:DRIFT_LINES]],
            "failures": found.failures, "report": str(saved["html"]),
            "email": "sent" if sent else note,
        }
    if command == "orders-retry":
        count = engine.state.orders.retry([int(i) for i in args.get("order_ids") or []] or None)
        return {"count": count}
    if command == "events-retry":
        count = engine.state.events.retry_failed([int(i) for i in args.get("event_ids") or []]
                                                 or None)
        return {"count": count}
    raise ValueError(f"unknown command {command!r}")


def summary_result(summary: RunSummary) -> dict[str, Any]:
    """A run's summary as JSON-able data."""
    return asdict(summary)


def summary_from_result(result: dict[str, Any]) -> RunSummary:
    """The run summary that `summary_result` made (fields it does not know are left out: the
    daemon may run a newer or older version than the command line during an upgrade)."""
    known = {f.name for f in fields(RunSummary)}
    changes = [
        PlannedChange(c["sku"], ShownStock(**c["old"]) if c["old"] else None,
                      ShownStock(**c["new"]), c["figure"], c["pending"])
        for c in result["changes"]
    ]
    return RunSummary(**{k: v for k, v in result.items() if k in known - {"changes"}},
                      changes=changes)


def describe(error: BaseException) -> str:
    """An error in words, for a command line that waits in another process."""
    if isinstance(error, OdooError | WooError):
        return str(error)
    name = type(error).__name__
    return f"{error} ({name})" if str(error) else name


# -- the daemon's side ---------------------------------------------------------------------------


def run_pending(engine: Engine) -> int:
    """Run every queued command, oldest first, storing each result or error; how many ran.

    Each goes through the engine like a poll, so it waits for a running poll and a poll waits
    for it: nothing else of the daemon (webhook acks, the scheduler) waits on this thread.
    """
    logger = log.get("woodoo.commands")
    ran = 0
    while (claimed := engine.state.commands.claim()) is not None:
        bound = logger.bind(command=claimed["command"], command_id=claimed["id"],
                            requested_by=claimed["requested_by"])
        bound.info("running handed-off command", args=claimed["args"])
        try:
            result = execute(engine, claimed["command"], claimed["args"])
        except Exception as error:  # the waiting command line reports it; the daemon goes on
            engine.state.commands.finish(claimed["id"], error=describe(error))
            bound.error("handed-off command failed", error=str(error),
                        error_type=type(error).__name__)
        else:
            engine.state.commands.finish(claimed["id"], result=result)
        ran += 1
    return ran


def serve(engine: Engine, stop: threading.Event, *,
          clock: Callable[[], float] = time.time) -> None:
    """The daemon's command thread: picks commands up within PICK_UP_SECONDS until `stop`.

    A thread of its own rather than a scheduler job: a long sync would make a one-second job
    log "skipped: maximum number of running instances reached" every second.
    """
    logger = log.get("woodoo.commands")
    abandoned = engine.state.commands.abandon(ABANDONED)
    if abandoned:
        logger.warning("closed commands a previous daemon left unfinished", commands=abandoned)
    pruned_at = 0.0
    while not stop.is_set():
        try:
            if clock() - pruned_at >= PRUNE_EVERY_SECONDS:
                engine.state.commands.prune(clock() - RETENTION_SECONDS)
                pruned_at = clock()
            run_pending(engine)
        except Exception as error:  # SQLite busy beyond its timeout: look again next time
            logger.error("handed-off commands could not be read", error=str(error))
        stop.wait(PICK_UP_SECONDS)


# -- the command line's side ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How a handed-off command ended for the command line that waited.

    `how`: done, failed (error in words), timeout, cancelled (Ctrl-C before the daemon started
    it), left-running (Ctrl-C after), daemon-gone (the daemon died first; withdrawn unless
    `started`).
    """

    how: str
    result: dict[str, Any] | None = None
    error: str | None = None
    started: bool = False


class CtrlC:
    """SIGINT (Ctrl-C) as a flag that the hand-off wait reads between its steps.

    Python's own handler raises KeyboardInterrupt wherever the main thread happens to be: after
    the command is queued but before the wait's `try`, it escaped and left the command queued;
    and a process started with SIGINT ignored (what a non-interactive shell does to `cmd &`)
    never heard it, so the wait went on to its end. This handler is installed before the command
    exists, whatever the inherited disposition, and only notes the signal: the wait withdraws
    the command at its next step, within one `step`.
    """

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None
        self._installed = False

    def install(self) -> CtrlC:
        """Take SIGINT over (only the main thread may; elsewhere none can arrive); returns self."""
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._note)
            self._installed = True
        return self

    def restore(self) -> None:
        """Give SIGINT back to whoever had it (a handler set from C reads None: the default)."""
        if self._installed:
            self._installed = False
            signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None
                          else self._previous)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.pressed = True


def hand_off(store: CommandStore, holder: Holder, command: str, args: dict[str, Any], *,
             wait: float, step: float = 0.1) -> tuple[int, Callable[[], Outcome]]:
    """Queue `command` for the daemon `holder`; returns its id and a function that waits.

    From before the command is queued until the wait ends, a Ctrl-C withdraws it (or, once the
    daemon has started it, leaves it running): see `CtrlC`.
    """
    ctrl_c = CtrlC().install()
    try:
        command_id = store.request(command, args, os.getpid())
    except BaseException:
        ctrl_c.restore()
        raise

    def wait_for_it() -> Outcome:
        deadline = time.monotonic() + wait
        try:
            while True:
                row = store.get(command_id)
                if row is None:
                    return Outcome("daemon-gone", error="the command was withdrawn")
                if row["finished_at"] is not None:
                    if row["error"] is not None:
                        return Outcome("failed", error=row["error"], started=True)
                    return Outcome("done", result=row["result"], started=True)
                if ctrl_c.pressed:
                    if store.cancel(command_id):
                        return Outcome("cancelled")
                    return Outcome("left-running", started=True)
                if not _alive(holder.pid):
                    if store.cancel(command_id):
                        return Outcome("daemon-gone")
                    again = store.get(command_id)
                    if again is not None and again["finished_at"] is not None:
                        continue  # it finished just before the daemon went: report that
                    return Outcome("daemon-gone", started=True)
                if time.monotonic() >= deadline:
                    return Outcome("timeout", started=row["started_at"] is not None)
                time.sleep(step)  # a signal that only sets the flag lets it run to its end
        finally:
            ctrl_c.restore()

    return command_id, wait_for_it


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # unknown: rely on the bounded wait
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True
