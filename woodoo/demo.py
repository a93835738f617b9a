"""`woodoo demo`: the whole product, told as a short story on the built-in simulators.

1. A stock change in Odoo arrives through a signed webhook, as the woodoo_webhook module sends it.
2. The same kind of change without a webhook: the poll brings it.
3. A shop order: its units held back as pending until Odoo has the sale order, then released.
4. A hand-made drift in the shop, corrected by a reconciliation whose report is saved.

Then, until Ctrl-C or `duration`, stock keeps changing in Odoo and the poll brings it over.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table
from rich.text import Text

from woodoo import commands, daemon, log, rules
from woodoo import config as config_module
from woodoo.lock import Holder
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator
from woodoo.state import State
from woodoo.web import signing

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
# The story's SKUs, none of them in STORY, so that each step starts from a settled figure.
WEBHOOK_CHANGE = ("WDG-1002", 64)  # SKU, new quantity on hand in WH
POLL_CHANGE = ("WDG-1004", 27)
ORDER_LINE = ("WDG-1005", 2)  # SKU, quantity ordered in the shop
DRIFT = ("TSH-S-RED", 52)  # SKU, quantity typed in by hand in the shop
# During the order step Odoo answers this much later, as a distant server does: the daemon's
# few calls to create and confirm the sale order then take long enough to watch the pending hold.
ODOO_LATENCY = 0.15
STEP_SECONDS = 30.0  # a step that has not happened by then has failed


@dataclass
class DemoResult:
    """What a run of the demo showed; true when every step and change arrived."""

    ok: bool = True
    steps: int = 0  # story steps told
    webhook_seconds: float | None = None  # Odoo change -> shop, through the signed webhook
    poll_seconds: float | None = None  # Odoo change -> shop, through the poll
    report: Path | None = None  # the reconciliation's HTML report
    directory: Path | None = None  # the state database and the reports

    def __bool__(self) -> bool:
        return self.ok


def demo_config(odoo: OdooSimulator, shop: WooSimulator, state_dir: Path,
                poll_interval: float, *, port: int = 0) -> config_module.Config:
    """A config pointing at the two simulators, with webhooks and shop orders set up.

    Each secret is made for this run: 43 characters, all different, as the config requires.
    """
    return simulator_config.parsed(
        odoo, shop, state_dir / "demo.sqlite",
        sync={"poll_interval": poll_interval, "retry_base_seconds": 0.2, "delta_overlap": 5},
        logging={"level": "info", "format": "console"},
        server={"port": port},
        webhooks={
            "odoo_secrets": [secrets.token_urlsafe(32)],
            "shop_secrets": [secrets.token_urlsafe(32)],
        },
        woocommerce={"plugin_secret": secrets.token_urlsafe(32), "conditional_writes": True},
        orders={"enabled": True},
    )


def run_demo(*, duration: float | None = None, poll_interval: float = 2.0,
             console: Console | None = None, directory: Path | None = None) -> DemoResult:
    """Tell the story, then keep changing stock until Ctrl-C or `duration` seconds.

    With a `duration` shorter than the story, it stops after the step in hand. The state and
    the reports go to `directory` (default: a new directory under the system's temporary one,
    kept afterwards so that the report can be opened).
    """
    console = console or Console()
    directory = directory or Path(tempfile.mkdtemp(prefix="woodoo-demo-"))
    result = DemoResult(directory=directory)
    with OdooSimulator() as odoo, WooSimulator() as shop:
        odoo.load_catalog()
        shop.load_catalog()
        port = _free_port()
        config = demo_config(odoo, shop, directory, poll_interval, port=port)
        _install_plugin(shop, config, port)
        # Errors only: the story says what happens, and the warnings it causes on purpose (the
        # checkout race: "shop stock moved under us") would only interrupt it.
        log.configure("error", "console", config.secret_values())
        console.rule("[bold]Woodoo demo")
        console.print(f"Odoo simulator at {odoo.url}, WooCommerce simulator at {shop.url} "
                      f"(with the Woodoo Companion plugin), the daemon at http://127.0.0.1:{port}")
        console.print(f"Syncing warehouse {', '.join(WAREHOUSES)}, polling every "
                      f"{poll_interval:g} s. State and reports in {directory}. Ctrl-C stops.\n")
        stop = threading.Event()
        runner = threading.Thread(target=daemon.run, args=(config,),
                                  kwargs={"stop": stop}, name="daemon", daemon=True)
        runner.start()
        deadline = None if duration is None else time.monotonic() + duration
        story = Story(console, odoo, shop, config, port, result)
        try:
            first_sync = story.wait_for_first_sync(deadline)
            if first_sync is False:
                console.print("[red]The first sync did not complete in time.")
                result.ok = False
            elif first_sync:
                story.tell(deadline)
                for sku, warehouse, quantity in itertools.cycle(STORY):
                    if _past(deadline):
                        break
                    result.ok &= _step(console, odoo, shop, story.policy, sku, warehouse,
                                       quantity, poll_interval, deadline)
        except KeyboardInterrupt:
            console.print("\nStopping...")
        finally:
            stop.set()
            runner.join(timeout=60)
        console.print("[bold]Demo finished.")
    return result


def _install_plugin(shop: WooSimulator, config: config_module.Config, port: int) -> None:
    """Set up the simulated Woodoo Companion plugin as its settings tab would be filled in."""
    plugin_secret = config.woocommerce.plugin_secret
    assert plugin_secret is not None
    shop.plugin_secret = plugin_secret.get_secret_value()  # the stock secret
    shop.orders.events_secret = config.webhooks.shop_secrets[0].get_secret_value()
    shop.orders.daemon_url = f"http://127.0.0.1:{port}"


def _free_port() -> int:
    """A port nothing listens on now: the plugin and the webhook sender must know it beforehand."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


