"""The running Odoo and WooCommerce the end-to-end suite (and `bench/real.py`) is pointed at,
from the environment; the calls made to them directly (never through Woodoo) to set up and to
read outcomes; and the daemon process, the relay in front of Odoo and the products of a run."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import odoorpc
import requests
import woocommerce
import yaml

# The variables, each with what it holds; all are needed, none has a default.
VARIABLES = {
    "WOODOO_E2E_ODOO_URL": "Odoo's root URL, e.g. http://127.0.0.1:8069",
    "WOODOO_E2E_ODOO_DATABASE": "the Odoo database",
    "WOODOO_E2E_ODOO_LOGIN": "an Odoo login with Inventory and Sales administrator rights",
    "WOODOO_E2E_ODOO_API_KEY": "that login's API key (or password)",
    "WOODOO_E2E_SHOP_URL": "the WordPress home URL, e.g. http://127.0.0.1:8080",
    "WOODOO_E2E_WC_CONSUMER_KEY": "a WooCommerce REST key with Read/Write access",
    "WOODOO_E2E_WC_CONSUMER_SECRET": "its secret",
    "WOODOO_E2E_EVENTS_SECRET": "the plugin's events secret (WOODOO_EVENTS_SECRET in wp-config.php)",
    "WOODOO_E2E_STOCK_SECRET": "the plugin's stock secret (WOODOO_STOCK_SECRET in wp-config.php)",
    "WOODOO_E2E_ODOO_WEBHOOK_SECRET": "the Odoo module's woodoo_webhook.secret",
    "WOODOO_E2E_NATIVE_TOKEN": "a token for Odoo's native webhook (any 32+ characters)",
}
# Optional: where the daemon listens (the plugin's WOODOO_DAEMON_URL and the module's
# woodoo_webhook.url point there), the warehouse, and a mysql command for the shop's tables.
OPTIONAL = {
    "WOODOO_E2E_DAEMON_PORT": "8765",
    "WOODOO_E2E_WAREHOUSE": "WH",
    "WOODOO_E2E_MYSQL": "",
}


TABLE_PREFIX = os.environ.get("WOODOO_E2E_TABLE_PREFIX", "wp_")  # of the shop's tables


def missing() -> list[str]:
    """The variables not set."""
    return [name for name in VARIABLES if not os.environ.get(name)]


@dataclass(frozen=True)
class Systems:
    """Where the systems are and how to log in, as the environment says."""

    odoo_url: str
    odoo_database: str
    odoo_login: str
    odoo_key: str
    shop_url: str
    consumer_key: str
    consumer_secret: str
    events_secret: str
    stock_secret: str
    odoo_webhook_secret: str
    native_token: str
    daemon_port: int
    warehouse: str
    mysql: list[str]

    @classmethod
    def from_environment(cls) -> Systems:
        """The systems the environment names (see VARIABLES)."""
        env = {**OPTIONAL, **os.environ}
        return cls(env["WOODOO_E2E_ODOO_URL"].rstrip("/"), env["WOODOO_E2E_ODOO_DATABASE"],
                   env["WOODOO_E2E_ODOO_LOGIN"], env["WOODOO_E2E_ODOO_API_KEY"],
                   env["WOODOO_E2E_SHOP_URL"].rstrip("/"), env["WOODOO_E2E_WC_CONSUMER_KEY"],
                   env["WOODOO_E2E_WC_CONSUMER_SECRET"], env["WOODOO_E2E_EVENTS_SECRET"],
                   env["WOODOO_E2E_STOCK_SECRET"], env["WOODOO_E2E_ODOO_WEBHOOK_SECRET"],
                   env["WOODOO_E2E_NATIVE_TOKEN"], int(env["WOODOO_E2E_DAEMON_PORT"]),
                   env["WOODOO_E2E_WAREHOUSE"], shlex.split(env["WOODOO_E2E_MYSQL"]))


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port a URL names (its scheme's port when it names none)."""
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or (443 if parsed.scheme == "https" else 80)


def odoo_client(url: str, database: str, login: str, key: str) -> odoorpc.ODOO:
    """A logged-in odoorpc client (JSON-RPC: Odoo's XML-RPC fails on methods returning None)."""
    parsed = urlparse(url)
    protocol = "jsonrpc+ssl" if parsed.scheme == "https" else "jsonrpc"
    client = odoorpc.ODOO(parsed.hostname, protocol=protocol,
                          port=parsed.port or (443 if parsed.scheme == "https" else 80),
                          timeout=120)
    client.login(database, login, key)
    return client


