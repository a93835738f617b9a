"""The WooCommerce gateway: the only module that talks to the shop (through the woocommerce client)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlparse

import requests
import woocommerce
from requests.auth import HTTPBasicAuth

from woodoo.config import WooCommerceConfig
from woodoo.gateways import retry, shop_items, transport
from woodoo.gateways.shop_items import NAME_CHARS, ShopItem
from woodoo.limits import MAX_LISTED_ROWS, SHOP_ANSWER_BYTES, cut
from woodoo.state import PushItem
from woodoo.web import signing

PAGE_SIZE = 100  # the REST API's maximum per_page (101 is a 400)
INDEX_FIELDS = ("id,sku,name,type,parent_id,manage_stock,stock_quantity,stock_status,backorders,"
                "variations")
VARIATION_FIELDS = "id,sku,name,parent_id,manage_stock,stock_quantity,stock_status,backorders"
SKUS_PER_LOOKUP = 50  # keeps the query string far below common URL limits
BULK_ITEMS = 1000  # items per request on the plugin's bulk write route
CATALOG_PAGE = 5000  # items per page of the plugin's catalog route
# What an order event carries, as the backfill reads it (recorded: list_orders_modified_after).
ORDER_FIELDS = "id,number,status,currency,date_modified_gmt,billing,line_items,refunds"


class WooError(retry.RemoteError):
    """A WooCommerce call failed."""


REST_PATH = "WooCommerce's REST API (100 items per request)"
BULK_PATH = "the Woodoo Companion plugin's bulk routes (thousands of items per request)"
PLUGIN_NAMESPACE = "woodoo/v1"
PLUGIN_BULK_ROUTES = ("/woodoo/v1/catalog", "/woodoo/v1/stock/bulk")  # since plugin 0.4


@dataclass(frozen=True)
class WritePath:
    """How stock is read and written in this shop, and why: `via` names the path, `reason` is
    one sentence about the plugin's bulk routes (used, or why not)."""

    bulk: bool  # the Woodoo Companion plugin's catalog and bulk routes (else WooCommerce's REST)
    reason: str
    via: str = REST_PATH

    @property
    def batch_size(self) -> int:
        """Items per write request on this path (REST batches hold at most 100)."""
        return BULK_ITEMS if self.bulk else PAGE_SIZE


@dataclass(frozen=True)
class PluginFound:
    """What the shop's REST index says of the Woodoo Companion plugin."""

    active: bool | None  # None: the shop could not be asked (`problem` says why)
    bulk: bool = False  # it has the bulk routes (0.4 and later)
    problem: str = ""

    def describe(self) -> str:
        """One sentence: whether the plugin is there, and which routes it has."""
        if self.active is None:
            return f"The Woodoo Companion plugin could not be asked for: {self.problem}."
        if not self.active:
            return (f"The Woodoo Companion plugin is not active in the shop (its REST namespace "
                    f"{PLUGIN_NAMESPACE} is not there).")
        if not self.bulk:
            return ("The Woodoo Companion plugin is active, but older than 0.4: it has no bulk "
                    "routes; update it.")
        return ("The Woodoo Companion plugin is active, with its stock, flush and bulk routes "
                f"(REST namespace {PLUGIN_NAMESPACE}).")


@dataclass(frozen=True)
class BatchOutcome:
    """What the shop did with one batch: items applied, and items failed with the reason."""

    applied: list[PushItem]
    failed: list[tuple[PushItem, str]]
    stale_skus: list[str] = field(default_factory=list)  # ids the shop no longer knows
    # Conditional writes the shop refused because its stock had moved: (item, what it shows).
    conflicts: list[tuple[PushItem, int | None]] = field(default_factory=list)

    @staticmethod
    def merged(parts: Iterable[BatchOutcome]) -> BatchOutcome:
        """One outcome holding what several requests for one batch did."""
        done = list(parts)
        return BatchOutcome([i for p in done for i in p.applied],
                            [f for p in done for f in p.failed],
                            [s for p in done for s in p.stale_skus],
                            [c for p in done for c in p.conflicts])


