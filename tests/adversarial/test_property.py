"""Generated requests to every POST route of the running daemon: headers (validly signed ones
among them), bodies (JSON-ish, mutated valid events, binary), content types and sizes.

Whatever is sent: never a 5xx, nothing stored on a 4xx, and afterwards the next valid event is
processed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adversarial.hostile import (
    ROUTES,
    SECRETS,
    TOKEN,
    native_body,
    odoo_event,
    order_event,
)
from woodoo.web import signing

NATIVE = f"/webhooks/odoo-native/{TOKEN}"
PATHS = [*ROUTES, NATIVE]

integers = st.one_of(st.integers(-(2**31), 2**31), st.sampled_from(
    [0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63), 10**12, 10**100]))
scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(allow_nan=False),
                    st.text(max_size=40), st.sampled_from(["", "stock.quant", "WDG-1001",
                                                           "order.created", "2026-11-23"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=40)


def valid_for(path: str, store_url: str) -> dict[str, Any]:
    if path == "/webhooks/odoo":
        return odoo_event()
    if path == "/webhooks/woocommerce":
        return order_event(store_url)
    return native_body()


def mutate(draw: st.DrawFn, node: Any) -> Any:
    """Replace, drop or add one value somewhere in a valid event."""
    if isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["replace", "descend", "drop", "add"]))
        if action == "replace":
            return {**node, key: draw(json_values)}
        if action == "descend":
            return {**node, key: mutate(draw, node[key])}
        if action == "drop":
            return {k: v for k, v in node.items() if k != key}
        return {**node, draw(st.text(max_size=30)): draw(json_values)}
    if isinstance(node, list) and node:
        index = draw(st.integers(0, len(node) - 1))
        return [*node[:index], mutate(draw, node[index]), *node[index + 1:]]
    return draw(json_values)


@st.composite
def requests_to_the_daemon(draw: st.DrawFn, store_url: str) -> tuple[str, bytes, dict[str, Any]]:
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.sampled_from(["mutated", "mutated", "json", "binary", "sized"]))
    if kind == "mutated":
        body = json.dumps(mutate(draw, valid_for(path, store_url))).encode()
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "binary":
        body = draw(st.binary(max_size=4000))
    else:
        size = draw(st.sampled_from([0, 1, 1023, 65535, 65536, 65537, 200_000]))
        filler = draw(st.sampled_from([b" ", b"[", b"{", b"9", b"\xff"]))
        body = (b"{}" + filler * size)[:size]
    headers: dict[str, Any] = {}
    content_type = draw(st.one_of(
        st.sampled_from(["application/json"] * 6 + ["text/plain", "application/json; x=y",
                                                     "multipart/form-data"]),
        st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)))
    if content_type is not None:
        headers["Content-Type"] = content_type
    signature = draw(st.sampled_from(["valid", "valid", "valid", "none", "text", "bytes",
                                      "other route", "stale", "random v2"]))
    now = int(time.time())
    route, secret = ROUTES.get(path, signing.ODOO_EVENTS), SECRETS.get(path, SECRETS["/webhooks/odoo"])
    if signature == "valid":
        headers[signing.HEADER] = signing.sign(body, secret, route)
    elif signature == "text":
        headers[signing.HEADER] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                               max_size=600))
    elif signature == "bytes":
        headers[signing.HEADER] = draw(st.binary(max_size=600)).translate(None, b"\r\n")
    elif signature == "other route":
        other = signing.SHOP_EVENTS if route == signing.ODOO_EVENTS else signing.ODOO_EVENTS
        headers[signing.HEADER] = signing.sign(body, secret, other)
    elif signature == "stale":
        headers[signing.HEADER] = signing.sign(body, secret, route,
                                               now + draw(st.sampled_from([-1, 1])) * 10**6)
    elif signature == "random v2":
        headers[signing.HEADER] = f"t={now},v2={draw(st.binary(min_size=32, max_size=32)).hex()}"
    if path == NATIVE and draw(st.booleans()):
        path = "/webhooks/odoo-native/" + draw(st.sampled_from([TOKEN[:-1], TOKEN + "x", "x"]))
    return path, body, headers


def test_generated_requests_never_5xx_and_never_store_a_rejection(live):
    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(requests_to_the_daemon(live.shop.url))
    def check(request: tuple[str, bytes, dict[str, Any]]) -> None:
        path, body, headers = request
        live.target.hostile("generated", "POST", path, body=body, headers=headers,
                            label=f"{len(body)} bytes", stores=True)

    check()
    live.prove_worker_alive()
