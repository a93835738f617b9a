"""`woodoo init`, guided: ask for both sides' addresses and keys, connect to each, let the user
pick the warehouses and the stock figure, and write the commented starter config with the answers.

Every question can be answered ahead by a flag or an environment variable (`Answers`); without a
terminal the answers must all be there. A connection problem is explained in words, with what to
try, and on a terminal the step is asked again with the previous answers as defaults.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
import yaml

from woodoo import config as config_module
from woodoo import log, secret
from woodoo.errors import ProblemsError, WoodooError
from woodoo.gateways.odoo import OdooError, OdooGateway, list_databases
from woodoo.gateways.retry import RetryPolicy
from woodoo.gateways.woocommerce import WooError, WooGateway

EXIT_CONFIG = 2
EXIT_REMOTE = 1
MIN_REDACTED = 8
KEY_FILE_NAME = "woodoo.key"  # where `config.parse` looks for a key beside the config
# Listing a shop of more pages than this (100 products each) says that it is counting.
BIG_SHOP_PAGES = 5
# The user asks again; the wizard does not retry a failed call by itself.
NO_RETRIES = RetryPolicy(retries=0, base_seconds=0)
STOCK_FIELDS = {
    "free_qty": "on hand minus reserved (default: never sells what is promised elsewhere)",
    "qty_available": "on hand, reserved units included",
    "virtual_available": "forecast: on hand + incoming - outgoing",
}


class SetupError(WoodooError):
    """The setup cannot go on; the message says why. Nothing has been written."""

    def __init__(self, message: str, exit_code: int = EXIT_REMOTE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Each answer: its flag and environment variable; required ones have no way to be found.
OPTIONS = {
    "odoo_url": ("--odoo-url", "WOODOO_ODOO_URL"),
    "odoo_database": ("--odoo-database", "WOODOO_ODOO_DATABASE"),
    "odoo_user": ("--odoo-user", "WOODOO_ODOO_USER"),
    "odoo_password": ("--odoo-password", "WOODOO_ODOO_PASSWORD"),
    "warehouses": ("--warehouse", "WOODOO_WAREHOUSES"),
    "stock_field": ("--stock-field", "WOODOO_STOCK_FIELD"),
    "shop_url": ("--shop-url", "WOODOO_SHOP_URL"),
    "consumer_key": ("--consumer-key", "WOODOO_CONSUMER_KEY"),
    "consumer_secret": ("--consumer-secret", "WOODOO_CONSUMER_SECRET"),
    "encrypt": ("--encrypt/--no-encrypt", ""),
}
# Without a terminal these must be given; the database and the warehouse are taken from Odoo
# when it has only one, the stock figure defaults to free_qty and secrets are encrypted.
REQUIRED = ("odoo_url", "odoo_user", "odoo_password", "shop_url", "consumer_key", "consumer_secret")


@dataclass
class Answers:
    """What the user answered so far (flags and environment fill it ahead)."""

    odoo_url: str | None = None
    odoo_database: str | None = None
    odoo_user: str | None = None
    odoo_password: str | None = None
    warehouses: list[str] = field(default_factory=list)
    stock_field: str | None = None
    shop_url: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    encrypt: bool | None = None

    def given(self) -> bool:
        """True when any answer was given ahead."""
        return any(getattr(self, f.name) not in (None, "", []) for f in fields(self))

    def missing(self) -> list[str]:
        """The flags (and environment variables) of the required answers not given."""
        return [f"{OPTIONS[name][0]} (or ${OPTIONS[name][1]})" for name in REQUIRED
                if not getattr(self, name)]

    def secrets(self) -> list[str]:
        """The secrets answered so far (never shown)."""
        return [s for s in (self.odoo_password, self.consumer_key, self.consumer_secret) if s]


@dataclass(frozen=True)
class Written:
    """What the setup wrote."""

    config: Path
    key_file: Path | None  # a new key file, when one was made


class _StepFailed(Exception):
    """One attempt at a step failed: what happened, what to try, and the exit code without a
    terminal."""

    def __init__(self, problem: str, hint: str, exit_code: int = EXIT_REMOTE) -> None:
        super().__init__(problem)
        self.problem, self.hint, self.exit_code = problem, hint, exit_code


# -- answers checked as they are typed --------------------------------------------------------------


def odoo_url(value: str) -> str:
    """An Odoo server root URL; a page URL copied from the browser is cut to its root."""
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise click.BadParameter(
            f"{value!r} is not a full http:// or https:// URL, e.g. https://mycompany.odoo.com")
    root = f"{parsed.scheme}://{parsed.netloc}"
    if parsed.path.strip("/") or parsed.query or parsed.fragment:
        click.echo(f"  using the server root {root}")
    return root


def shop_url(value: str) -> str:
    """The shop's WordPress home URL; an admin or REST URL copied from the browser is cut to it."""
    value = value.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise click.BadParameter(
            f"{value!r} is not a full http:// or https:// URL, e.g. https://shop.example.com")
    path = re.split(r"/(?:wp-admin|wp-json|wp-login\.php)\b", parsed.path, maxsplit=1)[0]
    home = f"{parsed.scheme}://{parsed.netloc}{path}".rstrip("/")
    if home != value.rstrip("/"):
        click.echo(f"  using the WordPress home URL {home}")
    return home


