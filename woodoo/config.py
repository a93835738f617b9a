"""The YAML config: schema, loading, secret resolution and clear error messages."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from woodoo import secret
from woodoo.errors import ProblemsError
from woodoo.limits import oversized
from woodoo.rules import StockPolicy

SECRET_KEYS = frozenset({"password", "consumer_key", "consumer_secret", "odoo_secrets", "shop_secrets",
                         "plugin_secret", "native_tokens", "slack_webhook_url"})
MAX_CONFIG_DEPTH = 12
MAX_CONFIG_VALUES = 100_000
MAX_KEY_SHOWN = 100  # an unknown key is echoed in an error, cut to this many characters
MAX_SECRETS_NAMED = 8  # a warning names this many plain-text secrets, then counts the rest
# Keys renamed since an earlier release: the error says what to write instead.
RENAMED = {
    ("webhooks", "secrets"): "split by channel in 0.2: webhooks.odoo_secrets (the Odoo module), "
                             "webhooks.shop_secrets (the plugin's events) and "
                             "woocommerce.plugin_secret (our writes to the plugin), each its own",
}
_MAKE_ONE = "make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


class ConfigError(ProblemsError):
    """The config is wrong; `problems` holds one line per problem, each naming the key path."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_http_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError("must be a full http:// or https:// URL, e.g. https://shop.example.com")
    return value.rstrip("/")


class OdooConfig(_Section):
    """How to reach Odoo and which stock figure to read."""

    url: str = Field(description="URL of the Odoo server, e.g. https://mycompany.odoo.com")
    database: str = Field(min_length=1, description="Odoo database name")
    username: str = Field(min_length=1, description="login of the Odoo user Woodoo acts as")
    password: SecretStr = Field(description="that user's password or API key")
    warehouses: list[str] = Field(
        min_length=1, description="warehouse codes or names whose stock is summed, e.g. [WH]"
    )
    stock_field: Literal["free_qty", "qty_available", "virtual_available"] = "free_qty"
    sku_field: Literal["default_code", "barcode"] = "default_code"
    timeout: float = Field(30, gt=0, le=600, description="seconds to wait for one Odoo call")
    page_size: int = Field(1000, ge=10, le=10000, description="records per paged Odoo read")

    _check_url = field_validator("url")(_check_http_url)


class WooCommerceConfig(_Section):
    """How to reach the WooCommerce REST API."""

    url: str = Field(description="the shop's WordPress home URL exactly, e.g. https://shop.example.com")
    consumer_key: SecretStr = Field(description="REST API consumer key (ck_...)")
    consumer_secret: SecretStr = Field(description="REST API consumer secret (cs_...)")
    verify_tls: bool = True
    timeout: float = Field(
        30, gt=0, le=600,
        description="seconds for one request; a 100-item batch takes up to ~6 s on a real store",
    )
    query_string_auth: bool = Field(
        False, description="send keys as query parameters (https only) for hosts that drop the "
        "Authorization header",
    )
    concurrency: int = Field(4, ge=1, le=16, description="parallel requests for reads and writes")
    conditional_writes: bool = Field(
        False, description="write stock through the Woodoo Companion plugin's compare-and-set "
        "route, so a checkout between our read and our write is never overwritten (needs the "
        "plugin and woocommerce.plugin_secret)",
    )
    plugin_secret: SecretStr | None = Field(
        None, description="HMAC secret our stock writes to the Woodoo Companion plugin are signed "
        "with (the plugin's stock secret; 32+ characters)",
    )
    unexplained_hold_minutes: float = Field(
        30, gt=0, description="how long a stock drop in the shop that no order event explains "
        "yet is held back from what Woodoo writes",
    )

    _check_url = field_validator("url")(_check_http_url)


class StockStatusConfig(_Section):
    """How the shop's stock status follows the quantity."""

    out_of_stock_threshold: int = Field(0, ge=0, description="quantity at or below which a product is out")
    backorders: Literal["respect_product", "never"] = "respect_product"


