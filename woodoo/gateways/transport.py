"""Every remote answer bounded: a deadline on the whole exchange, a size on the whole answer, and
no redirect followed. Both HTTP stacks go through it: requests (the shop, the chat webhook) and
urllib (odoorpc, through the opener it accepts).

Why by hand: requests, urllib3 and urllib bound each socket read, never an exchange (a remote
sending one byte a second kept one 3-second call going for 62 s), and no library sets a deadline
on a whole exchange. Here each call runs in a `deadline` scope; the connections it opens or
reuses are registered with it, and one watchdog thread shuts their sockets down when the scope's
time is up, so that the blocked read returns at once, whatever the library was reading.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from woodoo.gateways.retry import RemoteError

CHUNK = 64 * 1024  # decoded bytes per read: urllib3 inflates at most this much at a time


class AnswerRefused(RemoteError):
    """A remote's answer was not used: too slow, too large, or a redirect (the message says which)."""


class TimedOut(AnswerRefused):
    """The whole exchange took longer than the call's timeout (retryable: the remote may recover)."""

    def __init__(self, remote: str, seconds: float) -> None:
        super().__init__(f"{remote} did not answer in full within {seconds:g} s (the timeout "
                         f"bounds the whole answer, not each read)", retryable=True)


def too_large(remote: str, limit: int) -> AnswerRefused:
    """The refusal of an answer longer than `limit` bytes."""
    return AnswerRefused(f"{remote} answered more than {limit // 2**10:,} KiB (on the wire or "
                         f"decompressed): refused unread (the bound is in woodoo/limits.py)",
                         retryable=False)


def redirected(remote: str, status: int, location: str | None, url: str) -> AnswerRefused:
    """The refusal of a redirect: its target is named by host only (a URL may hold secrets)."""
    target = urlsplit(urljoin(url, location or "")).netloc or "nowhere"
    return AnswerRefused(f"{remote} answered HTTP {status}, a redirect to {target}: not followed "
                         f"(the request's credentials or signature would go with it); give the "
                         f"address the server answers at", retryable=False)


# -- the deadline ----------------------------------------------------------------------------------

class Deadline:
    """One call's time: each HTTP request made in it has `seconds` in all, from its start."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._open = True
        self._connections: list[Any] = []  # http.client/urllib3 connections used in this call
        self._lock = threading.Lock()

    def watch(self, connection: Any) -> None:
        """A request starts on `connection` (or a socket): its time starts now; its socket is
        shut when the time is up."""
        with self._lock:
            self.at = time.monotonic() + self.seconds
            if connection not in self._connections:
                self._connections.append(connection)
        _WATCHDOG.add(self)

    def fire(self) -> None:
        """Time is up: shut the sockets of this call's connections (a blocked read returns)."""
        with self._lock:
            if not self._open or time.monotonic() < self.at:
                return
            self.expired = True
            for connection in self._connections:
                sock = connection if isinstance(connection, socket.socket) else getattr(
                    connection, "sock", None)
                if sock is not None:
                    # socket.socket's own shutdown: on a TLS socket it acts on the descriptor
                    # without touching the TLS object another thread is reading through.
                    with suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def close(self) -> None:
        """The call is over: its connections (back in a pool) are no longer this call's."""
        with self._lock:
            self._open = False
            self._connections.clear()


class _Watchdog:
    """One thread that fires each deadline when its time comes (a heap of times to look at)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._serial = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._wake:
            heapq.heappush(self._heap, (deadline.at, next(self._serial), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadlines",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, deadline = heapq.heappop(self._heap)
            deadline.fire()  # a no-op when the call is over or its time was pushed back


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run a call in which each HTTP request and its whole answer take at most `seconds`."""
    scope = Deadline(seconds)
    outer = getattr(_current, "scope", None)
    _current.scope = scope
    try:
        yield scope
    finally:
        _current.scope = outer
        scope.close()


def _watch(connection: Any) -> None:
    scope: Deadline | None = getattr(_current, "scope", None)
    if scope is not None:
        scope.watch(connection)


# -- requests (the shop, the chat webhook) ---------------------------------------------------------

class _WatchedFromConnect:
    """A urllib3 connection watched from its connection on (a TLS handshake too), and again at
    each request on it."""

    def connect(self) -> None:
        _watch(self)
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedFromConnect, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedFromConnect, urllib3.connection.HTTPSConnection):
    pass


