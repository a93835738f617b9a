"""`woodoo demo`: the daemon against the built-in simulators, with stock changing in Odoo."""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console

from woodoo import config as config_module
from woodoo import daemon, log, rules
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

# (SKU, warehouse, new quantity on hand): a loop of stock changes made in the simulated Odoo.
STORY: tuple[tuple[str, str, float], ...] = (
    ("WDG-1001", "WH", 95),
    ("TSH-M-BLU", "WH", 4),
    ("WDG-1003", "WH", 0),
    ("WDG-1006", "RET", 40),  # RET is not a configured warehouse: the shop must not change
    ("TSH-L-BLK", "WH", 22),
    ("WDG-1003", "WH", 12),
    ("WDG-1001", "WH", 120),
)
WAREHOUSES = ["WH"]


def demo_config(odoo: OdooSimulator, shop: WooSimulator, state_dir: Path,
                poll_interval: float) -> config_module.Config:
    """A config pointing at the two simulators."""
    return simulator_config.parsed(
        odoo, shop, state_dir / "demo.sqlite",
        sync={"poll_interval": poll_interval, "retry_base_seconds": 0.2, "delta_overlap": 5},
        logging={"level": "info", "format": "console"},
        server={"port": 0},
    )


def run_demo(*, duration: float | None = None, poll_interval: float = 2.0,
             console: Console | None = None) -> bool:
    """Run the demo until Ctrl-C or `duration` seconds; True when every change reached the shop."""
    console = console or Console()
    all_arrived = True
    with tempfile.TemporaryDirectory(prefix="woodoo-demo-") as tmp, \
            OdooSimulator() as odoo, WooSimulator() as shop:
        odoo.load_catalog()
        shop.load_catalog()
        config = demo_config(odoo, shop, Path(tmp), poll_interval)
        log.configure("warning", "console", config.secret_values())
        policy = config.sync.policy()
        console.rule("[bold]Woodoo demo")
        console.print(f"Odoo simulator at {odoo.url}, WooCommerce simulator at {shop.url}")
        console.print(f"Syncing warehouse {', '.join(WAREHOUSES)} every {poll_interval:g} s. "
                      "Ctrl-C stops.\n")
        stop = threading.Event()
        runner = threading.Thread(target=daemon.run, args=(config,),
                                  kwargs={"stop": stop}, name="daemon", daemon=True)
        runner.start()
        deadline = None if duration is None else time.monotonic() + duration
        try:
            if not _wait_for_first_sync(shop, odoo, policy, deadline):
                console.print("[red]The first sync did not complete in time.")
                return False
            console.print("[green]First sync done:[/] the shop shows Odoo's free stock in WH.\n")
            for sku, warehouse, quantity in itertools.cycle(STORY):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                all_arrived &= _step(console, odoo, shop, policy, sku, warehouse, quantity,
                                     poll_interval, deadline)
        except KeyboardInterrupt:
            console.print("\nStopping...")
        finally:
            stop.set()
            runner.join(timeout=60)
        console.print("[bold]Demo finished.")
    return all_arrived


def _expected(odoo: OdooSimulator, policy: rules.StockPolicy, sku: str) -> int:
    return rules.quantity_to_show(odoo.free_qty(sku, WAREHOUSES), 0, policy)


def _wait_for_first_sync(shop: WooSimulator, odoo: OdooSimulator, policy: rules.StockPolicy,
                         deadline: float | None) -> bool:
    limit = time.monotonic() + 60
    if deadline is not None:
        limit = min(limit, deadline)
    while time.monotonic() < limit:
        if all(shop.stock(sku)[0] == _expected(odoo, policy, sku) for sku, _, _ in STORY):
            return True
        time.sleep(0.2)
    return False


def _step(console: Console, odoo: OdooSimulator, shop: WooSimulator, policy: rules.StockPolicy,
          sku: str, warehouse: str, quantity: float, poll_interval: float,
          deadline: float | None) -> bool:
    before = shop.stock(sku)[0]
    odoo.set_on_hand(sku, warehouse, quantity)
    expected = _expected(odoo, policy, sku)
    console.print(f"Odoo  : {sku} on hand in {warehouse} set to {quantity:g} "
                  f"(free to sell in WH: {expected})")
    started = time.monotonic()
    limit = started + poll_interval * 3 + 5
    while time.monotonic() < limit and (deadline is None or time.monotonic() < deadline):
        shown, status = shop.stock(sku)
        if shown == expected and (shown != before or time.monotonic() - started > poll_interval * 2):
            note = "unchanged, as it should be" if shown == before else "updated"
            console.print(f"Shop  : {sku} shows {shown} ({status}), {note} after "
                          f"{time.monotonic() - started:.1f} s\n")
            return True
        time.sleep(0.1)
    if deadline is not None and time.monotonic() >= deadline:
        return True
    console.print(f"[red]Shop  : {sku} still shows {shop.stock(sku)[0]}, expected {expected}\n")
    return False
