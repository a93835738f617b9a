"""Hostile HTTP itself (framing, methods, paths, tokens) and the GET endpoints; the native
route's rate limit on a server of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from adversarial.hostile import (
    ODOO_SECRET,
    SHOP_SECRET,
    TOKEN,
    Target,
    fresh_id,
    native_body,
    odoo_event,
    raw_exchange,
)
from woodoo import config as config_module
from woodoo import daemon
from woodoo.state import State
from woodoo.web import signing
from woodoo.web.metrics import Metrics
from woodoo.web.webhooks import create_app

HOST = "Host: 127.0.0.1\r\nContent-Type: application/json"
B = b"<body>"  # stands for a validly signed event of the case's own


def framing_cases() -> dict[str, tuple[str, bytes, set[int]]]:
    """Request head, body (B: a signed event), and the answers allowed (0: closed at once)."""
    post = f"POST /webhooks/odoo HTTP/1.1\r\n{HOST}"
    return {
        "Content-Length not a number": (f"{post}\r\nContent-Length: abc", B, {400}),
        "Content-Length negative": (f"{post}\r\nContent-Length: -1", B, {400}),
        "Content-Length of 2^64": (f"{post}\r\nContent-Length: {2**64}", B, {400, 413}),
        "Content-Length of 400 digits": (f"{post}\r\nContent-Length: {'9' * 400}", B,
                                         {400, 413}),
        "two different Content-Length": (f"{post}\r\nContent-Length: 3\r\nContent-Length: @",
                                         B, {400}),
        # 0 also when the server still waits for the rest after a second and a half: a
        # stalled body, held until server.channel_timeout like any slow client.
        "Content-Length and chunked": (f"{post}\r\nContent-Length: @\r\n"
                                       "Transfer-Encoding: chunked", B, {0, 400}),
        "a bad chunk size": (f"{post}\r\nTransfer-Encoding: chunked",
                             b"zz\r\n" + B + b"\r\n0\r\n\r\n", {0, 400}),
        "a chunk size of 2^64": (f"{post}\r\nTransfer-Encoding: chunked",
                                 b"10000000000000000\r\nxx", {0, 400, 413}),
        "a chunk over the limit": (f"{post}\r\nTransfer-Encoding: chunked",
                                   b"20000\r\n" + b"x" * 70000, {0, 413}),
        "a header without a colon": (f"{post}\r\nNoColonHere\r\nContent-Length: @", B, {400}),
        "a space before the colon": (f"{post}\r\nContent-Length : @", B, {400}),
        "headers of 20 KB": (f"{post}\r\nX-Big: {'b' * 20000}\r\nContent-Length: @", B,
                             {400, 431}),
        "a URL of 20 KB": (f"POST /webhooks/odoo?{'q' * 20000} HTTP/1.1\r\n{HOST}\r\n"
                           "Content-Length: @", B, {400, 414, 431}),
        "a NUL in the path": (f"POST /webhooks/odoo\x00 HTTP/1.1\r\n{HOST}\r\n"
                              "Content-Length: @", B, {0, 400, 404}),
        "a lower-case method": (f"post /webhooks/odoo HTTP/1.1\r\n{HOST}\r\nContent-Length: @",
                                B, {400, 405}),
        "an unknown method": (f"BREW /webhooks/odoo HTTP/1.1\r\n{HOST}\r\nContent-Length: @",
                              B, {405}),
        "an absolute URI of another host": (
            f"POST http://evil.example.com/webhooks/odoo HTTP/1.1\r\n{HOST}\r\n"
            "Content-Length: @", B, {0, 202, 400}),
        "a duplicate signature header": (f"{post}\r\nX-Woodoo-Signature: @sig\r\n"
                                         "Content-Length: @", B, {401}),
        "a signature header with an underscore": (
            f"{post}\r\nX_Woodoo_Signature: @sig\r\nContent-Length: @", B, {202, 401}),
        "a raw UTF-8 token": ("POST /webhooks/odoo-native/\u20ac\u20ac HTTP/1.1\r\n"
                              f"{HOST}\r\nContent-Length: 2", b"{}", {400, 401}),
        "a garbage request line": ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10,
                                   b"", {0, 400}),
        "HTTP/2 preface": ("PRI * HTTP/2.0", b"SM\r\n\r\n", {0, 400, 404, 405}),
        # Well-formed after all: waitress unfolds and joins as HTTP says; the event is taken.
        "an obs-fold continuation": (f"{post}\r\nX-Thing: a\r\n b\r\nContent-Length: @", B,
                                     {202}),
        "1,000 headers": (f"{post}\r\n" + "".join(f"X-H{i}: {i}\r\n" for i in range(1000))
                          + "Content-Length: @", B, {202}),
        "HTTP/1.0": (f"POST /webhooks/odoo HTTP/1.0\r\n{HOST}\r\nContent-Length: @", B, {202}),
        "the signature split over two header lines": (
            f"{post}\r\nX-Woodoo-Signature: @t\r\nX-Woodoo-Signature: @v2\r\n"
            "Content-Length: @", B, {202}),
    }


def build(case: str) -> bytes:
    """The case's request, with a fresh signed event where it says B and its numbers filled in."""
    head, body, _ = framing_cases()[case]
    event = json.dumps({"event_id": fresh_id("raw"), "product_ids": [1]}).encode()
    body = body.replace(B, event)
    signature = signing.sign(event, ODOO_SECRET, signing.ODOO_EVENTS)
    timestamp, digest = signature.split(",")
    # Every case carries the right signature header too, unless the case is about that header.
    own = "" if "@t" in head or "_Woodoo_" in head else f"\r\n{signing.HEADER}: {signature}"
    head = (head.replace("@sig", signature).replace("@t", timestamp).replace("@v2", digest)
            .replace("Content-Length: @", f"Content-Length: {len(body)}"))
    return (head + own).encode() + b"\r\n\r\n" + body


