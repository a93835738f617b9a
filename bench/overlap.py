"""A poll inside the overlap window after a burst of Odoo writes, beside how 0.2 read it.

Run: .venv/bin/python -m bench.overlap [--size 20000]. Writes the `overlap` section of
docs/benchmarks.md. After an inventory import touching every product, each poll of the next
`sync.delta_overlap` seconds reads the window again. The baseline is 0.2's read of that window:
quants and moves with a display name per row, then one product query OR-ing every id with the
window's product writes, paged, so that each page sends all the ids again.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import bench_config, machine_info, markdown_table, simulators, timed, write_section
from woodoo.daemon import open_engine
from woodoo.engine import Engine
from woodoo.simulators.clock import OffsetClock
from woodoo.simulators.odoo import OdooSimulator

RUNS = 5  # timed runs of each read; the median is reported


def old_overlap_read(engine: Engine, since: str) -> int:
    """0.2's poll read of the window; how many product figures it read."""
    odoo = engine.odoo
    roots = [w.view_location_id for w in odoo.warehouses]
    rows: list[dict[str, Any]] = []
    for model, domain in (
        ("stock.quant", [("write_date", ">=", since), ("location_id", "child_of", roots)]),
        ("stock.move", [("write_date", ">=", since), "|", ("location_id", "child_of", roots),
                        ("location_dest_id", "child_of", roots)]),
    ):
        rows += odoo._read_pages(model, domain, ["product_id", "write_date"], None,
                                 order="write_date asc, id asc")
    ids = sorted({r["product_id"][0] for r in rows if r["product_id"]})
    sku = engine.config.odoo.sku_field
    domain = [(sku, "!=", False), *odoo.storable_domain(),
              "|", ("id", "in", ids), ("write_date", ">=", since)]
    return len(odoo._read_pages("product.product", domain, [sku, engine.config.odoo.stock_field],
                                odoo.stock_context()))


def measure(odoo: OdooSimulator, action: Callable[[], object]) -> list[object]:
    """Odoo calls, wall time, the simulator's share of it, and peak traced memory of `action`.

    Each action measured here is repeatable (the same rows each time), so its time is the median
    of RUNS runs of their own, and its memory is taken in one more: tracing memory slows every
    Python line, the simulator's too.
    """
    walls, in_odoo = [], []
    for _ in range(RUNS):
        odoo.store.changed()  # the simulator caches searches until a change; Odoo searches anew
        odoo.reset_calls()
        odoo.server.reset_log()
        started = time.perf_counter()
        action()
        walls.append(time.perf_counter() - started)
        in_odoo.append(odoo.server.busy_seconds())
    calls = odoo.call_count(method="execute_kw")
    odoo.store.changed()
    _, traced = timed(action)
    wall, odoo_seconds = statistics.median(walls), statistics.median(in_odoo)
    return [calls, f"{wall:.2f}", f"{odoo_seconds:.2f}", f"{wall - odoo_seconds:.2f}",
            f"{traced.peak_mib:.1f}"]


def run(size: int) -> list[list[object]]:
    clock = OffsetClock()
    with simulators(size, clock) as (odoo, shop), tempfile.TemporaryDirectory() as tmp:
        config = bench_config(odoo, shop, Path(tmp), delta_overlap=600)
        with open_engine(config, clock=clock.time) as engine:
            engine.poll()
            clock.advance(601)
            engine.poll()  # the catalog's window is sealed
            for n in range(size):  # the import: every product's quant written
                odoo.set_on_hand(f"SKU-{n:06d}", "WH", n % 40)
            engine.poll()  # reads the burst once (not measured: both ways must)
            since = engine._delta_start(engine.state.runs.get_meta("odoo_watermark") or "")
            rows = []
            for label, action in (
                ("woodoo: poll inside the window", engine.poll),
                ("0.2: the same window read again", lambda: old_overlap_read(engine, since)),
            ):
                rows.append([size, label, *measure(odoo, action)])
            clock.advance(601)
            engine.poll()  # seals the burst
            rows.append([size, "woodoo: quiet poll (window sealed)", *measure(odoo, engine.poll)])
            new, old = rows[0], rows[1]
            new.append("baseline of the ratio")
            old.append(f"{float(old[3]) / max(float(new[3]), 1e-3):.1f}x slower")
            rows[2].append("")
            return rows


def verdict(rows: list[list[object]]) -> str:
    """The figures against the targets, each part said apart (a real Odoo is not measured here)."""
    (window, window_own), (quiet, quiet_own) = ((float(r[3]), float(r[5])) for r in (rows[0], rows[2]))

    def met(seconds: float, target: float) -> str:
        return "met" if seconds <= target else "not met"

    return (f"on the simulator the poll in the window takes {window:.2f} s ({met(window, 1.0)}) "
            f"and the quiet poll {quiet:.2f} s ({met(quiet, 0.1)}), of which Woodoo and the wire "
            f"take {window_own:.2f} s and {quiet_own:.2f} s; the rest is the simulator's scans of "
            "every quant and move in Python. The quiet poll makes the same 3 calls that took "
            "0.07 s in all on a real Odoo 18 (the issue's figure)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20000)
    args = parser.parse_args()
    print(f"measuring {args.size} SKUs...", file=sys.stderr)
    rows = run(args.size)
    body = "\n".join([
        "## A poll inside the overlap window after a burst (`bench/overlap.py`)",
        "",
        f"{args.size:,} products, every one's quant written by one import; the next poll inside "
        "`sync.delta_overlap` reads the window again. Both reads in the same run, against the "
        f"same Odoo simulator (it computes free_qty per product as Odoo does). {machine_info()}",
        "",
        markdown_table(["SKUs", "read", "Odoo calls", "wall s", "in the Odoo simulator s",
                        "Woodoo and the wire s", "peak MiB", "ratio"], rows),
        "",
        f"Wall time is the median of {RUNS} runs of their own, the peak memory is taken in "
        "another (tracing memory slows every line of Python, the simulator's too). \"In the "
        "Odoo simulator\" is the time it spent answering (its searches run in Python over every "
        "quant and move, where Odoo's run in PostgreSQL); the rest is Woodoo's own work and "
        "the HTTP round trips. The "
        "simulator does not model what made 0.2's read slow on a real Odoo (a display name "
        "computed for every row), so the two reads differ little here but for the calls and "
        "the ids sent. Target on a "
        "real Odoo 18 with 20,000 SKUs: a poll right after a 20,000-quant burst ≤ 1 s (9.6 s "
        "measured with 0.2), a quiet poll ≤ 0.1 s: "
        + verdict(rows) + ".",
    ])
    print(body)
    write_section("overlap", body)


if __name__ == "__main__":
    main()
