"""Contract tests for what `woodoo init` and `woodoo check` ask each side about the product's
own parts, against recordings of the real systems (tests/fixtures/odoo18/setup/, recorded from
the real Odoo 18 of this project's test bench on 2026-12-06; tests/fixtures/woocommerce11/
plugin_namespace_*.json and site_index_with_plugin.json, from the real WooCommerce 11.0.1 shop
with the Woodoo Companion plugin active, the same day):

- the shop's REST namespace index of woodoo/v1 with the plugin active, and what WordPress
  answers for a namespace no plugin registered (the plugin absent);
- the site-wide /wp-json/ index listing the plugin's namespace and routes;
- Odoo's ir.module.module row of woodoo_webhook installed, of a module in the addons path but
  not installed, and of a module Odoo does not know; ir.config_parameter's get_param and
  set_param.

The simulators replay each request over real HTTP and must answer the same: status, the body's
keys and values (hosts and ids aside), and the headers WordPress sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RECORDED_SHOP = "http://127.0.0.1:8080"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def rehosted(value: Any, home: str) -> Any:
    """A recorded body with the recorded shop's address replaced by the simulator's."""
    return json.loads(json.dumps(value).replace(RECORDED_SHOP, home))


@pytest.fixture
def shop() -> Iterator[WooSimulator]:
    with WooSimulator() as simulator:
        yield simulator


def test_the_plugin_namespace_index_is_answered_as_the_real_shop_answers_it(shop):
    recording = recorded("woocommerce11/plugin_namespace_index.json")
    shop.plugin_active = True  # active; no stock secret needed to list its routes
    answer = requests.get(shop.url + recording["request"]["path"], timeout=10)
    assert answer.status_code == recording["response"]["status"] == 200
    for header in ("Content-Type", "Allow", "Link"):
        assert answer.headers[header] == rehosted(recording["response"]["headers"][header],
                                                  shop.url)
    assert answer.json() == rehosted(recording["response"]["body"], shop.url)


def test_without_the_plugin_its_namespace_is_no_route_as_on_the_real_shop(shop):
    recording = recorded("woocommerce11/plugin_namespace_absent.json")
    answer = requests.get(shop.url + "/wp-json/woodoo/v1", timeout=10)
    assert answer.status_code == recording["response"]["status"] == 404
    assert answer.json() == recording["response"]["body"]
    assert answer.headers["Content-Type"] == recording["response"]["headers"]["Content-Type"]


def test_the_site_index_lists_the_plugin_namespace_and_routes_as_the_real_shop(shop):
    recording = recorded("woocommerce11/site_index_with_plugin.json")["response"]["body"]
    assert "woodoo/v1" not in requests.get(shop.url + "/wp-json/", timeout=10).json()["namespaces"]
    shop.plugin_active = True
    index = requests.get(shop.url + "/wp-json/", timeout=10).json()
    assert "woodoo/v1" in index["namespaces"] and "wc/v3" in index["namespaces"]
    assert index["routes"] == rehosted(recording["routes"], shop.url)


@pytest.fixture
def odoo() -> Iterator[OdooSimulator]:
    with OdooSimulator(api_key="0" * 40) as simulator:
        yield simulator


def replay(odoo: OdooSimulator, name: str) -> tuple[Any, Any]:
    """The recorded execute_kw call, replayed with the simulator's credentials: (got, want)."""
    recording = recorded(f"odoo18/setup/{name}.json")
    body = json.loads(json.dumps(recording["request"]))
    body["params"]["args"][:3] = [odoo.database, 2, odoo.api_key]
    answer = requests.post(f"{odoo.url}/jsonrpc", json=body, timeout=10)
    assert answer.status_code == 200
    return answer.json(), recording["response"]


@pytest.mark.parametrize(("name", "prepare"), [
    ("module_installed", lambda odoo: odoo.install_module("woodoo_webhook")),
    ("module_available", lambda odoo: odoo.make_module_available("website")),
    ("module_absent", lambda odoo: None),
])
def test_a_module_state_is_answered_as_the_real_odoo_answers_it(odoo, name, prepare):
    prepare(odoo)
    got, want = replay(odoo, name)
    assert list(got) == list(want)
    # Ids are the database's own; the rows' keys and states are the contract.
    assert [{k: v for k, v in row.items() if k != "id"} for row in got["result"]] == [
        {k: v for k, v in row.items() if k != "id"} for row in want["result"]]
    assert [list(row) for row in got["result"]] == [list(row) for row in want["result"]]


def test_system_parameters_are_read_and_set_as_the_real_odoo_does(odoo):
    odoo.parameters["woodoo_webhook.url"] = "http://127.0.0.1:8765"
    for name in ("get_param_set", "get_param_missing", "set_param_same",
                 "set_param_delete_missing"):
        got, want = replay(odoo, name)
        assert got == want, name
    assert odoo.parameters == {"woodoo_webhook.url": "http://127.0.0.1:8765"}
