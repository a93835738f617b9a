"""`woodoo check`: connect to both sides and report what would stop a clean sync."""

from __future__ import annotations

import hmac
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from woodoo.config import Config
from woodoo.gateways import odoo_setup
from woodoo.gateways.odoo import OdooError, OdooGateway, OdooProduct
from woodoo.gateways.woocommerce import WooError, WooGateway
from woodoo.mapping import Catalogs, MappingProblems


@dataclass
class CheckReport:
    """What `check` found: versions, warehouses, connection errors and SKU mapping problems."""

    odoo_version: str = ""
    warehouses: list[str] = field(default_factory=list)
    woocommerce_version: str = ""
    write_path: str = ""  # how stock is read and written (a name: "WooCommerce's REST API")
    bulk_routes: str = ""  # one sentence: the plugin's bulk routes used, or why not
    realtime: str = ""  # one sentence: how Odoo's stock changes reach the daemon
    order_events: str = ""  # one sentence: whether the shop's order events are taken
    figures: str = ""  # how Odoo's figures are read, and a sample compared both ways
    errors: list[str] = field(default_factory=list)
    problems: MappingProblems = field(default_factory=MappingProblems)

    @property
    def ok(self) -> bool:
        """True when both sides answered (mapping problems are warnings, not failures)."""
        return not self.errors


def run_check(odoo: OdooGateway, woo: WooGateway, exclude: set[str],
              scope: list[str] | None = None, config: Config | None = None) -> CheckReport:
    """Connect to Odoo and WooCommerce, read both catalogs (the SKUs in `scope`, default all),
    and compare their SKUs; with `config`, also say how each part of the product is wired."""
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
            path = woo.write_path()
            report.write_path = path.via
            catalogs.add_shop(woo.item_pages())
            # Said once the catalog was read: on the bulk path, through the plugin's signed route.
            report.bulk_routes = path.reason
        except WooError as error:
            report.errors.append(f"woocommerce: {error}")
        if not report.errors:
            report.problems = catalogs.problems()
    if config is not None and not report.errors:
        try:
            report.realtime, problems = realtime_path(odoo, config)
            report.errors += [f"odoo: {problem}" for problem in problems]
        except OdooError as error:
            report.errors.append(f"odoo: {error}")
        try:
            report.order_events, problems = order_events(woo, config)
            report.errors += [f"woocommerce: {problem}" for problem in problems]
        except WooError as error:
            report.errors.append(f"woocommerce: {error}")
    return report


def realtime_path(odoo: OdooGateway, config: Config) -> tuple[str, list[str]]:
    """How Odoo's stock changes reach the daemon, in one sentence, and what stops them (each a
    problem: a rule whose token or secret the daemon refuses)."""
    polling = f"polling only: Odoo is read every {config.sync.poll_interval:g} s"
    if odoo.major_version < odoo_setup.MIN_VERSION:
        return f"{polling} (Odoo {odoo.server_version} has no webhook automation rules).", []
    name = odoo_setup.quant_rule_name(config.shop.name)
    try:
        rules = odoo_setup.existing_rules(odoo).get(name, [])
    except OdooError as error:
        return f"{polling}, as far as check can tell: the automation rules cannot be read ({error}).", []
    if not rules:
        return (f"{polling}; Odoo has no Woodoo automation rule (`woodoo odoo setup-webhooks` "
                f"makes one)."), []
    rule = rules[0]
    if not rule["active"]:
        return (f"{polling}: Woodoo's automation rule is paused (`woodoo odoo resume-webhooks` "
                f"switches it back on)."), []
    action = rule["actions"][0] if rule["actions"] else {}
    if action.get("state") == "webhook":
        url = str(action.get("webhook_url") or "")
        base, _, token = url.partition(odoo_setup.NATIVE_PATH)
        if not _one_of(token, [t.get_secret_value() for t in config.webhooks.native_tokens]):
            return f"broken: {name} posts with a token the daemon refuses.", [
                "the automation rule's URL token is not one of webhooks.native_tokens, so the "
                "daemon refuses its notifications; run `woodoo odoo setup-webhooks --mode native "
                "--token <one of them>`"]
        return (f"real time through Odoo's native webhook action, posting to "
                f"{base}{odoo_setup.NATIVE_PATH}<token> (a token of webhooks.native_tokens)."), []
    if action.get("state") != "code":
        return f"{polling}: Woodoo's automation rule was edited by hand (neither mode).", []
    state = odoo_setup.module_state(odoo)
    if not odoo_setup.module_installed(state):
        return "broken: the rule calls the woodoo_webhook module, which is not installed.", [
            f"the automation rule is in signed mode, but the woodoo_webhook module is "
            f"{state or 'not in this Odoo'}; install it, or run `woodoo odoo setup-webhooks "
            f"--mode native`"]
    url_key, secret_key = odoo_setup.parameter_keys(config.shop.name)
    try:
        parameters = odoo_setup.read_parameters(odoo, config.shop.name)
        listed = config.shop.name is None or config.shop.name in odoo_setup.targets(odoo)
    except OdooError as error:
        return (f"signed events from the woodoo_webhook module; its system parameters cannot be "
                f"read here ({error})."), []
    problems = []
    if not listed:
        problems.append(f"the system parameter {odoo_setup.PARAM_TARGETS} does not name "
                        f"{config.shop.name!r} (shop.name), so the module sends this daemon "
                        f"nothing; add it")
    if not parameters[odoo_setup.PARAM_URL]:
        problems.append(f"the system parameter {url_key} is not set, so the module sends "
                        f"nothing; set it to the daemon's URL")
    if not _one_of(parameters[odoo_setup.PARAM_SECRET],
                   [s.get_secret_value() for s in config.webhooks.odoo_secrets]):
        problems.append(f"the system parameter {secret_key} is not one of "
                        f"webhooks.odoo_secrets, so the daemon refuses the module's events; set "
                        f"the same value on both sides")
    if problems:
        return "broken: the woodoo_webhook module's events would not be taken.", problems
    return (f"real time through signed events of the woodoo_webhook module, sent to "
            f"{odoo_setup.module_endpoint(parameters[odoo_setup.PARAM_URL])} (its secret is one "
            f"of webhooks.odoo_secrets)."), []


def order_events(woo: WooGateway, config: Config) -> tuple[str, list[str]]:
    """Whether the shop's order events are taken, in one sentence, and what stops them."""
    if not config.orders.enabled:
        return "off (orders.enabled is false): the shop's orders are not brought to Odoo.", []
    found = woo.plugin()
    if found.active is False:
        return "on, but none will come.", [
            "orders.enabled is true, but the Woodoo Companion plugin is not active in the shop, "
            "and only the plugin sends order events; install and activate it"]
    action = ("create confirmed sale orders in Odoo" if config.orders.create_sale_orders
              else "hold their quantities until Odoo has the order")
    return (f"on: the plugin sends them to the daemon's /webhooks/woocommerce, signed with the "
            f"events secret (one of webhooks.shop_secrets), and they {action}."), []


def _one_of(value: str, accepted: list[str]) -> bool:
    """True when `value` is one of `accepted`, compared in constant time."""
    return bool(value) and any(hmac.compare_digest(value.encode(), a.encode()) for a in accepted)


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
