"""The daemon's HTTP endpoints: signed Odoo events, Odoo's native notifications, health, metrics.

Every accepted event is committed to the SQLite queue before the 202 goes out, and nothing else
happens in the request: Odoo waits for this answer inside its own transaction.
"""

from __future__ import annotations

import hmac
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException

from woodoo import __version__, compat, log
from woodoo.config import Config
from woodoo.limits import (
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    ODOO_MAX_ID,
    EventId,
    OdooId,
    Sku,
    oversized,
)
from woodoo.orders.sync import OrderEvent, misdated, oversized_line
from woodoo.state import State
from woodoo.web import peers, signing
from woodoo.web.metrics import Metrics
from woodoo.web.status import daemon_status

NATIVE_MODELS = frozenset({"stock.quant", "stock.move"})
# Odoo's UTC datetimes, 'YYYY-MM-DD HH:MM:SS[.ffffff]'; [0-9] because \d takes any script's digits.
ODOO_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$"
# An event's Odoo time may be this far from our clock: further is a wrong clock or a forgery,
# and would skew the latency histogram.
ODOO_TIME_SKEW = 86400
MAX_FIELD_SHOWN = 100  # a rejected field's path is echoed, cut to this many characters
MAX_STATUS_BODY = 1024  # `{}` or `{"request_id": ...}`: far less
# Who signs for each route that records its caller's version (woodoo/compat.py); the status
# route only reads, so it records nothing.
CALLERS: dict[str, compat.Part] = {signing.ODOO_EVENTS: "module", signing.SHOP_EVENTS: "plugin"}


class OdooEvent(BaseModel):
    """The body of a signed Odoo stock event."""

    model_config = ConfigDict(extra="forbid", strict=True)

    event_id: EventId
    product_ids: list[OdooId] = Field(default_factory=list, max_length=5000)
    skus: list[Sku] = Field(default_factory=list, max_length=5000)
    warehouse: str | None = Field(None, max_length=100)
    odoo_time: str | None = Field(None, pattern=ODOO_TIME)
    # The module's word that Odoo runs (its cron, when it had nothing to send): names no product.
    heartbeat: bool = False