def shop_client(systems: Systems) -> woocommerce.API:
    """The WooCommerce REST client, as a store owner's script would use it."""
    return woocommerce.API(url=systems.shop_url, consumer_key=systems.consumer_key,
                           consumer_secret=systems.consumer_secret, version="wc/v3",
                           timeout=120)


def ok(response: requests.Response) -> Any:
    """The JSON of a successful shop answer; an AssertionError naming the call otherwise."""
    assert response.status_code < 300, (
        f"{response.request.method} {response.url.split('?')[0]}: HTTP {response.status_code} "
        f"{response.text[:500]}")
    return response.json()


def wait_for(condition: Callable[[], Any], timeout: float, every: float = 0.05) -> float:
    """Seconds until `condition()` is truthy; AssertionError after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout:g} s")
        time.sleep(every)
    return time.monotonic() - started


def sku_prefix() -> str:
    """A prefix of this run's own: E2E-<8 hex>-."""
    return f"E2E-{secrets.token_hex(4).upper()}-"


def mysql(systems: Systems, query: str) -> list[list[str]]:
    """Rows of a query on the shop's database (WOODOO_E2E_MYSQL), as text."""
    assert systems.mysql, "WOODOO_E2E_MYSQL is not set (e.g. 'mysql -h127.0.0.1 -uwp -pwp wordpress')"
    out = subprocess.run([*systems.mysql, "--batch", "--skip-column-names", "-e", query],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines()]


def shown(shop: Any, catalog: CatalogMaker, sku: str) -> tuple[int | None, str]:
    """(stock_quantity, stock_status) the shop shows for one of the suite's SKUs."""
    woo_id, parent = catalog.catalog.shop_ids[sku], catalog.catalog.parents.get(sku)
    path = f"products/{parent}/variations/{woo_id}" if parent else f"products/{woo_id}"
    row = ok(shop.get(path))
    return row["stock_quantity"], row["stock_status"]


def free_qty(odoo: Any, catalog: CatalogMaker, sku: str) -> int:
    """Odoo's free quantity of one SKU in the suite's warehouse."""
    [row] = odoo.execute_kw("product.product", "read", [[catalog.catalog.odoo_ids[sku]],
                                                        ["free_qty"]],
                            {"context": {"location": catalog.catalog.warehouse_location}})
    return int(row["free_qty"])


def latencies(catalog: CatalogMaker, shop: Any, sku: str, quantities: list[int]) -> list[float]:
    """Seconds from each committed change in Odoo until the shop shows it."""
    seconds = []
    for quantity in quantities:
        # Start just after a second turns: the case where the module's run and the change fall
        # in the same second, which left the change for the next run on Odoo 18.
        time.sleep(1.05 - time.time() % 1)
        catalog.set_on_hand(sku, quantity)  # returns once Odoo has committed
        seconds.append(wait_for(lambda q=quantity: shown(shop, catalog, sku)[0] == q,
                                     timeout=90, every=0.02))
        time.sleep(2)
    return seconds


def report(path: str, seconds: list[float]) -> str:
    """One line of figures, printed for the reader of the run."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    line = (f"{path}: {len(seconds)} changes, p50 {statistics.median(seconds):.2f} s, "
            f"p99 {p99:.2f} s, max {max(seconds):.2f} s")
    print(line)
    return line


# -- the products of a run ---------------------------------------------------------------------

@dataclass
class Catalog:
    """Products of this run in Odoo and in the shop, by SKU; removed at the end."""

    prefix: str
    warehouse_location: int
    odoo_ids: dict[str, int] = field(default_factory=dict)
    shop_ids: dict[str, int] = field(default_factory=dict)
    parents: dict[str, int] = field(default_factory=dict)  # shop parent id of each variation
    templates: list[int] = field(default_factory=list)
    attributes: list[int] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)  # shop orders the suite placed

    def sku(self, name: str) -> str:
        """The SKU of one of the suite's products ("A" -> "E2E-1A2B3C4D-A")."""
        return f"{self.prefix}{name}"


