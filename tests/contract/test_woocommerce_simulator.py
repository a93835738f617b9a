"""Behaviour of the WooCommerce simulator beyond the recordings: its Python API, and what WooCommerce's
code does where nothing was recorded (OAuth timestamp and nonce checks, key permissions, trash,
backorders, inventory_delta, creation), plus the fault injection the tests rely on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
import woocommerce
from woocommerce.oauth import OAuth

from woodoo.simulators.catalog import DEMO_CATALOG
from woodoo.simulators.woocommerce import WooSimulator


@pytest.fixture
def woo_demo() -> Iterator[tuple[WooSimulator, dict[str, int]]]:
    """The simulator with the demo catalog, and its ids by SKU."""
    with WooSimulator() as sim:
        yield sim, sim.load_catalog()


def woo_api(sim: WooSimulator, url: str | None = None) -> woocommerce.API:
    """The real woocommerce client on the simulator."""
    return woocommerce.API(url=url or sim.url, consumer_key=sim.consumer_key,
                           consumer_secret=sim.consumer_secret, version="wc/v3", timeout=20)


def woo_signed_url(sim: WooSimulator, path_and_query: str, *, timestamp: int | None = None,
                   method: str = "GET") -> str:
    """A URL signed by the woocommerce library's own OAuth code."""
    oauth = OAuth(url=f"{sim.url}/wp-json/wc/v3/{path_and_query}", consumer_key=sim.consumer_key,
                  consumer_secret=sim.consumer_secret, version="wc/v3", method=method,
                  oauth_timestamp=timestamp if timestamp is not None else int(time.time()))
    return oauth.get_oauth_url()


# -- catalog API -----------------------------------------------------------------------------------


def test_load_catalog_gives_ids_of_products_parents_and_variations(woo_demo):
    sim, ids = woo_demo
    in_shop = {item.sku for item in DEMO_CATALOG if item.in_shop}
    assert set(ids) == in_shop | {"TSH"}
    parent = sim.product(ids["TSH"])
    assert parent["type"] == "variable" and parent["manage_stock"] is False
    assert parent["stock_quantity"] is None
    assert parent["variations"] == [ids["TSH-S-RED"], ids["TSH-M-BLU"], ids["TSH-L-BLK"]]
    variation = sim.product(ids["TSH-M-BLU"])
    assert (variation["type"], variation["parent_id"]) == ("variation", ids["TSH"])
    assert variation["name"] == "Organic Cotton T-Shirt - M, Blue"
    assert [a["option"] for a in variation["attributes"]] == ["M", "Blue"]
    assert sim.stock("WOO-ONLY-1") == (7, "instock")
    assert sim.stock("WDG-1001") == (0, "outofstock")


def test_product_is_the_full_get_representation(woo_demo):
    sim, ids = woo_demo
    mine = sim.product(ids["WDG-1002"])
    over_http = woo_api(sim).get(f"products/{ids['WDG-1002']}").json()
    assert mine == over_http
    assert len(mine) == 71 and mine["sku"] == "WDG-1002"


def test_stock_of_an_unknown_sku_is_a_key_error(woo_demo):
    sim, _ = woo_demo
    with pytest.raises(KeyError):
        sim.stock("NOPE")


def test_set_stock_derives_the_status_and_bumps_dates_of_variation_and_parent(woo_demo):
    sim, ids = woo_demo
    sim.clock = lambda: 1_800_000_000
    sim.set_stock(ids["TSH-S-RED"], 12)
    assert sim.stock("TSH-S-RED") == (12, "instock")
    assert sim.product(ids["TSH"])["stock_status"] == "instock"  # synced from its variations
    assert sim.product(ids["TSH-S-RED"])["date_modified_gmt"] == "2027-01-15T08:00:00"
    assert sim.product(ids["TSH"])["date_modified_gmt"] == "2027-01-15T08:00:00"
    assert sim.product(ids["TSH"])["date_modified"] == "2027-01-15T09:00:00"  # the store is UTC+1
    sim.set_stock(ids["TSH-S-RED"], -2)
    assert sim.stock("TSH-S-RED") == (-2, "outofstock")
    assert sim.stock_writes == []  # hand edits are not REST writes


def test_backorders_make_zero_stock_onbackorder(woo_demo):
    sim, _ = woo_demo
    pid = sim.add_simple("BO-1", 0, backorders="notify")
    assert sim.stock("BO-1") == (0, "onbackorder")
    body = woo_api(sim).post("products/batch", {"update": [{"id": pid, "stock_quantity": -4}]}).json()
    assert body["update"][0]["stock_status"] == "onbackorder"
    assert body["update"][0]["backordered"] is True and body["update"][0]["backorders_allowed"] is True


