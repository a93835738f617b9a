"""Hostile user agents on signed calls: the version each part says is read, stored and shown
bounded (woodoo/compat.py, woodoo/web/peers.py), never a 5xx, never more than a short printable
note in the state, and the status route still answers."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest
import requests

from adversarial.hostile import SHOP_SECRET, fresh_id, odoo_now, signed_headers
from woodoo import __version__, compat
from woodoo.web import peers, signing

UA_CASES: dict[str, bytes] = {
    "8 KB inside the comment": b"woodoo-webhook/1.0.0 (" + b"A" * 8000 + b")",
    "just over the bound": b"woodoo-webhook/1.0.0 (" + b"B" * (compat.MAX_AGENT - 20) + b")",
    "the product alone": b"woodoo-webhook/",
    "no product": b"/1.0.0",
    "two dots": b"woodoo-webhook/1..0 (Odoo)",
    "five numbers": b"woodoo-webhook/1.0.0.0.0 (Odoo)",
    "negative": b"woodoo-webhook/-1.0.0 (Odoo)",
    "exponent": b"woodoo-webhook/1e3.0.0 (Odoo)",
    "2^64 major": b"woodoo-webhook/18446744073709551616.0.0 (Odoo)",
    "seven-digit major": b"woodoo-webhook/1000000.0.0 (Odoo)",
    "largest six-digit numbers": b"woodoo-webhook/999999.999999.999999 (Odoo)",
    "0.0.0": b"woodoo-webhook/0.0.0 (Odoo)",
    "fullwidth digits (UTF-8)": "woodoo-webhook/１.０.０ (Odoo)".encode(),
    "Arabic-Indic digits (UTF-8)": "woodoo-webhook/١.٠.٠ (Odoo)".encode(),
    "latin-1 byte in the comment": b"woodoo-webhook/1.0.0 (Odoo \xe9)",
    "an escape sequence": b"woodoo-webhook/1.0.0 (\x1b[31mOdoo\x1b[0m)",
    "DEL": b"woodoo-webhook/1.0.0\x7f",
    "a tab before the comment": b"woodoo-webhook/1.0.0\t(Odoo)",
    "markup": b"<script>alert(1)</script>/1.0.0",
    "the plugin's product on the Odoo route": b"WoodooCompanion/1.0.0",
    "the agent 50 times": b"woodoo-webhook/1.0.0 (Odoo) " * 50,
    "a version with a pre-release": b"woodoo-webhook/1.0.0-rc.1 (Odoo)",
    "empty": b"",
    "blanks": b"   ",
    "a JSON quote": b'woodoo-webhook/1.0.0 (Odoo)", "level": "works',
    "a newer major": b"woodoo-webhook/7.0.0 (Odoo)",
    "the v1-era 1.0": b"woodoo-webhook/1.0 (Odoo)",
}
LEVELS = {"works", "limited", "broken", "unknown"}


def heartbeat() -> bytes:
    return json.dumps({"event_id": fresh_id("ua"), "heartbeat": True,
                       "odoo_time": odoo_now()}).encode()


def status(live: Any) -> dict[str, Any]:
    body = b"{}"
    headers = signed_headers(body, secret=SHOP_SECRET, route=signing.SHOP_STATUS)
    answer = requests.post(f"{live.url}/webhooks/status", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text  # a check after the case, not a hostile input
    return answer.json()


def stored_agent(live: Any) -> str | None:
    with sqlite3.connect(live.config.state.path) as db:
        row = db.execute("select value from meta where key = ?", [peers.key("module")]).fetchone()
    return json.loads(row[0])["agent"] if row else None


@pytest.mark.parametrize("case", list(UA_CASES))
def test_a_hostile_user_agent_is_read_bounded(live, case):
    agent = UA_CASES[case]
    body = heartbeat()
    headers = {**signed_headers(body), "User-Agent": agent}
    answer = live.target.hostile("user agent", "POST", "/webhooks/odoo", body=body,
                                 headers=headers, expect={200, 400, 431}, label=case)
    assert answer.status_code != 200 or answer.headers.get(compat.HEADER) == __version__
    module = status(live)["parts"]["module"]
    assert module is not None and module["level"] in LEVELS
    assert module["version"] is None or re.fullmatch(compat.VERSION, module["version"])
    assert len(module["words"]) <= 500 and module["words"].isprintable()
    shown = stored_agent(live)
    assert shown is not None and len(shown) <= peers.MAX_SHOWN and re.fullmatch(r"[ -~]*", shown)


def test_the_parts_are_heard_as_they_are_once_the_hostile_agents_are_gone(live):
    body = heartbeat()
    headers = {**signed_headers(body), "User-Agent": f"woodoo-webhook/{__version__} (Odoo)"}
    live.target.hostile("user agent", "POST", "/webhooks/odoo", body=body, headers=headers,
                        expect={200}, label="the module's own agent")
    assert status(live)["parts"]["module"]["level"] == "works"
