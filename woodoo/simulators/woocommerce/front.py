"""The shop's WSGI front: rate limits, the WordPress front end, authentication, routing to the
controllers, the headers of every REST answer, and the index, OPTIONS and system status routes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from woodoo.simulators.woocommerce import batch, orders, products, variations
from woodoo.simulators.woocommerce.args import (
    COLLECTION_ARGS,
    CONTEXT,
    DELETE_ARGS,
    ORDER_COLLECTION_ARGS,
    PRODUCT_WRITE_ARGS,
    VARIATION_COLLECTION_ARGS,
    VARIATION_WRITE_ARGS,
    enum_arg,
    int_arg,
    no_defaults,
    prepare,
)
from woodoo.simulators.woocommerce.auth import Authenticator
from woodoo.simulators.woocommerce.php import SITE_UTC_OFFSET, php_query, wp_json
from woodoo.simulators.woocommerce.plugin import CompanionPlugin
from woodoo.simulators.woocommerce.rest import (
    ALL_METHODS,
    API_PREFIX,
    NAMESPACE,
    Call,
    Reply,
    RestError,
    error_reply,
    filter_fields,
    require_auth,
)

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator

WC_VERSION = "11.0.1"
WP_VERSION = "7.0.4"


class RestFront:
    """WP_REST_Server for one shop, as a WSGI app."""

    def __init__(self, shop: WooSimulator) -> None:
        self.shop = shop
        self.auth = Authenticator(shop)
        self.plugin = CompanionPlugin(shop)
        self._lock = threading.Lock()
        self._rate_limited = 0
        self._retry_after = 1
        self._urls = Map([
            Rule("/wp-json", endpoint="site_index", methods=["GET"]),
            Rule(API_PREFIX, endpoint="index", methods=["GET"]),
            Rule(f"{API_PREFIX}/system_status", endpoint="system_status", methods=["GET"]),
            Rule(f"{API_PREFIX}/products", endpoint="products", methods=["GET", "POST"]),
            Rule(f"{API_PREFIX}/products/batch", endpoint="products_batch",
                 methods=["POST", "PUT", "PATCH"]),
            Rule(f"{API_PREFIX}/products/<int:id>", endpoint="product", methods=ALL_METHODS),
            Rule(f"{API_PREFIX}/products/<int:product_id>/variations", endpoint="variations",
                 methods=["GET", "POST"]),
            Rule(f"{API_PREFIX}/products/<int:product_id>/variations/batch",
                 endpoint="variations_batch", methods=["POST", "PUT", "PATCH"]),
            Rule(f"{API_PREFIX}/products/<int:product_id>/variations/<int:id>",
                 endpoint="variation", methods=ALL_METHODS),
            Rule(f"{API_PREFIX}/variations", endpoint="all_variations", methods=["GET"]),
            Rule(f"{API_PREFIX}/orders", endpoint="orders", methods=["GET"]),
            Rule(f"{API_PREFIX}/orders/<int:order_id>/refunds", endpoint="order_refunds",
                 methods=["GET"]),
        ], strict_slashes=False, merge_slashes=False)

    def rate_limit_next(self, count: int, retry_after: int = 1) -> None:
        """The next `count` requests get 429 and a Retry-After header."""
        with self._lock:
            self._rate_limited += count
            self._retry_after = retry_after

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point: rate limit, front end or REST API."""
        request = Request(environ)
        raw_body = request.get_data()  # always consumed, so keep-alive connections stay in sync
        with self._lock:
            limited = self._rate_limited > 0
            if limited:
                self._rate_limited -= 1
            retry_after = self._retry_after
        ssl = self.shop.behind_tls_proxy and request.headers.get("X-Forwarded-Proto", "") == "https"
        base = self._scheme_home(ssl)
        if limited:
            # Not WooCommerce core (which has no REST rate limit) but what a host, proxy or
            # security plugin answers; body modelled on WooCommerce's Store API RateLimits error.
            error = RestError("rate_limit_exceeded",
                              f"Too many requests. Please wait {retry_after} seconds before trying "
                              "again.", 429)
            return self._send(environ, start_response, Reply(
                error.body(), 429, [("Retry-After", str(retry_after))]), base)
        path = request.path
        if not (path == "/wp-json" or path.startswith("/wp-json/")):
            # The WordPress front end, not the REST API: HTML, as a wrong base URL would get.
            page = ("<!DOCTYPE html><html><head><title>Page not found</title></head><body>"
                    "<h1>Oops! That page can&rsquo;t be found.</h1></body></html>")
            status = 200 if path == "/" else 404
            return Response(page, status=status, content_type="text/html; charset=UTF-8")(
                environ, start_response)
        try:
            reply = self._handle(request, raw_body, ssl, base)
        except RestError as error:
            reply = error_reply(error, ssl)
        return self._send(environ, start_response, reply, base)

    def _scheme_home(self, ssl: bool) -> str:
        """get_home_url() in the request's scheme (set_url_scheme with is_ssl())."""
        home = self.shop.home_url
        return "https://" + home.split("://", 1)[1] if ssl else home

    @staticmethod
    def _send(environ: dict[str, Any], start_response: Callable[..., Any], reply: Reply,
              base: str) -> Iterable[bytes]:
        """Encode a REST reply with the headers WordPress sends on every REST response."""
        headers = [
            ("Content-Type", "application/json; charset=UTF-8"),
            ("X-Robots-Tag", "noindex"),
            ("Link", f'<{base}/wp-json/>; rel="https://api.w.org/"'),
            ("X-Content-Type-Options", "nosniff"),
            ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
            ("Access-Control-Allow-Headers",
             "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"),
            *reply.headers,
        ]
        return Response(wp_json(reply.data), status=reply.status, headers=headers)(
            environ, start_response)

    def _handle(self, request: Request, raw_body: bytes, ssl: bool, base: str) -> Reply:
        """WP_REST_Server::serve_request: authenticate, match the route, validate, check
        permissions, dispatch, then filter `_fields`."""
        query = php_query(request.query_string.decode("latin-1"))
        content_type = request.headers.get("Content-Type", "")
        body: dict[str, Any] = {}
        form: dict[str, Any] = {}
        json_error = None
        if "application/json" in content_type.lower():
            if raw_body.strip():
                try:
                    decoded = json.loads(raw_body)
                except ValueError as exc:
                    json_error = RestError("rest_invalid_json", "Invalid JSON body passed.", 400,
                                           json_error_code=4, json_error_message=str(exc))
                else:
                    body = decoded if isinstance(decoded, dict) else {}
        elif request.method in ("POST", "PUT", "PATCH", "DELETE") and (
                "application/x-www-form-urlencoded" in content_type.lower()):
            form = php_query(raw_body.decode("utf-8", "replace"))
        path = request.path.rstrip("/") or "/"
        plugin_reply = self.plugin.handle(path, request, raw_body, base)
        if plugin_reply is not None:
            return plugin_reply
        is_woocommerce = path.startswith("/wp-json/wc/")
        authenticated = False
        if is_woocommerce:
            # WC_REST_Authentication runs only for requests to WooCommerce's namespaces; its
            # errors are returned through rest_authentication_errors before any routing.
            authenticated = self.auth.authenticate(request, query, form, ssl, base)
            if authenticated:
                self.auth.check_key_permissions(request.method)
        adapter = self._urls.bind("localhost")
        try:
            endpoint, route_args = adapter.match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            if request.method == "OPTIONS":
                return _options(path, base)
            raise RestError("rest_no_route",
                            "No route was found matching the URL and request method.", 404) from None
        call = Call(request.method, str(endpoint), dict(route_args), query, {**form, **body},
                    json_error, authenticated, ssl, base)
        try:
            reply = ROUTES[str(endpoint)](self.shop, call)
        except RestError as error:
            reply = error_reply(error, ssl)
        if "_fields" in query and reply.status < 400:
            reply.data = filter_fields(reply.data, query["_fields"])
        # rest_send_allow_header(): on any response of a matched route (errors included, as
        # recorded), the methods whose permission check passes; none when not authenticated.
        if authenticated or endpoint in ("index", "site_index"):
            reply.headers.append(("Allow", _ALLOW[str(endpoint)]))
        return reply


