"""The Odoo gateway: the only module that talks to Odoo (through odoorpc)."""

from __future__ import annotations

import http.client
import math
import re
import threading
import urllib.error
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import ParseResult, urlparse

import odoorpc

from woodoo.config import OdooConfig
from woodoo.errors import ProblemsError
from woodoo.gateways import quant_figures, retry, transport, window
from woodoo.limits import MAX_LISTED_ROWS, ODOO_ANSWER_BYTES, ODOO_MAX_ID, cut

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
QUANT_PAGE = 10_000  # rows per page of the full read's products and quants (narrow rows)
RUN_OF_IDS = 3  # consecutive row ids sent as a range (two leaves) rather than listed


class OdooError(retry.RemoteError):
    """An Odoo call failed."""


class OdooSetupError(ProblemsError):
    """Odoo answers, but the config does not fit it (e.g. a warehouse that does not exist)."""


@dataclass(frozen=True)
class Warehouse:
    """An Odoo warehouse and the root of its locations."""

    id: int
    code: str
    name: str
    view_location_id: int


@dataclass(frozen=True, slots=True)
class OdooProduct:
    """A storable Odoo product with an SKU and its stock figure in the configured warehouses."""

    id: int
    sku: str
    figure: float


@dataclass(frozen=True)
class SaleOrder:
    """A sale order in Odoo, as the order sync needs it."""

    id: int
    name: str
    state: str
    reference: str
    quantities: dict[int, float]  # product id -> ordered quantity
    line_ids: dict[int, int]  # product id -> sale.order.line id
    delivered: bool  # anything already delivered


@dataclass(frozen=True)
class Delta:
    """The quant and move rows written since a watermark, and the newest write seen."""

    writes: dict[tuple[str, int], tuple[str, int]]  # (model, row id) -> (write date, product id)
    newest: str | None


def list_databases(url: str, timeout: float = 30) -> list[str] | None:
    """The databases an Odoo server lists, or None when it does not (`list_db` off)."""
    parsed = urlparse(url)
    protocol, port = _transport(parsed)
    with _translated_errors(url, "list its databases", timeout):
        client = odoorpc.ODOO(parsed.hostname, protocol=protocol, port=port, timeout=timeout,
                              opener=_opener(url))
        try:
            names = client.db.list()
        except odoorpc.error.RPCError:
            return None  # Odoo refuses to list databases when list_db is off
    return [str(name) for name in names] or None


def _opener(url: str) -> Any:
    """The urllib opener odoorpc sends through: each answer bounded in time and size, and no
    redirect followed (a call carries the password or the session)."""
    return transport.opener(ODOO_ANSWER_BYTES, f"Odoo at {url}")


def _transport(parsed: ParseResult) -> tuple[str, int]:
    """odoorpc's protocol and port for a server URL."""
    protocol = "jsonrpc+ssl" if parsed.scheme == "https" else "jsonrpc"
    return protocol, parsed.port or (443 if parsed.scheme == "https" else 80)


def like_literal(value: str) -> str:
    """`value` as a LIKE pattern matching only itself: `\\`, `%` and `_` escaped.

    Odoo hands `like` values to PostgreSQL unchanged, whose LIKE escapes with a backslash; this
    is Odoo 18's `odoo.tools.sql.escape_psql`, written here as Woodoo does not depend on Odoo.
    """
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def shift(watermark: str, seconds: float) -> str:
    """An Odoo datetime string moved by `seconds` (negative: earlier)."""
    moved = datetime.strptime(watermark, ODOO_DATETIME) + timedelta(seconds=seconds)
    return moved.strftime(ODOO_DATETIME)


