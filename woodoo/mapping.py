"""How the two catalogs line up by SKU: duplicates, one-sided SKUs, items Woodoo leaves alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

from woodoo.gateways.odoo import OdooProduct
from woodoo.gateways.shop_items import ShopItem
from woodoo.rules import sku_scope
from woodoo.state import ShopProduct

PARAMETERS = 500  # SKUs per `in (...)` query, well under SQLite's limit of bound parameters


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


class Catalogs:
    """One full read of the shop and of Odoo, side by side in a private scratch database.

    Written by hand on plain sqlite3 because it is no state: an unnamed database that SQLite
    keeps in its page cache and spills to a temporary file it deletes on close. Holding both
    catalogs as Python objects cost over 1 KiB per SKU (358 MiB at 200,000 SKUs); here a full
    comparison costs a page of each side, whatever the catalog's size.
    """

    def __init__(self, exclude: Iterable[str] = (), scope: Iterable[str] = ()) -> None:
        """`exclude`: SKUs left alone; `scope`: the patterns of synced SKUs (none: all)."""
        self.in_scope = sku_scope(scope)
        self.db = sqlite3.connect("")
        self.db.executescript("""
            create table shop (woo_id integer primary key, parent_id integer, type text,
                               sku text, manage_stock integer, quantity integer, status text,
                               backorders text, name text);
            create index shop_sku on shop (sku);
            create table odoo (id integer primary key, sku text, figure real);
            create index odoo_sku on odoo (sku);
            create table excluded (sku text primary key);
            create view shop_shared as select sku from shop where sku != '' group by sku
                having count(*) > 1;
            create view shop_unique as select * from shop where sku != '' and sku not in
                (select sku from shop_shared);
            create view odoo_shared as select sku from odoo group by sku having count(*) > 1;
        """)
        self.db.executemany("insert or ignore into excluded values (?)", ((s,) for s in exclude))

    def __enter__(self) -> Catalogs:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.db.close()

    # -- filling ---------------------------------------------------------------------------------

    def add_shop(self, pages: Iterable[list[ShopItem]]) -> None:
        """Take the shop's listing, a page at a time (an item listed twice is kept once)."""
        for page in pages:
            self.db.executemany(
                "insert or replace into shop values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.woo_id, i.parent_id, i.type, i.sku, i.manage_stock, i.quantity, i.status,
                  i.backorders, i.name) for i in page if self.in_scope(i.sku)])

    def add_odoo(self, pages: Iterable[list[OdooProduct]]) -> None:
        """Take Odoo's storable products with an SKU, a page at a time."""
        for page in pages:
            self.db.executemany("insert or replace into odoo values (?, ?, ?)",
                                [(p.id, p.sku, p.figure) for p in page if self.in_scope(p.sku)])

    def keep_odoo(self, skus: set[str]) -> set[str]:
        """Keep only Odoo's products of these SKUs; returns the SKUs Odoo has no product for."""
        self.db.execute("create temp table wanted (sku text primary key)")
        self.db.executemany("insert into wanted values (?)", ((s,) for s in skus))
        self.db.execute("delete from odoo where sku not in (select sku from wanted)")
        return {row[0] for row in self.db.execute(
            "select sku from wanted where sku not in (select sku from odoo)")}

    # -- reading ---------------------------------------------------------------------------------

    def shared_shop(self) -> list[tuple[str, int]]:
        """(SKU, shop id) of every shop item whose SKU another item has too."""
        return self.db.execute(
            "select sku, woo_id from shop where sku in (select sku from shop_shared) "
            "order by sku, woo_id").fetchall()

    def shared_odoo(self) -> list[tuple[str, int]]:
        """(SKU, Odoo id) of every Odoo product, not excluded, whose SKU another one has too."""
        return self.db.execute(
            "select sku, id from odoo where sku in (select sku from odoo_shared) and sku not in "
            "(select sku from excluded) order by sku, id").fetchall()

    def shop_products(self) -> Iterator[ShopProduct]:
        """The SKU map: every shop item whose SKU no other item has, by id."""
        rows = self.db.execute(
            "select sku, woo_id, parent_id, manage_stock, backorders, quantity, status "
            "from shop_unique order by woo_id")
        for sku, woo_id, parent_id, manage_stock, backorders, quantity, status in rows:
            yield ShopProduct(sku, woo_id, parent_id, bool(manage_stock), backorders, quantity,
                              status)

    def matched(self, size: int) -> Iterator[list[tuple[OdooProduct, ShopProduct | None]]]:
        """Odoo's usable products (SKU neither excluded nor shared in Odoo) with the shop item
        of that SKU, `size` at a time by Odoo id; None where no shop item has that SKU alone
        (none, or several)."""
        rows = self.db.execute("""
            select o.id, o.sku, o.figure, s.woo_id, s.parent_id, s.manage_stock, s.backorders,
                   s.quantity, s.status
            from odoo o left join shop_unique s on s.sku = o.sku
            where o.sku not in (select sku from excluded)
              and o.sku not in (select sku from odoo_shared)
            order by o.id""")
        while page := rows.fetchmany(size):
            yield [(OdooProduct(odoo_id, sku, figure),
                    None if woo_id is None else ShopProduct(sku, woo_id, parent_id,
                                                            bool(manage_stock), backorders,
                                                            quantity, status))
                   for odoo_id, sku, figure, woo_id, parent_id, manage_stock, backorders, quantity,
                   status in page]

    def names(self, skus: Iterable[str]) -> dict[str, str]:
        """The shop's name of each of these SKUs, for the report (both listings carry names)."""
        wanted = list(skus)
        found: dict[str, str] = {}
        for start in range(0, len(wanted), PARAMETERS):
            chunk = wanted[start:start + PARAMETERS]
            found |= dict(self.db.execute(
                f"select sku, name from shop where sku in ({', '.join('?' * len(chunk))})",
                chunk).fetchall())
        return found

    def problems(self) -> MappingProblems:
        """Compare the shop's items with Odoo's storable products by SKU."""
        def grouped(rows: list[tuple[str, int]]) -> dict[str, list[int]]:
            groups: dict[str, list[int]] = {}
            for sku, record in rows:
                groups.setdefault(sku, []).append(record)
            return groups

        def column(query: str) -> list[str]:
            return [row[0] for row in self.db.execute(query)]

        return MappingProblems(
            duplicate_odoo=grouped(self.db.execute(
                "select sku, id from odoo where sku in (select sku from odoo_shared) "
                "order by sku, id").fetchall()),
            duplicate_shop=grouped(self.shared_shop()),
            odoo_only=column(
                "select distinct sku from odoo where sku not in (select sku from shop) "
                "and sku not in (select sku from excluded) order by sku"),
            shop_only=column(
                "select distinct sku from shop where sku != '' and sku not in (select sku from "
                "odoo) and sku not in (select sku from excluded) order by sku"),
            unmanaged=column(
                "select sku || ' (id ' || woo_id || ')' as item from shop where sku != '' "
                "and not manage_stock and sku in (select sku from odoo) and sku not in "
                "(select sku from excluded) order by item"),
            variations_without_sku=column(
                "select 'variation ' || woo_id || ' of product ' || parent_id from shop "
                "where type = 'variation' and sku = '' order by woo_id"),
            products_without_sku=self.db.execute(
                "select count(*) from shop where type != 'variation' and sku = ''").fetchone()[0],
        )