def _site_index(shop: WooSimulator, call: Call) -> Reply:
    """GET /wp-json: a minimal site index."""
    return Reply({
        "name": "Woodoo simulated shop", "description": "", "url": call.base, "home": call.base,
        "gmt_offset": SITE_UTC_OFFSET.total_seconds() / 3600, "timezone_string": "",
        # The plugin's namespace and routes appear here too when it is active (recorded:
        # site_index_with_plugin.json, trimmed to them).
        "namespaces": [NAMESPACE, *(["woodoo/v1"] if shop.front.plugin.active else [])],
        "authentication": [],
        "routes": shop.front.plugin.namespace_index(call.base)["routes"]
        if shop.front.plugin.active else {},
    })


def _index(shop: WooSimulator, call: Call) -> Reply:
    """GET /wp-json/wc/v3 (no auth needed): the namespace and its routes (those simulated)."""
    api = f"{call.base}/wp-json"
    routes: dict[str, Any] = {}
    for route, methods_args in _ROUTE_DOCS:
        methods = [m for entry in methods_args for m in entry[0]]
        entry: dict[str, Any] = {
            "namespace": NAMESPACE,
            "methods": methods,
            "endpoints": [{"methods": list(ms), "args": {
                name: {**arg, "required": False} for name, arg in args.items()}}
                for ms, args in methods_args],
        }
        if "(?P<" not in route:
            entry["_links"] = {"self": [{"href": f"{api}{route}"}]}
        routes[route] = entry
    return Reply({"namespace": NAMESPACE, "routes": routes,
                  "_links": {"up": [{"href": f"{api}/"}]}})


