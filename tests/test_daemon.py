"""The daemon process: scheduled polls, clean stop, and kill -9 in the middle of a push."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

from helpers import wait_for

from woodoo.daemon import build_scheduler, open_engine


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
