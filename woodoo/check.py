"""`woodoo check`: connect to both sides and report what would stop a clean sync."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from woodoo.gateways.odoo import OdooError, OdooGateway, OdooProduct
from woodoo.gateways.woocommerce import WooError, WooGateway
from woodoo.mapping import Catalogs, MappingProblems


@dataclass
class CheckReport:
    """What `check` found: versions, warehouses, connection errors and SKU mapping problems."""

    odoo_version: str = ""
    warehouses: list[str] = field(default_factory=list)
    woocommerce_version: str = ""
    write_path: str = ""  # how stock is read and written, and why
    figures: str = ""  # how Odoo's figures are read, and a sample compared both ways
    errors: list[str] = field(default_factory=list)
    problems: MappingProblems = field(default_factory=MappingProblems)

    @property
    def ok(self) -> bool:
        """True when both sides answered (mapping problems are warnings, not failures)."""
        return not self.errors


def run_check(odoo: OdooGateway, woo: WooGateway, exclude: set[str],
              scope: list[str] | None = None) -> CheckReport:
    """Connect to Odoo and WooCommerce, read both catalogs (the SKUs in `scope`, default all),
    and compare their SKUs."""
    report = CheckReport()
    with Catalogs(exclude, scope or ()) as catalogs:
        try:
            odoo.connect()
            report.odoo_version = odoo.server_version
            report.warehouses = [f"{w.code} ({w.name})" for w in odoo.warehouses]
            read: list[OdooProduct] = []
            catalogs.add_odoo(_kept(odoo.product_pages(), read))
            report.figures, mismatches = compare_figures(odoo, read)
            report.errors += [f"odoo: {m}" for m in mismatches]
        except OdooError as error:
            report.errors.append(f"odoo: {error}")
        try:
            report.woocommerce_version = woo.version()
            report.write_path = woo.write_path().reason
            catalogs.add_shop(woo.item_pages())
        except WooError as error:
            report.errors.append(f"woocommerce: {error}")
        if not report.errors:
            report.problems = catalogs.problems()
    return report


SAMPLE = 200  # products whose figure `check` reads both ways (one more Odoo read)


def _kept(pages: Iterable[list[OdooProduct]], into: list[OdooProduct]) -> Iterator[list[OdooProduct]]:
    """The pages, each also kept in `into` (a sample is drawn from them afterwards)."""
    for page in pages:
        into.extend(page)
        yield page


def compare_figures(odoo: OdooGateway, read: list[OdooProduct],
                    size: int = SAMPLE) -> tuple[str, list[str]]:
    """Compare a sample of the full read's figures with Odoo's own, read product by product:
    what was compared, and each product whose figures differ."""
    stock = odoo.config.stock_field
    if stock != "free_qty" or not read:
        return f"{stock} as Odoo computes it", []
    sample = random.sample(read, min(size, len(read)))
    own = {p.id: p.figure for p in odoo.read_products([p.id for p in sample])}
    differ = [_difference(p, own.get(p.id)) for p in sample if own.get(p.id) != p.figure]
    verdict = (f"{len(sample) - len(differ)} of {len(sample)} sampled products agree" if differ
               else f"the same for all {len(sample)} sampled products")
    return f"free_qty summed from quants, compared with Odoo's own: {verdict}", differ


def _difference(product: OdooProduct, own: float | None) -> str:
    """One product whose two figures differ, in words."""
    if own is None:
        return f"{product.sku}: Odoo's own free_qty read gave no figure for it"
    return f"{product.sku}: free_qty summed from quants {product.figure:g}, Odoo's own {own:g}"
