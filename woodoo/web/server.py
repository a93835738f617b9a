"""waitress serving a WSGI app from a thread of its own (the daemon's endpoints, the simulators)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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
        if len(adjustments.listen) != 1:
            raise ValueError(f"{host} names {len(adjustments.listen)} addresses; give one")
        # What waitress.create_server does for one address, with our server class.
        self.server = _Server(app, self._map, adj=adjustments, sockinfo=adjustments.listen[0])
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
