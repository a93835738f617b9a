"""The shop's products and variations: their rows, ids, slugs and SKU index, how WC_Product saves
them (stock status, prices, dates), and their listing orders."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from woodoo.simulators.woocommerce.php import isset, php_intval, sanitize_title
from woodoo.simulators.woocommerce.rest import RestError

STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
BACKORDERS = ("no", "notify", "yes")
PRODUCT_TYPES = ("simple", "grouped", "external", "variable")
QUERY_STATUSES = ("any", "future", "trash", "draft", "pending", "private", "publish")
PRODUCT_STATUSES = ("draft", "pending", "private", "publish", "future", "auto-draft", "trash")
VARIATION_STATUSES = ("draft", "pending", "private", "publish")

# Attribute names given to variations whose attributes are derived from their SKU or catalog name.
_ATTRIBUTE_NAMES = ("Size", "Color", "Style")
_COLOUR_CODES = {"RED": "Red", "BLU": "Blue", "BLK": "Black", "WHT": "White", "GRN": "Green",
                 "YEL": "Yellow", "GRY": "Grey", "PNK": "Pink", "ORG": "Orange", "PUR": "Purple"}


@dataclass(slots=True)
class Product:
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


def stock_status_or_instock(status: Any) -> str:
    """WC_Product::set_stock_status(): an unknown status becomes "instock" (not validated)."""
    return status if status in STOCK_STATUSES else "instock"


class Catalog:
    """The products and variations of one shop, under one lock; `clock` gives the store's time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.products: dict[int, Product] = {}
        self.by_sku: dict[str, list[int]] = {}
        self.slugs: set[str] = set()
        self.next_id = 11  # the recorded store's first product was id 11
        self.order_cache: dict[tuple[Any, ...], list[int]] = {}
        # (id, quantity) of every stock write through REST or the plugin (None: stock unmanaged).
        self.stock_writes: list[tuple[int, int | None]] = []

    def get(self, product_id: int) -> Product:
        """The product or variation with this id; KeyError if none."""
        product = self.products.get(product_id)
        if product is None:
            raise KeyError(f"no product or variation with id {product_id}")
        return product

    def take_id(self, product_id: int | None) -> int:
        """The next id, or `product_id` if free (ids keep growing past it)."""
        if product_id is None:
            product_id = self.next_id
        elif product_id in self.products:
            raise ValueError(f"id {product_id} is taken")
        self.next_id = max(self.next_id, product_id + 1)
        return product_id

    @staticmethod
    def default_price(product_id: int) -> str:
        """A stable made-up regular price."""
        return f"{9 + product_id % 40}.99"

    def unique_slug(self, slug: str) -> str:
        """wp_unique_post_slug(): "name", then "name-2", "name-3"..."""
        slug = slug or "product"
        candidate, n = slug, 2
        while candidate in self.slugs:
            candidate = f"{slug}-{n}"
            n += 1
        return candidate

    def insert(self, product: Product) -> None:
        """Store a new product and index its slug and SKU."""
        self.products[product.id] = product
        self.slugs.add(product.slug)
        if product.sku:
            self.by_sku.setdefault(product.sku, []).append(product.id)
        self.order_cache.clear()

    def remove(self, product: Product) -> None:
        """Forget a product (and a variable product's variations) and its index entries."""
        for child_id in list(product.children or []):
            child = self.products.get(child_id)
            if child is not None:
                self.remove(child)
        self.products.pop(product.id, None)
        self.slugs.discard(product.slug)
        self.set_sku_index(product, "")
        parent = self.products.get(product.parent_id) if product.type == "variation" else None
        if parent is not None and parent.children and product.id in parent.children:
            parent.children.remove(product.id)
        self.order_cache.clear()

    def set_sku_index(self, product: Product, sku: str) -> None:
        """Set a product's SKU and keep the SKU index (which allows duplicates) in step."""
        if product.sku:
            ids = self.by_sku.get(product.sku, [])
            if product.id in ids:
                ids.remove(product.id)
            if not ids:
                self.by_sku.pop(product.sku, None)
        product.sku = sku
        if sku:
            self.by_sku.setdefault(sku, []).append(product.id)

    def new_variable(self, sku: str, name: str, product_id: int | None) -> Product:
        """Add an empty variable product."""
        now = int(self.clock())
        pid = self.take_id(product_id)
        parent = Product(id=pid, type="variable", name=name,
                         slug=self.unique_slug(sanitize_title(name)), sku=sku, regular_price="",
                         created=now, modified=now, options={}, children=[])
        self.insert(parent)
        return parent

    def add_variation(self, parent: Product, sku: str, quantity: int | None, manage: bool,
                      backorders: str, catalog_name: str | None) -> int:
        """Add a variation to `parent` (title "Parent - S, Red", attributes from SKU or name)."""
        now = int(self.clock())
        pid = self.take_id(None)
        attributes = _derive_attributes(parent.sku, sku, catalog_name)
        summary = ", ".join(option for _, option in attributes)
        title = f"{parent.name} - {summary}" if summary else parent.name
        variation = Product(
            id=pid, type="variation", name=title, slug=self.unique_slug(sanitize_title(title)),
            sku=sku, regular_price=self.default_price(parent.id), created=now, modified=now,
            parent_id=parent.id, manage_stock=manage, stock_quantity=quantity if manage else None,
            backorders=backorders if manage else "no", tax_class="parent", reviews_allowed=False,
            attributes=attributes,
        )
        self.validate_props(variation)
        options = parent.options if parent.options is not None else {}
        for attribute, option in attributes:
            values = options.setdefault(attribute, [])
            if option not in values:
                values.append(option)
        parent.options = options
        parent.children = [*(parent.children or []), pid]
        self.insert(variation)
        return pid

    @staticmethod
    def validate_props(product: Product) -> None:
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
        if php_intval(product.stock_quantity) > 0:
            product.stock_status = "instock"
        elif product.backorders != "no":
            product.stock_status = "onbackorder"
        else:
            product.stock_status = "outofstock"

    def save(self, product: Product) -> None:
        """WC_Product::save(): validate props and bump post_modified (every save does, even one
        that changes nothing, recorded); a variation's save re-syncs and so re-saves its parent."""
        self.validate_props(product)
        now = int(self.clock())
        product.modified = now
        if product.type == "variation":
            parent = self.products.get(product.parent_id)
            if parent is not None:
                parent.modified = now

    def stock_status(self, product: Product) -> str:
        """A variable product not managing stock shows the best of its variations' statuses
        (WC_Product_Variable_Data_Store::sync_stock_status)."""
        if product.type != "variable" or product.manage_stock:
            return product.stock_status
        statuses = {self.products[c].stock_status for c in product.children or ()
                    if c in self.products and self.products[c].status == "publish"}
        for status in ("instock", "onbackorder"):
            if status in statuses:
                return status
        return "outofstock" if statuses else product.stock_status

    def price(self, product: Product) -> tuple[str, str, str]:
        """(price, regular_price, sale_price); a variable product's price is its cheapest child's."""
        if product.type != "variable":
            return product.sale_price or product.regular_price, product.regular_price, product.sale_price
        prices = sorted(
            (float(p), p) for c in product.children or ()
            if (child := self.products.get(c)) is not None and child.status == "publish"
            and (p := child.sale_price or child.regular_price) != ""
        )
        return (prices[0][1] if prices else ""), "", ""

    def ordered(self, scope: Any, orderby: str, order: str) -> list[int]:
        """Ids of a scope in a stable order; cached for the orders that writes cannot change."""
        key = (scope, orderby, order)
        cached = self.order_cache.get(key)
        if cached is not None:
            return cached
        kind, statuses = scope
        if kind == "products":
            pool = [p for p in self.products.values() if p.type != "variation"]
        elif kind == "with_variations":
            pool = list(self.products.values())
        elif kind == "variations":
            pool = [p for p in self.products.values() if p.type == "variation"]
        else:  # ("children", parent id)
            parent = self.products.get(kind[1]) if isinstance(kind, tuple) else None
            pool = [self.products[c] for c in (parent.children or [])
                    if c in self.products] if parent else []
        if statuses == "any":
            # WP_Query's post_status "any" leaves out trash and auto-draft.
            pool = [p for p in pool if p.status not in ("trash", "auto-draft")]
        ids = [p.id for p in sorted(pool, key=self.sort_key(orderby), reverse=order == "desc")]
        if orderby in ("date", "id") and kind in ("products", "with_variations", "variations"):
            self.order_cache[key] = ids
        return ids

    def sort_key(self, orderby: str) -> Callable[[Product], Any]:
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
            return lambda p: (float(self.price(p)[0] or 0), p.id)
        if orderby in ("popularity", "sales"):
            return lambda p: (p.total_sales, p.id)
        if orderby == "random":
            return lambda p: random.random()
        return lambda p: (p.created, p.id)

    def check_unique_sku(self, product: Product, sku: str) -> None:
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
        raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                        resource_id=owner, unique_sku=f"{sku}-{index}")

    def _sku_owner(self, sku: str, exclude: int) -> int | None:
        """The id of another non-trashed product or variation holding `sku`, if any."""
        for pid in self.by_sku.get(sku, []):
            if pid != exclude and self.products[pid].status != "trash":
                return pid
        return None

    def commit(self, current: Product | None, draft: Product, params: dict[str, Any]) -> None:
        """Store a prepared product: reindex SKU, save (bump dates), log stock writes."""
        if current is not None:
            new_sku, draft.sku = draft.sku, current.sku
            self.products[draft.id] = draft
            if new_sku != current.sku:
                self.set_sku_index(draft, new_sku)
            if draft.slug != current.slug:
                self.slugs.discard(current.slug)
                draft.slug = self.unique_slug(draft.slug)
                self.slugs.add(draft.slug)
            if (draft.status, draft.type, draft.name, draft.menu_order) != (
                    current.status, current.type, current.name, current.menu_order):
                self.order_cache.clear()
        was_managed = current is not None and current.manage_stock
        self.save(draft)
        if draft.manage_stock and (isset(params, "stock_quantity")
                                   or isset(params, "inventory_delta")):
            self.stock_writes.append((draft.id, draft.stock_quantity))
        elif was_managed and not draft.manage_stock:
            self.stock_writes.append((draft.id, None))

    @staticmethod
    def apply_quantity(product: Product, params: dict[str, Any]) -> None:
        """stock_quantity through wc_stock_amount() (intval: "41" -> 41, 41.5 -> 41, recorded), or
        inventory_delta added to the current quantity; low_stock_amount when sent."""
        if isset(params, "stock_quantity"):
            product.stock_quantity = php_intval(params["stock_quantity"])
        elif isset(params, "inventory_delta"):
            product.stock_quantity = (php_intval(product.stock_quantity)
                                      + php_intval(params["inventory_delta"]))
        if "low_stock_amount" in params:
            value = params["low_stock_amount"]
            product.low_stock_amount = None if value is None else php_intval(value)

    def move_stock(self, sku: str, change: int) -> None:
        """Change the stock of the lowest-id product with `sku` by `change` units, and save it."""
        with self.lock:
            product = self.products[min(self.by_sku[sku])]
            product.stock_quantity = (product.stock_quantity or 0) + change
            self.save(product)

    def order_product(self, sku: str) -> tuple[int, int, str]:
        """(product id, variation id, name) of the product an order line with `sku` buys."""
        with self.lock:
            product = self.products[min(self.by_sku[sku])]
            if product.parent_id:
                return product.parent_id, product.id, product.name
            return product.id, 0, product.name
