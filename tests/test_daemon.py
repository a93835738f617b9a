"""The daemon process: scheduled polls, clean stop, and kill -9 in the middle of a push."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from helpers import daemon_thread, free_port, wait_for
from test_alerts import ChatReceiver

from woodoo import daemon
from woodoo.cli import main
from woodoo.config import Config
from woodoo.daemon import alerts_for, build_scheduler, open_engine
from woodoo.errors import WoodooError
from woodoo.state.runs import FAILING_RUNS
from woodoo.worker import EventWorker

RPC = "/jsonrpc"  # Odoo's model calls (polls read through it); the readiness probe does not
# Polls every second that fail at once: the breaker stays closed, so only the runs say it.
FAILING = {"sync": {"retries": 0, "poll_interval": 1}, "circuit_breaker": {"failures": 100}}


def start_daemon(config_path, log_path):
    return subprocess.Popen(
        [sys.executable, "-m", "woodoo", "run", "-c", str(config_path)],
        stdout=subprocess.DEVNULL, stderr=log_path.open("w"),
    )


def finished_polls(database) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as db:
        try:
            return db.execute("select count(*) from runs where kind = 'poll'").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0


def journal_rows(database) -> int:
    try:
        with sqlite3.connect(database) as db:
            return db.execute("select count(*) from push_journal").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_scheduler_never_overlaps_and_coalesces(make_config):
    with open_engine(make_config(), connect=False) as engine:
        scheduler = build_scheduler(engine)
        scheduler.start(paused=True)
        try:
            job = scheduler.get_job("poll")
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 1)
            assert job.trigger.interval.total_seconds() == 1
        finally:
            scheduler.shutdown(wait=False)


def test_run_polls_logs_a_summary_and_stops_cleanly_on_sigterm(
        tmp_path, odoo, shop, make_config_file):
    config_path = make_config_file(logging={"level": "info"})
    log_path = tmp_path / "daemon.log"
    process = start_daemon(config_path, log_path)
    try:
        assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
        odoo.set_on_hand("WDG-1002", "WH", 7)
        assert wait_for(lambda: shop.stock("WDG-1002")[0] == 7, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    events = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    runs = [e for e in events if e["event"] == "run finished"]
    assert runs and {"checked", "changed", "pushed", "failed", "duration_ms", "run_id"} <= set(runs[0])
    assert events[-1]["event"] == "stopped"


def test_kill_9_during_a_push_then_restart_ends_right_and_pushes_nothing_twice(
        tmp_path, odoo, shop, make_config_file):
    config_path = make_config_file()
    database = tmp_path / "woodoo.sqlite"
    log_path = tmp_path / "daemon.log"
    process = start_daemon(config_path, log_path)
    # The start-up poll has finished (all its batches, not only the one with WDG-1001).
    assert wait_for(lambda: finished_polls(database) >= 1, timeout=30)
    changed = {"WDG-1002": 41, "WDG-1003": 42, "WDG-1004": 43}
    writes_before = len(shop.stock_writes)
    # The next batch arrives, is held 2 s, then applied: the daemon dies while waiting for it.
    shop.server.faults.delay_next(1, seconds=2, path_prefix="/wp-json/wc/v3/products/batch")
    with odoo.transaction():  # one commit, so one poll sees all three
        for sku, quantity in changed.items():
            odoo.set_on_hand(sku, "WH", quantity)
    assert wait_for(lambda: journal_rows(database) == len(changed), timeout=30)
    # The batch is in the shop's hands when the daemon dies.
    assert wait_for(lambda: shop.server.faults.delays_begun == 1, timeout=30)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert wait_for(lambda: all(shop.stock(s)[0] == q for s, q in changed.items()), timeout=10)
    assert journal_rows(database) == len(changed)  # the daemon never learnt the outcome

    process = start_daemon(config_path, log_path)
    try:
        assert wait_for(lambda: journal_rows(database) == 0, timeout=30)
        time.sleep(1.5)  # let a poll or two run after recovery
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    new_writes = Counter(product_id for product_id, _ in shop.stock_writes[writes_before:])
    assert all(count == 1 for count in new_writes.values()), new_writes
    assert len(new_writes) == len(changed)
    assert all(shop.stock(s)[0] == q for s, q in changed.items())
    with sqlite3.connect(database) as db:
        sources = {row[0] for row in db.execute(
            "select source from audit where sku in ('WDG-1002', 'WDG-1003', 'WDG-1004')")}
    assert "poll+recovered" in sources


def running(config: Config) -> AbstractContextManager[str]:
    """`woodoo run` in a thread of this process; its base URL once /readyz says ready."""
    return daemon_thread(config, lambda url: readyz(url)[0] == 200)


def readyz(url: str) -> tuple[int, dict[str, Any]]:
    try:
        answer = requests.get(f"{url}/readyz", timeout=10)
    except requests.ConnectionError:
        return 0, {}
    return answer.status_code, answer.json()


def test_runs_failing_in_a_row_make_the_daemon_not_ready_and_woodoo_status_says_so(
        make_config, make_config_file, odoo):
    port = free_port()
    config = make_config(**FAILING, server={"port": port})
    config_path = str(make_config_file(**FAILING, server={"port": port}))
    with running(config) as url:
        odoo.server.faults.fail_next(100_000, status=500, path_prefix=RPC)
        assert wait_for(lambda: readyz(url)[0] == 503 and readyz(url)[1]["checks"]["runs"] != "ok",
                        timeout=30)
        body = readyz(url)[1]
        runs = body["checks"]["runs"]
        assert runs.startswith("failing: the last ") and f"(not ready from {FAILING_RUNS})" in runs
        assert "500" in runs and len(runs) <= daemon.MAX_CHECK_CHARS
        assert body["checks"]["odoo"] == "ok"  # Odoo answers its version: only the runs fail
        assert body["checks"]["breaker_odoo"] == "ok"
        assert isinstance(body["age_seconds"], float)
        shown = CliRunner().invoke(main, ["status", "-c", config_path])
        assert shown.exit_code == 0, shown.output
        assert "runs: failing, the last " in shown.output and "failed in a row" in shown.output
        odoo.server.faults.clear()
        assert wait_for(lambda: readyz(url)[1].get("checks", {}).get("runs") == "ok", timeout=30)
        assert readyz(url)[0] == 200
    shown = CliRunner().invoke(main, ["status", "-c", config_path])
    assert "runs: failing" not in shown.output


@pytest.fixture
def chat() -> Iterator[ChatReceiver]:
    receiver = ChatReceiver()
    yield receiver
    receiver.server.stop(grace=0)


def test_runs_failing_in_a_row_alert_once_and_clear_when_one_succeeds(make_config, odoo, chat):
    config = make_config(**FAILING, alerts={"slack_webhook_url": chat.url})
    with open_engine(config) as engine:
        alerts = alerts_for(engine, EventWorker(engine, engine.state.events, config.webhooks))
        engine.poll()
        odoo.server.faults.fail_next(100_000, status=500, path_prefix=RPC)
        for _ in range(FAILING_RUNS - 1):
            with pytest.raises(WoodooError):
                engine.poll()
        alerts.check()
        assert not [t for t in chat.texts if "keep failing" in t]  # two in a row: not yet
        with pytest.raises(WoodooError):
            engine.poll()
        alerts.check()
        alerts.check()
        [alert] = [t for t in chat.texts if "keep failing" in t]
        assert alert.startswith("ALERT") and f"the last {FAILING_RUNS} runs failed in a row" in (
            alert)
        odoo.server.faults.clear()
        engine.poll()
        alerts.check()
        cleared = [t for t in chat.texts if "keep failing" in t][1:]
        assert len(cleared) == 1 and cleared[0].startswith("Cleared")


def test_a_daemon_run_inside_a_process_gives_its_signals_back(make_config):
    """Run in the main thread (the demo, tests), it used to leave its stop handler on SIGINT: a
    later Ctrl-C there only set a stale event, and a waiting `woodoo sync` never heard it."""
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    daemon.run(make_config(), run_for=0.5)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_readiness_probes_stop_calling_a_side_whose_breaker_is_open(make_config, odoo):
    """Seen on a real Odoo stopped for 150 s: probes that went round the breakers called it 30
    times. Behind the breaker, the probes that open it are the last calls until its cool-down."""
    config = make_config(circuit_breaker={"failures": 3, "cooldown": 60})
    with open_engine(config) as engine:
        readiness = daemon.Readiness(engine, build_scheduler(engine),
                                     EventWorker(engine, engine.state.events, config.webhooks))
        readiness.refresh()
        assert readiness()[1]["odoo"] == "ok"
        odoo.server.faults.fail_next(100_000, status=503)
        odoo.server.reset_log()
        for _ in range(20):
            readiness.refresh()
        assert len(odoo.server.requests) == 3  # then the breaker answers for Odoo
        ready, checks, _ = readiness()
        assert not ready and checks["odoo"].startswith("unreachable")
        assert checks["breaker_odoo"] != "ok"


def test_a_side_heard_from_is_probed_at_once_not_at_the_next_interval(make_config):
    config = make_config()
    with open_engine(config) as engine:
        readiness = daemon.Readiness(engine, build_scheduler(engine),
                                     EventWorker(engine, engine.state.events, config.webhooks),
                                     interval=600)
        stop = threading.Event()
        thread = threading.Thread(target=readiness.run, args=(stop,), daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: readiness()[2] is not None, timeout=20)
            first = readiness._last
            readiness.refresh_soon()
            assert wait_for(lambda: readiness._last is not first, timeout=10)
        finally:
            stop.set()
            thread.join(timeout=5)
        assert not thread.is_alive()  # a stop is heard within the interval too