class _PooledAPI(woocommerce.API):
    """The woocommerce client, sending through one pooled requests.Session.

    woocommerce 3.0.0 sends every call through `requests.request`, which opens a new connection
    (and TLS handshake) per call. This keeps the library's URL building and OAuth 1.0a signing and
    only swaps the transport for a session whose pool is as large as our concurrency, and whose
    answers are bounded (transport.fetch: the timeout on the whole answer, its size, no redirect).
    """

    def __init__(self, *args: Any, pool_size: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = transport.session(pool_size)

    def _API__request(  # overrides woocommerce.API.__request (name-mangled)
        self, method: str, endpoint: str, data: Any, params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        params = dict(params or {})
        url = self._API__get_url(endpoint)  # type: ignore[attr-defined]
        auth = None
        headers = {"user-agent": self.user_agent, "accept": "application/json"}
        if self.is_ssl and not self.query_string_auth:
            auth = HTTPBasicAuth(self.consumer_key, self.consumer_secret)
        elif self.is_ssl:
            params.update({"consumer_key": self.consumer_key,
                           "consumer_secret": self.consumer_secret})
        else:
            # Over plain http the shop only accepts OAuth 1.0a: the library signs the URL with
            # the parameters in it, so they must not be sent a second time.
            url = self._API__get_oauth_url(f"{url}?{urlencode(params)}", method)  # type: ignore[attr-defined]
            params = {}
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return transport.fetch(
            self.session, method, url, remote=f"WooCommerce at {self.url} ({method} {endpoint})",
            limit=SHOP_ANSWER_BYTES, timeout=self.timeout, params=params, data=body,
            headers=headers, auth=auth, verify=self.verify_ssl,
        )


class WooGateway:
    """Lists, looks up and writes stock in the shop; hides the REST API and its quirks."""

    max_rows = MAX_LISTED_ROWS  # in one listing, whatever the shop says (smaller in tests)

    def __init__(self, config: WooCommerceConfig, policy: retry.RetryPolicy,
                 guard: retry.Guard | None = None) -> None:
        self.config = config
        self.policy = policy
        self.guard = guard  # the circuit breaker of calls to the shop
        self.plugin_secret = (config.plugin_secret.get_secret_value()
                              if config.plugin_secret is not None else None)
        self._signed: dict[bytes, int] = {}
        self._write_path: WritePath | None = None
        self._signed_lock = threading.Lock()

        self.api = _PooledAPI(
            config.url,
            config.consumer_key.get_secret_value(),
            config.consumer_secret.get_secret_value(),
            version="wc/v3",
            timeout=config.timeout,
            verify_ssl=config.verify_tls,
            query_string_auth=config.query_string_auth,
            pool_size=config.concurrency,
        )
        self.pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="woo")
        self._has_store_wide_variations: bool | None = None

    def close(self) -> None:
        """Release the worker threads and connections."""
        self.pool.shutdown(wait=True)
        self.api.session.close()

    # -- reads -----------------------------------------------------------------------------------

    def version(self) -> str:
        """The shop's WooCommerce version (also proves the keys work)."""
        body = self._request("GET", "system_status", params={"_fields": "environment.version"})
        return str(body.get("environment", {}).get("version", "unknown"))

    def plugin(self) -> PluginFound:
        """Whether the Woodoo Companion plugin is active and has its bulk routes: its namespace
        index (GET /wp-json/woodoo/v1, public: no key or secret needed; WordPress answers 404
        rest_no_route when no plugin registered the namespace). The site-wide /wp-json/ index
        says the same, but is over a megabyte on a real shop."""
        url = f"{self.config.url}/wp-json/{PLUGIN_NAMESPACE}"
        try:
            answer = transport.fetch(self.api.session, "GET", url,
                                     remote="the Woodoo plugin's namespace",
                                     limit=SHOP_ANSWER_BYTES, timeout=self.config.timeout,
                                     verify=self.config.verify_tls)
        except transport.AnswerRefused as error:
            return PluginFound(None, problem=str(error))
        except requests.RequestException as error:
            return PluginFound(None, problem=f"cannot reach {url}: {_root_cause(error)}")
        if answer.status_code == 404:
            return PluginFound(False)
        if answer.status_code != 200 or not answer.headers.get(
                "Content-Type", "").startswith("application/json"):
            return PluginFound(None, problem=f"{url} answered HTTP {answer.status_code} "
                               f"({answer.headers.get('Content-Type') or 'no content type'})")
        try:
            body = answer.json()
        except ValueError:
            return PluginFound(None, problem=f"{url} answered something that is not JSON")
        routes = body.get("routes") if isinstance(body, dict) else None
        if not isinstance(routes, dict) or body.get("namespace") != PLUGIN_NAMESPACE:
            return PluginFound(None, problem=f"{url} answered JSON that is no REST namespace "
                               f"index")
        return PluginFound(True, bulk=all(r in routes for r in PLUGIN_BULK_ROUTES))

    def write_path(self) -> WritePath:
        """Whether the plugin's bulk routes are there (asked once: its public namespace index)."""
        if self._write_path is not None:
            return self._write_path
        if self.plugin_secret is None:
            return WritePath(False, "not used, because woocommerce.plugin_secret (the plugin's "
                             "stock secret) is not set.")
        found = self.plugin()
        if found.active is None:
            # Not remembered: the next run asks again.
            return WritePath(False, f"not used for now, because the plugin could not be asked "
                             f"({found.problem}); the next run asks again.")
        if found.bulk:
            path = WritePath(True, "in use: the Woodoo Companion plugin's catalog and "
                             "stock/bulk routes answer.", BULK_PATH)
        elif found.active:
            path = WritePath(False, "not used, because the Woodoo Companion plugin is older "
                             "than 0.4 (it has no bulk routes); update it.")
        else:
            path = WritePath(False, "not used, because the Woodoo Companion plugin is not active "
                             f"in the shop (no REST namespace {PLUGIN_NAMESPACE}).")
        self._write_path = path
        return path

    def item_pages(self, progress: Callable[[int, int], None] | None = None
                   ) -> Iterator[list[ShopItem]]:
        """Every product and variation in the shop, SKU or not, a page at a time (only the
        fields we need; a catalog of any size costs a few pages of memory)."""
        if self.write_path().bulk:
            yield from self._catalog(progress)
            return
        parents: dict[int, str] = {}  # variable product id -> name
        for rows in self._pages("products", {"_fields": INDEX_FIELDS}, progress):
            items = [self._item(row) for row in rows]
            parents |= {i.woo_id: i.name for i in items if i.type == "variable"}
            yield [i for i in items if i.type != "variable"]
        yield from self._variations(parents, progress)

    def _catalog(self, progress: Callable[[int, int], None] | None) -> Iterator[list[ShopItem]]:
        """The plugin's catalog route, page after page (ordered by id, CATALOG_PAGE at a time):
        to an empty page, or a page that names no next one, and never past MAX_LISTED_ROWS."""
        after: int | None = 0
        # The pages max_rows fill, and one more: a full last page is followed by an empty one.
        for _ in range(math.ceil(self.max_rows / CATALOG_PAGE) + 1):
            if after is None:
                return
            answer = self._plugin_post(signing.PLUGIN_CATALOG, {
                "after_id": after, "limit": CATALOG_PAGE, "request_id": uuid.uuid4().hex})
            rows = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(rows, list):
                raise WooError("the Woodoo plugin's catalog answered without items",
                               retryable=False)
            following = answer.get("next_after_id")
            # Ids only grow: a next page that does not start after this one would loop for ever.
            if following is not None and (type(following) is not int or following <= after):
                raise WooError(f"the Woodoo plugin's catalog answered the page after id {after} "
                               f"with an odd next_after_id: {cut(repr(following), 40)}",
                               retryable=False)
            after = following if rows else None
            if progress:
                progress(1, 0 if after is None else 1)
            yield [i for i in (self._item(row) for row in rows) if i.type != "variable"]
        if after is not None:
            raise WooError(f"the Woodoo plugin's catalog goes on past {self.max_rows:,} items, "
                           f"more than a shop holds (woodoo/limits.py MAX_LISTED_ROWS): refused",
                           retryable=False)

    def _variations(
        self, parents: dict[int, str], progress: Callable[[int, int], None] | None
    ) -> Iterator[list[ShopItem]]:
        """Every variation of these parents (id -> name), named "Parent - Attributes" as the
        catalog route and `products?sku=` name them: the variations endpoints name a variation
        by its attributes alone (recorded: list_product_variations)."""
        def item(row: Any, parent: Any) -> ShopItem:
            if not isinstance(row, dict):
                return self._item(row)  # refused, saying what it is
            variation = self._item({**row, "type": "variation", "parent_id": parent})
            name = " - ".join(n for n in (parents.get(variation.parent_id), variation.name) if n)
            return replace(variation, name=name[:NAME_CHARS])

        if not parents:
            return
        if self._store_wide_variations():
            for rows in self._pages("variations", {"_fields": VARIATION_FIELDS}, progress):
                yield [item(r, r.get("parent_id") if isinstance(r, dict) else None) for r in rows]
            return
        # Before WooCommerce 10.3 variations are only listed per parent.
        per_parent = self.pool.map(
            lambda parent: self._all_pages(f"products/{parent}/variations",
                                           {"_fields": VARIATION_FIELDS}, None),
            parents,
        )
        for parent, rows in zip(parents, per_parent, strict=True):
            yield [item(r, parent) for r in rows]

    def _store_wide_variations(self) -> bool:
        if self._has_store_wide_variations is None:
            try:
                self._request("GET", "variations", params={"per_page": 1, "_fields": "id"})
                self._has_store_wide_variations = True
            except WooError as error:
                if "404" not in str(error):
                    raise
                self._has_store_wide_variations = False
        return self._has_store_wide_variations

    def lookup(self, skus: Iterable[str]) -> list[ShopItem]:
        """Find products and variations by exact SKU (`products?sku=a,b,c` returns both)."""
        wanted = sorted(set(skus))
        # Over plain http the client signs '/' unencoded while WooCommerce encodes it, so a query
        # holding '/' always gets 401. Such SKUs are searched by their longest '/'-free part
        # (search_sku is a partial match, variations included) and filtered exactly here.
        unsignable = [s for s in wanted if "/" in s and not self.api.is_ssl]
        exact = [s for s in wanted if s not in unsignable]
        queries = [
            {"sku": ",".join(exact[i:i + SKUS_PER_LOOKUP])}
            for i in range(0, len(exact), SKUS_PER_LOOKUP)
        ] + [{"search_sku": max(s.split("/"), key=len)} for s in unsignable]
        found = self.pool.map(
            lambda query: self._all_pages("products", {**query, "_fields": INDEX_FIELDS}, None),
            queries,
        )
        wanted_set = set(wanted)
        items = (self._item(row) for rows in found for row in rows)
        return [i for i in items if i.type != "variable" and i.sku in wanted_set]

    def current_stock(self, items: list[PushItem]) -> dict[str, tuple[int | None, str]]:
        """What the shop shows now for these items, by SKU (to settle pushes left by a crash)."""
        by_parent: dict[int, list[PushItem]] = {}
        for item in items:
            by_parent.setdefault(item.parent_id, []).append(item)
        shown: dict[str, tuple[int | None, str]] = {}
        for parent, group in by_parent.items():
            endpoint = f"products/{parent}/variations" if parent else "products"
            for start in range(0, len(group), PAGE_SIZE):
                chunk = group[start:start + PAGE_SIZE]
                rows = self._request("GET", endpoint, params={
                    "include": ",".join(str(i.woo_id) for i in chunk), "per_page": PAGE_SIZE,
                    "_fields": "id,stock_quantity,stock_status",
                })
                by_id = {row["id"]: row for row in rows}
                for item in chunk:
                    if item.woo_id in by_id:
                        row = by_id[item.woo_id]
                        shown[item.sku] = (row.get("stock_quantity"), row.get("stock_status", ""))
        return shown

    # -- writes ----------------------------------------------------------------------------------

    def push(self, items: list[PushItem]) -> BatchOutcome:
        """Write quantity and status for up to 100 items of one kind (simple, or one parent)."""
        if not items:
            return BatchOutcome([], [])
        if len(items) > PAGE_SIZE:
            raise ValueError(f"a batch holds at most {PAGE_SIZE} items, got {len(items)}")
        parents = {i.parent_id for i in items}
        if len(parents) != 1:
            raise ValueError("a batch mixes simple products and variations of different parents")
        parent = parents.pop()
        for item in items:
            # The shop does not validate batch items (a bogus status passes silently): we do.
            if item.status not in ("instock", "outofstock", "onbackorder"):
                raise ValueError(f"SKU {item.sku}: invalid stock status {item.status!r}")
        endpoint = f"products/{parent}/variations/batch" if parent else "products/batch"
        # No _fields here: on a batch call it empties the results (recorded on WooCommerce 11).
        body = self._request("POST", endpoint, data={"update": [
            {"id": i.woo_id, "stock_quantity": i.quantity, "stock_status": i.status}
            for i in items
        ]})
        results = body.get("update") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            reason = (f"WooCommerce answered the batch with {len(results or [])} results for "
                      f"{len(items)} items; nothing can be confirmed")
            return BatchOutcome([], [(i, reason) for i in items])
        outcome = BatchOutcome([], [])
        for item, result in zip(items, results, strict=True):
            reason = self._item_failure(item, result)
            if reason is None:
                outcome.applied.append(item)
                continue
            outcome.failed.append((item, reason))
            error = result.get("error") if isinstance(result, dict) else None
            if isinstance(error, dict) and str(error.get("code", "")).endswith("invalid_id"):
                outcome.stale_skus.append(item.sku)
        return outcome

    def push_conditional(self, items: list[PushItem], expected: dict[str, int | None]) -> BatchOutcome:
        """Write through the Woodoo Companion plugin: each item only if the shop still shows
        `expected[sku]` (compare-and-set in one SQL statement, see docs/order-events.md)."""
        # The plugin compares only with a known, non-negative figure (it refuses anything else).
        # A shop showing a negative figure allows backorders, so it sells past zero anyway, and
        # one showing none does not count its stock: for both, a plain REST write is right.
        unconditional = [i for i in items if expected.get(i.sku) is None or expected[i.sku] < 0]
        if unconditional:
            plain = {i.sku for i in unconditional}
            rest = [i for i in items if i.sku not in plain]
            parts = [self.push(batch) for batch in batches(unconditional, PAGE_SIZE)]
            if rest:
                parts.append(self.push_conditional(rest, expected))
            return BatchOutcome.merged(parts)
        bulk = len(items) > PAGE_SIZE or self.write_path().bulk
        answer = self._plugin_post(
            signing.PLUGIN_STOCK_BULK if bulk else signing.PLUGIN_STOCK,
            {"items": [{"id": i.woo_id, "expected": expected[i.sku], "quantity": i.quantity}
                       for i in items], **({"request_id": uuid.uuid4().hex} if bulk else {})})
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            reason = "the Woodoo plugin answered without one result per item; nothing confirmed"
            return BatchOutcome([], [(i, reason) for i in items])
        outcome = BatchOutcome([], [])
        for item, result in zip(items, results, strict=True):
            status = result.get("status") if isinstance(result, dict) else None
            if status == "applied" and result.get("quantity") == item.quantity:
                outcome.applied.append(item)
            elif status == "conflict":
                outcome.conflicts.append((item, result.get("current")))
            else:
                outcome.failed.append((item, f"SKU {item.sku} (WooCommerce id {item.woo_id}): "
                                             f"the Woodoo plugin answered {cut(repr(result))}"))
        return outcome

    def flush_plugin(self, max_events: int = 100) -> dict[str, Any]:
        """Ask the Woodoo Companion plugin to send the order events it holds now; its counts."""
        # A fresh request id: a flush asked again (a restarted daemon, within the same second)
        # is a new request, not a replay of the last one.
        answer = self._plugin_post(signing.PLUGIN_FLUSH, {"max_events": max_events,
                                                          "request_id": uuid.uuid4().hex})
        if not isinstance(answer, dict):
            raise WooError("the Woodoo plugin answered the flush without its counts",
                           retryable=False)
        return answer

    def orders_modified_after(self, since: str) -> list[dict[str, Any]]:
        """The shop's orders created or changed after `since` (UTC, 'YYYY-MM-DDTHH:MM:SS'),
        every page, with the fields an order event carries."""
        return self._all_pages("orders", {"modified_after": since, "dates_are_gmt": "true",
                                          "_fields": ORDER_FIELDS}, None)

    def order_refunds(self, order_id: int) -> list[dict[str, Any]]:
        """An order's refunds with their line items (negative quantities)."""
        answer = self._request("GET", f"orders/{order_id}/refunds",
                               params={"_fields": "id,line_items"})
        if not isinstance(answer, list):
            raise WooError(f"WooCommerce answered GET orders/{order_id}/refunds with "
                           f"{type(answer).__name__}, expected a list", retryable=False)
        return answer

    def _plugin_post(self, route: str, payload: dict[str, Any]) -> Any:
        """POST `payload` to one of the plugin's routes (`route` as signed, e.g.
        'POST /woodoo/v1/stock'), signed with woocommerce.plugin_secret; its JSON answer."""
        secret = self.plugin_secret
        if not secret:
            raise ValueError("the plugin's routes need woocommerce.plugin_secret")
        path = route.split(" ", 1)[1]
        url = f"{self.config.url}/wp-json{path}"
        body = json.dumps(payload).encode()

        def attempt() -> Any:
            headers = {"Content-Type": "application/json",
                       signing.HEADER: signing.sign(body, secret, route,
                                                    self._fresh_second(route, body))}
            try:
                # A signed call never follows a redirect: the body and its signature would go
                # wherever the shop points (transport.fetch refuses every 3xx).
                response = transport.fetch(self.api.session, "POST", url,
                                           remote=f"the Woodoo plugin at {url}",
                                           limit=SHOP_ANSWER_BYTES, timeout=self.config.timeout,
                                           data=body, headers=headers,
                                           verify=self.config.verify_tls)
            except transport.AnswerRefused as error:
                raise WooError(str(error), retryable=error.retryable) from None
            except requests.RequestException as error:
                raise WooError(f"cannot reach the Woodoo plugin at {url}: {_root_cause(error)}",
                               retryable=True) from None
            if response.status_code >= 400:
                raise self._http_error(response, "POST", path.lstrip("/"))
            return self._json(response, "POST", path.lstrip("/"))

        return retry.call(attempt, self.policy, f"woodoo-plugin.{path.rsplit('/', 1)[-1]}",
                          self.guard)

    def _fresh_second(self, route: str, body: bytes) -> int:
        """Now in unix seconds, but never a second this body was already signed in for `route`:
        the plugin refuses a signature it has accepted (a replay), and the same body sent again
        in the same second (a retry, a second flush) would sign the same."""
        key = hashlib.sha256(route.encode() + b"\0" + body).digest()
        now = int(time.time())
        with self._signed_lock:
            if len(self._signed) > 1000:  # only the last few seconds matter
                self._signed = {k: t for k, t in self._signed.items() if t >= now - 2}
            second = max(now, self._signed.get(key, 0) + 1)
            self._signed[key] = second
        return second

    def push_all(
        self, batches: list[list[PushItem]], expected: dict[str, int | None] | None = None,
    ) -> Iterator[tuple[list[PushItem], BatchOutcome | WooError]]:
        """Send batches with bounded concurrency (conditionally when `expected` is given);
        yield each with its outcome as it completes."""
        send = self.push if expected is None else (
            lambda batch: self.push_conditional(batch, expected))
        futures = {self.pool.submit(send, batch): index for index, batch in enumerate(batches)}
        for future in as_completed(futures):
            batch = batches[futures[future]]
            try:
                yield batch, future.result()
            except WooError as error:
                yield batch, error

    @staticmethod
    def _item_failure(item: PushItem, result: Any) -> str | None:
        what = f"SKU {item.sku} (WooCommerce id {item.woo_id})"
        if not isinstance(result, dict):
            return f"{what}: WooCommerce answered {cut(repr(result))} instead of the product"
        error = result.get("error")
        if error:
            if not isinstance(error, dict):
                return f"{what}: WooCommerce rejected the update: {cut(error)}"
            return (f"{what}: WooCommerce rejected the update: {cut(error.get('message'))} "
                    f"({cut(error.get('code'))})")
        if result.get("id") != item.woo_id:
            return f"{what}: WooCommerce answered for id {cut(result.get('id'))} instead"
        if not result.get("manage_stock"):
            return (f"{what}: the shop ignored the quantity because the product does not manage "
                    f"stock; turn on 'Manage stock?' for it in WooCommerce")
        if result.get("stock_quantity") != item.quantity:
            return (f"{what}: sent quantity {item.quantity} but the shop kept "
                    f"{cut(result.get('stock_quantity'))}")
        return None

    # -- transport -------------------------------------------------------------------------------

    def _all_pages(
        self, endpoint: str, params: dict[str, Any], progress: Callable[[int, int], None] | None
    ) -> list[dict[str, Any]]:
        return [row for rows in self._pages(endpoint, params, progress) for row in rows]

    def _pages(
        self, endpoint: str, params: dict[str, Any], progress: Callable[[int, int], None] | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a listing, in order: the first tells how many; the rest are read in
        parallel, at most twice the pool's size ahead of the reader, so that pages do not pile
        up in memory when the reader is the slower one. An empty page ends the listing, and a
        count of pages beyond what MAX_LISTED_ROWS rows fill is refused: it is the shop's word.

        Pages go by `page=`: the Link header carries the OAuth parameters of the first request.
        """
        base = {**params, "per_page": PAGE_SIZE, "orderby": "id", "order": "asc"}
        if "sku" in base or "include" in base:
            base.pop("orderby")
            base.pop("order")
        first, total_pages = self._page(endpoint, {**base, "page": 1})
        if total_pages > math.ceil(self.max_rows / PAGE_SIZE):
            raise WooError(f"WooCommerce says GET {endpoint} has {total_pages:,} pages of "
                           f"{PAGE_SIZE} (X-WP-TotalPages), more than the {self.max_rows:,} rows "
                           f"a listing may hold (woodoo/limits.py MAX_LISTED_ROWS): refused",
                           retryable=False)
        if progress:
            progress(1, max(total_pages, 1))
        if not first:
            yield first
            return
        numbers = iter(range(2, total_pages + 1))
        ahead: deque[Future[tuple[list[dict[str, Any]], int]]] = deque()

        def read_ahead() -> None:
            for number in itertools.islice(numbers, 2 * self.config.concurrency - len(ahead)):
                ahead.append(self.pool.submit(self._page, endpoint, {**base, "page": number}))

        read_ahead()
        yield first
        while ahead:
            rows, _ = ahead.popleft().result()
            if not rows:  # the listing ends here, whatever count the first page said
                for future in ahead:
                    future.cancel()
                return
            read_ahead()
            if progress:
                progress(1, total_pages)
            yield rows

    def _page(self, endpoint: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        response = self._send("GET", endpoint, params=params)
        body = self._json(response, "GET", endpoint)
        if not isinstance(body, list):
            raise WooError(f"WooCommerce answered GET {endpoint} with {type(body).__name__}, "
                           f"expected a list", retryable=False)
        try:
            pages = int(response.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            pages = 1
        return body, pages

    def _request(self, method: str, endpoint: str, *, params: dict[str, Any] | None = None,
                 data: Any = None) -> Any:
        return self._json(self._send(method, endpoint, params=params, data=data), method, endpoint)

    def _send(self, method: str, endpoint: str, *, params: dict[str, Any] | None = None,
              data: Any = None) -> requests.Response:
        def attempt() -> requests.Response:
            try:
                if method == "GET":
                    response = self.api.get(endpoint, params=dict(params or {}))
                else:
                    response = self.api.post(endpoint, data, params=dict(params or {}))
            except transport.AnswerRefused as error:
                raise WooError(str(error), retryable=error.retryable) from None
            except requests.Timeout:
                raise WooError(
                    f"WooCommerce at {self.config.url} did not answer {method} {endpoint} within "
                    f"{self.config.timeout:g} s", retryable=True,
                ) from None
            except requests.RequestException as error:
                raise WooError(f"cannot reach WooCommerce at {self.config.url}: "
                               f"{_root_cause(error)}", retryable=True) from None
            if response.status_code >= 400:
                raise self._http_error(response, method, endpoint)
            return response

        return retry.call(attempt, self.policy, f"woocommerce.{method} {endpoint}", self.guard)

    def _json(self, response: requests.Response, method: str, endpoint: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise WooError(
                f"WooCommerce answered {method} {endpoint} with something that is not JSON "
                f"(HTTP {response.status_code}, {response.headers.get('Content-Type', '?')}); "
                f"is woocommerce.url the WordPress home URL?", retryable=False,
            ) from None

    def _http_error(self, response: requests.Response, method: str, endpoint: str) -> WooError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        # The shop's words are quoted cut: an error page can be any size.
        code = cut(body.get("code", "")) if isinstance(body, dict) else ""
        message = cut(body.get("message", "")) if isinstance(body, dict) else ""
        text = f"WooCommerce answered HTTP {status} to {method} {endpoint}: {message or code}"
        if status == 401:
            text += ". " + explain_auth_failure(self.config.url, code, message)
            return WooError(text, retryable=False)
        if status == 429:
            return WooError(text, retryable=True, retry_after=_retry_after(response))
        if isinstance(body, dict) and body.get("error") == "not_configured":
            # The plugin's 503 when its stock secret is not set: no retry sets it.
            return WooError(text, retryable=False)
        return WooError(text, retryable=status >= 500)

    @staticmethod
    def _item(row: Any) -> ShopItem:
        """A listed product or variation; one the daemon cannot address is a clear error."""
        try:
            return shop_items.parse(row)
        except ValueError as error:
            raise WooError(str(error), retryable=False) from None


def explain_auth_failure(url: str, code: str, message: str) -> str:
    """Say in words why the shop refused our keys, and what to do."""
    scheme = urlparse(url).scheme
    if "Invalid signature" in message:
        return ("The OAuth signature did not match. Over http the shop checks it against its "
                "WordPress home URL exactly: set woocommerce.url to the 'Site Address (URL)' in "
                "WordPress → Settings → General (e.g. 127.0.0.1 and localhost are different), "
                "or check consumer_secret")
    if "Consumer key is invalid" in message:
        return "The consumer key is unknown to the shop: create a REST API key with Read/Write access"
    if code == "woocommerce_rest_cannot_view" and scheme == "http":
        return ("The shop saw no valid credentials. Over plain http only OAuth 1.0a works; if a "
                "proxy rewrites the host or scheme, use the exact WordPress home URL, or https")
    if code == "woocommerce_rest_cannot_view":
        return ("The shop saw no credentials: the host may strip the Authorization header; set "
                "woocommerce.query_string_auth: true, or give the key Read/Write permissions")
    return "Check woocommerce.consumer_key and consumer_secret, and the key's permissions"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _root_cause(error: BaseException) -> str:
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    text = str(error)
    return "connection refused" if "Connection refused" in text else cut(text.split(": ")[-1])


def batches(items: list[PushItem], size: int) -> Iterator[list[PushItem]]:
    """Split push items into batches of at most `size`, one endpoint per batch."""
    by_parent: dict[int, list[PushItem]] = {}
    for item in items:
        by_parent.setdefault(item.parent_id, []).append(item)
    for group in by_parent.values():
        for start in range(0, len(group), size):
            yield group[start:start + size]
