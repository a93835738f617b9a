"""The routes' arguments as WooCommerce 11.0.1 registers them (see the recorded route index), and
how WP_REST_Request merges, validates and sanitizes them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from woodoo.simulators.woocommerce.catalog import (
    BACKORDERS,
    PRODUCT_STATUSES,
    PRODUCT_TYPES,
    QUERY_STATUSES,
    STOCK_STATUSES,
    VARIATION_STATUSES,
)
from woodoo.simulators.woocommerce.php import parse_rest_date, wp_parse_list, wp_sprintf_list
from woodoo.simulators.woocommerce.rest import Call, RestError


def int_arg(minimum: int | None = None, maximum: int | None = None, default: Any = None) -> dict:
    """An integer argument schema."""
    arg: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        arg["minimum"] = minimum
    if maximum is not None:
        arg["maximum"] = maximum
    if default is not None:
        arg["default"] = default
    return arg


def enum_arg(values: Iterable[str], default: str | None = None) -> dict:
    """A string argument schema restricted to `values`."""
    arg: dict[str, Any] = {"type": "string", "enum": list(values)}
    if default is not None:
        arg["default"] = default
    return arg


STR: dict[str, Any] = {"type": "string"}
BOOL: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "string", "format": "date-time"}
INT_LIST: dict[str, Any] = {"type": "array", "items": {"type": "integer"}, "default": []}
CONTEXT = enum_arg(("view", "edit"), "view")
DELETE_ARGS = {"force": {"type": "boolean", "default": False}}

COLLECTION_ARGS: dict[str, dict[str, Any]] = {
    "context": CONTEXT,
    "page": int_arg(1, default=1),
    "per_page": int_arg(1, 100, default=10),
    "search": STR,
    "after": DATE,
    "before": DATE,
    "modified_after": DATE,
    "modified_before": DATE,
    "dates_are_gmt": {"type": "boolean", "default": False},
    "exclude": INT_LIST,
    "include": INT_LIST,
    "offset": int_arg(),
    "order": enum_arg(("asc", "desc"), "desc"),
    "orderby": enum_arg(("date", "id", "include", "title", "slug", "modified", "popularity",
                         "rating", "post__in", "price", "sales", "menu_order", "random"), "date"),
    "parent": INT_LIST,
    "parent_exclude": INT_LIST,
    "slug": STR,
    "status": enum_arg(QUERY_STATUSES, "any"),
    "type": enum_arg(PRODUCT_TYPES),
    "sku": STR,
    "featured": BOOL,
    "on_sale": BOOL,
    "min_price": STR,
    "max_price": STR,
    "stock_status": enum_arg(STOCK_STATUSES),
    "search_sku": STR,
    "virtual": BOOL,
    "downloadable": BOOL,
}


PRODUCT_WRITE_ARGS: dict[str, dict[str, Any]] = {
    "name": STR,
    "slug": STR,
    "type": enum_arg(PRODUCT_TYPES, "simple"),
    "status": enum_arg(PRODUCT_STATUSES, "publish"),
    "featured": {"type": "boolean", "default": False},
    "catalog_visibility": enum_arg(("visible", "catalog", "search", "hidden"), "visible"),
    "description": STR,
    "short_description": STR,
    "sku": STR,
    "regular_price": STR,
    "sale_price": STR,
    "virtual": {"type": "boolean", "default": False},
    "downloadable": {"type": "boolean", "default": False},
    "tax_status": enum_arg(("taxable", "shipping", "none"), "taxable"),
    "tax_class": STR,
    "manage_stock": {"type": "boolean", "default": False},
    "stock_quantity": int_arg(),
    "stock_status": enum_arg(STOCK_STATUSES, "instock"),
    "backorders": enum_arg(BACKORDERS, "no"),
    "low_stock_amount": {"type": ["integer", "null"]},
    "sold_individually": {"type": "boolean", "default": False},
    "reviews_allowed": {"type": "boolean", "default": True},
    "parent_id": int_arg(),
    "menu_order": int_arg(),
}


VARIATION_COLLECTION_ARGS = {
    **{k: v for k, v in COLLECTION_ARGS.items()
       if k not in ("type", "featured", "search_sku")},
    "orderby": enum_arg(("date", "id", "include", "title", "slug", "modified", "menu_order"), "date"),
}


VARIATION_WRITE_ARGS: dict[str, dict[str, Any]] = {
    "description": STR,
    "sku": STR,
    "regular_price": STR,
    "sale_price": STR,
    "status": enum_arg(VARIATION_STATUSES, "publish"),
    "virtual": {"type": "boolean", "default": False},
    "downloadable": {"type": "boolean", "default": False},
    "tax_status": enum_arg(("taxable", "shipping", "none"), "taxable"),
    "tax_class": STR,
    "manage_stock": {"type": ["boolean", "string"], "default": False},
    "stock_quantity": int_arg(),
    "stock_status": enum_arg(STOCK_STATUSES, "instock"),
    "backorders": enum_arg(BACKORDERS, "no"),
    "low_stock_amount": {"type": ["integer", "null"]},
    "menu_order": int_arg(),
}


# The v3 orders controller's collection parameters that the simulator serves (ORDER_STATUSES:
# wc_get_order_statuses() without the wc- prefix, plus "any" and "trash").
ORDER_STATUSES = ("any", "trash", "pending", "processing", "on-hold", "completed", "cancelled",
                  "refunded", "failed", "checkout-draft")
ORDER_COLLECTION_ARGS: dict[str, dict[str, Any]] = {
    "context": CONTEXT,
    "page": int_arg(1, default=1),
    "per_page": int_arg(1, 100, default=10),
    "after": DATE,
    "before": DATE,
    "modified_after": DATE,
    "modified_before": DATE,
    "dates_are_gmt": {"type": "boolean", "default": False},
    "include": INT_LIST,
    "order": enum_arg(("asc", "desc"), "desc"),
    "orderby": enum_arg(("date", "id", "include", "title", "slug", "modified"), "date"),
    "status": {"type": "array", "items": enum_arg(ORDER_STATUSES), "default": ["any"]},
}


def no_defaults(args: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """WordPress registers schema defaults only for CREATABLE endpoints, not for EDITABLE ones."""
    return {name: {k: v for k, v in arg.items() if k != "default"} for name, arg in args.items()}


def validate(param: str, value: Any, arg: dict[str, Any]) -> tuple[str, str, Any] | None:
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
        for index, item in enumerate(wp_parse_list(value)):
            problem = validate(f"{param}[{index}]", item, arg.get("items", {}))
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
                    f"{param} is not one of {wp_sprintf_list(arg['enum'])}.", None)
        if arg.get("format") == "date-time" and parse_rest_date(value) is None:
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
        return [_sanitize(item, arg.get("items", {})) for item in wp_parse_list(value)]
    if kind == "integer":
        return int(float(value))
    if kind == "boolean":
        if isinstance(value, str):
            return value.lower() not in ("false", "0", "")
        return bool(value)
    return value


def prepare(call: Call, args: dict[str, dict[str, Any]]) -> None:
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
        problem = validate(name, merged[name], arg)
        if problem:
            code, message, data = problem
            invalid[name] = message
            details[name] = {"code": code, "message": message, "data": data}
    if invalid:
        raise RestError("rest_invalid_param",
                        f"Invalid parameter(s): {', '.join(invalid)}", 400,
                        params=invalid, details=details)
    for name, arg in args.items():
        if name in call.provided:
            merged[name] = _sanitize(merged[name], arg)
    call.params = merged