class CatalogMaker:
    """Creates and removes the suite's products on both sides."""

    def __init__(self, odoo: Any, shop: Any, systems: Systems) -> None:
        self.odoo, self.shop, self.systems = odoo, shop, systems
        [warehouse] = odoo.env["stock.warehouse"].search_read(
            [("code", "=", systems.warehouse)], ["lot_stock_id"])
        self.catalog = Catalog(sku_prefix(), warehouse["lot_stock_id"][0])
        fields = odoo.env["product.template"].fields_get(["is_storable"])
        # Odoo 18 and later: a consumable with is_storable; Odoo 17: type "product".
        self.storable = ({"type": "consu", "is_storable": True} if "is_storable" in fields
                         else {"type": "product"})

    def simple(self, name: str, on_hand: int, shop_quantity: int | None = 0) -> str:
        """A storable product in Odoo with `on_hand` in the warehouse, and in the shop."""
        sku = self.catalog.sku(name)
        template = self.odoo.env["product.template"].create(
            {"name": f"Woodoo e2e {sku}", "default_code": sku, "list_price": 10.0,
             **self.storable})
        self.catalog.templates.append(template)
        [product] = self.odoo.env["product.product"].search([("product_tmpl_id", "=", template)])
        self.catalog.odoo_ids[sku] = product
        self.set_on_hand(sku, on_hand)
        [created] = ok(self.shop.post("products/batch", {"create": [{
            "name": f"Woodoo e2e {sku}", "type": "simple", "sku": sku, "regular_price": "10",
            "manage_stock": True, "stock_quantity": shop_quantity}]}))["create"]
        assert "error" not in created, created
        self.catalog.shop_ids[sku] = created["id"]
        return sku

    def variable(self, name: str, sizes: dict[str, int]) -> list[str]:
        """A product with one variant per size in Odoo (on hand each), a variable product with
        a variation per size in the shop; returns the variations' SKUs."""
        attribute = self.odoo.env["product.attribute"].create({
            "name": f"Size {self.catalog.prefix}{name}", "create_variant": "always",
            "value_ids": [(0, 0, {"name": size}) for size in sizes]})
        self.catalog.attributes.append(attribute)
        values = self.odoo.env["product.attribute.value"].search_read(
            [("attribute_id", "=", attribute)], ["name"])
        template = self.odoo.env["product.template"].create({
            "name": f"Woodoo e2e {self.catalog.sku(name)}", "list_price": 20.0, **self.storable,
            "attribute_line_ids": [(0, 0, {"attribute_id": attribute,
                                           "value_ids": [(6, 0, [v["id"] for v in values])]})]})
        self.catalog.templates.append(template)
        variants = self.odoo.env["product.product"].search_read(
            [("product_tmpl_id", "=", template)], ["product_template_variant_value_ids"])
        names = {v["id"]: v["name"] for v in self.odoo.env[
            "product.template.attribute.value"].search_read(
            [("product_tmpl_id", "=", template)], ["name"])}
        parent = ok(self.shop.post("products", {
            "name": f"Woodoo e2e {self.catalog.sku(name)}", "type": "variable",
            "sku": self.catalog.sku(name),
            "attributes": [{"name": "Size", "options": list(sizes), "variation": True,
                            "visible": True}]}))
        skus = []
        for variant in variants:
            size = names[variant["product_template_variant_value_ids"][0]]
            sku = self.catalog.sku(f"{name}-{size}")
            self.odoo.env["product.product"].write([variant["id"]], {"default_code": sku})
            self.catalog.odoo_ids[sku] = variant["id"]
            self.set_on_hand(sku, sizes[size])
            created = ok(self.shop.post(f"products/{parent['id']}/variations", {
                "sku": sku, "regular_price": "20", "manage_stock": True, "stock_quantity": 0,
                "attributes": [{"name": "Size", "option": size}]}))
            self.catalog.shop_ids[sku] = created["id"]
            self.catalog.parents[sku] = parent["id"]
            skus.append(sku)
        self.catalog.shop_ids[self.catalog.sku(name)] = parent["id"]
        return skus

    def set_on_hand(self, sku: str, quantity: int) -> None:
        """An inventory adjustment in the warehouse's stock location, applied (committed)."""
        context = {"context": {"inventory_mode": True}}
        quant = self.odoo.execute_kw("stock.quant", "create", [{
            "product_id": self.catalog.odoo_ids[sku], "location_id": self.catalog.warehouse_location,
            "inventory_quantity": quantity}], context)
        self.odoo.execute_kw("stock.quant", "action_apply_inventory", [[quant]], context)

    def remove(self) -> None:
        """Delete the shop's products and orders of this run; archive Odoo's (products that
        have stock moves cannot be deleted) after cancelling their sale orders."""
        for order in self.catalog.orders:
            self.shop.delete(f"orders/{order}", params={"force": True})
        for woo_id in {*self.catalog.parents.values(), *self.catalog.shop_ids.values()}:
            self.shop.delete(f"products/{woo_id}", params={"force": True})
        sales = self.odoo.env["sale.order"].search(
            [("order_line.product_id", "in", list(self.catalog.odoo_ids.values())),
             ("state", "!=", "cancel")])
        for sale in sales:  # action_cancel works on one order at a time
            self.odoo.execute_kw("sale.order", "action_cancel", [[sale]])
        if self.catalog.templates:
            self.odoo.env["product.template"].write(self.catalog.templates, {"active": False})
        if self.catalog.attributes:
            self.odoo.env["product.attribute"].write(self.catalog.attributes, {"active": False})