class Story:
    """The four steps, each line stamped with the seconds since its step began."""

    def __init__(self, console: Console, odoo: OdooSimulator, shop: WooSimulator,
                 config: config_module.Config, port: int, result: DemoResult) -> None:
        self.console, self.odoo, self.shop, self.config = console, odoo, shop, config
        self.url = f"http://127.0.0.1:{port}"
        self.result = result
        self.policy = config.sync.policy()
        self.started = time.monotonic()

    def tell(self, deadline: float | None) -> None:
        """The four steps; past the deadline, it stops after the step in hand."""
        begun = time.monotonic()
        steps = (self.webhook, self.poll, self.order, self.drift)
        for number, step in enumerate(steps, start=1):
            if _past(deadline):
                self.console.print(f"(--duration reached: stopping after step {number - 1})\n")
                return
            self.started = time.monotonic()
            self.result.ok &= step(number)
            self.result.steps = number
            self.console.print()
        self.console.print(f"[bold]The story took {time.monotonic() - begun:.1f} s.[/] "
                           "From now on, stock keeps changing in Odoo and the poll brings it.\n")

    # -- the steps ---------------------------------------------------------------------------------

    def webhook(self, number: int) -> bool:
        sku, quantity = WEBHOOK_CHANGE
        self.heading(number, "a stock change in Odoo, sent by its webhook")
        pushes = self.pushes()
        before = self.shop.stock(sku)[0]
        self.started = time.monotonic()
        self.odoo.set_on_hand(sku, "WH", quantity)
        self.say("Odoo", f"{sku} on hand in WH set to {quantity} (the shop shows {before})")
        answer = self.post_odoo_event(sku)
        self.say("Odoo", f"the woodoo_webhook module posts a signed event to /webhooks/odoo: "
                         f"{answer.status_code} {_status(answer)}")
        seconds = self.wait_for_shop(sku, self.expected(sku))
        if seconds is None:
            return False
        self.result.webhook_seconds = seconds
        self.say("Shop", f"{sku} shows {self.shown(sku)} {seconds:.2f} s after the change in "
                         f"Odoo ({self.pushed_by(pushes)})", at=seconds)
        return True

    def poll(self, number: int) -> bool:
        sku, quantity = POLL_CHANGE
        interval = self.config.sync.poll_interval
        self.heading(number, f"the same without a webhook: the poll, every {interval:g} s")
        pushes = self.pushes()
        before = self.shop.stock(sku)[0]
        self.started = time.monotonic()
        self.odoo.set_on_hand(sku, "WH", quantity)
        self.say("Odoo", f"{sku} on hand in WH set to {quantity} (the shop shows {before}); "
                         "no webhook is sent")
        seconds = self.wait_for_shop(sku, self.expected(sku))
        if seconds is None:
            return False
        self.result.poll_seconds = seconds
        self.say("Shop", f"{sku} shows {self.shown(sku)} after a wait of {seconds:.2f} s for the "
                         f"next poll ({self.pushed_by(pushes)})", at=seconds)
        return True

    def order(self, number: int) -> bool:
        sku, quantity = ORDER_LINE
        reference_prefix = self.config.orders.client_order_ref_prefix
        self.heading(number, "a shop order: held back as pending until Odoo has it")
        state = State(self.config.state.path)  # its own connection: the daemon's is its own
        self.odoo.server.faults.latency = ODOO_LATENCY
        try:
            self.started = time.monotonic()
            self.say("Odoo", f"answers {ODOO_LATENCY:g} s late in this step, as a distant server "
                             "does, so that each moment can be seen")
            order_id = self.shop.orders.place([(sku, quantity)])
            reference = f"{reference_prefix}{order_id}"
            self.say("Shop", f"order #{order_id}: {quantity} x {sku}; WooCommerce takes the stock "
                             f"at checkout, the shop shows {self.shown(sku)}")
            delivered = self.shop.orders.deliver()
            self.say("Plugin", "sends the signed order event to /webhooks/woocommerce: "
                               f"{'delivered' if delivered and delivered['delivered'] else 'NOT delivered'}")
            seen_pending = seen_sale = False
            shown = {self.shop.stock(sku)[0]}
            limit = time.monotonic() + STEP_SECONDS
            while time.monotonic() < limit:
                pending = state.orders.pending_by_sku([sku]).get(sku, 0)
                sale = [s for s in self.odoo.sale_orders(reference) if s["state"] == "sale"]
                shown.add(self.shop.stock(sku)[0])
                if pending and not seen_pending:
                    seen_pending = True
                    self.say("Daemon", f"holds {pending} x {sku} as pending: Odoo's free "
                                       f"{self.free(sku):g} - {pending} pending = "
                                       f"{self.expected(sku, pending)} to show")
                if sale and not seen_sale:
                    seen_sale = True
                    self.say("Odoo", f"sale order {sale[0]['name']} ({reference}) created and "
                                     f"confirmed: free to sell now {self.free(sku):g}")
                if seen_sale and not pending:
                    if not seen_pending:
                        self.say("Daemon", "held it as pending (too briefly to be seen here)")
                    self.say("Daemon", f"pending released: Odoo's figure counts the order now, "
                                       f"{self.free(sku):g} - 0 pending = {self.expected(sku)}")
                    break
                time.sleep(0.01)
            else:
                self.say("Daemon", f"{sku}: no sale order {reference} with its pending released "
                                   f"after {STEP_SECONDS:g} s", failed=True)
                return False
        finally:
            self.odoo.server.faults.latency = 0.0
            state.close()
        self.say("Shop", f"{sku} showed {', then '.join(str(q) for q in sorted(shown, reverse=True))}"
                         " throughout: the units sold were never shown again")
        return shown == {self.expected(sku)}

    def drift(self, number: int) -> bool:
        sku, typed = DRIFT
        self.heading(number, "a hand-made drift in the shop, corrected by a reconciliation")
        self.started = time.monotonic()
        before = self.shown(sku)
        product_id = min(self.shop.catalog.by_sku[sku])
        self.shop.set_stock(product_id, typed)
        self.say("Shop", f"someone types {typed} for {sku} in wp-admin: it showed {before}, "
                         f"Odoo says {self.expected(sku)}; polls only bring Odoo's changes")
        # The daemon holds the state lock for its whole life: it is the one writer. So the
        # reconciliation is handed to it, as `woodoo reconcile` does while the daemon runs, and
        # its command thread runs it through the daemon's own engine, one at a time with polls
        # and webhook pushes. An engine opened here beside it would be a second writer of the
        # same state and the same shop, racing the daemon's pushes.
        state = State(self.config.state.path)
        try:
            command_id, wait = commands.hand_off(
                state.commands, Holder(os.getpid(), "run"), "reconcile",
                {"dry_run": False, "email": False}, wait=STEP_SECONDS)
            self.say("Daemon", f"`woodoo reconcile --no-email` handed to the running daemon "
                               f"(command {command_id})")
            outcome = wait()
        finally:
            state.close()
        if outcome.how in ("cancelled", "left-running"):
            raise KeyboardInterrupt  # Ctrl-C while waiting for it
        if outcome.how != "done" or outcome.result is None:
            self.say("Daemon", f"reconciliation {outcome.how}: {outcome.error}", failed=True)
            return False
        found = outcome.result
        self.say("Daemon", f"reconciliation: {found['checked']} SKUs checked in both systems, "
                           f"{found['drifted']} drifted, {found['corrected']} corrected")
        for drift in found["drift"]:
            self.say("", f"  {drift['sku']}: shop {drift['shop_before']} -> "
                         f"{drift['should_show']} (Odoo {drift['odoo_figure']:g}, "
                         f"pending {drift['pending']})")
        self.say("Shop", f"{sku} shows {self.shown(sku)}")
        report = Path(found["report"])
        self.result.report = report
        self.say("Report", "saved, to open in a browser:")
        self.console.print(f"{'':16}{report}", soft_wrap=True, highlight=False)  # never cut
        return self.shop.stock(sku)[0] == self.expected(sku) and report.exists()

    # -- helpers -----------------------------------------------------------------------------------

    def wait_for_first_sync(self, deadline: float | None) -> bool | None:
        """True once the shop shows Odoo's figures; False after a minute; None at the deadline."""
        skus = [sku for sku, _, _ in STORY] + [WEBHOOK_CHANGE[0], POLL_CHANGE[0], ORDER_LINE[0],
                                               DRIFT[0]]
        limit = time.monotonic() + 60
        while time.monotonic() < limit:
            if all(self.shop.stock(sku)[0] == self.expected(sku) for sku in skus):
                self.console.print(f"[green]First sync done[/] in "
                                   f"{time.monotonic() - self.started:.1f} s: the shop shows "
                                   "Odoo's free stock in WH.\n")
                return True
            if _past(deadline):
                return None
            time.sleep(0.1)
        return False

    def heading(self, number: int, title: str) -> None:
        self.console.rule(f"[bold]{number}. {title}", align="left")

    def say(self, who: str, text: str, *, failed: bool = False, at: float | None = None) -> None:
        """One moment of the step: the seconds since it began (or `at`), who acts, and what
        happens."""
        at = time.monotonic() - self.started if at is None else at
        line = Table.grid(padding=(0, 1))
        line.add_column(width=8, justify="right")
        line.add_column(width=6, style="bold red" if failed else "bold")
        line.add_column(ratio=1)
        line.add_row(f"{at:.2f} s", who, Text(text))
        self.console.print(line)

    def post_odoo_event(self, sku: str) -> requests.Response:
        """The event the woodoo_webhook module's sender posts for a changed quant, signed."""
        body = json.dumps({
            "event_id": f"demo-{uuid.uuid4().hex}", "product_ids": [self.odoo.product_id(sku)],
            "skus": [sku], "warehouse": "WH",
            "odoo_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        }).encode()
        secret = self.config.webhooks.odoo_secrets[0].get_secret_value()
        return requests.post(f"{self.url}/webhooks/odoo", data=body, timeout=5, headers={
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(body, secret, signing.ODOO_EVENTS)})

    def wait_for_shop(self, sku: str, expected: int) -> float | None:
        """Seconds from the step's start until the shop shows `expected`; None if it never did."""
        limit = time.monotonic() + STEP_SECONDS
        while time.monotonic() < limit:
            if self.shop.stock(sku)[0] == expected:
                return time.monotonic() - self.started
            time.sleep(0.005)
        self.say("Shop", f"{sku} still shows {self.shop.stock(sku)[0]}, expected {expected}, "
                         f"after {STEP_SECONDS:g} s", failed=True)
        return None

    def pushes(self) -> dict[str, float]:
        """The daemon's `woodoo_pushes_total` by source (stock values written), from /metrics."""
        counts: dict[str, float] = {}
        try:
            text = requests.get(f"{self.url}/metrics", timeout=5).text
        except requests.RequestException:
            return counts
        for line in text.splitlines():
            if line.startswith('woodoo_pushes_total{source="'):
                labels, value = line.rsplit(" ", 1)
                counts[labels.split('"')[1]] = float(value)
        return counts

    def pushed_by(self, before: dict[str, float]) -> str:
        """Which of the daemon's paths wrote since `before` (counted once the shop confirmed)."""
        limit = time.monotonic() + 2
        while True:
            after = self.pushes()
            sources = [s for s, n in after.items() if n > before.get(s, 0.0)]
            if sources or time.monotonic() >= limit:
                break
            time.sleep(0.05)
        return f"written by the daemon's {' and '.join(sources)} path" if sources else "written"

    def shown(self, sku: str) -> str:
        quantity, status = self.shop.stock(sku)
        return f"{quantity} ({status})"

    def free(self, sku: str) -> float:
        return self.odoo.free_qty(sku, WAREHOUSES)

    def expected(self, sku: str, pending: int = 0) -> int:
        return rules.quantity_to_show(self.free(sku), pending, self.policy)


def _status(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("status") or answer.json().get("error") or "")
    except ValueError:
        return ""


def _step(console: Console, odoo: OdooSimulator, shop: WooSimulator, policy: rules.StockPolicy,
          sku: str, warehouse: str, quantity: float, poll_interval: float,
          deadline: float | None) -> bool:
    before = shop.stock(sku)[0]
    odoo.set_on_hand(sku, warehouse, quantity)
    expected = rules.quantity_to_show(odoo.free_qty(sku, WAREHOUSES), 0, policy)
    console.print(f"Odoo  : {sku} on hand in {warehouse} set to {quantity:g} "
                  f"(free to sell in WH: {expected})")
    started = time.monotonic()
    limit = started + poll_interval * 3 + 5
    while time.monotonic() < limit and not _past(deadline):
        shown, status = shop.stock(sku)
        if shown == expected and (shown != before or time.monotonic() - started > poll_interval * 2):
            note = "unchanged, as it should be" if shown == before else "updated"
            console.print(f"Shop  : {sku} shows {shown} ({status}), {note} after "
                          f"{time.monotonic() - started:.1f} s\n")
            return True
        time.sleep(0.1)
    if _past(deadline):
        return True
    console.print(f"[red]Shop  : {sku} still shows {shop.stock(sku)[0]}, expected {expected}\n")
    return False

