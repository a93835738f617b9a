"""Reconciliation of 20,000 SKUs with 1% drift, shop answering in 50 ms, beside a naive per-product way.

Run: ./dev bench (or .venv/bin/python -m bench.reconcile [--size 20000] [--latency 0.05]).
Writes the table into docs/benchmarks.md. Both approaches run in the same process against the
same simulators; the naive one is measured on a sample and scaled (it is linear by construction).
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import sys
import tempfile
from pathlib import Path

from bench.common import bench_config, markdown_table, simulators, timed, write_section
from woodoo.daemon import open_engine
from woodoo.gateways.retry import RetryPolicy
from woodoo.gateways.woocommerce import WooGateway
from woodoo.progress import terminal_progress
from woodoo.reporting.reconcile import run_reconciliation
from woodoo.simulators.clock import OffsetClock

NAIVE_SAMPLE = 500


def drift(shop, ids: dict[str, int], skus: list[str]) -> None:
    for sku in skus:
        shop.set_stock(ids[sku], 999)


def naive(engine, config, skus: list[str]) -> int:
    """Per product: look it up by SKU, read Odoo for it, PUT when it differs."""
    woo = WooGateway(config.woocommerce, RetryPolicy(0, 0))
    writes = 0
    try:
        for sku in skus:
            [row] = woo.api.get("products", params={"sku": sku}).json()
            [product] = engine.odoo.read_products([], skus=[sku])
            if row["stock_quantity"] != int(product.figure):
                woo.api.put(f"products/{row['id']}", {"stock_quantity": int(product.figure)})
                writes += 1
    finally:
        woo.close()
    return writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per shop request")
    parser.add_argument("--drift", type=float, default=0.01, help="share of SKUs drifted")
    args = parser.parse_args()
    clock = OffsetClock()
    with simulators(args.size, clock) as (odoo, shop), tempfile.TemporaryDirectory() as tmp:
        config = bench_config(odoo, shop, Path(tmp))
        with open_engine(config, clock=clock.time) as engine:
            engine.poll()  # builds the SKU map: not measured
            ids = {p.sku: p.woo_id for p in engine.state.catalog.products().values()}
            skus = sorted(ids)
            drifted = random.Random(7).sample(skus, int(args.size * args.drift))
            drift(shop, ids, drifted)
            shop.server.faults.latency = args.latency
            odoo.reset_calls()
            shop.server.reset_log()
            with terminal_progress() as progress:
                found, measure = timed(lambda: run_reconciliation(engine, progress=progress),
                                       memory=False)
            woodoo_requests = len(shop.server.requests)
            woodoo_odoo = odoo.call_count(method="execute_kw")
            assert found.corrected == len(drifted), (found.corrected, len(drifted))
            # Memory in a run of its own, the same drift made again: tracing slows every line.
            drift(shop, ids, drifted)
            again, traced = timed(lambda: run_reconciliation(engine))
            assert again.corrected == len(drifted), (again.corrected, len(drifted))
            measure.peak_mib = traced.peak_mib

            sample = random.Random(8).sample(skus, NAIVE_SAMPLE)
            drift(shop, ids, [s for s in sample if s in set(drifted)])
            odoo.reset_calls()
            shop.server.reset_log()
            _, naive_measure = timed(lambda: naive(engine, config, sample), memory=False)
            scale = args.size / NAIVE_SAMPLE
            naive_requests = len(shop.server.requests) * scale
            naive_odoo = odoo.call_count(method="execute_kw") * scale
            naive_seconds = naive_measure.seconds * scale
    pages = math.ceil(args.size / 100)
    minimum = pages + math.ceil(len(drifted) / 100)
    rows = [
        ["minimum possible", minimum, "-", "-", "-"],
        ["woodoo reconcile", woodoo_requests, woodoo_odoo, f"{measure.seconds:.1f}",
         f"{measure.peak_mib:.0f}"],
        [f"naive per product (measured on {NAIVE_SAMPLE}, scaled)", f"{naive_requests:.0f}",
         f"{naive_odoo:.0f}", f"{naive_seconds:.0f}", "-"],
    ]
    table = markdown_table(["approach", "shop requests", "Odoo calls", "wall s", "peak MiB"], rows)
    time_ratio = naive_seconds / max(measure.seconds, 1e-3)
    request_ratio = naive_requests / max(woodoo_requests, 1)
    print(table)
    write_section("reconcile", f"""
## Reconciliation (`bench/reconcile.py`)

{args.size:,} SKUs, {len(drifted)} of them ({args.drift:.0%}) drifted by hand in the shop; every
shop request takes {args.latency * 1000:.0f} ms more (the simulator's latency), Odoo answers at
once ({platform.machine()}, Python {platform.python_version()}). The minimum is ceil(N/100) list
pages plus ceil(drift/100) batch writes; Woodoo lists with 4 requests in parallel and writes only
the drift: {woodoo_requests - minimum} shop requests beyond the minimum. The wall time includes the
simulators' own work (pure Python, on the same 2 cores); on a real store listing 20,000 products
took 17 s with 4 parallel requests. Wall times are untraced; Woodoo's peak traced memory is taken
in a second run after the same drift (tracing slows every line of Python). Ratio, naive to
Woodoo: {time_ratio:.0f}x the time, {request_ratio:.0f}x the shop requests.

{table}
""")


if __name__ == "__main__":
    sys.exit(main())
