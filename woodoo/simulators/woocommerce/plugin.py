"""The Woodoo Companion plugin's routes: its namespace index, compare-and-set stock (one by one and
in bulk), the stock catalog, and flush; as wp-plugin/woodoo-companion answers them."""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from woodoo.simulators.woocommerce.rest import Reply
from woodoo.web import signing

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator

PLUGIN_STOCK_ROUTE = "/wp-json/woodoo/v1/stock"
PLUGIN_FLUSH_ROUTE = "/wp-json/woodoo/v1/flush"
PLUGIN_INDEX_ROUTE = "/wp-json/woodoo/v1"
PLUGIN_CATALOG_ROUTE = "/wp-json/woodoo/v1/catalog"
PLUGIN_BULK_ROUTE = "/wp-json/woodoo/v1/stock/bulk"
BULK_ROUTES = ("/woodoo/v1/catalog", "/woodoo/v1/stock/bulk")  # since plugin 0.4
NAMESPACE = "woodoo/v1"
CATALOG_NAME_CHARS = 200  # Woodoo_Bulk_Route::NAME_CHARS: the catalog answers a name's first 200


class CompanionPlugin:
    """The plugin in one shop: its routes answer once the shop's plugin_secret is set."""

    def __init__(self, shop: WooSimulator) -> None:
        self.shop = shop
        self._accepted_signatures: set[str] = set()
        self._lock = threading.Lock()
        # An older plugin (0.3) has no bulk routes: the daemon must find out and use REST.
        self.bulk_routes = True

    def handle(self, path: str, request: Request, raw_body: bytes, base: str) -> Reply | None:
        """The answer of a plugin route, or None if the request is for none (or the plugin is off)."""
        if not self.active:
            return None
        if path == PLUGIN_INDEX_ROUTE and request.method == "GET":
            return Reply(self.namespace_index(base), headers=[("Allow", "GET")])
        if request.method != "POST":
            return None
        if path in self.routes() and not self.shop.plugin_secret:
            # Woodoo_Settings::secret_problem, checked before the signature (as the real routes).
            return Reply({"error": "not_configured", "message": (
                "the stock secret is not set (WooCommerce > Settings > Woodoo, or "
                "WOODOO_STOCK_SECRET in wp-config.php); the stock route refuses every write "
                "until it is set")}, 503)
        if path == PLUGIN_STOCK_ROUTE:
            return self._stock(request, raw_body, signing.PLUGIN_STOCK, limit=100)
        if path == PLUGIN_FLUSH_ROUTE:
            return self._flush(request, raw_body)
        if path == PLUGIN_BULK_ROUTE and self.bulk_routes:
            return self._stock(request, raw_body, signing.PLUGIN_STOCK_BULK, limit=1000)
        if path == PLUGIN_CATALOG_ROUTE and self.bulk_routes:
            return self._catalog(request, raw_body)
        return None

    @property
    def active(self) -> bool:
        """The plugin is active in the shop (a stock secret implies it)."""
        return bool(self.shop.plugin_active or self.shop.plugin_secret)

    def routes(self) -> list[str]:
        """The plugin's REST routes as paths under /wp-json (0.3 has no bulk routes)."""
        return [PLUGIN_INDEX_ROUTE, PLUGIN_STOCK_ROUTE, PLUGIN_FLUSH_ROUTE,
                *((PLUGIN_CATALOG_ROUTE, PLUGIN_BULK_ROUTE) if self.bulk_routes else ())]

    def namespace_index(self, base: str) -> dict[str, Any]:
        """WP_REST_Server::get_namespace_index for woodoo/v1: public, its routes with their
        methods, endpoints and links (recorded: plugin_namespace_index.json)."""
        api = f"{base}/wp-json"
        routes: dict[str, Any] = {}
        for path in self.routes():
            route = path.removeprefix("/wp-json")
            if path == PLUGIN_INDEX_ROUTE:
                endpoints = [{"methods": ["GET"], "args": {
                    "namespace": {"default": NAMESPACE, "required": False},
                    "context": {"default": "view", "required": False}}}]
            else:
                endpoints = [{"methods": ["POST"], "args": []}]
            routes[route] = {"namespace": NAMESPACE, "methods": endpoints[0]["methods"],
                             "endpoints": endpoints, "_links": {"self": [{"href": api + route}]}}
        return {"namespace": NAMESPACE, "routes": routes, "_links": {"up": [{"href": f"{api}/"}]}}

    def _stock(self, request: Request, raw_body: bytes, route: str, *, limit: int) -> Reply:
        """The plugin's compare-and-set routes (one by one, or in bulk up to 1,000): set `_stock`
        only where it still equals `expected` (one UPDATE ... WHERE meta_value = expected in the
        real plugin). Its refusals as class-woodoo-stock-route.php and
        class-woodoo-bulk-route.php answer them."""
        header = request.headers.get(signing.HEADER)
        refused = self._signature(raw_body, header, route)
        if refused:
            return refused
        try:
            items = json.loads(raw_body)["items"]
            assert isinstance(items, list) and len(items) <= limit
            for item in items:
                assert isinstance(item, dict)
                for key, low in (("id", 1), ("expected", 0), ("quantity", 0)):
                    value = item.get(key)
                    assert type(value) is int and low <= value <= 10**9  # type(): bools refused
        except (ValueError, KeyError, TypeError, AssertionError):
            return Reply({"error": "schema", "message": f"expected {{items: [...]}} with at most "
                          f"{limit} items of integers id >= 1, expected and quantity >= 0"}, 400)
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

    def _catalog(self, request: Request, raw_body: bytes) -> Reply:
        """The plugin's catalog route: every product and variation, by id, a page at a time,
        with the stock fields the daemon maps (read from post meta, as REST reads them)."""
        header = request.headers.get(signing.HEADER)
        refused = self._signature(raw_body, header, signing.PLUGIN_CATALOG)
        if refused:
            return refused
        try:
            body = json.loads(raw_body)
            assert isinstance(body, dict) and set(body) <= {"after_id", "limit", "request_id"}
            assert re.fullmatch(r"[0-9a-f]{32}", str(body.get("request_id")))
            after, limit = body.get("after_id", 0), body.get("limit", 2000)
            assert type(after) is int and after >= 0 and type(limit) is int and 1 <= limit <= 5000
        except (ValueError, AssertionError):
            return Reply({"error": "schema", "message": "expected {\"after_id\", \"limit\": "
                          "1..5000, \"request_id\": 32 hex digits}"}, 400)
        replayed = self._replayed(header)
        if replayed:
            return replayed
        catalog = self.shop.catalog
        with catalog.lock:
            chosen = sorted(i for i in catalog.products if i > after)[:limit]
            items = [{"id": p.id, "parent_id": p.parent_id, "type": p.type, "sku": p.sku,
                      "manage_stock": p.manage_stock, "stock_quantity": p.stock_quantity,
                      "stock_status": catalog.stock_status(p), "backorders": p.backorders,
                      "name": p.name[:CATALOG_NAME_CHARS]}
                     for p in (catalog.products[i] for i in chosen)]
        # As the plugin does: a full page is followed by another, possibly empty, one.
        more = len(items) == limit
        return Reply({"request_id": body["request_id"], "items": items,
                      "next_after_id": items[-1]["id"] if more else None})

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