class StatusRequest(BaseModel):
    """The body of a signed status request: `{}` or a fresh request id (the answer is the same)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: str = Field("", pattern=r"^[0-9a-f]{32}$")


class Rejected(Exception):
    """A request we refuse: HTTP status, a reason code for metrics, and words for the sender."""

    def __init__(self, status: int, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.field = field


class RateLimiter:
    """A token bucket: `rate` requests per second, bursts up to one second's worth.

    Hand-written: a few lines, and no maintained library does an in-process bucket without
    pulling in a storage backend.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.tokens = rate
        self.clock = clock
        self.updated = clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Take a token if there is one."""
        with self._lock:
            now = self.clock()
            self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def create_app(
    config: Config, state: State, metrics: Metrics, *,
    readiness: Callable[[], tuple[bool, dict[str, Any], float | None]] | None = None,
    notify: Callable[[str], None] | None = None,  # word came from a side: "odoo", "woocommerce"...
    clock: Callable[[], float] = time.time,
) -> Flask:
    """The Flask application: routes over the queue in `state`."""
    app = Flask("woodoo")
    app.config["MAX_CONTENT_LENGTH"] = config.webhooks.max_body_bytes
    hooks = config.webhooks
    limiter = RateLimiter(hooks.native_rate_limit)
    delay = hooks.reread_after[0]
    logger = log.get("woodoo.web.webhooks")
    callers = peers.Recorder(state, clock)
    # Each channel has its own secrets, and each signature names its route (signing.py).
    secrets = {
        signing.ODOO_EVENTS: [s.get_secret_value() for s in hooks.odoo_secrets],
        signing.SHOP_EVENTS: [s.get_secret_value() for s in hooks.shop_secrets],
        # The plugin reads the status with its events secret: the same channel, its own route.
        signing.SHOP_STATUS: [s.get_secret_value() for s in hooks.shop_secrets],
    }

    def store(source: str, event_id: str, payload: dict[str, Any], event_time: float, *,
              wait: float = delay) -> Response:
        now = clock()
        new = state.events.enqueue(source, event_id, payload, event_time=event_time, due_at=now + wait)
        if new:
            metrics.events_received.labels(source).inc()
            if notify:
                notify(source)
        response = jsonify(status="queued" if new else "duplicate", event_id=event_id)
        response.status_code = 202
        return response

    @app.errorhandler(Rejected)
    def rejected(error: Rejected) -> tuple[Response, int]:
        source = request.path.removeprefix("/webhooks/").split("/")[0] or "unknown"
        metrics.events_rejected.labels(source, error.reason).inc()
        body: dict[str, Any] = {"error": error.reason, "message": str(error)}
        if error.field:
            body["field"] = error.field
        response = jsonify(body)
        if error.status == 429:
            response.headers["Retry-After"] = "1"
        return response, error.status

    @app.errorhandler(sqlite3.Error)
    def storage_error(error: sqlite3.Error) -> tuple[Response, int]:
        # Our disk, not the sender's input: the sender keeps the event and retries.
        logger.error("could not store the event", error=str(error))
        response = jsonify(error="storage", message="could not store the event; try again")
        response.headers["Retry-After"] = "5"
        return response, 503

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        if error.code == 413:
            return rejected(Rejected(413, "too_large",
                                     f"body larger than {hooks.max_body_bytes} bytes"))
        return jsonify(error=error.name.lower().replace(" ", "_"),
                       message=error.description), error.code or 500

    def verify(body: bytes, route: str) -> None:
        if not secrets[route]:
            raise Rejected(401, "no_secret", f"no secret is configured for {route} in this daemon")
        try:
            signing.verify(body, request.headers.get(signing.HEADER), secrets[route], route,
                           now=clock(), tolerance=hooks.tolerance)
        except signing.StaleSignature as error:
            raise Rejected(401, "stale_timestamp", str(error)) from None
        except signing.SignatureError as error:
            raise Rejected(401, "bad_signature", str(error)) from None
        g.signed = True
        g.caller = CALLERS.get(route)

    @app.after_request
    def versions(response: Response) -> Response:
        # The answer to a signed call says the daemon's version (an anonymous one does not:
        # a version tells an attacker which flaws to try); a signed call that was taken says
        # its caller's (nothing is written for a refused one).
        if g.pop("signed", False):
            response.headers[compat.HEADER] = __version__
        caller = g.pop("caller", None)
        if caller and response.status_code < 300:
            try:
                callers.heard(caller, request.headers.get("User-Agent"))
            except sqlite3.Error as error:  # a note, not the event: the answer stands
                logger.error("could not record the caller's version", error=str(error))
        return response

    @app.post("/webhooks/odoo")
    def odoo_event() -> Response:
        body = _body()
        verify(body, signing.ODOO_EVENTS)
        data = _json(body)
        try:
            event = OdooEvent.model_validate(data)
        except ValidationError as error:
            raise _schema_error(error) from None
        if event.heartbeat:
            if event.product_ids or event.skus or event.warehouse:
                raise Rejected(400, "schema", "a heartbeat names no product or warehouse",
                               "heartbeat")
            _odoo_time(event.odoo_time, clock())  # a forged far-off time is refused as anywhere
            # Nothing to store: Odoo is up, which ends a pause of the calls to it at once.
            if notify:
                notify("odoo")
            return jsonify(status="alive", event_id=event.event_id)
        if not event.product_ids and not event.skus:
            raise Rejected(400, "schema", "product_ids or skus must name at least one product",
                           "product_ids")
        if any(not s.strip() for s in event.skus):
            raise Rejected(400, "schema", "skus must not be empty strings", "skus")
        event_time = _odoo_time(event.odoo_time, clock())
        skus = sorted(set(event.skus))
        if skus and not event.product_ids:
            known = state.catalog.products(skus)
            if not known:
                # Counted, not listed: the answer never echoes what the sender sent.
                raise Rejected(422, "unknown_skus",
                               f"none of the {len(skus)} SKUs is in the shop's SKU map; if they "
                               f"are new, run `woodoo sync --full`", "skus")
            skus = sorted(known)
        payload = {"product_ids": sorted(set(event.product_ids)), "skus": skus,
                   "warehouse": event.warehouse}
        # The module sends after Odoo commits (from its cron): read at once, and once.
        return store("odoo", event.event_id, payload, event_time, wait=0)

    @app.post("/webhooks/woocommerce")
    def woocommerce_event() -> Response:
        body = _body()
        verify(body, signing.SHOP_EVENTS)
        data = _json(body)
        is_test = isinstance(data, dict) and data.get("event") == "test"  # the plugin's button
        if not is_test:
            try:
                event = OrderEvent.model_validate(data)
            except ValidationError as error:
                raise _schema_error(error) from None
            if not _same_shop(event.store_url, config.woocommerce.url):
                raise Rejected(400, "other_shop", "store_url is not the shop this daemon syncs "
                               "(woocommerce.url)", "store_url")
            too_many = oversized_line(event.order, event.refund, config.orders.max_line_quantity)
            if too_many:
                raise Rejected(400, "schema", f"{too_many}: more than orders.max_line_quantity "
                               f"({config.orders.max_line_quantity})", too_many)
            if (wrong_date := misdated(event.order, clock())) is not None:
                raise Rejected(400, "bad_date", wrong_date, "order.date_modified")
        if not config.orders.enabled:
            raise Rejected(503, "orders_disabled",
                           "order events are not enabled in the daemon (orders.enabled)")
        if is_test:
            return jsonify(status="ok", message="signature accepted; order events are enabled")
        # Sent after the shop's request finished: nothing to wait for, unlike Odoo's pre-commit
        # notifications.
        return store("woocommerce", event.event_id, data, clock(), wait=0)

    @app.post("/webhooks/status")
    def status() -> Response:
        # Read-only: a replay within the tolerance only reads the figures again.
        body = _body()
        if len(body) > MAX_STATUS_BODY:
            raise Rejected(413, "too_large", f"body larger than {MAX_STATUS_BODY} bytes")
        verify(body, signing.SHOP_STATUS)
        try:
            StatusRequest.model_validate(_json(body))
        except ValidationError as error:
            raise _schema_error(error) from None
        response = jsonify(daemon_status(config, state, clock()))
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/webhooks/odoo-native/<token>")
    def odoo_native(token: str) -> Response:
        allowed = [t.get_secret_value() for t in hooks.native_tokens]
        # compare_digest against every token: timing does not reveal how much of a guess matched.
        if not any(hmac.compare_digest(token.encode(), t.encode()) for t in allowed):
            raise Rejected(401, "bad_token", "unknown webhook token")
        if not limiter.allow():
            raise Rejected(429, "rate_limited", "too many notifications; slow down")
        data = _json(_body())
        if not isinstance(data, dict):
            raise Rejected(400, "schema", "expected a JSON object", "(body)")
        model, record_id = data.get("_model"), data.get("_id")
        # A list or object is unhashable: `in` on the frozenset would raise (a 500).
        if not isinstance(model, str) or model not in NATIVE_MODELS:
            raise Rejected(400, "schema", f"_model must be one of {sorted(NATIVE_MODELS)}", "_model")
        if not _odoo_id(record_id):
            raise Rejected(400, "schema", "_id must be the record's integer id", "_id")
        product = data.get("product_id")
        if isinstance(product, list) and product:
            product = product[0]
        if not _odoo_id(product):
            raise Rejected(400, "schema", "product_id is missing: add it to the fields the "
                           "automated action sends", "product_id")
        if model == "stock.quant" and data.get("warehouse_id") is False:
            # Customer, vendor and inventory-adjustment quants: not stock that can be sold.
            return jsonify(status="ignored", reason="quant outside any warehouse"), 202
        written = data.get("write_date")
        if written is not None and not (isinstance(written, str) and len(written) <= 26
                                        and re.fullmatch(ODOO_TIME, written)):
            raise Rejected(400, "schema", "write_date must be Odoo's 'YYYY-MM-DD HH:MM:SS'",
                           "write_date")
        try:
            event_time = _odoo_time(written, clock(), field="write_date")
        except Rejected:
            # Only a hint of when: Odoo is read anyway. Far from our clock, it would skew the
            # latency histogram, so the receipt time stands in.
            event_time = clock()
        event_id = f"{model}:{record_id}:{written or clock()}"
        # The body is only a hint of which product changed: the worker reads Odoo over RPC.
        payload = {"product_ids": [product], "skus": [], "warehouse": None}
        return store("odoo-native", event_id, payload, event_time)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        # Instant: the checks that reach out were computed in the background (daemon.Readiness);
        # `age_seconds` says how long ago (null: computed for this answer).
        ready, checks, age = readiness() if readiness else (True, {}, None)
        body = jsonify(ready=ready, checks=checks,
                       age_seconds=None if age is None else round(age, 1))
        body.headers["Cache-Control"] = "no-store"
        return body, 200 if ready else 503

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(metrics.render(), mimetype="text/plain; version=0.0.4")

    return app


def _body() -> bytes:
    if request.mimetype != "application/json":
        raise Rejected(415, "content_type",
                       f"Content-Type must be application/json, got {request.mimetype or 'none'}")
    return request.get_data(cache=True)


def _schema_error(error: ValidationError) -> Rejected:
    first = error.errors(include_input=False, include_url=False)[0]
    # A path can hold a key the sender chose (an unknown field): shown cut short.
    field = (".".join(str(part) for part in first["loc"]) or "(body)")[:MAX_FIELD_SHOWN]
    return Rejected(400, "schema", f"{field}: {first['msg']}", field)


def _json(body: bytes) -> Any:
    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not a number JSON allows")

    too_deep = Rejected(400, "too_deep", f"body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=refuse_constant)
    except RecursionError:
        raise too_deep from None  # beyond the interpreter's stack: far beyond our limit
    except (UnicodeDecodeError, ValueError) as error:
        raise Rejected(400, "malformed_json", f"body is not valid UTF-8 JSON: {error}") from None
    if oversized(data, max_depth=MAX_JSON_DEPTH, max_nodes=MAX_JSON_VALUES):
        raise too_deep
    return data


def _odoo_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ODOO_MAX_ID


def _same_shop(store_url: str, configured: str) -> bool:
    """Whether the plugin's home URL names the configured shop (scheme, host, port, path; no
    user info, query or fragment, which a home URL never has)."""
    def key(url: str) -> tuple[object, ...]:
        try:
            # urlsplit itself raises on '[::1' or an NFKC-invalid host, not only .port.
            parts = urlsplit(url.strip())
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        except ValueError:
            return ("unparsable", url)
        return (parts.scheme.lower(), (parts.hostname or "").lower(), port,
                parts.path.rstrip("/"), parts.username, parts.password, parts.query,
                parts.fragment)

    return key(store_url) == key(configured)


def _odoo_time(value: str | None, now: float, *, field: str = "odoo_time") -> float:
    """Odoo's UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]' as unix time, `now` when absent.

    Refused when more than a day from our clock: a wrong clock or a forgery, and either would
    skew the latency histogram.
    """
    if not value:
        return now
    pattern = "%Y-%m-%d %H:%M:%S.%f" if "." in value else "%Y-%m-%d %H:%M:%S"
    try:
        when = datetime.strptime(value, pattern).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise Rejected(400, "schema", f"{field} is not a valid date and time", field) from None
    if abs(when - now) > ODOO_TIME_SKEW:
        raise Rejected(400, "schema", f"{field} is more than a day from this server's clock "
                       f"(check Odoo's clock)", field)
    return when
