"""What `woodoo init` asks: each answer's flag and environment variable, the rules an answer
must meet as it is typed or given, and what to try when a remote refuses one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

import click

from woodoo import config as config_module
from woodoo import secret
from woodoo.gateways import odoo_setup

MAX_URL = 2000  # the plugin's sanitize_url refuses longer
# The plugin reads these wp-config.php constants (class-woodoo-settings.php) before its options.
WP_DAEMON_URL, WP_EVENTS_SECRET, WP_STOCK_SECRET = (
    "WOODOO_DAEMON_URL", "WOODOO_EVENTS_SECRET", "WOODOO_STOCK_SECRET")

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
    "daemon_url": ("--daemon-url", "WOODOO_PUBLIC_URL"),
    "stock_secret": ("--stock-secret", "WOODOO_STOCK_SECRET"),
    "events_secret": ("--events-secret", "WOODOO_EVENTS_SECRET"),
    "odoo_webhook_secret": ("--odoo-webhook-secret", "WOODOO_ODOO_WEBHOOK_SECRET"),
    "native_token": ("--native-token", "WOODOO_NATIVE_TOKEN"),
    "orders": ("--orders/--no-orders", ""),
    "webhooks": ("--webhooks/--no-webhooks", ""),
    "set_odoo_parameters": ("--set-odoo-parameters/--no-set-odoo-parameters", ""),
}
# The channel secrets init makes or takes: answer, what it is, where the other side keeps it.
CHANNELS = {
    "stock_secret": ("stock secret", f"wp-config.php ({WP_STOCK_SECRET})"),
    "events_secret": ("events secret", f"wp-config.php ({WP_EVENTS_SECRET})"),
    "odoo_webhook_secret": ("Odoo webhook secret", f"Odoo ({odoo_setup.PARAM_SECRET})"),
    "native_token": ("native webhook token", "Odoo's automation rule (its URL)"),
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
    daemon_url: str | None = None
    stock_secret: str | None = None
    events_secret: str | None = None
    odoo_webhook_secret: str | None = None
    native_token: str | None = None
    orders: bool | None = None
    webhooks: bool | None = None
    set_odoo_parameters: bool | None = None

    def given(self) -> bool:
        """True when any answer was given ahead."""
        return any(getattr(self, f.name) not in (None, "", []) for f in fields(self))

    def missing(self) -> list[str]:
        """The flags (and environment variables) of the required answers not given."""
        return [f"{OPTIONS[name][0]} (or ${OPTIONS[name][1]})" for name in REQUIRED
                if not getattr(self, name)]

    def secrets(self) -> list[str]:
        """The secrets answered so far (never shown)."""
        return [s for s in (self.odoo_password, self.consumer_key, self.consumer_secret,
                            *self.channel_secrets().values()) if s]

    def channel_secrets(self) -> dict[str, str]:
        """The channel secrets answered or made so far, by answer name."""
        return {name: value for name in CHANNELS if (value := getattr(self, name))}


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


_UNSAFE_URL = re.compile(r"[\s<>\"'`\\]|[^\x20-\x7e]")


def daemon_url(value: str) -> str:
    """The daemon's public base URL as the shop and Odoo reach it; an events or webhook URL
    copied from elsewhere is cut to its base. It goes into a PHP string in wp-config.php and into
    Odoo: no quotes, backslashes, blanks or characters outside printable ASCII."""
    value = value.strip()
    parsed = urlparse(value)
    if len(value) > MAX_URL or _UNSAFE_URL.search(value):
        raise click.BadParameter(
            f"the daemon URL must be a plain http(s) URL of at most {MAX_URL} printable ASCII "
            f"characters without quotes, backslashes or blanks, e.g. https://woodoo.example.com")
    try:
        parsed.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise click.BadParameter(f"{value!r} has no valid port (1 to 65535)") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or (
            parsed.fragment):
        raise click.BadParameter(
            f"{value!r} is not the daemon's base URL: a full http:// or https:// URL without a "
            f"query, e.g. https://woodoo.example.com")
    path = re.split(r"/webhooks(?:/|$)", parsed.path, maxsplit=1)[0].rstrip("/")
    base = f"{parsed.scheme}://{parsed.netloc}{path}"
    if base != value.rstrip("/"):
        click.echo(f"  using the daemon's base URL {base}")
    return base


def channel_secret(value: str) -> str:
    """A channel secret typed or given: the config's rules (secret.channel_weakness), and
    printable ASCII without blanks, as it goes into wp-config.php and Odoo as typed."""
    if weakness := secret.channel_weakness(value):
        raise click.BadParameter(f"{weakness}; or let init make one")
    if not all("\x21" <= c <= "\x7e" for c in value):
        raise click.BadParameter("use printable ASCII characters without blanks only (it is "
                                 "copied into wp-config.php and Odoo); or let init make one")
    return value


def shop_of(target: Path) -> str | None:
    """The shop a config written at `target` is for, as config.parse names it when the config
    sets no shop.name: the file's name (shop-a for shop-a.yaml), never the generic woodoo.yaml.
    Its Odoo rule and module parameters carry that name (several shops on one Odoo)."""
    stem = target.stem
    return None if stem == "woodoo" or config_module.shop_name_problem(stem) else stem


def php_string(value: str) -> str:
    """`value` as a single-quoted PHP string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def not_blank(value: str) -> str:
    """The answer without surrounding blanks; refused when nothing is left."""
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
    if "woodoo/v1" in message:
        return ("the stock secret given (--stock-secret) is not the one the shop's Woodoo "
                "Companion plugin has: compare it with WOODOO_STOCK_SECRET in wp-config.php (or "
                "WooCommerce > Settings > Woodoo), or leave it out to have one made")
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
