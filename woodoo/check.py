"""`woodoo check`: connect to both sides and report what would stop a clean sync."""

from __future__ import annotations

from dataclasses import dataclass, field

from woodoo.gateways.odoo import OdooError, OdooGateway
from woodoo.gateways.woocommerce import WooError, WooGateway
from woodoo.mapping import Catalogs, MappingProblems


@dataclass
class CheckReport:
    """What `check` found: versions, warehouses, connection errors and SKU mapping problems."""

    odoo_version: str = ""
    warehouses: list[str] = field(default_factory=list)
    woocommerce_version: str = ""
    write_path: str = ""  # how stock is read and written, and why
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
            catalogs.add_odoo(odoo.product_pages())
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
