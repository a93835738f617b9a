"""Woodoo on a running Odoo and WooCommerce, each figure beside its baseline from the same run.

The systems are named by the end-to-end suite's WOODOO_E2E_* variables (README, "The end-to-end
suite"); the shop's tables are reset and drifted through WOODOO_E2E_MYSQL. Measured:
- webhook latency, commit in Odoo -> shop showing it: the module's signed events beside Odoo's
  native webhook action (products of the run's own, removed afterwards);
- on the catalog of `BENCH-<n>` SKUs both systems hold: a quiet poll beside a
  poll inside the overlap window after every quant of the catalog was written at once (an
  import), with the Odoo requests each made (counted by a relay in front of Odoo);
- the first full push of the catalog and a 1%-drift reconciliation, through the plugin's bulk
  routes beside WooCommerce's REST API.

Run: ./dev bench real [--changes 20] [--skip-rest] [--push-runs 5] [--latency-only]. Writes its tables into
docs/benchmarks.md. It leaves the BENCH products synced (Odoo's figures in the shop).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bench.common import machine_info, markdown_table, timed, write_section
from tests.e2e import systems as real
from woodoo import config as config_module
from woodoo import log
from woodoo.daemon import open_engine
from woodoo.engine import Engine

BENCH = "BENCH-"  # the catalog's SKUs: BENCH-00001 ...
P = real.TABLE_PREFIX


def sku_join(alias: str) -> str:
    """SQL joining postmeta `alias` to the products whose SKU is one of the catalog's."""
    return (f"join {P}postmeta k on k.post_id = {alias}.post_id and k.meta_key = '_sku' "
            f"and k.meta_value like '{BENCH}%'")


def reset_shop(systems: real.Systems) -> None:
    """Every BENCH product out of stock at 0, as a shop that never had Woodoo shows it (the rows
    WooCommerce keeps for that: meta, lookup table, the outofstock visibility term)."""
    [[term]] = real.mysql(systems, (
        f"select tt.term_taxonomy_id from {P}term_taxonomy tt join {P}terms t using (term_id) "
        f"where tt.taxonomy = 'product_visibility' and t.slug = 'outofstock'"))
    for statement in (
        f"update {P}postmeta s {sku_join('s')} set s.meta_value = '0' where s.meta_key = '_stock'",
        f"update {P}postmeta s {sku_join('s')} set s.meta_value = 'outofstock' "
        f"where s.meta_key = '_stock_status'",
        f"update {P}wc_product_meta_lookup set stock_quantity = 0, stock_status = 'outofstock' "
        f"where sku like '{BENCH}%'",
        f"insert ignore into {P}term_relationships (object_id, term_taxonomy_id) "
        f"select post_id, {term} from {P}postmeta where meta_key = '_sku' and meta_value like "
        f"'{BENCH}%'",
        f"update {P}term_taxonomy set count = (select count(*) from {P}term_relationships where "
        f"term_taxonomy_id = {term}) where term_taxonomy_id = {term}",
    ):
        real.mysql(systems, statement)


def drift(systems: real.Systems) -> int:
    """Set the shop's figure of every hundredth BENCH product (SKUs ending in 00) to 999 by
    hand; how many. (No casts: MariaDB's strict mode refuses one on any SKU it reads.)"""
    hundredth = f"k.meta_value regexp '^{BENCH}[0-9]*00$'"
    real.mysql(systems, (
        f"update {P}postmeta s join {P}postmeta k on k.post_id = s.post_id and k.meta_key = "
        f"'_sku' and {hundredth} set s.meta_value = '999' where s.meta_key = '_stock'"))
    [[count]] = real.mysql(systems, (
        f"select count(*) from {P}postmeta k where k.meta_key = '_sku' and {hundredth}"))
    return int(count)


@contextmanager
def engine(systems: real.Systems, odoo_url: str, directory: Path, *, bulk: bool
           ) -> Iterator[Engine]:
    """An engine on the real systems, scoped to the catalog's SKUs."""
    document = real.daemon_config(systems, BENCH, odoo_url, 25, directory / "bench.sqlite",
                                  bulk=bulk)
    document["sync"].update(skus=[f"{BENCH}{'?' * 5}"], retries=2)
    document["logging"]["level"] = "error"
    log.configure("error", "json")
    with open_engine(config_module.parse(yaml.safe_dump(document), base_dir=directory)) as built:
        yield built


