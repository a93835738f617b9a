"""Serve a simulator's WSGI app over real HTTP on 127.0.0.1, with latency and fault injection.

Both simulators (Odoo JSON-RPC, WooCommerce REST) run on this: tests and the demo talk to them
through the real client libraries, so the transport must be real HTTP, keep-alive included.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from woodoo.web.server import HttpServer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator answered: what was asked and what status it got."""

    method: str
    path: str
    query: str
    status: int
    at: float
    seconds: float = 0.0  # spent answering it, added latency left out: the simulated server's work


@dataclass
class _Fault:
    status: int | None  # None: answer normally, after `delay`
    body: bytes
    headers: dict[str, str]
    path_prefix: str | None
    delay: float = 0.0


@dataclass
class Faults:
    """What the simulator should do wrong: added latency and canned failures for the next requests."""

    latency: float = 0.0
    delays_begun: int = 0  # how many delayed answers have started waiting (tests wait on it)
    _queue: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next `count` requests (optionally only those under `path_prefix`) with `status`."""
        with self._lock:
            for _ in range(count):
                self._queue.append(_Fault(status, body, dict(headers or {}), path_prefix))

    def delay_next(self, count: int = 1, *, seconds: float, path_prefix: str | None = None) -> None:
        """Answer the next `count` requests (under `path_prefix`) normally, but `seconds` late."""
        with self._lock:
            for _ in range(count):
                self._queue.append(_Fault(None, b"", {}, path_prefix, seconds))

    def clear(self) -> None:
        """Forget every pending failure and the added latency."""
        with self._lock:
            self._queue.clear()
            self.latency = 0.0

    def take(self, path: str) -> _Fault | None:
        """Pop the first pending failure that applies to `path`, if any."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.path_prefix is None or path.startswith(fault.path_prefix):
                    return self._queue.pop(index)
        return None


class SimulatorServer:
    """Run a WSGI app on 127.0.0.1 in a background thread; count requests; inject faults; go down."""

    def __init__(self, app: WSGIApp, *, port: int = 0, name: str = "simulator") -> None:
        self.app = app
        self.name = name
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self._clients: set[tuple[Any, Any]] = set()  # (address, port) of each client connection
        self._port = port
        self._server: HttpServer | None = None
        self._log_lock = threading.Lock()

    @property
    def port(self) -> int:
        """The TCP port the simulator listens on (fixed once started, kept across go_down/come_back)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def running(self) -> bool:
        """True while the simulator accepts connections."""
        return self._server is not None

    def start(self) -> SimulatorServer:
        """Bind and serve in a background thread; returns self so it can be chained."""
        if self._server is not None:
            return self
        # waitress, not werkzeug's development server: that one closes every connection, and
        # real shops and Odoo servers keep them alive, which the clients' pools rely on.
        self._server = HttpServer(
            self._wsgi, host="127.0.0.1", port=self._port, threads=16, name=self.name,
            # The WooCommerce simulator models a WordPress behind a TLS proxy (X-Forwarded-Proto).
            clear_untrusted_proxy_headers=False,
        ).start()
        self._port = self._server.port
        return self

    def stop(self) -> None:
        """Stop serving and drop every open connection (like a crashed server)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=0.5)

    def go_down(self) -> None:
        """Refuse connections from now on (state is kept); `come_back` serves again on the same port."""
        self.stop()

    def come_back(self) -> None:
        """Serve again on the same port after `go_down`."""
        self.start()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests matched `method` (any if None) and began with `path_prefix`."""
        with self._log_lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(path_prefix)
            )

    def counts(self) -> Counter[tuple[str, str]]:
        """Requests counted by (method, path)."""
        with self._log_lock:
            return Counter((r.method, r.path) for r in self.requests)

    @property
    def connections_seen(self) -> int:
        """How many distinct client connections sent requests (to check that clients reuse them)."""
        return len(self._clients)

    def busy_seconds(self) -> float:
        """The time spent answering the requests recorded so far (added latency left out)."""
        with self._log_lock:
            return sum(r.seconds for r in self.requests)

    def reset_log(self) -> None:
        """Forget the requests recorded so far (to count only what a test step does)."""
        with self._log_lock:
            self.requests.clear()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self._clients.add((environ.get("REMOTE_ADDR"), environ.get("REMOTE_PORT")))
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self.faults.take(request.path)
        if fault is not None and fault.status is None:
            self.faults.delays_begun += 1
            time.sleep(fault.delay)
        elif fault is not None:
            # A canned failure still consumes the body so keep-alive connections stay in sync.
            request.get_data()
            response = Response(fault.body, status=fault.status, headers=fault.headers)
            if fault.body[:1] in (b"{", b"["):
                response.content_type = "application/json; charset=UTF-8"
            self._record(request, fault.status)
            return response(environ, start_response)

        status_holder: list[int] = []

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            status_holder.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        started = time.perf_counter()
        body = self.app(environ, recording_start_response)
        self._record(request, status_holder[0] if status_holder else 0,
                     time.perf_counter() - started)
        return body

    def _record(self, request: Request, status: int, seconds: float = 0.0) -> None:
        entry = RecordedRequest(
            request.method, request.path, request.query_string.decode("latin-1"), status,
            time.time(), seconds,
        )
        with self._log_lock:
            self.requests.append(entry)
