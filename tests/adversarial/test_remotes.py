"""Hostile remotes: a fake shop, Odoo and chat webhook on 127.0.0.1 (a real HTTP server run by
the test) answering what no real one would, against the gateways' real clients.

Each answer is bounded: in size, compressed and decompressed (a gzip bomb does not grow the
daemon's memory), in time for the whole answer (a remote dripping bytes does not hold a call past
its timeout), in pages (a listing ends at an empty page and never outgrows a catalog), in where it
goes (no redirect is followed: a signed body never reaches another host), and in the text it
brings (an error page is quoted cut, where it enters a message and where it is stored).
"""

from __future__ import annotations

import functools
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adversarial.hostile import TALLY
from woodoo.config import OdooConfig, WooCommerceConfig
from woodoo.gateways import retry
from woodoo.gateways.odoo import OdooError, OdooGateway, list_databases
from woodoo.gateways.woocommerce import PAGE_SIZE, WooError, WooGateway
from woodoo.limits import (
    CHAT_ANSWER_BYTES,
    ODOO_ANSWER_BYTES,
    REMOTE_TEXT_CHARS,
    SHOP_ANSWER_BYTES,
    STORED_TEXT_CHARS,
)
from woodoo.reporting import alerts
from woodoo.state import PushItem, State

PLUGIN_SECRET = "whsec_remote_tests_0123456789abcdefghijkl"
TIMEOUT = 1.0  # woocommerce.timeout / odoo.timeout of the gateways under test
DRIP_BYTES, DRIP_SECONDS = 30, 0.2  # 6 s in all: five times the timeout, one byte per 0.2 s
# An error text holds ours plus one remote quote cut to REMOTE_TEXT_CHARS, never the whole page.
MAX_MESSAGE = REMOTE_TEXT_CHARS + 700
CATEGORY = "hostile remote"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[BaseHTTPRequestHandler, bytes], None]


