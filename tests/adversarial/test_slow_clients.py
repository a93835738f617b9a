"""Idle, stalled, dripping and endless clients against the daemon's own server (`daemon.serve`, as
`run` starts it): while they hold connections, a valid event and /healthz are answered at once,
and an endless chunked body is refused without being buffered. And a remote that never answers,
while /readyz is asked again and again."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests
import yaml
from helpers import daemon_thread, free_port, wait_for

from adversarial.conftest import daemon_sections
from adversarial.hostile import ODOO_SECRET, TALLY, odoo_event, signed_headers
from woodoo import config as config_module
from woodoo import daemon
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator
from woodoo.state import State
from woodoo.web.metrics import Metrics
from woodoo.web.webhooks import create_app

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


class Blackhole:
    """A TCP server that accepts every connection and never answers (a firewall that drops)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.listener.accept()[0])
            except OSError:
                return  # closed

    def close(self) -> None:
        """Close everything: whoever waits on it gets a reset at once."""
        self.listener.close()
        for held in self.held:
            held.close()


@contextmanager
def daemon_with_a_blackholed_shop(tmp_path: Path) -> Iterator[str]:
    """`woodoo run` (in a thread) whose shop accepts connections and never answers, with the
    shop's default 30 s timeout; its base URL."""
    hole = Blackhole()
    port = free_port()
    sections = {**daemon_sections(port), "orders": {"enabled": False}}
    with OdooSimulator() as odoo, WooSimulator() as shop:
        odoo.load_catalog()
        document = simulator_config.document(odoo, shop, tmp_path / "woodoo.sqlite", **sections)
        document["woocommerce"]["url"] = hole.url
        config = config_module.parse(yaml.safe_dump(document), base_dir=tmp_path)
        with daemon_thread(config, lambda url: _answers(f"{url}/healthz")) as url:
            try:
                yield url
            finally:
                hole.close()  # the poll waiting on the shop fails now, and the daemon stops


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


def test_readyz_hammered_while_the_shop_is_blackholed_blocks_no_one(tmp_path):
    """/readyz used to probe the remotes inside the request, with retries: against a remote that
    never answers, a few /readyz held every request thread for a minute and more, and /healthz
    and valid events waited. Now it answers from memory, whatever the remotes do."""
    answers: Counter[int] = Counter()
    ages: list[float | None] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            try:
                answer = requests.get(f"{url}/readyz", timeout=60)
                answers[answer.status_code] += 1
                ages.append(answer.json()["age_seconds"])
            except requests.RequestException:
                answers[0] += 1
            done.wait(0.05)

    with daemon_with_a_blackholed_shop(tmp_path) as url:
        hammers = [threading.Thread(target=hammer, daemon=True) for _ in range(32)]
        for thread in hammers:
            thread.start()
        try:
            time.sleep(1)  # every hammer has a /readyz in flight, several times over
            for _ in range(3):
                # Generous bounds: the old /readyz held the threads for 60 s and more.
                assert requests.get(f"{url}/healthz", timeout=20).status_code == 200
                body = json.dumps(odoo_event()).encode()
                event = requests.post(f"{url}/webhooks/odoo", data=body, timeout=20,
                                      headers=signed_headers(body))
                assert event.status_code == 202, event.text
            # The probe gave up on the shop within its own short deadline, and says so.
            assert wait_for(lambda: requests.get(f"{url}/readyz", timeout=20).json()["checks"]
                            .get("woocommerce", "").startswith("unreachable"), timeout=30)
        finally:
            done.set()
            for thread in hammers:
                thread.join(timeout=90)
    TALLY.inputs["slow client"] += sum(answers.values())
    assert set(answers) <= {503}, answers  # never ready, never a connection refused or timeout
    assert any(age is not None for age in ages)


DRIPPERS = 60  # more than the server's connection_limit below


def test_dripping_clients_are_dropped_and_healthz_and_events_get_through(tmp_path):
    """Clients sending one byte every half second, more than the server takes at once: each
    byte used to reset waitress's inactivity timeout, so they held every slot for ever. A
    request not arrived whole within server.request_timeout is now dropped."""
    config = config_module.parse(yaml.safe_dump({
        "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
                 "warehouses": ["WH"]},
        "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck",
                        "consumer_secret": "cs"},
        "server": {"port": 0, "connection_limit": 50, "channel_timeout": 30,
                   "request_timeout": 2},
        "webhooks": {"odoo_secrets": [ODOO_SECRET]},
        "state": {"path": "w.sqlite"},
    }), base_dir=tmp_path)
    state = State(config.state.path)
    server = daemon.serve(create_app(config, state, Metrics()), config).start()
    url = f"http://127.0.0.1:{server.port}"
    done = threading.Event()
    dropped = Counter[str]()
    request = b"POST /webhooks/odoo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"{" * 100

    def drip() -> None:
        clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(DRIPPERS)]
        sent = 0
        while not done.is_set() and clients:
            for client in list(clients):
                try:
                    client.send(request[sent % len(request):][:1])
                except OSError:  # dropped by the server: the point
                    dropped["dropped"] += 1
                    clients.remove(client)
                    client.close()
            sent += 1
            done.wait(0.5)
        for client in clients:
            client.close()

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1)  # the drippers hold every connection the server takes
        # Generous bounds: before the fix neither was ever answered while the drip went on.
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
        body = json.dumps(odoo_event()).encode()
        answer = requests.post(f"{url}/webhooks/odoo", data=body, timeout=30,
                               headers=signed_headers(body))
        assert answer.status_code == 202, answer.text
        assert wait_for(lambda: dropped["dropped"] >= DRIPPERS // 2, timeout=30), dropped
    finally:
        done.set()
        dripper.join(timeout=30)
        server.stop(grace=1)
        state.close()
    TALLY.inputs["slow client"] += DRIPPERS