def _options(path: str, base: str) -> Reply:
    """OPTIONS on a route: its methods (rest_handle_options_request), or no route."""
    for route, methods_args in _ROUTE_DOCS:
        pattern = "^/wp-json" + route.replace("[\\d]+", "\\d+") + "$"
        if re.match(pattern, path):
            methods = [m for ms, _ in methods_args for m in ms]
            return Reply({"namespace": NAMESPACE, "methods": methods,
                          "endpoints": [{"methods": list(ms)} for ms, _ in methods_args]},
                         headers=[("Allow", ", ".join(methods))])
    raise RestError("rest_no_route", "No route was found matching the URL and request method.",
                    404)


def _system_status(shop: WooSimulator, call: Call) -> Reply:
    """GET /system_status: a small report (`_fields=environment.version` is the cheap probe)."""
    catalog = shop.catalog
    prepare(call, {"context": enum_arg(("view",), "view")})
    require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    with catalog.lock:
        counts = {"product": sum(1 for p in catalog.products.values() if p.type != "variation"),
                  "product_variation": sum(1 for p in catalog.products.values()
                                           if p.type == "variation")}
    data = {
        "environment": {
            "home_url": shop.home_url, "site_url": shop.home_url, "store_id": "",
            "version": WC_VERSION, "log_directory": "/var/www/html/wp-content/uploads/wc-logs/",
            "log_directory_writable": True, "wp_version": WP_VERSION, "wp_multisite": False,
            "wp_memory_limit": 268435456, "wp_debug_mode": False, "wp_cron": True,
            "language": "en_US", "external_object_cache": None, "server_info": "nginx",
            "php_version": "8.2", "php_post_max_size": 8388608,
            "php_max_execution_time": 30, "php_max_input_vars": 1000, "curl_version": "",
            "suhosin_installed": False, "max_upload_size": 2097152, "mysql_version": "10.11",
            "mysql_version_string": "10.11-MariaDB", "default_timezone": "UTC",
            "fsockopen_or_curl_enabled": True, "soapclient_enabled": False,
            "domdocument_enabled": True, "gzip_enabled": True, "mbstring_enabled": True,
            "remote_post_successful": True, "remote_post_response": 200,
            "remote_get_successful": True, "remote_get_response": 200,
        },
        "database": {"wc_database_version": WC_VERSION, "database_prefix": "wp_"},
        "active_plugins": [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce",
                            "version": WC_VERSION, "author_name": "Automattic"}],
        "inactive_plugins": [],
        "theme": {"name": "Storefront", "version": "4.6.1"},
        "settings": {"api_enabled": True, "force_ssl": False, "currency": "EUR",
                     "currency_symbol": "&euro;", "currency_position": "right_space",
                     "thousand_separator": ".", "decimal_separator": ",",
                     "number_of_decimals": 2, "woocommerce_manage_stock": "yes",
                     "woocommerce_notify_no_stock_amount": 0,
                     "custom_order_tables": "yes"},
        "security": {"secure_connection": call.ssl, "hide_errors": True},
        "post_type_counts": [{"type": k, "count": v} for k, v in counts.items()],
    }
    return Reply(data)