def test_unmanaged_product_ignores_quantity_but_takes_the_sent_status(woo_demo):
    sim, ids = woo_demo
    sim.set_manage_stock(ids["WDG-1003"], False)
    assert sim.stock("WDG-1003")[0] is None
    body = woo_api(sim).post("products/batch", {"update": [
        {"id": ids["WDG-1003"], "stock_quantity": 9, "stock_status": "outofstock"}]}).json()
    assert (body["update"][0]["stock_quantity"], body["update"][0]["stock_status"]) == (None,
                                                                                       "outofstock")
    assert sim.stock_writes == []
    sim.set_manage_stock(ids["WDG-1003"], True)
    assert sim.stock("WDG-1003") == (0, "outofstock")


def test_set_sku_allows_duplicates_that_rest_refuses(woo_demo):
    sim, ids = woo_demo
    sim.set_sku(ids["WDG-1004"], "WDG-1003")
    found = woo_api(sim).get("products", params={"sku": "WDG-1003", "_fields": "id"}).json()
    assert sorted(row["id"] for row in found) == sorted([ids["WDG-1003"], ids["WDG-1004"]])
    sim.set_stock(ids["WDG-1004"], 44)
    assert sim.stock("WDG-1003") == (0, "outofstock")  # the lowest id answers
    refused = woo_api(sim).put(f"products/{ids['WDG-1005']}", {"sku": "WDG-1001"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "product_invalid_sku"
    assert refused.json()["data"] == {"status": 400, "resource_id": ids["WDG-1001"],
                                      "unique_sku": "WDG-1001-1"}
    assert sim.stock("WDG-1005")[0] == 0 and sim.product(ids["WDG-1005"])["sku"] == "WDG-1005"


def test_delete_removes_a_variable_product_with_its_variations(woo_demo):
    sim, ids = woo_demo
    sim.delete(ids["TSH"])
    with pytest.raises(KeyError):
        sim.stock("TSH-S-RED")
    response = woo_api(sim).get(f"products/{ids['TSH-S-RED']}")
    assert response.status_code == 404
    assert response.json()["code"] == "woocommerce_rest_product_invalid_id"
    sim.delete(ids["WDG-1001"])
    result = woo_api(sim).post("products/batch", {"update": [{"id": ids["WDG-1001"],
                                                              "stock_quantity": 1}]}).json()
    assert result["update"][0]["error"]["code"] == "woocommerce_rest_product_invalid_id"


def test_bulk_add_simple_is_fast_and_listable_by_id():
    with WooSimulator() as sim:
        started = time.perf_counter()
        sim.bulk_add_simple(20_000, quantity=lambda i: i % 50)
        assert time.perf_counter() - started < 5
        assert sim.stock("SKU-000000") == (0, "outofstock")
        assert sim.stock("SKU-000123") == (23, "instock")
        response = woo_api(sim).get("products", params={
            "per_page": 100, "page": 200, "orderby": "id", "order": "asc",
            "_fields": "id,sku,stock_quantity"})
        assert response.headers["X-WP-Total"] == "20000"
        assert response.headers["X-WP-TotalPages"] == "200"
        assert response.json()[-1]["sku"] == "SKU-019999"
        assert "next" not in response.links and "prev" in response.links


# -- REST writes beyond the recordings ---------------------------------------------------------------


def test_rest_writes_are_logged_in_order(woo_demo):
    sim, ids = woo_demo
    api = woo_api(sim)
    api.put(f"products/{ids['WDG-1002']}", {"stock_quantity": 5})
    api.post(f"products/{ids['TSH']}/variations/batch",
             {"update": [{"id": ids["TSH-L-BLK"], "stock_quantity": "7"}]})
    api.put(f"products/{ids['TSH']}/variations/{ids['TSH-S-RED']}", {"inventory_delta": 3})
    assert sim.stock_writes == [(ids["WDG-1002"], 5), (ids["TSH-L-BLK"], 7), (ids["TSH-S-RED"], 3)]


def test_put_of_a_variation_through_products_is_refused(woo_demo):
    sim, ids = woo_demo
    response = woo_api(sim).put(f"products/{ids['TSH-S-RED']}", {"stock_quantity": 1})
    assert response.status_code == 404
    assert response.json()["code"] == "woocommerce_rest_invalid_product_id"


def test_single_put_validates_types(woo_demo):
    sim, ids = woo_demo
    response = woo_api(sim).put(f"products/{ids['WDG-1002']}", {"stock_quantity": 41.5})
    assert response.status_code == 400
    assert response.json()["data"]["params"] == {
        "stock_quantity": "stock_quantity is not of type integer."}
    ok = woo_api(sim).put(f"products/{ids['WDG-1002']}", {"stock_quantity": "41"})
    assert ok.status_code == 200 and ok.json()["stock_quantity"] == 41


def test_create_then_trash_then_force_delete(woo_demo):
    sim, _ = woo_demo
    api = woo_api(sim)
    created = api.post("products", {"name": "New Mug", "sku": "MUG-1", "stock_quantity": 4})
    assert created.status_code == 201
    product = created.json()
    assert product["slug"] == "new-mug" and product["manage_stock"] is False
    assert product["stock_quantity"] is None  # managed stock is off by default
    assert created.headers["Location"].endswith(f"/wp-json/wc/v3/products/{product['id']}")
    trashed = api.delete(f"products/{product['id']}")
    assert trashed.status_code == 200 and trashed.json()["status"] == "trash"
    listed = api.get("products", params={"sku": "MUG-1"}).json()
    assert listed == []
    assert api.delete(f"products/{product['id']}").status_code == 410
    gone = api.delete(f"products/{product['id']}", params={"force": "true"})
    assert gone.status_code == 200
    assert api.get(f"products/{product['id']}").status_code == 404


def test_modified_after_is_strict_at_one_second(woo_demo):
    sim, ids = woo_demo
    moment = datetime(2030, 11, 23, 14, 17, 3, tzinfo=UTC)  # after the catalog's creation
    sim.clock = lambda: moment.timestamp() + 0.9
    woo_api(sim).put(f"products/{ids['WDG-1006']}", {"stock_quantity": 2})
    api = woo_api(sim)

    def changed(after: str, **extra: str) -> list[int]:
        rows = api.get("products", params={"modified_after": after, "_fields": "id", **extra})
        return [row["id"] for row in rows.json()]

    assert changed("2030-11-23T14:17:02", dates_are_gmt="true") == [ids["WDG-1006"]]
    assert changed("2030-11-23T14:17:03", dates_are_gmt="true") == []  # same second: not after
    assert changed("2030-11-23T15:17:02") == [ids["WDG-1006"]]  # site time is UTC+1
    assert changed("2030-11-23T15:17:03") == []
    bad = api.get("products", params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["data"]["details"]["modified_after"]["code"] == (
        "rest_invalid_date")


# -- authentication ------------------------------------------------------------------------------


def test_a_reused_nonce_is_refused(woo_demo):
    sim, _ = woo_demo
    url = woo_signed_url(sim, "products?per_page=1")
    assert requests.get(url, timeout=20).status_code == 200
    again = requests.get(url, timeout=20)
    assert again.status_code == 401
    assert again.json()["message"] == "Invalid nonce - nonce has already been used."


def test_only_the_last_nonce_of_a_second_is_remembered(woo_demo):
    """WooCommerce stores used nonces keyed by timestamp (a quirk, reproduced)."""
    sim, _ = woo_demo
    now = int(time.time())
    first = woo_signed_url(sim, "products?per_page=1", timestamp=now)
    second = woo_signed_url(sim, "products?per_page=2", timestamp=now)
    assert requests.get(first, timeout=20).status_code == 200
    assert requests.get(second, timeout=20).status_code == 200
    assert requests.get(first, timeout=20).status_code == 200  # forgotten: overwritten by second
    assert requests.get(first, timeout=20).status_code == 401  # remembered again now


def test_a_timestamp_off_by_more_than_15_minutes_is_refused(woo_demo):
    sim, _ = woo_demo
    for offset in (-16 * 60, 16 * 60):
        response = requests.get(woo_signed_url(sim, "products", timestamp=int(time.time()) + offset),
                                timeout=20)
        assert response.status_code == 401
        assert response.json()["message"] == "Invalid timestamp."
    assert requests.get(woo_signed_url(sim, "products", timestamp=int(time.time()) - 14 * 60),
                        timeout=20).status_code == 200


def test_partial_oauth_parameters_are_named(woo_demo):
    sim, _ = woo_demo
    response = requests.get(f"{sim.url}/wp-json/wc/v3/products",
                            params={"oauth_consumer_key": sim.consumer_key}, timeout=20)
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_missing_parameter"
    assert response.json()["message"] == ("Missing OAuth parameters oauth_timestamp, oauth_nonce, "
                                           "oauth_signature, oauth_signature_method")


def test_home_host_decides_which_host_signs_right():
    with WooSimulator(home_host="localhost") as sim:
        sim.add_simple("A-1", 3)
        via_ip = woo_api(sim).get("products")
        assert via_ip.status_code == 401
        assert via_ip.json()["message"] == "Invalid signature - provided signature does not match."
        via_name = woo_api(sim, url=f"http://localhost:{sim.server.port}").get("products")
        assert via_name.status_code == 200 and via_name.json()[0]["sku"] == "A-1"
        assert via_name.json()[0]["permalink"].startswith(f"http://localhost:{sim.server.port}/")


def test_read_only_key_cannot_write(woo_demo):
    sim, ids = woo_demo
    sim.permissions = "read"
    assert woo_api(sim).get("products").status_code == 200
    response = woo_api(sim).post("products/batch", {"update": [{"id": ids["WDG-1001"],
                                                                "stock_quantity": 1}]})
    assert response.status_code == 401
    assert response.json()["message"] == "The API key provided does not have write permissions."


# -- routes, errors and faults ---------------------------------------------------------------------


def test_namespace_index_needs_no_auth(woo_demo):
    sim, _ = woo_demo
    response = requests.get(f"{sim.url}/wp-json/wc/v3", timeout=20)
    assert response.status_code == 200 and response.headers["Allow"] == "GET"
    body = response.json()
    assert body["namespace"] == "wc/v3"
    assert {"/wc/v3/products", "/wc/v3/products/batch", "/wc/v3/variations"} <= set(body["routes"])


def test_unknown_route_and_bad_json(woo_demo):
    sim, _ = woo_demo
    missing = woo_api(sim).get("coupons")  # a WooCommerce route the simulator does not serve
    assert missing.status_code == 404 and missing.json()["code"] == "rest_no_route"
    url = woo_signed_url(sim, "products/batch", method="POST")
    bad = requests.post(url, data=b"{not json", timeout=20,
                        headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_json"
    front = requests.get(f"{sim.url}/shop/", timeout=20)
    assert front.status_code == 404 and front.headers["Content-Type"].startswith("text/html")


def test_rate_limit_next_answers_429_with_retry_after(woo_demo):
    sim, _ = woo_demo
    sim.rate_limit_next(2, retry_after=3)
    api = woo_api(sim)
    for _ in range(2):
        limited = api.get("products")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        assert limited.json()["data"] == {"status": 429}
    assert api.get("products").status_code == 200
    assert [r.status for r in sim.server.requests] == [429, 429, 200]


def test_server_faults_apply(woo_demo):
    sim, _ = woo_demo
    sim.server.faults.fail_next(1, status=502, body=b"<html>Bad gateway</html>",
                                path_prefix="/wp-json/wc/v3/products")
    assert woo_api(sim).get("products").status_code == 502
    assert woo_api(sim).get("products").status_code == 200
    assert sim.server.count("GET", "/wp-json/wc/v3/products") == 2


def test_concurrent_batches_lose_no_write(woo_demo):
    sim, _ = woo_demo
    ids = [sim.add_simple(f"C-{n}", 0) for n in range(40)]
    api = woo_api(sim)

    def push(chunk: list[int]) -> int:
        return api.post("products/batch", {"update": [{"id": i, "stock_quantity": i}
                                                      for i in chunk]}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(push, [ids[n:n + 10] for n in range(0, 40, 10)])) == {200}
    assert all(sim.stock(f"C-{n}")[0] == pid for n, pid in enumerate(ids))
    assert sorted(sim.stock_writes) == sorted((i, i) for i in ids)


def test_store_wide_variations_and_per_parent_list_agree(woo_demo):
    sim, ids = woo_demo
    api = woo_api(sim)
    store_wide = api.get("variations", params={"per_page": 100, "_fields": "id,parent_id"}).json()
    per_parent = api.get(f"products/{ids['TSH']}/variations", params={"_fields": "id"}).json()
    assert [row["id"] for row in store_wide] == [row["id"] for row in per_parent]
    assert {row["parent_id"] for row in store_wide} == {ids["TSH"]}
    wrong = api.get(f"products/{ids['WDG-1001']}/variations/{ids['TSH-S-RED']}")
    assert wrong.status_code == 404
    assert wrong.json()["code"] == "woocommerce_rest_product_variation_invalid_id"


def test_dates_follow_the_store_clock(woo_demo):
    sim, ids = woo_demo
    start = datetime(2030, 1, 1, tzinfo=UTC)
    sim.clock = lambda: start.timestamp()
    pid = sim.add_simple("LATE-1", 1)
    assert sim.product(pid)["date_created_gmt"] == "2030-01-01T00:00:00"
    sim.clock = lambda: (start + timedelta(seconds=5)).timestamp()
    woo_api(sim).put(f"products/{pid}", {"stock_quantity": 2})
    assert sim.product(pid)["date_modified_gmt"] == "2030-01-01T00:00:05"
    assert sim.product(ids["WDG-1001"])["date_modified_gmt"] < "2030"
