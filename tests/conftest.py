"""Shared fixtures: both simulators on real HTTP, and configs pointing at them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from woodoo import config as config_module
from woodoo import daemon
from woodoo.engine import Engine
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def odoo() -> Iterator[OdooSimulator]:
    """The Odoo simulator with the demo catalog (warehouses WH and RET)."""
    with OdooSimulator() as simulator:
        simulator.load_catalog()
        yield simulator


@pytest.fixture
def shop_with_ids() -> Iterator[tuple[WooSimulator, dict[str, int]]]:
    """The WooCommerce simulator with the demo catalog, and the catalog's ids by SKU."""
    with WooSimulator() as simulator:
        yield simulator, simulator.load_catalog()


@pytest.fixture
def shop(shop_with_ids) -> WooSimulator:
    """The WooCommerce simulator with the demo catalog."""
    return shop_with_ids[0]


@pytest.fixture
def shop_ids(shop_with_ids) -> dict[str, int]:
    """WooCommerce ids of the demo catalog, by SKU (parents included)."""
    return shop_with_ids[1]


def config_document(odoo: OdooSimulator, shop: WooSimulator, tmp_path: Path, /,
                    **sections: dict[str, Any]) -> dict[str, Any]:
    """A config dict for the two simulators with fast retries; `sections` are merged in."""
    document = simulator_config.document(
        odoo, shop, tmp_path / "woodoo.sqlite",
        sync={"retries": 2, "retry_base_seconds": 0.01, "poll_interval": 1},
        logging={"level": "warning", "format": "json"},
        server={"port": 0},
    )
    for name, values in sections.items():
        document.setdefault(name, {}).update(values)
    return document


@pytest.fixture
def make_config(odoo, shop, tmp_path):
    """Build a validated config for the simulators (sections merged in)."""

    def build(**sections: dict[str, Any]) -> config_module.Config:
        text = yaml.safe_dump(config_document(odoo, shop, tmp_path, **sections))
        return config_module.parse(text, base_dir=tmp_path)

    return build


@pytest.fixture
def make_config_file(odoo, shop, tmp_path):
    """Write a config file for the simulators (sections merged in) and return its path."""

    def build(**sections: dict[str, Any]) -> Path:
        path = tmp_path / "woodoo.yaml"
        path.write_text(yaml.safe_dump(config_document(odoo, shop, tmp_path, **sections)))
        return path

    return build


@pytest.fixture
def make_engine(make_config):
    """Build engines on the simulators (closed at the end of the test)."""
    opened = []

    def build(*, clock: Callable[[], float] = time.time, **sections: dict[str, Any]) -> Engine:
        context = daemon.open_engine(make_config(**sections), clock=clock)
        opened.append(context)
        return context.__enter__()

    yield build
    for context in reversed(opened):
        context.__exit__(None, None, None)


@pytest.fixture
def engine(make_engine) -> Engine:
    """An engine on the simulators with the default test config (warehouse WH)."""
    return make_engine()


@pytest.fixture
def smtp_server():
    """Start SMTP servers on loopback: `smtp_server(handler, **controller_options) -> port`."""
    from aiosmtpd.controller import Controller
    from helpers import free_port

    running = []

    def start(handler: object, **options: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        running.append(controller)
        return port

    yield start
    for controller in running:
        controller.stop()
