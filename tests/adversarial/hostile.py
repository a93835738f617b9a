"""What the adversarial tests share: the tally of hostile inputs, and a client that checks each answer.

Every hostile request goes through `Target.hostile` (or `Target.raw`), which counts it and holds it
to the rules the suite exists for: never a 5xx, nothing stored on a 4xx, a short answer that does
not echo what was sent, and (against the whole daemon) a worker still alive afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from woodoo.web import signing

ODOO_SECRET = "adv_odoo_secret_0123456789abcdefghijklmnop"
SHOP_SECRET = "adv_shop_secret_0123456789abcdefghijklmnop"
TOKEN = "adv-native-token-0123456789abcdefghijklmno"
ROUTES = {"/webhooks/odoo": signing.ODOO_EVENTS, "/webhooks/woocommerce": signing.SHOP_EVENTS}
SECRETS = {"/webhooks/odoo": ODOO_SECRET, "/webhooks/woocommerce": SHOP_SECRET}
# A refusal says what was wrong in words; anything longer is echoing the sender's input back
# (a rejected field's name is shown, cut to 100 characters, JSON-escaped: up to 6 bytes each).
MAX_ANSWER_BYTES = 2048
MAX_LINE_QUANTITY = 100_000  # orders.max_line_quantity in the suite's configs


@dataclass
class Tally:
    """Real counts over the whole run, printed at the end (see conftest.py)."""

    inputs: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    stored_on_rejection: list[str] = field(default_factory=list)
    worker_checks: int = 0
    worker_failures: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return [*(f"5xx: {s}" for s in self.server_errors),
                *(f"stored on rejection: {s}" for s in self.stored_on_rejection),
                *(f"worker: {s}" for s in self.worker_failures)]

    def summary(self) -> str:
        total = sum(self.inputs.values())
        alive = "yes" if self.worker_checks and not self.worker_failures else (
            "NO" if self.worker_failures else "not checked")
        return (f"adversarial: {total} hostile inputs, 5xx: {len(self.server_errors)}, "
                f"stored on rejection: {len(self.stored_on_rejection)}, worker alive after each: "
                f"{alive} ({self.worker_checks} checks)")

    def breakdown(self) -> str:
        categories = ", ".join(f"{name} {count}" for name, count in sorted(self.inputs.items()))
        statuses = ", ".join(f"{code or 'closed'}: {count}"
                             for code, count in sorted(self.statuses.items()))
        return f"  by category: {categories}\n  by answer: {statuses}"


TALLY = Tally()


def now() -> int:
    return int(time.time())


def odoo_now(offset: float = 0) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset))


_serial = iter(range(1, 10**9))


def fresh_id(prefix: str = "adv") -> str:
    """An event id never used before in this run: an accepted duplicate would hide a store."""
    return f"{prefix}-{time.monotonic_ns()}-{next(_serial)}"


def signed_headers(body: bytes, path: str = "/webhooks/odoo", *, secret: str | None = None,
                   route: str | None = None, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    route = route or ROUTES[path]
    header = signing.sign(body, secret or SECRETS[path], route, timestamp)
    return {"Content-Type": content_type, signing.HEADER: header}


def odoo_event(**fields: Any) -> dict[str, Any]:
    return {"event_id": fresh_id("odoo"), "product_ids": [1], "odoo_time": odoo_now(), **fields}


def order_event(store_url: str, **fields: Any) -> dict[str, Any]:
    """A valid order event: 'pending' takes no stock, so accepted ones leave the shop alone."""
    number = next(_serial)
    order = {"id": 7_000_000 + number, "number": f"ADV{number}", "status": "pending",
             "date_modified": "2026-11-23T13:52:30Z", "currency": "EUR",
             "customer": {"email": "adv@example.com"},
             "lines": [{"line_id": 1, "product_id": 11, "variation_id": 0, "sku": "WDG-1001",
                        "quantity": 2, "refunded_quantity": 0}]}
    return {"event_id": fresh_id("order"), "event": "order.created", "store_url": store_url,
            "sent_at": None, "refund": None, "order": order, **fields}


def native_body(**fields: Any) -> dict[str, Any]:
    return {"_action": "Send Webhook Notification(#1)", "_id": next(_serial),
            "_model": "stock.quant", "product_id": 1, "warehouse_id": 1,
            "write_date": odoo_now(), **fields}


class Target:
    """A running server and the events table behind it."""

    def __init__(self, url: str, db_path: Path,
                 worker_alive: Callable[[], str | None] | None = None) -> None:
        self.url = url
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self._db = sqlite3.connect(db_path, check_same_thread=False)
        self._lock = threading.Lock()
        self.worker_alive = worker_alive

    def close(self) -> None:
        self._db.close()

    def stored(self) -> int:
        with self._lock:
            return self._db.execute("select count(*) from events").fetchone()[0]

    def hostile(self, category: str, method: str, path: str, *, body: bytes = b"",
                headers: dict[str, Any] | None = None, expect: set[int] | None = None,
                label: str = "", stores: bool = False) -> Answer:
        """Send one hostile request and check the answer; `stores`: a 2xx may add one row."""
        before = self.stored()
        answer = http_exchange(self.host, self.port, method, path, body, headers or {})
        self._judge(category, f"{method} {path[:60]} {label}", answer.status_code,
                    self.stored() - before, answer.content, expect, stores)
        return answer

    def raw(self, category: str, request: bytes, *, expect: set[int] | None = None,
            label: str = "", stores: bool = False) -> int:
        """Send bytes that no HTTP client would; 0 when the server closed without an answer."""
        before = self.stored()
        status, content = raw_exchange(self.host, self.port, request)
        self._judge(category, label or repr(request[:60]), status, self.stored() - before,
                    content, expect, stores)
        return status

    def _judge(self, category: str, label: str, status: int, added: int, content: bytes,
               expect: set[int] | None, stores: bool) -> None:
        TALLY.inputs[category] += 1
        TALLY.statuses[status] += 1
        where = f"[{category}] {label}: {status} {content[:200]!r}"
        if status >= 500:
            TALLY.server_errors.append(where)
        rejected = status >= 400 or status == 0 or not stores
        if rejected and added:
            TALLY.stored_on_rejection.append(f"{where} (+{added} rows)")
        worker = None
        if self.worker_alive is not None:
            TALLY.worker_checks += 1
            worker = self.worker_alive()
            if worker is not None:
                TALLY.worker_failures.append(f"after {where}: {worker}")
        assert status < 500, where
        assert not (rejected and added), f"{where}: stored {added} row(s)"
        assert worker is None, f"after {where}: {worker}"
        if status >= 400:
            assert len(content) < MAX_ANSWER_BYTES, f"{where}: answer of {len(content)} bytes"
        if expect is not None:
            assert status in expect, f"{where}: expected {sorted(expect)}"


@dataclass
class Answer:
    """What the server said; status 0 when it closed the connection without a word."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.content)