def median_of(runs: int, action: Callable[[], Any]) -> float:
    """The median wall time of `runs` calls."""
    return statistics.median(timed(action, memory=False)[1].seconds for _ in range(runs))


def burst(odoo: Any, location: int) -> tuple[int, float]:
    """Write every BENCH quant of the warehouse at once, as an import does; (quants, seconds)."""
    quants = odoo.env["stock.quant"].search([("location_id", "=", location),
                                            ("product_id.default_code", "=like", f"{BENCH}%")])
    started = time.perf_counter()
    odoo.execute_kw("stock.quant", "write", [quants, {"inventory_quantity": 1}],
                    {"context": {"inventory_mode": True}})
    return len(quants), time.perf_counter() - started


def first_pushes(systems: real.Systems, url: str, runs: int) -> list[float]:
    """Seconds of `runs` first full pushes through the bulk routes, each on a reset shop and a
    fresh state: one run varies with what the database did just before (10.9-25.3 s seen, the
    slow ones first after other heavy work)."""
    seconds = []
    for _ in range(runs):
        reset_shop(systems)
        with tempfile.TemporaryDirectory() as tmp, engine(systems, url, Path(tmp),
                                                          bulk=True) as built:
            seconds.append(timed(lambda e=built: e.sync(full=True), memory=False)[1].seconds)
    return seconds


