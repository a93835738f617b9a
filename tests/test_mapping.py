"""Both catalogs side by side: what lines up by SKU, what does not, and what the engine compares."""

from __future__ import annotations

from woodoo.gateways.odoo import OdooProduct
from woodoo.gateways.woocommerce import ShopItem
from woodoo.mapping import Catalogs


def item(woo_id: int, sku: str, *, type: str = "simple", parent: int = 0, manage: bool = True,
         quantity: int | None = 5, name: str = "") -> ShopItem:
    return ShopItem(woo_id, parent, type, sku, manage, quantity, "instock", "no", name)


SHOP = [item(11, "A", name="Apple"), item(12, "B"), item(13, "B"),  # B: two shop items
        item(14, "C", manage=False), item(15, ""), item(31, "V", type="variation", parent=30),
        item(32, "", type="variation", parent=30), item(16, "SHOP-ONLY"), item(17, "X")]
ODOO = [OdooProduct(1, "A", 3.0), OdooProduct(2, "B", 4.0), OdooProduct(3, "C", 1.0),
        OdooProduct(4, "D", 2.0), OdooProduct(5, "D", 6.0),  # D: two Odoo products
        OdooProduct(6, "V", 9.0), OdooProduct(7, "ODOO-ONLY", 1.0), OdooProduct(8, "X", 1.0)]


def filled(exclude: tuple[str, ...] = ()) -> Catalogs:
    catalogs = Catalogs(exclude)
    catalogs.add_shop([SHOP[:4], SHOP[4:]])  # pages, as the gateways give them
    catalogs.add_odoo([ODOO[:3], ODOO[3:]])
    return catalogs


def test_problems_name_every_kind_of_mismatch():
    with filled(exclude=("X",)) as catalogs:
        problems = catalogs.problems()
    assert problems.duplicate_shop == {"B": [12, 13]}
    assert problems.duplicate_odoo == {"D": [4, 5]}
    assert problems.odoo_only == ["D", "ODOO-ONLY"]
    assert problems.shop_only == ["SHOP-ONLY"]
    assert problems.unmanaged == ["C (id 14)"]
    assert problems.variations_without_sku == ["variation 32 of product 30"]
    assert problems.products_without_sku == 1
    assert problems.count == 7


def test_the_sku_map_holds_each_sku_one_shop_item_has():
    with filled() as catalogs:
        assert [p.sku for p in catalogs.shop_products()] == ["A", "C", "SHOP-ONLY", "X", "V"]
        assert catalogs.shared_shop() == [("B", 12), ("B", 13)]
        assert catalogs.shared_odoo() == [("D", 4), ("D", 5)]


def test_matched_pairs_usable_odoo_products_with_their_shop_item_in_chunks():
    with filled(exclude=("X",)) as catalogs:
        chunks = list(catalogs.matched(2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    pairs = {product.sku: entry for chunk in chunks for product, entry in chunk}
    assert set(pairs) == {"A", "B", "C", "V", "ODOO-ONLY"}  # D shared in Odoo, X excluded
    assert pairs["B"] is None and pairs["ODOO-ONLY"] is None  # shared in the shop / absent
    assert (pairs["A"].woo_id, pairs["A"].quantity, pairs["A"].manage_stock) == (11, 5, True)
    assert (pairs["V"].woo_id, pairs["V"].parent_id) == (31, 30)
    assert pairs["C"].manage_stock is False


def test_an_item_listed_twice_counts_once_and_keep_odoo_narrows_the_comparison():
    with Catalogs() as catalogs:
        catalogs.add_shop([[item(11, "A")], [item(11, "A", quantity=6)]])  # a page shifted
        catalogs.add_odoo([ODOO[:2]])
        assert catalogs.problems().duplicate_shop == {}
        assert catalogs.keep_odoo({"A", "NOPE"}) == {"NOPE"}
        [[(product, entry)]] = list(catalogs.matched(10))
        assert (product.sku, entry.quantity) == ("A", 6)


def test_names_are_read_back_for_any_number_of_skus():
    with Catalogs() as catalogs:
        catalogs.add_shop([[item(n, f"S{n}", name=f"Product {n}") for n in range(1, 1202)]])
        names = catalogs.names(f"S{n}" for n in range(1, 1202))
    assert len(names) == 1201 and names["S1201"] == "Product 1201"
