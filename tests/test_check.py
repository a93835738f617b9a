"""`woodoo check`: connection failures and mapping problems explained in words."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import free_port

from woodoo.cli import main


@pytest.fixture
def run_check(make_config_file):
    def invoke(**sections):
        path = make_config_file(**sections)
        return CliRunner().invoke(main, ["check", "-c", str(path)])

    return invoke


def test_check_reports_versions_warehouses_and_mapping_problems(run_check, odoo, shop, shop_ids):
    shop.set_manage_stock(shop_ids["WDG-1017"], False)
    odoo.add_product("ODOO-ONLY", "Only in Odoo")
    result = run_check()
    assert result.exit_code == 0, result.output
    assert "odoo: version 18.0" in result.output
    assert "warehouses WH (Main Warehouse)" in result.output
    assert "woocommerce: version 11.0.1" in result.output
    assert "Odoo SKUs the shop does not have: 1\n  - ODOO-ONLY" in result.output
    assert "shop SKUs Odoo does not have (left alone): 2\n  - GIFT-WRAP\n  - WOO-ONLY-1" in (
        result.output)
    assert "shop products that do not manage stock (left alone): 1\n  - WDG-1017" in result.output
    assert "check passed: 4 mapping problems (warnings)" in result.output


def test_check_reports_duplicate_skus_on_both_sides(run_check, odoo, shop, shop_ids):
    shop.set_sku(shop_ids["WDG-1004"], "WDG-1003")
    odoo.add_product("WDG-1001", "A second product with the same reference")
    result = run_check()
    assert "SKUs used by several Odoo products: 1\n  - WDG-1001 (ids" in result.output
    assert "SKUs used by several shop products: 1\n  - WDG-1003 (ids" in result.output


def test_unknown_warehouse_is_a_config_error_naming_the_key(run_check, odoo, shop):
    result = run_check(odoo={"warehouses": ["WH", "RETAIL"]})
    assert result.exit_code == 2
    assert "config error: odoo.warehouses[1]: no warehouse 'RETAIL' in Odoo; known: WH, RET" in (
        result.output)


def test_wrong_odoo_password_is_explained_and_not_echoed(run_check, odoo, shop):
    result = run_check(odoo={"password": "wrong-pass-123"})
    assert result.exit_code == 1
    assert "refused the login: wrong username, password or API key" in result.output
    assert "wrong-pass-123" not in result.output


def test_unreachable_hosts_are_explained(run_check, odoo, shop):
    port = free_port()
    result = run_check(odoo={"url": f"http://127.0.0.1:{port}"},
                       woocommerce={"url": f"http://127.0.0.1:{free_port()}"})
    assert result.exit_code == 1
    assert f"odoo: cannot reach Odoo at http://127.0.0.1:{port}" in result.output
    assert "woocommerce: cannot reach WooCommerce at" in result.output
    assert "connection refused" in result.output.lower()


def test_wrong_woocommerce_secret_is_explained(run_check, odoo, shop):
    result = run_check(woocommerce={"consumer_secret": "cs_wrong_wrong"})
    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "OAuth signature did not match" in result.output
    assert "cs_wrong_wrong" not in result.output


def test_localhost_instead_of_the_home_url_is_explained(run_check, odoo, shop):
    url = shop.url.replace("127.0.0.1", "localhost")
    result = run_check(woocommerce={"url": url})
    assert result.exit_code == 1
    assert "Invalid signature" in result.output
    assert "127.0.0.1 and localhost are different" in result.output


UNSAFE = {"woocommerce": {"verify_tls": False}, "server": {"host": "0.0.0.0", "port": 0}}
SAID = ("woodoo.yaml, which every user of this machine can read (mode 644); run `chmod 600",
        "warning: woocommerce.verify_tls: false: the shop's TLS certificate is not checked",
        "warning: server.host: '0.0.0.0' is not a loopback address")


def test_check_and_start_up_name_each_unsafe_key_and_what_to_do(make_config_file, odoo, shop):
    path = make_config_file(**UNSAFE)
    path.chmod(0o644)
    checked = CliRunner().invoke(main, ["check", "-c", str(path)])
    assert checked.exit_code == 0, checked.output  # warnings: it runs
    assert "warning: odoo.password, " in checked.output
    for words in SAID:
        assert words in checked.output, checked.output
    started = CliRunner().invoke(main, ["run", "--run-for", "0", "-c", str(path)])
    assert started.exit_code == 0, started.output
    printed = [line for line in started.output.splitlines() if line.startswith("warning: ")]
    logged = [json.loads(line)["warning"] for line in started.output.splitlines()
              if line.startswith("{") and json.loads(line)["event"] == "unsafe config"]
    assert len(printed) == len(logged) == 3
    for words in SAID:
        assert any(words.removeprefix("warning: ") in line for line in logged), logged
    path.chmod(0o600)
    quiet = CliRunner().invoke(main, ["check", "-c", str(make_config_file(server={"port": 0}))])
    assert quiet.exit_code == 0 and "warning:" not in quiet.output, quiet.output
