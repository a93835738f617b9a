"""`POST /webhooks/status` over real HTTP: signed with the shop channel's secret, read-only, bounded.

The plugin's settings tab reads it (docs/order-events.md, section 4). The answer carries figures
and our own alert titles only: no customer data, no secret, no remote's error text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from woodoo import __version__
from woodoo import config as config_module
from woodoo.reporting import alerts, reconcile
from woodoo.state import State
from woodoo.web import signing
from woodoo.web.metrics import Metrics
from woodoo.web.server import HttpServer
from woodoo.web.webhooks import create_app

SHOP_SECRET = "whsec_shop_0123456789abcdefghijklmnopqr"
OLD_SHOP_SECRET = "whsec_shop_previous_0123456789abcdefghij"
ODOO_SECRET = "whsec_odoo_0123456789abcdefghijklmnopqr"
PLUGIN_SECRET = "whsec_plugin_0123456789abcdefghijklmnop"
REQUEST_ID = "5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f"
BASE = """
odoo: {url: http://127.0.0.1:1, database: d, username: u, password: p, warehouses: [WH]}
"""
KEYS = {"status", "version", "shop", "now", "orders_enabled", "last_successful_poll", "queue_depth",
        "dead_letters_open", "events_set_aside", "orders_needing_attention",
        "last_reconciliation", "breakers", "alerts", "parts"}
# What the state holds that the answer must never show.
PRIVATE = ["ann@example.com", "Ann Lee", "SKU A is not a product", "SKU-SECRET-1",
           "price refused", "10.0.0.7", "odoo-internal", SHOP_SECRET, ODOO_SECRET, PLUGIN_SECRET]


class Web:
    def __init__(self, url: str, state: State) -> None:
        self.url = url
        self.state = state
        self.session = requests.Session()

    def status(self, payload: object = None, *, secret: str = SHOP_SECRET,
               route: str = signing.SHOP_STATUS, timestamp: int | None = None,
               body: bytes | None = None, content_type: str = "application/json",
               header: str | None = None) -> requests.Response:
        body = json.dumps({} if payload is None else payload).encode() if body is None else body
        headers = {"Content-Type": content_type,
                   signing.HEADER: header or signing.sign(body, secret, route, timestamp)}
        return self.session.post(f"{self.url}/webhooks/status", data=body, headers=headers)

    def dump(self) -> str:
        return "\n".join(self.state.database.db.conn.iterdump())


def serve(tmp_path, **webhooks) -> Iterator[Web]:
    settings = {"odoo_secrets": [ODOO_SECRET], "shop_secrets": [SHOP_SECRET, OLD_SHOP_SECRET],
                **webhooks}
    text = BASE + yaml.safe_dump({
        "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck", "consumer_secret": "cs",
                        "plugin_secret": PLUGIN_SECRET},
        "webhooks": settings, "state": {"path": "w.sqlite"}, "orders": {"enabled": False}})
    config = config_module.parse(text, base_dir=tmp_path)
    state = State(config.state.path)
    app = create_app(config, state, Metrics(), readiness=lambda: (True, {}, None))
    server = HttpServer(app, host="127.0.0.1", port=0, threads=4).start()
    try:
        yield Web(f"http://127.0.0.1:{server.port}", state)
    finally:
        server.stop()
        state.close()


@pytest.fixture
def web(tmp_path) -> Iterator[Web]:
    yield from serve(tmp_path)


def seed(state: State, now: float) -> None:
    """A daemon with something to say: waiting and failed events, a dead letter, an order needing
    attention, a good poll, a reconciliation with drift, Odoo's breaker open and its alert."""
    state.events.enqueue("odoo", "evt-1", {"product_ids": [1]}, event_time=now, due_at=now)
    state.events.enqueue("odoo", "evt-2", {"product_ids": [2]}, event_time=now, due_at=now)
    state.events.enqueue("woocommerce", "evt-3", {"customer": {"email": "ann@example.com"}},
                         event_time=now, due_at=now)
    state.dead_letters.add("SKU-SECRET-1", "price refused", "poll")
    state.runs.record("poll", "run-1", now - 30)
    with state.database.atomic() as db:
        db.execute("update events set failed_at = ? where event_id = 'evt-3'", [now])
        db["orders"].insert({
            "order_id": 41, "number": "41", "status": "processing", "sync_needed": 0,
            "payload": json.dumps({"customer": {"email": "ann@example.com",
                                                "first_name": "Ann", "last_name": "Lee"}}),
            "attention": "SKU A is not a product in Odoo", "received_at": now, "updated_at": now})
    state.runs.set_meta(reconcile.LAST_RUN, repr(now - 3600.5))
    state.runs.set_meta(reconcile.LAST_DRIFT, json.dumps(
        {"items": 3, "units": 12, "at": now - 3600.5}))
    state.runs.set_meta("breaker_odoo", json.dumps(
        {"state": "open", "failures": 5, "since": now - 120, "open_until": now + 10,
         "last_error": "connection refused by 10.0.0.7 (odoo-internal)"}))
    state.runs.set_meta(alerts.ACTIVE, json.dumps(
        {"unreachable_odoo": {"since": now - 120, "reminded": now - 120,
                              "title": "Odoo is unreachable"},
         "dead_letters": {"since": now - 60, "reminded": now - 60,
                          "title": "Stock updates were given up"}}))


def test_a_signed_request_answers_the_figures(web):
    now = time.time()
    seed(web.state, now)
    answer = web.status()
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.json()
    assert set(data) == KEYS
    assert data["status"] == "ok" and data["version"] == __version__
    assert abs(data["now"] - now) < 60
    assert data["orders_enabled"] is False
    assert data["last_successful_poll"] == int(now - 30)
    assert (data["queue_depth"], data["dead_letters_open"], data["events_set_aside"],
            data["orders_needing_attention"]) == (2, 1, 1, 1)
    assert data["last_reconciliation"] == {"at": int(now - 3600.5), "drift_items": 3,
                                           "drift_units": 12}
    assert data["breakers"] == {
        "odoo": {"state": "open", "since": int(now - 120), "failures": 5},
        "woocommerce": {"state": "closed", "since": None, "failures": 0}}
    assert data["alerts"] == [
        {"key": "unreachable_odoo", "title": "Odoo is unreachable", "since": int(now - 120)},
        {"key": "dead_letters", "title": "Stock updates were given up", "since": int(now - 60)}]
    for private in PRIVATE:
        assert private not in answer.text


def test_a_request_id_and_the_previous_secret_are_accepted(web):
    assert web.status({"request_id": REQUEST_ID}).status_code == 200
    assert web.status({}, secret=OLD_SHOP_SECRET).status_code == 200  # during a rotation


def test_a_fresh_daemon_answers_nothing_yet(web):
    data = web.status().json()
    assert data["last_successful_poll"] is None
    assert data["last_reconciliation"] is None
    assert (data["queue_depth"], data["dead_letters_open"], data["events_set_aside"],
            data["orders_needing_attention"]) == (0, 0, 0, 0)
    assert data["breakers"]["odoo"] == {"state": "closed", "since": None, "failures": 0}
    assert data["alerts"] == []


def test_a_damaged_meta_value_is_unknown_not_a_500(web):
    web.state.runs.set_meta("breaker_woocommerce", "{not json")
    web.state.runs.set_meta("breaker_odoo", json.dumps({"state": "<script>", "since": "x"}))
    web.state.runs.set_meta(reconcile.LAST_RUN, "yesterday")
    web.state.runs.set_meta(reconcile.LAST_DRIFT, json.dumps({"items": "many", "units": -1,
                                                              "at": 1795441954}))
    web.state.runs.set_meta(alerts.ACTIVE, json.dumps({"a": "b", "c": {"title": "x" * 500}}))
    answer = web.status()
    assert answer.status_code == 200
    data = answer.json()
    assert data["breakers"]["woocommerce"]["state"] == "closed"  # unreadable: as never recorded
    assert data["breakers"]["odoo"] == {"state": "unknown", "since": None, "failures": None}
    assert data["last_reconciliation"] == {"at": 1795441954, "drift_items": None,
                                           "drift_units": None}
    assert data["alerts"] == [{"key": "c", "title": "x" * 200, "since": None}]


@pytest.mark.parametrize(("case", "reason"), [
    ("unsigned", "bad_signature"),
    ("signed for the order events route", "bad_signature"),
    ("signed for the stock route", "bad_signature"),
    ("the Odoo channel's secret", "bad_signature"),
    ("the stock secret", "bad_signature"),
    ("tampered body", "bad_signature"),
    ("stale timestamp", "stale_timestamp"),
    ("future timestamp", "stale_timestamp"),
    ("v1 header", "bad_signature"),
])
def test_anything_but_the_shop_secret_for_this_route_is_401(web, case, reason):
    seed(web.state, time.time())
    before = web.dump()
    body = b"{}"
    kwargs: dict = {}
    if case == "unsigned":
        answer = web.session.post(f"{web.url}/webhooks/status", data=body,
                                  headers={"Content-Type": "application/json"})
    else:
        if case == "signed for the order events route":
            kwargs["route"] = signing.SHOP_EVENTS
        elif case == "signed for the stock route":
            kwargs["route"] = signing.PLUGIN_STOCK
        elif case == "the Odoo channel's secret":
            kwargs["secret"] = ODOO_SECRET
        elif case == "the stock secret":
            kwargs["secret"] = PLUGIN_SECRET
        elif case == "tampered body":
            kwargs["header"] = signing.sign(b'{"request_id":"' + REQUEST_ID.encode() + b'"}',
                                            SHOP_SECRET, signing.SHOP_STATUS)
        elif case == "stale timestamp":
            kwargs["timestamp"] = int(time.time()) - 301
        elif case == "future timestamp":
            kwargs["timestamp"] = int(time.time()) + 301
        elif case == "v1 header":
            kwargs["header"] = f"t={int(time.time())},v1={'0' * 64}"
        answer = web.status(body=body, **kwargs)
    assert answer.status_code == 401
    assert answer.json()["error"] == reason
    assert set(answer.json()) <= {"error", "message"}  # no figure leaks with a refusal
    assert web.dump() == before


@pytest.mark.parametrize("body", [
    b"[]", b"null", b'"x"', b"", b"{", b'{"request_id": null}', b'{"request_id": ""}',
    b'{"request_id": "5F0C3A9E1B7D4C2A8E6F0B1D3C5A7E9F"}', b'{"request_id": "5f0c3a9e"}',
    b'{"request_id": "5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f\\n"}', b'{"request_id": 12}',
    b'{"max_events": 100}', b'{"request_id": "' + REQUEST_ID.encode() + b'", "x": 1}',
    b'{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}',
], ids=lambda b: b.decode()[:40] or "empty")
def test_a_signed_body_other_than_the_two_shapes_is_400(web, body):
    before = web.dump()
    answer = web.status(body=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] in {"schema", "malformed_json", "too_deep"}
    assert "5F0C3A9E" not in answer.text  # the value is never echoed
    assert web.dump() == before


def test_size_content_type_and_method_are_checked(web):
    big = json.dumps({"request_id": REQUEST_ID, "pad": "x" * 2000}).encode()
    answer = web.status(body=big)
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    answer = web.status(body=b"{}", content_type="text/plain")
    assert (answer.status_code, answer.json()["error"]) == (415, "content_type")
    assert web.session.get(f"{web.url}/webhooks/status").status_code == 405


def test_a_replay_only_reads_again_and_nothing_is_written(web):
    seed(web.state, time.time())
    before = web.dump()
    body = json.dumps({"request_id": REQUEST_ID}).encode()
    header = signing.sign(body, SHOP_SECRET, signing.SHOP_STATUS)
    first = web.status(body=body, header=header)
    again = web.status(body=body, header=header)
    assert first.status_code == again.status_code == 200
    assert first.json()["queue_depth"] == again.json()["queue_depth"] == 2
    assert web.dump() == before


def test_without_shop_secrets_nothing_answers(tmp_path):
    for web in serve(tmp_path, shop_secrets=[]):
        answer = web.status(secret=ODOO_SECRET)
        assert (answer.status_code, answer.json()["error"]) == (401, "no_secret")


def test_the_shared_vector_signs_this_route():
    vectors = json.loads((Path(__file__).parent / "vectors" / "signatures.json").read_text("utf-8"))
    assert vectors["routes"]["shop_status"] == signing.SHOP_STATUS
    [case] = [c for c in vectors["cases"] if c["route"] == signing.SHOP_STATUS]
    assert case["valid"]
    assert signing.verify(case["body"].encode(), case["header"], [case["secret"]],
                          signing.SHOP_STATUS, now=case["timestamp"]) == case["timestamp"]
    with pytest.raises(signing.SignatureError):
        signing.verify(case["body"].encode(), case["header"], [case["secret"]],
                       signing.SHOP_EVENTS, now=case["timestamp"])


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
def test_the_plugin_signer_is_accepted_by_the_route(web):
    """What the plugin's Woodoo_Signer makes for SHOP_STATUS (wp-plugin/bin/sign.php) is taken."""
    body = json.dumps({"request_id": REQUEST_ID}, separators=(",", ":")).encode()
    signed = subprocess.run(
        ["php", str(Path(__file__).parent.parent / "wp-plugin" / "bin" / "sign.php"), SHOP_SECRET,
         signing.SHOP_STATUS], input=body, capture_output=True, check=True, timeout=30)
    answer = web.status(body=body, header=signed.stdout.decode("ascii").strip())
    assert answer.status_code == 200, answer.text
