"""The v3 products controller: /products and /products/<id> (list, read, create, update, delete)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from woodoo.simulators.woocommerce.args import (
    COLLECTION_ARGS,
    CONTEXT,
    DELETE_ARGS,
    PRODUCT_WRITE_ARGS,
    no_defaults,
    prepare,
)
from woodoo.simulators.woocommerce.catalog import (
    PRODUCT_STATUSES,
    PRODUCT_TYPES,
    Catalog,
    Product,
    stock_status_or_instock,
)
from woodoo.simulators.woocommerce.listing import collection
from woodoo.simulators.woocommerce.php import isset, php_intval, sanitize_title, wc_clean, wc_string_to_bool
from woodoo.simulators.woocommerce.representation import in_fields_order, product_data, variation_data
from woodoo.simulators.woocommerce.rest import NAMESPACE, Call, Reply, RestError, context_of, require_auth

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator


def route_products(shop: WooSimulator, call: Call) -> Reply:
    """GET /products (list) and POST /products (create, 201)."""
    catalog = shop.catalog
    if call.method in ("GET", "HEAD"):
        prepare(call, COLLECTION_ARGS)
        require_auth(call, "woocommerce_rest_cannot_view",
                     "Sorry, you cannot list resources.")
        return collection(catalog, call, "products")
    prepare(call, PRODUCT_WRITE_ARGS)
    require_auth(call, "woocommerce_rest_cannot_create",
                 "Sorry, you are not allowed to create resources.")
    with catalog.lock:
        data = create_product(catalog, call.params, call.base)
    location = f"{call.base}/wp-json/{NAMESPACE}/products/{data['id']}"
    return Reply(data, 201, [("Location", location)])


def route_product(shop: WooSimulator, call: Call) -> Reply:
    """GET, PUT/PATCH/POST and DELETE /products/<id>."""
    catalog = shop.catalog
    pid = call.route_args["id"]
    with catalog.lock:
        exists = pid in catalog.products
    if call.method in ("GET", "HEAD"):
        prepare(call, {"context": CONTEXT})
        # The permission check only looks at posts that exist: a missing id is a 404 even
        # without credentials (get_item_permissions_check).
        if exists:
            require_auth(call, "woocommerce_rest_cannot_view",
                         "Sorry, you cannot view this resource.")
        with catalog.lock:
            product = catalog.products.get(pid)
            if product is None:
                raise RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            # A variation id answers the variation (recorded), in the products shape.
            return Reply(in_fields_order(
                product_data(catalog, product, context_of(call), call.base), call.query))
    if call.method == "DELETE":
        prepare(call, DELETE_ARGS)
        if exists:
            require_auth(call, "woocommerce_rest_cannot_delete",
                         "Sorry, you are not allowed to delete this resource.")
        with catalog.lock:
            return Reply(delete_product(catalog, pid, bool(call.params.get("force")),
                                        call.base, variations=False))
    prepare(call, no_defaults(PRODUCT_WRITE_ARGS))
    if exists:
        require_auth(call, "woocommerce_rest_cannot_edit",
                     "Sorry, you are not allowed to edit this resource.")
    with catalog.lock:
        return Reply(update_product(catalog, call.params, call.base))


def create_product(catalog: Catalog, params: dict[str, Any], base: str) -> dict[str, Any]:
    """create_item for /products (also for batch create, with the schema defaults)."""
    if params.get("id"):
        raise RestError("woocommerce_rest_product_exists", "Cannot create existing product.",
                        400)
    now = int(catalog.clock())
    kind = params.get("type") if isset(params, "type") else "simple"
    if kind == "variation":
        raise _variation_through_products()
    draft = Product(id=0, type=kind if kind in PRODUCT_TYPES else "simple", name="", slug="",
                    sku="", regular_price="", created=now, modified=now)
    if draft.type == "variable":
        draft.options, draft.children = {}, []
    _prepare_product(catalog, draft, params)
    draft.id = catalog.take_id(None)
    draft.name = draft.name or "Product"
    draft.slug = catalog.unique_slug(draft.slug or sanitize_title(draft.name))
    catalog.insert(draft)
    catalog.commit(None, draft, params)
    return product_data(catalog, draft, "edit", base)


def update_product(catalog: Catalog, params: dict[str, Any], base: str) -> dict[str, Any]:
    """WC_REST_CRUD_Controller::update_item for /products: 400 Invalid ID when unknown."""
    pid = php_intval(params.get("id"))
    current = catalog.products.get(pid)
    if current is None:
        raise RestError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
    draft = dataclasses.replace(current)  # WooCommerce saves nothing if preparing fails
    _prepare_product(catalog, draft, params)
    catalog.commit(current, draft, params)
    return product_data(catalog, draft, "edit", base)


def _prepare_product(catalog: Catalog, product: Product, params: dict[str, Any]) -> None:
    """WC_REST_Products_Controller::prepare_object_for_database, for the props simulated."""
    if product.type == "variation" or params.get("type") == "variation":
        raise _variation_through_products()
    if isset(params, "type") and params["type"] in PRODUCT_TYPES and product.id:
        product.type = params["type"]
    if isset(params, "name"):
        product.name = str(params["name"])
    if isset(params, "description"):
        product.description = str(params["description"])
    if isset(params, "short_description"):
        product.short_description = str(params["short_description"])
    if isset(params, "status"):
        # get_post_status_object() ? status : 'draft'
        product.status = params["status"] if params["status"] in PRODUCT_STATUSES else "draft"
    if isset(params, "slug"):
        product.slug = sanitize_title(str(params["slug"]))
    if isset(params, "menu_order"):
        product.menu_order = php_intval(params["menu_order"])
    if isset(params, "reviews_allowed"):
        product.reviews_allowed = wc_string_to_bool(params["reviews_allowed"])
    for flag in ("virtual", "featured", "downloadable", "sold_individually"):
        if isset(params, flag):
            setattr(product, flag, wc_string_to_bool(params[flag]))
    if isset(params, "tax_status"):
        product.tax_status = str(params["tax_status"])
    if isset(params, "tax_class"):
        product.tax_class = str(params["tax_class"])
    if isset(params, "catalog_visibility"):
        product.catalog_visibility = str(params["catalog_visibility"])
    if isset(params, "sku"):
        catalog.check_unique_sku(product, wc_clean(params["sku"]))
        product.sku = wc_clean(params["sku"])
    if product.type in ("variable", "grouped"):
        product.regular_price = product.sale_price = ""
    else:
        if isset(params, "regular_price"):
            product.regular_price = str(params["regular_price"])
        if isset(params, "sale_price"):
            product.sale_price = str(params["sale_price"])
    if isset(params, "parent_id"):
        product.parent_id = php_intval(params["parent_id"])
    # Stock: stock_status has priority; quantity only when managed (as in WooCommerce 11).
    stock_status = params["stock_status"] if isset(params, "stock_status") else product.stock_status
    if isset(params, "manage_stock"):
        product.manage_stock = wc_string_to_bool(params["manage_stock"])
    if isset(params, "backorders"):
        product.backorders = str(params["backorders"])  # set_backorders() does not validate
    if product.type in ("grouped", "external"):
        product.manage_stock, product.backorders, product.stock_quantity = False, "no", None
        product.stock_status = stock_status_or_instock(
            stock_status if product.type == "grouped" else "instock")
    elif product.manage_stock:
        if product.type != "variable":
            product.stock_status = stock_status_or_instock(stock_status)
        catalog.apply_quantity(product, params)
    else:
        # stock_quantity on a product without managed stock is silently ignored (recorded).
        product.manage_stock = False
        product.stock_quantity = None
        product.stock_status = stock_status_or_instock(stock_status)
        product.low_stock_amount = None


def delete_product(catalog: Catalog, pid: int, force: bool, base: str, *, variations: bool) -> dict[str, Any]:
    """delete_item(): the deleted object in the edit context; without force a product goes to
    the trash (410 if already there)."""
    product = catalog.products.get(pid)
    if product is None:
        code = ("woocommerce_rest_product_variation_invalid_id" if variations
                else "woocommerce_rest_product_invalid_id")
        raise RestError(code, "Invalid ID.", 404)
    if not variations and product.type == "variation":
        raise _variation_through_products()
    render = variation_data if variations else product_data
    if force:
        data = render(catalog, product, "edit", base)
        catalog.remove(product)
        if product.manage_stock:
            catalog.stock_writes.append((pid, None))
        return data
    if product.status == "trash":
        kind = "product_variation" if variations else "product"
        raise RestError("woocommerce_rest_already_trashed",
                        f"The {kind} has already been deleted.", 410)
    product.status = "trash"
    catalog.save(product)
    catalog.order_cache.clear()
    return render(catalog, product, "edit", base)


def _variation_through_products() -> RestError:
    """The error WooCommerce gives for a variation handled through /products (recorded)."""
    return RestError(
        "woocommerce_rest_invalid_product_id",
        "To manipulate product variations you should use the "
        "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.", 404)
