"""Shared helpers of the benchmarks: simulators, engines, measurement, and the docs table."""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from woodoo import config as config_module
from woodoo import log
from woodoo.simulators import config as simulator_config
from woodoo.simulators.clock import OffsetClock
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class Measure:
    """Wall time and peak Python memory of one measured block."""

    seconds: float = 0.0
    peak_mib: float = 0.0


@contextmanager
def measured(*, memory: bool = True) -> Iterator[Measure]:
    """Measure wall time and (unless `memory` is off) peak traced memory of the block.

    Tracing slows every Python line in the process, the in-process simulators' too: a figure
    held against a time target is measured with `memory=False`.
    """
    result = Measure()
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        if memory:
            result.peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()


def bench_config(odoo: OdooSimulator, shop: WooSimulator, state_dir: Path,
                 **sync: Any) -> config_module.Config:
    """A config pointing at the simulators, quiet logs."""
    log.configure("error", "json")
    return simulator_config.parsed(
        odoo, shop, state_dir / "bench.sqlite", sync={"retry_base_seconds": 0.05, **sync},
        odoo={"timeout": 120}, woocommerce={"timeout": 120},
    )


@contextmanager
def simulators(size: int, clock: OffsetClock, *,
               shop_latency: float = 0.0) -> Iterator[tuple[OdooSimulator, WooSimulator]]:
    """Both simulators running, each holding `size` equal simple products in warehouse WH."""
    odoo = OdooSimulator(clock=clock.utc).start()
    shop = WooSimulator().start()
    try:
        odoo.add_warehouse("WH", "Main Warehouse")
        odoo.bulk_add(size, quantity=lambda i: i % 50)
        shop.bulk_add_simple(size, quantity=lambda i: i % 50)
        shop.server.faults.latency = shop_latency
        yield odoo, shop
    finally:
        odoo.stop()
        shop.stop()


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between `<!-- name:start -->` and `<!-- name:end -->`."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
    DOCS.write_text(text)


def timed(fn: Callable[[], Any], *, memory: bool = True) -> tuple[Any, Measure]:
    """Run fn under `measured` and return its result and the measure."""
    with measured(memory=memory) as measure:
        result = fn()
    return result, measure


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`, linearly interpolated; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def machine_info() -> str:
    """One line naming this machine: CPU model, cores, OS, Python and SQLite versions."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


QUEUE_WARNING = "waitress: task queue depth"  # waitress warns when every request thread is busy


@dataclass
class Daemon:
    """`python -m woodoo run` with a config file, its port read from the "started" log event."""

    document: dict[str, Any]
    workdir: Path
    port: int = 0
    process: subprocess.Popen[str] | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    events: Counter[str] = field(default_factory=Counter)  # log lines by "level: event"
    problems: Counter[str] = field(default_factory=Counter)  # errors and warnings, with the error
    _started: threading.Event = field(default_factory=threading.Event)

    @property
    def state_path(self) -> Path:
        return Path(self.document["state"]["path"])

    def start(self, timeout: float = 60) -> Daemon:
        path = self.workdir / "woodoo.yaml"
        path.write_text(yaml.safe_dump(self.document))
        since = time.time()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "woodoo", "run", "--config", str(path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._started.wait(timeout):
            self.stop()
            raise RuntimeError("daemon did not start:\n" + "\n".join(self.lines))
        self._wait_first_poll(since, timeout)
        return self

    def _read_log(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip())
            try:
                entry = json.loads(line)
                key = f"{entry.get('level')}: {entry.get('event')}"
                self.events[key] += 1
                if str(entry.get("event", "")).startswith("Task queue depth"):
                    self.events[QUEUE_WARNING] += 1
                elif entry.get("level") in ("error", "warning"):
                    detail = f" ({entry['error']})" if entry.get("error") else ""
                    self.problems[f"{key}{detail}"] += 1
            except ValueError:
                pass
            if not self._started.is_set() and '"started"' in line:
                try:
                    listen = json.loads(line)["listen"]
                except (ValueError, KeyError):
                    continue
                self.port = int(listen.rsplit(":", 1)[1])
                self._started.set()

    def _wait_first_poll(self, since: float, timeout: float) -> None:
        """The daemon polls once at start: wait for that poll so that it does not overlap a run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with read_state(self.state_path) as db:
                started = db.execute("select max(started_at) from runs where kind = 'poll'").fetchone()[0]
            if started is not None and started >= since - 1:
                return
            time.sleep(0.1)
        raise RuntimeError("the daemon's first poll did not finish:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class read_state:
    """A short-lived connection to the daemon's SQLite state, for SELECTs only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        self.db = sqlite3.connect(self.path, timeout=30)
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()
