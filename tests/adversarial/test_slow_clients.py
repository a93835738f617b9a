"""Idle, stalled and endless clients against the daemon's own server (`daemon.serve`, as `run`
starts it): while they hold connections, a valid event and /healthz are answered at once, and an
endless chunked body is refused without being buffered."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import requests

from adversarial.hostile import TALLY, odoo_event, signed_headers

IDLE, STALLED = 200, 200


def rss_bytes() -> int:
    """This process's resident memory: the server runs in it."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


@contextmanager
def hostile_clients(port: int) -> Iterator[list[socket.socket]]:
    """IDLE connections that send nothing, STALLED ones that send headers and half a body."""
    with ExitStack() as stack:
        clients = []
        for _ in range(IDLE):
            clients.append(stack.enter_context(socket.create_connection(("127.0.0.1", port))))
        body = json.dumps(odoo_event()).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(body).items())
        for _ in range(STALLED):
            client = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            client.sendall(f"POST /webhooks/odoo HTTP/1.1\r\nHost: x\r\n{head}"
                           f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:len(body) // 2])
            clients.append(client)
        TALLY.inputs["slow client"] += IDLE + STALLED
        time.sleep(0.3)  # let the server accept them all before anything is measured
        yield clients


def timed(function, *args, **kwargs):
    start = time.monotonic()
    result = function(*args, **kwargs)
    return time.monotonic() - start, result


def test_idle_and_stalled_connections_do_not_block_anyone(live):
    with hostile_clients(live.port) as clients:
        for _ in range(3):
            body = json.dumps(odoo_event()).encode()
            took, answer = timed(requests.post, f"{live.url}/webhooks/odoo", data=body,
                                 headers=signed_headers(body), timeout=10)
            assert answer.status_code == 202 and took < 1.0, (answer.status_code, took)
            took, answer = timed(requests.get, f"{live.url}/healthz", timeout=10)
            assert answer.status_code == 200 and took < 1.0, took
        # The server still holds them (nothing answered, nothing closed): they were really open.
        readable, _, _ = select.select(clients, [], [], 0)
        assert len(readable) < len(clients) // 2
    live.prove_worker_alive()


def test_an_endless_chunked_body_is_refused_without_being_buffered(live):
    chunk = b"x" * 2**20
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    limit = 300 * 2**20
    body = json.dumps(odoo_event()).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(body).items())
    before = rss_bytes()
    sent = 0
    start = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", live.port), timeout=2) as client:
        client.sendall(f"POST /webhooks/odoo HTTP/1.1\r\nHost: x\r\n{head}"
                       "Transfer-Encoding: chunked\r\n\r\n".encode())
        try:
            while sent < limit:
                readable, _, _ = select.select([client], [], [], 0)
                if readable:
                    break  # the server answered (or closed): stop, as a sender would
                client.sendall(framed)
                sent += len(chunk)
        except OSError:
            pass  # refused and closed under us
        try:
            answer = client.recv(4096)
        except OSError:
            answer = b""
    took = time.monotonic() - start
    TALLY.inputs["slow client"] += 1
    TALLY.statuses[int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/") else 0] += 1
    grown = rss_bytes() - before
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert took < 3.0, f"refused only after {took:.1f} s"
    assert sent < 32 * 2**20, f"the server took {sent / 2**20:.0f} MiB before refusing"
    assert grown < 50 * 2**20, f"the process grew by {grown / 2**20:.0f} MiB"
    live.prove_worker_alive()