def catalog_rows(systems: real.Systems, odoo: Any, shop: Any, proxy: real.OdooProxy,
                 skip_rest: bool, push_runs: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """The poll rows and the push rows."""
    url = f"http://127.0.0.1:{proxy.port}"
    location = real.CatalogMaker(odoo, shop, systems).catalog.warehouse_location
    polls: list[list[Any]] = []
    pushes: list[list[Any]] = []
    paths = [("bulk routes", True)] + ([] if skip_rest else [("REST API", False)])
    for label, bulk in paths:
        reset_shop(systems)
        with tempfile.TemporaryDirectory() as tmp, engine(systems, url, Path(tmp),
                                                          bulk=bulk) as built:
            proxy.connections = 0
            summary, measure = timed(lambda e=built: e.sync(full=True), memory=False)
            seconds, requests = f"{measure.seconds:.1f}", proxy.connections
            if bulk and push_runs > 1:
                runs = [measure.seconds, *first_pushes(systems, url, push_runs - 1)]
                seconds = (f"{statistics.median(runs):.1f} (median of {len(runs)}: "
                           f"{', '.join(f'{r:.1f}' for r in runs)})")
            pushes.append([label, "first full push", summary.pushed, requests, seconds])
            print(pushes[-1], flush=True)
            built.poll()  # sets the watermark after the full read
            changed = drift(systems)
            proxy.connections = 0
            (summary, _, _), measure = timed(lambda e=built: e.reconcile(dry_run=False),
                                             memory=False)
            assert summary.pushed == changed, (summary.pushed, changed)
            pushes.append([label, "1%-drift reconciliation", summary.pushed, proxy.connections,
                           f"{measure.seconds:.1f}"])
            print(pushes[-1], flush=True)
            if not bulk:
                continue
            time.sleep(built.config.sync.delta_overlap + 1)  # past the push's own window
            proxy.connections = 0
            quiet = median_of(5, built.poll)
            polls.append(["quiet poll (median of 5)", proxy.connections // 5, f"{quiet:.2f}"])
            written, seconds = burst(odoo, location)
            # The poll that takes the burst in does the burst's work; the polls after it, still
            # inside the overlap window, have nothing new and should cost what a quiet one does.
            proxy.connections = 0
            summary, measure = timed(built.poll, memory=False)
            polls.append([f"the poll that takes in {written:,} quants written at once ({seconds:.0f} "
                          f"s in Odoo): {summary.checked:,} figures checked", proxy.connections,
                          f"{measure.seconds:.2f}"])
            proxy.connections = 0
            inside = median_of(5, built.poll)
            polls.append(["each poll after it inside the overlap window, nothing new "
                          "(median of 5)", proxy.connections // 5, f"{inside:.2f}"])
    return polls, pushes


def latency_rows(systems: real.Systems, odoo: Any, shop: Any, changes: int) -> list[list[Any]]:
    """Signed and native webhook latency on products of the run's own."""
    maker = real.CatalogMaker(odoo, shop, systems)
    rows = []
    try:
        signed, native = maker.simple("SIGNED", 10), maker.simple("NATIVE", 10)
        with tempfile.TemporaryDirectory() as tmp:
            document = real.daemon_config(systems, maker.catalog.prefix, systems.odoo_url, 25,
                                          Path(tmp) / "woodoo.sqlite")
            daemon = real.Daemon(Path(tmp), document)
            assert daemon.cli("sync", "--full").returncode == 0, daemon.tail()
            daemon.start()
            url = f"http://127.0.0.1:{systems.daemon_port}"
            try:
                for label, sku, mode in (("signed events (module)", signed, ["signed"]),
                                         ("native webhook (Odoo's action)", native,
                                          ["native", "--token", systems.native_token])):
                    setup = daemon.cli("odoo", "setup-webhooks", "--mode", mode[0], "--url", url,
                                       *mode[1:])
                    assert setup.returncode == 0, setup.stderr
                    seconds = real.latencies(maker, shop, sku, [20 + n for n in range(changes)])
                    ordered = sorted(seconds)
                    rows.append([label, changes, f"{statistics.median(seconds):.2f}",
                                 f"{ordered[round(0.9 * (len(ordered) - 1))]:.2f}",
                                 f"{ordered[-1]:.2f}"])
                    print(rows[-1], flush=True)
            finally:
                daemon.cli("odoo", "setup-webhooks", "--mode", "signed", "--url", url)
                daemon.stop()
    finally:
        maker.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20, help="changes per webhook path")
    parser.add_argument("--skip-rest", action="store_true", help="leave the REST path out")
    parser.add_argument("--push-runs", type=int, default=5,
                        help="first full pushes through the bulk routes, for their median")
    parser.add_argument("--latency-only", action="store_true",
                        help="only the webhook latency (e.g. again with Odoo's workers > 0)")
    parser.add_argument("--label", default="", help="what to call this run in the tables")
    args = parser.parse_args()
    if real.missing():  # `./dev bench` runs every script: without systems this one skips
        print(f"bench real skipped: {', '.join(real.missing())} not set (README, 'The "
              f"end-to-end suite')")
        return
    systems = real.Systems.from_environment()
    odoo = real.odoo_client(systems.odoo_url, systems.odoo_database, systems.odoo_login,
                            systems.odoo_key)
    shop = real.shop_client(systems)
    proxy = real.OdooProxy(real.host_and_port(systems.odoo_url))
    label = args.label or f"Odoo {odoo.version}"
    latency = latency_rows(systems, odoo, shop, args.changes)
    heading = ("### Signed latency again, another Odoo set-up" if args.latency_only else
               "## On a running Odoo and WooCommerce (`bench/real.py`)")
    parts = [
        heading,
        f"{label} and WooCommerce at {systems.shop_url}; {machine_info()}. Each figure stands "
        f"beside its baseline from the same run: signed events beside Odoo's native webhook, "
        f"a poll after a burst beside a quiet one, the bulk routes beside the REST API. The "
        f"same measures on the simulators are in the sections above.",
        "Webhook latency, from the inventory adjustment's commit in Odoo to the shop's REST "
        "API showing the new figure (polled every 20 ms; each change starts just after a "
        "second turns):",
        markdown_table(["path", "changes", "p50 (s)", "p90 (s)", "max (s)"], latency),
    ]
    if not args.latency_only:
        size = odoo.env["product.product"].search_count([("default_code", "=like", f"{BENCH}%")])
        polls, pushes = catalog_rows(systems, odoo, shop, proxy, args.skip_rest, args.push_runs)
        parts += [
            f"Polls on the {size:,}-SKU catalog (Odoo requests counted by a relay):",
            markdown_table(["poll", "Odoo requests", "seconds"], polls),
            "The catalog pushed in full, then reconciled after 1% drift made in MariaDB:",
            markdown_table(["path", "run", "items written", "Odoo requests", "seconds"], pushes),
        ]
    body = "\n\n".join(parts)
    print(body)
    write_section("real-latency" if args.latency_only else "real", body)


if __name__ == "__main__":
    main()
