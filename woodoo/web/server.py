"""waitress serving a WSGI app from a thread of its own (the daemon's endpoints, the simulators)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class HttpServer:
    """waitress serving an app from a thread of its own, until `stop`.

    waitress's loop must be closed from its own thread (closing the socket from another breaks
    its select), so the loop runs one round at a time and checks a stop flag between rounds.
    """

    def __init__(self, app: WSGIApp, *, host: str, port: int, threads: int,
                 name: str = "woodoo", **options: Any) -> None:
        self._map: dict[int, Any] = {}
        # poll(), not select(): select() cannot watch a socket numbered 1024 or above, and a
        # server with hundreds of idle clients gets there.
        self.server = waitress.create_server(app, host=host, port=port, threads=threads,
                                             map=self._map, ident=name, asyncore_use_poll=True,
                                             **options)
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
