"""A WooCommerce 11 REST API (wc/v3) simulator that answers like a real 11.0.1 store, over real HTTP.

It is faithful to recordings of a real WooCommerce 11.0.1 on WordPress 7.0.4
(tests/fixtures/woocommerce11/, copied from shared/fixtures/woocommerce11/). Where the recordings are
silent it follows WooCommerce's and WordPress's own code (WC_REST_Authentication, the v3 products and
variations controllers, WC_Product::validate_props, WP_REST_Server, WP_REST_Request validation and
rest_filter_response_fields); each such place says what it relied on.

Every answer is computed from the simulator's own product objects: nothing is replayed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import math
import random
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from woodoo import signing
from woodoo.simulators.catalog import DEMO_CATALOG, DEMO_PARENTS, CatalogItem
from woodoo.simulators.server import SimulatorServer
from woodoo.simulators.woo_orders import Order, OrderLine, ShopOrders

__all__ = ["WC_VERSION", "WooSimulator"]

WC_VERSION = "11.0.1"
WP_VERSION = "7.0.4"
NAMESPACE = "wc/v3"
PLUGIN_STOCK_ROUTE = "/wp-json/woodoo/v1/stock"
PLUGIN_FLUSH_ROUTE = "/wp-json/woodoo/v1/flush"
API_PREFIX = "/wp-json/wc/v3"

STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
BACKORDERS = ("no", "notify", "yes")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
QUERY_STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
VARIATION_STATUSES = ("draft", "pending", "private", "publish")
# The recorded store ran at UTC+1 (every date_modified is date_modified_gmt + 1 h).
SITE_UTC_OFFSET = timedelta(hours=1)
# WC_REST_Authentication::check_oauth_timestamp_and_nonce: "$valid_window = 15 * 60".
OAUTH_WINDOW_SECONDS = 15 * 60
UNCATEGORIZED = {"id": 15, "name": "Uncategorized", "slug": "uncategorized"}
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Attribute names given to variations whose attributes are derived from their SKU or catalog name.
_ATTRIBUTE_NAMES = ("Size", "Color", "Style")
_COLOUR_CODES = {"RED": "Red", "BLU": "Blue", "BLK": "Black", "WHT": "White", "GRN": "Green",
                 "YEL": "Yellow", "GRY": "Grey", "PNK": "Pink", "ORG": "Orange", "PUR": "Purple"}


class _RestError(Exception):
    """A WP_Error: code, message and data (data.status is the HTTP status)."""

    def __init__(self, code: str, message: str, status: int | None, **extra: Any) -> None:
        """An error with its code, message, HTTP status and extra data members."""
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def data(self) -> dict[str, Any] | None:
        """The error's `data` member as WordPress serialises it."""
        if self.status is None and not self.extra:
            return None
        return {**({"status": self.status} if self.status is not None else {}), **self.extra}

    def body(self) -> dict[str, Any]:
        """The JSON body WordPress answers for this error."""
        return {"code": self.code, "message": self.message, "data": self.data()}


@dataclass(slots=True)
class _Product:
    """One row of the simulated store: a simple or variable product, or a variation."""

    id: int
    type: str  # simple | variable | grouped | external | variation
    name: str
    slug: str
    sku: str
    regular_price: str
    created: int  # epoch seconds (WordPress stores post dates to the second)
    modified: int
    parent_id: int = 0
    status: str = "publish"
    sale_price: str = ""
    manage_stock: bool = False
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    low_stock_amount: int | None = None
    total_sales: int = 0
    description: str = ""
    short_description: str = ""
    menu_order: int = 0
    tax_status: str = "taxable"
    tax_class: str = ""  # variations default to "parent"
    featured: bool = False
    catalog_visibility: str = "visible"
    virtual: bool = False
    downloadable: bool = False
    reviews_allowed: bool = True
    sold_individually: bool = False
    attributes: tuple[tuple[str, str], ...] = ()  # a variation's (attribute name, option)
    options: dict[str, list[str]] | None = None  # a variable product's attribute -> options
    children: list[int] | None = None  # a variable product's variation ids, in order


@dataclass
class _Reply:
    """A REST answer before encoding: status, JSON-able data and extra headers."""

    data: Any
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Call:
    """One REST request as WordPress sees it: merged parameters, who is calling, over what."""

    method: str
    route: str
    route_args: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    json_error: _RestError | None
    authenticated: bool
    ssl: bool
    base: str  # home URL in the request's scheme, used in links
    params: dict[str, Any] = field(default_factory=dict)
    provided: set[str] = field(default_factory=set)


# -- PHP and WordPress helpers ---------------------------------------------------------------------


def _php_intval(value: Any) -> int:
    """PHP's intval(), which wc_stock_amount() is: "41" -> 41, 41.5 -> 41, "abc" -> 0, None -> 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        match = re.match(r"[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)", value)
        if not match:
            return 0
        number = match.group(1)
        if re.fullmatch(r"[+-]?\d+", number):
            return int(number)
        as_float = float(number)
        return int(as_float) if math.isfinite(as_float) else 0
    if isinstance(value, list | dict):
        return 1 if value else 0
    return 0


def _wc_string_to_bool(value: Any) -> bool:
    """wc_string_to_bool(): true for true, 1, "1", "yes" and "true" (case-insensitive)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 1
    if isinstance(value, str):
        return value.lower() in ("yes", "true", "1")
    return False


def _isset(params: dict[str, Any], name: str) -> bool:
    """PHP isset($request[name]): present and not null."""
    return params.get(name) is not None


def _rawurlencode(value: str) -> str:
    """PHP rawurlencode(): RFC 3986, everything but A-Z a-z 0-9 - _ . ~ is percent-encoded."""
    return quote(value, safe="")


def _php_query(raw: str) -> dict[str, Any]:
    """Parse a query string like PHP fills $_GET: the last value of a repeated key wins but keeps
    the key's first position; `a[]=1&a[]=2` and `a[k]=v` make arrays; '.' and ' ' in names become
    '_'."""
    result: dict[str, Any] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        base, bracket, rest = key.partition("[")
        base = base.lstrip(" ").replace(".", "_").replace(" ", "_")
        if not base:
            continue
        if bracket and "]" in rest:
            sub = rest[: rest.index("]")]
            container = result.get(base)
            if not isinstance(container, dict):
                container = {}
                result[base] = container
            if sub == "":
                numeric = [k for k in container if isinstance(k, int)]
                container[max(numeric) + 1 if numeric else 0] = value
            else:
                container[int(sub) if sub.isdigit() else sub] = value
        else:
            if bracket:  # an unmatched '[' is turned into '_' as well
                base = f"{base}_{rest}"
            result[base] = value
    return result


def _wp_parse_list(value: Any) -> list[Any]:
    """wp_parse_list(): an array as is, or a string split on commas and whitespace."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _wp_sprintf_list(values: Iterable[str]) -> str:
    """wp_sprintf's %l: "a", "a and b", "a, b, and c" (as in the recorded enum messages)."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _sanitize_title(text: str) -> str:
    """sanitize_title(): the slug WordPress derives from a title ("T-Shirt - S, Red" -> t-shirt-s-red)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace(".", "-")
    text = re.sub(r"[^a-z0-9 _\-]", "", text)
    return re.sub(r"[\s\-]+", "-", text).strip("-")


def _wp_json(data: Any) -> bytes:
    """wp_json_encode() with WordPress's default flags: compact, \\uXXXX escapes and escaped '/'.

    The escaped slashes matter for realism: a 100-item batch answer of full products is ~210 KB
    on the real store, as recorded.
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def _filter_fields(data: Any, fields_param: Any) -> Any:
    """rest_filter_response_fields(): keep only `_fields`, with dotted paths for nested keys.

    Applied as WordPress does: to each element of a list response, otherwise to the object
    (_rest_array_intersect_key_recursive). That is why `_fields=update.id` on a batch answers
    `{"update": []}`: the list under "update" has no key "id" (recorded on 11.0.1).
    """
    fields = [f.strip() for f in _wp_parse_list(fields_param)]
    fields = [f for f in fields if f]
    if not fields:
        return data
    tree: dict[str, Any] = {}
    for name in fields:
        parts = name.split(".")
        ref = tree
        skip = False
        for part in parts[:-1]:
            if ref.get(part) is True:  # the parent is already wholly included
                skip = True
                break
            ref = ref.setdefault(part, {})
        if not skip:
            ref[parts[-1]] = True
    if isinstance(data, list):
        return [_intersect(item, tree) for item in data]
    return _intersect(data, tree)


def _intersect(value: Any, tree: dict[str, Any]) -> Any:
    """_rest_array_intersect_key_recursive() on a PHP array; an empty result encodes as []."""
    if isinstance(value, list):
        return []  # a numeric array never has the named keys
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key in tree:
            wanted = tree[key]
            kept[key] = _intersect(item, wanted) if isinstance(wanted, dict) else item
    return kept if kept else []


def _parse_rest_date(value: str) -> datetime | None:
    """rest_parse_date(): RFC 3339 date-time, optional fraction and zone; None when invalid."""
    match = re.fullmatch(
        r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?",
        value,
    )
    if not match:
        return None
    try:
        moment = datetime(*(int(match.group(i)) for i in range(1, 7)))
    except ValueError:
        return None
    zone = match.group(7)
    if zone is None:
        return moment
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return moment.replace(tzinfo=timezone(sign * offset))


