"""`woodoo check`: connect to both sides and report what would stop a clean sync."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from woodoo.odoo import OdooError, OdooGateway
from woodoo.woocommerce import ShopItem, WooError, WooGateway


@dataclass
class CheckReport:
    """What `check` found: versions, warehouses, connection errors and SKU mapping problems."""

    odoo_version: str = ""
    warehouses: list[str] = field(default_factory=list)
    woocommerce_version: str = ""
    errors: list[str] = field(default_factory=list)
    duplicate_odoo_skus: dict[str, list[int]] = field(default_factory=dict)
    duplicate_shop_skus: dict[str, list[int]] = field(default_factory=dict)
    odoo_only: list[str] = field(default_factory=list)
    shop_only: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    variations_without_sku: list[str] = field(default_factory=list)
    products_without_sku: int = 0

    @property
    def ok(self) -> bool:
        """True when both sides answered (mapping problems are warnings, not failures)."""
        return not self.errors

    @property
    def mapping_problems(self) -> int:
        """How many mapping problems were found."""
        return (len(self.duplicate_odoo_skus) + len(self.duplicate_shop_skus)
                + len(self.odoo_only) + len(self.shop_only) + len(self.unmanaged)
                + len(self.variations_without_sku))


def run_check(odoo: OdooGateway, woo: WooGateway, exclude: set[str]) -> CheckReport:
    """Connect to Odoo and WooCommerce, read both catalogs, and compare their SKUs."""
    report = CheckReport()
    odoo_skus: Counter[str] = Counter()
    odoo_ids: dict[str, list[int]] = {}
    try:
        odoo.connect()
        report.odoo_version = odoo.server_version
        report.warehouses = [f"{w.code} ({w.name})" for w in odoo.warehouses]
        for product in odoo.read_products():
            odoo_skus[product.sku] += 1
            odoo_ids.setdefault(product.sku, []).append(product.id)
    except OdooError as error:
        report.errors.append(f"odoo: {error}")
    items: list[ShopItem] = []
    try:
        report.woocommerce_version = woo.version()
        items = woo.list_items()
    except WooError as error:
        report.errors.append(f"woocommerce: {error}")
    if report.errors:
        return report

    shop_skus = Counter(i.sku for i in items if i.sku)
    report.duplicate_odoo_skus = {s: odoo_ids[s] for s, n in odoo_skus.items() if n > 1}
    report.duplicate_shop_skus = {
        s: [i.woo_id for i in items if i.sku == s] for s, n in shop_skus.items() if n > 1
    }
    report.odoo_only = sorted(set(odoo_skus) - set(shop_skus) - exclude)
    report.shop_only = sorted(set(shop_skus) - set(odoo_skus) - exclude)
    report.unmanaged = sorted(
        f"{i.sku} (id {i.woo_id})" for i in items
        if i.sku and not i.manage_stock and i.sku in odoo_skus and i.sku not in exclude
    )
    report.variations_without_sku = [
        f"variation {i.woo_id} of product {i.parent_id}"
        for i in items if i.type == "variation" and not i.sku
    ]
    report.products_without_sku = sum(1 for i in items if i.type != "variation" and not i.sku)
    return report
