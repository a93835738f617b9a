"""The v3 variations controller: /products/<id>/variations and the store-wide /variations."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from woodoo.simulators.woocommerce.args import (
    CONTEXT,
    DELETE_ARGS,
    VARIATION_COLLECTION_ARGS,
    VARIATION_WRITE_ARGS,
    no_defaults,
    prepare,
)
from woodoo.simulators.woocommerce.catalog import PRODUCT_STATUSES, Catalog, Product, stock_status_or_instock
from woodoo.simulators.woocommerce.listing import collection
from woodoo.simulators.woocommerce.php import isset, php_intval, sanitize_title, wc_clean, wc_string_to_bool
from woodoo.simulators.woocommerce.products import delete_product
from woodoo.simulators.woocommerce.representation import variation_data
from woodoo.simulators.woocommerce.rest import NAMESPACE, Call, Reply, RestError, context_of, require_auth

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator


def route_variations(shop: WooSimulator, call: Call) -> Reply:
    """GET /products/<parent>/variations (list) and POST (create, 201)."""
    catalog = shop.catalog
    parent_id = call.route_args["product_id"]
    if call.method in ("GET", "HEAD"):
        prepare(call, VARIATION_COLLECTION_ARGS)
        require_auth(call, "woocommerce_rest_cannot_view",
                     "Sorry, you cannot list resources.")
        return collection(catalog, call, ("children", parent_id))
    prepare(call, VARIATION_WRITE_ARGS)
    require_auth(call, "woocommerce_rest_cannot_create",
                 "Sorry, you are not allowed to create resources.")
    with catalog.lock:
        data = create_variation(catalog, call.params, parent_id, call.base)
    location = f"{call.base}/wp-json/{NAMESPACE}/products/{parent_id}/variations/{data['id']}"
    return Reply(data, 201, [("Location", location)])


def route_variation(shop: WooSimulator, call: Call) -> Reply:
    """GET, PUT/PATCH/POST and DELETE /products/<parent>/variations/<id>."""
    catalog = shop.catalog
    parent_id, vid = call.route_args["product_id"], call.route_args["id"]
    with catalog.lock:
        found = catalog.products.get(vid)
        exists = found is not None
        wrong_parent = exists and found.parent_id not in (0, parent_id)
    if call.method in ("GET", "HEAD"):
        prepare(call, {"context": CONTEXT})
        if exists:
            require_auth(call, "woocommerce_rest_cannot_view",
                         "Sorry, you cannot view this resource.")
        with catalog.lock:
            variation = _variation_of(catalog, parent_id, vid)
            return Reply(variation_data(catalog, variation, context_of(call), call.base))
    if call.method == "DELETE":
        prepare(call, DELETE_ARGS)
        if exists:
            require_auth(call, "woocommerce_rest_cannot_delete",
                         "Sorry, you are not allowed to delete this resource.")
        with catalog.lock:
            _variation_of(catalog, parent_id, vid)
            return Reply(delete_product(catalog, vid, bool(call.params.get("force")), call.base,
                                        variations=True))
    prepare(call, no_defaults(VARIATION_WRITE_ARGS))
    if exists:
        require_auth(call, "woocommerce_rest_cannot_edit",
                     "Sorry, you are not allowed to edit this resource.")
    if wrong_parent:
        # update_item_permissions_check of the variations controller (not recorded; the
        # batch path, which skips permission checks, answers 404 Invalid ID instead).
        raise RestError("woocommerce_rest_cannot_edit",
                        "Parent product does not match current variation.", 403)
    with catalog.lock:
        return Reply(update_variation(catalog, {**call.params, "product_id": parent_id},
                                      call.base))


def route_all_variations(shop: WooSimulator, call: Call) -> Reply:
    """GET /variations: every variation of the store (WooCommerce 10.3+), sku= included."""
    catalog = shop.catalog
    prepare(call, VARIATION_COLLECTION_ARGS)
    require_auth(call, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    return collection(catalog, call, "variations")


def _variation_of(catalog: Catalog, parent_id: int, vid: int) -> Product:
    """The variation `vid` of `parent_id`, else 404 woocommerce_rest_product_variation_invalid_id
    (recorded for an unknown id, a simple product's id and another parent's variation)."""
    variation = catalog.products.get(vid)
    if variation is None or variation.type != "variation" or variation.parent_id != parent_id:
        raise RestError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
    return variation


def create_variation(catalog: Catalog, params: dict[str, Any], parent_id: int, base: str) -> dict[str, Any]:
    """create_item for variations of a variable product."""
    parent = catalog.products.get(parent_id)
    if parent is None or parent.type != "variable":
        # Not recorded: WooCommerce refuses variations of a product that is not variable.
        raise RestError("woocommerce_rest_product_variation_invalid_parent",
                        "Invalid parent product.", 404)
    if params.get("id"):
        raise RestError("woocommerce_rest_product_variation_exists",
                        "Cannot create existing product_variation.", 400)
    now = int(catalog.clock())
    draft = Product(id=0, type="variation", name=parent.name, slug="", sku="",
                    regular_price="", created=now, modified=now, parent_id=parent_id,
                    tax_class="parent", reviews_allowed=False)
    _prepare_variation(catalog, draft, params)
    draft.id = catalog.take_id(None)
    draft.slug = catalog.unique_slug(sanitize_title(draft.name))
    parent.children = [*(parent.children or []), draft.id]
    catalog.insert(draft)
    catalog.commit(None, draft, params)
    return variation_data(catalog, draft, "edit", base)


def update_variation(catalog: Catalog, params: dict[str, Any], base: str) -> dict[str, Any]:
    """update_item for variations: unknown id, not a variation, or another parent's variation
    is 404 woocommerce_rest_product_variation_invalid_id (recorded)."""
    current = _variation_of(catalog, php_intval(params.get("product_id")),
                            php_intval(params.get("id")))
    draft = dataclasses.replace(current)
    _prepare_variation(catalog, draft, params)
    catalog.commit(current, draft, params)
    return variation_data(catalog, draft, "edit", base)


def _prepare_variation(catalog: Catalog, variation: Product, params: dict[str, Any]) -> None:
    """WC_REST_Product_Variations_Controller::prepare_object_for_database (props simulated)."""
    if isset(params, "status"):
        status = params["status"]
        variation.status = status if status in PRODUCT_STATUSES else "draft"
    if isset(params, "sku"):
        catalog.check_unique_sku(variation, wc_clean(params["sku"]))
        variation.sku = wc_clean(params["sku"])
    for flag in ("virtual", "downloadable"):
        if isset(params, flag):
            setattr(variation, flag, wc_string_to_bool(params[flag]))
    if isset(params, "manage_stock"):
        # "parent" means the parent manages stock, i.e. not this variation.
        value = params["manage_stock"]
        variation.manage_stock = False if value == "parent" else wc_string_to_bool(value)
    if isset(params, "stock_status"):
        variation.stock_status = stock_status_or_instock(params["stock_status"])
    if isset(params, "backorders"):
        variation.backorders = str(params["backorders"])
    if variation.manage_stock:
        catalog.apply_quantity(variation, params)
    else:
        variation.backorders, variation.stock_quantity = "no", None
        variation.low_stock_amount = None
    if isset(params, "regular_price"):
        variation.regular_price = str(params["regular_price"])
    if isset(params, "sale_price"):
        variation.sale_price = str(params["sale_price"])
    if isset(params, "tax_class"):
        variation.tax_class = str(params["tax_class"])
    if isset(params, "tax_status"):
        variation.tax_status = str(params["tax_status"])
    if isset(params, "description"):
        variation.description = str(params["description"])
    if params.get("menu_order"):
        variation.menu_order = php_intval(params["menu_order"])
    if isinstance(params.get("attributes"), list):
        parent = catalog.products.get(variation.parent_id)
        known = {sanitize_title(n): n for n in (parent.options or {})} if parent else {}
        chosen = []
        for attribute in params["attributes"]:
            if isinstance(attribute, dict) and sanitize_title(str(attribute.get("name", ""))) in known:
                chosen.append((known[sanitize_title(str(attribute["name"]))],
                               wc_clean(attribute.get("option", ""))))
        variation.attributes = tuple(chosen)
        if parent is not None:
            summary = ", ".join(option for _, option in chosen)
            variation.name = f"{parent.name} - {summary}" if summary else parent.name
