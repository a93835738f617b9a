"""Fixtures of the end-to-end suite: the running Odoo and WooCommerce named by the environment
(see systems.py), products of the suite's own in both, a daemon process pointed at them, an SMTP
server and a proxy in front of Odoo that the suite can cut.

Without the variables every test here is skipped, with one line saying which are missing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.e2e import systems as real

if real.missing():
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    """One line saying that the suite was skipped, and why, when the systems are not named."""
    if not real.missing():
        return None
    return (f"end-to-end suite skipped: no running Odoo and WooCommerce named "
            f"({', '.join(real.missing())} not set; see README, 'The end-to-end suite')")


@pytest.fixture(scope="session")
def systems() -> real.Systems:
    """The systems from the environment."""
    return real.Systems.from_environment()


@pytest.fixture(scope="session")
def odoo(systems: real.Systems) -> Any:
    """An odoorpc client logged in to the real Odoo (the suite's own eyes, not Woodoo's)."""
    return real.odoo_client(systems.odoo_url, systems.odoo_database, systems.odoo_login,
                            systems.odoo_key)


@pytest.fixture(scope="session")
def shop(systems: real.Systems) -> Any:
    """The WooCommerce REST client on the real shop."""
    return real.shop_client(systems)


@pytest.fixture(scope="module")
def catalog(odoo: Any, shop: Any, systems: real.Systems) -> Iterator[real.CatalogMaker]:
    """The suite's own products (the tests of a module add theirs), removed afterwards."""
    maker = real.CatalogMaker(odoo, shop, systems)
    try:
        yield maker
    finally:
        maker.remove()


# -- what the daemon talks to -----------------------------------------------------------------

class Mailbox:
    """An aiosmtpd handler keeping every message it receives: its subject, then its text."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        body = message.get_body(("plain", "html"))
        self.messages.append(f"{message['subject']}\n{body.get_content() if body else ''}")
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """The suite's own SMTP server on loopback: (what it received, its port)."""
    box = Mailbox()
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def odoo_proxy(systems: real.Systems) -> real.OdooProxy:
    """The relay the daemon reaches Odoo through."""
    return real.OdooProxy(real.host_and_port(systems.odoo_url))


@pytest.fixture(scope="module")
def daemon(systems: real.Systems, catalog: real.CatalogMaker, mailbox: tuple[Mailbox, int],
           odoo_proxy: real.OdooProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[real.Daemon]:
    """The daemon, started once the module's products exist; stopped at the end."""
    directory = tmp_path_factory.mktemp("daemon")
    document = real.daemon_config(systems, catalog.catalog.prefix,
                             f"http://127.0.0.1:{odoo_proxy.port}", mailbox[1],
                             directory / "woodoo.sqlite")
    running = real.Daemon(directory, document)
    yield running
    running.stop()
    if os.environ.get("WOODOO_E2E_SHOW_LOG"):
        print(running.tail(200))
