"""Configs that point Woodoo at the simulators (for the demo, the tests and the benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from woodoo import config as config_module
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator


def document(odoo: OdooSimulator, shop: WooSimulator, state_path: Path, /,
             **sections: dict[str, Any]) -> dict[str, Any]:
    """A config document for both simulators; `sections` are merged in, key by key."""
    result: dict[str, Any] = {
        "odoo": {"url": odoo.url, "database": odoo.database, "username": odoo.login,
                 "password": odoo.password, "warehouses": ["WH"], "timeout": 30},
        "woocommerce": {"url": shop.url, "consumer_key": shop.consumer_key,
                        "consumer_secret": shop.consumer_secret, "timeout": 30},
        "state": {"path": str(state_path)},
    }
    for name, values in sections.items():
        result.setdefault(name, {}).update(values)
    return result


def parsed(odoo: OdooSimulator, shop: WooSimulator, state_path: Path, /,
           **sections: dict[str, Any]) -> config_module.Config:
    """The same, validated like a config file."""
    text = yaml.safe_dump(document(odoo, shop, state_path, **sections))
    return config_module.parse(text, base_dir=state_path.parent, source="simulator config")