def _not_blank(value: str) -> str:
    if not value.strip():
        raise click.BadParameter("an answer is needed")
    return value.strip()


# -- hints: what to try after each kind of failure --------------------------------------------------


def odoo_hint(message: str) -> str:
    """What to try after an Odoo failure, from the gateway's message."""
    if "refused the login" in message:
        return ("check the login (the user's email or login name), the password or API key (an "
                "API key is made under Preferences -> Account Security; it works wherever a "
                "password does, and is required when the user has two-factor authentication), "
                "and the database")
    if "stock.warehouse" in message:
        return ("install the Inventory app in this database and give the user read access to "
                "Inventory")
    if "did not answer JSON" in message or "HTTP 404" in message or "HTTP 405" in message:
        return ("give the root URL of the Odoo server, as in the browser's address bar before "
                "/web or /odoo (e.g. https://mycompany.odoo.com)")
    if "cannot reach" in message or "connection to Odoo" in message or "in time" in message:
        return ("check the URL (http or https, host and port) and that this machine can reach "
                "it: open it from here with `curl -I URL`; a firewall or proxy may block it")
    if "database" in message:
        return ("check the database name: it is shown on the login page's database selector, or "
                "on odoo.com under My Databases")
    return "check the answers above; `woodoo check` reports the same problems later"


def woo_hint(message: str) -> str:
    """What to try after a WooCommerce failure, from the gateway's message."""
    if "HTTP 401" in message or "HTTP 403" in message:
        return ("make a REST API key with Read/Write permissions under WooCommerce -> Settings "
                "-> Advanced -> REST API, and copy both its consumer key (ck_...) and secret "
                "(cs_...)")
    if "HTTP 404" in message:
        return ("give the WordPress home URL (Settings -> General -> Site Address); check that "
                "WooCommerce is active and that permalinks are not set to 'Plain'")
    if "not JSON" in message:
        return "give the WordPress home URL (Settings -> General -> Site Address)"
    if "cannot reach" in message:
        return ("check the URL (http or https, host and port) and that this machine can reach "
                "it: open it from here with `curl -I URL`")
    if "did not answer" in message:
        return "the shop is slow or busy: try again in a moment"
    return "check the answers above; `woodoo check` reports the same problems later"


# -- the config text ------------------------------------------------------------------------------


def example_text() -> str:
    """The commented starter config (config/woodoo.example.yaml)."""
    return resources.files("woodoo").joinpath("data/woodoo.example.yaml").read_text()


_TOP = re.compile(r"^(?P<comment>#\s?)?(?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")
_CHILD = re.compile(r"^  (?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")
_TRAILING_COMMENT = re.compile(r"\s+#\s.*$")


