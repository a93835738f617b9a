"""How the two catalogs line up by SKU: duplicates, one-sided SKUs, items Woodoo leaves alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from woodoo.gateways.odoo import OdooProduct
from woodoo.gateways.woocommerce import ShopItem


@dataclass
class MappingProblems:
    """SKU mapping problems between the shop and Odoo (shared by `check` and reconciliation)."""

    duplicate_odoo: dict[str, list[int]] = field(default_factory=dict)
    duplicate_shop: dict[str, list[int]] = field(default_factory=dict)
    odoo_only: list[str] = field(default_factory=list)
    shop_only: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    variations_without_sku: list[str] = field(default_factory=list)
    products_without_sku: int = 0

    @property
    def count(self) -> int:
        """How many problems were found (products without SKU are not counted: often on purpose)."""
        return (len(self.duplicate_odoo) + len(self.duplicate_shop) + len(self.odoo_only)
                + len(self.shop_only) + len(self.unmanaged) + len(self.variations_without_sku))


def mapping_problems(items: Iterable[ShopItem], products: Iterable[OdooProduct],
                     exclude: set[str]) -> MappingProblems:
    """Compare the shop's items with Odoo's storable products by SKU. Pure."""
    items, products = list(items), list(products)
    odoo_skus = Counter(p.sku for p in products)
    shop_skus = Counter(i.sku for i in items if i.sku)
    return MappingProblems(
        duplicate_odoo={s: [p.id for p in products if p.sku == s]
                        for s, n in odoo_skus.items() if n > 1},
        duplicate_shop={s: [i.woo_id for i in items if i.sku == s]
                        for s, n in shop_skus.items() if n > 1},
        odoo_only=sorted(set(odoo_skus) - set(shop_skus) - exclude),
        shop_only=sorted(set(shop_skus) - set(odoo_skus) - exclude),
        unmanaged=sorted(f"{i.sku} (id {i.woo_id})" for i in items
                         if i.sku and not i.manage_stock and i.sku in odoo_skus
                         and i.sku not in exclude),
        variations_without_sku=[f"variation {i.woo_id} of product {i.parent_id}"
                                for i in items if i.type == "variation" and not i.sku],
        products_without_sku=sum(1 for i in items if i.type != "variation" and not i.sku),
    )