# The methods of each simulated route, for the Allow header (as recorded).
_ALLOW = {
    "site_index": "GET", "index": "GET", "system_status": "GET", "products": "GET, POST",
    "products_batch": "POST, PUT, PATCH", "product": ", ".join(ALL_METHODS),
    "variations": "GET, POST", "variations_batch": "POST, PUT, PATCH",
    "variation": ", ".join(ALL_METHODS), "all_variations": "GET", "orders": "GET",
    "order_refunds": "GET",
}


# The simulated routes, for the namespace index and OPTIONS: (route, [(methods, args)]).
_ROUTE_DOCS: list[tuple[str, list[tuple[tuple[str, ...], dict[str, dict[str, Any]]]]]] = [
    ("/wc/v3", [(("GET",), {"namespace": {"default": NAMESPACE}, "context": CONTEXT})]),
    ("/wc/v3/products", [(("GET",), COLLECTION_ARGS), (("POST",), PRODUCT_WRITE_ARGS)]),
    ("/wc/v3/products/(?P<id>[\\d]+)", [
        (("GET",), {"id": int_arg(), "context": CONTEXT}),
        (("POST", "PUT", "PATCH"), {"id": int_arg(), **no_defaults(PRODUCT_WRITE_ARGS)}),
        (("DELETE",), {"id": int_arg(), **DELETE_ARGS}),
    ]),
    ("/wc/v3/products/batch", [(("POST", "PUT", "PATCH"), no_defaults(PRODUCT_WRITE_ARGS))]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations", [
        (("GET",), {"product_id": int_arg(), **VARIATION_COLLECTION_ARGS}),
        (("POST",), {"product_id": int_arg(), **VARIATION_WRITE_ARGS}),
    ]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)", [
        (("GET",), {"product_id": int_arg(), "id": int_arg(), "context": CONTEXT}),
        (("POST", "PUT", "PATCH"), {"product_id": int_arg(), "id": int_arg(),
                                    **no_defaults(VARIATION_WRITE_ARGS)}),
        (("DELETE",), {"product_id": int_arg(), "id": int_arg(), **DELETE_ARGS}),
    ]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch", [
        (("POST", "PUT", "PATCH"), {"product_id": int_arg(),
                                    **no_defaults(VARIATION_WRITE_ARGS)}),
    ]),
    ("/wc/v3/variations", [(("GET",), VARIATION_COLLECTION_ARGS)]),
    ("/wc/v3/orders", [(("GET",), ORDER_COLLECTION_ARGS)]),
    ("/wc/v3/orders/(?P<order_id>[\\d]+)/refunds", [
        (("GET",), {"order_id": int_arg(), "context": CONTEXT})]),
    ("/wc/v3/system_status", [(("GET",), {"context": enum_arg(("view",), "view")})]),
]

# The handler of each endpoint of the URL map.
ROUTES: dict[str, Callable[[WooSimulator, Call], Reply]] = {
    "site_index": _site_index, "index": _index, "system_status": _system_status,
    "products": products.route_products, "product": products.route_product,
    "products_batch": batch.route_products_batch, "variations": variations.route_variations,
    "variation": variations.route_variation, "variations_batch": batch.route_variations_batch,
    "all_variations": variations.route_all_variations, "orders": orders.route_orders,
    "order_refunds": orders.route_order_refunds,
}