class Remote:
    """A server on 127.0.0.1 answering each request with `answer` (set per test), recording it."""

    def __init__(self) -> None:
        self.answer: Answer = lambda h, body: reply(h, 404, b"{}")
        self.seen: list[Seen] = []
        remote = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                remote.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                with suppress(OSError):  # the client may hang up on us: that is the point
                    remote.answer(self, body)

            do_GET = do_POST = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self, prefix: str = "") -> list[str]:
        return [s.path for s in self.seen if s.path.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.close()


@pytest.fixture
def elsewhere() -> Iterator[Remote]:
    """Another host (another port: another netloc) that a redirect points to."""
    server = Remote()
    yield server
    server.close()


def reply(h: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    h.send_response(status)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.end_headers()
    h.wfile.write(body)


def drip(h: BaseHTTPRequestHandler, body: bytes, **headers: str) -> None:
    """A valid answer, its body sent one byte every DRIP_SECONDS: each read is quick, the whole
    answer slow."""
    h.send_response(200)
    for name, value in {"Content-Type": "application/json",
                        "Content-Length": str(len(body)), **headers}.items():
        h.send_header(name.replace("_", "-"), value)
    h.end_headers()
    for index in range(len(body)):
        h.wfile.write(body[index:index + 1])
        time.sleep(DRIP_SECONDS)


def drip_headers(h: BaseHTTPRequestHandler, body: bytes) -> None:
    """The status line and headers sent one byte at a time: the answer never even starts."""
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
            f"{'p' * DRIP_BYTES}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    for index in range(len(head)):
        h.wfile.write(head[index:index + 1])
        time.sleep(DRIP_SECONDS)
    h.wfile.write(body)


def padded(value: Any, size: int = DRIP_BYTES) -> bytes:
    """`value` as JSON padded with blanks to `size` bytes (still valid JSON)."""
    text = json.dumps(value).encode()
    return text + b" " * max(size - len(text), 0)


@functools.cache
def gzip_bomb(expanded: int = 512 * 2**20) -> bytes:
    """`expanded` bytes of blanks, gzipped (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * 2**20
    return b"".join(packer.compress(block) for _ in range(expanded // len(block))) + packer.flush()


def peak_memory() -> int:
    """This process's peak resident memory since the last reset (VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def reset_peak() -> int:
    """Start counting the peak afresh (Linux: clear_refs 5), and say where it stands."""
    with suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return peak_memory()


def shop(url: str, **options: Any) -> WooGateway:
    config = WooCommerceConfig(**{"url": url, "consumer_key": "ck_hostile", "timeout": TIMEOUT,
                                  "consumer_secret": "cs_hostile", "concurrency": 2, **options})
    return WooGateway(config, retry.RetryPolicy(retries=0))


def odoo(url: str, timeout: float = TIMEOUT) -> OdooGateway:
    config = OdooConfig(url=url, database="db", username="admin", password="admin",
                        warehouses=["WH"], timeout=timeout, page_size=10)
    return OdooGateway(config, retry.RetryPolicy(retries=0))


def odoo_answer(*, pad: int = 0, rows: Callable[[int, int], list[dict[str, Any]]] | None = None,
                error: str | None = None) -> Answer:
    """A fake Odoo 17 over JSON-RPC: version, login, one warehouse; products from `rows(offset,
    limit)`; `error` as the text of an Odoo error to every model call."""
    def answer(h: BaseHTTPRequestHandler, body: bytes) -> None:
        call = json.loads(body or b"{}")
        params = call.get("params", {})
        result: Any
        if h.path.endswith("version_info"):
            result = {"server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""],
                      "padding": " " * pad}
        elif params.get("service") == "common":
            result = 2
        elif params.get("method") == "execute":
            result = {"lang": "en_US", "tz": "UTC"}
        elif params.get("service") == "db":
            result = ["db"]
        elif error is not None and "product.product" in params.get("args", []):
            reply(h, 200, json.dumps({"jsonrpc": "2.0", "id": call.get("id"), "error": {
                "code": 200, "message": "Odoo Server Error",
                "data": {"name": "odoo.exceptions.UserError", "message": error,
                         "arguments": [error], "debug": error}}}).encode())
            return
        else:
            model, kwargs = params["args"][3], params["args"][6]
            if model == "stock.warehouse":
                result = [{"id": 1, "code": "WH", "name": "Main", "view_location_id": [11, "WH"]}]
            else:
                result = (rows or (lambda offset, limit: []))(kwargs.get("offset", 0),
                                                             kwargs.get("limit", 0))
        reply(h, 200, json.dumps({"jsonrpc": "2.0", "id": call.get("id"),
                                  "result": result}).encode())
    return answer


def refused(call: Callable[[], Any], kind: type[Exception]) -> str:
    """The error `call` raised (it must raise `kind`), counted as one hostile answer."""
    TALLY.inputs[CATEGORY] += 1
    with pytest.raises(kind) as raised:
        call()
    text = str(raised.value)
    assert len(text) < MAX_MESSAGE, f"an error of {len(text)} characters"
    return text


# The plugin's namespace index, as the real one names its namespace (plugin_namespace_index.json).
PLUGIN_ROUTES = {"namespace": "woodoo/v1",
                 "routes": {"/woodoo/v1/catalog": {}, "/woodoo/v1/stock/bulk": {}}}


# -- 4. decompression bombs and oversized answers --------------------------------------------------

def bomb(h: BaseHTTPRequestHandler, body: bytes) -> None:
    reply(h, 200, gzip_bomb(), Content_Encoding="gzip")


@pytest.mark.parametrize("who", ["rest", "plugin", "chat webhook"])
def test_a_gzip_bomb_is_refused_without_growing_memory(remote, who):
    """512 MiB of blanks in 0.5 MB of gzip: refused once the bound is read, in chunks."""
    remote.answer = bomb
    gzip_bomb()  # made before the peak is measured
    before = reset_peak()
    if who == "chat webhook":
        TALLY.inputs[CATEGORY] += 1
        sent, text = alerts.SlackChannel(remote.url, timeout=30).send(alerts.test_message("s"))
        assert not sent
        assert f"more than {CHAT_ANSWER_BYTES // 1024:,} KiB" in text
    else:
        gateway = shop(remote.url, timeout=30, plugin_secret=PLUGIN_SECRET)
        call = gateway.version if who == "rest" else gateway.flush_plugin
        text = refused(call, WooError)
        assert f"more than {SHOP_ANSWER_BYTES // 1024:,} KiB" in text
        assert "woodoo/limits.py" in text
        gateway.close()
    grown = peak_memory() - before
    assert grown < 200 * 2**20, f"the peak memory grew by {grown / 2**20:.0f} MiB"


def test_an_answer_declared_too_long_is_refused_unread(remote):
    big = SHOP_ANSWER_BYTES + 1

    def declared(h: BaseHTTPRequestHandler, body: bytes) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(big))
        h.end_headers()
        h.wfile.write(b"[" + b" " * 1000)  # and never the rest: a reader would wait for it

    remote.answer = declared
    text = refused(shop(remote.url, timeout=30).version, WooError)
    assert "more than" in text and "KiB" in text


def test_an_endless_chunked_answer_is_cut_at_the_bound(remote):
    def endless(h: BaseHTTPRequestHandler, body: bytes) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b" " * 2**20
        for _ in range(SHOP_ANSWER_BYTES // len(chunk) + 8):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        h.wfile.write(b"0\r\n\r\n")

    remote.answer = endless
    assert "more than" in refused(shop(remote.url, timeout=30).version, WooError)


def test_an_oversized_odoo_answer_is_refused(remote):
    remote.answer = odoo_answer(pad=ODOO_ANSWER_BYTES + 1)
    bound = f"more than {ODOO_ANSWER_BYTES // 1024:,} KiB"
    assert bound in refused(odoo(remote.url, timeout=30).connect, OdooError)
    assert bound in refused(lambda: list_databases(remote.url, timeout=30), OdooError)


# -- 5. the timeout bounds the whole call ----------------------------------------------------------

@pytest.mark.parametrize("how", ["body", "headers"])
def test_a_dripping_shop_is_cut_at_the_timeout(remote, how):
    body = padded({"environment": {"version": "9.9"}})
    remote.answer = (lambda h, _: drip(h, body)) if how == "body" else (
        lambda h, _: drip_headers(h, body))
    text = refused(shop(remote.url).version, WooError)
    assert f"did not answer in full within {TIMEOUT:g} s" in text


def test_a_dripping_plugin_is_cut_at_the_timeout(remote):
    remote.answer = lambda h, _: drip(h, padded({"sent": 0}))
    text = refused(shop(remote.url, plugin_secret=PLUGIN_SECRET).flush_plugin, WooError)
    assert "the Woodoo plugin" in text and f"within {TIMEOUT:g} s" in text


def test_a_dripping_odoo_is_cut_at_the_timeout(remote):
    honest = odoo_answer()

    def slow_version(h: BaseHTTPRequestHandler, body: bytes) -> None:
        if h.path.endswith("version_info"):
            drip(h, padded({"jsonrpc": "2.0", "id": 1, "result": {"server_version": "17.0"}}))
        else:
            honest(h, body)

    remote.answer = slow_version
    assert f"within {TIMEOUT:g} s" in refused(odoo(remote.url).connect, OdooError)
    assert f"within {TIMEOUT:g} s" in refused(
        lambda: list_databases(remote.url, timeout=TIMEOUT), OdooError)


def test_a_dripping_odoo_model_call_is_cut_at_the_timeout(remote):
    honest = odoo_answer()

    def slow_reads(h: BaseHTTPRequestHandler, body: bytes) -> None:
        if b"product.product" in body:
            drip(h, padded({"jsonrpc": "2.0", "id": 1, "result": []}))
        else:
            honest(h, body)

    remote.answer = slow_reads
    gateway = odoo(remote.url)
    gateway.connect()
    text = refused(lambda: list(gateway.product_pages()), OdooError)
    assert "product.product.search_read" in text and f"within {TIMEOUT:g} s" in text


def test_a_dripping_chat_webhook_is_cut_at_the_timeout(remote):
    remote.answer = lambda h, _: drip(h, b"ok" + b" " * DRIP_BYTES)
    TALLY.inputs[CATEGORY] += 1
    sent, text = alerts.SlackChannel(remote.url, timeout=TIMEOUT).send(alerts.test_message("s"))
    assert not sent and f"within {TIMEOUT:g} s" in text


# -- 6. page counts are the remote's word ------------------------------------------------------------

PRODUCT = {"id": 11, "sku": "SKU-1", "type": "simple", "manage_stock": True,
           "stock_quantity": 3, "stock_status": "instock", "backorders": "no", "name": "One"}


def rest_listing(total_pages: int, stop_after: int) -> Answer:
    """Page 1 holds one product, every other page is empty; X-WP-TotalPages says `total_pages`.
    After `stop_after` requests the shop answers 404 (so that a reader that trusts the count
    ends, in error, rather than reads for hours)."""
    served = iter(range(10**9))

    def answer(h: BaseHTTPRequestHandler, body: bytes) -> None:
        if next(served) >= stop_after:
            reply(h, 404, b'{"code": "rest_no_route"}')
            return
        rows = [PRODUCT] if parse_qs(urlsplit(h.path).query)["page"] == ["1"] else []
        reply(h, 200, json.dumps(rows).encode(), X_WP_TotalPages=str(total_pages))
    return answer


def test_a_million_claimed_pages_are_refused_at_once(remote):
    remote.answer = rest_listing(1_000_000, stop_after=300)
    gateway = shop(remote.url)
    text = refused(lambda: list(gateway.item_pages()), WooError)
    assert "1,000,000 pages" in text and "X-WP-TotalPages" in text
    assert len(remote.paths("/wp-json/wc/v3/products")) == 1


def test_an_empty_page_ends_a_listing(remote):
    remote.answer = rest_listing(500, stop_after=10**9)
    gateway = shop(remote.url)
    TALLY.inputs[CATEGORY] += 1
    pages = list(gateway.item_pages())
    assert [i.sku for page in pages for i in page] == ["SKU-1"]
    # Page 1, then the read-ahead (twice the concurrency): not the 500 pages claimed.
    assert len(remote.paths("/wp-json/wc/v3/products")) <= 1 + 2 * gateway.config.concurrency


def catalog_answer(next_id: Callable[[int], int | None], stop_after: int = 100) -> Answer:
    """The plugin's catalog route, one item a page, next_after_id from `next_id(after)`; after
    `stop_after` pages it ends (a reader that trusts it ends, with no error)."""
    served = iter(range(10**9))

    def answer(h: BaseHTTPRequestHandler, body: bytes) -> None:
        if h.command == "GET":
            reply(h, 200, json.dumps(PLUGIN_ROUTES).encode())
            return
        after = json.loads(body)["after_id"]
        following = next_id(after) if next(served) < stop_after else None
        item = {**PRODUCT, "id": after + 1, "sku": f"SKU-{after + 1}"}
        reply(h, 200, json.dumps({"items": [item], "next_after_id": following}).encode())
    return answer


@pytest.mark.parametrize("step", [0, -5])
def test_a_catalog_page_that_goes_back_is_refused(remote, step):
    remote.answer = catalog_answer(lambda after: after + step)
    gateway = shop(remote.url, plugin_secret=PLUGIN_SECRET)
    text = refused(lambda: list(gateway.item_pages()), WooError)
    assert "odd next_after_id" in text
    assert len(remote.paths("/wp-json/woodoo/v1/catalog")) == 1


def test_a_catalog_that_never_ends_is_refused_at_the_bound(remote):
    remote.answer = catalog_answer(lambda after: after + 1)
    gateway = shop(remote.url, plugin_secret=PLUGIN_SECRET)
    gateway.max_rows = 4 * 5000  # four pages of the route's 5,000: the bound, made small
    text = refused(lambda: list(gateway.item_pages()), WooError)
    assert "goes on past 20,000 items" in text
    # The four pages the bound fills, and one more that might have been the empty last one.
    assert len(remote.paths("/wp-json/woodoo/v1/catalog")) == 5


def test_odoo_pages_that_never_end_are_refused_at_the_bound(remote):
    def full(offset: int, limit: int) -> list[dict[str, Any]]:
        # Every page full, for 50 pages (then an honest end, for a reader that trusts them).
        return [] if offset >= 50 * limit else [
            {"id": offset + i + 1, "default_code": f"P{offset + i}", "free_qty": 1.0}
            for i in range(limit)]

    remote.answer = odoo_answer(rows=full)
    gateway = odoo(remote.url)
    gateway.max_rows = 100
    gateway.connect()
    text = refused(lambda: list(gateway.product_pages()), OdooError)
    assert "goes on past 100 rows" in text


# -- 7. no redirect is followed -------------------------------------------------------------------

def redirect_to(target: Remote, status: int) -> Answer:
    def answer(h: BaseHTTPRequestHandler, body: bytes) -> None:
        reply(h, status, b"", Location=f"{target.url}{h.path}")
    return answer


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_signed_call_never_follows_a_redirect(remote, elsewhere, status):
    remote.answer = redirect_to(elsewhere, status)
    text = refused(shop(remote.url, plugin_secret=PLUGIN_SECRET).flush_plugin, WooError)
    assert f"HTTP {status}, a redirect to 127.0.0.1:" in text and "not followed" in text
    assert elsewhere.seen == []  # neither the body nor its signature went there


@pytest.mark.parametrize("status", [301, 307])
def test_a_rest_call_never_follows_a_redirect(remote, elsewhere, status):
    remote.answer = redirect_to(elsewhere, status)
    gateway = shop(remote.url)
    assert "not followed" in refused(gateway.version, WooError)
    assert "not followed" in refused(
        lambda: gateway.push([PushItem("SKU-1", 11, 0, 5, "instock")]), WooError)
    assert elsewhere.seen == []  # the OAuth-signed query never went there


@pytest.mark.parametrize("status", [302, 307])
def test_odoo_never_follows_a_redirect(remote, elsewhere, status):
    remote.answer = redirect_to(elsewhere, status)
    text = refused(odoo(remote.url).connect, OdooError)
    assert f"HTTP {status}, a redirect to 127.0.0.1:" in text and "odoo.url" in text
    assert elsewhere.seen == []


def test_the_chat_webhook_never_follows_a_redirect(remote, elsewhere):
    remote.answer = redirect_to(elsewhere, 307)
    TALLY.inputs[CATEGORY] += 1
    sent, text = alerts.SlackChannel(remote.url, timeout=TIMEOUT).send(alerts.test_message("s"))
    assert not sent and "not followed" in text
    assert elsewhere.seen == []


# -- 8. remote text is cut ------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(size=st.one_of(st.integers(0, 2000), st.integers(2000, 300_000)),
       char=st.characters(codec="utf-8"), status=st.sampled_from([400, 403, 409, 500, 503]))
def test_a_shop_error_page_is_quoted_cut(size, char, status):
    message = char * size
    with Remote() as server:
        server.answer = lambda h, _: reply(h, status, json.dumps(
            {"code": "rest_error", "message": message}).encode())
        text = refused(shop(server.url).version, WooError)
    assert f"HTTP {status}" in text
    assert message[:REMOTE_TEXT_CHARS] in text  # what it said is still there, the start of it


def test_a_batch_answer_with_huge_reasons_is_quoted_cut(remote):
    huge = "no! " * 50_000
    remote.answer = lambda h, _: reply(h, 200, json.dumps({"update": [
        {"id": 11, "error": {"code": "woocommerce_rest_invalid_id" + "x" * 5000, "message": huge}},
        {"id": 12, "manage_stock": True, "stock_quantity": huge},
        huge,
    ]}).encode())
    TALLY.inputs[CATEGORY] += 3
    items = [PushItem("A", 11, 0, 1, "instock"), PushItem("B", 12, 0, 1, "instock"),
             PushItem("C", 13, 0, 1, "instock")]
    outcome = shop(remote.url).push(items)
    assert [i.sku for i, _ in outcome.failed] == ["A", "B", "C"]
    for _, reason in outcome.failed:
        assert len(reason) < MAX_MESSAGE, f"a reason of {len(reason)} characters"


def test_an_odoo_error_text_is_quoted_cut(remote):
    remote.answer = odoo_answer(error="Boom. " * 40_000)
    gateway = odoo(remote.url)
    gateway.connect()
    text = refused(lambda: gateway.read_products([1]), OdooError)
    assert text.startswith("Odoo refused product.product.search_read: ")


def test_stored_reasons_are_cut_again(tmp_path):
    """The second line of defence: a reason that reached a store whole is stored cut."""
    TALLY.inputs[CATEGORY] += 2
    state = State(tmp_path / "state.sqlite")
    state.dead_letters.add("SKU-1", "x" * 100_000, "test")
    state.runs.record("poll", "run-1", time.time(), error="y" * 100_000)
    (letter,) = state.dead_letters.open()
    assert len(letter.reason) < STORED_TEXT_CHARS + 50
    assert len(state.runs.last("poll")["error"]) < STORED_TEXT_CHARS + 50


def test_a_shop_listing_one_page_too_many_is_refused(remote):
    """The bound itself: exactly as many pages as max_rows fill is a listing; one more is not."""
    gateway = shop(remote.url)
    gateway.max_rows = 3 * PAGE_SIZE
    remote.answer = rest_listing(3, stop_after=10**9)
    TALLY.inputs[CATEGORY] += 1
    assert [i.sku for page in gateway.item_pages() for i in page] == ["SKU-1"]
    remote.answer = rest_listing(4, stop_after=10**9)
    assert "4 pages" in refused(lambda: list(gateway.item_pages()), WooError)


# -- 11. quants that are not quants (free_qty summed from them on a full read) --------------------

def quant_answer(quant: Any) -> Answer:
    """A fake Odoo 17 with one product, P7, whose one quant in the warehouse is `quant`."""
    honest = odoo_answer()

    def answer(h: BaseHTTPRequestHandler, body: bytes) -> None:
        call = json.loads(body or b"{}")
        args = call.get("params", {}).get("args", [])
        if len(args) > 4 and args[4] == "search_read" and args[3] in ("product.product",
                                                                      "stock.quant"):
            rows = [{"id": 7, "default_code": "P7"}] if args[3] == "product.product" else [quant]
            reply(h, 200, json.dumps({"jsonrpc": "2.0", "id": call.get("id"),
                                      "result": rows}).encode())
            return
        honest(h, body)
    return answer


@pytest.mark.parametrize(("quant", "says"), [
    ("P7", "a str where a quant belongs"),
    ({"id": 1, "product_id": "7", "quantity": 5, "reserved_quantity": 0},
     "quant 1 has a product_id that is no id: '7'"),
    ({"id": 1, "product_id": [7, "P7"], "quantity": 5, "reserved_quantity": 0},
     "product_id that is no id"),
    ({"id": 1, "product_id": 7, "quantity": "5", "reserved_quantity": 0},
     "quant 1 of product 7 has a quantity that is not a number"),
    ({"id": 1, "product_id": 7, "quantity": 5, "reserved_quantity": None}, "not a number"),
    ({"id": 1, "product_id": 7, "quantity": float("inf"), "reserved_quantity": 0}, "not a number"),
    ({"id": 1, "product_id": 7, "quantity": 5, "reserved_quantity": float("nan")}, "not a number"),
])
def test_a_quant_odoo_answers_oddly_is_a_clear_error(remote, quant, says):
    remote.answer = quant_answer(quant)
    gateway = odoo(remote.url)
    gateway.connect()
    text = refused(gateway.read_products, OdooError)
    assert "Odoo answered stock.quant.search_read with" in text and says in text