class SyncConfig(_Section):
    """What to sync, how often and by which rules."""

    poll_interval: float = Field(60, ge=1, le=86400, description="seconds between two Odoo polls")
    batch_size: int = Field(100, ge=1, le=100, description="items per WooCommerce batch (max 100)")
    stock_buffer: int = Field(0, ge=0, description="units held back from the shop (never below 0)")
    negative_stock_to_zero: bool = True
    stock_status: StockStatusConfig = StockStatusConfig()
    exclude_skus: list[str] = Field(default_factory=list, description="SKUs Woodoo never touches")
    skus: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100,
        description="only SKUs matching one of these shell-style patterns are synced "
        "(E2E-*, WDG-10??); empty: every SKU",
    )
    delta_overlap: float = Field(
        120, ge=0, le=3600,
        description="seconds re-read before the watermark, for clock skew and late commits",
    )
    retries: int = Field(4, ge=0, le=10, description="retries of a failed remote call")
    retry_base_seconds: float = Field(1.0, ge=0, le=60, description="first backoff; it doubles")
    sku_recheck_interval: float = Field(
        3600, ge=0, description="seconds before an SKU unknown to the shop is looked up again"
    )

    def policy(self) -> StockPolicy:
        """The stock rules as the pure rule functions take them."""
        return StockPolicy(
            buffer=self.stock_buffer,
            negative_to_zero=self.negative_stock_to_zero,
            out_of_stock_threshold=self.stock_status.out_of_stock_threshold,
            backorders=self.stock_status.backorders,
        )


class ServerConfig(_Section):
    """Where the daemon's HTTP endpoints (webhooks, health, metrics) listen."""

    host: str = Field("127.0.0.1", description="address to bind; keep it local behind a proxy")
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0: any free port)")
    threads: int = Field(8, ge=1, le=64, description="request threads (waitress)")
    connection_limit: int = Field(
        1000, ge=10, le=10000,
        description="open connections served at once; idle or slow clients beyond it wait",
    )
    channel_timeout: float = Field(
        30, ge=1, le=600, description="seconds an idle or stalled connection is kept open"
    )
    request_timeout: float = Field(
        10, ge=1, le=600, description="seconds a request may take to arrive whole (headers and "
        "body); a client still sending after it is dropped, however steadily it drips"
    )


class WebhooksConfig(_Section):
    """Signed Odoo events and Odoo's native (unsigned) webhook notifications."""

    odoo_secrets: list[SecretStr] = Field(
        default_factory=list, max_length=4,
        description="HMAC secrets accepted on /webhooks/odoo from the Odoo module (several while "
        "rotating; 32+ characters)",
    )
    shop_secrets: list[SecretStr] = Field(
        default_factory=list, max_length=4,
        description="HMAC secrets accepted on /webhooks/woocommerce from the WordPress plugin "
        "(several while rotating; 32+ characters)",
    )
    native_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="URL tokens accepted on /webhooks/odoo-native/<token> (32+ characters)",
    )
    tolerance: int = Field(300, ge=30, le=3600, description="seconds a signed timestamp may be off")
    max_body_bytes: int = Field(65536, ge=1024, le=1048576, description="largest accepted body")
    reread_after: list[float] = Field(
        default_factory=lambda: [1.0, 5.0], min_length=1,
        description="seconds after receipt at which Odoo is read (it sends before it commits)",
    )
    native_rate_limit: float = Field(
        50, gt=0, description="native notifications accepted per second (a forged call costs a read)"
    )
    lease_seconds: float = Field(60, ge=5, description="how long a worker owns claimed events")


    @field_validator("reread_after")
    @classmethod
    def _ascending(cls, delays: list[float]) -> list[float]:
        if any(d < 0 for d in delays) or delays != sorted(delays):
            raise ValueError("must be ascending non-negative seconds, e.g. [1, 5]")
        return delays


