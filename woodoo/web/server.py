"""waitress serving a WSGI app from a thread of its own (the daemon's endpoints, the simulators)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from woodoo.errors import WoodooError

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PortUnavailable(WoodooError):
    """The address and port the config names cannot be listened on; says which key to change."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            why = ("is already in use by another process (another Woodoo daemon? each daemon "
                   "needs its own server.port)")
        elif error.errno == errno.EACCES:
            why = "needs privileges this user does not have (ports below 1024 do)"
        else:
            why = f"cannot be listened on: {error.strerror or error}"
        super().__init__(f"server.port: {host}:{port} {why}; set server.port (and server.host) "
                         f"in the config to a free one")


def _listen_on(adjustments: Adjustments) -> tuple[Any, ...]:
    """The one address `adjustments` names, as waitress binds it."""
    if len(adjustments.listen) != 1:
        raise ValueError(f"{adjustments.host} names {len(adjustments.listen)} addresses; give one")
    return tuple(adjustments.listen[0])


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortUnavailable unless `host:port` can be listened on now (bound and let go at once).

    Asked before the daemon does any work, so that a second daemon given the first one's port
    stops at once, in words, rather than after connecting to Odoo (or never, in a traceback).
    Bound as waitress binds (SO_REUSEADDR: a port in TIME_WAIT is free, one listened on is not).
    """
    if port == 0:
        return
    family, kind, proto, address = _listen_on(Adjustments(host=host, port=port))
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise PortUnavailable(host, port, error) from None


class _ArrivalChannel(HTTPChannel):
    """waitress's channel, noting when the request it is receiving began to arrive."""

    arriving: tuple[object, float] | None = None  # (the request being parsed, its first byte)

    def received(self, data: bytes) -> bool:
        """Parse as waitress does, then note a request that has begun and not ended."""
        result = bool(super().received(data))
        if self.request is None:
            self.arriving = None
        elif self.arriving is None or self.arriving[0] is not self.request:
            self.arriving = (self.request, time.time())
        return result


class _Server(TcpWSGIServer):
    """waitress's TCP server, which also drops a request that has not arrived whole in time.

    Hand-written because waitress has no such bound: its `channel_timeout` counts inactivity,
    and a client sending one byte every few seconds resets it for ever (1,010 such clients held
    every connection slot, and /healthz and valid events waited). Checked from waitress's own
    maintenance round (every `cleanup_interval`), the way it closes idle channels.
    """

    channel_class = _ArrivalChannel
    request_deadline: float | None = None

    def maintenance(self, now: float) -> None:
        """Close idle channels (waitress), and those whose request is late to arrive whole."""
        super().maintenance(now)
        if self.request_deadline is None:
            return
        cutoff = now - self.request_deadline
        for channel in list(self.active_channels.values()):
            arriving = getattr(channel, "arriving", None)
            if arriving is not None and arriving[1] < cutoff:
                channel.will_close = True


class HttpServer:
    """waitress serving an app from a thread of its own, until `stop`.

    waitress's loop must be closed from its own thread (closing the socket from another breaks
    its select), so the loop runs one round at a time and checks a stop flag between rounds.
    """

    def __init__(self, app: WSGIApp, *, host: str, port: int, threads: int,
                 name: str = "woodoo", request_deadline: float | None = None,
                 **options: Any) -> None:
        """Bind `host:port` (one address); `request_deadline`: seconds a request may take to
        arrive whole (None: no bound); `options`: waitress's adjustments."""
        self._map: dict[int, Any] = {}
        # poll(), not select(): select() cannot watch a socket numbered 1024 or above, and a
        # server with hundreds of idle clients gets there.
        adjustments = Adjustments(host=host, port=port, threads=threads, ident=name,
                                  asyncore_use_poll=True, **options)
        # What waitress.create_server does for one address, with our server class; taken
        # meanwhile (after ensure_port_free), the port is refused in the same words.
        try:
            self.server = _Server(app, self._map, adj=adjustments,
                                  sockinfo=_listen_on(adjustments))
        except OSError as error:
            raise PortUnavailable(host, port, error) from None
        self.server.request_deadline = request_deadline
        self._stop = threading.Event()
        self._grace = 5.0
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    @property
    def port(self) -> int:
        """The port bound (useful when 0 asked for any free one)."""
        return int(self.server.effective_port)

    def start(self) -> HttpServer:
        """Serve in the background; returns self."""
        self._thread.start()
        return self

    def stop(self, *, grace: float = 5) -> None:
        """Stop accepting, let requests in progress finish (`grace` seconds), close everything."""
        self._grace = grace
        self._stop.set()
        self._thread.join(timeout=grace + 10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.server.asyncore.loop(timeout=0.05, use_poll=True, map=self._map, count=1)
        self.server.close()
        self.server.task_dispatcher.shutdown(timeout=self._grace)
        for channel in list(self._map.values()):
            channel.close()
