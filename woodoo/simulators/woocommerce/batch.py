"""Batch writes: /products/batch and /products/<id>/variations/batch (create, update, delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from woodoo.simulators.woocommerce.args import PRODUCT_WRITE_ARGS, VARIATION_WRITE_ARGS, no_defaults, prepare
from woodoo.simulators.woocommerce.catalog import Catalog
from woodoo.simulators.woocommerce.php import php_intval
from woodoo.simulators.woocommerce.products import create_product, delete_product, update_product
from woodoo.simulators.woocommerce.rest import Call, Reply, RestError, require_auth
from woodoo.simulators.woocommerce.variations import create_variation, update_variation

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator


def route_products_batch(shop: WooSimulator, call: Call) -> Reply:
    """POST /products/batch."""
    prepare(call, no_defaults(PRODUCT_WRITE_ARGS))
    require_auth(call, "woocommerce_rest_cannot_batch",
                 "Sorry, you are not allowed to batch manipulate this resource.")
    return _batch_items(shop, call, None)


def route_variations_batch(shop: WooSimulator, call: Call) -> Reply:
    """POST /products/<parent>/variations/batch."""
    prepare(call, no_defaults(VARIATION_WRITE_ARGS))
    require_auth(call, "woocommerce_rest_cannot_batch",
                 "Sorry, you are not allowed to batch manipulate this resource.")
    return _batch_items(shop, call, call.route_args["product_id"])


def _batch_items(shop: WooSimulator, call: Call, parent_id: int | None) -> Reply:
    """batch_items(): create, then update, then delete; one result per item, in order.

    Items skip the route's argument validation, so a bogus stock_status passes (recorded).
    More than `batch_limit` items in all is a 413. Failed items carry their WP_Error; the
    others are applied. Nothing sent answers [] (recorded).
    """
    catalog = shop.catalog
    items = {k: v for k, v in call.params.items() if v}  # array_filter($request->get_params())
    total = sum(len(items[k]) for k in ("create", "update", "delete")
                if isinstance(items.get(k), list | dict))
    if total > shop.batch_limit:
        raise RestError("woocommerce_rest_request_entity_too_large",
                        f"Unable to accept more than {shop.batch_limit} items for this request.",
                        413)
    out: dict[str, list[Any]] = {}
    with catalog.lock:
        for action in ("create", "update", "delete"):
            batch = items.get(action)
            if isinstance(batch, dict):
                batch = list(batch.values())
            if not isinstance(batch, list):
                continue
            results = []
            for item in batch:
                results.extend(_batch_item(catalog, action, item, parent_id, call.base))
            if results:  # a delete list of only 0s leaves no "delete" key
                out[action] = results
    return Reply(out if out else [])


def _batch_item(catalog: Catalog, action: str, item: Any, parent_id: int | None, base: str) -> list[Any]:
    """One batch item's result (an empty list when WooCommerce skips it: delete of id 0)."""
    if action == "delete":
        pid = php_intval(item)
        if pid == 0:
            return []
        try:
            if parent_id is not None:
                _variation_exists(catalog, pid)
            return [delete_product(catalog, pid, True, base, variations=parent_id is not None)]
        except RestError as error:
            return [{"id": pid, "error": _item_error(error)}]
    params = dict(item) if isinstance(item, dict) else {}
    if parent_id is not None:
        # array_merge(['product_id' => $url_id], $item): an item's own product_id wins.
        params = {"product_id": parent_id, **params}
    try:
        if action == "create":
            if parent_id is not None:
                defaults = {k: a["default"] for k, a in VARIATION_WRITE_ARGS.items()
                            if "default" in a}
                return [create_variation(catalog, {**defaults, **params},
                                         php_intval(params["product_id"]), base)]
            defaults = {k: a["default"] for k, a in PRODUCT_WRITE_ARGS.items() if "default" in a}
            return [create_product(catalog, {**defaults, **params}, base)]
        if parent_id is not None:
            return [update_variation(catalog, params, base)]
        return [update_product(catalog, params, base)]
    except RestError as error:
        ident = 0 if action == "create" else params.get("id")
        return [{"id": ident, "error": _item_error(error)}]


def _variation_exists(catalog: Catalog, vid: int) -> None:
    """404 woocommerce_rest_product_variation_invalid_id unless `vid` is a variation."""
    variation = catalog.products.get(vid)
    if variation is None or variation.type != "variation":
        raise RestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)


def _item_error(error: RestError) -> dict[str, Any]:
    """A batch item's error member: {code, message, data}."""
    return {"code": error.code, "message": error.message, "data": error.data()}