ShopStatus = Literal["pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                     "failed", "checkout-draft"]


class OrdersConfig(_Section):
    """Shop orders: pending stock, and sale orders in Odoo."""

    enabled: bool = Field(False, description="take order events from the WordPress plugin")
    create_sale_orders: bool = Field(
        True, description="create and confirm a sale order in Odoo for each shop order "
        "(false: only hold its quantities as pending until Odoo has the order)",
    )
    default_partner: str | None = Field(
        None, description="Odoo partner (email or numeric id) for every shop order; "
        "empty: find or create the customer's partner by email",
    )
    sale_order_statuses: list[ShopStatus] = Field(
        default_factory=lambda: ["processing", "completed", "on-hold"],
        description="shop statuses that make a sale order in Odoo",
    )
    client_order_ref_prefix: str = Field(
        "WC-", description="prefix of the shop order number in the sale order's Customer Reference"
    )
    stuck_after_hours: float = Field(24, gt=0, description="pending orders older than this are reported")
    backfill_interval: float = Field(
        300, ge=0, le=86400,
        description="seconds between two reads of the shop's recently changed orders, which "
        "bring orders whose event never arrived (0: only at start and before a full sync or "
        "reconciliation)",
    )
    max_line_quantity: int = Field(
        100_000, ge=1, le=1_000_000_000, strict=True,
        description="largest quantity accepted on one order line; a larger one is refused",
    )


class AlertsConfig(_Section):
    """When staff are told that something is wrong, and where (email: the smtp section)."""

    email: bool = Field(True, description="email alerts to smtp.recipients (when smtp.host is set)")
    slack_webhook_url: SecretStr | None = Field(
        None, description="a Slack incoming webhook (Mattermost and Teams accept the same)",
    )
    check_interval: float = Field(60, ge=10, le=3600, description="seconds between two checks")
    reminder_hours: float = Field(4, gt=0, le=168, description="remind while a condition lasts")
    sync_latency_seconds: float = Field(
        120, gt=0, description="alert when Odoo change -> shop p95 over 10 minutes is above this")
    failed_pushes_per_hour: int = Field(5, ge=0, description="alert above this many an hour")
    dead_letters: int = Field(0, ge=0, description="alert above this many open dead letters")
    failed_events: int = Field(0, ge=0, description="alert above this many events set aside")
    orders_attention: int = Field(0, ge=0, description="alert above this many orders needing "
                                  "attention")
    stuck_orders: int = Field(0, ge=0, description="alert above this many stuck pending orders")
    queue_depth: int = Field(1000, ge=0, description="alert above this many waiting events")
    oldest_event_minutes: float = Field(10, gt=0, description="alert when the oldest waiting "
                                        "event has been due longer")
    poll_age_minutes: float = Field(10, gt=0, description="alert when no poll finished for this "
                                    "long (at least three poll intervals)")
    unreachable_minutes: float = Field(0, ge=0, description="alert when Odoo or the shop has "
                                       "been unreachable this long (0: as soon as its breaker opens)")
    drift_items: int = Field(10, ge=0, description="alert when a reconciliation finds more "
                             "drifted SKUs")
    drift_units: int = Field(100, ge=0, description="alert when a reconciliation finds more "
                             "drifted units")


class BreakerConfig(_Section):
    """When calls to a side that is down stop, and for how long (per side: Odoo, the shop)."""

    failures: int = Field(5, ge=1, le=100, description="consecutive failures that open it")
    cooldown: float = Field(10, ge=1, le=3600, description="first pause in seconds; it doubles "
                            "while the side stays down")
    max_cooldown: float = Field(300, ge=1, le=86400, description="the longest pause")


class ReconciliationConfig(_Section):
    """The nightly full comparison of both sides, and its report."""

    enabled: bool = Field(True, description="run it on the schedule inside `woodoo run`")
    schedule: str = Field("0 2 * * *", description="cron line (minute hour day month weekday)")
    timezone: str = Field("UTC", description="the store's time zone, e.g. Europe/Brussels")
    correct: bool = Field(True, description="correct drift (false: report only)")
    catch_up_hours: float = Field(
        6, ge=0, le=72, description="a run missed while the daemon was down runs once at start-up "
        "if it was due at most this long ago",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as Europe/Paris") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value)
        except ValueError as error:
            raise ValueError(f"not a cron line ({error}); e.g. '0 2 * * *' for 02:00") from None
        return value


class SmtpConfig(_Section):
    """Where the reconciliation report is emailed (no host: saved only)."""

    host: str | None = Field(None, description="SMTP server; empty: reports are only saved")
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field("woodoo@localhost", description="From address")
    recipients: list[str] = Field(default_factory=list, description="staff who get the report")
    timeout: float = Field(30, gt=0, le=300)


MAX_SHOP_NAME = 64


def shop_name_problem(value: str) -> str | None:
    """Why `value` cannot name a shop (None when it can): it goes into mail subjects, log lines
    and metric labels, where a line break could forge a header and a long name buries the rest."""
    if not value.strip():
        return "must not be blank"
    if len(value) > MAX_SHOP_NAME:
        return f"must be at most {MAX_SHOP_NAME} characters, got {len(value)}"
    if not value.isprintable():
        return "must be printable on one line (no line breaks, tabs or control characters)"
    if value != value.strip():
        return "must not start or end with spaces"
    return None


class ShopConfig(_Section):
    """Which shop this daemon serves, as its status, logs, mails and metrics name it."""

    name: str | None = Field(
        None, description="the shop's name in status, logs, alert and report subjects and "
        "metrics; empty: the config file's name (shop-a for shop-a.yaml; the shop URL's host "
        "for woodoo.yaml)",
    )

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and (problem := shop_name_problem(value)):
            raise ValueError(f"{problem}; e.g. shop-a")
        return value


class StateConfig(_Section):
    """Where Woodoo keeps its SQLite state."""

    path: Path = Field(Path("woodoo.sqlite"), description="path of the SQLite database")


class LoggingConfig(_Section):
    """Log level and format."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: readable on a terminal, JSON lines otherwise"
    )


class Config(_Section):
    """The whole Woodoo config."""

    shop: ShopConfig = ShopConfig()
    odoo: OdooConfig
    woocommerce: WooCommerceConfig
    sync: SyncConfig = SyncConfig()
    orders: OrdersConfig = OrdersConfig()
    reconciliation: ReconciliationConfig = ReconciliationConfig()
    smtp: SmtpConfig = SmtpConfig()
    server: ServerConfig = ServerConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    alerts: AlertsConfig = AlertsConfig()
    circuit_breaker: BreakerConfig = BreakerConfig()
    state: StateConfig = StateConfig()
    logging: LoggingConfig = LoggingConfig()
    secret_key_file: Path | None = Field(None, description="file holding the key for enc: values")
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @property
    def shop_name(self) -> str:
        """The shop's name: `shop.name`, else (a config not read from a file) the shop's host."""
        return self.shop.name or urlparse(self.woocommerce.url).hostname or "shop"

    @property
    def warnings(self) -> tuple[str, ...]:
        """What is allowed but unsafe in this config, one line per key: the key, why, the fix."""
        return self._warnings

    def channel_secrets(self) -> dict[str, str]:
        """Each HMAC secret and URL token by its key path, e.g. `webhooks.odoo_secrets[0]`."""
        found = {f"webhooks.{name}[{i}]": value.get_secret_value()
                 for name in ("odoo_secrets", "shop_secrets", "native_tokens")
                 for i, value in enumerate(getattr(self.webhooks, name))}
        if self.woocommerce.plugin_secret is not None:
            found["woocommerce.plugin_secret"] = self.woocommerce.plugin_secret.get_secret_value()
        return found

    def secret_values(self) -> list[str]:
        """Every secret in the config, so that logs and errors can redact them."""
        secrets = [self.odoo.password.get_secret_value(),
                   self.woocommerce.consumer_key.get_secret_value(),
                   self.woocommerce.consumer_secret.get_secret_value(),
                   *self.channel_secrets().values(),
                   *([self.smtp.password.get_secret_value()] if self.smtp.password else []),
                   *([self.alerts.slack_webhook_url.get_secret_value()]
                     if self.alerts.slack_webhook_url else [])]
        return [s for s in secrets if s]


def channel_problems(config: Config) -> list[str]:
    """What is wrong with the secrets that sign each channel: too short, shared, or missing.

    Fail closed: a short secret can be guessed, an empty one signs anything, and a secret used
    on two channels lets whoever holds it for one (e.g. Odoo's system parameters) speak on the
    other (create confirmed sale orders, write the shop's stock).
    """
    problems = []
    first_path: dict[str, str] = {}
    for path, value in config.channel_secrets().items():
        if weakness := secret.channel_weakness(value):
            problems.append(f"{path}: {weakness}; {_MAKE_ONE}")
        elif value in first_path:
            problems.append(f"{path}: the same value as {first_path[value]}; each channel needs "
                            f"its own secret, so that one leaked secret opens one door")
        else:
            first_path[value] = path
    if config.woocommerce.conditional_writes and config.woocommerce.plugin_secret is None:
        problems.append("woocommerce.plugin_secret: missing; woocommerce.conditional_writes "
                        "writes through the plugin, which checks our writes with this secret")
    if config.orders.enabled and not config.webhooks.shop_secrets:
        problems.append("webhooks.shop_secrets: missing; orders.enabled takes order events from "
                        "the plugin, signed with one of these secrets")
    return problems


def load(path: Path) -> Config:
    """Read, resolve and validate the config at `path`; raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file; create one with `woodoo init {path}`"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse(text, base_dir=path.parent, source=str(path), file_mode=path.stat().st_mode,
                 file_name=path.stem)


def parse(text: str, *, base_dir: Path = Path("."), source: str = "config",
          file_mode: int | None = None, file_name: str | None = None) -> Config:
    """Validate config text; relative paths are taken from `base_dir`, `file_mode` (the file's,
    when it came from one) tells whether others can read the secrets written in it, and
    `file_name` (the file's name without .yaml) names the shop when `shop.name` does not."""
    try:
        raw = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError([f"{source}: nested too deeply to be a Woodoo config"]) from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}: not valid YAML{where}: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: expected a mapping with sections odoo, woocommerce, sync, ..."])
    # Before anything walks it recursively: YAML aliases can make a few lines hold billions of
    # values, and a deep one would exhaust the stack.
    oversize = [f"{_dotted((key,))}: {problem}; a Woodoo config is far smaller (check for YAML "
                f"aliases that repeat a list)"
                for key, value in raw.items()
                if (problem := oversized(value, max_depth=MAX_CONFIG_DEPTH,
                                         max_nodes=MAX_CONFIG_VALUES))]
    if oversize:
        raise ConfigError(oversize)

    key_file = raw.get("secret_key_file")
    key_path = _relative_to(Path(key_file), base_dir) if isinstance(key_file, str) else None
    if key_path is None and (base_dir / "woodoo.key").exists():
        key_path = base_dir / "woodoo.key"
    problems: list[str] = []
    try:
        key, key_source = secret.load_key(key_path)
    except secret.SecretError as exc:
        key, key_source = None, "nowhere"
        problems.append(f"secret_key_file: {exc}")
    plaintext: list[str] = []
    resolved = _resolve_strings(raw, (), key, key_source, problems, plaintext)
    try:
        config = Config.model_validate(resolved)
    except ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors())
        raise ConfigError(problems) from None
    problems.extend(channel_problems(config))
    if problems:
        raise ConfigError(problems)
    state_path = _relative_to(config.state.path, base_dir)
    config = config.model_copy(update={"state": StateConfig(path=state_path),
                                       "shop": ShopConfig(name=_default_name(config, file_name))})
    config._warnings = tuple(config_warnings(config, plaintext, source, file_mode))
    return config


def config_warnings(config: Config, plaintext: list[str], source: str,
                    file_mode: int | None) -> list[str]:
    """What a config may say but should not: secrets others can read, TLS left unchecked, a
    listener off loopback; each names the key, why it matters and what to do.

    Warnings, not refusals: each has a legitimate use (a config mounted read-only in a
    container of one user, a staging shop with a self-signed certificate, a container that must
    listen on 0.0.0.0), and refusing would stop a running shop's stock sync at its next restart.
    """
    found = []
    if plaintext and file_mode is not None and file_mode & 0o077:
        who = "every user of this machine" if file_mode & 0o004 else "its group"
        named = ", ".join(plaintext[:MAX_SECRETS_NAMED]) + (
            f" and {len(plaintext) - MAX_SECRETS_NAMED} more"
            if len(plaintext) > MAX_SECRETS_NAMED else "")
        found.append(f"{named}: secrets written in plain text in {source}, which {who} can read "
                     f"(mode {file_mode & 0o777:o}); run `chmod 600 {source}` as the daemon's "
                     f"user, or write each as an enc: value (`woodoo secret encrypt`) or a "
                     f"${{ENV_VAR}}")
    if not config.woocommerce.verify_tls:
        found.append("woocommerce.verify_tls: false: the shop's TLS certificate is not checked, "
                     "so whoever sits between the daemon and the shop can read the REST keys and "
                     "answer in the shop's place; set it to true (for a self-signed certificate, "
                     "point $REQUESTS_CA_BUNDLE at a file holding it instead)")
    if not _loopback(config.server.host):
        found.append(f"server.host: {config.server.host[:MAX_KEY_SHOWN]!r} is not a loopback "
                     f"address, so /healthz, /readyz and /metrics (and the webhooks, past your "
                     f"TLS proxy) can be reached from the network; set it to 127.0.0.1 behind "
                     f"the proxy, or firewall the port (in a container, publish it on 127.0.0.1 "
                     f"only)")
    return found


def _default_name(config: Config, file_name: str | None) -> str | None:
    """`shop.name`, else the config file's name: the systemd template's instance (shop-a for
    /etc/woodoo/shop-a.yaml); not the generic woodoo.yaml, nor a name that is not a fit."""
    if config.shop.name is not None:
        return config.shop.name
    if file_name and file_name != "woodoo" and shop_name_problem(file_name) is None:
        return file_name
    return None


def _loopback(host: str) -> bool:
    """True when `host` only listens on this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost, or "" (every interface)


def _relative_to(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else base_dir / path


def _resolve_strings(
    node: Any, path: tuple[str | int, ...], key: str | None, key_source: str, problems: list[str],
    plaintext: list[str],
) -> Any:
    """`node` with every string resolved; problems and the paths of plain-text secrets noted."""
    if isinstance(node, dict):
        return {k: _resolve_strings(v, (*path, k), key, key_source, problems, plaintext)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_strings(v, (*path, i), key, key_source, problems, plaintext)
                for i, v in enumerate(node)]
    if isinstance(node, str):
        if any(part in SECRET_KEYS for part in path) and secret.is_plaintext(node):
            plaintext.append(_dotted(path))
        try:
            return secret.resolve(node, key, key_source)
        except secret.SecretError as exc:
            problems.append(f"{_dotted(path)}: {exc}")
            return node
    return node


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        shown = str(part)[:MAX_KEY_SHOWN]
        out += f"[{part}]" if isinstance(part, int) else (f".{shown}" if out else shown)
    return out or "(top level)"


def _field_hint(loc: tuple[str | int, ...]) -> str | None:
    model: type[BaseModel] | None = Config
    hint = None
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return hint
        info = model.model_fields[part]
        hint = info.description
        annotation = info.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return hint


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    path = _dotted(loc)
    kind = error["type"]
    hint = _field_hint(loc)
    if kind == "extra_forbidden" and tuple(loc) in RENAMED:
        return f"{path}: {RENAMED[tuple(loc)]}"
    if kind == "extra_forbidden":
        known = ", ".join(_known_keys(loc[:-1]))
        return f"{path}: unknown key; remove it or use one of: {known}"
    if kind == "missing":
        return f"{path}: missing; set it to {hint}" if hint else f"{path}: missing"
    is_secret = any(part in SECRET_KEYS for part in loc)
    shown = "(a secret)" if is_secret else repr(error.get("input"))
    message = error["msg"].removeprefix("Value error, ")
    text = f"{path}: {message}, got {shown}"
    return f"{text} ({hint})" if hint else text
