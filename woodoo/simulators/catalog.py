"""The seeded catalog both simulators share: one list of items, each known on both sides by SKU."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CatalogItem:
    """One sellable SKU as Odoo and WooCommerce both know it.

    `on_hand` and `reserved` are per Odoo warehouse code. `parent_sku` makes the item a variation of
    a variable WooCommerce product with that SKU. `storable=False` is an Odoo consumable (no stock).
    `in_shop=False` / `in_odoo=False` leave the item out of one side, to exercise mapping problems.
    """

    sku: str
    name: str
    on_hand: dict[str, float] = field(default_factory=dict)
    reserved: dict[str, float] = field(default_factory=dict)
    shop_quantity: int | None = None
    parent_sku: str | None = None
    storable: bool = True
    in_shop: bool = True
    in_odoo: bool = True
    manage_stock: bool = True
    backorders: str = "no"


DEMO_WAREHOUSES: tuple[tuple[str, str], ...] = (("WH", "Main Warehouse"), ("RET", "Retail Store"))

DEMO_PARENTS: dict[str, str] = {"TSH": "Organic Cotton T-Shirt"}

DEMO_CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem("WDG-1001", "Bamboo Cutting Board", {"WH": 120, "RET": 35}, {"WH": 5}, 0),
    CatalogItem("WDG-1002", "Stainless Steel Water Bottle 750ml", {"WH": 80, "RET": 20}, {}, 0),
    CatalogItem("WDG-1003", "Ceramic Pour-Over Coffee Dripper", {"WH": 45}, {}, 0),
    CatalogItem("WDG-1004", "Linen Apron", {"WH": 30, "RET": 6}, {}, 0),
    CatalogItem("WDG-1005", "Beeswax Food Wraps (3-pack)", {"WH": 200, "RET": 60}, {}, 0),
    CatalogItem("WDG-1006", "Cast Iron Skillet 26cm", {"RET": 25}, {}, 0),
    CatalogItem("WDG-1017", "Glass Storage Jar 1L", {}, {}, 0),
    CatalogItem("TSH-S-RED", "Organic Cotton T-Shirt (S, Red)", {"WH": 40, "RET": 10}, {}, 0, "TSH"),
    CatalogItem("TSH-M-BLU", "Organic Cotton T-Shirt (M, Blue)", {"WH": 25, "RET": 8}, {"WH": 3}, 0,
                "TSH"),
    CatalogItem("TSH-L-BLK", "Organic Cotton T-Shirt (L, Black)", {"WH": 15}, {}, 0, "TSH"),
    CatalogItem("GIFT-WRAP", "Gift Wrapping Paper", {}, {}, 5, storable=False),
    CatalogItem("WOO-ONLY-1", "Shop-only Sticker", {}, {}, 7, in_odoo=False),
)
