"""How products and variations are shown over REST: the products and variations controllers'
representations, prices as HTML, permalinks and related products."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

from woodoo.simulators.woocommerce.catalog import Catalog, Product
from woodoo.simulators.woocommerce.php import gmt, local, sanitize_title, wp_parse_list
from woodoo.simulators.woocommerce.rest import ALL_METHODS, NAMESPACE

UNCATEGORIZED = {"id": 15, "name": "Uncategorized", "slug": "uncategorized"}


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


def _variable_price_html(catalog: Catalog, product: Product) -> str:
    """A variable product's price_html: one price, or the cheapest to the dearest."""
    prices = sorted(
        (float(p), p) for c in product.children or ()
        if (child := catalog.products.get(c)) is not None and child.status == "publish"
        and (p := child.sale_price or child.regular_price) != ""
    )
    if not prices:
        return ""
    if prices[0][0] == prices[-1][0]:
        return _wc_price(prices[0][1])
    # wc_format_price_range() (markup not recorded).
    return f"{_wc_price(prices[0][1])} &ndash; {_wc_price(prices[-1][1])}"


def _related_ids(catalog: Catalog, product: Product) -> list[int]:
    """wc_get_related_products(): up to 5 other products of the same category, shuffled
    (cached per product by WooCommerce, so stable here)."""
    if product.type == "variation":
        return []
    pool = catalog.ordered(("products", "any"), "id", "asc")
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


def _permalink(catalog: Catalog, product: Product, home: str) -> str:
    """The product URL; a variation's is its parent's with attribute_* query parameters."""
    if product.type == "variation":
        parent = catalog.products.get(product.parent_id)
        base = f"{home}/product/{parent.slug if parent else product.slug}/"
        query = "&".join(f"attribute_{sanitize_title(n)}={quote(o)}"
                         for n, o in product.attributes)
        return f"{base}?{query}" if query else base
    return f"{home}/product/{product.slug}/"


def product_data(catalog: Catalog, product: Product, context: str, home: str) -> dict[str, Any]:
    """The products-endpoint representation (WC_REST_Products_Controller), also for a
    variation reached through /products (recorded: total_sales "0" is a string there)."""
    is_variation = product.type == "variation"
    price, regular, sale = catalog.price(product)
    managed = product.manage_stock
    stock_status = catalog.stock_status(product)
    api = f"{home}/wp-json/{NAMESPACE}"
    if product.type == "variable":
        attributes: list[dict[str, Any]] = [
            {"id": 0, "name": name, "slug": sanitize_title(name), "position": position,
             "visible": True, "variation": True, "options": list(values)}
            for position, (name, values) in enumerate((product.options or {}).items())
        ]
        price_html = _variable_price_html(catalog, product)
    else:
        attributes = [{"id": 0, "name": name, "slug": sanitize_title(name), "option": option}
                      for name, option in product.attributes]
        price_html = _price_html(regular, sale)
    data: dict[str, Any] = {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "permalink": _permalink(catalog, product, home),
        "date_created": local(product.created),
        "date_created_gmt": gmt(product.created),
        "date_modified": local(product.modified),
        "date_modified_gmt": gmt(product.modified),
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
        "related_ids": _related_ids(catalog, product),
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


def variation_data(catalog: Catalog, product: Product, context: str, home: str,
                   store_wide: bool = False) -> dict[str, Any]:
    """The variations-endpoint representation (WC_REST_Product_Variations_Controller).

    Through the store-wide /variations endpoint (WooCommerce 10.3+) the links point to
    /variations/<id>, a route that does not exist, and "up" to /products/0 (both recorded).
    """
    managed = product.manage_stock
    price, regular, sale = catalog.price(product)
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
        parent = catalog.products.get(product.parent_id)
        tax_class = parent.tax_class if parent else ""
    return {
        "id": product.id,
        "type": "variation",
        "date_created": local(product.created),
        "date_created_gmt": gmt(product.created),
        "date_modified": local(product.modified),
        "date_modified_gmt": gmt(product.modified),
        "description": product.description,
        "permalink": _permalink(catalog, product, home),
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
        "attributes": [{"id": 0, "name": name, "slug": sanitize_title(name), "option": option}
                       for name, option in product.attributes],
        "menu_order": product.menu_order,
        "meta_data": [],
        "name": ", ".join(option for _, option in product.attributes),
        "parent_id": product.parent_id,
        "_links": links,
    }


def in_fields_order(data: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    """The products controller builds only the fields asked for, in the order of `_fields`
    (get_product_data() walks get_fields_for_response()); recorded: `_fields=id,sku,type` answers
    id, sku, type although the full object has type before sku. The variations controller does
    not: it keeps its own order (recorded too)."""
    if "_fields" not in query:
        return data
    order: list[str] = []
    for name in wp_parse_list(query["_fields"]):
        top = str(name).strip().split(".")[0]
        if top in data and top not in order:
            order.append(top)
    return {**{key: data[key] for key in order}, **{k: v for k, v in data.items() if k not in order}}
