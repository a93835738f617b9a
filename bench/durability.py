"""What "a 202 means on disk" costs: webhook ack latency with synchronous=FULL against NORMAL.

Run: .venv/bin/python -m bench.durability [--rate 200] [--duration 10]
Writes the `durability` section of docs/benchmarks.md.

Each mode serves the daemon's real webhook app (Flask on waitress, limited as `woodoo run` limits
it, the SQLite queue in WAL) in a process of its own, with no worker: only the acknowledging
write is measured. The same open-loop load (bench.webhooks.generate_load) is sent to each, one
after the other, in the same run. FULL is what Woodoo uses; NORMAL, the SQLite default under WAL
that can lose acknowledged events on power loss, is the baseline.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

import yaml

from bench.common import machine_info, markdown_table, percentile, write_section
from bench.webhooks import SECRET, TARGET_P99_MS, TARGET_RATE, generate_load
from woodoo import config as config_module
from woodoo import log
from woodoo.daemon import serve
from woodoo.state import State
from woodoo.web.metrics import Metrics
from woodoo.web.webhooks import create_app

MODES: tuple[Literal["FULL", "NORMAL"], ...] = ("FULL", "NORMAL")


def serve_forever(mode: Literal["FULL", "NORMAL"], port: int, state_path: Path) -> None:
    """The webhook app on `port` with the queue at `state_path` in `mode`, until SIGTERM."""
    log.configure("error", "json")
    text = yaml.safe_dump({
        "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
                 "warehouses": ["WH"]},
        "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck", "consumer_secret": "cs"},
        "webhooks": {"odoo_secrets": [SECRET]}, "server": {"port": port},
        "state": {"path": str(state_path)},
    })
    config = config_module.parse(text)
    state = State(state_path, synchronous=mode)
    server = serve(create_app(config, state, Metrics()), config).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    state.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def measure(mode: str, rate: float, duration: float, connections: int,
            workdir: Path) -> list[object]:
    """One table row: the load's ack latency against a server in `mode`."""
    port = _free_port()
    state_path = workdir / f"{mode.lower()}.sqlite"
    server = subprocess.Popen([sys.executable, "-m", "bench.durability", "--serve", mode,
                               "--port", str(port), "--state", str(state_path)])
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the {mode} server did not start")
            time.sleep(0.05)
        load = generate_load(port, rate, duration, connections,
                             [(n, f"SKU-{n}") for n in range(1, 1001)], mode)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    with sqlite3.connect(state_path) as db:
        stored = db.execute("select count(*) from events").fetchone()[0]
    latency_ms = [value * 1000 for value in load["latency"]]
    accepted = load["statuses"].get(202, 0)
    return [mode, rate, load["total"], accepted, stored, round(percentile(latency_ms, 50), 1),
            round(percentile(latency_ms, 99), 1), round(max(latency_ms), 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests per second")
    parser.add_argument("--duration", type=float, default=10, help="seconds per mode")
    parser.add_argument("--connections", type=int, default=16, help="client keep-alive connections")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.serve, args.port, args.state)
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(mode, args.rate, args.duration, args.connections, Path(tmp))
                for mode in MODES]
    full, normal = rows
    ratio = full[6] / normal[6] if normal[6] else float("nan")
    verdict = "met" if full[6] <= TARGET_P99_MS else "missed"
    body = "\n".join([
        "## Durable acknowledgements (`bench/durability.py`)",
        "",
        "A `202` is sent only once the event is on disk: the queue's connection commits with "
        "`PRAGMA synchronous=FULL` (an fsync of the WAL per commit). The baseline is `NORMAL`, "
        "SQLite's usual setting under WAL, which can lose acknowledged events on power loss. "
        "Each mode serves the real webhook app in its own process (no worker: only the "
        "acknowledging write), measured with the same open-loop load, one after the other in "
        f"one run. {machine_info()}",
        "",
        markdown_table(["synchronous", "req/s", "requests", "202", "stored", "p50 ms", "p99 ms",
                        "max ms"], rows),
        "",
        f"FULL's p99 is {ratio:.2f}x NORMAL's; the target (p99 ≤ {TARGET_P99_MS:.0f} ms at "
        f"{TARGET_RATE} req/s) is {verdict}. Figures depend on the disk's fsync latency: on a "
        "disk with a slow or no write cache, measure yours with this script.",
    ])
    print(body)
    write_section("durability", body)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