@pytest.mark.parametrize("case", list(framing_cases()))
def test_malformed_http_is_refused(live, case):
    expect = framing_cases()[case][2]
    live.target.raw("http", build(case), expect=expect, label=case, stores=202 in expect)


def test_an_unknown_transfer_coding_is_501_as_http_requires(live):
    """RFC 9112 6.1: a transfer coding the server does not know is answered 501, by waitress
    before the app sees it. The one 5xx allowed, counted apart from the app's answers."""
    event = json.dumps({"event_id": fresh_id("raw"), "product_ids": [1]}).encode()
    data = (f"POST /webhooks/odoo HTTP/1.1\r\n{HOST}\r\nTransfer-Encoding: gzip\r\n"
            f"{signing.HEADER}: {signing.sign(event, ODOO_SECRET, signing.ODOO_EVENTS)}\r\n\r\n"
            ).encode() + event
    before = live.target.stored()
    status = raw_exchange(live.target.host, live.target.port, data)[0]
    assert status == 501 and live.target.stored() == before
    assert live.worker_problem() is None


NATIVE_TOKENS = {
    "wrong": "guess-" + "x" * 40,
    "one character": "x",
    "a prefix of the token": TOKEN[:-1],
    "the token and more": TOKEN + "x",
    "the token upper-cased": TOKEN.upper(),
    "the Odoo secret": ODOO_SECRET,
    "10 KB": "t" * 10240,
    "percent-encoded euro signs": "%E2%82%AC" * 20,
    "invalid percent-encoding": "%FF%FE%00",
    "a percent-encoded NUL": TOKEN + "%00",
    "a percent-encoded slash": TOKEN + "%2F",
    "dot segments": "..%2F..%2Fhealthz",
    "a semicolon parameter": TOKEN + ";x=1",
}


@pytest.mark.parametrize("case", list(NATIVE_TOKENS))
def test_a_wrong_native_token_is_401(live, case):
    body = json.dumps(native_body()).encode()
    live.target.hostile("native token", "POST", f"/webhooks/odoo-native/{NATIVE_TOKENS[case]}",
                        body=body, headers={"Content-Type": "application/json"},
                        expect={401, 404}, label=case)


@pytest.mark.parametrize("path", ["/webhooks/odoo-native/", "/webhooks/odoo-native",
                                  f"/webhooks/odoo-native/{TOKEN}/extra",
                                  f"/webhooks/odoo-native/{TOKEN}/..", "/webhooks/",
                                  "/webhooks/odoo/", "/webhooks/woocommerce/x", "/%2e%2e/etc/passwd",
                                  "/" + "a" * 8000])
