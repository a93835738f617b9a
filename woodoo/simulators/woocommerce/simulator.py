"""WooSimulator: the simulated shop put together, and what tests do to it (catalog, stock edits)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from woodoo.simulators.catalog import DEMO_CATALOG, DEMO_PARENTS, CatalogItem
from woodoo.simulators.server import SimulatorServer
from woodoo.simulators.woocommerce.catalog import Catalog, Product
from woodoo.simulators.woocommerce.front import RestFront
from woodoo.simulators.woocommerce.orders import ShopOrders
from woodoo.simulators.woocommerce.php import php_intval, sanitize_title
from woodoo.simulators.woocommerce.representation import product_data


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
        # The plugin active with no stock secret set yet: its namespace index answers (as on a
        # real shop: tests/fixtures/woocommerce11/plugin_namespace_index.json), its signed routes
        # refuse with 503 not_configured. Setting plugin_secret implies the plugin is active.
        self.plugin_active = False
        # The API key's permissions ("read", "write" or "read_write"), as chosen in WooCommerce.
        self.permissions = "read_write"
        # WordPress behind a TLS-terminating proxy with the usual wp-config.php line that turns
        # X-Forwarded-Proto: https into HTTPS=on, so is_ssl() is true: Basic auth and
        # consumer_key query parameters are then accepted (recorded over real https).
        self.behind_tls_proxy = False
        self.clock: Callable[[], float] = time.time
        self.catalog = Catalog(clock=lambda: self.clock())
        self.front = RestFront(self)
        self.server = SimulatorServer(self.front.wsgi, port=port, name="woocommerce")
        # Customers' orders, and the Woodoo Companion plugin's events about them.
        self.orders = ShopOrders(clock=lambda: self.clock(), lock=self.catalog.lock,
                                 product_of=self.catalog.order_product,
                                 move_stock=self.catalog.move_stock, home_url=lambda: self.home_url)

    @property
    def stock_writes(self) -> list[tuple[int, int | None]]:
        """(id, quantity) of every stock write through REST or the plugin (None: unmanaged)."""
        return self.catalog.stock_writes

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
        with self.catalog.lock:
            now = int(self.clock())
            pid = self.catalog.take_id(product_id)
            title = name or f"Product {sku}"
            product = Product(
                id=pid, type="simple", name=title, slug=self.catalog.unique_slug(sanitize_title(title)),
                sku=sku, regular_price=self.catalog.default_price(pid), created=now, modified=now,
                manage_stock=manage_stock,
                stock_quantity=php_intval(stock_quantity) if manage_stock and stock_quantity
                is not None else None,
                backorders=backorders if manage_stock else "no",
            )
            self.catalog.validate_props(product)
            self.catalog.insert(product)
            return pid

    def add_variable(self, sku: str, name: str, variations: list[tuple[str, int | None]], *,
                     product_id: int | None = None) -> tuple[int, list[int]]:
        """Add a variable product and its variations (stock managed on each; None: not managed).

        Attributes are derived from each variation's SKU ("TSH-S-RED" -> Size S, Color Red).
        Returns (parent id, variation ids).
        """
        with self.catalog.lock:
            parent = self.catalog.new_variable(sku, name, product_id)
            ids = [self.catalog.add_variation(parent, v_sku, quantity, quantity is not None, "no", None)
                   for v_sku, quantity in variations]
            return parent.id, ids

    def load_catalog(self, items: Iterable[CatalogItem] = DEMO_CATALOG,
                     parents: dict[str, str] = DEMO_PARENTS) -> dict[str, int]:
        """Add the shop side of a catalog (items with in_shop); returns ids by SKU, parents too."""
        items = [item for item in items if item.in_shop]
        ids: dict[str, int] = {}
        with self.catalog.lock:
            for item in items:
                if item.sku in ids:
                    continue
                if item.parent_sku is None:
                    ids[item.sku] = self.add_simple(
                        item.sku, item.shop_quantity, manage_stock=item.manage_stock,
                        backorders=item.backorders, name=item.name)
                    continue
                # A variable product is created with all its variations at once, as in wp-admin.
                parent = self.catalog.new_variable(item.parent_sku,
                                                   parents.get(item.parent_sku, item.parent_sku), None)
                ids[item.parent_sku] = parent.id
                for child in items:
                    if child.parent_sku == item.parent_sku:
                        ids[child.sku] = self.catalog.add_variation(
                            parent, child.sku, child.shop_quantity, child.manage_stock,
                            child.backorders, child.name)
        return ids

    def bulk_add_simple(self, count: int, *, sku_format: str = "SKU-{:06d}",
                        quantity: Callable[[int], int | None] = lambda i: i % 50) -> None:
        """Add `count` managed simple products `sku_format.format(i)` (i in 0..count-1), fast."""
        with self.catalog.lock:
            now = int(self.clock())
            products, by_sku, slugs = self.catalog.products, self.catalog.by_sku, self.catalog.slugs
            for i in range(count):
                pid = self.catalog.next_id
                self.catalog.next_id += 1
                sku = sku_format.format(i)
                slug = f"bulk-product-{i}"
                while slug in slugs:
                    slug += "-2"
                slugs.add(slug)
                raw = quantity(i)
                qty = None if raw is None else php_intval(raw)
                product = Product(id=pid, type="simple", name=f"Bulk Product {i}", slug=slug,
                                  sku=sku, regular_price=self.catalog.default_price(pid), created=now,
                                  modified=now, manage_stock=True, stock_quantity=qty)
                product.stock_status = "instock" if php_intval(qty) > 0 else "outofstock"
                products[pid] = product
                by_sku.setdefault(sku, []).append(pid)
            self.catalog.order_cache.clear()

    def product(self, product_id: int) -> dict[str, Any]:
        """The product's (or variation's) current full REST representation, as GET would return."""
        with self.catalog.lock:
            return product_data(self.catalog, self.catalog.get(product_id), "view", self.home_url)

    def stock(self, sku: str) -> tuple[int | None, str]:
        """(stock_quantity, stock_status) of the lowest-id product or variation with this SKU."""
        with self.catalog.lock:
            ids = self.catalog.by_sku.get(sku)
            if not ids:
                raise KeyError(sku)
            product = self.catalog.products[min(ids)]
            return product.stock_quantity, self.catalog.stock_status(product)

    def set_stock(self, product_id: int, quantity: int | None) -> None:
        """Edit the quantity by hand in wp-admin: turns stock management on, derives the status,
        bumps date_modified (and the parent's, which WooCommerce re-syncs)."""
        with self.catalog.lock:
            product = self.catalog.get(product_id)
            product.manage_stock = True
            product.stock_quantity = quantity
            self.catalog.save(product)

    def set_backorders(self, product_id: int, backorders: str) -> None:
        """Choose "Allow backorders?" in wp-admin ("no", "notify" or "yes"); derives the status."""
        with self.catalog.lock:
            product = self.catalog.get(product_id)
            product.backorders = backorders
            self.catalog.save(product)

    def checkout(self, sku: str, quantity: int) -> None:
        """A customer buys `quantity`: WooCommerce lowers its own stock at once (as recorded for
        every order path reaching processing), long before any order event leaves the shop."""
        self.catalog.move_stock(sku, -quantity)

    def set_manage_stock(self, product_id: int, manage: bool) -> None:
        """Tick or untick "Manage stock?" in wp-admin (unmanaged: quantity null, backorders no)."""
        with self.catalog.lock:
            product = self.catalog.get(product_id)
            product.manage_stock = manage
            if manage and product.stock_quantity is None:
                product.stock_quantity = 0
            self.catalog.save(product)

    def set_sku(self, product_id: int, sku: str) -> None:
        """Change the SKU by a direct database edit: duplicates allowed, date_modified untouched."""
        with self.catalog.lock:
            product = self.catalog.get(product_id)
            self.catalog.set_sku_index(product, sku)

    def delete(self, product_id: int) -> None:
        """Delete permanently (a variable product takes its variations with it)."""
        with self.catalog.lock:
            self.catalog.remove(self.catalog.get(product_id))

    def rate_limit_next(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` requests with 429 and a Retry-After header."""
        self.front.rate_limit_next(count, retry_after)