# -- what the daemon talks to --------------------------------------------------------------------

class OdooProxy:
    """A TCP relay in front of Odoo: `cut()` makes Odoo look stopped (each connection closed at
    once, and counted), `mend()` brings it back. The real Odoo is never touched."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.refused = 0  # connections closed at once while cut
        self.connections = 0  # connections relayed (odoorpc opens one per request)
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """From now on Odoo does not answer."""
        self.refused, self.down = 0, True

    def mend(self) -> None:
        """Odoo answers again."""
        self.down = False

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.down:
                self.refused += 1
                client.close()
                continue
            self.connections += 1
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # Odoo itself is away: the daemon sees what it would see
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


class Daemon:
    """`woodoo run` in a process of its own, with a config naming the real systems."""

    def __init__(self, directory: Path, document: dict[str, Any]) -> None:
        self.directory = directory
        self.config = directory / "woodoo.yaml"
        self.config.write_text(yaml.safe_dump(document), "utf-8")
        self.config.chmod(0o600)
        self.port = document["server"]["port"]
        self.log = directory / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it is ready (its start-up poll done)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "woodoo", "run", "-c", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        wait_for(self.ready, timeout=600, every=0.5)

    def ensure_started(self) -> None:
        """Start it unless it runs."""
        if self.process is None:
            self.start()

    def ready(self) -> bool:
        """Whether /readyz says ready."""
        assert self.process is not None and self.process.poll() is None, self.tail()
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """Stop it as systemd would (SIGTERM), and wait."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self.process = None

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run `woodoo ARGS -c <config>` (handed to the daemon when it runs)."""
        return subprocess.run([sys.executable, "-m", "woodoo", *args, "-c", str(self.config)],
                              capture_output=True, text=True, timeout=timeout, cwd=self.directory)

    def tail(self, lines: int = 40) -> str:
        """The end of its log, for a failing assertion."""
        text = self.log.read_text("utf-8", "replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def daemon_config(systems: Systems, prefix: str, odoo_url: str, smtp_port: int,
                  state: Path, *, bulk: bool = True) -> dict[str, Any]:
    """The config of the suite's daemon: only the suite's SKUs, webhooks of both kinds."""
    return {
        "odoo": {"url": odoo_url, "database": systems.odoo_database,
                 "username": systems.odoo_login, "password": systems.odoo_key,
                 "warehouses": [systems.warehouse], "timeout": 30},
        "woocommerce": {"url": systems.shop_url, "consumer_key": systems.consumer_key,
                        "consumer_secret": systems.consumer_secret, "timeout": 60,
                        **({"plugin_secret": systems.stock_secret} if bulk else {})},
        "sync": {"poll_interval": 3600, "skus": [f"{prefix}*"], "retries": 2,
                 "retry_base_seconds": 0.5},
        "orders": {"enabled": True, "backfill_interval": 30},
        "reconciliation": {"enabled": True, "schedule": "0 3 * * *"},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                 "sender": "woodoo-e2e@example.com", "recipients": ["staff@example.com"]},
        "alerts": {"email": True, "check_interval": 10},
        "circuit_breaker": {"failures": 3, "cooldown": 5, "max_cooldown": 60},
        "server": {"host": "127.0.0.1", "port": systems.daemon_port},
        "webhooks": {"odoo_secrets": [systems.odoo_webhook_secret],
                     "shop_secrets": [systems.events_secret],
                     "native_tokens": [systems.native_token]},
        "state": {"path": str(state)},
        "logging": {"level": "info", "format": "json"},
    }
