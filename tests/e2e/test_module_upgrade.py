"""Updating the Odoo module (`-u woodoo_webhook`, here Apps > Upgrade through JSON-RPC) on a real
Odoo: the outbox's pending rows and the woodoo_webhook.* system parameters are kept, and once the
daemon can be reached again each waiting event is sent once. Independent of the module's version
number; everything the test changes is put back."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e import systems as real
from tests.e2e.systems import CatalogMaker
from tests.helpers import free_port
from woodoo.web import signing

PARAMETERS = [("key", "=like", "woodoo_webhook.%")]
FIELDS = ["event_id", "payload", "source_model", "state", "create_date"]
MODULE = "woodoo_webhook"


class Daemon(BaseHTTPRequestHandler):
    """The daemon's event route, as far as this test needs it: each signed POST recorded, 202
    for this test's events, 503 for any other (left waiting in Odoo as when the daemon is down)."""

    received: Counter[str]
    ours: set[str]
    secret: str
    unsigned: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        event_id = str(json.loads(body).get("event_id", ""))
        try:
            signing.verify(body, self.headers.get(signing.HEADER), [self.secret],
                           signing.ODOO_EVENTS)
        except signing.SignatureError:
            self.unsigned.append(event_id)
        self.received[event_id] += 1
        self.send_response(202 if event_id in self.ours else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def listening(systems: real.Systems) -> Iterator[tuple[str, type[Daemon]]]:
    """A daemon stand-in on a free loopback port: (its URL, its handler class with the records)."""
    handler = type("Recording", (Daemon,), {"received": Counter(), "ours": set(),
                                            "secret": systems.odoo_webhook_secret,
                                            "unsigned": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/webhooks/odoo", handler
    finally:
        server.shutdown()
        server.server_close()


def parameters(odoo: Any) -> dict[str, str]:
    """The module's system parameters as stored."""
    return {p["key"]: p["value"]
            for p in odoo.env["ir.config_parameter"].search_read(PARAMETERS, ["key", "value"])}


def set_parameter(odoo: Any, key: str, value: str) -> None:
    """Set a system parameter as an administrator does."""
    odoo.execute_kw("ir.config_parameter", "set_param", [key, value])


def outbox(odoo: Any, sku: str) -> list[dict[str, Any]]:
    """The outbox rows whose events name `sku`, oldest first."""
    return odoo.env["woodoo.webhook.event"].search_read(
        [("payload", "like", json.dumps(sku))], ["id", *FIELDS, "attempts", "last_error"],
        order="id")


def test_an_upgrade_keeps_pending_outbox_rows_and_parameters_and_each_event_goes_once(
        odoo: Any, catalog: CatalogMaker, listening: tuple[str, type[Daemon]]) -> None:
    before = parameters(odoo)
    assert before.get("woodoo_webhook.url"), "the module is set up (woodoo_webhook.url)"
    url, daemon = listening
    sku = ""
    try:
        # The daemon is down: each change's event waits in the outbox, tried and failed.
        set_parameter(odoo, "woodoo_webhook.url", f"http://127.0.0.1:{free_port()}/webhooks/odoo")
        sku = catalog.simple("UPGRADE", 5)
        catalog.set_on_hand(sku, 6)
        queued = len(outbox(odoo, sku))  # queued in the changes' own transactions
        assert queued >= 2
        real.wait_for(lambda: all(r["state"] == "pending" and r["attempts"] >= 1
                                  for r in outbox(odoo, sku)), timeout=120, every=1)
        waiting = outbox(odoo, sku)
        assert len(waiting) == queued
        kept = parameters(odoo)

        [module] = odoo.env["ir.module.module"].search([("name", "=", MODULE)])
        odoo.execute_kw("ir.module.module", "button_immediate_upgrade", [[module]])

        after = outbox(odoo, sku)
        assert [{k: r[k] for k in ("id", *FIELDS)} for r in after] == [
            {k: r[k] for k in ("id", *FIELDS)} for r in waiting]
        assert all(r["state"] == "pending" for r in after)
        assert parameters(odoo) == kept
        [state] = odoo.env["ir.module.module"].read([module], ["state"])
        assert state["state"] == "installed"

        # The daemon is back: each waiting event goes once, signed.
        daemon.ours.update(r["event_id"] for r in after)
        set_parameter(odoo, "woodoo_webhook.url", url)
        odoo.execute_kw("woodoo.webhook.event", "action_send_now", [[r["id"] for r in after]])
        real.wait_for(lambda: all(r["state"] == "sent" for r in outbox(odoo, sku)), timeout=120,
                      every=1)
        assert {e: daemon.received[e] for e in daemon.ours} == dict.fromkeys(daemon.ours, 1)
        assert daemon.unsigned == []
    finally:
        for key, value in before.items():
            set_parameter(odoo, key, value)
        # Events of this test's product that a failure left waiting: nobody wants them.
        left = [r["id"] for r in outbox(odoo, sku) if r["state"] != "sent"] if sku else []
        if left:
            odoo.env["woodoo.webhook.event"].unlink(left)
    assert parameters(odoo) == before