def unseen_domain(dates: dict[str, set[int]]) -> list[Any]:
    """A domain (ANDed to a window's) leaving out the rows read before at their write date.

    An import's rows mostly have consecutive ids: sent as ranges, 20,000 rows are a few leaves
    rather than 20,000 ids in every request.
    """
    domain: list[Any] = []
    for at, ids in sorted(dates.items()):
        spans = window.runs(ids)
        single = [row_id for first, last in spans if last - first + 1 < RUN_OF_IDS
                  for row_id in range(first, last + 1)]
        terms: list[list[Any]] = [["&", ("id", ">=", first), ("id", "<=", last)]
                                  for first, last in spans if last - first + 1 >= RUN_OF_IDS]
        if single:
            terms.append([("id", "in", single)])
        # The second [at, at + 1 s), not `=`: Odoo answers a stamp cut to the second.
        domain += ["!", "&", "&", ("write_date", ">=", at), ("write_date", "<", shift(at, 1)),
                   *["|"] * (len(terms) - 1)]
        domain += [leaf for term in terms for leaf in term]
    return domain


class OdooGateway:
    """Reads stock figures and stock changes from Odoo; hides odoorpc and Odoo's version quirks."""

    max_rows = MAX_LISTED_ROWS  # in one listing, however many full pages Odoo answers (tests: fewer)

    def __init__(self, config: OdooConfig, policy: retry.RetryPolicy,
                 guard: retry.Guard | None = None) -> None:
        self.config = config
        self.policy = policy
        self.guard = guard  # the circuit breaker of calls to Odoo
        self.client: odoorpc.ODOO | None = None
        self.warehouses: list[Warehouse] = []
        self.server_version = ""
        self._lock = threading.Lock()

    @property
    def major_version(self) -> int:
        """Odoo's major version number: 18 for "18.0-20241005", 17 for "saas~17.4+e" (Odoo Online)."""
        match = re.search(r"(\d+)", self.server_version)
        return int(match.group(1)) if match else 0

    def connect(self) -> None:
        """Log in and resolve the configured warehouses; raise OdooError or OdooSetupError."""
        parsed = urlparse(self.config.url)
        if parsed.path not in ("", "/"):
            raise OdooSetupError(
                [f"odoo.url: {self.config.url} has a path; give the server root (odoorpc "
                 f"cannot address Odoo under a sub-path)"]
            )
        protocol, port = _transport(parsed)

        def login() -> odoorpc.ODOO:
            with _translated_errors(self.config.url, "connect", self.config.timeout):
                client = odoorpc.ODOO(
                    parsed.hostname, protocol=protocol, port=port, timeout=self.config.timeout,
                    opener=_opener(self.config.url),
                )
                client.login(
                    self.config.database, self.config.username,
                    self.config.password.get_secret_value(),
                )
                return client

        self.client = retry.call(login, self.policy, "odoo.login", self.guard)
        self.server_version = str(self.client.version)
        self.warehouses = self._resolve_warehouses()

    def ping(self) -> str:
        """Odoo's version, asked without logging in (for readiness checks; no lock needed)."""
        if self.client is None:
            self.connect()
        client = self.client
        assert client is not None

        def attempt() -> Any:
            with _translated_errors(self.config.url, "version", self.config.timeout):
                return client.json("/web/webclient/version_info", {})

        result = retry.call(attempt, self.policy, "odoo.version", self.guard)
        return str(result.get("result", {}).get("server_version", ""))

    def _resolve_warehouses(self) -> list[Warehouse]:
        rows = self.execute(
            "stock.warehouse", "search_read", [[]],
            {"fields": ["code", "name", "view_location_id"], "order": "id"},
        )
        known = [
            Warehouse(r["id"], r["code"], r["name"], r["view_location_id"][0]) for r in rows
        ]
        chosen: list[Warehouse] = []
        problems = []
        for index, wanted in enumerate(self.config.warehouses):
            match = next((w for w in known if wanted in (w.code, w.name)), None)
            if match is None:
                codes = ", ".join(w.code for w in known) or "(none)"
                problems.append(
                    f"odoo.warehouses[{index}]: no warehouse '{wanted}' in Odoo; known: {codes}"
                )
            elif match not in chosen:
                chosen.append(match)
        if problems:
            raise OdooSetupError(problems)
        return chosen

    def stock_context(self) -> dict[str, Any]:
        """The context that restricts quantities to the configured warehouses.

        The key Odoo honours for a warehouse changed between versions (`warehouse` up to 17,
        `warehouse_id` from 18, per `stock/models/product.py` of each; an unknown key is silently
        ignored and you get every warehouse's stock, as recorded from Odoo 18). `location` with a
        list of location ids has been honoured by `product.product._get_domain_locations` from 16
        through 18 (and 19), counting the child locations of each: the warehouses' view locations
        give exactly their stock, summed.
        """
        return {"location": [w.view_location_id for w in self.warehouses]}

    def storable_domain(self) -> list[Any]:
        """The domain of products whose stock Odoo tracks, by version.

        Odoo 18 made storable products `type='consu'` with `is_storable=True`; before that they
        were `type='product'`. Consumables and services have no meaningful quantity.
        """
        if self.major_version >= 18:
            return [("is_storable", "=", True)]
        return [("type", "=", "product")]

    def product_pages(self) -> Iterator[list[OdooProduct]]:
        """Every storable product with an SKU, a page at a time (a catalog costs a page of memory;
        free_qty figures summed from quants cost the catalog's products, a few MB at 100,000)."""
        if self.config.stock_field == "free_qty":
            products, size = self.quant_products(), self.config.page_size
            for start in range(0, len(products), size):
                yield products[start:start + size]
            return
        domain, fields, context = self._product_query()
        for rows in self._pages("product.product", domain, fields, context):
            yield self._products(rows)

    def read_products(
        self, product_ids: Iterable[int] | None = None, *, skus: Iterable[str] = (),
        written_since: str | None = None,
    ) -> list[OdooProduct]:
        """Stock figures of storable products with an SKU: all, or those listed or written since."""
        domain, fields, context = self._product_query()
        sku = self.config.sku_field
        ids, codes, page = sorted(set(product_ids or ())), sorted(set(skus)), self.config.page_size
        if product_ids is None and self.config.stock_field == "free_qty":
            return self.quant_products()
        if product_ids is None:
            rows = self._read_pages("product.product", domain, fields, context)
        elif len(ids) <= page and len(codes) <= page:
            # The usual poll: a few products, one query (ids, SKUs or written since, OR-ed).
            selectors: list[Any] = [("id", "in", ids)]
            if codes:
                selectors = ["|", *selectors, (sku, "in", codes)]
            if written_since:
                selectors = ["|", *selectors, ("write_date", ">=", written_since)]
            rows = self._read_pages("product.product", [*domain, *selectors], fields, context)
        else:
            # After a burst of writes: each id and SKU sent once, in chunks, rather than all of
            # them again with every page of one query (18,920 ids x 19 pages, seen on Odoo 18).
            found: dict[int, dict[str, Any]] = {}
            for selector, values in (("id", ids), (sku, codes)):
                for start in range(0, len(values), page):
                    found |= {r["id"]: r for r in self.execute(
                        "product.product", "search_read",
                        [[*domain, (selector, "in", values[start:start + page])]],
                        {"fields": fields, "order": "id", "context": context})}
            if written_since:
                found |= {r["id"]: r for r in self._read_pages(
                    "product.product", [*domain, ("write_date", ">=", written_since)], fields,
                    context)}
            rows = [found[i] for i in sorted(found)]
        return self._products(rows)

    def _product_query(self) -> tuple[list[Any], list[str], dict[str, Any]]:
        """Domain, fields and context of a read of storable products with an SKU."""
        sku = self.config.sku_field
        return ([(sku, "!=", False), *self.storable_domain()], [sku, self.config.stock_field],
                self.stock_context())

    def _products(self, rows: list[Any]) -> list[OdooProduct]:
        """Products with an SKU from read rows; a row that is not a product with a finite
        figure is a clear error (nothing is compared or written from such an answer)."""
        sku, stock = self.config.sku_field, self.config.stock_field
        products = []
        for row in rows:
            if not isinstance(row, dict):
                raise OdooError(f"Odoo answered a {type(row).__name__} where a product belongs",
                                retryable=False)
            code = str(row.get(sku) or "").strip()
            if not code:
                continue
            odoo_id, figure = row.get("id"), row.get(stock)
            if type(odoo_id) is not int or not 0 < odoo_id <= ODOO_MAX_ID:
                raise OdooError(f"Odoo answered product {code[:100]!r} with an id that is not an "
                                f"Odoo id: {str(odoo_id)[:40]!r}", retryable=False)
            if type(figure) not in (int, float) or not math.isfinite(figure):
                raise OdooError(f"Odoo answered product {odoo_id} ({code[:100]}) with a {stock} "
                                f"that is not a number: {str(figure)[:40]!r}", retryable=False)
            products.append(OdooProduct(odoo_id, code, float(figure)))
        return products

    def quant_products(self) -> list[OdooProduct]:
        """Every storable product with an SKU and its free_qty summed from its quants in the
        configured warehouses, or Odoo's own free_qty where the sum may differ from it (why and
        when: quant_figures.py): a read of products and one of quants instead of Odoo computing
        free_qty product by product (20,000 products on Odoo 18: about 1.5 s rather than 5 s)."""
        sku, stock = self.config.sku_field, self.config.stock_field
        domain = [(sku, "!=", False), *self.storable_domain()]
        # Narrow rows (about 1 MB of JSON at 10,000): big pages, each far cheaper than two.
        page = max(self.config.page_size, QUANT_PAGE)
        rows = self._read_pages("product.product", domain, ["id", sku], None, page=page)
        if not rows:
            return []
        unsure = {*self._kits(domain), *self._odd_units(domain)}
        expiring = self.major_version >= 19 and self._has_field("stock.quant", "removal_date")
        roots = [w.view_location_id for w in self.warehouses]
        # load=None: the product as a bare id; the default makes Odoo compute its display name.
        quants = self._read_pages(
            "stock.quant", [("location_id", "child_of", roots)],
            ["product_id", "quantity", "reserved_quantity", *(["removal_date"] * expiring)],
            {"active_test": False}, load=None, page=page)
        wanted = {row.get("id") for row in rows if isinstance(row, dict)}
        try:
            free, expired = quant_figures.sums(quants, wanted, expiring=expiring)
        except quant_figures.QuantError as error:
            raise OdooError(f"Odoo answered stock.quant.search_read with {error}",
                            retryable=False) from None
        unsure |= expired
        for row in rows:
            if isinstance(row, dict):  # anything else: _products says what is wrong with it
                row[stock] = quant_figures.exact(free.get(row.get("id"), 0.0))
                if row[stock] is None and type(row.get("id")) is int:
                    unsure.add(row["id"])  # a row with no id: _products says what is wrong
        products = self._products(
            [row for row in rows if not isinstance(row, dict) or row.get("id") not in unsure])
        if unsure:  # kits, odd units, fractions, expiring lots: Odoo's own figure
            products += self.read_products(sorted(unsure))
        return sorted(products, key=lambda p: p.id)

    def _kits(self, domain: list[Any]) -> list[int]:
        """Ids of the kits among the products of `domain` (none without mrp installed)."""
        if not self._has_field("product.product", "is_kits"):
            return []
        return [row["id"] for row in self._read_pages(
            "product.product", [*domain, ("is_kits", "=", True)], ["id"], None)]

    def _odd_units(self, domain: list[Any]) -> list[int]:
        """Ids of the products of `domain` in a unit whose rounding does not divide 1 (Odoo 18
        lets a unit round to 0.3 or 5: an integer sum of quants may round to another figure)."""
        units = self._read_pages("uom.uom", [], ["rounding"], {"active_test": False})
        odd = [row["id"] for row in units if isinstance(row, dict)
               and not quant_figures.divides_one(row.get("rounding"))]
        if not odd:
            return []
        return [row["id"] for row in self._read_pages(
            "product.product", [*domain, ("uom_id", "in", odd)], ["id"], None)]

    def _has_field(self, model: str, name: str) -> bool:
        """Whether Odoo's `model` has the field `name` (a module that adds it is installed)."""
        answer = self.execute(model, "fields_get", [[name]], {"attributes": ["type"]})
        return isinstance(answer, dict) and name in answer

    def products_written_since(self, since: str, seen: window.Seen | None = None
                               ) -> dict[int, str]:
        """Storable products with an SKU whose record was written at/after `since` and not in
        `seen` at that date: id -> write date (no stock figure computed: cheap even when an
        import touched every product)."""
        domain = [(self.config.sku_field, "!=", False), *self.storable_domain(),
                  ("write_date", ">=", since),
                  *unseen_domain((seen or {}).get("product.product", {}))]
        return {row["id"]: row["write_date"]
                for row in self._read_pages("product.product", domain, ["write_date"], None)}

    def changed_since(self, since: str, seen: window.Seen | None = None) -> Delta:
        """Products whose quants or moves in the configured warehouses were written at/after
        `since`, from the rows not in `seen` at their write date."""
        roots = [w.view_location_id for w in self.warehouses]
        domains = {
            "stock.quant": [("write_date", ">=", since), ("location_id", "child_of", roots)],
            "stock.move": [("write_date", ">=", since), "|", ("location_id", "child_of", roots),
                           ("location_dest_id", "child_of", roots)],
        }
        writes: dict[tuple[str, int], tuple[str, int]] = {}
        for model, domain in domains.items():
            domain = [*domain, *unseen_domain((seen or {}).get(model, {}))]
            # load=None: the product as a bare id; the default makes Odoo compute a display name
            # for every row, most of the cost of a page after a burst of writes.
            for row in self._read_pages(model, domain, ["product_id", "write_date"], None,
                                        order="write_date asc, id asc", load=None):
                if row["product_id"]:
                    writes[(model, row["id"])] = (row["write_date"], int(row["product_id"]))
        return Delta(writes, max((written for written, _ in writes.values()), default=None))

    def newest_write(self) -> str | None:
        """The newest quant/move write date in Odoo: where a first delta poll starts from."""
        newest = [
            rows[0]["write_date"]
            for model in ("stock.quant", "stock.move")
            if (rows := self.execute(model, "search_read", [[]],
                                   {"fields": ["write_date"], "order": "write_date desc",
                                    "limit": 1}))
        ]
        return max(newest, default=None)

    # -- sale orders ------------------------------------------------------------------------------

    def find_sale_order(self, reference: str) -> SaleOrder | None:
        """The sale order whose Customer Reference is `reference` (the live one if several)."""
        # `=` is exact (SQL equality), unlike `=ilike`: a reference is never a pattern.
        return self._sale_order([("client_order_ref", "=", reference)])

    def sale_order(self, order_id: int) -> SaleOrder | None:
        """The sale order with this id, or None when it no longer exists."""
        return self._sale_order([("id", "=", order_id)])

    def set_sale_order_reference(self, order_id: int, reference: str) -> None:
        """Set a sale order's Customer Reference (editable on confirmed orders too)."""
        self.execute("sale.order", "write", [[order_id], {"client_order_ref": reference}], {})

    def _sale_order(self, domain: list[Any]) -> SaleOrder | None:
        rows = self.execute("sale.order", "search_read", [domain],
                            {"fields": ["name", "state", "client_order_ref"], "order": "id"})
        if not rows:
            return None
        row = next((r for r in rows if r["state"] != "cancel"), rows[-1])
        lines = self.execute("sale.order.line", "search_read", [[("order_id", "=", row["id"])]],
                             {"fields": ["product_id", "product_uom_qty", "qty_delivered"]})
        return SaleOrder(
            id=row["id"], name=row["name"], state=row["state"],
            reference=row["client_order_ref"] or "",
            quantities={line["product_id"][0]: line["product_uom_qty"] for line in lines},
            line_ids={line["product_id"][0]: line["id"] for line in lines},
            delivered=any(line["qty_delivered"] for line in lines),
        )

    def product_ids(self, skus: Iterable[str]) -> dict[str, int]:
        """Odoo product id per SKU, for SKUs exactly one active product has."""
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        sku = self.config.sku_field
        rows = self.execute("product.product", "search_read", [[(sku, "in", wanted)]],
                            {"fields": [sku]})
        found: dict[str, list[int]] = {}
        for row in rows:
            found.setdefault(str(row[sku]).strip(), []).append(row["id"])
        return {s: ids[0] for s, ids in found.items() if len(ids) == 1}

    def partner_for(self, email: str, name: str, default: str | None) -> int:
        """The partner a shop order is sold to: the configured default, else found or made by email."""
        if default:
            if default.isdigit():
                return int(default)
            email, name = default, default
        if email:
            # `=ilike` takes a pattern: unescaped, `victim_doe@…` found `victim.doe@…` and `%`
            # found anyone. Escaped, it is case-insensitive equality.
            found = self.execute("res.partner", "search",
                                 [[("email", "=ilike", like_literal(email))]],
                                 {"limit": 1, "order": "id"})
            if found:
                return int(found[0])
        return int(self.execute("res.partner", "create",
                                [{"name": name, "email": email or False, "customer_rank": 1}], {}))

    def create_sale_order(self, reference: str, partner_id: int,
                          quantities: dict[int, int]) -> SaleOrder:
        """Create a draft sale order for the first configured warehouse."""
        self.execute("sale.order", "create", [{
            "partner_id": partner_id, "client_order_ref": reference, "origin": reference,
            "warehouse_id": self.warehouses[0].id,
            "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": qty}]
                           for pid, qty in quantities.items()],
        }], {})
        created = self.find_sale_order(reference)
        assert created is not None
        return created

    def set_sale_order_quantities(self, order: SaleOrder, quantities: dict[int, int]) -> None:
        """Make the order's lines hold exactly `quantities` (update and add lines).

        A line no longer wanted is set to 0 rather than deleted: Odoo refuses to delete a line
        of a confirmed order ("set the quantity to 0 instead").
        """
        commands: list[list[Any]] = []
        for product_id, line_id in order.line_ids.items():
            wanted = quantities.get(product_id, 0)
            if order.quantities[product_id] != wanted:
                commands.append([1, line_id, {"product_uom_qty": wanted}])
        commands += [[0, 0, {"product_id": pid, "product_uom_qty": qty}]
                     for pid, qty in quantities.items() if pid not in order.line_ids]
        if commands:
            self.execute("sale.order", "write", [[order.id], {"order_line": commands}], {})

    def confirm_sale_order(self, order_id: int) -> None:
        """Confirm: Odoo reserves the stock, so its free quantity now counts the order."""
        self.execute("sale.order", "action_confirm", [[order_id]], {})

    def cancel_sale_order(self, order_id: int) -> None:
        """Cancel, releasing the reservation.

        Without `disable_cancel_warning` Odoo 18 only returns the cancel wizard and cancels
        nothing (recorded): the context makes it cancel at once.
        """
        self.execute("sale.order", "action_cancel", [[order_id]],
                     {"context": {"disable_cancel_warning": True}})

    def _read_pages(
        self, model: str, domain: list[Any], fields: list[str], context: dict[str, Any] | None,
        order: str = "id", page: int | None = None, **read_options: Any,
    ) -> list[dict[str, Any]]:
        return [row for rows in self._pages(model, domain, fields, context, order, page,
                                            **read_options)
                for row in rows]

    def _pages(
        self, model: str, domain: list[Any], fields: list[str], context: dict[str, Any] | None,
        order: str = "id", page: int | None = None, **read_options: Any,
    ) -> Iterator[list[dict[str, Any]]]:
        size, offset = page or self.config.page_size, 0
        while True:
            options: dict[str, Any] = {"fields": fields, "order": order, "limit": size,
                                       "offset": offset, **read_options}
            if context is not None:
                options["context"] = context
            page = self.execute(model, "search_read", [domain], options)
            if not isinstance(page, list):
                raise OdooError(f"Odoo answered {model}.search_read with a "
                                f"{type(page).__name__}, expected a list", retryable=False)
            if page and offset >= self.max_rows:  # full pages with no end: not a real listing
                raise OdooError(f"Odoo's {model} listing goes on past {self.max_rows:,} rows "
                                f"(woodoo/limits.py MAX_LISTED_ROWS): refused", retryable=False)
            yield page
            offset += len(page)
            if len(page) < size:
                return

    def execute(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call `model.method(*args, **kwargs)` in Odoo, with retries and errors in words."""
        if self.client is None:
            self.connect()
        client = self.client
        assert client is not None

        def attempt() -> Any:
            with self._lock, _translated_errors(self.config.url, f"{model}.{method}",
                                                self.config.timeout):
                return client.execute_kw(model, method, args, kwargs)

        return retry.call(attempt, self.policy, f"odoo.{model}.{method}", self.guard)


class _translated_errors:
    """Run one Odoo call within its timeout (each request and its whole answer: transport), and
    turn odoorpc/urllib failures into OdooError with a message a store owner can act on."""

    def __init__(self, url: str, what: str, timeout: float) -> None:
        self.url = url
        self.what = what
        self.timeout = timeout
        self._scope = transport.deadline(timeout)

    def __enter__(self) -> None:
        self.deadline = self._scope.__enter__()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        self._scope.__exit__(None, None, None)
        if self.deadline.expired:  # whatever broke when the socket was shut, time was up
            raise OdooError(f"Odoo at {self.url} did not answer {self.what} in full within "
                            f"{self.timeout:g} s (the timeout bounds the whole answer)",
                            retryable=True) from None
        if error is None:
            return False
        if isinstance(error, transport.AnswerRefused):
            raise OdooError(f"{error} ({self.what})", retryable=error.retryable) from None
        if isinstance(error, odoorpc.error.RPCError):
            name = (error.info or {}).get("data", {}).get("name", "") if isinstance(error.info, dict) else ""
            if "AccessDenied" in name or "Wrong login" in str(error):
                raise OdooError(
                    f"Odoo at {self.url} refused the login: wrong username, password or API key, "
                    f"or wrong database", retryable=False,
                ) from None
            raise OdooError(f"Odoo refused {self.what}: {cut(error)}", retryable=False) from None
        if isinstance(error, urllib.error.HTTPError) and 300 <= error.code < 400:
            target = urlparse(error.headers.get("Location") or "").netloc or "elsewhere"
            raise OdooError(
                f"Odoo at {self.url} answered {self.what} with HTTP {error.code}, a redirect to "
                f"{cut(target, 100)}: not followed (a call carries the password or the session); "
                f"set odoo.url to the address Odoo answers at", retryable=False,
            ) from None
        if isinstance(error, urllib.error.HTTPError):
            raise OdooError(
                f"Odoo at {self.url} answered HTTP {error.code} to {self.what}",
                retryable=error.code >= 500 or error.code == 429,
            ) from None
        if isinstance(error, urllib.error.URLError):
            reason = getattr(error.reason, "strerror", None) or str(error.reason)
            raise OdooError(f"cannot reach Odoo at {self.url}: {cut(reason)}",
                            retryable=True) from None
        if isinstance(error, TimeoutError):
            raise OdooError(
                f"Odoo at {self.url} did not answer {self.what} in time", retryable=True
            ) from None
        if isinstance(error, (ConnectionError, OSError)):
            raise OdooError(f"connection to Odoo at {self.url} failed: {cut(error)}",
                            retryable=True) from None
        if isinstance(error, http.client.HTTPException):
            raise OdooError(f"Odoo at {self.url} broke off its answer to {self.what}: "
                            f"{cut(repr(error))}", retryable=True) from None
        if isinstance(error, ValueError) and "JSON" in str(error):
            raise OdooError(
                f"Odoo at {self.url} did not answer JSON to {self.what}; is this the Odoo URL?",
                retryable=False,
            ) from None
        return False
