"""The running Odoo and WooCommerce the end-to-end suite is pointed at, from the environment,
and the few calls the suite makes to them directly (never through Woodoo)."""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import odoorpc
import requests
import woocommerce

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
