"""Delta poll cost at 1k, 20k and 100k SKUs with 10 changes, beside a naive read-all/PUT-each baseline.

Run: ./dev bench (or .venv/bin/python -m bench.poll [--sizes 1000,20000]). Writes the table into
docs/benchmarks.md. Both approaches run in the same process against the same simulators.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

from bench.common import bench_config, markdown_table, simulators, timed, write_section
from woodoo.daemon import open_engine
from woodoo.gateways.retry import RetryPolicy
from woodoo.gateways.woocommerce import WooGateway
from woodoo.simulators.clock import OffsetClock

CHANGES = 10


def changed_skus(size: int) -> list[str]:
    step = max(1, size // CHANGES)
    return [f"SKU-{n:06d}" for n in range(1, size, step)][:CHANGES]


def naive_poll(engine, config, ids: dict[str, int]) -> int:
    """The baseline: read every Odoo figure, PUT every product's stock one by one."""
    products = engine.odoo.read_products()
    woo = WooGateway(config.woocommerce, RetryPolicy(0, 0))
    try:
        for product in products:
            woo.api.put(f"products/{ids[product.sku]}",
                        {"stock_quantity": int(product.figure)}).raise_for_status()
    finally:
        woo.close()
    return len(products)


def run(size: int) -> list[list[object]]:
    clock = OffsetClock()
    with simulators(size, clock) as (odoo, shop), tempfile.TemporaryDirectory() as tmp:
        config = bench_config(odoo, shop, Path(tmp))
        with open_engine(config, clock=clock.time) as engine:
            engine.poll()  # the first, full poll builds the SKU map: not measured
            clock.advance(config.sync.delta_overlap + 1)
            engine.poll()  # re-reads the import's overlap window once, then seals it
            ids = {p.sku: p.woo_id for p in engine.state.catalog.products().values()}
            rows = []
            for label, action in (("woodoo delta poll", engine.poll),
                                  ("naive: read all, PUT each", lambda: naive_poll(engine, config, ids))):
                for sku in changed_skus(size):
                    odoo.set_on_hand(sku, "WH", 7 if label.startswith("woodoo") else 8)
                odoo.reset_calls()
                shop.server.reset_log()
                _, measure = timed(action)
                rows.append([size, label, odoo.call_count(method="execute_kw"),
                             len(shop.server.requests), f"{measure.seconds:.2f}",
                             f"{measure.peak_mib:.1f}"])
            woodoo, naive = rows
            naive.append(f"{float(naive[4]) / max(float(woodoo[4]), 1e-3):.0f}x slower, "
                         f"{naive[3] / max(woodoo[3], 1):.0f}x the requests")
            woodoo.append("baseline of the ratio")
            return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,20000,100000")
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"measuring {size} SKUs...", file=sys.stderr)
        rows.extend(run(size))
    table = markdown_table(
        ["SKUs", "approach", "Odoo calls", "shop requests", "wall s", "peak MiB", "ratio"], rows)
    print(table)
    write_section("poll", f"""
## Delta poll (`bench/poll.py`)

{CHANGES} products change in Odoo between two polls; the simulators run on this machine
({platform.processor() or platform.machine()}, Python {platform.python_version()}) with no added
latency. Wall time and peak traced Python memory of the poll itself (the first, full poll that
builds the SKU map is not measured). The naive baseline reads every figure from Odoo and PUTs every
product; both run in the same process against the same simulators, and both under memory tracing,
which slows every line of Python (the simulators' too): the ratios compare like with like, the
absolute times are higher than untraced (`bench/overlap.py` times a poll untraced).

{table}
""")


if __name__ == "__main__":
    main()
