"""`woodoo init`, guided: ask for both sides' addresses and keys, connect to each, let the user
pick the warehouses and the stock figure, find the Woodoo Companion plugin and the woodoo_webhook
module, make the channel secrets, and write the commented starter config with the answers; then
say what goes into wp-config.php and Odoo's system parameters, set those and the automation rule
in Odoo when the user agrees.

Every question can be answered ahead by a flag or an environment variable (`Answers`); without a
terminal the answers must all be there. A connection problem is explained in words, with what to
try, and on a terminal the step is asked again with the previous answers as defaults.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from woodoo import config as config_module
from woodoo import log, secret
from woodoo.errors import ProblemsError, WoodooError
from woodoo.gateways import odoo_setup
from woodoo.gateways.odoo import OdooError, OdooGateway, list_databases
from woodoo.gateways.retry import RetryPolicy
from woodoo.gateways.woocommerce import PluginFound, WooError, WooGateway
from woodoo.reporting.findings import plural
from woodoo.setup_answers import (
    CHANNELS,
    OPTIONS,
    WP_DAEMON_URL,
    WP_EVENTS_SECRET,
    WP_STOCK_SECRET,
    Answers,
    channel_secret,
    daemon_url,
    not_blank,
    odoo_hint,
    odoo_url,
    php_string,
    shop_of,
    shop_url,
    woo_hint,
)
from woodoo.starter_config import example_text, render

EXIT_CONFIG = 2
EXIT_REMOTE = 1
EXIT_INTERRUPTED = 130  # like a shell's Ctrl-C
MIN_REDACTED = 8
KEY_FILE_NAME = "woodoo.key"  # where `config.parse` looks for a key beside the config
# Listing a shop of more pages than this (100 products each) says that it is counting.
BIG_SHOP_PAGES = 5
# The user asks again; the wizard does not retry a failed call by itself.
NO_RETRIES = RetryPolicy(retries=0, base_seconds=0)
DEFAULT_DAEMON_URL = "http://127.0.0.1:8765"  # the daemon on this machine, its default port
SHOP_EVENTS_PATH = "/webhooks/woocommerce"  # where the plugin sends (WOODOO_DAEMON_URL ends so)
STOCK_FIELDS = {
    "free_qty": "on hand minus reserved (default: never sells what is promised elsewhere)",
    "qty_available": "on hand, reserved units included",
    "virtual_available": "forecast: on hand + incoming - outgoing",
}


Given = TypeVar("Given")
Taken = TypeVar("Taken")


class SetupError(WoodooError):
    """The setup cannot go on; the message says why. Nothing has been written."""

    def __init__(self, message: str, exit_code: int = EXIT_REMOTE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Written:
    """What the setup wrote."""

    config: Path
    key_file: Path | None  # a new key file, when one was made
    odoo_parameters: bool = False  # woodoo_webhook.url and .secret were set in Odoo
    webhooks: bool = False  # Odoo's automation rule was set up


class _StepFailed(Exception):
    """One attempt at a step failed: what happened, what to try, and the exit code without a
    terminal."""

    def __init__(self, problem: str, hint: str, exit_code: int = EXIT_REMOTE) -> None:
        super().__init__(problem)
        self.problem, self.hint, self.exit_code = problem, hint, exit_code


# -- the wizard ---------------------------------------------------------------------------------


class Wizard:
    """Asks (on a terminal) or takes the answers given, connects, and writes the config."""

    def __init__(self, answers: Answers, target: Path, *, interactive: bool) -> None:
        self.answers = answers
        self.target = target
        self.interactive = interactive
        self.odoo_version = ""
        self.odoo_major = 0
        self.warehouses: list[tuple[str, str]] = []  # (code, name) of every Odoo warehouse
        self.module: str | None = None  # the woodoo_webhook module's state (None: unknown to Odoo)
        self.module_problem = ""  # why the module's state could not be read
        self.parameters: dict[str, str] = {}  # the module's system parameters as Odoo has them
        self.plugin = PluginFound(False)
        self.mode: str | None = None  # the real-time mode: "signed", "native", None (polling)
        self.decided: list[str] = []  # the channel secrets settled so far, in order
        self.shop = shop_of(target)
        self.targets: list[str] = []  # woodoo_webhook.targets as Odoo has it
        self.made: set[str] = set()  # those made here (the other side does not have them yet)

    # -- output -----------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """`text` with every secret answered so far replaced (a safety net: no message carries
        one; short ones are left, or a mistyped "wrong" would blank that word)."""
        for value in sorted(self.answers.secrets(), key=len, reverse=True):
            if len(value) >= MIN_REDACTED:
                text = text.replace(value, log.REDACTED)
        return text

    def say(self, text: str = "", *, err: bool = False) -> None:
        """Echo `text`, secrets redacted."""
        click.echo(self.redact(text), err=err)

    def _failed(self, step: str, failure: _StepFailed) -> None:
        """Explain a failed step; on a terminal offer to try it again, else stop."""
        if not self.interactive:
            raise SetupError(self.redact(f"{failure.problem}; what to try: {failure.hint}"),
                             failure.exit_code)
        self.say(f"  problem: {failure.problem}", err=True)
        self.say(f"  what to try: {failure.hint}", err=True)
        if not click.confirm(f"Try the {step} step again?", default=True):
            raise SetupError("stopped; nothing was written", failure.exit_code)

    # -- questions --------------------------------------------------------------------------------

    def ask(self, text: str, option: str, first: bool,
            check: Callable[[str], str] = not_blank) -> str:
        """The answer `option`: the one given ahead (on the first attempt), else asked with it
        as the default."""
        current = getattr(self.answers, option)
        if current and (first or not self.interactive):
            checked = self._given(current, check, OPTIONS[option][0])
            if checked is not None:
                return checked
        return str(click.prompt(text, default=current or None, value_proc=check))

    def _given(self, value: Given, check: Callable[[Given], Taken], flag: str,
               what: str = "") -> Taken | None:
        """`value`, given ahead by `flag`, as `check` takes it; None when it refuses it on a
        terminal (the problem is said, and the question asked), a SetupError naming `flag`
        without one."""
        try:
            return check(value)
        except click.BadParameter as error:
            if not self.interactive:
                raise SetupError(f"{flag}: {error.message}", EXIT_CONFIG) from None
            self.say(f"  problem: {what}{error.message}", err=True)
            return None

    def ask_secret(self, text: str, current: str | None, first: bool) -> str:
        """A secret, typed hidden; on a retry Enter keeps the one typed before."""
        if current and (first or not self.interactive):
            return current
        if current:
            value = click.prompt(f"{text} (hidden; Enter keeps the one typed before)", default="",
                                 show_default=False, hide_input=True)
            return value or current
        return str(click.prompt(f"{text} (hidden)", hide_input=True, value_proc=not_blank))

    def choose(self, text: str, options: list[tuple[str, str]], default: str | None) -> str:
        """One of `options` (value, description), by number or value."""
        for number, (value, description) in enumerate(options, 1):
            self.say(f"  {number}. {value:<18} {description}".rstrip())

        def pick(answer: str) -> str:
            answer = answer.strip()
            values = [value for value, _ in options]
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return values[int(answer) - 1]
            if answer in values:
                return answer
            raise click.BadParameter(f"answer a number from 1 to {len(options)}, or one of "
                                     f"{', '.join(values)}")

        return str(click.prompt(text, default=default, value_proc=pick))

    # -- the steps --------------------------------------------------------------------------------

    def run(self) -> Written:
        """Ask everything, connect to both sides, then write the config (and the key file)."""
        if self.interactive:
            self.say(f"Setting up {self.target}: answers in [brackets] are kept with Enter; "
                     f"Ctrl-C stops without writing anything.")
        self._step("Odoo", self._odoo)
        self._choose_warehouses()
        self._choose_stock_field()
        self._step("WooCommerce", self._shop)
        self._choose_realtime()
        written = self._write()
        return self._after_write(written)

    def _step(self, name: str, attempt: Callable[[bool], None]) -> None:
        self.say(f"\n{name}")
        first = True
        while True:
            try:
                attempt(first)
                return
            except _StepFailed as failure:
                self._failed(name, failure)
            first = False

    def _odoo(self, first: bool) -> None:
        a = self.answers
        a.odoo_url = self.ask("Odoo URL (the server root, e.g. https://mycompany.odoo.com)",
                              "odoo_url", first, odoo_url)
        try:
            databases = list_databases(a.odoo_url)
        except OdooError as error:
            raise _StepFailed(str(error), odoo_hint(str(error))) from None
        a.odoo_database = self._database(databases, first)
        a.odoo_user = self.ask("Odoo login of the user Woodoo acts as (needs read access to "
                               "Inventory)", "odoo_user", first)
        a.odoo_password = self.ask_secret("Its password or API key", a.odoo_password, first)
        settings = config_module.OdooConfig(
            url=a.odoo_url, database=a.odoo_database, username=a.odoo_user,
            password=a.odoo_password, warehouses=["(chosen below)"],
        ).model_copy(update={"warehouses": []})  # log in and list them, choose none yet
        gateway = OdooGateway(settings, NO_RETRIES)
        try:
            gateway.connect()
            rows = gateway.execute("stock.warehouse", "search_read", [[]],
                                   {"fields": ["code", "name"], "order": "id"})
        except (OdooError, ProblemsError) as error:
            raise _StepFailed(str(error), odoo_hint(str(error))) from None
        self.odoo_version = gateway.server_version
        self.odoo_major = gateway.major_version
        self.warehouses = [(str(r["code"]), str(r["name"])) for r in rows]
        self.say(f"  connected: Odoo {self.odoo_version}, database {a.odoo_database}, "
                 f"as {a.odoo_user}")
        if not self.warehouses:
            raise _StepFailed(f"the Odoo database {a.odoo_database} has no warehouse",
                              odoo_hint("stock.warehouse"), EXIT_CONFIG)
        self._find_module(gateway)

    def _find_module(self, gateway: OdooGateway) -> None:
        """The woodoo_webhook module's state and, when installed, its system parameters."""
        self.module, self.module_problem, self.parameters = None, "", {}
        if self.odoo_major < odoo_setup.MIN_VERSION:
            self.say(f"  Odoo {self.odoo_version} has no webhook automation rules: Woodoo polls it")
            return
        try:
            self.module = odoo_setup.module_state(gateway)
        except OdooError as error:
            # Not fatal: Woodoo works by polling; the rule can be set up later by an admin.
            self.module_problem = str(error)
            self.say(f"  the woodoo_webhook module: cannot tell ({error}); Odoo's own webhook "
                     f"action (native mode) is assumed")
            return
        self.say(f"  {odoo_setup.describe_module(self.module)}")
        if odoo_setup.module_installed(self.module):
            try:
                self.parameters = odoo_setup.read_parameters(gateway, self.shop)
                self.targets = odoo_setup.targets(gateway)
            except OdooError as error:
                self.say(f"  its system parameters cannot be read ({error}): setting them "
                         f"needs an Odoo administrator")

    def _database(self, databases: list[str] | None, first: bool) -> str:
        a = self.answers
        if databases is None:
            if not a.odoo_database and not self.interactive:
                raise _StepFailed("Odoo does not list its databases (list_db is off)",
                                  "give the database with --odoo-database", EXIT_CONFIG)
            if not a.odoo_database or not first:
                self.say("  Odoo does not list its databases here: type the name.")
            return self.ask("Odoo database", "odoo_database", first)
        if a.odoo_database and (first or not self.interactive):
            if a.odoo_database in databases:
                return a.odoo_database
            problem = (f"Odoo at {a.odoo_url} has no database {a.odoo_database!r}; it has: "
                       f"{', '.join(databases)}")
            if not self.interactive:
                raise _StepFailed(problem, "give one of these with --odoo-database", EXIT_CONFIG)
            self.say(f"  problem: {problem}", err=True)
        if len(databases) == 1 and not self.interactive:
            return databases[0]
        if not self.interactive:
            raise _StepFailed(f"Odoo at {a.odoo_url} has several databases: "
                              f"{', '.join(databases)}", "choose one with --odoo-database",
                              EXIT_CONFIG)
        self.say("  Odoo lists these databases:")
        default = a.odoo_database if a.odoo_database in databases else (
            databases[0] if len(databases) == 1 else None)
        return self.choose("Odoo database", [(name, "") for name in databases], default)

    def _choose_warehouses(self) -> None:
        a = self.answers
        known = {code: name for code, name in self.warehouses}
        wanted = [w.strip() for w in a.warehouses if w.strip()]

        def match(token: str) -> str:
            if token.isdigit() and 1 <= int(token) <= len(self.warehouses):
                return self.warehouses[int(token) - 1][0]
            return next((c for c, n in self.warehouses if token in (c, n)), "") or next(
                (c for c in known if c.lower() == token.lower()), "")

        def resolve(answer: str) -> list[str]:
            codes: list[str] = []
            for part in [p.strip() for p in answer.split(",") if p.strip()]:
                # A name may hold spaces ("Main Warehouse"); else "1 2" is two answers.
                for token in [part] if match(part) else part.split():
                    if not (code := match(token)):
                        raise click.BadParameter(
                            f"no warehouse {token!r} in Odoo; known: {', '.join(known)} (answer "
                            f"numbers or codes, separated by commas)")
                    if code not in codes:
                        codes.append(code)
            if not codes:
                raise click.BadParameter("choose at least one warehouse")
            return codes

        if wanted:
            codes = self._given(",".join(wanted), resolve, "--warehouse")
            if codes is not None:
                a.warehouses = codes
                self.say(f"  warehouses: {', '.join(a.warehouses)}")
                return
        if not self.interactive:
            if len(self.warehouses) == 1:
                a.warehouses = [self.warehouses[0][0]]
                self.say(f"  warehouse: {a.warehouses[0]} (the only one)")
                return
            raise SetupError(
                "--warehouse: Odoo has several warehouses; choose with --warehouse CODE "
                f"(repeatable): {', '.join(f'{c} ({n})' for c, n in self.warehouses)}",
                EXIT_CONFIG)
        self.say("\nWarehouses whose stock the shop sells (several are summed):")
        for number, (code, name) in enumerate(self.warehouses, 1):
            self.say(f"  {number}. {code:<8} {name}")
        a.warehouses = click.prompt("Warehouses (numbers or codes, separated by commas)",
                                    default="1", value_proc=resolve)

    def _choose_stock_field(self) -> None:
        a = self.answers
        if a.stock_field in STOCK_FIELDS or (a.stock_field is None and not self.interactive):
            a.stock_field = a.stock_field or "free_qty"
            self.say(f"  stock figure: {a.stock_field}")
            return
        if a.stock_field is not None:
            problem = f"--stock-field: {a.stock_field!r} is none of {', '.join(STOCK_FIELDS)}"
            if not self.interactive:
                raise SetupError(problem, EXIT_CONFIG)
            self.say(f"  problem: {problem}", err=True)
        self.say("\nWhich Odoo figure is the stock to sell:")
        a.stock_field = self.choose("Stock figure", list(STOCK_FIELDS.items()), "free_qty")

    def _shop(self, first: bool) -> None:
        a = self.answers
        a.shop_url = self.ask("Shop URL (the WordPress home URL exactly, as in Settings -> "
                              "General)", "shop_url", first, shop_url)
        self.say("  REST API key: WooCommerce -> Settings -> Advanced -> REST API, Read/Write")
        a.consumer_key = self.ask_secret("Consumer key (ck_...)", a.consumer_key, first)
        a.consumer_secret = self.ask_secret("Consumer secret (cs_...)", a.consumer_secret, first)
        settings = config_module.WooCommerceConfig(
            url=a.shop_url, consumer_key=a.consumer_key, consumer_secret=a.consumer_secret)
        gateway = WooGateway(settings, NO_RETRIES)
        try:
            version = gateway.version()
            self.say(f"  connected: WooCommerce {version}")
            self.plugin = gateway.plugin()
        except WooError as error:
            raise _StepFailed(str(error), woo_hint(str(error))) from None
        finally:
            gateway.close()
        if self.plugin.active is None:
            raise _StepFailed(self.plugin.problem, woo_hint(self.plugin.problem))
        self.say(f"  {self.plugin.describe()}")
        self.decided, self.made = [], set()
        stock = None
        if self.plugin.active:
            if not first and self.interactive:
                a.stock_secret = None  # the one given may be what failed: asked again
            self._channel("stock_secret")
            # The shop's own stock secret counts a big shop through the plugin's catalog route,
            # a few requests instead of one per 100 products, and a secret the plugin does not
            # have is found here, before anything is written; a new one it cannot know yet.
            if "stock_secret" not in self.made and self.plugin.bulk:
                stock = a.stock_secret
        counts = self._count(config_module.WooCommerceConfig(
            url=a.shop_url, consumer_key=a.consumer_key, consumer_secret=a.consumer_secret,
            plugin_secret=stock))
        products, variations, without = counts["product"], counts["variation"], counts["without"]
        # Counts as labelled lists: "1 products ... have" does not agree, and neither would a
        # sentence whose verb follows a count.
        self.say(f"  with an SKU: {plural(products, 'product')}, {plural(variations, 'variation')}"
                 + (f"; without one (left alone): {plural(without, 'item')}" if without else ""))

    def _count(self, settings: config_module.WooCommerceConfig) -> Counter[str]:
        """The shop's items with an SKU, by kind ("product", "variation"), and "without"."""
        gateway = WooGateway(settings, NO_RETRIES)
        said: list[bool] = []

        def progress(step: int, pages: int) -> None:
            if pages > BIG_SHOP_PAGES and not said:
                said.append(True)
                self.say(f"  a big shop: counting its products ({pages} pages of 100) and "
                         f"variations, this takes a moment...")

        try:
            return Counter(("variation" if i.type == "variation" else "product") if i.sku
                           else "without" for page in gateway.item_pages(progress) for i in page)
        except WooError as error:
            raise _StepFailed(str(error), woo_hint(str(error))) from None
        finally:
            gateway.close()

    # -- real time and orders -------------------------------------------------------------------

    def confirm(self, text: str, option: str, default: bool, *, ahead: bool | None = None) -> bool:
        """A yes/no answer: the flag given, else asked on a terminal, else `ahead` (the default
        without a terminal; `default` when None)."""
        given = getattr(self.answers, option)
        if given is not None:
            return bool(given)
        if not self.interactive:
            return default if ahead is None else ahead
        return click.confirm(text, default=default)

    def _choose_realtime(self) -> None:
        """Orders, the real-time mode, the daemon URL and the channel secrets."""
        a = self.answers
        self.say("\nReal time and orders")
        plugin = bool(self.plugin.active)
        if a.orders and not plugin:
            raise SetupError(f"--orders: {self.plugin.describe()} Only the plugin sends order "
                             f"events; install and activate it (wp-plugin/woodoo-companion), or "
                             f"leave --orders out", EXIT_CONFIG)
        a.orders = plugin and self.confirm(
            "Bring the shop's orders into Odoo (orders.enabled: the plugin sends each order "
            "event to the daemon)?", "orders", True)
        if plugin:
            self.say(f"  orders: {'on' if a.orders else 'off'}")
        self.mode = None
        if self.odoo_major >= odoo_setup.MIN_VERSION:
            self.mode = "signed" if odoo_setup.module_installed(self.module) else "native"
            if self.mode == "native":
                self.say(f"  native mode: Odoo calls the daemon inside each save and waits up to "
                         f"{odoo_setup.NATIVE_WAIT_SECONDS} s per changed quant whenever the "
                         f"daemon cannot answer; the woodoo_webhook module (signed mode) never "
                         f"makes a user wait")
            a.webhooks = self.confirm(
                f"Set up Odoo's automation rule in {self.mode} mode once the config is written "
                f"(`woodoo odoo setup-webhooks --mode {self.mode}`)?", "webhooks", True,
                ahead=False)
        elif a.webhooks:
            raise SetupError(f"--webhooks: Odoo {self.odoo_version} has no webhook automation "
                             f"rules (Odoo {odoo_setup.MIN_VERSION} or later); leave --webhooks "
                             f"out: Woodoo polls it", EXIT_CONFIG)
        if not plugin and self.mode is None:
            self.say("  polling only: no plugin in the shop, no webhook rules in this Odoo")
            return
        a.daemon_url = self._daemon_url()
        if plugin:  # the stock secret was settled with the shop
            self._channel("events_secret")
        if self.mode == "signed":
            self._channel("odoo_webhook_secret")
            a.set_odoo_parameters = self.confirm(
                f"Set {' and '.join(odoo_setup.parameter_keys(self.shop))} in Odoo now, through "
                f"its API (else you set them by hand: Settings > Technical > System "
                f"Parameters)?", "set_odoo_parameters", True, ahead=False)
        elif a.set_odoo_parameters:
            raise SetupError(f"--set-odoo-parameters: {odoo_setup.describe_module(self.module)} "
                             f"Its parameters are set once it is installed", EXIT_CONFIG)
        if self.mode == "native":
            self._channel("native_token")

    def _daemon_url(self) -> str:
        """The daemon's public base URL: the one given, else asked, else the local default."""
        a = self.answers
        if a.daemon_url is None and not self.interactive:
            self.say(f"  daemon URL: {DEFAULT_DAEMON_URL} (the daemon on this machine; give "
                     f"--daemon-url when the shop or Odoo reach it at another address)")
            return DEFAULT_DAEMON_URL
        if a.daemon_url is None:
            a.daemon_url = DEFAULT_DAEMON_URL
            return self.ask("The daemon's URL as the shop and Odoo reach it (behind your "
                            "proxy, e.g. https://woodoo.example.com)", "daemon_url", False,
                            daemon_url)
        return self.ask("Daemon URL", "daemon_url", True, daemon_url)

    def _channel(self, name: str) -> None:
        """One channel secret: the one given (checked), else typed, kept from Odoo or made."""
        self._settle(name)
        self.decided.append(name)

    def _settle(self, name: str) -> None:
        """Set the answer `name` to its channel secret (see _channel)."""
        a = self.answers
        label, where = CHANNELS[name]
        flag = OPTIONS[name][0]
        odoo_has = self.parameters.get(odoo_setup.PARAM_SECRET, "") if (
            name == "odoo_webhook_secret") else ""
        secret_key = odoo_setup.parameter_keys(self.shop)[1]
        if name == "odoo_webhook_secret":
            where = f"Odoo ({secret_key})"
        if odoo_has and (secret.channel_weakness(odoo_has) or odoo_has in self._others(name)):
            odoo_has = ""  # Odoo's is unusable here: a new one replaces it

        def check(value: str) -> str:
            value = channel_secret(value)
            if value in self._others(name):
                raise click.BadParameter("the same as another channel's secret; each channel "
                                         "needs its own, so that one leaked secret opens one "
                                         "door")
            if name == "native_token" and not odoo_setup.TOKEN.fullmatch(value):
                raise click.BadParameter("use only A-Z a-z 0-9 - _ . ~ (it goes in a URL)")
            return value

        given = getattr(a, name)
        if given is not None and (
                checked := self._given(given, check, flag, f"{label}: ")) is not None:
            setattr(a, name, checked)
            self.say(f"  {label}: the one given")
            return
        if self.interactive:
            keep = "Enter keeps the one Odoo has" if odoo_has else "Enter makes a new one"
            typed = click.prompt(f"The {label}, as {where} holds it (hidden; {keep})",
                                 default="", show_default=False, hide_input=True,
                                 value_proc=lambda v: check(v) if v else v)
            if typed:
                setattr(a, name, typed)
                return
        if odoo_has:
            setattr(a, name, odoo_has)
            self.say(f"  {label}: the one Odoo has ({secret_key})")
            return
        setattr(a, name, secret.make_channel_secret())
        self.made.add(name)
        self.say(f"  {label}: made (random, 43 characters)")

    def _others(self, name: str) -> set[str]:
        """The channel secrets decided before this one, and the credentials: a secret must
        differ from each (one leaked value must open one door only)."""
        a = self.answers
        return {getattr(a, k) for k in self.decided if k != name} | {
            v for v in (a.odoo_password, a.consumer_key, a.consumer_secret) if v}

    # -- writing ----------------------------------------------------------------------------------

    def _channel_values(self) -> dict[str, Any]:
        """The config's channel secrets and what they turn on, by key path (lists as written)."""
        a = self.answers
        values: dict[str, Any] = {}
        if a.stock_secret:
            values["woocommerce.plugin_secret"] = a.stock_secret
        if a.events_secret:
            values["webhooks.shop_secrets"] = [a.events_secret]
        if a.odoo_webhook_secret:
            values["webhooks.odoo_secrets"] = [a.odoo_webhook_secret]
        if a.native_token:
            values["webhooks.native_tokens"] = [a.native_token]
        if a.orders:
            values["orders.enabled"] = True
        return values

    def _encryption(self) -> dict[str, bool]:
        """Which secrets to encrypt, by key path."""
        a = self.answers
        secrets = {"odoo.password": ("the Odoo password", a.odoo_password),
                   "woocommerce.consumer_key": ("the consumer key", a.consumer_key),
                   "woocommerce.consumer_secret": ("the consumer secret", a.consumer_secret)}
        channels = [path for path in self._channel_values() if path != "orders.enabled"]
        if a.encrypt is not None or not self.interactive:
            chosen = dict.fromkeys([*secrets, *channels], a.encrypt is not False)
        else:
            self.say("\nSecrets: encrypted (enc:...) with a key file beside the config, or "
                     "written as typed (the config is made readable by you only either way)")
            chosen = {path: click.confirm(f"Encrypt {label} in the config?", default=True)
                      for path, (label, _) in secrets.items()}
            if channels:
                # One question for all: they are made alike and kept alike.
                both = click.confirm(f"Encrypt the channel secrets ({', '.join(channels)}) in "
                                     f"the config?", default=True)
                chosen.update(dict.fromkeys(channels, both))
        channel_values = self._channel_values()
        for path in channels:
            secrets[path] = (path, "".join(channel_values[path]) if isinstance(
                channel_values[path], list) else channel_values[path])
        for path, (label, value) in secrets.items():
            if not chosen[path] and value and ("${" in value or value.startswith("enc:")):
                # Read literally, `${NAME}` would be taken from the environment and `enc:` decrypted.
                self.say(f"  {label} holds '${{' or starts with 'enc:': encrypted so that it is "
                         f"read as typed")
                chosen[path] = True
        return chosen

    def _write(self) -> Written:
        a = self.answers
        chosen = self._encryption()
        values: dict[str, Any] = {
            "odoo.url": a.odoo_url, "odoo.database": a.odoo_database,
            "odoo.username": a.odoo_user, "odoo.password": a.odoo_password,
            "odoo.warehouses": a.warehouses, "odoo.stock_field": a.stock_field,
            "woocommerce.url": a.shop_url, "woocommerce.consumer_key": a.consumer_key,
            "woocommerce.consumer_secret": a.consumer_secret,
            **self._channel_values(),
        }
        directory = self.target.parent
        new_key_file = None
        if any(chosen.values()):
            beside = directory / KEY_FILE_NAME
            try:
                key, source = secret.load_key(beside)
            except secret.SecretError as error:
                raise SetupError(str(error), EXIT_CONFIG) from None
            directory.mkdir(parents=True, exist_ok=True)
            if key is None:
                key, source = secret.generate_key(), f"key file {beside}"
                fd = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(key + "\n")
                new_key_file = beside
                self.say(f"\nwrote {beside} (mode 0600): the key of the enc: values; keep it "
                         f"with the config and back it up")
            else:
                self.say(f"\nencrypting with the key from {source}")
            if source == f"key file {beside}":
                values["secret_key_file"] = KEY_FILE_NAME
            else:
                where = secret.KEY_ENV if source == f"${secret.KEY_ENV}" else secret.KEY_FILE_ENV
                self.say(f"  the daemon and `woodoo check` read it from ${where}: set it for them too")
            for path, encrypt in chosen.items():
                if encrypt and isinstance(values[path], list):
                    values[path] = [secret.encrypt(item, key) for item in values[path]]
                elif encrypt:
                    values[path] = secret.encrypt(values[path], key)
        text = render(example_text(), values)
        try:
            config_module.parse(text, base_dir=directory, source=str(self.target))
        except config_module.ConfigError as error:  # a bug: the answers were all checked
            if new_key_file is not None:
                new_key_file.unlink()  # nothing half-done: no key without its config
            raise SetupError("the config made from the answers is invalid: "
                             + "; ".join(error.problems), EXIT_CONFIG) from None
        directory.mkdir(parents=True, exist_ok=True)
        temporary = self.target.with_name(f".{self.target.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, self.target)
        self.say(f"wrote {self.target} (mode 0600, every key explained in its comments)")
        return Written(self.target, new_key_file)

    # -- after writing: the other sides ------------------------------------------------------------

    def _after_write(self, written: Written) -> Written:
        """Say what goes into wp-config.php and Odoo; set Odoo's parameters and rule if agreed.

        The config is written first: it holds the secrets, so none is lost whatever fails here.
        A failure says what is left to do, by hand or by command, and stops before the check.
        """
        a = self.answers
        try:
            if self.plugin.active:
                self._wp_config_lines()
            if self.mode == "signed":
                written = self._odoo_parameters(written)
            if self.mode and a.webhooks:
                written = self._webhooks(written)
            elif self.mode:
                self.say(f"\nOdoo's automation rule, when you want it: woodoo odoo setup-webhooks "
                         f"-c {self.target} --mode {self.mode} --url {a.daemon_url}"
                         + (" --token <webhooks.native_tokens[0]>" if self.mode == "native" else ""))
        except (click.Abort, KeyboardInterrupt):
            raise SetupError(f"stopped; {self.target} is written, Odoo was not changed further "
                             f"than said above", EXIT_INTERRUPTED) from None
        return written

    def _wp_config_lines(self) -> None:
        """The exact lines the plugin reads from wp-config.php (shown once: copy them)."""
        a = self.answers
        assert a.daemon_url and a.events_secret and a.stock_secret
        self.say("\nwp-config.php: add these lines above \"/* That's all, stop editing! */\" (they "
                 "win over WooCommerce > Settings > Woodoo and lock its fields; the secrets are "
                 "shown this once, keep them out of tickets and chats):")
        for name, value in ((WP_DAEMON_URL, a.daemon_url + SHOP_EVENTS_PATH),
                            (WP_EVENTS_SECRET, a.events_secret), (WP_STOCK_SECRET, a.stock_secret)):
            click.echo(f"  define( {php_string(name)}, {php_string(value)} );")
        self.say("  the plugin's Send test event button (WooCommerce > Settings > Woodoo) then "
                 "proves the pair once the daemon runs")
        if self.interactive:
            click.prompt("Press Enter once wp-config.php has these lines (the closing check "
                         "reads the shop through the plugin)", default="", show_default=False)
        elif "stock_secret" in self.made:
            self.say("  the closing check reads the shop through the plugin: it fails until "
                     "wp-config.php has these lines")

    def _odoo_parameters(self, written: Written) -> Written:
        """Set the module's system parameters through Odoo's API, or say what to set by hand."""
        a = self.answers
        assert a.daemon_url and a.odoo_webhook_secret
        url_key, secret_key = odoo_setup.parameter_keys(self.shop)
        have = {url_key: self.parameters.get(odoo_setup.PARAM_URL, ""),
                secret_key: self.parameters.get(odoo_setup.PARAM_SECRET, "")}
        # The full endpoint: the module takes a URL with a path (a proxy's prefix) as it is.
        endpoint = a.daemon_url + odoo_setup.SIGNED_PATH
        if odoo_setup.module_endpoint(have[url_key]) == endpoint:
            endpoint = have[url_key]  # the same place, spelled as Odoo has it: left alone
        wanted = {url_key: endpoint, secret_key: a.odoo_webhook_secret}
        if self.shop is not None:
            # A named shop's daemon is a target of its own, sent to once the list names it.
            have[odoo_setup.PARAM_TARGETS] = ",".join(self.targets)
            wanted[odoo_setup.PARAM_TARGETS] = ",".join(dict.fromkeys([*self.targets, self.shop]))
        if have == wanted:
            self.say(f"\nOdoo's system parameters {', '.join(wanted)} already hold these values")
            return Written(written.config, written.key_file, odoo_parameters=True)
        if not a.set_odoo_parameters:
            self.say("\nOdoo, Settings > Technical > System Parameters (developer mode): set "
                     "these (the secret is shown this once):")
            for key, value in wanted.items():
                click.echo(f"  {key} = {value}")
            return written
        changed = [key for key, value in wanted.items() if have[key] != value]
        try:
            odoo_setup.set_parameters(self._gateway(), {k: wanted[k] for k in changed})
        except (OdooError, ProblemsError) as error:
            raise SetupError(self.redact(
                f"{self.target} is written, but setting Odoo's system parameters failed "
                f"({error}); Odoo keeps the ones it had. Set {odoo_setup.PARAM_URL} and "
                f"{odoo_setup.PARAM_SECRET} by hand (Settings > Technical > System Parameters; "
                f"the secret is webhooks.odoo_secrets[0] in the config), or run `woodoo init` "
                f"again"), EXIT_REMOTE) from None
        was = have[url_key] or "not set"
        self.say(f"\nset in Odoo: {', '.join(changed)} ({url_key} was {was}, now "
                 f"{wanted[url_key]})")
        return Written(written.config, written.key_file, odoo_parameters=True)

    def _webhooks(self, written: Written) -> Written:
        """`woodoo odoo setup-webhooks` in the chosen mode, with the config just written."""
        a = self.answers
        assert self.mode and a.daemon_url
        self.say(f"\nOdoo's automation rule ({self.mode} mode)")
        try:
            config = config_module.load(self.target)
            gateway = self._gateway(config)
            plan = odoo_setup.plan_webhooks(gateway, mode=self.mode, daemon_url=a.daemon_url,
                                            token=a.native_token, shop=config.shop.name)
            odoo_setup.apply_webhooks(gateway, plan)
        except (OdooError, ProblemsError) as error:
            problems = "; ".join(error.problems) if isinstance(error, ProblemsError) else str(error)
            raise SetupError(self.redact(
                f"{self.target} is written, but setting up Odoo's automation rule failed: "
                f"{problems}. Fix that, then run `woodoo odoo setup-webhooks -c {self.target} "
                f"--mode {self.mode} --url {a.daemon_url}`"), EXIT_REMOTE) from None
        for planned in plan:
            self.say(f"  {planned.operation}: {planned.name}")
        return Written(written.config, written.key_file, written.odoo_parameters, webhooks=True)

    def _gateway(self, config: config_module.Config | None = None) -> OdooGateway:
        """A connected Odoo gateway: the written config's, or one from the answers."""
        a = self.answers
        if config is not None:
            gateway = OdooGateway(config.odoo, NO_RETRIES)
        else:
            settings = config_module.OdooConfig(
                url=a.odoo_url, database=a.odoo_database, username=a.odoo_user,
                password=a.odoo_password, warehouses=a.warehouses)
            gateway = OdooGateway(settings, NO_RETRIES)
        gateway.connect()
        return gateway
