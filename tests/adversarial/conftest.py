"""The whole daemon against both simulators, shared by the adversarial tests; the tally at the end.

One daemon (`woodoo.daemon.run` in a thread, as tests/test_realtime.py runs it) takes every
hostile request of the package, so that whatever one input leaves behind (a stored row, a dead
worker, a stuck queue) is seen by the checks that follow it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import free_port, wait_for

from adversarial.hostile import (
    MAX_LINE_QUANTITY,
    ODOO_SECRET,
    SHOP_SECRET,
    TALLY,
    TOKEN,
    Target,
    fresh_id,
    odoo_now,
    signed_headers,
)
from woodoo import daemon
from woodoo.config import Config
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

LIVENESS_SKU = "WDG-1004"  # no hostile order names it, so pending stock never moves it


@dataclass
class Live:
    """The running daemon, its simulators and its events table."""

    config: Config
    url: str
    port: int
    odoo: OdooSimulator
    shop: WooSimulator
    target: Target
    worker: threading.Thread
    quantity: int = 500

    def readiness(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/readyz", timeout=5).json()["checks"]

    def worker_problem(self) -> str | None:
        """None while the worker thread lives and /readyz says it beats; else what is wrong."""
        if not self.worker.is_alive():
            return "the worker thread is dead"
        checks = self.readiness()
        return None if checks.get("worker") == "ok" else f"/readyz worker: {checks.get('worker')}"

    def restarts(self) -> float:
        metrics = requests.get(f"{self.url}/metrics", timeout=5).text
        line = next(x for x in metrics.splitlines() if x.startswith("woodoo_worker_restarts_total"))
        return float(line.split()[-1])

    def prove_worker_alive(self, timeout: float = 10.0) -> None:
        """A valid signed event sent now is processed: its product reaches the shop."""
        self.quantity += 1
        self.odoo.set_on_hand(LIVENESS_SKU, "WH", self.quantity)
        body = json.dumps({"event_id": fresh_id("alive"), "odoo_time": odoo_now(),
                           "product_ids": [self.odoo.product_id(LIVENESS_SKU)]}).encode()
        answer = requests.post(f"{self.url}/webhooks/odoo", data=body, timeout=5,
                               headers=signed_headers(body))
        TALLY.worker_checks += 1
        problems = []
        if answer.status_code != 202:
            problems.append(f"a valid event got {answer.status_code}: {answer.text[:200]}")
        elif not wait_for(lambda: self.shop.stock(LIVENESS_SKU)[0] == self.quantity, timeout):
            problems.append(f"a valid event was not processed within {timeout} s")
        if (problem := self.worker_problem()) is not None:
            problems.append(problem)
        if self.restarts():
            problems.append(f"the worker died and was restarted {self.restarts():.0f} time(s)")
        TALLY.worker_failures.extend(problems)
        assert not problems, problems


def daemon_sections(port: int) -> dict[str, dict[str, Any]]:
    return {
        # The limits the slow-client tests lean on, as a deployment would set them.
        "server": {"port": port, "connection_limit": 1000, "channel_timeout": 30, "threads": 8},
        "sync": {"poll_interval": 3600, "retries": 1, "retry_base_seconds": 0.01},
        "logging": {"level": "error", "format": "json"},
        "orders": {"enabled": True, "max_line_quantity": MAX_LINE_QUANTITY},
        "webhooks": {"odoo_secrets": [ODOO_SECRET], "shop_secrets": [SHOP_SECRET],
                     "native_tokens": [TOKEN], "reread_after": [0.05],
                     # The rate limit has its own test: here it would hide what comes after it.
                     "native_rate_limit": 100000},
    }


@pytest.fixture(scope="package")
def live(tmp_path_factory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("adversarial")
    with OdooSimulator() as odoo, WooSimulator() as shop:
        odoo.load_catalog()
        shop.load_catalog()
        port = free_port()
        config = simulator_config.parsed(odoo, shop, tmp / "woodoo.sqlite", **daemon_sections(port))
        stop = threading.Event()
        before = set(threading.enumerate())
        thread = threading.Thread(target=daemon.run, args=(config,), kwargs={"stop": stop},
                                  name="adversarial-daemon", daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=20), (
                "the daemon's start-up poll did not finish")
            url = f"http://127.0.0.1:{port}"
            assert wait_for(lambda: _answers(f"{url}/healthz"), timeout=10)

            def started() -> list[threading.Thread]:
                return [t for t in set(threading.enumerate()) - before if t.name == "worker"]

            assert wait_for(started, timeout=10), "no worker thread"
            worker = started()[0]
            target = Target(url, Path(config.state.path))
            running = Live(config, url, port, odoo, shop, target, worker)
            target.worker_alive = running.worker_problem
            yield running
            target.close()
        finally:
            stop.set()
            thread.join(timeout=60)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Each check also fails its own test; this keeps the run red even if one was swallowed.
    if TALLY.violations() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.inputs:
        return
    terminalreporter.write_sep("-", "adversarial")
    terminalreporter.write_line(TALLY.summary())
    terminalreporter.write_line(TALLY.breakdown())
    for violation in TALLY.violations()[:20]:
        terminalreporter.write_line(f"  {violation}")
