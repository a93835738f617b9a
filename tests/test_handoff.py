"""One writer per state file, with real processes: a second `woodoo run` is refused, and sync,
reconcile and orders retry are handed to the running daemon instead of writing beside it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import daemon_thread, hold_state_lock, wait_for

from woodoo.cli import main
from woodoo.lock import StateLock

BATCH = "/wp-json/wc/v3/products/batch"
QUIET = {"poll_interval": 3600}  # only the start-up poll: what changes afterwards is the test's


def woodoo(*arguments: str, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "woodoo", *arguments], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


@contextmanager
def daemon_process(config_path: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`woodoo run` in its own process; SIGTERM (then SIGKILL) at the end if still running."""
    process = subprocess.Popen([sys.executable, "-m", "woodoo", "run", "-c", str(config_path)],
                               stdout=subprocess.DEVNULL, stderr=log_path.open("w"))
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def query(database: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, args).fetchall()


def journal_rows(database: Path) -> int:
    return query(database, "select count(*) from push_journal")[0][0]


def polled(database: Path) -> bool:
    """The daemon's start-up poll is over, every batch recorded."""
    try:
        return bool(query(database, "select count(*) from runs where kind = 'poll'")[0][0])
    except sqlite3.OperationalError:
        return False


def queued(database: Path) -> int:
    """Commands in the table (0 while the command line has not created the state yet)."""
    try:
        return query(database, "select count(*) from commands")[0][0]
    except sqlite3.OperationalError:
        return 0


def test_a_second_run_exits_at_once_naming_the_first(make_config_file, shop, tmp_path):
    config_path = make_config_file()
    with daemon_process(config_path, tmp_path / "daemon.log") as first:
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
        started = time.monotonic()
        second = woodoo("run", "-c", str(config_path))
        _, errors = second.communicate(timeout=30)
        assert second.returncode == 1
        assert time.monotonic() - started < 10
        assert f"`woodoo run` (pid {first.pid})" in errors
        assert "one process owns a state file" in errors
        assert first.poll() is None  # the first goes on


def test_sync_while_the_daemon_runs_is_handed_to_it_and_prints_its_summary(
        make_config_file, odoo, shop, tmp_path):
    config_path = make_config_file(sync=QUIET)
    database = tmp_path / "woodoo.sqlite"
    with daemon_process(config_path, tmp_path / "daemon.log") as running:
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
        odoo.set_on_hand("WDG-1002", "WH", 33)
        handed = woodoo("sync", "-c", str(config_path))
        output, errors = handed.communicate(timeout=60)
        assert handed.returncode == 0, errors
        assert f"the daemon `woodoo run` (pid {running.pid}) owns the state" in errors
        assert output.splitlines()[0] == "  WDG-1002: 80 instock -> 33 instock"
        assert "10 checked, 1 changed, 1 pushed, 0 failed, 0 skipped" in output
        assert shop.stock("WDG-1002")[0] == 33
        # The daemon ran it (its own run and audit rows) for the process that asked.
        [(requested_by, error)] = query(database, "select requested_by, error from commands")
        assert (requested_by, error) == (handed.pid, None)
        assert query(database, "select source from audit where sku = 'WDG-1002' "
                               "order by id desc limit 1") == [("sync",)]


