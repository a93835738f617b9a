"""Collection listings (get_items): filters, order, paging of products and variations."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC
from typing import Any

from woodoo.simulators.woocommerce.catalog import Catalog, Product
from woodoo.simulators.woocommerce.php import SITE_UTC_OFFSET, parse_rest_date, wp_parse_list
from woodoo.simulators.woocommerce.representation import in_fields_order, product_data, variation_data
from woodoo.simulators.woocommerce.rest import Call, Reply, context_of, page_links


def collection(catalog: Catalog, call: Call, kind: Any) -> Reply:
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
    with catalog.lock:
        scope = (scope_kind, "any" if status == "any" else "all")
        candidates = _candidates(catalog, params, include, scope)
        if candidates is not None:
            # A lookup by exact SKU or by id: sort the few candidates instead of the store.
            ordered = [p.id for p in sorted(
                (catalog.products[pid] for pid in candidates),
                key=catalog.sort_key("date" if orderby in ("include", "post__in", "rating")
                                     else orderby), reverse=order == "desc")]
        else:
            ordered = catalog.ordered(scope, "date" if orderby in ("include", "post__in", "rating")
                                      else orderby, order)
        if orderby in ("include", "post__in"):
            # post__in order; the order parameter does not apply.
            position = {pid: n for n, pid in enumerate(include)}
            ordered = sorted(ordered, key=lambda pid: position.get(pid, len(position)))
        matcher = _matcher(catalog, params, include, status)
        ids = ordered if matcher is None else [
            pid for pid in ordered if matcher(catalog.products[pid])]
        total = len(ids)
        per_page = int(params.get("per_page", 10))
        page = int(params.get("page", 1))
        offset = params.get("offset")
        start = int(offset) if offset is not None else (page - 1) * per_page
        chosen = [catalog.products[pid] for pid in ids[max(start, 0): max(start, 0) + per_page]]
        context = context_of(call)
        if kind == "products":
            items = [in_fields_order(product_data(catalog, p, context, call.base), call.query)
                     for p in chosen]
        else:
            items = [variation_data(catalog, p, context, call.base, store_wide=kind == "variations")
                     for p in chosen]
    pages = math.ceil(total / per_page) if total else 0
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    headers += page_links(call, page, pages)
    return Reply(items, headers=headers)


def _candidates(catalog: Catalog, params: dict[str, Any], include: list[int],
                scope: tuple[Any, str]) -> set[int] | None:
    """The ids an exact sku= or an include= can match, within the scope; None for "all"."""
    found: set[int] | None = None
    if params.get("sku") and not params.get("search_sku"):
        found = {pid for sku in _sku_list(str(params["sku"])) for pid in catalog.by_sku.get(sku, ())}
    if include:
        wanted = {pid for pid in include if pid in catalog.products}
        found = wanted if found is None else found & wanted
    if found is None:
        return None
    kind, statuses = scope
    members = set()
    for pid in found:
        product = catalog.products[pid]
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


def _matcher(catalog: Catalog, params: dict[str, Any], include: list[int],
             status: str) -> Callable[[Product], bool] | None:
    """prepare_objects_query() as a predicate, or None when nothing narrows the list."""
    tests: list[Callable[[Product], bool]] = []
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
        slugs = set(wp_parse_list(params["slug"]))
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
        tests.append(lambda p: catalog.stock_status(p) == wanted_status)
    for flag in ("featured", "virtual", "downloadable"):
        if isinstance(params.get(flag), bool):
            tests.append(lambda p, v=params[flag], f=flag: getattr(p, f) == v)
    if isinstance(params.get("on_sale"), bool):
        on_sale = params["on_sale"]
        tests.append(lambda p: (catalog.price(p)[2] != "") == on_sale)
    for name, compare in (("min_price", lambda a, b: a >= b), ("max_price", lambda a, b: a <= b)):
        if params.get(name):
            try:
                bound = float(params[name])
            except ValueError:
                continue
            tests.append(lambda p, b=bound, c=compare: catalog.price(p)[0] != ""
                         and c(float(catalog.price(p)[0]), b))
    tests.extend(date_tests(params))
    if not tests:
        return None
    return lambda p: all(test(p) for test in tests)


def date_tests(params: dict[str, Any]) -> list[Callable[[Product], bool]]:
    """after/before (creation) and modified_after/modified_before, strict, to the second.

    With dates_are_gmt the GMT columns are compared, otherwise the site-time ones. As in
    WP_Date_Query::build_mysql_datetime, a date that carries a zone is first converted to the
    site's timezone, whichever column it is compared with.
    """
    gmt = bool(params.get("dates_are_gmt"))
    tests: list[Callable[[Product], bool]] = []
    for name, attribute, after in (("after", "created", True), ("before", "created", False),
                                   ("modified_after", "modified", True),
                                   ("modified_before", "modified", False)):
        raw = params.get(name)
        if not raw:
            continue
        moment = parse_rest_date(str(raw))
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


def _sku_list(raw: str) -> list[str]:
    """sku= as the v3 products controller reads it: an exact match on each comma-separated SKU,
    plus the whole string as one SKU when it has commas."""
    skus = raw.split(",")
    return [*skus, raw] if len(skus) > 1 else skus