def http_exchange(host: str, port: int, method: str, path: str, body: bytes,
                  headers: dict[str, Any]) -> Answer:
    """One request with http.client: unlike requests, it sends header values as they are given
    (leading blanks, NUL, raw UTF-8 bytes), refusing only CR and LF."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            framed = {name.lower() for name in headers} & {"content-length", "transfer-encoding"}
            if not framed and (body or method not in ("GET", "HEAD")):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        except OSError:
            pass  # refused before the whole body was taken: the answer may still be there
        try:
            response = connection.getresponse()
            return Answer(response.status, response.read(), dict(response.getheaders()))
        except (OSError, http.client.HTTPException):
            return Answer(0, b"", {})
    finally:
        connection.close()


def raw_exchange(host: str, port: int, request: bytes, timeout: float = 1.5) -> tuple[int, bytes]:
    """Write `request` as is and read one answer; (0, b"") when the server closed, or said
    nothing within `timeout` (it waits for more: a stalled request, bounded by channel_timeout)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        # The server may refuse and close before taking it all: read what it said anyway.
        with contextlib.suppress(OSError):
            sock.sendall(request)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, content = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                           if line.lower().startswith(b"content-length:")), None)
            while length is not None and len(content) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                content += chunk
        except (ConnectionResetError, TimeoutError):
            head, content = data.partition(b"\r\n\r\n")[::2]
    if not head.startswith(b"HTTP/"):
        return 0, b""
    return int(head.split(b" ", 2)[1]), content