def test_the_race_from_the_finding_each_sku_is_written_once(
        make_config_file, odoo, shop, shop_ids, tmp_path):
    """The daemon is waiting for the shop's answer to a batch when `woodoo sync` starts. It used
    to run beside the daemon, take the daemon's journal rows for crash leftovers and send them
    again. Now it is handed to the daemon and runs after the poll: nothing is written twice."""
    config_path = make_config_file()
    database = tmp_path / "woodoo.sqlite"
    changed = {"WDG-1002": 41, "WDG-1003": 42, "WDG-1004": 43}
    with daemon_process(config_path, tmp_path / "daemon.log"):
        assert wait_for(lambda: polled(database), timeout=30)
        writes_before = len(shop.stock_writes)
        audit_before = query(database, "select max(id) from audit")[0][0]
        shop.server.faults.delay_next(1, seconds=3, path_prefix=BATCH)
        with odoo.transaction():
            for sku, quantity in changed.items():
                odoo.set_on_hand(sku, "WH", quantity)
        assert wait_for(lambda: shop.server.faults.delays_begun == 1, timeout=30)
        assert journal_rows(database) == len(changed)  # in flight
        result = CliRunner().invoke(main, ["sync", "-c", str(config_path)])
        assert result.exit_code == 0, result.output
        assert "10 checked, 0 changed, 0 pushed, 0 failed" in result.output
    writes = Counter(product for product, _ in shop.stock_writes[writes_before:])
    assert writes == {shop_ids[sku]: 1 for sku in changed}
    audit = query(database, "select sku, new_quantity, source from audit where id > ?",
                  audit_before)
    assert sorted(audit) == sorted((sku, quantity, "poll") for sku, quantity in changed.items())
    assert journal_rows(database) == 0


