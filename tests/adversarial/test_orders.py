"""Hostile shop orders, validly signed, against the whole daemon and the Odoo simulator: emails
that are LIKE patterns, order numbers two orders share, dates that are no time or far ahead."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from helpers import wait_for

from adversarial.hostile import order_event, signed_headers

SHOP = "/webhooks/woocommerce"
VICTIM = "victim.doe@example.com"
_ids = iter(range(8_000_000, 9_000_000))


def utc(offset: float = 0) -> str:
    """Now (plus `offset` seconds) as the plugin writes `date_modified`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def order(live, *, order_id: int | None = None, number: str | None = None,
          status: str = "processing", modified: str | None = None, email: str = "x@example.com",
          lines: tuple[tuple[str, int], ...] = (("WDG-1003", 1),),
          event: str = "order.created") -> dict[str, Any]:
    """A signed-to-be order event that takes stock (so that it makes a sale order in Odoo)."""
    payload = order_event(live.shop.url, event=event)
    order_id = order_id or next(_ids)
    payload["order"].update({
        "id": order_id, "number": number or str(order_id), "status": status,
        "date_modified": modified or utc(-120), "customer": {"email": email},
        "lines": [{"line_id": n, "product_id": 10 + n, "variation_id": 0, "sku": sku,
                   "quantity": quantity, "refunded_quantity": 0}
                  for n, (sku, quantity) in enumerate(lines, start=1)]})
    return payload


def post(live, category: str, payload: dict[str, Any], *, expect: int, label: str):
    body = json.dumps(payload).encode()
    return live.target.hostile(category, "POST", SHOP, body=body, expect={expect}, label=label,
                               headers=signed_headers(body, SHOP), stores=expect == 202)


def sale_orders(live, order_id: int, number: str | None = None) -> list[dict[str, Any]]:
    """The sale orders of this shop order: by its number alone (as before), or with its id."""
    number = number or str(order_id)
    return [s for s in live.odoo.sale_orders()
            if s["client_order_ref"] in (f"WC-{number}", f"WC-{number} (#{order_id})")]


def synced(live, order_id: int, state: str = "sale", number: str | None = None) -> dict[str, Any]:
    """This order's one sale order, once it is in `state` (fails after 15 s)."""
    assert wait_for(lambda: [s["state"] for s in sale_orders(live, order_id, number)] == [state],
                    timeout=15), sale_orders(live, order_id, number)
    [sale] = sale_orders(live, order_id, number)
    return sale


@pytest.fixture(scope="module")
def victim(live) -> int:
    """A customer already in Odoo, whose partner the hostile emails try to get."""
    return live.odoo.add_partner("Victim Doe", email=VICTIM)


@pytest.mark.parametrize("email", ["victim_doe@example.com", "%@example.com", "%", "victim%",
                                   "_ictim.doe@example.com", "victim.doe@example.co_",
                                   "victim\\.doe@example.com"])
def test_an_order_email_is_never_a_pattern(live, victim, email):
    """Before: `=ilike` took the email as a pattern, so each of these got the victim's partner."""
    payload = order(live, email=email)
    post(live, "order email", payload, expect=202, label=email)
    sale = synced(live, payload["order"]["id"])
    [partner] = [p for p in live.odoo.partners() if p["id"] == sale["partner_id"]]
    assert (partner["id"] != victim, partner["email"]) == (True, email)


def test_an_order_email_in_other_case_is_still_the_same_customer(live, victim):
    payload = order(live, email=VICTIM.upper())
    post(live, "order email", payload, expect=202, label="upper case")
    assert synced(live, payload["order"]["id"])["partner_id"] == victim


def test_two_orders_with_one_number_get_a_sale_order_each(live):
    """Before: both had the Customer Reference WC-<number>, so B's lines replaced A's in one sale
    order, and cancelling A cancelled it while B stayed processing."""
    number = f"2026-{next(_ids)}"
    a = order(live, number=number, lines=(("WDG-1003", 1),))
    b = order(live, number=number, lines=(("WDG-1005", 2),))
    before = len(live.odoo.sale_orders())
    post(live, "order number", a, expect=202, label="order A")
    post(live, "order number", b, expect=202, label="order B, A's number")
    a_id, b_id = a["order"]["id"], b["order"]["id"]
    assert wait_for(lambda: len(live.odoo.sale_orders()) == before + 2, timeout=15)
    assert synced(live, a_id, number=number)["lines"] == [("WDG-1003", 1.0, 0.0)]
    assert synced(live, b_id, number=number)["lines"] == [("WDG-1005", 2.0, 0.0)]
    cancelled = order(live, order_id=a_id, number=number, status="cancelled",
                      event="order.cancelled", modified=utc(-60))
    post(live, "order number", cancelled, expect=202, label="A cancelled")
    synced(live, a_id, "cancel", number=number)
    assert synced(live, b_id, number=number)["lines"] == [("WDG-1005", 2.0, 0.0)]


@pytest.mark.parametrize("date", ["2026-99-99T99:99:99", "2026-02-30T10:00:00Z",
                                  "2026-11-23T24:00:00Z", "2026-11-23T23:59:60Z",
                                  "0000-01-01T00:00:00Z"])
def test_an_order_date_that_is_no_time_is_refused(live, date):
    """Before: the pattern only checked digits, so 2026-99-99T99:99:99 got a 202."""
    answer = post(live, "order date", order(live, status="pending", modified=date),
                  expect=400, label=date)
    assert answer.json()["field"] == "order.date_modified"
    assert "not a real date" in answer.json()["message"]


@pytest.mark.parametrize("ahead", [361, 86400, 73 * 365 * 86400],
                         ids=["6 minutes", "a day", "73 years"])
def test_an_order_dated_in_the_future_is_refused(live, ahead):
    answer = post(live, "order date", order(live, status="pending", modified=utc(ahead)),
                  expect=400, label=f"{ahead} s ahead")
    assert answer.json()["field"] == "order.date_modified"
    assert "check the shop's clock" in answer.json()["message"]


def test_an_order_dated_within_the_clock_skew_is_accepted(live):
    post(live, "order date", order(live, status="pending", modified=utc(240)), expect=202,
         label="240 s ahead")


def test_a_date_in_2099_cannot_hide_the_order_s_cancellation(live):
    """Before: the 2099 snapshot was kept as the newest, so the real cancellation after it was
    'older' and ignored: the sale order stayed confirmed, its stock reserved."""
    payload = order(live, lines=(("WDG-1006", 1),))
    order_id = payload["order"]["id"]
    post(live, "order date", payload, expect=202, label="placed")
    synced(live, order_id)
    forged = order(live, order_id=order_id, modified="2099-01-01T00:00:00Z")
    post(live, "order date", forged, expect=400, label="dated 2099")
    cancelled = order(live, order_id=order_id, status="cancelled", event="order.cancelled",
                      modified=utc(-1), lines=(("WDG-1006", 1),))
    post(live, "order date", cancelled, expect=202, label="cancelled")
    synced(live, order_id, "cancel")


def test_zz_the_worker_survives_the_orders(live):
    live.prove_worker_alive()

