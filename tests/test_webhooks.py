"""The webhook endpoints over real HTTP: signatures, bad input, native notifications, health."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from woodoo import config as config_module
from woodoo.state import ShopProduct, State
from woodoo.web import signing
from woodoo.web.metrics import Metrics
from woodoo.web.server import HttpServer
from woodoo.web.webhooks import create_app

SECRET = "whsec_current_0123456789abcdefghijklmn"
OLD_SECRET = "whsec_previous_0123456789abcdefghijkl"
SHOP_SECRET = "whsec_shop_0123456789abcdefghijklmnopqr"
TOKEN = "native-token-0123456789abcdefghijklmnop"
FIXTURES = Path(__file__).parent / "fixtures"

BASE = """
odoo: {url: http://127.0.0.1:1, database: d, username: u, password: p, warehouses: [WH]}
woocommerce: {url: http://127.0.0.1:2, consumer_key: ck, consumer_secret: cs}
"""


class Web:
    """The app served by waitress on a free port, with its state."""

    def __init__(self, url: str, state: State, metrics: Metrics) -> None:
        self.url = url
        self.state = state
        self.metrics = metrics
        self.session = requests.Session()

    def signed(self, payload: dict, *, secret: str = SECRET, timestamp: int | None = None,
               body: bytes | None = None, content_type: str = "application/json"):
        body = json.dumps(payload).encode() if body is None else body
        headers = {"Content-Type": content_type,
                   signing.HEADER: signing.sign(body, secret, signing.ODOO_EVENTS, timestamp)}
        return self.session.post(f"{self.url}/webhooks/odoo", data=body, headers=headers)

    def native(self, payload: dict, token: str = TOKEN):
        return self.session.post(f"{self.url}/webhooks/odoo-native/{token}", json=payload)

    def stored(self) -> int:
        return self.state.database.db.execute("select count(*) from events").fetchone()[0]


def serve(tmp_path, orders: bool = False, **webhooks) -> Iterator[Web]:
    settings = {"odoo_secrets": [SECRET, OLD_SECRET], "shop_secrets": [SHOP_SECRET],
                "native_tokens": [TOKEN], **webhooks}
    text = BASE + yaml.safe_dump({"webhooks": settings, "state": {"path": "w.sqlite"},
                                  "orders": {"enabled": orders}})
    config = config_module.parse(text, base_dir=tmp_path)
    state = State(config.state.path)
    state.catalog.replace([ShopProduct("WDG-1001", 11, 0, True, "no", 5, "instock"),
                           ShopProduct("T-SHIRT-Ü-€", 12, 0, True, "no", 5, "instock")])
    metrics = Metrics()
    app = create_app(config, state, metrics, readiness=lambda: (False, {"odoo": "unreachable"}, 2.04))
    server = HttpServer(app, host="127.0.0.1", port=0, threads=4).start()
    try:
        yield Web(f"http://127.0.0.1:{server.port}", state, metrics)
    finally:
        server.stop()
        state.close()


@pytest.fixture
def web(tmp_path) -> Iterator[Web]:
    yield from serve(tmp_path)


def odoo_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def event(event_id="evt-1", **fields):
    return {"event_id": event_id, "product_ids": [1], "odoo_time": odoo_now(), **fields}


def test_a_valid_signed_event_is_stored_and_acknowledged(web):
    answer = web.signed(event())
    assert answer.status_code == 202
    assert answer.json() == {"status": "queued", "event_id": "evt-1"}
    row = web.state.database.db.execute("select source, event_id, payload from events").fetchone()
    assert row[:2] == ("odoo", "evt-1")
    assert json.loads(row[2])["product_ids"] == [1]


def heartbeat(**fields):
    return {"event_id": "heartbeat-1", "heartbeat": True, "odoo_time": odoo_now(), **fields}


def test_a_signed_heartbeat_is_answered_alive_and_stores_nothing(web):
    answer = web.signed(heartbeat())
    assert (answer.status_code, answer.json()) == (200, {"status": "alive",
                                                         "event_id": "heartbeat-1"})
    assert web.stored() == 0


@pytest.mark.parametrize(("fields", "status", "field"), [
    ({"product_ids": [1]}, 400, "heartbeat"), ({"skus": ["WDG-1001"]}, 400, "heartbeat"),
    ({"warehouse": "WH"}, 400, "heartbeat"), ({"heartbeat": "yes"}, 400, "heartbeat"),
    ({"odoo_time": "2099-01-01 00:00:00"}, 400, "odoo_time"),
])
def test_a_heartbeat_that_names_anything_is_refused_and_stores_nothing(web, fields, status, field):
    answer = web.signed(heartbeat(**fields))
    assert (answer.status_code, answer.json().get("field")) == (status, field)
    assert web.stored() == 0


def test_an_unsigned_heartbeat_is_401(web):
    answer = web.session.post(f"{web.url}/webhooks/odoo", json=heartbeat())
    assert answer.status_code == 401 and web.stored() == 0


def test_a_replayed_event_id_is_acknowledged_once(web):
    assert web.signed(event()).json()["status"] == "queued"
    again = web.signed(event())
    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    assert web.stored() == 1


@pytest.mark.parametrize(("case", "reason"), [
    ("wrong secret", "bad_signature"),
    ("tampered body", "bad_signature"),
    ("stale timestamp", "stale_timestamp"),
    ("future timestamp", "stale_timestamp"),
    ("no header", "bad_signature"),
])
def test_bad_signatures_are_401_and_store_nothing(web, case, reason):
    body = json.dumps(event()).encode()
    headers = {"Content-Type": "application/json"}
    if case == "wrong secret":
        headers[signing.HEADER] = signing.sign(body, "not-the-secret" * 3, signing.ODOO_EVENTS)
    elif case == "tampered body":
        headers[signing.HEADER] = signing.sign(body, SECRET, signing.ODOO_EVENTS)
        body = body.replace(b"[1]", b"[2]")
    elif case == "stale timestamp":
        headers[signing.HEADER] = signing.sign(body, SECRET, signing.ODOO_EVENTS, int(time.time()) - 301)
    elif case == "future timestamp":
        headers[signing.HEADER] = signing.sign(body, SECRET, signing.ODOO_EVENTS, int(time.time()) + 301)
    answer = web.session.post(f"{web.url}/webhooks/odoo", data=body, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == reason
    assert web.stored() == 0
    assert f'woodoo_events_rejected_total{{reason="{reason}",source="odoo"}} 1.0' in (
        web.session.get(f"{web.url}/metrics").text)


def test_both_secrets_work_during_a_rotation(web, tmp_path):
    assert web.signed(event("a"), secret=OLD_SECRET).status_code == 202
    assert web.signed(event("b"), secret=SECRET).status_code == 202
    body = json.dumps(event("c")).encode()
    now = int(time.time())
    both = f"t={now},v2={signing.digest(body, 'retired' * 5, signing.ODOO_EVENTS, now)}," \
           f"v2={signing.digest(body, SECRET, signing.ODOO_EVENTS, now)}"
    answer = web.session.post(f"{web.url}/webhooks/odoo", data=body,
                              headers={"Content-Type": "application/json", signing.HEADER: both})
    assert answer.status_code == 202


@pytest.mark.parametrize(("body", "content_type", "status", "error", "field"), [
    (b"{not json", "application/json", 400, "malformed_json", None),
    (b'{"event_id": "x", "product_ids": [NaN]}', "application/json", 400, "malformed_json", None),
    (json.dumps(event()).encode(), "text/plain", 415, "content_type", None),
    (json.dumps({"product_ids": [1]}).encode(), "application/json", 400, "schema", "event_id"),
    (json.dumps(event(product_ids=[-4])).encode(), "application/json", 400, "schema",
     "product_ids.0"),
    (json.dumps(event(product_ids=[1.5])).encode(), "application/json", 400, "schema",
     "product_ids.0"),
    (json.dumps(event(product_ids=["7"])).encode(), "application/json", 400, "schema",
     "product_ids.0"),
    (json.dumps(event(product_ids=[])).encode(), "application/json", 400, "schema",
     "product_ids"),
    (json.dumps(event(product_ids=[], skus=["NOPE-1"])).encode(), "application/json", 422,
     "unknown_skus", "skus"),
    (json.dumps(event(extra=1)).encode(), "application/json", 400, "schema", "extra"),
    (json.dumps([1, 2]).encode(), "application/json", 400, "schema", "(body)"),
])
def test_bad_input_gets_a_specific_4xx_and_stores_nothing(web, body, content_type, status,
                                                           error, field):
    answer = web.signed({}, body=body, content_type=content_type)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    if field:
        assert answer.json()["field"] == field
    assert web.stored() == 0


def test_a_huge_body_is_413(web):
    answer = web.signed({}, body=json.dumps(event(skus=["X" * 90] * 1000)).encode())
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert web.stored() == 0


def test_unicode_skus_known_to_the_shop_are_accepted(web):
    answer = web.signed(event(product_ids=[], skus=["T-SHIRT-Ü-€", "GONE"]))
    assert answer.status_code == 202
    payload = json.loads(web.state.database.db.execute("select payload from events").fetchone()[0])
    assert payload["skus"] == ["T-SHIRT-Ü-€"]


def test_native_notifications_need_the_token_and_hint_at_the_product(web):
    quant = {"_action": "Send Webhook Notification(#444)", "_id": 8, "_model": "stock.quant",
             "product_id": 5, "location_id": 8, "warehouse_id": 1, "quantity": 203.0,
             "write_date": "2026-11-23 13:52:26.018925"}
    wrong = web.native(quant, token="guess-" + "x" * 40)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "bad_token")
    assert web.native(quant).status_code == 202
    assert web.native(quant).json()["status"] == "duplicate"
    adjustment = {**quant, "_id": 40, "location_id": 14, "warehouse_id": False}
    assert web.native(adjustment).json()["status"] == "ignored"
    missing = web.native({k: v for k, v in quant.items() if k != "product_id"})
    assert (missing.status_code, missing.json()["field"]) == (400, "product_id")
    assert web.stored() == 1


def test_the_recorded_native_requests_of_odoo_18_are_accepted(web):
    lines = (FIXTURES / "odoo18" / "webhooks" / "native_webhook_requests.jsonl").read_text()
    bodies = [json.loads(line)["body_json"] for line in lines.splitlines()]
    assert {web.native(body).status_code for body in bodies} == {202}
    # Quants outside a warehouse are dropped; repeats of one write (same record, same write
    # date: intermediate values of one transaction) are one hint, as Odoo is read anyway.
    hints = {(b["_model"], b["_id"], b["write_date"]) for b in bodies
             if not (b["_model"] == "stock.quant" and b.get("warehouse_id") is False)}
    assert web.stored() == len(hints) > 0


def test_native_route_is_rate_limited(tmp_path):
    for web in serve(tmp_path, native_rate_limit=2):
        answers = [web.native({"_id": i, "_model": "stock.move", "product_id": 1})
                   for i in range(1, 7)]
        codes = [a.status_code for a in answers]
        assert codes[:2] == [202, 202] and 429 in codes
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.headers["Retry-After"] == "1"


def test_health_readiness_and_metrics(web):
    assert web.session.get(f"{web.url}/healthz").json() == {"status": "ok"}
    ready = web.session.get(f"{web.url}/readyz")
    assert ready.status_code == 503 and ready.json()["checks"] == {"odoo": "unreachable"}
    assert ready.json()["age_seconds"] == 2.0
    web.signed(event())
    text = web.session.get(f"{web.url}/metrics").text
    assert 'woodoo_events_received_total{source="odoo"} 1.0' in text
    assert "woodoo_sync_latency_seconds_bucket" in text


def shop_order_event(event_id: str = "o-1", **order) -> dict:
    return {"event_id": event_id, "event": "order.created", "store_url": "http://127.0.0.1:2",
            "sent_at": None, "refund": None,
            "order": {"id": 501, "number": "501", "status": "processing",
                      "date_modified": "2026-11-23T13:52:30Z",
                      "lines": [{"line_id": 1, "product_id": 11, "sku": "WDG-1001",
                                 "quantity": 2}], **order}}


def post_woocommerce(web: Web, payload: dict, secret: str = SHOP_SECRET):
    body = json.dumps(payload).encode()
    return web.session.post(f"{web.url}/webhooks/woocommerce", data=body, headers={
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(body, secret, signing.SHOP_EVENTS)})


def test_order_events_are_stored_once_and_validated(tmp_path):
    for web in serve(tmp_path, orders=True):
        assert post_woocommerce(web, shop_order_event()).json()["status"] == "queued"
        assert post_woocommerce(web, shop_order_event()).json()["status"] == "duplicate"
        bad = post_woocommerce(web, shop_order_event("o-2", lines=[{"line_id": 1, "quantity": -1,
                                                                      "product_id": 1}]))
        assert (bad.status_code, bad.json()["field"]) == (400, "order.lines.0.quantity")
        assert post_woocommerce(web, shop_order_event("o-3"), secret="nope" * 8).status_code == 401
        test = post_woocommerce(web, {"event_id": "t", "event": "test", "store_url": "x"})
        assert (test.status_code, test.json()["status"]) == (200, "ok")
        assert web.stored() == 1


def test_order_events_wait_in_the_shop_while_orders_are_disabled(web):
    answer = post_woocommerce(web, shop_order_event())
    assert (answer.status_code, answer.json()["error"]) == (503, "orders_disabled")
    assert web.stored() == 0
