"""A running Odoo stopped and started again under two daemons: calls while it is down, and how
soon each is ready again once Odoo answers.

The systems are named by the end-to-end suite's WOODOO_E2E_* variables (README, "The end-to-end
suite"); how to stop and start that Odoo is given on the command line (this script builds and
knows nothing of it), e.g. `--stop "systemctl stop odoo" --start "systemctl start odoo"`.
Two daemons watch the same Odoo, each through a relay that counts its requests, with the
breaker's default settings: one is the module's webhook target (it hears Odoo's heartbeat when
Odoo has loaded its database), the baseline hears nothing and waits out its cool-down. For the
run, the Odoo's `woodoo_webhook.url` names the first one; it is put back afterwards.

Run: ./dev bench recovery --stop CMD --start CMD [--down 150]. Writes its table into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from bench.common import machine_info, markdown_table, write_section
from tests.e2e import systems as real

URL_PARAMETER = "woodoo_webhook.url"
EVERY = 0.2  # how often Odoo and the daemons are looked at, in seconds


def free_port() -> int:
    """A TCP port nobody listens on now, on 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def ready(port: int) -> bool:
    """Whether the daemon on `port` says Odoo is reachable and its breaker closed."""
    try:
        checks = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()["checks"]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return False
    return checks.get("odoo") == "ok" and checks.get("breaker_odoo") == "ok"


def odoo_answers(systems: real.Systems) -> bool:
    """Whether Odoo answers HTTP at all (any status: it runs)."""
    try:
        requests.post(f"{systems.odoo_url}/web/webclient/version_info", json={}, timeout=2)
    except requests.RequestException:
        return False
    return True


@contextlib.contextmanager
def webhook_target(systems: real.Systems, port: int) -> Iterator[bool]:
    """Point the module's events at `port` for the run; whether the module is installed."""
    odoo = real.odoo_client(systems.odoo_url, systems.odoo_database, systems.odoo_login,
                            systems.odoo_key)
    installed = bool(odoo.env["ir.module.module"].search_count(
        [("name", "=", "woodoo_webhook"), ("state", "=", "installed")]))
    if not installed:
        yield False
        return
    params = odoo.env["ir.config_parameter"]
    before = params.get_param(URL_PARAMETER)
    params.set_param(URL_PARAMETER, f"http://127.0.0.1:{port}")
    try:
        yield True
    finally:
        odoo = real.odoo_client(systems.odoo_url, systems.odoo_database, systems.odoo_login,
                                systems.odoo_key)
        odoo.env["ir.config_parameter"].set_param(URL_PARAMETER, before or "")


def daemon(systems: real.Systems, directory: Path, proxy: real.OdooProxy, port: int
           ) -> real.Daemon:
    """A daemon on `port` reaching Odoo through `proxy`, with the breaker's defaults."""
    document: dict[str, Any] = real.daemon_config(
        systems, "RECOVERY-NONE-", f"http://127.0.0.1:{proxy.port}", 25,
        directory / "woodoo.sqlite")
    document.pop("circuit_breaker")  # the defaults a shop runs with
    document["smtp"]["host"] = None
    document["sync"]["poll_interval"] = 30
    document["server"]["port"] = port
    directory.mkdir()
    return real.Daemon(directory, document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stop", help="the shell command that stops this Odoo")
    parser.add_argument("--start", help="the shell command that starts it again")
    parser.add_argument("--down", type=float, default=150.0, help="seconds Odoo stays down")
    parser.add_argument("--wait", type=float, default=360.0,
                        help="seconds to wait for each daemon once Odoo answers")
    args = parser.parse_args()
    if real.missing() or not (args.stop and args.start):
        # `./dev bench` runs every script: without systems and commands this one skips
        print("bench recovery skipped: it needs the WOODOO_E2E_* variables and --stop/--start "
              "commands for that Odoo")
        return
    systems = real.Systems.from_environment()
    heard_port, baseline_port = systems.daemon_port, free_port()
    proxies = {name: real.OdooProxy(real.host_and_port(systems.odoo_url))
               for name in ("heard", "baseline")}
    with tempfile.TemporaryDirectory() as tmp, webhook_target(systems, heard_port) as module:
        daemons = {"heard": daemon(systems, Path(tmp, "heard"), proxies["heard"], heard_port),
                   "baseline": daemon(systems, Path(tmp, "baseline"), proxies["baseline"],
                                      baseline_port)}
        rows = measure(systems, daemons, proxies, args, module)
    body = "\n\n".join([
        "## Recovery after Odoo was stopped (`bench/recovery.py`)",
        f"Odoo {systems.odoo_url} stopped for {args.down:.0f} s under two running daemons, "
        f"then started; {machine_info()}. Requests counted by a relay in front of Odoo per "
        f"daemon; \"ready\" is `/readyz` saying Odoo is reachable and its breaker closed, "
        f"looked at every {EVERY} s from Odoo's first HTTP answer (a request that, like a first "
        f"visitor's, has Odoo load its database). Breaker defaults (5 "
        f"failures, cool-down 10 s doubling to 300 s).",
        markdown_table(["daemon", "Odoo requests while down", "ready after Odoo answers (s)"],
                       rows),
    ])
    print(body)
    write_section("recovery", body)


def measure(systems: real.Systems, daemons: dict[str, real.Daemon],
            proxies: dict[str, real.OdooProxy], args: argparse.Namespace, module: bool
            ) -> list[list[Any]]:
    """Stop Odoo, start it again, and time each daemon's recovery."""
    for each in daemons.values():
        each.start()
    try:
        time.sleep(5)
        for proxy in proxies.values():
            proxy.connections = 0
        subprocess.run(args.stop, shell=True, check=True)
        time.sleep(args.down)
        while_down = {name: proxy.connections for name, proxy in proxies.items()}
        marks: dict[str, float] = {}
        watcher = threading.Thread(target=watch, args=(systems, daemons, marks, args.wait),
                                   daemon=True)
        watcher.start()
        subprocess.run(args.start, shell=True, check=True, capture_output=True)
        watcher.join(timeout=args.wait + 120)
    finally:
        for each in daemons.values():
            each.stop()
    labels = {"heard": "the module's webhook target" if module else "no module installed",
              "baseline": "baseline: hears nothing, waits out its cool-down"}
    return [[labels[name], while_down[name],
             f"{marks[name] - marks['odoo']:.1f}" if name in marks and "odoo" in marks
             else f"not within {args.wait:.0f} s"] for name in daemons]


def watch(systems: real.Systems, daemons: dict[str, real.Daemon], marks: dict[str, float],
          wait: float) -> None:
    """Note when Odoo first answers and when each daemon is ready again (time.monotonic)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(marks) < len(daemons) + 1:
        now = time.monotonic()
        if "odoo" not in marks and odoo_answers(systems):
            marks["odoo"] = now
        for name, each in daemons.items():
            if name not in marks and "odoo" in marks and ready(each.port):
                marks[name] = now
        time.sleep(EVERY)


if __name__ == "__main__":
    main()