def yaml_scalar(value: Any) -> str:
    """`value` as YAML on one line (quoted when it must be)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1_000_000)
    text = text.removesuffix("\n...\n").removesuffix("\n")
    if "\n" in text:
        raise ValueError("a config value must fit on one line")
    return text


def render(template: str, values: dict[str, Any]) -> str:
    """`template` (the commented example) with `values` set in place; every comment stays.

    Keys are dotted: `odoo.url` is the `url:` line of the `odoo:` section; a top-level key that
    the template only shows commented out (`# secret_key_file: ...`) is written in its place.
    """
    out: list[str] = []
    section = None
    placed: set[str] = set()
    for line in template.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        top = _TOP.match(body)
        child = _CHILD.match(body)
        if top is not None:
            key = top["key"]
            if not top["comment"]:
                section = key
            if key in values and key not in placed:
                trailing = "" if top["comment"] else _trailing(top["rest"])
                body = f"{key}: {yaml_scalar(values[key])}{trailing}"
                placed.add(key)
        elif child is not None and section is not None:
            path = f"{section}.{child['key']}"
            if path in values and path not in placed:
                body = f"  {child['key']}: {yaml_scalar(values[path])}{_trailing(child['rest'])}"
                placed.add(path)
        out.append(body + end)
    if set(values) - placed:
        raise ValueError(f"the template has no line for {', '.join(sorted(set(values) - placed))}")
    text = "".join(out)
    loaded = yaml.safe_load(text)
    for path, value in values.items():
        node = loaded
        for part in path.split("."):
            node = node[part]
        if node != value:
            raise ValueError(f"{path} did not survive the YAML round trip")
    return text


def _trailing(rest: str) -> str:
    match = _TRAILING_COMMENT.search(rest)
    return match.group(0) if match else ""


# -- the wizard ---------------------------------------------------------------------------------


class Wizard:
    """Asks (on a terminal) or takes the answers given, connects, and writes the config."""

    def __init__(self, answers: Answers, target: Path, *, interactive: bool) -> None:
        self.answers = answers
        self.target = target
        self.interactive = interactive
        self.odoo_version = ""
        self.warehouses: list[tuple[str, str]] = []  # (code, name) of every Odoo warehouse

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
            check: Callable[[str], str] = _not_blank) -> str:
        """The answer `option`: the one given ahead (on the first attempt), else asked with it
        as the default."""
        current = getattr(self.answers, option)
        if current and (first or not self.interactive):
            try:
                return check(current)
            except click.BadParameter as error:
                if not self.interactive:
                    raise SetupError(f"{OPTIONS[option][0]}: {error.message}",
                                     EXIT_CONFIG) from None
                self.say(f"  problem: {error.message}", err=True)
        return str(click.prompt(text, default=current or None, value_proc=check))

    def ask_secret(self, text: str, current: str | None, first: bool) -> str:
        """A secret, typed hidden; on a retry Enter keeps the one typed before."""
        if current and (first or not self.interactive):
            return current
        if current:
            value = click.prompt(f"{text} (hidden; Enter keeps the one typed before)", default="",
                                 show_default=False, hide_input=True)
            return value or current
        return str(click.prompt(f"{text} (hidden)", hide_input=True, value_proc=_not_blank))

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
        return self._write()

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
        self.warehouses = [(str(r["code"]), str(r["name"])) for r in rows]
        self.say(f"  connected: Odoo {self.odoo_version}, database {a.odoo_database}, "
                 f"as {a.odoo_user}")
        if not self.warehouses:
            raise _StepFailed(f"the Odoo database {a.odoo_database} has no warehouse",
                              odoo_hint("stock.warehouse"), EXIT_CONFIG)

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
            try:
                a.warehouses = resolve(",".join(wanted))
                self.say(f"  warehouses: {', '.join(a.warehouses)}")
                return
            except click.BadParameter as error:
                if not self.interactive:
                    raise SetupError(f"--warehouse: {error.message}", EXIT_CONFIG) from None
                self.say(f"  problem: {error.message}", err=True)
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
        said: list[bool] = []

        def progress(step: int, pages: int) -> None:
            if pages > BIG_SHOP_PAGES and not said:
                said.append(True)
                self.say(f"  a big shop: counting its products ({pages} pages of 100) and "
                         f"variations, this takes a moment...")

        try:
            version = gateway.version()
            self.say(f"  connected: WooCommerce {version}")
            counts = Counter(("variation" if i.type == "variation" else "product") if i.sku
                             else "without" for page in gateway.item_pages(progress) for i in page)
        except WooError as error:
            raise _StepFailed(str(error), woo_hint(str(error))) from None
        finally:
            gateway.close()
        products, variations, without = counts["product"], counts["variation"], counts["without"]
        self.say(f"  {products} products and {variations} variations have an SKU"
                 + (f" ({without} without SKU are left alone)" if without else ""))

    # -- writing ----------------------------------------------------------------------------------

    def _encryption(self) -> dict[str, bool]:
        """Which secrets to encrypt, by key path."""
        a = self.answers
        secrets = {"odoo.password": ("the Odoo password", a.odoo_password),
                   "woocommerce.consumer_key": ("the consumer key", a.consumer_key),
                   "woocommerce.consumer_secret": ("the consumer secret", a.consumer_secret)}
        if a.encrypt is not None or not self.interactive:
            chosen = dict.fromkeys(secrets, a.encrypt is not False)
        else:
            self.say("\nSecrets: encrypted (enc:...) with a key file beside the config, or "
                     "written as typed (the config is made readable by you only either way)")
            chosen = {path: click.confirm(f"Encrypt {label} in the config?", default=True)
                      for path, (label, _) in secrets.items()}
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
                if encrypt:
                    values[path] = secret.encrypt(values[path], key)
        text = render(example_text(), values)
        try:
            config_module.parse(text, base_dir=directory, source=str(self.target))
        except config_module.ConfigError as error:  # a bug: the answers were all checked
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