def _gmt(ts: int) -> str:
    """A GMT date as the REST API prints it (second resolution, no zone)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _local(ts: int) -> str:
    """A site-time date as the REST API prints it (the recorded store ran at UTC+1)."""
    return (datetime.fromtimestamp(ts, UTC) + SITE_UTC_OFFSET).strftime("%Y-%m-%dT%H:%M:%S")


def _price_amount(price: str) -> str:
    """A price as the recorded store prints it: EUR, decimal comma, 2 decimals."""
    try:
        amount = float(price)
    except ValueError:
        return price
    text = f"{amount:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _wc_price(price: str) -> str:
    """wc_price() markup, as recorded (EUR after the amount, non-breaking space)."""
    return ('<span class="woocommerce-Price-amount amount"><bdi>' + _price_amount(price)
            + '&nbsp;<span class="woocommerce-Price-currencySymbol" translate="no">&euro;</span>'
              "</bdi></span>")


def _price_html(regular: str, sale: str) -> str:
    """get_price_html(): plain price, or struck-through regular and sale (markup not recorded)."""
    if sale != "" and regular != "":
        return (f'<del aria-hidden="true">{_wc_price(regular)}</del> <span class="screen-reader-text">'
                f"Original price was: {_price_amount(regular)}&nbsp;&euro;.</span>"
                f'<ins aria-hidden="true">{_wc_price(sale)}</ins><span class="screen-reader-text">'
                f"Current price is: {_price_amount(sale)}&nbsp;&euro;.</span>")
    price = sale or regular
    return _wc_price(price) if price != "" else ""


def _derive_attributes(parent_sku: str, sku: str, name: str | None) -> tuple[tuple[str, str], ...]:
    """Attributes for a variation given only a SKU (and maybe a catalog name like "Shirt (S, Red)")."""
    options: list[str] = []
    if name and "(" in name and name.rstrip().endswith(")"):
        inner = name[name.rindex("(") + 1: name.rstrip().rindex(")")]
        options = [part.strip() for part in inner.split(",") if part.strip()]
    if not options:
        suffix = sku[len(parent_sku) + 1:] if sku.startswith(parent_sku + "-") else sku
        options = [_COLOUR_CODES.get(token.upper(), token) for token in suffix.split("-") if token]
    names = (_ATTRIBUTE_NAMES if len(options) <= len(_ATTRIBUTE_NAMES)
             else tuple(f"Option {n}" for n in range(1, len(options) + 1)))
    return tuple(zip(names, options, strict=False))


# -- request argument schemas (as registered by WooCommerce 11.0.1; see the recorded route index) ---


def _int_arg(minimum: int | None = None, maximum: int | None = None, default: Any = None) -> dict:
    """An integer argument schema."""
    arg: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        arg["minimum"] = minimum
    if maximum is not None:
        arg["maximum"] = maximum
    if default is not None:
        arg["default"] = default
    return arg


def _enum_arg(values: Iterable[str], default: str | None = None) -> dict:
    """A string argument schema restricted to `values`."""
    arg: dict[str, Any] = {"type": "string", "enum": list(values)}
    if default is not None:
        arg["default"] = default
    return arg


_STR: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_DATE: dict[str, Any] = {"type": "string", "format": "date-time"}
_INT_LIST: dict[str, Any] = {"type": "array", "items": {"type": "integer"}, "default": []}
_CONTEXT = _enum_arg(("view", "edit"), "view")

_COLLECTION_ARGS: dict[str, dict[str, Any]] = {
    "context": _CONTEXT,
    "page": _int_arg(1, default=1),
    "per_page": _int_arg(1, 100, default=10),
    "search": _STR,
    "after": _DATE,
    "before": _DATE,
    "modified_after": _DATE,
    "modified_before": _DATE,
    "dates_are_gmt": {"type": "boolean", "default": False},
    "exclude": _INT_LIST,
    "include": _INT_LIST,
    "offset": _int_arg(),
    "order": _enum_arg(("asc", "desc"), "desc"),
    "orderby": _enum_arg(("date", "id", "include", "title", "slug", "modified", "popularity",
                          "rating", "post__in", "price", "sales", "menu_order", "random"), "date"),
    "parent": _INT_LIST,
    "parent_exclude": _INT_LIST,
    "slug": _STR,
    "status": _enum_arg(QUERY_STATUSES, "any"),
    "type": _enum_arg(PRODUCT_TYPES),
    "sku": _STR,
    "featured": _BOOL,
    "on_sale": _BOOL,
    "min_price": _STR,
    "max_price": _STR,
    "stock_status": _enum_arg(STOCK_STATUSES),
    "search_sku": _STR,
    "virtual": _BOOL,
    "downloadable": _BOOL,
}
_VARIATION_COLLECTION_ARGS = {
    **{k: v for k, v in _COLLECTION_ARGS.items()
       if k not in ("type", "featured", "search_sku")},
    "orderby": _enum_arg(("date", "id", "include", "title", "slug", "modified", "menu_order"), "date"),
}
# The v3 orders controller's collection parameters that the simulator serves (ORDER_STATUSES:
# wc_get_order_statuses() without the wc- prefix, plus "any" and "trash").
ORDER_STATUSES = ("any", "trash", "pending", "processing", "on-hold", "completed", "cancelled",
                  "refunded", "failed", "checkout-draft")
_ORDER_COLLECTION_ARGS: dict[str, dict[str, Any]] = {
    "context": _CONTEXT,
    "page": _int_arg(1, default=1),
    "per_page": _int_arg(1, 100, default=10),
    "after": _DATE,
    "before": _DATE,
    "modified_after": _DATE,
    "modified_before": _DATE,
    "dates_are_gmt": {"type": "boolean", "default": False},
    "include": _INT_LIST,
    "order": _enum_arg(("asc", "desc"), "desc"),
    "orderby": _enum_arg(("date", "id", "include", "title", "slug", "modified"), "date"),
    "status": {"type": "array", "items": _enum_arg(ORDER_STATUSES), "default": ["any"]},
}
_PRODUCT_WRITE_ARGS: dict[str, dict[str, Any]] = {
    "name": _STR,
    "slug": _STR,
    "type": _enum_arg(PRODUCT_TYPES, "simple"),
    "status": _enum_arg(PRODUCT_STATUSES, "publish"),
    "featured": {"type": "boolean", "default": False},
    "catalog_visibility": _enum_arg(("visible", "catalog", "search", "hidden"), "visible"),
    "description": _STR,
    "short_description": _STR,
    "sku": _STR,
    "regular_price": _STR,
    "sale_price": _STR,
    "virtual": {"type": "boolean", "default": False},
    "downloadable": {"type": "boolean", "default": False},
    "tax_status": _enum_arg(("taxable", "shipping", "none"), "taxable"),
    "tax_class": _STR,
    "manage_stock": {"type": "boolean", "default": False},
    "stock_quantity": _int_arg(),
    "stock_status": _enum_arg(STOCK_STATUSES, "instock"),
    "backorders": _enum_arg(BACKORDERS, "no"),
    "low_stock_amount": {"type": ["integer", "null"]},
    "sold_individually": {"type": "boolean", "default": False},
    "reviews_allowed": {"type": "boolean", "default": True},
    "parent_id": _int_arg(),
    "menu_order": _int_arg(),
}
_VARIATION_WRITE_ARGS: dict[str, dict[str, Any]] = {
    "description": _STR,
    "sku": _STR,
    "regular_price": _STR,
    "sale_price": _STR,
    "status": _enum_arg(VARIATION_STATUSES, "publish"),
    "virtual": {"type": "boolean", "default": False},
    "downloadable": {"type": "boolean", "default": False},
    "tax_status": _enum_arg(("taxable", "shipping", "none"), "taxable"),
    "tax_class": _STR,
    "manage_stock": {"type": ["boolean", "string"], "default": False},
    "stock_quantity": _int_arg(),
    "stock_status": _enum_arg(STOCK_STATUSES, "instock"),
    "backorders": _enum_arg(BACKORDERS, "no"),
    "low_stock_amount": {"type": ["integer", "null"]},
    "menu_order": _int_arg(),
}
_DELETE_ARGS = {"force": {"type": "boolean", "default": False}}


def _no_defaults(args: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """WordPress registers schema defaults only for CREATABLE endpoints, not for EDITABLE ones."""
    return {name: {k: v for k, v in arg.items() if k != "default"} for name, arg in args.items()}


def _validate(param: str, value: Any, arg: dict[str, Any]) -> tuple[str, str, Any] | None:
    """rest_validate_value_from_schema() for the types used here: (code, message, data) or None."""
    kind = arg.get("type")
    if isinstance(kind, list):
        if value is None and "null" in kind:
            return None
        if "string" in kind and "boolean" in kind:
            return None if isinstance(value, str | bool) else (
                "rest_invalid_type", f"{param} is not of type {', '.join(kind)}.", {"param": param})
        kind = next(k for k in kind if k != "null")
    if kind == "array":
        for index, item in enumerate(_wp_parse_list(value)):
            problem = _validate(f"{param}[{index}]", item, arg.get("items", {}))
            if problem:
                return problem
        return None
    if kind == "integer":
        if not _rest_is_integer(value):
            return "rest_invalid_type", f"{param} is not of type integer.", {"param": param}
        number = float(value)
        low, high = arg.get("minimum"), arg.get("maximum")
        if low is not None and high is not None and not low <= number <= high:
            return ("rest_out_of_bounds",
                    f"{param} must be between {low} (inclusive) and {high} (inclusive)", None)
        if low is not None and high is None and number < low:
            return "rest_out_of_bounds", f"{param} must be greater than or equal to {low}", None
        if high is not None and low is None and number > high:
            return "rest_out_of_bounds", f"{param} must be less than or equal to {high}", None
        return None
    if kind == "boolean":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return None
        return "rest_invalid_type", f"{param} is not of type boolean.", {"param": param}
    if kind == "string":
        if not isinstance(value, str):
            return "rest_invalid_type", f"{param} is not of type string.", {"param": param}
        if "enum" in arg and value not in arg["enum"]:
            return ("rest_not_in_enum",
                    f"{param} is not one of {_wp_sprintf_list(arg['enum'])}.", None)
        if arg.get("format") == "date-time" and _parse_rest_date(value) is None:
            return "rest_invalid_date", "Invalid date.", None
    return None


def _rest_is_integer(value: Any) -> bool:
    """rest_is_integer(): numeric and whole ("41" and 41.0 pass, 41.5 and true do not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and round(number) == number


def _sanitize(value: Any, arg: dict[str, Any]) -> Any:
    """rest_sanitize_value_from_schema() for the types used here."""
    kind = arg.get("type")
    if isinstance(kind, list):
        if value is None:
            return None
        if isinstance(value, bool | str) and "string" in kind:
            return value
        kind = next(k for k in kind if k != "null")
    if kind == "array":
        return [_sanitize(item, arg.get("items", {})) for item in _wp_parse_list(value)]
    if kind == "integer":
        return int(float(value))
    if kind == "boolean":
        if isinstance(value, str):
            return value.lower() not in ("false", "0", "")
        return bool(value)
    return value


# -- the simulator -----------------------------------------------------------------------------


class WooSimulator:
    """A WooCommerce 11.0.1 store behind /wp-json/wc/v3, served over real HTTP on 127.0.0.1.

    Catalog methods are thread-safe (one lock around all state). `clock` gives the store's time
    for product dates; OAuth timestamps are always checked against the real time.
    """

    def __init__(self, *, consumer_key: str = "ck_" + "0" * 39 + "1",
                 consumer_secret: str = "cs_" + "0" * 39 + "1",
                 home_host: str = "127.0.0.1", port: int = 0, batch_limit: int = 100) -> None:
        """An empty store; OAuth signatures are checked against http://<home_host>:<port>."""
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.home_host = home_host
        self.batch_limit = batch_limit
        # The Woodoo Companion plugin's secret: when set, the plugin's conditional stock route
        # POST /wp-json/woodoo/v1/stock answers (see docs/order-events.md).
        self.plugin_secret: str | None = None
        self._accepted_signatures: set[str] = set()
        # The API key's permissions ("read", "write" or "read_write"), as chosen in WooCommerce.
        self.permissions = "read_write"
        # WordPress behind a TLS-terminating proxy with the usual wp-config.php line that turns
        # X-Forwarded-Proto: https into HTTPS=on, so is_ssl() is true: Basic auth and
        # consumer_key query parameters are then accepted (recorded over real https).
        self.behind_tls_proxy = False
        self.clock: Callable[[], float] = time.time
        self.stock_writes: list[tuple[int, int | None]] = []
        self.server = SimulatorServer(self._wsgi, port=port, name="woocommerce")
        self._lock = threading.RLock()
        self._products: dict[int, _Product] = {}
        self._by_sku: dict[str, list[int]] = {}
        self._slugs: set[str] = set()
        self._next_id = 11  # the recorded store's first product was id 11
        self._order_cache: dict[tuple[Any, ...], list[int]] = {}
        self._nonces: dict[int | str, str] = {}
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
        # Customers' orders, and the Woodoo Companion plugin's events about them.
        self.orders = ShopOrders(clock=lambda: self.clock(), lock=self._lock,
                                 product_of=self._order_product, move_stock=self._move_stock,
                                 home_url=lambda: self.home_url)

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL clients use: http://127.0.0.1:<port>."""
        return self.server.url

    @property
    def home_url(self) -> str:
        """The WordPress home URL, against which OAuth signatures are checked."""
        return f"http://{self.home_host}:{self.server.port}"

    def start(self) -> WooSimulator:
        """Serve in a background thread; returns self."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> WooSimulator:
        """Start serving."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.stop()

    # -- catalog -----------------------------------------------------------------------------------

    def add_simple(self, sku: str, stock_quantity: int | None = 0, *, manage_stock: bool = True,
                   backorders: str = "no", name: str | None = None,
                   product_id: int | None = None) -> int:
        """Add a published simple product; returns its id (stock ignored unless managed)."""
        with self._lock:
            now = int(self.clock())
            pid = self._take_id(product_id)
            title = name or f"Product {sku}"
            product = _Product(
                id=pid, type="simple", name=title, slug=self._unique_slug(_sanitize_title(title)),
                sku=sku, regular_price=self._default_price(pid), created=now, modified=now,
                manage_stock=manage_stock,
                stock_quantity=_php_intval(stock_quantity) if manage_stock and stock_quantity
                is not None else None,
                backorders=backorders if manage_stock else "no",
            )
            self._validate_props(product)
            self._insert(product)
            return pid

    def add_variable(self, sku: str, name: str, variations: list[tuple[str, int | None]], *,
                     product_id: int | None = None) -> tuple[int, list[int]]:
        """Add a variable product and its variations (stock managed on each; None: not managed).

        Attributes are derived from each variation's SKU ("TSH-S-RED" -> Size S, Color Red).
        Returns (parent id, variation ids).
        """
        with self._lock:
            parent = self._new_variable(sku, name, product_id)
            ids = [self._add_variation(parent, v_sku, quantity, quantity is not None, "no", None)
                   for v_sku, quantity in variations]
            return parent.id, ids

    def load_catalog(self, items: Iterable[CatalogItem] = DEMO_CATALOG,
                     parents: dict[str, str] = DEMO_PARENTS) -> dict[str, int]:
        """Add the shop side of a catalog (items with in_shop); returns ids by SKU, parents too."""
        items = [item for item in items if item.in_shop]
        ids: dict[str, int] = {}
        with self._lock:
            for item in items:
                if item.sku in ids:
                    continue
                if item.parent_sku is None:
                    ids[item.sku] = self.add_simple(
                        item.sku, item.shop_quantity, manage_stock=item.manage_stock,
                        backorders=item.backorders, name=item.name)
                    continue
                # A variable product is created with all its variations at once, as in wp-admin.
                parent = self._new_variable(item.parent_sku,
                                            parents.get(item.parent_sku, item.parent_sku), None)
                ids[item.parent_sku] = parent.id
                for child in items:
                    if child.parent_sku == item.parent_sku:
                        ids[child.sku] = self._add_variation(
                            parent, child.sku, child.shop_quantity, child.manage_stock,
                            child.backorders, child.name)
        return ids

    def bulk_add_simple(self, count: int, *, sku_format: str = "SKU-{:06d}",
                        quantity: Callable[[int], int | None] = lambda i: i % 50) -> None:
        """Add `count` managed simple products `sku_format.format(i)` (i in 0..count-1), fast."""
        with self._lock:
            now = int(self.clock())
            products, by_sku, slugs = self._products, self._by_sku, self._slugs
            for i in range(count):
                pid = self._next_id
                self._next_id += 1
                sku = sku_format.format(i)
                slug = f"bulk-product-{i}"
                while slug in slugs:
                    slug += "-2"
                slugs.add(slug)
                raw = quantity(i)
                qty = None if raw is None else _php_intval(raw)
                product = _Product(id=pid, type="simple", name=f"Bulk Product {i}", slug=slug,
                                   sku=sku, regular_price=self._default_price(pid), created=now,
                                   modified=now, manage_stock=True, stock_quantity=qty)
                product.stock_status = "instock" if _php_intval(qty) > 0 else "outofstock"
                products[pid] = product
                by_sku.setdefault(sku, []).append(pid)
            self._order_cache.clear()

    def product(self, product_id: int) -> dict[str, Any]:
        """The product's (or variation's) current full REST representation, as GET would return."""
        with self._lock:
            return self._product_data(self._get(product_id), "view", self.home_url)

    def stock(self, sku: str) -> tuple[int | None, str]:
        """(stock_quantity, stock_status) of the lowest-id product or variation with this SKU."""
        with self._lock:
            ids = self._by_sku.get(sku)
            if not ids:
                raise KeyError(sku)
            product = self._products[min(ids)]
            return product.stock_quantity, self._stock_status(product)

    def set_stock(self, product_id: int, quantity: int | None) -> None:
        """Edit the quantity by hand in wp-admin: turns stock management on, derives the status,
        bumps date_modified (and the parent's, which WooCommerce re-syncs)."""
        with self._lock:
            product = self._get(product_id)
            product.manage_stock = True
            product.stock_quantity = quantity
            self._save(product)

    def checkout(self, sku: str, quantity: int) -> None:
        """A customer buys `quantity`: WooCommerce lowers its own stock at once (as recorded for
        every order path reaching processing), long before any order event leaves the shop."""
        self._move_stock(sku, -quantity)

    def _move_stock(self, sku: str, change: int) -> None:
        with self._lock:
            product = self._products[min(self._by_sku[sku])]
            product.stock_quantity = (product.stock_quantity or 0) + change
            self._save(product)

    def _order_product(self, sku: str) -> tuple[int, int, str]:
        """(product id, variation id, name) of the product an order line with `sku` buys."""
        with self._lock:
            product = self._products[min(self._by_sku[sku])]
            if product.parent_id:
                return product.parent_id, product.id, product.name
            return product.id, 0, product.name

    def set_manage_stock(self, product_id: int, manage: bool) -> None:
        """Tick or untick "Manage stock?" in wp-admin (unmanaged: quantity null, backorders no)."""
        with self._lock:
            product = self._get(product_id)
            product.manage_stock = manage
            if manage and product.stock_quantity is None:
                product.stock_quantity = 0
            self._save(product)

    def set_sku(self, product_id: int, sku: str) -> None:
        """Change the SKU by a direct database edit: duplicates allowed, date_modified untouched."""
        with self._lock:
            product = self._get(product_id)
            self._set_sku_index(product, sku)

    def delete(self, product_id: int) -> None:
        """Delete permanently (a variable product takes its variations with it)."""
        with self._lock:
            self._remove(self._get(product_id))

    def rate_limit_next(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` requests with 429 and a Retry-After header."""
        with self._lock:
            self._rate_limited += count
            self._retry_after = retry_after

    # -- state internals ---------------------------------------------------------------------------

    def _get(self, product_id: int) -> _Product:
        """The product or variation with this id; KeyError if none."""
        product = self._products.get(product_id)
        if product is None:
            raise KeyError(f"no product or variation with id {product_id}")
        return product

    def _take_id(self, product_id: int | None) -> int:
        """The next id, or `product_id` if free (ids keep growing past it)."""
        if product_id is None:
            product_id = self._next_id
        elif product_id in self._products:
            raise ValueError(f"id {product_id} is taken")
        self._next_id = max(self._next_id, product_id + 1)
        return product_id

    @staticmethod
    def _default_price(product_id: int) -> str:
        """A stable made-up regular price."""
        return f"{9 + product_id % 40}.99"

    def _unique_slug(self, slug: str) -> str:
        """wp_unique_post_slug(): "name", then "name-2", "name-3"..."""
        slug = slug or "product"
        candidate, n = slug, 2
        while candidate in self._slugs:
            candidate = f"{slug}-{n}"
            n += 1
        return candidate

    def _insert(self, product: _Product) -> None:
        """Store a new product and index its slug and SKU."""
        self._products[product.id] = product
        self._slugs.add(product.slug)
        if product.sku:
            self._by_sku.setdefault(product.sku, []).append(product.id)
        self._order_cache.clear()

    def _remove(self, product: _Product) -> None:
        """Forget a product (and a variable product's variations) and its index entries."""
        for child_id in list(product.children or []):
            child = self._products.get(child_id)
            if child is not None:
                self._remove(child)
        self._products.pop(product.id, None)
        self._slugs.discard(product.slug)
        self._set_sku_index(product, "")
        parent = self._products.get(product.parent_id) if product.type == "variation" else None
        if parent is not None and parent.children and product.id in parent.children:
            parent.children.remove(product.id)
        self._order_cache.clear()

    def _set_sku_index(self, product: _Product, sku: str) -> None:
        """Set a product's SKU and keep the SKU index (which allows duplicates) in step."""
        if product.sku:
            ids = self._by_sku.get(product.sku, [])
            if product.id in ids:
                ids.remove(product.id)
            if not ids:
                self._by_sku.pop(product.sku, None)
        product.sku = sku
        if sku:
            self._by_sku.setdefault(sku, []).append(product.id)

    def _new_variable(self, sku: str, name: str, product_id: int | None) -> _Product:
        """Add an empty variable product."""
        now = int(self.clock())
        pid = self._take_id(product_id)
        parent = _Product(id=pid, type="variable", name=name,
                          slug=self._unique_slug(_sanitize_title(name)), sku=sku, regular_price="",
                          created=now, modified=now, options={}, children=[])
        self._insert(parent)
        return parent

    def _add_variation(self, parent: _Product, sku: str, quantity: int | None, manage: bool,
                       backorders: str, catalog_name: str | None) -> int:
        """Add a variation to `parent` (title "Parent - S, Red", attributes from SKU or name)."""
        now = int(self.clock())
        pid = self._take_id(None)
        attributes = _derive_attributes(parent.sku, sku, catalog_name)
        summary = ", ".join(option for _, option in attributes)
        title = f"{parent.name} - {summary}" if summary else parent.name
        variation = _Product(
            id=pid, type="variation", name=title, slug=self._unique_slug(_sanitize_title(title)),
            sku=sku, regular_price=self._default_price(parent.id), created=now, modified=now,
            parent_id=parent.id, manage_stock=manage, stock_quantity=quantity if manage else None,
            backorders=backorders if manage else "no", tax_class="parent", reviews_allowed=False,
            attributes=attributes,
        )
        self._validate_props(variation)
        options = parent.options if parent.options is not None else {}
        for attribute, option in attributes:
            values = options.setdefault(attribute, [])
            if option not in values:
                values.append(option)
        parent.options = options
        parent.children = [*(parent.children or []), pid]
        self._insert(variation)
        return pid

    @staticmethod
    def _validate_props(product: _Product) -> None:
        """WC_Product::validate_props(), run on every save.

        Unmanaged: quantity null, backorders "no", low stock amount cleared. Managed: the status
        follows the quantity: above woocommerce_notify_no_stock_amount (0) is instock, otherwise
        onbackorder if backorders is anything but "no", else outofstock. A sent stock_status is
        therefore ignored with managed stock (recorded).
        """
        if not product.manage_stock:
            product.stock_quantity = None
            product.backorders = "no"
            product.low_stock_amount = None
            return
        if _php_intval(product.stock_quantity) > 0:
            product.stock_status = "instock"
        elif product.backorders != "no":
            product.stock_status = "onbackorder"
        else:
            product.stock_status = "outofstock"

    def _save(self, product: _Product) -> None:
        """WC_Product::save(): validate props and bump post_modified (every save does, even one
        that changes nothing, recorded); a variation's save re-syncs and so re-saves its parent."""
        self._validate_props(product)
        now = int(self.clock())
        product.modified = now
        if product.type == "variation":
            parent = self._products.get(product.parent_id)
            if parent is not None:
                parent.modified = now

    def _stock_status(self, product: _Product) -> str:
        """A variable product not managing stock shows the best of its variations' statuses
        (WC_Product_Variable_Data_Store::sync_stock_status)."""
        if product.type != "variable" or product.manage_stock:
            return product.stock_status
        statuses = {self._products[c].stock_status for c in product.children or ()
                    if c in self._products and self._products[c].status == "publish"}
        for status in ("instock", "onbackorder"):
            if status in statuses:
                return status
        return "outofstock" if statuses else product.stock_status

    def _price(self, product: _Product) -> tuple[str, str, str]:
        """(price, regular_price, sale_price); a variable product's price is its cheapest child's."""
        if product.type != "variable":
            return product.sale_price or product.regular_price, product.regular_price, product.sale_price
        prices = sorted(
            (float(p), p) for c in product.children or ()
            if (child := self._products.get(c)) is not None and child.status == "publish"
            and (p := child.sale_price or child.regular_price) != ""
        )
        return (prices[0][1] if prices else ""), "", ""

    def _variable_price_html(self, product: _Product) -> str:
        """A variable product's price_html: one price, or the cheapest to the dearest."""
        prices = sorted(
            (float(p), p) for c in product.children or ()
            if (child := self._products.get(c)) is not None and child.status == "publish"
            and (p := child.sale_price or child.regular_price) != ""
        )
        if not prices:
            return ""
        if prices[0][0] == prices[-1][0]:
            return _wc_price(prices[0][1])
        # wc_format_price_range() (markup not recorded).
        return f"{_wc_price(prices[0][1])} &ndash; {_wc_price(prices[-1][1])}"

    def _related_ids(self, product: _Product) -> list[int]:
        """wc_get_related_products(): up to 5 other products of the same category, shuffled
        (cached per product by WooCommerce, so stable here)."""
        if product.type == "variation":
            return []
        pool = self._ordered(("products", "any"), "id", "asc")
        if len(pool) <= 1:
            return []
        chooser = random.Random(product.id)
        picked: list[int] = []
        for _ in range(20):
            if len(picked) >= min(5, len(pool) - 1):
                break
            candidate = pool[chooser.randrange(len(pool))]
            if candidate != product.id and candidate not in picked:
                picked.append(candidate)
        return picked

    # -- representations ---------------------------------------------------------------------------

    def _permalink(self, product: _Product, home: str) -> str:
        """The product URL; a variation's is its parent's with attribute_* query parameters."""
        if product.type == "variation":
            parent = self._products.get(product.parent_id)
            base = f"{home}/product/{parent.slug if parent else product.slug}/"
            query = "&".join(f"attribute_{_sanitize_title(n)}={quote(o)}"
                             for n, o in product.attributes)
            return f"{base}?{query}" if query else base
        return f"{home}/product/{product.slug}/"

    def _product_data(self, product: _Product, context: str, home: str) -> dict[str, Any]:
        """The products-endpoint representation (WC_REST_Products_Controller), also for a
        variation reached through /products (recorded: total_sales "0" is a string there)."""
        is_variation = product.type == "variation"
        price, regular, sale = self._price(product)
        managed = product.manage_stock
        stock_status = self._stock_status(product)
        api = f"{home}/wp-json/{NAMESPACE}"
        if product.type == "variable":
            attributes: list[dict[str, Any]] = [
                {"id": 0, "name": name, "slug": _sanitize_title(name), "position": position,
                 "visible": True, "variation": True, "options": list(values)}
                for position, (name, values) in enumerate((product.options or {}).items())
            ]
            price_html = self._variable_price_html(product)
        else:
            attributes = [{"id": 0, "name": name, "slug": _sanitize_title(name), "option": option}
                          for name, option in product.attributes]
            price_html = _price_html(regular, sale)
        data: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "slug": product.slug,
            "permalink": self._permalink(product, home),
            "date_created": _local(product.created),
            "date_created_gmt": _gmt(product.created),
            "date_modified": _local(product.modified),
            "date_modified_gmt": _gmt(product.modified),
            "type": product.type,
            "status": product.status,
            "featured": product.featured,
            "catalog_visibility": product.catalog_visibility,
            "description": product.description,
            "short_description": product.short_description,
            "sku": product.sku,
            "price": price,
            "regular_price": regular,
            "sale_price": sale,
            "date_on_sale_from": None,
            "date_on_sale_from_gmt": None,
            "date_on_sale_to": None,
            "date_on_sale_to_gmt": None,
            "on_sale": sale != "",
            "purchasable": price != "" and product.status == "publish",
            "total_sales": str(product.total_sales) if is_variation else product.total_sales,
            "virtual": product.virtual,
            "downloadable": product.downloadable,
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "external_url": "",
            "button_text": "",
            "tax_status": product.tax_status,
            "tax_class": "" if product.tax_class == "parent" else product.tax_class,
            "manage_stock": managed,
            "stock_quantity": product.stock_quantity if managed else None,
            "backorders": product.backorders,
            "backorders_allowed": product.backorders in ("yes", "notify"),
            "backordered": stock_status == "onbackorder",
            "low_stock_amount": product.low_stock_amount,
            "sold_individually": product.sold_individually,
            "weight": "",
            "dimensions": {"length": "", "width": "", "height": ""},
            "shipping_required": not product.virtual,
            "shipping_taxable": product.tax_status in ("taxable", "shipping"),
            "shipping_class": "",
            "shipping_class_id": 0,
            "reviews_allowed": product.reviews_allowed and not is_variation,
            # The rating is wc_format_decimal()'d to 2 places for display only (recorded).
            "average_rating": "0" if context == "edit" else "0.00",
            "rating_count": 0,
            "upsell_ids": [],
            "cross_sell_ids": [],
            "parent_id": product.parent_id,
            "purchase_note": "",
            "categories": [] if is_variation else [dict(UNCATEGORIZED)],
            "brands": [],
            "tags": [],
            "images": [],
            "attributes": attributes,
            "default_attributes": [],
            "variations": list(product.children or []) if product.type == "variable" else [],
            "grouped_products": [],
            "menu_order": product.menu_order,
            "price_html": price_html,
            "related_ids": self._related_ids(product),
            "meta_data": [],
            "stock_status": stock_status,
            "has_options": product.type == "variable",
            "post_password": "",
            "global_unique_id": "",
        }
        if context == "edit":  # WP_REST_Posts_Controller adds these in the edit context (recorded)
            data["permalink_template"] = f"{home}/product/%pagename%/"
            data["generated_slug"] = product.slug
        links: dict[str, Any] = {
            "self": [{"href": f"{api}/products/{product.id}",
                      "targetHints": {"allow": list(ALL_METHODS)}}],
            "collection": [{"href": f"{api}/products"}],
        }
        if is_variation:
            links["up"] = [{"href": f"{api}/products/{product.parent_id}"}]
        data["_links"] = links
        return data

    def _variation_data(self, product: _Product, context: str, home: str,
                        store_wide: bool = False) -> dict[str, Any]:
        """The variations-endpoint representation (WC_REST_Product_Variations_Controller).

        Through the store-wide /variations endpoint (WooCommerce 10.3+) the links point to
        /variations/<id>, a route that does not exist, and "up" to /products/0 (both recorded).
        """
        managed = product.manage_stock
        price, regular, sale = self._price(product)
        api = f"{home}/wp-json/{NAMESPACE}"
        if store_wide:
            links: dict[str, Any] = {
                "self": [{"href": f"{api}/variations/{product.id}"}],
                "collection": [{"href": f"{api}/variations"}],
                "up": [{"href": f"{api}/products/0"}],
            }
        else:
            base = f"{api}/products/{product.parent_id}/variations"
            links = {
                "self": [{"href": f"{base}/{product.id}", "targetHints": {"allow": list(ALL_METHODS)}}],
                "collection": [{"href": base}],
                "up": [{"href": f"{api}/products/{product.parent_id}"}],
            }
        tax_class = product.tax_class
        if context == "view" and tax_class == "parent":
            parent = self._products.get(product.parent_id)
            tax_class = parent.tax_class if parent else ""
        return {
            "id": product.id,
            "type": "variation",
            "date_created": _local(product.created),
            "date_created_gmt": _gmt(product.created),
            "date_modified": _local(product.modified),
            "date_modified_gmt": _gmt(product.modified),
            "description": product.description,
            "permalink": self._permalink(product, home),
            "sku": product.sku,
            "global_unique_id": "",
            "price": price,
            "regular_price": regular,
            "sale_price": sale,
            "date_on_sale_from": None,
            "date_on_sale_from_gmt": None,
            "date_on_sale_to": None,
            "date_on_sale_to_gmt": None,
            "on_sale": sale != "",
            "status": product.status,
            "purchasable": price != "" and product.status == "publish",
            "virtual": product.virtual,
            "downloadable": product.downloadable,
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "tax_status": product.tax_status,
            "tax_class": tax_class,
            "manage_stock": managed,
            "stock_quantity": product.stock_quantity if managed else None,
            "stock_status": product.stock_status,
            "backorders": product.backorders,
            "backorders_allowed": product.backorders in ("yes", "notify"),
            "backordered": product.stock_status == "onbackorder",
            "low_stock_amount": product.low_stock_amount,
            "weight": "",
            "dimensions": {"length": "", "width": "", "height": ""},
            "shipping_class": "",
            "shipping_class_id": 0,
            "image": None,
            "gallery_image_ids": [],
            "attributes": [{"id": 0, "name": name, "slug": _sanitize_title(name), "option": option}
                           for name, option in product.attributes],
            "menu_order": product.menu_order,
            "meta_data": [],
            "name": ", ".join(option for _, option in product.attributes),
            "parent_id": product.parent_id,
            "_links": links,
        }

    # -- HTTP --------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point: rate limit, front end or REST API."""
        request = Request(environ)
        raw_body = request.get_data()  # always consumed, so keep-alive connections stay in sync
        with self._lock:
            limited = self._rate_limited > 0
            if limited:
                self._rate_limited -= 1
            retry_after = self._retry_after
        ssl = self.behind_tls_proxy and request.headers.get("X-Forwarded-Proto", "") == "https"
        base = self._scheme_home(ssl)
        if limited:
            # Not WooCommerce core (which has no REST rate limit) but what a host, proxy or
            # security plugin answers; body modelled on WooCommerce's Store API RateLimits error.
            error = _RestError("rate_limit_exceeded",
                               f"Too many requests. Please wait {retry_after} seconds before trying "
                               "again.", 429)
            return self._send(environ, start_response, _Reply(
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
        except _RestError as error:
            reply = _error_reply(error, ssl)
        return self._send(environ, start_response, reply, base)

    def _scheme_home(self, ssl: bool) -> str:
        """get_home_url() in the request's scheme (set_url_scheme with is_ssl())."""
        home = self.home_url
        return "https://" + home.split("://", 1)[1] if ssl else home

    @staticmethod
    def _send(environ: dict[str, Any], start_response: Callable[..., Any], reply: _Reply,
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
        return Response(_wp_json(reply.data), status=reply.status, headers=headers)(
            environ, start_response)

    def _handle(self, request: Request, raw_body: bytes, ssl: bool, base: str) -> _Reply:
        """WP_REST_Server::serve_request: authenticate, match the route, validate, check
        permissions, dispatch, then filter `_fields`."""
        query = _php_query(request.query_string.decode("latin-1"))
        content_type = request.headers.get("Content-Type", "")
        body: dict[str, Any] = {}
        form: dict[str, Any] = {}
        json_error = None
        if "application/json" in content_type.lower():
            if raw_body.strip():
                try:
                    decoded = json.loads(raw_body)
                except ValueError as exc:
                    json_error = _RestError("rest_invalid_json", "Invalid JSON body passed.", 400,
                                            json_error_code=4, json_error_message=str(exc))
                else:
                    body = decoded if isinstance(decoded, dict) else {}
        elif request.method in ("POST", "PUT", "PATCH", "DELETE") and (
                "application/x-www-form-urlencoded" in content_type.lower()):
            form = _php_query(raw_body.decode("utf-8", "replace"))
        path = request.path.rstrip("/") or "/"
        if path == PLUGIN_STOCK_ROUTE and request.method == "POST" and self.plugin_secret:
            return self._plugin_stock(request, raw_body)
        if path == PLUGIN_FLUSH_ROUTE and request.method == "POST" and self.plugin_secret:
            return self._plugin_flush(request, raw_body)
        is_woocommerce = path.startswith("/wp-json/wc/")
        authenticated = False
        if is_woocommerce:
            # WC_REST_Authentication runs only for requests to WooCommerce's namespaces; its
            # errors are returned through rest_authentication_errors before any routing.
            authenticated = self._authenticate(request, query, form, ssl, base)
            if authenticated:
                self._check_key_permissions(request.method)
        adapter = self._urls.bind("localhost")
        try:
            endpoint, route_args = adapter.match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            if request.method == "OPTIONS":
                return self._options(path, base)
            raise _RestError("rest_no_route",
                             "No route was found matching the URL and request method.", 404) from None
        call = _Call(request.method, str(endpoint), dict(route_args), query, {**form, **body},
                     json_error, authenticated, ssl, base)
        try:
            reply = getattr(self, f"_route_{endpoint}")(call)
        except _RestError as error:
            reply = _error_reply(error, ssl)
        if "_fields" in query and reply.status < 400:
            reply.data = _filter_fields(reply.data, query["_fields"])
        # rest_send_allow_header(): on any response of a matched route (errors included, as
        # recorded), the methods whose permission check passes; none when not authenticated.
        if authenticated or endpoint in ("index", "site_index"):
            reply.headers.append(("Allow", _ALLOW[str(endpoint)]))
        return reply

    def _plugin_stock(self, request: Request, raw_body: bytes) -> _Reply:
        """The plugin's compare-and-set route: set `_stock` only where it still equals `expected`
        (one UPDATE ... WHERE meta_value = expected in the real plugin). Its refusals as
        wp-plugin/woodoo-companion/includes/class-woodoo-stock-route.php answers them."""
        header = request.headers.get(signing.HEADER)
        refused = self._plugin_signature(raw_body, header, signing.PLUGIN_STOCK)
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
            return _Reply({"error": "schema", "message": "expected {items: [...]} with at most "
                           "100 items of integers id >= 1, expected and quantity >= 0"}, 400)
        replayed = self._replayed(header)
        if replayed:
            return replayed
        results = []
        with self._lock:
            for item in items:
                product = self._products.get(item.get("id"))
                if product is None or not product.manage_stock:
                    results.append({"id": item.get("id"), "status": "error", "code": "not_found",
                                    "message": f"no product {item.get('id')} managing stock"})
                elif product.stock_quantity != item.get("expected"):
                    results.append({"id": product.id, "status": "conflict",
                                    "current": product.stock_quantity})
                else:
                    product.stock_quantity = int(item["quantity"])
                    self._save(product)
                    self.stock_writes.append((product.id, product.stock_quantity))
                    results.append({"id": product.id, "status": "applied",
                                    "quantity": product.stock_quantity,
                                    "stock_status": self._stock_status(product)})
        return _Reply({"results": results})

    def _plugin_flush(self, request: Request, raw_body: bytes) -> _Reply:
        """The plugin's flush route: send the events waiting in its outbox now (as
        class-woodoo-flush-route.php does), answering what happened."""
        header = request.headers.get(signing.HEADER)
        refused = self._plugin_signature(raw_body, header, signing.PLUGIN_FLUSH)
        if refused:
            return refused
        try:
            body = json.loads(raw_body)
            assert isinstance(body, dict) and set(body) <= {"max_events", "request_id"}
            assert re.fullmatch(r"[0-9a-f]{32}", str(body.get("request_id", "0" * 32)))
            max_events = body.get("max_events", 100)
            assert type(max_events) is int and 1 <= max_events <= 500  # type(): bools refused
        except (ValueError, AssertionError):
            return _Reply({"error": "schema", "message": "expected {\"max_events\": 1..500, "
                           "\"request_id\": 32 hex digits}"}, 400)
        if not (self.orders.daemon_url and self.orders.events_secret):
            return _Reply({"error": "not_configured", "message": "the daemon URL or the events "
                           "secret is not set"}, 503)
        replayed = self._replayed(header)
        if replayed:
            return replayed
        counts = self.orders.deliver(max_events)
        if counts is None:
            return _Reply({"error": "busy", "message": "another flush is running"}, 409)
        return _Reply(counts)

    def _plugin_signature(self, raw_body: bytes, header: str | None, route: str) -> _Reply | None:
        """The plugin's 401 for a request not signed with its stock secret for `route`."""
        try:
            signing.verify(raw_body, header, [self.plugin_secret or ""], route)
        except signing.StaleSignature as error:
            return _Reply({"error": "stale_timestamp", "message": str(error)}, 401)
        except signing.SignatureError as error:
            return _Reply({"error": "bad_signature", "message": str(error)}, 401)
        return None

    def _replayed(self, header: str | None) -> _Reply | None:
        """The plugin's 409 for a signed request it has already accepted; else remember it."""
        with self._lock:
            if header in self._accepted_signatures:
                return _Reply({"error": "replayed", "message": "replayed request: this signed "
                               "request was already accepted; sign each request anew"}, 409)
            self._accepted_signatures.add(str(header))
        return None

    # -- authentication ----------------------------------------------------------------------------

    def _authenticate(self, request: Request, query: dict[str, Any], form: dict[str, Any],
                      ssl: bool, base: str) -> bool:
        """WC_REST_Authentication::authenticate: Basic auth (or consumer_key/consumer_secret query
        parameters) only when is_ssl(), otherwise OAuth 1.0a "one-legged"; raises the auth error."""
        if ssl:
            key = secret = ""
            if query.get("consumer_key") and query.get("consumer_secret"):
                key, secret = str(query["consumer_key"]), str(query["consumer_secret"])
            elif request.authorization is not None and request.authorization.type == "basic":
                key = request.authorization.username or ""
                secret = request.authorization.password or ""
            if key and secret and key == self.consumer_key:
                if not hmac.compare_digest(secret.encode(), self.consumer_secret.encode()):
                    raise _RestError("woocommerce_rest_authentication_error",
                                     "Consumer secret is invalid.", 401)
                return True
        params = {**query, **form}
        header = request.headers.get("Authorization", "").strip()
        if header.startswith("OAuth "):
            for match in re.finditer(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
                params[match.group(1)] = unquote_plus(match.group(3) or match.group(4) or "")
        names = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                 "oauth_signature_method")
        missing = [name for name in names if not params.get(name) or params.get(name) == "0"]
        if len(missing) == len(names):
            return False  # not even trying OAuth: the route's permission check answers 401
        if missing:
            word = "parameter" if len(missing) == 1 else "parameters"
            raise _RestError("woocommerce_rest_authentication_missing_parameter",
                             f"Missing OAuth {word} {', '.join(missing)}", 401)
        if params["oauth_consumer_key"] != self.consumer_key:
            raise _RestError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        self._check_oauth_signature(request, params, base)
        self._check_timestamp_and_nonce(params["oauth_timestamp"], params["oauth_nonce"])
        return True

    def _check_oauth_signature(self, request: Request, params: dict[str, Any], base: str) -> None:
        """WC_REST_Authentication::check_oauth_signature, re-implemented by hand.

        No OAuth library implements WooCommerce's variant: the base URL is the WordPress *home*
        URL plus the request path (not the Host the client used, hence "localhost" vs "127.0.0.1"
        failing), parameters are sorted with strcmp, each key and value is rawurlencode()d, then
        each "key=value" pair is rawurlencode()d again and joined with "%26", and the HMAC key is
        the consumer secret plus "&" (no token).
        """
        raw_uri = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or ""
        request_path = urlsplit(raw_uri).path if raw_uri else request.path
        base_request_uri = _rawurlencode(base + "/" + request_path.lstrip("/"))
        consumer_signature = unquote(str(params["oauth_signature"]).replace(" ", "+"))
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        ordered = sorted(signed.items(), key=lambda kv: str(kv[0]).encode("utf-8", "replace"))
        pairs = _join_with_equals_sign(
            [(_rawurlencode(str(k)), _encode_deep(v)) for k, v in ordered])
        string_to_sign = f"{request.method}&{base_request_uri}&{'%26'.join(pairs)}"
        method = str(signed["oauth_signature_method"])
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _RestError("woocommerce_rest_authentication_error",
                             "Invalid signature - signature method is invalid.", 401)
        digest = hmac.new((self.consumer_secret + "&").encode(), string_to_sign.encode(),
                          hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256).digest()
        expected = base64.b64encode(digest)
        if not hmac.compare_digest(expected, consumer_signature.encode("utf-8", "replace")):
            raise _RestError("woocommerce_rest_authentication_error",
                             "Invalid signature - provided signature does not match.", 401)

    def _check_timestamp_and_nonce(self, timestamp: Any, nonce: Any) -> None:
        """WC_REST_Authentication::check_oauth_timestamp_and_nonce, quirks included.

        The timestamp must be within 15 minutes of now; the nonce must not be among the
        remembered ones, which WooCommerce keys by timestamp: only the last nonce per second is
        remembered, and entries older than 15 minutes are forgotten.
        """
        now = time.time()
        try:
            moment = float(timestamp)
        except (TypeError, ValueError):
            moment = math.nan
        if not (now - OAUTH_WINDOW_SECONDS <= moment <= now + OAUTH_WINDOW_SECONDS):
            raise _RestError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        with self._lock:
            if nonce in self._nonces.values():
                raise _RestError("woocommerce_rest_authentication_error",
                                 "Invalid nonce - nonce has already been used.", 401)
            text = str(timestamp)
            key: int | str = int(text) if re.fullmatch(r"-?[1-9]\d*|0", text) else text
            self._nonces[key] = str(nonce)
            for old in [k for k in self._nonces if float(k) < now - OAUTH_WINDOW_SECONDS]:
                del self._nonces[old]

    def _check_key_permissions(self, method: str) -> None:
        """WC_REST_Authentication::check_permissions: the key's read/write permission."""
        if method in ("GET", "HEAD") and self.permissions not in ("read", "read_write"):
            raise _RestError("woocommerce_rest_authentication_error",
                             "The API key provided does not have read permissions.", 401)
        if method in ("POST", "PUT", "PATCH", "DELETE") and self.permissions not in (
                "write", "read_write"):
            raise _RestError("woocommerce_rest_authentication_error",
                             "The API key provided does not have write permissions.", 401)

    # -- request plumbing --------------------------------------------------------------------------

    def _prepare(self, call: _Call, args: dict[str, dict[str, Any]]) -> None:
        """WP_REST_Request: merge parameters (JSON body, then POST, then GET, then URL, then
        defaults), validate those sent against the route's args (400 rest_invalid_param listing
        every bad one), then sanitize."""
        if call.json_error is not None:
            raise call.json_error
        merged: dict[str, Any] = {}
        for source in (call.route_args, call.query, call.body):
            merged.update(source)
        call.provided = set(merged)
        for name, arg in args.items():
            if name not in merged and "default" in arg:
                merged[name] = arg["default"]
        invalid: dict[str, str] = {}
        details: dict[str, Any] = {}
        for name, arg in args.items():
            if name not in call.provided:
                continue
            problem = _validate(name, merged[name], arg)
            if problem:
                code, message, data = problem
                invalid[name] = message
                details[name] = {"code": code, "message": message, "data": data}
        if invalid:
            raise _RestError("rest_invalid_param",
                             f"Invalid parameter(s): {', '.join(invalid)}", 400,
                             params=invalid, details=details)
        for name, arg in args.items():
            if name in call.provided:
                merged[name] = _sanitize(merged[name], arg)
        call.params = merged

    @staticmethod
    def _require_auth(call: _Call, code: str, message: str) -> None:
        """A route's permission_callback: unauthenticated requests get 401."""
        if not call.authenticated:
            raise _RestError(code, message, 401)

    @staticmethod
    def _context(call: _Call) -> str:
        """The request's context parameter: "view" or "edit"."""
        return "edit" if call.params.get("context") == "edit" else "view"

    # -- routes: index and system status -----------------------------------------------------------

    def _route_site_index(self, call: _Call) -> _Reply:
        """GET /wp-json: a minimal site index."""
        return _Reply({
            "name": "Woodoo simulated shop", "description": "", "url": call.base, "home": call.base,
            "gmt_offset": SITE_UTC_OFFSET.total_seconds() / 3600, "timezone_string": "",
            "namespaces": [NAMESPACE], "authentication": [], "routes": {},
        })

    def _route_index(self, call: _Call) -> _Reply:
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
        return _Reply({"namespace": NAMESPACE, "routes": routes,
                       "_links": {"up": [{"href": f"{api}/"}]}})

    def _options(self, path: str, base: str) -> _Reply:
        """OPTIONS on a route: its methods (rest_handle_options_request), or no route."""
        for route, methods_args in _ROUTE_DOCS:
            pattern = "^/wp-json" + route.replace("[\\d]+", "\\d+") + "$"
            if re.match(pattern, path):
                methods = [m for ms, _ in methods_args for m in ms]
                return _Reply({"namespace": NAMESPACE, "methods": methods,
                               "endpoints": [{"methods": list(ms)} for ms, _ in methods_args]},
                              headers=[("Allow", ", ".join(methods))])
        raise _RestError("rest_no_route", "No route was found matching the URL and request method.",
                         404)

    def _route_system_status(self, call: _Call) -> _Reply:
        """GET /system_status: a small report (`_fields=environment.version` is the cheap probe)."""
        self._prepare(call, {"context": _enum_arg(("view",), "view")})
        self._require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        with self._lock:
            counts = {"product": sum(1 for p in self._products.values() if p.type != "variation"),
                      "product_variation": sum(1 for p in self._products.values()
                                               if p.type == "variation")}
        data = {
            "environment": {
                "home_url": self.home_url, "site_url": self.home_url, "store_id": "",
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
        return _Reply(data)

    # -- routes: products --------------------------------------------------------------------------

    def _route_products(self, call: _Call) -> _Reply:
        """GET /products (list) and POST /products (create, 201)."""
        if call.method in ("GET", "HEAD"):
            self._prepare(call, _COLLECTION_ARGS)
            self._require_auth(call, "woocommerce_rest_cannot_view",
                               "Sorry, you cannot list resources.")
            return self._collection(call, "products")
        self._prepare(call, _PRODUCT_WRITE_ARGS)
        self._require_auth(call, "woocommerce_rest_cannot_create",
                           "Sorry, you are not allowed to create resources.")
        with self._lock:
            data = self._create_product(call.params, call.base)
        location = f"{call.base}/wp-json/{NAMESPACE}/products/{data['id']}"
        return _Reply(data, 201, [("Location", location)])

    def _route_product(self, call: _Call) -> _Reply:
        """GET, PUT/PATCH/POST and DELETE /products/<id>."""
        pid = call.route_args["id"]
        with self._lock:
            exists = pid in self._products
        if call.method in ("GET", "HEAD"):
            self._prepare(call, {"context": _CONTEXT})
            # The permission check only looks at posts that exist: a missing id is a 404 even
            # without credentials (get_item_permissions_check).
            if exists:
                self._require_auth(call, "woocommerce_rest_cannot_view",
                                   "Sorry, you cannot view this resource.")
            with self._lock:
                product = self._products.get(pid)
                if product is None:
                    raise _RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
                # A variation id answers the variation (recorded), in the products shape.
                return _Reply(_in_fields_order(
                    self._product_data(product, self._context(call), call.base), call.query))
        if call.method == "DELETE":
            self._prepare(call, _DELETE_ARGS)
            if exists:
                self._require_auth(call, "woocommerce_rest_cannot_delete",
                                   "Sorry, you are not allowed to delete this resource.")
            with self._lock:
                return _Reply(self._delete_product(pid, bool(call.params.get("force")),
                                                   call.base, variations=False))
        self._prepare(call, _no_defaults(_PRODUCT_WRITE_ARGS))
        if exists:
            self._require_auth(call, "woocommerce_rest_cannot_edit",
                               "Sorry, you are not allowed to edit this resource.")
        with self._lock:
            return _Reply(self._update_product(call.params, call.base))

    def _route_products_batch(self, call: _Call) -> _Reply:
        """POST /products/batch."""
        self._prepare(call, _no_defaults(_PRODUCT_WRITE_ARGS))
        self._require_auth(call, "woocommerce_rest_cannot_batch",
                           "Sorry, you are not allowed to batch manipulate this resource.")
        return self._batch(call, None)

    # -- routes: variations ------------------------------------------------------------------------

    def _route_variations(self, call: _Call) -> _Reply:
        """GET /products/<parent>/variations (list) and POST (create, 201)."""
        parent_id = call.route_args["product_id"]
        if call.method in ("GET", "HEAD"):
            self._prepare(call, _VARIATION_COLLECTION_ARGS)
            self._require_auth(call, "woocommerce_rest_cannot_view",
                               "Sorry, you cannot list resources.")
            return self._collection(call, ("children", parent_id))
        self._prepare(call, _VARIATION_WRITE_ARGS)
        self._require_auth(call, "woocommerce_rest_cannot_create",
                           "Sorry, you are not allowed to create resources.")
        with self._lock:
            data = self._create_variation(call.params, parent_id, call.base)
        location = f"{call.base}/wp-json/{NAMESPACE}/products/{parent_id}/variations/{data['id']}"
        return _Reply(data, 201, [("Location", location)])

    def _route_variation(self, call: _Call) -> _Reply:
        """GET, PUT/PATCH/POST and DELETE /products/<parent>/variations/<id>."""
        parent_id, vid = call.route_args["product_id"], call.route_args["id"]
        with self._lock:
            found = self._products.get(vid)
            exists = found is not None
            wrong_parent = exists and found.parent_id not in (0, parent_id)
        if call.method in ("GET", "HEAD"):
            self._prepare(call, {"context": _CONTEXT})
            if exists:
                self._require_auth(call, "woocommerce_rest_cannot_view",
                                   "Sorry, you cannot view this resource.")
            with self._lock:
                variation = self._variation_of(parent_id, vid)
                return _Reply(self._variation_data(variation, self._context(call), call.base))
        if call.method == "DELETE":
            self._prepare(call, _DELETE_ARGS)
            if exists:
                self._require_auth(call, "woocommerce_rest_cannot_delete",
                                   "Sorry, you are not allowed to delete this resource.")
            with self._lock:
                self._variation_of(parent_id, vid)
                return _Reply(self._delete_product(vid, bool(call.params.get("force")), call.base,
                                                   variations=True))
        self._prepare(call, _no_defaults(_VARIATION_WRITE_ARGS))
        if exists:
            self._require_auth(call, "woocommerce_rest_cannot_edit",
                               "Sorry, you are not allowed to edit this resource.")
        if wrong_parent:
            # update_item_permissions_check of the variations controller (not recorded; the
            # batch path, which skips permission checks, answers 404 Invalid ID instead).
            raise _RestError("woocommerce_rest_cannot_edit",
                             "Parent product does not match current variation.", 403)
        with self._lock:
            return _Reply(self._update_variation({**call.params, "product_id": parent_id},
                                                 call.base))

    def _route_variations_batch(self, call: _Call) -> _Reply:
        """POST /products/<parent>/variations/batch."""
        self._prepare(call, _no_defaults(_VARIATION_WRITE_ARGS))
        self._require_auth(call, "woocommerce_rest_cannot_batch",
                           "Sorry, you are not allowed to batch manipulate this resource.")
        return self._batch(call, call.route_args["product_id"])

    def _route_all_variations(self, call: _Call) -> _Reply:
        """GET /variations: every variation of the store (WooCommerce 10.3+), sku= included."""
        self._prepare(call, _VARIATION_COLLECTION_ARGS)
        self._require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        return self._collection(call, "variations")

    def _route_orders(self, call: _Call) -> _Reply:
        """GET /orders: the shop's orders, filtered by date and status, ordered, paged."""
        self._prepare(call, _ORDER_COLLECTION_ARGS)
        self._require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        params = call.params
        statuses = set(params.get("status") or ["any"])
        tests = self._date_tests(params)
        include = {int(i) for i in params.get("include") or []}
        key = {"id": lambda o: o.id, "modified": lambda o: (o.modified, o.id)}.get(
            str(params.get("orderby")), lambda o: (o.created, o.id))
        with self._lock:
            matching = [o for o in self.orders.orders.values()
                        if ("any" in statuses or o.status in statuses)
                        and (not include or o.id in include) and all(test(o) for test in tests)]
            matching.sort(key=key, reverse=params.get("order") == "desc")
            per_page, page = int(params["per_page"]), int(params["page"])
            chosen = matching[(page - 1) * per_page: page * per_page]
            items = [self._order_data(order) for order in chosen]
        total = len(matching)
        pages = math.ceil(total / per_page) if total else 0
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages)),
                   *self._page_links(call, page, pages)]
        return _Reply(items, headers=headers)

    def _route_order_refunds(self, call: _Call) -> _Reply:
        """GET /orders/<id>/refunds: each refund with its line items (negative quantities,
        `_refunded_item_id` naming the order's line item, as WooCommerce stores refund items)."""
        self._prepare(call, {"order_id": _int_arg(), "context": _CONTEXT})
        self._require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        with self._lock:
            order = self.orders.orders.get(int(call.route_args["order_id"]))
            if order is None:
                raise _RestError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
            lines = {line.id: line for line in order.lines}
            items = [{
                "id": refund.id, "date_created_gmt": _gmt(refund.created), "amount": "0.00",
                "reason": "", "line_items": [{
                    "id": refund.id * 100 + line_id, "name": lines[line_id].name,
                    "product_id": lines[line_id].product_id,
                    "variation_id": lines[line_id].variation_id, "quantity": -quantity,
                    "sku": lines[line_id].sku,
                    "meta_data": [{"id": refund.id * 100 + line_id, "key": "_refunded_item_id",
                                   "value": str(line_id)}],
                } for line_id, quantity in refund.lines.items()],
            } for refund in reversed(order.refunds)]
        return _Reply(items, headers=[("X-WP-Total", str(len(items))),
                                      ("X-WP-TotalPages", "1" if items else "0")])

    def _order_data(self, order: Order) -> dict[str, Any]:
        """An order as the v3 orders controller answers (the fields a backfill reads, in the
        recorded order; list_orders_modified_after.json)."""
        return {
            "id": order.id, "parent_id": 0, "status": order.status, "currency": "EUR",
            "date_created": _local(order.created), "date_modified": _local(order.modified),
            "billing": {"first_name": "Ann", "last_name": "Lee", "company": "", "address_1": "",
                        "address_2": "", "city": "", "state": "", "postcode": "",
                        "country": "", "email": order.email, "phone": ""},
            "number": order.number,
            "line_items": [self._order_line_data(line, order) for line in order.lines],
            "refunds": [{"id": r.id, "reason": "", "total": "-0.00"} for r in reversed(order.refunds)],
            "date_created_gmt": _gmt(order.created), "date_modified_gmt": _gmt(order.modified),
        }

    def _order_line_data(self, line: OrderLine, order: Order) -> dict[str, Any]:
        """A line item as recorded (prices are the catalog's; no taxes in the recorded store)."""
        product = self._products.get(line.variation_id or line.product_id)
        price = product.regular_price if product else "0"
        total = f"{float(price or 0) * line.quantity:.2f}"
        parent = self._products.get(line.product_id) if line.variation_id else None
        return {
            "id": line.id, "name": line.name, "product_id": line.product_id,
            "variation_id": line.variation_id, "quantity": line.quantity, "tax_class": "",
            "subtotal": total, "subtotal_tax": "0.00", "total": total, "total_tax": "0.00",
            "taxes": [],
            "meta_data": ([{"id": line.id * 10, "key": "_reduced_stock",
                            "value": str(line.quantity), "display_key": "_reduced_stock",
                            "display_value": str(line.quantity)}] if order.stock_reduced else []),
            "sku": line.sku, "global_unique_id": "", "price": float(price or 0),
            "image": {"id": 0, "src": ""}, "parent_name": parent.name if parent else None,
        }

    def _variation_of(self, parent_id: int, vid: int) -> _Product:
        """The variation `vid` of `parent_id`, else 404 woocommerce_rest_product_variation_invalid_id
        (recorded for an unknown id, a simple product's id and another parent's variation)."""
        variation = self._products.get(vid)
        if variation is None or variation.type != "variation" or variation.parent_id != parent_id:
            raise _RestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        return variation

    # -- listing -----------------------------------------------------------------------------------

    def _ordered(self, scope: Any, orderby: str, order: str) -> list[int]:
        """Ids of a scope in a stable order; cached for the orders that writes cannot change."""
        key = (scope, orderby, order)
        cached = self._order_cache.get(key)
        if cached is not None:
            return cached
        kind, statuses = scope
        if kind == "products":
            pool = [p for p in self._products.values() if p.type != "variation"]
        elif kind == "with_variations":
            pool = list(self._products.values())
        elif kind == "variations":
            pool = [p for p in self._products.values() if p.type == "variation"]
        else:  # ("children", parent id)
            parent = self._products.get(kind[1]) if isinstance(kind, tuple) else None
            pool = [self._products[c] for c in (parent.children or [])
                    if c in self._products] if parent else []
        if statuses == "any":
            # WP_Query's post_status "any" leaves out trash and auto-draft.
            pool = [p for p in pool if p.status not in ("trash", "auto-draft")]
        ids = [p.id for p in sorted(pool, key=self._sort_key(orderby), reverse=order == "desc")]
        if orderby in ("date", "id") and kind in ("products", "with_variations", "variations"):
            self._order_cache[key] = ids
        return ids

    def _sort_key(self, orderby: str) -> Callable[[_Product], Any]:
        """WC()->query->get_catalog_ordering_args(): "date" is "date ID" (recorded: ids descending
        within one second), "menu_order" is "menu_order title", "price" the lowest price."""
        if orderby == "id":
            return lambda p: p.id
        if orderby in ("title",):
            return lambda p: (p.name.lower(), p.id)
        if orderby == "slug":
            return lambda p: (p.slug, p.id)
        if orderby == "modified":
            return lambda p: (p.modified, p.id)
        if orderby == "menu_order":
            return lambda p: (p.menu_order, p.name.lower(), p.id)
        if orderby == "price":
            return lambda p: (float(self._price(p)[0] or 0), p.id)
        if orderby in ("popularity", "sales"):
            return lambda p: (p.total_sales, p.id)
        if orderby == "random":
            return lambda p: random.random()
        return lambda p: (p.created, p.id)

    def _collection(self, call: _Call, kind: Any) -> _Reply:
        """get_items(): filter, order, page; X-WP-Total, X-WP-TotalPages and Link prev/next."""
        params = call.params
        if kind != "products":  # search_sku is a parameter of the v3 products controller only
            params = {k: v for k, v in params.items() if k != "search_sku"}
        sku_mode = kind == "products" and (bool(params.get("sku")) or bool(params.get("search_sku")))
        # products?sku= (and search_sku=) query products *and* variations (recorded).
        scope_kind = "with_variations" if sku_mode else kind
        orderby = str(params.get("orderby", "date"))
        order = str(params.get("order", "desc"))
        include = [int(i) for i in params.get("include") or []]
        status = str(params.get("status", "any"))
        with self._lock:
            scope = (scope_kind, "any" if status == "any" else "all")
            candidates = self._candidates(params, include, scope)
            if candidates is not None:
                # A lookup by exact SKU or by id: sort the few candidates instead of the store.
                ordered = [p.id for p in sorted(
                    (self._products[pid] for pid in candidates),
                    key=self._sort_key("date" if orderby in ("include", "post__in", "rating")
                                       else orderby), reverse=order == "desc")]
            else:
                ordered = self._ordered(scope, "date" if orderby in ("include", "post__in", "rating")
                                        else orderby, order)
            if orderby in ("include", "post__in"):
                # post__in order; the order parameter does not apply.
                position = {pid: n for n, pid in enumerate(include)}
                ordered = sorted(ordered, key=lambda pid: position.get(pid, len(position)))
            matcher = self._matcher(params, include, status)
            ids = ordered if matcher is None else [
                pid for pid in ordered if matcher(self._products[pid])]
            total = len(ids)
            per_page = int(params.get("per_page", 10))
            page = int(params.get("page", 1))
            offset = params.get("offset")
            start = int(offset) if offset is not None else (page - 1) * per_page
            chosen = [self._products[pid] for pid in ids[max(start, 0): max(start, 0) + per_page]]
            context = self._context(call)
            if kind == "products":
                items = [_in_fields_order(self._product_data(p, context, call.base), call.query)
                         for p in chosen]
            else:
                items = [self._variation_data(p, context, call.base, store_wide=kind == "variations")
                         for p in chosen]
        pages = math.ceil(total / per_page) if total else 0
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        headers += self._page_links(call, page, pages)
        return _Reply(items, headers=headers)

    def _candidates(self, params: dict[str, Any], include: list[int],
                    scope: tuple[Any, str]) -> set[int] | None:
        """The ids an exact sku= or an include= can match, within the scope; None for "all"."""
        found: set[int] | None = None
        if params.get("sku") and not params.get("search_sku"):
            found = {pid for sku in _sku_list(str(params["sku"])) for pid in self._by_sku.get(sku, ())}
        if include:
            wanted = {pid for pid in include if pid in self._products}
            found = wanted if found is None else found & wanted
        if found is None:
            return None
        kind, statuses = scope
        members = set()
        for pid in found:
            product = self._products[pid]
            if statuses == "any" and product.status in ("trash", "auto-draft"):
                continue
            if kind == "products" and product.type == "variation":
                continue
            if kind == "variations" and product.type != "variation":
                continue
            if isinstance(kind, tuple) and (product.type != "variation"
                                            or product.parent_id != kind[1]):
                continue
            members.add(pid)
        return members

    def _matcher(self, params: dict[str, Any], include: list[int],
                 status: str) -> Callable[[_Product], bool] | None:
        """prepare_objects_query() as a predicate, or None when nothing narrows the list."""
        tests: list[Callable[[_Product], bool]] = []
        if status not in ("any",):
            tests.append(lambda p: p.status == status)
        if include:
            wanted = set(include)
            tests.append(lambda p: p.id in wanted)
        if params.get("exclude"):
            unwanted = {int(i) for i in params["exclude"]}
            tests.append(lambda p: p.id not in unwanted)
        if params.get("parent"):
            parents = {int(i) for i in params["parent"]}
            tests.append(lambda p: p.parent_id in parents)
        if params.get("parent_exclude"):
            excluded = {int(i) for i in params["parent_exclude"]}
            tests.append(lambda p: p.parent_id not in excluded)
        if params.get("slug"):
            slugs = set(_wp_parse_list(params["slug"]))
            tests.append(lambda p: p.slug in slugs)
        if params.get("type"):
            kind = params["type"]
            tests.append(lambda p: p.type == kind)
        if params.get("search_sku"):
            # A LIKE '%...%' on the product lookup table; it supersedes sku= (WC v3 controller).
            needle = str(params["search_sku"]).lower()
            tests.append(lambda p: p.sku != "" and needle in p.sku.lower())
        elif params.get("sku"):
            skus = set(_sku_list(str(params["sku"])))
            tests.append(lambda p: p.sku in skus)
        if params.get("search"):
            needle = str(params["search"]).lower()
            tests.append(lambda p: needle in p.name.lower() or needle in p.description.lower()
                         or needle in p.short_description.lower())
        if params.get("stock_status"):
            wanted_status = params["stock_status"]
            tests.append(lambda p: self._stock_status(p) == wanted_status)
        for flag in ("featured", "virtual", "downloadable"):
            if isinstance(params.get(flag), bool):
                tests.append(lambda p, v=params[flag], f=flag: getattr(p, f) == v)
        if isinstance(params.get("on_sale"), bool):
            on_sale = params["on_sale"]
            tests.append(lambda p: (self._price(p)[2] != "") == on_sale)
        for name, compare in (("min_price", lambda a, b: a >= b), ("max_price", lambda a, b: a <= b)):
            if params.get(name):
                try:
                    bound = float(params[name])
                except ValueError:
                    continue
                tests.append(lambda p, b=bound, c=compare: self._price(p)[0] != ""
                             and c(float(self._price(p)[0]), b))
        tests.extend(self._date_tests(params))
        if not tests:
            return None
        return lambda p: all(test(p) for test in tests)

    @staticmethod
    def _date_tests(params: dict[str, Any]) -> list[Callable[[_Product], bool]]:
        """after/before (creation) and modified_after/modified_before, strict, to the second.

        With dates_are_gmt the GMT columns are compared, otherwise the site-time ones. As in
        WP_Date_Query::build_mysql_datetime, a date that carries a zone is first converted to the
        site's timezone, whichever column it is compared with.
        """
        gmt = bool(params.get("dates_are_gmt"))
        tests: list[Callable[[_Product], bool]] = []
        for name, attribute, after in (("after", "created", True), ("before", "created", False),
                                       ("modified_after", "modified", True),
                                       ("modified_before", "modified", False)):
            raw = params.get(name)
            if not raw:
                continue
            moment = _parse_rest_date(str(raw))
            if moment is None:
                continue
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None) + SITE_UTC_OFFSET
            # Compare as the column's wall-clock value, at 1-second resolution.
            shift = 0 if gmt else int(SITE_UTC_OFFSET.total_seconds())
            bound = int(moment.replace(tzinfo=UTC).timestamp())
            if after:
                tests.append(lambda p, b=bound, a=attribute, s=shift: getattr(p, a) + s > b)
            else:
                tests.append(lambda p, b=bound, a=attribute, s=shift: getattr(p, a) + s < b)
        return tests

    @staticmethod
    def _page_links(call: _Call, page: int, pages: int) -> list[tuple[str, str]]:
        """Link rel="prev"/"next" as get_items() builds them: the request's own query parameters
        (OAuth ones included, so a followed link fails its signature check) with page= replaced.

        As recorded, the values come back urlencoded with '+' decayed to a space (written '+')
        and the signature's trailing '=' gone; parameters keep their first position.
        """
        route = f"{call.base}{_route_path(call)}"
        links: list[tuple[str, str]] = []

        def link(number: int) -> str:
            """The collection URL for page `number`."""
            params = dict(call.query)
            params["page"] = str(number)
            parts = []
            for key, value in params.items():
                if isinstance(value, dict):
                    for sub, item in value.items():
                        parts.append(f"{quote_plus(str(key))}%5B{sub}%5D={_link_value(str(item))}")
                else:
                    text = str(value)
                    if key == "oauth_signature":
                        text = text.rstrip("=")  # as recorded (seen only on the signature)
                    parts.append(f"{quote_plus(str(key))}={_link_value(text)}")
            return f"{route}?{'&'.join(parts)}"

        if page > 1:
            links.append(("Link", f'<{link(min(page - 1, pages))}>; rel="prev"'))
        if pages > page:
            links.append(("Link", f'<{link(page + 1)}>; rel="next"'))
        return links

    # -- writes ------------------------------------------------------------------------------------

    def _batch(self, call: _Call, parent_id: int | None) -> _Reply:
        """batch_items(): create, then update, then delete; one result per item, in order.

        Items skip the route's argument validation, so a bogus stock_status passes (recorded).
        More than `batch_limit` items in all is a 413. Failed items carry their WP_Error; the
        others are applied. Nothing sent answers [] (recorded).
        """
        items = {k: v for k, v in call.params.items() if v}  # array_filter($request->get_params())
        total = sum(len(items[k]) for k in ("create", "update", "delete")
                    if isinstance(items.get(k), list | dict))
        if total > self.batch_limit:
            raise _RestError("woocommerce_rest_request_entity_too_large",
                             f"Unable to accept more than {self.batch_limit} items for this request.",
                             413)
        out: dict[str, list[Any]] = {}
        with self._lock:
            for action in ("create", "update", "delete"):
                batch = items.get(action)
                if isinstance(batch, dict):
                    batch = list(batch.values())
                if not isinstance(batch, list):
                    continue
                results = []
                for item in batch:
                    results.extend(self._batch_item(action, item, parent_id, call.base))
                if results:  # a delete list of only 0s leaves no "delete" key
                    out[action] = results
        return _Reply(out if out else [])

    def _batch_item(self, action: str, item: Any, parent_id: int | None, base: str) -> list[Any]:
        """One batch item's result (an empty list when WooCommerce skips it: delete of id 0)."""
        if action == "delete":
            pid = _php_intval(item)
            if pid == 0:
                return []
            try:
                if parent_id is not None:
                    self._variation_exists(pid)
                return [self._delete_product(pid, True, base, variations=parent_id is not None)]
            except _RestError as error:
                return [{"id": pid, "error": _item_error(error)}]
        params = dict(item) if isinstance(item, dict) else {}
        if parent_id is not None:
            # array_merge(['product_id' => $url_id], $item): an item's own product_id wins.
            params = {"product_id": parent_id, **params}
        try:
            if action == "create":
                if parent_id is not None:
                    defaults = {k: a["default"] for k, a in _VARIATION_WRITE_ARGS.items()
                                if "default" in a}
                    return [self._create_variation({**defaults, **params},
                                                   _php_intval(params["product_id"]), base)]
                defaults = {k: a["default"] for k, a in _PRODUCT_WRITE_ARGS.items() if "default" in a}
                return [self._create_product({**defaults, **params}, base)]
            if parent_id is not None:
                return [self._update_variation(params, base)]
            return [self._update_product(params, base)]
        except _RestError as error:
            ident = 0 if action == "create" else params.get("id")
            return [{"id": ident, "error": _item_error(error)}]

    def _variation_exists(self, vid: int) -> None:
        """404 woocommerce_rest_product_variation_invalid_id unless `vid` is a variation."""
        variation = self._products.get(vid)
        if variation is None or variation.type != "variation":
            raise _RestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)

    def _update_product(self, params: dict[str, Any], base: str) -> dict[str, Any]:
        """WC_REST_CRUD_Controller::update_item for /products: 400 Invalid ID when unknown."""
        pid = _php_intval(params.get("id"))
        current = self._products.get(pid)
        if current is None:
            raise _RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
        draft = dataclasses.replace(current)  # WooCommerce saves nothing if preparing fails
        self._prepare_product(draft, params)
        self._commit(current, draft, params)
        return self._product_data(draft, "edit", base)

    def _create_product(self, params: dict[str, Any], base: str) -> dict[str, Any]:
        """create_item for /products (also for batch create, with the schema defaults)."""
        if params.get("id"):
            raise _RestError("woocommerce_rest_product_exists", "Cannot create existing product.",
                             400)
        now = int(self.clock())
        kind = params.get("type") if _isset(params, "type") else "simple"
        if kind == "variation":
            raise _variation_through_products()
        draft = _Product(id=0, type=kind if kind in PRODUCT_TYPES else "simple", name="", slug="",
                         sku="", regular_price="", created=now, modified=now)
        if draft.type == "variable":
            draft.options, draft.children = {}, []
        self._prepare_product(draft, params)
        draft.id = self._take_id(None)
        draft.name = draft.name or "Product"
        draft.slug = self._unique_slug(draft.slug or _sanitize_title(draft.name))
        self._insert(draft)
        self._commit(None, draft, params)
        return self._product_data(draft, "edit", base)

    def _prepare_product(self, product: _Product, params: dict[str, Any]) -> None:
        """WC_REST_Products_Controller::prepare_object_for_database, for the props simulated."""
        if product.type == "variation" or params.get("type") == "variation":
            raise _variation_through_products()
        if _isset(params, "type") and params["type"] in PRODUCT_TYPES and product.id:
            product.type = params["type"]
        if _isset(params, "name"):
            product.name = str(params["name"])
        if _isset(params, "description"):
            product.description = str(params["description"])
        if _isset(params, "short_description"):
            product.short_description = str(params["short_description"])
        if _isset(params, "status"):
            # get_post_status_object() ? status : 'draft'
            product.status = params["status"] if params["status"] in PRODUCT_STATUSES else "draft"
        if _isset(params, "slug"):
            product.slug = _sanitize_title(str(params["slug"]))
        if _isset(params, "menu_order"):
            product.menu_order = _php_intval(params["menu_order"])
        if _isset(params, "reviews_allowed"):
            product.reviews_allowed = _wc_string_to_bool(params["reviews_allowed"])
        for flag in ("virtual", "featured", "downloadable", "sold_individually"):
            if _isset(params, flag):
                setattr(product, flag, _wc_string_to_bool(params[flag]))
        if _isset(params, "tax_status"):
            product.tax_status = str(params["tax_status"])
        if _isset(params, "tax_class"):
            product.tax_class = str(params["tax_class"])
        if _isset(params, "catalog_visibility"):
            product.catalog_visibility = str(params["catalog_visibility"])
        if _isset(params, "sku"):
            self._check_unique_sku(product, _wc_clean(params["sku"]))
            product.sku = _wc_clean(params["sku"])
        if product.type in ("variable", "grouped"):
            product.regular_price = product.sale_price = ""
        else:
            if _isset(params, "regular_price"):
                product.regular_price = str(params["regular_price"])
            if _isset(params, "sale_price"):
                product.sale_price = str(params["sale_price"])
        if _isset(params, "parent_id"):
            product.parent_id = _php_intval(params["parent_id"])
        # Stock: stock_status has priority; quantity only when managed (as in WooCommerce 11).
        stock_status = params["stock_status"] if _isset(params, "stock_status") else product.stock_status
        if _isset(params, "manage_stock"):
            product.manage_stock = _wc_string_to_bool(params["manage_stock"])
        if _isset(params, "backorders"):
            product.backorders = str(params["backorders"])  # set_backorders() does not validate
        if product.type in ("grouped", "external"):
            product.manage_stock, product.backorders, product.stock_quantity = False, "no", None
            product.stock_status = _stock_status_or_instock(
                stock_status if product.type == "grouped" else "instock")
        elif product.manage_stock:
            if product.type != "variable":
                product.stock_status = _stock_status_or_instock(stock_status)
            self._apply_quantity(product, params)
        else:
            # stock_quantity on a product without managed stock is silently ignored (recorded).
            product.manage_stock = False
            product.stock_quantity = None
            product.stock_status = _stock_status_or_instock(stock_status)
            product.low_stock_amount = None

    @staticmethod
    def _apply_quantity(product: _Product, params: dict[str, Any]) -> None:
        """stock_quantity through wc_stock_amount() (intval: "41" -> 41, 41.5 -> 41, recorded), or
        inventory_delta added to the current quantity; low_stock_amount when sent."""
        if _isset(params, "stock_quantity"):
            product.stock_quantity = _php_intval(params["stock_quantity"])
        elif _isset(params, "inventory_delta"):
            product.stock_quantity = (_php_intval(product.stock_quantity)
                                      + _php_intval(params["inventory_delta"]))
        if "low_stock_amount" in params:
            value = params["low_stock_amount"]
            product.low_stock_amount = None if value is None else _php_intval(value)

    def _check_unique_sku(self, product: _Product, sku: str) -> None:
        """WC_Product::set_sku(): a SKU used by another product or variation (not trashed) throws
        product_invalid_sku with the owner's id and a free suggestion (recorded)."""
        if sku == "" or sku == product.sku:
            return
        owner = self._sku_owner(sku, product.id)
        if owner is None:
            return
        index = 1
        while self._sku_owner(f"{sku}-{index}", product.id) is not None:
            index += 1
        raise _RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                         resource_id=owner, unique_sku=f"{sku}-{index}")

    def _sku_owner(self, sku: str, exclude: int) -> int | None:
        """The id of another non-trashed product or variation holding `sku`, if any."""
        for pid in self._by_sku.get(sku, []):
            if pid != exclude and self._products[pid].status != "trash":
                return pid
        return None

    def _commit(self, current: _Product | None, draft: _Product, params: dict[str, Any]) -> None:
        """Store a prepared product: reindex SKU, save (bump dates), log stock writes."""
        if current is not None:
            new_sku, draft.sku = draft.sku, current.sku
            self._products[draft.id] = draft
            if new_sku != current.sku:
                self._set_sku_index(draft, new_sku)
            if draft.slug != current.slug:
                self._slugs.discard(current.slug)
                draft.slug = self._unique_slug(draft.slug)
                self._slugs.add(draft.slug)
            if (draft.status, draft.type, draft.name, draft.menu_order) != (
                    current.status, current.type, current.name, current.menu_order):
                self._order_cache.clear()
        was_managed = current is not None and current.manage_stock
        self._save(draft)
        if draft.manage_stock and (_isset(params, "stock_quantity")
                                   or _isset(params, "inventory_delta")):
            self.stock_writes.append((draft.id, draft.stock_quantity))
        elif was_managed and not draft.manage_stock:
            self.stock_writes.append((draft.id, None))

    def _update_variation(self, params: dict[str, Any], base: str) -> dict[str, Any]:
        """update_item for variations: unknown id, not a variation, or another parent's variation
        is 404 woocommerce_rest_product_variation_invalid_id (recorded)."""
        current = self._variation_of(_php_intval(params.get("product_id")),
                                     _php_intval(params.get("id")))
        draft = dataclasses.replace(current)
        self._prepare_variation(draft, params)
        self._commit(current, draft, params)
        return self._variation_data(draft, "edit", base)

    def _create_variation(self, params: dict[str, Any], parent_id: int, base: str) -> dict[str, Any]:
        """create_item for variations of a variable product."""
        parent = self._products.get(parent_id)
        if parent is None or parent.type != "variable":
            # Not recorded: WooCommerce refuses variations of a product that is not variable.
            raise _RestError("woocommerce_rest_product_variation_invalid_parent",
                             "Invalid parent product.", 404)
        if params.get("id"):
            raise _RestError("woocommerce_rest_product_variation_exists",
                             "Cannot create existing product_variation.", 400)
        now = int(self.clock())
        draft = _Product(id=0, type="variation", name=parent.name, slug="", sku="",
                         regular_price="", created=now, modified=now, parent_id=parent_id,
                         tax_class="parent", reviews_allowed=False)
        self._prepare_variation(draft, params)
        draft.id = self._take_id(None)
        draft.slug = self._unique_slug(_sanitize_title(draft.name))
        parent.children = [*(parent.children or []), draft.id]
        self._insert(draft)
        self._commit(None, draft, params)
        return self._variation_data(draft, "edit", base)

    def _prepare_variation(self, variation: _Product, params: dict[str, Any]) -> None:
        """WC_REST_Product_Variations_Controller::prepare_object_for_database (props simulated)."""
        if _isset(params, "status"):
            status = params["status"]
            variation.status = status if status in PRODUCT_STATUSES else "draft"
        if _isset(params, "sku"):
            self._check_unique_sku(variation, _wc_clean(params["sku"]))
            variation.sku = _wc_clean(params["sku"])
        for flag in ("virtual", "downloadable"):
            if _isset(params, flag):
                setattr(variation, flag, _wc_string_to_bool(params[flag]))
        if _isset(params, "manage_stock"):
            # "parent" means the parent manages stock, i.e. not this variation.
            value = params["manage_stock"]
            variation.manage_stock = False if value == "parent" else _wc_string_to_bool(value)
        if _isset(params, "stock_status"):
            variation.stock_status = _stock_status_or_instock(params["stock_status"])
        if _isset(params, "backorders"):
            variation.backorders = str(params["backorders"])
        if variation.manage_stock:
            self._apply_quantity(variation, params)
        else:
            variation.backorders, variation.stock_quantity = "no", None
            variation.low_stock_amount = None
        if _isset(params, "regular_price"):
            variation.regular_price = str(params["regular_price"])
        if _isset(params, "sale_price"):
            variation.sale_price = str(params["sale_price"])
        if _isset(params, "tax_class"):
            variation.tax_class = str(params["tax_class"])
        if _isset(params, "tax_status"):
            variation.tax_status = str(params["tax_status"])
        if _isset(params, "description"):
            variation.description = str(params["description"])
        if params.get("menu_order"):
            variation.menu_order = _php_intval(params["menu_order"])
        if isinstance(params.get("attributes"), list):
            parent = self._products.get(variation.parent_id)
            known = {_sanitize_title(n): n for n in (parent.options or {})} if parent else {}
            chosen = []
            for attribute in params["attributes"]:
                if isinstance(attribute, dict) and _sanitize_title(str(attribute.get("name", ""))) in known:
                    chosen.append((known[_sanitize_title(str(attribute["name"]))],
                                   _wc_clean(attribute.get("option", ""))))
            variation.attributes = tuple(chosen)
            if parent is not None:
                summary = ", ".join(option for _, option in chosen)
                variation.name = f"{parent.name} - {summary}" if summary else parent.name

    def _delete_product(self, pid: int, force: bool, base: str, *, variations: bool) -> dict[str, Any]:
        """delete_item(): the deleted object in the edit context; without force a product goes to
        the trash (410 if already there)."""
        product = self._products.get(pid)
        if product is None:
            code = ("woocommerce_rest_product_variation_invalid_id" if variations
                    else "woocommerce_rest_product_invalid_id")
            raise _RestError(code, "Invalid ID.", 404)
        if not variations and product.type == "variation":
            raise _variation_through_products()
        render = self._variation_data if variations else self._product_data
        if force:
            data = render(product, "edit", base)
            self._remove(product)
            if product.manage_stock:
                self.stock_writes.append((pid, None))
            return data
        if product.status == "trash":
            kind = "product_variation" if variations else "product"
            raise _RestError("woocommerce_rest_already_trashed",
                             f"The {kind} has already been deleted.", 410)
        product.status = "trash"
        self._save(product)
        self._order_cache.clear()
        return render(product, "edit", base)


def _error_reply(error: _RestError, ssl: bool) -> _Reply:
    """A WP_Error as a response; a refused Basic-auth secret also gets WWW-Authenticate
    (WC_REST_Authentication::send_unauthorized_headers)."""
    reply = _Reply(error.body(), error.status or 500)
    if ssl and error.message == "Consumer secret is invalid.":
        reply.headers.append((
            "WWW-Authenticate",
            'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer '
            'secret in the password field."'))
    return reply


def _in_fields_order(data: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    """The products controller builds only the fields asked for, in the order of `_fields`
    (get_product_data() walks get_fields_for_response()); recorded: `_fields=id,sku,type` answers
    id, sku, type although the full object has type before sku. The variations controller does
    not: it keeps its own order (recorded too)."""
    if "_fields" not in query:
        return data
    order: list[str] = []
    for name in _wp_parse_list(query["_fields"]):
        top = str(name).strip().split(".")[0]
        if top in data and top not in order:
            order.append(top)
    return {**{key: data[key] for key in order}, **{k: v for k, v in data.items() if k not in order}}


def _sku_list(raw: str) -> list[str]:
    """sku= as the v3 products controller reads it: an exact match on each comma-separated SKU,
    plus the whole string as one SKU when it has commas."""
    skus = raw.split(",")
    return [*skus, raw] if len(skus) > 1 else skus


def _stock_status_or_instock(status: Any) -> str:
    """WC_Product::set_stock_status(): an unknown status becomes "instock" (not validated)."""
    return status if status in STOCK_STATUSES else "instock"


def _wc_clean(value: Any) -> str:
    """wc_clean(): strip tags and surrounding whitespace."""
    return re.sub(r"<[^>]*>", "", str(value)).strip()


def _variation_through_products() -> _RestError:
    """The error WooCommerce gives for a variation handled through /products (recorded)."""
    return _RestError(
        "woocommerce_rest_invalid_product_id",
        "To manipulate product variations you should use the "
        "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.", 404)


def _item_error(error: _RestError) -> dict[str, Any]:
    """A batch item's error member: {code, message, data}."""
    return {"code": error.code, "message": error.message, "data": error.data()}


def _encode_deep(value: Any) -> Any:
    """wc_rest_urlencode_rfc3986() on a parameter value (arrays element by element)."""
    if isinstance(value, dict):
        return {k: _encode_deep(v) for k, v in value.items()}
    return _rawurlencode(str(value))


def _join_with_equals_sign(params: list[tuple[str, Any]], key: str = "") -> list[str]:
    """WC_REST_Authentication::join_with_equals_sign: "k=v" pairs, each rawurlencode()d;
    nested arrays become k%5Bsub%5D."""
    out: list[str] = []
    for name, value in params:
        full = f"{key}%5B{name}%5D" if key else name
        if isinstance(value, dict):
            out.extend(_join_with_equals_sign(list(value.items()), full))
        else:
            out.append(_rawurlencode(f"{full}={value}"))
    return out


def _link_value(value: str) -> str:
    """A query value as the recorded Link headers carry it: '+' decays to a space (see _page_links)."""
    return quote_plus(value.replace("+", " "), safe="")


def _route_path(call: _Call) -> str:
    """The REST route path of a collection request, e.g. /wp-json/wc/v3/products/31/variations."""
    if call.route == "products":
        return f"{API_PREFIX}/products"
    if call.route == "variations":
        return f"{API_PREFIX}/products/{call.route_args['product_id']}/variations"
    if call.route == "orders":
        return f"{API_PREFIX}/orders"
    return f"{API_PREFIX}/variations"


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
    ("/wc/v3", [(("GET",), {"namespace": {"default": NAMESPACE}, "context": _CONTEXT})]),
    ("/wc/v3/products", [(("GET",), _COLLECTION_ARGS), (("POST",), _PRODUCT_WRITE_ARGS)]),
    ("/wc/v3/products/(?P<id>[\\d]+)", [
        (("GET",), {"id": _int_arg(), "context": _CONTEXT}),
        (("POST", "PUT", "PATCH"), {"id": _int_arg(), **_no_defaults(_PRODUCT_WRITE_ARGS)}),
        (("DELETE",), {"id": _int_arg(), **_DELETE_ARGS}),
    ]),
    ("/wc/v3/products/batch", [(("POST", "PUT", "PATCH"), _no_defaults(_PRODUCT_WRITE_ARGS))]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations", [
        (("GET",), {"product_id": _int_arg(), **_VARIATION_COLLECTION_ARGS}),
        (("POST",), {"product_id": _int_arg(), **_VARIATION_WRITE_ARGS}),
    ]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)", [
        (("GET",), {"product_id": _int_arg(), "id": _int_arg(), "context": _CONTEXT}),
        (("POST", "PUT", "PATCH"), {"product_id": _int_arg(), "id": _int_arg(),
                                    **_no_defaults(_VARIATION_WRITE_ARGS)}),
        (("DELETE",), {"product_id": _int_arg(), "id": _int_arg(), **_DELETE_ARGS}),
    ]),
    ("/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch", [
        (("POST", "PUT", "PATCH"), {"product_id": _int_arg(),
                                    **_no_defaults(_VARIATION_WRITE_ARGS)}),
    ]),
    ("/wc/v3/variations", [(("GET",), _VARIATION_COLLECTION_ARGS)]),
    ("/wc/v3/orders", [(("GET",), _ORDER_COLLECTION_ARGS)]),
    ("/wc/v3/orders/(?P<order_id>[\\d]+)/refunds", [
        (("GET",), {"order_id": _int_arg(), "context": _CONTEXT})]),
    ("/wc/v3/system_status", [(("GET",), {"context": _enum_arg(("view",), "view")})]),
]
