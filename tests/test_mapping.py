"""Both catalogs side by side: what lines up by SKU, what does not, and what the engine compares."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from woodoo.gateways.odoo import OdooProduct
from woodoo.gateways.shop_items import ShopItem
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


# -- the SQL against the plain definitions, on any catalogs ----------------------------------------

SKUS = st.sampled_from(["", "A", "B", "C", "a", "Ü-1", "X'1", "D E"])


@st.composite
def catalogs(draw) -> tuple[list[ShopItem], list[OdooProduct], set[str]]:
    shop = [ShopItem(woo_id, draw(st.sampled_from([0, 7])), draw(st.sampled_from(["simple",
                     "variation", "grouped"])), draw(SKUS), draw(st.booleans()),
                     draw(st.none() | st.integers(-5, 5)), "instock", "no", f"name {woo_id}")
            for woo_id in draw(st.sets(st.integers(1, 60), max_size=25))]
    odoo = [OdooProduct(odoo_id, draw(SKUS.filter(bool)), draw(st.floats(-3, 50)))
            for odoo_id in draw(st.sets(st.integers(1, 60), max_size=25))]
    return shop, odoo, draw(st.sets(SKUS.filter(bool), max_size=2))


@settings(max_examples=300, deadline=None)
@given(catalogs())
def test_the_queries_say_what_the_plain_definitions_say(drawn):
    shop, odoo, exclude = drawn
    shop_counts = Counter(i.sku for i in shop if i.sku)
    odoo_counts = Counter(p.sku for p in odoo)
    with Catalogs(exclude) as both:
        both.add_shop([shop])
        both.add_odoo([odoo])
        problems = both.problems()
        matched = [pair for chunk in both.matched(7) for pair in chunk]
        sku_map = list(both.shop_products())
    assert problems.duplicate_shop == {
        s: sorted(i.woo_id for i in shop if i.sku == s) for s in sorted(shop_counts)
        if shop_counts[s] > 1}
    assert problems.duplicate_odoo == {
        s: sorted(p.id for p in odoo if p.sku == s) for s in sorted(odoo_counts)
        if odoo_counts[s] > 1}
    assert problems.odoo_only == sorted(set(odoo_counts) - set(shop_counts) - exclude)
    assert problems.shop_only == sorted(set(shop_counts) - set(odoo_counts) - exclude)
    assert problems.unmanaged == sorted(
        f"{i.sku} (id {i.woo_id})" for i in shop
        if i.sku and not i.manage_stock and i.sku in odoo_counts and i.sku not in exclude)
    assert problems.products_without_sku == sum(1 for i in shop
                                                if i.type != "variation" and not i.sku)
    unique = {i.sku: i for i in shop if i.sku and shop_counts[i.sku] == 1}
    assert sorted(p.sku for p in sku_map) == sorted(unique)
    usable = sorted((p for p in odoo if p.sku not in exclude and odoo_counts[p.sku] == 1),
                    key=lambda p: p.id)
    assert [product for product, _ in matched] == usable
    for product, entry in matched:
        item = unique.get(product.sku)
        assert (entry is None) == (item is None)
        if item is not None:
            assert (entry.woo_id, entry.quantity, entry.manage_stock) == (
                item.woo_id, item.quantity, item.manage_stock)
