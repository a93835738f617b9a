"""Hostile bodies on the three POST routes, validly signed (or with the right token), so that the
body alone decides; against the whole daemon."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adversarial.hostile import (
    MAX_LINE_QUANTITY,
    ROUTES,
    SECRETS,
    TOKEN,
    native_body,
    odoo_event,
    odoo_now,
    order_event,
)
from woodoo.web import signing

ODOO, SHOP, NATIVE = "/webhooks/odoo", "/webhooks/woocommerce", f"/webhooks/odoo-native/{TOKEN}"
PATHS = [ODOO, SHOP, NATIVE]
ODOO_MAX, SHOP_MAX = 2**31 - 1, 2**63 - 1
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def send(live, category: str, path: str, body: bytes, *, expect: set[int], label: str,
         content_type: str | None = "application/json", stores: bool = False):
    headers: dict[str, str] = {} if content_type is None else {"Content-Type": content_type}
    if path in ROUTES:
        headers[signing.HEADER] = signing.sign(body, SECRETS[path], ROUTES[path])
    return live.target.hostile(category, "POST", path, body=body, headers=headers,
                               expect=expect, label=label, stores=stores)


def valid(live, path: str, **fields: Any) -> dict[str, Any]:
    if path == ODOO:
        return odoo_event(**fields)
    if path == SHOP:
        return {**order_event(live.shop.url), **fields}
    return native_body(**fields)


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    return b'{"a":"' + b"x" * (size - 8) + b'"}'


# Refused on every route, whatever it expects. Sizes stay under 64 KiB unless the size is the point.
JUNK: dict[str, tuple[bytes, int]] = {
    "malformed": (b"{not json", 400),
    "truncated": (b'{"event_id": "x"', 400),
    "trailing comma": (b'{"event_id": "x",}', 400),
    "trailing garbage": (b"{} x", 400),
    "two documents": (b"{}{}", 400),
    "empty body": (b"", 400),
    "whitespace only": (b" \n\t ", 400),
    "NaN": (b'{"event_id": "x", "product_ids": [NaN], "_id": NaN}', 400),
    "Infinity": (b'{"event_id": "x", "product_ids": [Infinity], "_id": Infinity}', 400),
    "-Infinity": (b'{"event_id": "x", "product_ids": [-Infinity], "_id": -Infinity}', 400),
    "1e400 (a float overflowing to inf)": (b'{"event_id": "x", "product_ids": [1e400]}', 400),
    "an integer of 5,000 digits": (b'{"event_id": "x", "_id": ' + b"9" * 5000 + b"}", 400),
    "an integer of 60,000 digits": (b'{"event_id": "x", "_id": ' + b"9" * 60000 + b"}", 400),
    "non-UTF-8 bytes": (b'{"event_id": "\xff\xfe"}', 400),
    "UTF-16": ('{"event_id": "x"}'.encode("utf-16"), 400),
    "a UTF-8 BOM": (b'\xef\xbb\xbf{"event_id": "x"}', 400),
    "Latin-1": ('{"event_id": "café"}'.encode("latin-1"), 400),
    "overlong UTF-8 NUL": (b'{"event_id": "\xc0\x80"}', 400),
    "surrogate bytes (CESU-8)": (b'{"event_id": "\xed\xa0\x80"}', 400),
    "nested 30,000 deep": (b"[" * 30000 + b"]" * 30000, 400),
    "nested 30,000 deep in a field": (
        b'{"event_id": "x", "product_ids": ' + b"[" * 30000 + b"]" * 30000 + b"}", 400),
    "objects nested 10,000 deep": (b'{"a":' * 10000 + b"1" + b"}" * 10000, 400),
    "nested 999 deep": (b"[" * 999 + b"]" * 999, 400),
    "nested 9 deep": (b'{"event_id": "x", "skus": ' + b"[" * 8 + b"]" * 8 + b"}", 400),
    "64 KiB + 1": (padded(65537), 413),
    "1 MiB": (padded(2**20), 413),
    "an array of 100,000 zeros": (b"[" + b"0," * 99999 + b"0]", 413),
    "a string of 10^5 characters": (json.dumps({"event_id": "a" * 10**5}).encode(), 413),
    "top level []": (b"[]", 400),
    "top level [1]": (b"[1]", 400),
    "top level 1": (b"1", 400),
    'top level "x"': (b'"x"', 400),
    "top level null": (b"null", 400),
    "top level true": (b"true", 400),
    "top level false": (b"false", 400),
    "top level 1.5": (b"1.5", 400),
    "top level {}": (b"{}", 400),
}
CONTENT_TYPES_REFUSED = [None, "", "text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/jsonx", "text/json",
                         "application/json-patch+json", "application/xml",
                         "application/json, text/plain", "json"]
CONTENT_TYPES_ACCEPTED = ["application/json; charset=utf-8", "APPLICATION/JSON",
                          "application/json; charset=latin-1", "application/json;;;"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(JUNK))
def test_junk_bodies_are_refused(live, path, case):
    body, status = JUNK[case]
    send(live, "body", path, body, expect={status}, label=case)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("content_type", CONTENT_TYPES_REFUSED)
def test_a_wrong_content_type_is_415(live, path, content_type):
    body = json.dumps(valid(live, path)).encode()
    answer = send(live, "content type", path, body, expect={415}, label=repr(content_type),
                  content_type=content_type)
    assert answer.json()["error"] == "content_type"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("content_type", CONTENT_TYPES_ACCEPTED)
def test_json_with_parameters_or_odd_case_is_accepted(live, path, content_type):
    body = json.dumps(valid(live, path)).encode()
    send(live, "content type", path, body, expect={202}, label=content_type,
         content_type=content_type, stores=True)


@pytest.mark.parametrize("path", PATHS)
def test_a_body_of_exactly_the_limit_is_read(live, path):
    event = json.dumps(valid(live, path)).encode()
    body = event[:-1] + b" " * (65536 - len(event)) + b"}"
    assert len(body) == 65536
    send(live, "body", path, body, expect={202}, label="exactly 64 KiB", stores=True)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", ["x" * 60000, "é" * 5000, "\u202e" * 1000, "\x00" * 1000])
def test_an_unknown_key_is_named_but_not_echoed(live, path, name):
    payload = {name: 1, **valid(live, path)}
    answer = send(live, "body", path, json.dumps(payload).encode(), expect={202, 400},
                  label=f"unknown key of {len(name)} {name[0]!r}", stores=path == NATIVE)
    said = answer.json()
    for words in (said.get("field", ""), said.get("message", "")):
        assert name[:101] not in words


# -- /webhooks/odoo ------------------------------------------------------------------------------

INTEGERS: dict[str, Any] = {
    "2^63": 2**63, "2^64": 2**64, "-2^63": -(2**63), "10^100": 10**100, "2^63-1": 2**63 - 1,
    "10^12": 10**12, "10^9": 10**9, "2^31": 2**31, "2^31-1": 2**31 - 1, "0": 0, "-1": -1,
    "1.0": 1.0, "true": True, "false": False, "null": None, '"1"': "1", "[1]": [1], "{}": {},
}


def fits(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


@pytest.mark.parametrize("value", list(INTEGERS))
def test_odoo_product_ids_out_of_range_are_refused(live, value):
    number = INTEGERS[value]
    ok = fits(number, 1, ODOO_MAX)
    answer = send(live, "integer", ODOO, json.dumps(valid(live, ODOO, product_ids=[number])).encode(),
                  expect={202} if ok else {400}, label=f"product_ids[0]={value}", stores=ok)
    if not ok:
        assert answer.json()["field"].startswith("product_ids")


ODOO_FIELDS: dict[str, tuple[dict[str, Any], int]] = {
    "event_id with a space": ({"event_id": "evt 1"}, 400),
    "event_id with a NUL": ({"event_id": "evt\x001"}, 400),
    "event_id with a newline": ({"event_id": "evt\n1"}, 400),
    "event_id with an escape sequence": ({"event_id": "evt\x1b[31m"}, 400),
    "event_id with a right-to-left override": ({"event_id": "evt\u202e1"}, 400),
    "event_id of 201 characters": ({"event_id": "e" * 201}, 400),
    "event_id of 300 characters": ({"event_id": "e" * 300}, 400),
    "event_id of 60,000 characters": ({"event_id": "e" * 60000}, 400),
    "event_id empty": ({"event_id": ""}, 400),
    "event_id non-ASCII": ({"event_id": "événement"}, 400),
    "event_id a number": ({"event_id": 12}, 400),
    "event_id null": ({"event_id": None}, 400),
    "event_id a lone surrogate": ({"event_id": "\ud800"}, 400),
    "odoo_time year 0001": ({"odoo_time": "0001-01-01 00:00:00"}, 400),
    "odoo_time year 0000": ({"odoo_time": "0000-01-01 00:00:00"}, 400),
    "odoo_time year 9999": ({"odoo_time": "9999-12-31 23:59:59"}, 400),
    "odoo_time in Arabic-Indic digits": (
        {"odoo_time": odoo_now().translate(ARABIC_INDIC)}, 400),
    "odoo_time in fullwidth digits": (
        {"odoo_time": odoo_now().translate(FULLWIDTH)},
        400),
    "odoo_time two days ahead": ({"odoo_time": odoo_now(2 * 86400)}, 400),
    "odoo_time two days behind": ({"odoo_time": odoo_now(-2 * 86400)}, 400),
    "odoo_time a day and a minute ahead": ({"odoo_time": odoo_now(86460)}, 400),
    "odoo_time 30 February": ({"odoo_time": "2026-02-30 00:00:00"}, 400),
    "odoo_time 24:00": ({"odoo_time": "2026-11-23 24:00:00"}, 400),
    "odoo_time a leap second": ({"odoo_time": "2026-12-31 23:59:60"}, 400),
    "odoo_time ISO with T": ({"odoo_time": odoo_now().replace(" ", "T")}, 400),
    "odoo_time 7 fraction digits": ({"odoo_time": odoo_now() + ".1234567"}, 400),
    "odoo_time a timezone": ({"odoo_time": odoo_now() + "+02:00"}, 400),
    "odoo_time empty": ({"odoo_time": ""}, 400),
    "odoo_time unix seconds": ({"odoo_time": 1700000000}, 400),
    "odoo_time of 60,000 characters": ({"odoo_time": "2" * 60000}, 400),
    "product_ids not a list": ({"product_ids": 1}, 400),
    "product_ids a string": ({"product_ids": "1,2"}, 400),
    "product_ids 5,001 ids": ({"product_ids": [1] * 5001}, 400),
    "product_ids 20,000 ids": ({"product_ids": [1] * 20000}, 400),
    "no product at all": ({"product_ids": [], "skus": []}, 400),
    "skus not a list": ({"product_ids": [], "skus": "WDG-1001"}, 400),
    "skus with a number": ({"product_ids": [], "skus": [1]}, 400),
    "skus with an empty string": ({"product_ids": [], "skus": [""]}, 400),
    "skus with blanks": ({"product_ids": [], "skus": ["  \t"]}, 400),
    "skus with 101 characters": ({"product_ids": [], "skus": ["S" * 101]}, 400),
    "skus with 60,000 characters": ({"product_ids": [], "skus": ["S" * 60000]}, 400),
    "skus 5,001 of them": ({"product_ids": [], "skus": [f"U{i}" for i in range(5001)]}, 400),
    "skus with a lone surrogate": ({"product_ids": [], "skus": ["\ud800"]}, 400),
    "skus with a NUL, unknown": ({"product_ids": [], "skus": ["WDG\x00-1001"]}, 422),
    "warehouse of 101 characters": ({"warehouse": "W" * 101}, 400),
    "warehouse a number": ({"warehouse": 1}, 400),
    "warehouse a list": ({"warehouse": ["WH"]}, 400),
    "warehouse a lone surrogate": ({"warehouse": "\udfff"}, 400),
}
ODOO_ACCEPTED: dict[str, dict[str, Any]] = {
    "event_id of 200 characters": {"event_id": "e" * 199 + "1"},
    "event_id of punctuation": {"event_id": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"},
    "odoo_time 23 hours ahead": {"odoo_time": odoo_now(23 * 3600)},
    "odoo_time with microseconds": {"odoo_time": odoo_now() + ".123456"},
    "odoo_time null": {"odoo_time": None},
    "duplicate ids": {"product_ids": [7, 7, 7]},
    "warehouse of 100 characters": {"warehouse": "W" * 100},
    "a known SKU among 4,000 unknown": {"product_ids": [],
                                        "skus": [f"U{i}" for i in range(4000)] + ["WDG-1001"]},
}


@pytest.mark.parametrize("case", list(ODOO_FIELDS))
def test_odoo_event_fields_are_checked(live, case):
    fields, status = ODOO_FIELDS[case]
    body = json.dumps(valid(live, ODOO, **fields)).encode()
    answer = send(live, "odoo field", ODOO, body, expect={status}, label=case)
    assert "S" * 101 not in answer.content.decode() and "e" * 201 not in answer.content.decode()


@pytest.mark.parametrize("case", list(ODOO_ACCEPTED))
def test_odoo_events_at_the_edges_are_accepted(live, case):
    body = json.dumps(valid(live, ODOO, **ODOO_ACCEPTED[case])).encode()
    send(live, "odoo field", ODOO, body, expect={202}, label=case, stores=True)


def test_5000_unknown_skus_are_counted_not_echoed(live):
    skus = [f"U{i:04d}" for i in range(5000)]
    body = json.dumps(valid(live, ODOO, product_ids=[], skus=skus)).encode()
    assert len(body) < 65536
    answer = send(live, "odoo field", ODOO, body, expect={422}, label="5,000 unknown SKUs")
    assert len(answer.content) < 1024
    assert "U0001" not in answer.content.decode() and "5000" in answer.json()["message"]


# -- /webhooks/woocommerce -----------------------------------------------------------------------

SHOP_INTEGERS = {
    "order.id": (1, SHOP_MAX), "order.lines.0.line_id": (1, SHOP_MAX),
    "order.lines.0.product_id": (0, SHOP_MAX), "order.lines.0.variation_id": (0, SHOP_MAX),
    "order.lines.0.quantity": (0, MAX_LINE_QUANTITY),
    "order.lines.0.refunded_quantity": (0, MAX_LINE_QUANTITY),
    "refund.id": (1, SHOP_MAX), "refund.lines.0.line_id": (1, SHOP_MAX),
    "refund.lines.0.quantity": (0, MAX_LINE_QUANTITY),
}


def refunded(live) -> dict[str, Any]:
    return valid(live, SHOP, event="order.refunded", refund={
        "id": 1, "amount": "1.00", "restock": True, "lines": [{"line_id": 1, "quantity": 1}]})


def put(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = payload
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parents:
        node = node[part]
    node[last] = value
    return payload


@pytest.mark.parametrize("value", list(INTEGERS))
@pytest.mark.parametrize("field", list(SHOP_INTEGERS))
def test_order_integers_out_of_range_are_refused(live, field, value):
    number = INTEGERS[value]
    ok = fits(number, *SHOP_INTEGERS[field])
    body = json.dumps(put(refunded(live), field, number)).encode()
    answer = send(live, "integer", SHOP, body, expect={202} if ok else {400},
                  label=f"{field}={value}", stores=ok)
    if not ok:
        shown = answer.json()["field"].replace("[", ".").replace("]", "")
        assert shown == field


def test_an_order_id_of_2_63_is_refused_where_it_arrives(live):
    """It used to be stored, and then killed the worker with an OverflowError in SQLite."""
    body = json.dumps(put(valid(live, SHOP), "order.id", 2**63)).encode()
    answer = send(live, "integer", SHOP, body, expect={400}, label="order.id=2^63")
    assert answer.json()["field"] == "order.id"


@pytest.mark.parametrize("quantity", [10**12, 10**9, MAX_LINE_QUANTITY + 1])
def test_a_line_quantity_over_max_line_quantity_is_refused(live, quantity):
    body = json.dumps(put(valid(live, SHOP), "order.lines.0.quantity", quantity)).encode()
    answer = send(live, "integer", SHOP, body, expect={400}, label=f"quantity={quantity}")
    assert answer.json()["field"] in ("order.lines.0.quantity", "order.lines[0].quantity")


def other_shops(url: str) -> dict[str, str]:
    host_port = url.removeprefix("http://")
    port = int(host_port.rsplit(":", 1)[1])
    return {
        "another host": "https://evil.example.com",
        "another port": f"http://127.0.0.1:{port + 1}",
        "https for http": f"https://{host_port}",
        "a path": f"{url}/shop",
        "user info naming the shop": f"http://{host_port}@evil.example.com",
        "the shop as user info": f"http://evil.example.com@{host_port}",
        "a longer host": f"http://127.0.0.1.evil.example.com:{port}",
        "empty": "",
        "no scheme": host_port,
        "javascript:": "javascript:alert(1)",
        "an unclosed IPv6 bracket": "http://[::1",
        "a bracketed name": "http://[evil.example.com]/",
        "an NFKC-invalid host": "http://127.0.0.1\uff03:80",
        "a port out of range": "http://127.0.0.1:99999",
        "an Arabic-Indic port": f"http://127.0.0.1:{str(port).translate(ARABIC_INDIC)}",
        "a NUL": f"{url}\x00",
        "a query": f"{url}/?shop=other",
        "a fragment": f"{url}#other",
        "a password": f"http://admin:secret@{host_port}",
        "501 characters": f"{url}/" + "a" * 500,
        "60,000 characters": "h" * 60000,
    }


@pytest.mark.parametrize("case", list(other_shops("http://127.0.0.1:1")))
def test_an_event_from_another_shop_is_refused(live, case):
    store_url = other_shops(live.shop.url)[case]
    body = json.dumps(valid(live, SHOP, store_url=store_url)).encode()
    answer = send(live, "store_url", SHOP, body, expect={400}, label=case)
    assert answer.json()["field"] == "store_url"


@pytest.mark.parametrize("variant", ["trailing slash", "upper case", "explicit default port"])
def test_the_same_shop_written_differently_is_accepted(live, variant):
    url = live.shop.url
    store_url = {"trailing slash": url + "/", "upper case": url.upper(),
                 "explicit default port": url}[variant]
    body = json.dumps(valid(live, SHOP, store_url=store_url)).encode()
    send(live, "store_url", SHOP, body, expect={202}, label=variant, stores=True)


SHOP_FIELDS: dict[str, tuple[str, Any]] = {
    "event unknown": ("event", "order.hacked"),
    "event empty": ("event", ""),
    "event TEST": ("event", "TEST"),
    "event a number": ("event", 1),
    "event_id with a space": ("event_id", "a b"),
    "event_id of 300 characters": ("event_id", "e" * 300),
    "event_id with control characters": ("event_id", "a\x07\x08\x7f"),
    "order missing": ("order", None),
    "order a list": ("order", []),
    "order.number empty": ("order.number", ""),
    "order.number of 51 characters": ("order.number", "9" * 51),
    "order.status empty": ("order.status", ""),
    "order.status of 60,000 characters": ("order.status", "s" * 60000),
    "order.date_modified in Arabic-Indic digits": ("order.date_modified", "٢٠٢٦-١١-٢٣T١٣:٥٢:٣٠Z"),
    "order.date_modified a number": ("order.date_modified", 1700000000),
    "order.date_modified free text": ("order.date_modified", "yesterday"),
    "order.currency of 11 characters": ("order.currency", "E" * 11),
    "order.customer.email of 255 characters": ("order.customer.email", "e" * 243 + "@example.com"),
    "order.customer a string": ("order.customer", "bob"),
    "order.lines not a list": ("order.lines", {"line_id": 1}),
    "order.lines 1,001 lines": ("order.lines", [{"line_id": 1, "product_id": 0, "quantity": 0}]
                                * 1001),
    "order.lines.0 an unknown key": ("order.lines.0.price", "1.00"),
    "order.lines.0.sku of 101 characters": ("order.lines.0.sku", "S" * 101),
    "order.lines.0.sku a lone surrogate": ("order.lines.0.sku", "\ud800"),
    "order.lines.0.sku a number": ("order.lines.0.sku", 1001),
    "sent_at of 51 characters": ("sent_at", "2" * 51),
    "refund a string": ("refund", "all"),
    "refund.amount a number": ("refund", {"id": 1, "amount": 1.0, "lines": []}),
    "refund.restock a string": ("refund", {"id": 1, "restock": "yes", "lines": []}),
}


@pytest.mark.parametrize("case", list(SHOP_FIELDS))
def test_order_event_fields_are_checked(live, case):
    field, value = SHOP_FIELDS[case]
    body = json.dumps(put(valid(live, SHOP), field, value)).encode()
    send(live, "order field", SHOP, body, expect={400}, label=case)


def test_the_plugin_test_button_stores_nothing(live):
    body = json.dumps({"event_id": "t", "event": "test", "store_url": "x" * 1000,
                       "order": {"id": 2**64}}).encode()
    answer = send(live, "order field", SHOP, body, expect={200}, label="event test")
    assert answer.json()["status"] == "ok"


# -- /webhooks/odoo-native/<token> ---------------------------------------------------------------

@pytest.mark.parametrize("value", list(INTEGERS))
@pytest.mark.parametrize("field", ["_id", "product_id", "product_id as [id, name]"])
def test_native_ids_out_of_range_are_refused(live, field, value):
    number = INTEGERS[value]
    # Odoo sends a many2one as [id, name]; its first item is the id.
    ok = fits(number[0] if field == "product_id" and isinstance(number, list) and number
              else number, 1, ODOO_MAX)
    fields = ({"product_id": [number, "Widget"]} if field == "product_id as [id, name]"
              else {field: number})
    body = json.dumps(valid(live, NATIVE, **fields)).encode()
    answer = send(live, "integer", NATIVE, body, expect={202} if ok else {400},
                  label=f"{field}={value}", stores=ok)
    if not ok:
        assert answer.json()["field"] == field.split()[0]


NATIVE_FIELDS: dict[str, tuple[dict[str, Any], int]] = {
    "_model another model": ({"_model": "res.partner"}, 400),
    "_model with a blank": ({"_model": "stock.quant "}, 400),
    "_model a number": ({"_model": 5}, 400),
    "_model null": ({"_model": None}, 400),
    "_model a list": ({"_model": ["stock.quant"]}, 400),
    "_model an object": ({"_model": {"stock.quant": 1}}, 400),
    "product_id an empty list": ({"product_id": []}, 400),
    "product_id a nested list": ({"product_id": [[1]]}, 400),
    "product_id a name first": ({"product_id": ["Widget", 1]}, 400),
    "product_id missing": ({"product_id": None}, 400),
    "write_date a number": ({"write_date": 1700000000}, 400),
    "write_date a list": ({"write_date": ["2026-11-23 13:52:26"]}, 400),
    "write_date an object": ({"write_date": {"$date": 1}}, 400),
    "write_date of 60,000 characters": ({"write_date": "2" * 60000}, 400),
    "write_date of 27 characters": ({"write_date": odoo_now() + ".1234567"}, 400),
    "write_date in Arabic-Indic digits": (
        {"write_date": odoo_now().translate(ARABIC_INDIC)}, 400),
    "write_date ISO with T": ({"write_date": odoo_now().replace(" ", "T")}, 400),
    "write_date a lone surrogate": ({"write_date": "\ud800"}, 400),
    "write_date false": ({"write_date": False}, 400),
}
# The body is only a hint (Odoo is read anyway): an odd date stands in as the receipt time.
NATIVE_ACCEPTED: dict[str, dict[str, Any]] = {
    "write_date year 0001": {"write_date": "0001-01-01 00:00:00"},
    "write_date year 9999": {"write_date": "9999-12-31 23:59:59"},
    "write_date 30 February": {"write_date": "2026-02-30 10:00:00"},
    "write_date 99:99:99": {"write_date": "2026-11-23 99:99:99"},
    "write_date null": {"write_date": None},
    "stock.move": {"_model": "stock.move"},
    "extra unknown fields": {"quantity": 10**100, "location_id": [2**70, "x" * 1000]},
}


@pytest.mark.parametrize("case", list(NATIVE_FIELDS))
def test_native_fields_are_checked(live, case):
    fields, status = NATIVE_FIELDS[case]
    body = json.dumps(valid(live, NATIVE, **fields)).encode()
    send(live, "native field", NATIVE, body, expect={status}, label=case)


@pytest.mark.parametrize("case", list(NATIVE_ACCEPTED))
def test_native_hints_at_the_edges_are_accepted(live, case):
    body = json.dumps(valid(live, NATIVE, **NATIVE_ACCEPTED[case])).encode()
    send(live, "native field", NATIVE, body, expect={202}, label=case, stores=True)


def test_a_quant_outside_any_warehouse_is_ignored_and_not_stored(live):
    body = json.dumps(valid(live, NATIVE, warehouse_id=False)).encode()
    answer = send(live, "native field", NATIVE, body, expect={202}, label="warehouse_id false")
    assert answer.json()["status"] == "ignored"


def test_zz_the_worker_survives_the_batch(live):
    live.prove_worker_alive()
