"""Fixtures of the end-to-end suite: the running Odoo and WooCommerce named by the environment
(see systems.py), products of the suite's own in both, a daemon process pointed at them, an SMTP
server and a proxy in front of Odoo that the suite can cut.

Without the variables every test here is skipped, with one line saying which are missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from aiosmtpd.controller import Controller

from tests.e2e import systems as real

if real.missing():
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    """One line saying that the suite was skipped, and why, when the systems are not named."""
    if not real.missing():
        return None
    return (f"end-to-end suite skipped: no running Odoo and WooCommerce named "
            f"({', '.join(real.missing())} not set; see README, 'The end-to-end suite')")


@pytest.fixture(scope="session")
def systems() -> real.Systems:
    """The systems from the environment."""
    return real.Systems.from_environment()


@pytest.fixture(scope="session")
def odoo(systems: real.Systems) -> Any:
    """An odoorpc client logged in to the real Odoo (the suite's own eyes, not Woodoo's)."""
    return real.odoo_client(systems.odoo_url, systems.odoo_database, systems.odoo_login,
                            systems.odoo_key)


@pytest.fixture(scope="session")
def shop(systems: real.Systems) -> Any:
    """The WooCommerce REST client on the real shop."""
    return real.shop_client(systems)


# -- the suite's own products ------------------------------------------------------------------

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

    def __init__(self, odoo: Any, shop: Any, systems: real.Systems) -> None:
        self.odoo, self.shop, self.systems = odoo, shop, systems
        [warehouse] = odoo.env["stock.warehouse"].search_read(
            [("code", "=", systems.warehouse)], ["lot_stock_id"])
        self.catalog = Catalog(real.sku_prefix(), warehouse["lot_stock_id"][0])
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
        [created] = real.ok(self.shop.post("products/batch", {"create": [{
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
        parent = real.ok(self.shop.post("products", {
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
            created = real.ok(self.shop.post(f"products/{parent['id']}/variations", {
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
        if sales:
            self.odoo.execute_kw("sale.order", "action_cancel", [sales])
        if self.catalog.templates:
            self.odoo.env["product.template"].write(self.catalog.templates, {"active": False})
        if self.catalog.attributes:
            self.odoo.env["product.attribute"].write(self.catalog.attributes, {"active": False})


@pytest.fixture(scope="module")
def catalog(odoo: Any, shop: Any, systems: real.Systems) -> Iterator[CatalogMaker]:
    """The suite's own products (the tests of a module add theirs), removed afterwards."""
    maker = CatalogMaker(odoo, shop, systems)
    try:
        yield maker
    finally:
        maker.remove()


# -- what the daemon talks to -----------------------------------------------------------------

class OdooProxy:
    """A TCP relay in front of Odoo: `cut()` makes Odoo look stopped (each connection closed at
    once, and counted), `mend()` brings it back. The real Odoo is never touched."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.refused = 0
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


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """The suite's own SMTP server on loopback: (what it received, its port)."""
    box = Mailbox()
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def odoo_proxy(systems: real.Systems) -> OdooProxy:
    """The relay the daemon reaches Odoo through."""
    parsed = requests.utils.urlparse(systems.odoo_url)
    return OdooProxy((parsed.hostname, parsed.port or 80))


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
        real.wait_for(self.ready, timeout=600, every=0.5)

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


def daemon_config(systems: real.Systems, prefix: str, odoo_url: str, smtp_port: int,
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


@pytest.fixture(scope="module")
def daemon(systems: real.Systems, catalog: CatalogMaker, mailbox: tuple[Mailbox, int],
           odoo_proxy: OdooProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The daemon, started once the module's products exist; stopped at the end."""
    directory = tmp_path_factory.mktemp("daemon")
    document = daemon_config(systems, catalog.catalog.prefix,
                             f"http://127.0.0.1:{odoo_proxy.port}", mailbox[1],
                             directory / "woodoo.sqlite")
    running = Daemon(directory, document)
    yield running
    running.stop()
    if os.environ.get("WOODOO_E2E_SHOW_LOG"):
        print(running.tail(200))