def test_unknown_paths_are_404(live, path):
    live.target.hostile("path", "POST", path, body=b"{}",
                        headers={"Content-Type": "application/json"}, expect={404, 405, 308},
                        label=path[:40])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT"])
@pytest.mark.parametrize("path", ["/webhooks/odoo", "/webhooks/woocommerce",
                                  f"/webhooks/odoo-native/{TOKEN}"])
def test_other_methods_on_the_webhook_routes_are_405(live, method, path):
    live.target.hostile("method", method, path, body=b"{}",
                        headers={"Content-Type": "application/json"}, expect={400, 405},
                        label=method)


GETS = {
    "/healthz with a 10 KB query": ("GET", "/healthz?" + "q=1&" * 2500, {200}),
    "/readyz with a 10 KB query": ("GET", "/readyz?" + "q=1&" * 2500, {200}),
    "/metrics with a 10 KB query": ("GET", "/metrics?" + "name[]=x&" * 1100, {200}),
    "/healthz with a body": ("GET", "/healthz", {200}),
    "/healthz HEAD": ("HEAD", "/healthz", {200}),
    "/metrics HEAD": ("HEAD", "/metrics", {200}),
    "/healthz POST": ("POST", "/healthz", {405}),
    "/readyz POST": ("POST", "/readyz", {405}),
    "/metrics DELETE": ("DELETE", "/metrics", {405}),
    "/healthz/": ("GET", "/healthz/", {404}),
    "/metrics/../healthz": ("GET", "/metrics/../healthz", {200, 404}),
    "/readyz?format=../../etc/passwd": ("GET", "/readyz?format=../../etc/passwd", {200}),
}


@pytest.mark.parametrize("case", list(GETS))
def test_the_get_endpoints_take_hostile_requests(live, case):
    method, path, expect = GETS[case]
    body = b'{"x": 1}' if "with a body" in case else b""
    live.target.hostile("get", method, path, body=body, expect=expect, label=case,
                        headers={"Accept": "*/*;q=" + "9" * 1000, "Accept-Encoding": "gzip" * 500})


@pytest.fixture
def limited(tmp_path) -> Iterator[Target]:
    """The app served by the daemon's `serve`, with a native rate limit of 2 per second."""
    text = yaml.safe_dump({
        "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
                 "warehouses": ["WH"]},
        "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck",
                        "consumer_secret": "cs"},
        "server": {"port": 0, "host": "127.0.0.1"},
        "webhooks": {"odoo_secrets": [ODOO_SECRET], "shop_secrets": [SHOP_SECRET],
                     "native_tokens": [TOKEN], "native_rate_limit": 2},
        "state": {"path": "w.sqlite"},
    })
    config = config_module.parse(text, base_dir=tmp_path)
    state = State(config.state.path)
    server = daemon.serve(create_app(config, state, Metrics()), config).start()
    target = Target(f"http://127.0.0.1:{server.port}", Path(config.state.path))
    try:
        yield target
    finally:
        server.stop(grace=1)
        target.close()
        state.close()


def test_the_native_route_is_rate_limited(limited):
    answers = [limited.hostile("native rate", "POST", f"/webhooks/odoo-native/{TOKEN}",
                               body=json.dumps(native_body(_model="stock.move")).encode(),
                               headers={"Content-Type": "application/json"}, expect={202, 429},
                               label=f"burst {i}", stores=True) for i in range(30)]
    codes = [a.status_code for a in answers]
    assert codes[:2] == [202, 202] and codes.count(429) >= 25
    assert all(a.headers.get("Retry-After") == "1" for a in answers if a.status_code == 429)
    # A wrong token is refused before the limit is spent, and is never stored.
    limited.hostile("native rate", "POST", "/webhooks/odoo-native/nope", body=b"{}",
                    headers={"Content-Type": "application/json"}, expect={401}, label="bad token")


def test_an_event_with_another_daemons_body_limit_is_still_refused(limited):
    body = json.dumps(odoo_event(skus=["X" * 90] * 1000)).encode()
    limited.hostile("body", "POST", "/webhooks/odoo", body=body, expect={413},
                    headers={"Content-Type": "application/json",
                             signing.HEADER: signing.sign(body, ODOO_SECRET, signing.ODOO_EVENTS)},
                    label="90 KB")


def test_zz_the_worker_survives_the_batch(live):
    live.prove_worker_alive()