class _WatchedPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, its connections registered with the running call's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def session(pool_size: int = 10) -> requests.Session:
    """A requests session whose connections `fetch` can bound in time (pooled: `pool_size`)."""
    pooled = requests.Session()
    adapter = _WatchedAdapter(pool_connections=2, pool_maxsize=pool_size)
    pooled.mount("http://", adapter)
    pooled.mount("https://", adapter)
    return pooled


def fetch(pooled: requests.Session, method: str, url: str, *, remote: str, limit: int,
          timeout: float, **kwargs: Any) -> requests.Response:
    """Send one request and read its whole answer within `timeout` seconds and `limit` bytes.

    A redirect is refused (AnswerRefused), as are a longer answer and a slower one (TimedOut);
    a failure to connect is requests' own exception. The answer is read: `.json()` works.
    """
    with deadline(timeout) as scope:
        try:
            response = pooled.request(method, url, stream=True, allow_redirects=False,
                                      timeout=timeout, **kwargs)
            try:
                if 300 <= response.status_code < 400:
                    raise redirected(remote, response.status_code,
                                     response.headers.get("Location"), url)
                _read(response, limit, remote)
            finally:
                response.close()  # after a whole read: the connection goes back to the pool
        except (requests.RequestException, OSError):
            if scope.expired:
                raise TimedOut(remote, timeout) from None
            raise
        if scope.expired:  # the answer ended where the socket was shut: it is not whole
            raise TimedOut(remote, timeout)
    return response


def _read(response: requests.Response, limit: int, remote: str) -> None:
    """Read a streamed answer in chunks, counting wire and decoded bytes against `limit`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(remote, limit)
    chunks, total = [], 0
    for chunk in response.iter_content(CHUNK):
        total += len(chunk)
        if total > limit or response.raw.tell() > limit:
            raise too_large(remote, limit)
        chunks.append(chunk)
    # Where requests keeps a body it has read, so that .content, .text and .json() use it.
    response._content = b"".join(chunks)


# -- urllib (odoorpc) --------------------------------------------------------------------------------

class _Watched:
    """A connection whose socket the watchdog shuts at the call's deadline.

    urllib lets go of the connection's socket once the headers are in (the answer holds it):
    the socket itself is watched too, for the body.
    """

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPClientConnection(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPClientSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _BoundedAnswer:
    """An urllib answer whose `read` refuses more than `limit` bytes (the rest as the original)."""

    def __init__(self, answer: Any, limit: int, remote: str) -> None:
        self._answer = answer
        self._limit = limit
        self._remote = remote
        self._taken = 0

    def read(self, amount: int | None = None) -> bytes:
        """Up to `amount` bytes (all when None), refused past the bound."""
        chunks = []
        while amount is None or amount > 0:
            chunk = self._answer.read(CHUNK if amount is None else min(CHUNK, amount))
            if not chunk:
                break
            self._taken += len(chunk)
            if self._taken > self._limit:
                self._answer.close()
                raise too_large(self._remote, self._limit)
            chunks.append(chunk)
            if amount is not None:
                amount -= len(chunk)
        return b"".join(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._answer, name)


class _Bounded(urllib.request.AbstractHTTPHandler):
    """Registers each connection with the call's deadline; wraps each answer in a size bound."""

    def __init__(self, limit: int, remote: str) -> None:
        super().__init__()
        self.limit = limit
        self.remote = remote

    def http_open(self, request: urllib.request.Request) -> Any:
        return self.do_open(_WatchedHTTPClientConnection, request)

    def https_open(self, request: urllib.request.Request) -> Any:
        return self.do_open(_WatchedHTTPClientSConnection, request)

    def http_response(self, request: urllib.request.Request, answer: Any) -> Any:
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.limit:
            answer.close()
            raise too_large(self.remote, self.limit)
        return _BoundedAnswer(answer, self.limit, self.remote)

    https_response = http_response


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects by default: an odoorpc call carries a password or a session."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> None:
        raise urllib.error.HTTPError(req.full_url, code, msg, headers, fp)


def opener(limit: int, remote: str) -> urllib.request.OpenerDirector:
    """An urllib opener (as odoorpc builds its own: with cookies) whose calls are bounded: a
    deadline per request in a `deadline` scope, `limit` bytes per answer, no redirect."""
    built = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                        _NoRedirect())
    # Ahead of urllib's own HTTP(S)Handler (order 500), so that ours opens every request.
    bounded = _Bounded(limit, remote)
    bounded.handler_order = 400
    built.add_handler(bounded)
    return built
