"""The Woodoo Companion plugin's routes: compare-and-set stock (/woodoo/v1/stock) and flush."""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request

from woodoo.simulators.woocommerce.rest import Reply
from woodoo.web import signing

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator

PLUGIN_STOCK_ROUTE = "/wp-json/woodoo/v1/stock"
PLUGIN_FLUSH_ROUTE = "/wp-json/woodoo/v1/flush"


class CompanionPlugin:
    """The plugin in one shop: its routes answer once the shop's plugin_secret is set."""

    def __init__(self, shop: WooSimulator) -> None:
        self.shop = shop
        self._accepted_signatures: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, path: str, request: Request, raw_body: bytes) -> Reply | None:
        """The answer of a plugin route, or None if the request is for none (or the plugin is off)."""
        if request.method != "POST" or not self.shop.plugin_secret:
            return None
        if path == PLUGIN_STOCK_ROUTE:
            return self._stock(request, raw_body)
        if path == PLUGIN_FLUSH_ROUTE:
            return self._flush(request, raw_body)
        return None

    def _stock(self, request: Request, raw_body: bytes) -> Reply:
        """The plugin's compare-and-set route: set `_stock` only where it still equals `expected`
        (one UPDATE ... WHERE meta_value = expected in the real plugin). Its refusals as
        wp-plugin/woodoo-companion/includes/class-woodoo-stock-route.php answers them."""
        header = request.headers.get(signing.HEADER)
        refused = self._signature(raw_body, header, signing.PLUGIN_STOCK)
        if refused:
            return refused
        try:
            items = json.loads(raw_body)["items"]
            assert isinstance(items, list) and len(items) <= 100
            for item in items:
                assert isinstance(item, dict)
                for key, low in (("id", 1), ("expected", 0), ("quantity", 0)):
                    value = item.get(key)
                    assert type(value) is int and low <= value <= 10**9  # type(): bools refused
        except (ValueError, KeyError, TypeError, AssertionError):
            return Reply({"error": "schema", "message": "expected {items: [...]} with at most "
                          "100 items of integers id >= 1, expected and quantity >= 0"}, 400)
        replayed = self._replayed(header)
        if replayed:
            return replayed
        results = []
        catalog = self.shop.catalog
        with catalog.lock:
            for item in items:
                product = catalog.products.get(item.get("id"))
                if product is None or not product.manage_stock:
                    results.append({"id": item.get("id"), "status": "error", "code": "not_found",
                                    "message": f"no product {item.get('id')} managing stock"})
                elif product.stock_quantity != item.get("expected"):
                    results.append({"id": product.id, "status": "conflict",
                                    "current": product.stock_quantity})
                else:
                    product.stock_quantity = int(item["quantity"])
                    catalog.save(product)
                    catalog.stock_writes.append((product.id, product.stock_quantity))
                    results.append({"id": product.id, "status": "applied",
                                    "quantity": product.stock_quantity,
                                    "stock_status": catalog.stock_status(product)})
        return Reply({"results": results})

    def _flush(self, request: Request, raw_body: bytes) -> Reply:
        """The plugin's flush route: send the events waiting in its outbox now (as
        class-woodoo-flush-route.php does), answering what happened."""
        header = request.headers.get(signing.HEADER)
        refused = self._signature(raw_body, header, signing.PLUGIN_FLUSH)
        if refused:
            return refused
        try:
            body = json.loads(raw_body)
            assert isinstance(body, dict) and set(body) <= {"max_events", "request_id"}
            assert re.fullmatch(r"[0-9a-f]{32}", str(body.get("request_id", "0" * 32)))
            max_events = body.get("max_events", 100)
            assert type(max_events) is int and 1 <= max_events <= 500  # type(): bools refused
        except (ValueError, AssertionError):
            return Reply({"error": "schema", "message": "expected {\"max_events\": 1..500, "
                          "\"request_id\": 32 hex digits}"}, 400)
        if not (self.shop.orders.daemon_url and self.shop.orders.events_secret):
            return Reply({"error": "not_configured", "message": "the daemon URL or the events "
                          "secret is not set"}, 503)
        replayed = self._replayed(header)
        if replayed:
            return replayed
        counts = self.shop.orders.deliver(max_events)
        if counts is None:
            return Reply({"error": "busy", "message": "another flush is running"}, 409)
        return Reply(counts)

    def _signature(self, raw_body: bytes, header: str | None, route: str) -> Reply | None:
        """The plugin's 401 for a request not signed with its stock secret for `route`."""
        try:
            signing.verify(raw_body, header, [self.shop.plugin_secret or ""], route)
        except signing.StaleSignature as error:
            return Reply({"error": "stale_timestamp", "message": str(error)}, 401)
        except signing.SignatureError as error:
            return Reply({"error": "bad_signature", "message": str(error)}, 401)
        return None

    def _replayed(self, header: str | None) -> Reply | None:
        """The plugin's 409 for a signed request it has already accepted; else remember it."""
        with self._lock:
            if header in self._accepted_signatures:
                return Reply({"error": "replayed", "message": "replayed request: this signed "
                              "request was already accepted; sign each request anew"}, 409)
            self._accepted_signatures.add(str(header))
        return None