def test_a_kill_9_daemon_s_leftovers_are_recovered_by_the_next_holder_of_the_lock(
        make_config_file, odoo, shop, shop_ids, tmp_path):
    config_path = make_config_file()
    database = tmp_path / "woodoo.sqlite"
    changed = {"WDG-1002": 51, "WDG-1003": 52}
    with daemon_process(config_path, tmp_path / "daemon.log") as running:
        assert wait_for(lambda: polled(database), timeout=30)
        writes_before = len(shop.stock_writes)
        shop.server.faults.delay_next(1, seconds=2, path_prefix=BATCH)
        with odoo.transaction():
            for sku, quantity in changed.items():
                odoo.set_on_hand(sku, "WH", quantity)
        assert wait_for(lambda: shop.server.faults.delays_begun == 1, timeout=30)
        os.kill(running.pid, signal.SIGKILL)
        running.wait(timeout=10)
    assert wait_for(lambda: all(shop.stock(s)[0] == q for s, q in changed.items()), timeout=10)
    assert journal_rows(database) == len(changed)  # the dead daemon never learnt the outcome
    # The kernel released the dead daemon's lock: `woodoo sync` takes it and settles the rows.
    result = CliRunner().invoke(main, ["sync", "-c", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "handed" not in result.output
    assert journal_rows(database) == 0
    writes = Counter(product for product, _ in shop.stock_writes[writes_before:])
    assert writes == {shop_ids[sku]: 1 for sku in changed}  # applied, so never re-sent
    sources = query(database, "select distinct source from audit where sku in (?, ?)", *changed)
    assert ("poll+recovered",) in sources


def test_full_and_sku_reach_the_daemon_and_its_failures_come_back_in_words(
        make_config, make_config_file, shop, shop_ids, tmp_path):
    config_path = str(make_config_file(sync=QUIET))
    runner = CliRunner()
    with daemon_thread(make_config(sync=QUIET)):
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
        shop.set_stock(shop_ids["WDG-1003"], 1)
        shop.set_stock(shop_ids["WDG-1004"], 2)
        only = runner.invoke(main, ["sync", "--full", "--sku", "WDG-1003", "-c", config_path])
        assert only.exit_code == 0, only.output
        assert "  WDG-1003: 1 instock -> 45 instock" in only.output
        assert "1 checked, 1 changed, 1 pushed" in only.output
        assert (shop.stock("WDG-1003")[0], shop.stock("WDG-1004")[0]) == (45, 2)

        shop.server.faults.fail_next(20, status=500, path_prefix="/wp-json/wc/v3/products")
        failed = runner.invoke(main, ["sync", "--full", "-c", config_path])
        shop.server.faults.clear()
        assert failed.exit_code == 1
        assert "error: " in failed.output and "500" in failed.output
        assert "Traceback" not in failed.output


def test_reconcile_and_orders_retry_are_handed_over_too(make_config, make_config_file, shop,
                                                       shop_ids, tmp_path):
    config_path = str(make_config_file(sync=QUIET))
    runner = CliRunner()
    with daemon_thread(make_config(sync=QUIET)):
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
        shop.set_stock(shop_ids["WDG-1002"], 3)
        result = runner.invoke(main, ["reconcile", "--no-email", "-c", config_path])
        assert result.exit_code == 0, result.output
        assert "handed `woodoo reconcile`" in result.output
        assert "1 drifted, 1 corrected" in result.output
        assert "  WDG-1002: shop 3 -> 80 (Odoo 80, pending 0)" in result.output
        assert "email: not sent (--no-email)" in result.output
        retried = runner.invoke(main, ["orders", "retry", "-c", config_path])
        assert retried.exit_code == 0, retried.output
        assert "0 orders queued for the next sync with Odoo" in retried.output
    commands = query(tmp_path / "woodoo.sqlite",
                     "select command, error from commands where finished_at is not null")
    assert commands == [("reconcile", None), ("orders-retry", None)]


def test_a_daemon_that_does_not_answer_in_time_keeps_the_command(make_config_file, tmp_path):
    config_path = str(make_config_file())
    database = tmp_path / "woodoo.sqlite"
    with StateLock(database).acquire("run"):  # a daemon that is busy (here: never looks)
        result = CliRunner().invoke(main, ["sync", "--full", "--wait", "0.5", "-c", config_path])
    assert result.exit_code == 1
    assert "has not finished it after 0.5 s; it keeps it queued and will still finish it" in (
        result.output)
    assert query(database, "select command, args, started_at from commands") == [
        ("sync", '{"full": true, "dry_run": false, "skus": []}', None)]


def test_ctrl_c_withdraws_a_command_the_daemon_has_not_started(make_config_file, tmp_path):
    config_path = str(make_config_file())
    database = tmp_path / "woodoo.sqlite"
    with StateLock(database).acquire("run"):
        waiting = woodoo("sync", "-c", config_path)
        assert wait_for(lambda: queued(database) == 1, timeout=30)
        waiting.send_signal(signal.SIGINT)
        _, errors = waiting.communicate(timeout=30)
    assert waiting.returncode == 130
    assert "cancelled: the daemon had not started it" in errors
    assert query(database, "select count(*) from commands") == [(0,)]


def test_ctrl_c_withdraws_the_command_even_when_sigint_was_ignored_at_start(make_config_file,
                                                                          tmp_path):
    """A command line started by a non-interactive shell's `cmd &` inherits SIGINT ignored (as
    the one in the finding, under a full `./dev test`): it used to hear no Ctrl-C and wait on."""
    config_path = str(make_config_file())
    database = tmp_path / "woodoo.sqlite"
    with StateLock(database).acquire("run"):
        waiting = woodoo("sync", "--wait", "120", "-c", config_path,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        assert wait_for(lambda: queued(database) == 1, timeout=30)
        waiting.send_signal(signal.SIGINT)
        try:
            _, errors = waiting.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            waiting.kill()
            _, errors = waiting.communicate()
    assert waiting.returncode == 130, errors
    assert "cancelled: the daemon had not started it" in errors
    assert query(database, "select count(*) from commands") == [(0,)]


TRACED = tuple(str(Path(__file__).parents[1] / "woodoo" / name) for name in (
    "cli.py", "commands.py", "state/commands.py", "state/database.py"))


def _sync_interrupted_at(config_path: str, line: int | None) -> tuple[Any, int]:
    """`woodoo sync` handed to a daemon (this process holds the lock), with SIGINT sent to this
    process when the hand-off code reaches its `line`-th line; its result and the lines run."""
    seen = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal seen
        if event == "line":
            seen += 1
            if seen == line:
                os.kill(os.getpid(), signal.SIGINT)
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename in TRACED else None

    sys.settrace(calls)
    try:
        # --wait 0 without a signal: one look, then "keeps it queued"; with one: far beyond.
        result = CliRunner().invoke(main, ["sync", "--wait", "0" if line is None else "60",
                                           "-c", config_path])
    finally:
        sys.settrace(None)
    return result, seen


def test_ctrl_c_at_any_point_of_the_hand_off_withdraws_the_command(make_config_file, tmp_path):
    """SIGINT at each line the hand-off runs, from the config's loading to the wait's loop: the
    command line always ends, and never leaves the command queued (it used to when the signal
    fell between the queueing and the wait, and wait on when it was lost)."""
    config_path = str(make_config_file())
    database = tmp_path / "woodoo.sqlite"
    endings: Counter[str] = Counter()
    # Python's own Ctrl-C until the command line takes it over, whatever ran in this process before.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    with StateLock(database).acquire("run"):
        _, lines = _sync_interrupted_at(config_path, None)
        query(database, "delete from commands")
        assert lines > 50
        for line in range(1, lines + 1):
            try:
                result, _ = _sync_interrupted_at(config_path, line)
            except KeyboardInterrupt:  # escaped even click: fail this test, not the session
                pytest.fail(f"SIGINT at line {line} escaped as KeyboardInterrupt")
            left = query(database, "select count(*) from commands")[0][0]
            query(database, "delete from commands")
            assert left == 0, f"SIGINT at line {line} left the command queued: {result.output}"
            assert "has not finished it" not in result.output, f"SIGINT at line {line} was lost"
            if result.exit_code == 130:
                assert "cancelled: the daemon had not started it" in result.output
                endings["withdrawn"] += 1
            else:  # before anything was queued: Python's own Ctrl-C, as click reports it
                assert (result.exit_code, "Aborted!" in result.output) == (1, True), (
                    line, result.output)
                endings["before queueing"] += 1
    signal.signal(signal.SIGINT, previous)
    assert endings["withdrawn"] > 20


def test_a_command_waiting_for_a_daemon_that_dies_is_withdrawn(make_config_file, tmp_path):
    config_path = str(make_config_file())
    database = tmp_path / "woodoo.sqlite"
    holder = hold_state_lock(database)
    try:
        waiting = woodoo("sync", "-c", config_path)
        assert wait_for(lambda: queued(database) == 1, timeout=30)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    _, errors = waiting.communicate(timeout=30)
    assert waiting.returncode == 1
    assert "the daemon stopped before running it; nothing was done" in errors
    assert query(database, "select count(*) from commands") == [(0,)]


def test_a_holder_that_is_not_a_daemon_is_named(make_config_file, tmp_path):
    with StateLock(tmp_path / "woodoo.sqlite").acquire("reconcile"):
        result = CliRunner().invoke(main, ["sync", "-c", str(make_config_file())])
    assert result.exit_code == 1
    assert f"in use by `woodoo reconcile` (pid {os.getpid()}); try again when it has finished" in (
        result.output)


def test_failed_events_show_in_status_and_events_retry_puts_them_back(make_config,
                                                                      make_config_file, shop,
                                                                      tmp_path):
    config_path = str(make_config_file(sync=QUIET))
    database = tmp_path / "woodoo.sqlite"
    runner = CliRunner()
    assert runner.invoke(main, ["status", "-c", config_path]).exit_code == 0  # creates the state
    with sqlite3.connect(database) as db:
        db.execute("insert into events (source, event_id, payload, received_at, event_time, "
                   "due_at, reads, attempts, last_error, failed_at) values ('odoo', 'bad-1', "
                   "'{}', 1, 1, 1, 0, 5, 'ValueError: broken', 2)")
    status = runner.invoke(main, ["status", "-c", config_path])
    assert "events failed: 1" in status.output
    assert "set aside after 5 tries: ValueError: broken" in status.output
    assert "`woodoo events retry 1`" in status.output
    retried = runner.invoke(main, ["events", "retry", "-c", config_path])  # no daemon: here
    assert (retried.exit_code, retried.output.strip()) == (0, "1 events back in the queue")
    assert query(database, "select attempts, failed_at from events") == [(0, None)]
    with sqlite3.connect(database) as db:
        db.execute("update events set attempts = 5, failed_at = 2")
    with daemon_thread(make_config(sync=QUIET)):
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)  # it runs
        handed = runner.invoke(main, ["events", "retry", "1", "-c", config_path])
        assert handed.exit_code == 0, handed.output
        assert "handed `woodoo events retry`" in handed.output
        assert "1 events back in the queue" in handed.output
