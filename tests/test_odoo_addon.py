"""The Odoo module odoo-addon/woodoo_webhook, without Odoo: its pure files, manifest, data files.

`odoo-addon` is not an importable package name, so the pure files (which import nothing from
Odoo) are loaded by path. The Odoo-bound files are only compiled and inspected here.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from woodoo import odoo_setup, signing

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "odoo-addon" / "woodoo_webhook"
VECTORS = json.loads((ROOT / "tests" / "vectors" / "signatures.json").read_text("utf-8"))
CASES = VECTORS["cases"]
T = datetime(2026, 11, 23, 13, 52, 34)


def load(name: str) -> ModuleType:
    """A pure file of the module, imported by path under a private name."""
    path = ADDON / "lib" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"woodoo_webhook_lib_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


addon_signing = load("woodoo_signing")
payload = load("payload")


def line(record_id: int, product_id: int | None, sku: str | None,
         *locations: tuple[str, str | None]) -> object:
    return payload.StockLine(record_id, product_id, sku, tuple(locations))


INTERNAL_WH = ("internal", "WH")
INTERNAL_RET = ("internal", "RET")
CUSTOMERS = ("customer", None)
ADJUSTMENT = ("inventory", None)


# -- signing: the shared vectors, both ways ------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_addon_verifies_every_vector_like_the_daemon(case):
    body = case["body"].encode("utf-8")

    def outcome(module: ModuleType) -> object:
        try:
            return module.verify(body, case["header"], [case["secret"]], now=case["timestamp"])
        except module.SignatureError:
            return "rejected"

    expected = case["timestamp"] if case["valid"] else "rejected"
    assert outcome(addon_signing) == expected
    assert outcome(signing) == expected  # the daemon's verifier agrees on the same case


@pytest.mark.parametrize("case", [c for c in CASES if c["valid"]], ids=lambda c: c["name"])
def test_addon_signs_exactly_the_vector_headers(case):
    body = case["body"].encode("utf-8")
    assert addon_signing.sign(body, case["secret"], case["timestamp"]) == case["header"]
    assert addon_signing.digest(body, case["secret"], case["timestamp"]) == signing.digest(
        body, case["secret"], case["timestamp"])


def test_a_body_signed_by_the_addon_verifies_with_the_daemon_and_back():
    [event] = payload.build_events("stock.quant", [line(15, 9, "WDG-1009", INTERNAL_WH)],
                                   "txn-1", T)
    body = payload.encode(event)
    now = 1_795_441_954
    header = addon_signing.sign(body, "whsec_test", now)
    assert signing.verify(body, header, ["old-secret", "whsec_test"], now=now + 10) == now
    with pytest.raises(signing.SignatureError):
        signing.verify(body + b" ", header, ["whsec_test"], now=now)
    with pytest.raises(signing.SignatureError):  # stale: beyond the 300 s tolerance
        signing.verify(body, header, ["whsec_test"], now=now + 301)
    back = signing.sign(body, "whsec_test", now)
    assert addon_signing.verify(body, back, ["whsec_test"], now=now) == now
    with pytest.raises(addon_signing.SignatureError):
        addon_signing.verify(body, back, ["other"], now=now)
    # A rotation header with one v1 per secret is accepted by either side.
    both = f"{back},v1={addon_signing.digest(body, 'new', now)}"
    assert addon_signing.verify(body, both, ["new"], now=now) == now
    assert signing.verify(body, both, ["new"], now=now) == now


def test_addon_rejects_malformed_headers_like_the_daemon():
    for header in (None, "", "v1=abc", "t=12", "t=abc,v1=00", "t=-1,v1=00"):
        for module in (addon_signing, signing):
            with pytest.raises(module.SignatureError):
                module.verify(b"{}", header, ["k"], now=12)
    with pytest.raises(TypeError):  # str bodies would be re-encoded: sign the bytes sent
        addon_signing.sign("{}", "k", 1)


# -- payload building ----------------------------------------------------------------------------

def test_one_event_groups_the_products_of_a_call():
    lines = [line(3, 2, "WDG-1002", INTERNAL_WH), line(31, 18, "TSH-S-RED", INTERNAL_WH),
             line(4, 2, "WDG-1002", INTERNAL_WH)]
    [event] = payload.build_events("stock.quant", lines, "txn", T)
    assert event == {"event_id": event["event_id"], "product_ids": [2, 18],
                     "skus": ["TSH-S-RED", "WDG-1002"], "warehouse": "WH",
                     "odoo_time": "2026-11-23 13:52:34"}
    assert list(event) == ["event_id", "product_ids", "skus", "warehouse", "odoo_time"]


def test_quants_outside_internal_and_transit_locations_are_skipped():
    assert payload.build_events("stock.quant", [line(40, 5, "WDG-1005", ADJUSTMENT),
                                                line(55, 5, "WDG-1005", CUSTOMERS)], "t", T) == []
    [event] = payload.build_events("stock.quant", [line(40, 5, "A", ADJUSTMENT),
                                                   line(8, 6, "B", INTERNAL_WH),
                                                   line(9, 7, "C", ("transit", None))], "t", T)
    assert event["product_ids"] == [6, 7]
    assert event["skus"] == ["B", "C"]
    assert event["warehouse"] is None  # WH and a transit location of no warehouse
    assert payload.build_events("stock.quant", [], "t", T) == []
    assert payload.build_events("stock.quant", [line(1, None, "X", INTERNAL_WH)], "t", T) == []


def test_moves_count_when_either_end_is_stock():
    delivery = line(43, 5, "WDG-1005", INTERNAL_WH, CUSTOMERS)
    adjustment = line(42, 5, "WDG-1005", ADJUSTMENT, INTERNAL_WH)
    outside = line(50, 5, "WDG-1005", ("supplier", None), CUSTOMERS)  # dropship
    [event] = payload.build_events("stock.move", [delivery, adjustment, outside], "t", T)
    assert event["product_ids"] == [5]
    assert event["warehouse"] == "WH"
    [transfer] = payload.build_events("stock.move",
                                      [line(60, 5, "WDG-1005", INTERNAL_WH, INTERNAL_RET)], "t", T)
    assert transfer["warehouse"] is None  # two warehouses: the daemon reads both
    assert payload.build_events("stock.move", [outside], "t", T) == []


def test_skus_are_trimmed_and_blank_ones_left_out():
    [event] = payload.build_events("stock.quant", [line(1, 1, "  A-1 ", INTERNAL_WH),
                                                   line(2, 2, "   ", INTERNAL_WH),
                                                   line(3, 3, None, INTERNAL_WH)], "t", T)
    assert event["product_ids"] == [1, 2, 3]
    assert event["skus"] == ["A-1"]


def test_event_ids_are_stable_and_unique_per_transaction():
    lines = [line(15, 9, "WDG-1009", INTERNAL_WH), line(3, 2, "WDG-1002", INTERNAL_WH)]
    first = payload.build_events("stock.quant", lines, "812@2026-11-23T13:52:34.123456", T)
    again = payload.build_events("stock.quant", list(reversed(lines)),
                                 "812@2026-11-23T13:52:34.123456", T + timedelta(seconds=5))
    other = payload.build_events("stock.quant", lines, "813@2026-11-23T13:52:35.000001", T)
    moves = payload.build_events("stock.move", lines, "812@2026-11-23T13:52:34.123456", T)
    assert first[0]["event_id"] == again[0]["event_id"]  # same records, same transaction
    assert first[0]["event_id"] != other[0]["event_id"]
    assert first[0]["event_id"] != moves[0]["event_id"]
    assert re.fullmatch(r"odoo-quant-3-[0-9a-f]{16}", first[0]["event_id"])
    assert re.fullmatch(r"odoo-move-3-[0-9a-f]{16}", moves[0]["event_id"])
    # Only the records that count name the event: a skipped quant does not change it.
    with_skipped = payload.build_events(
        "stock.quant", [*lines, line(40, 5, "X", ADJUSTMENT)], "812@2026-11-23T13:52:34.123456", T)
    assert with_skipped[0]["event_id"] == first[0]["event_id"]


def test_bodies_stay_under_64_kib_by_splitting_with_derived_ids():
    lines = [line(i, i, f"SKU-{i:06d}-" + "x" * 40, INTERNAL_WH) for i in range(1, 3001)]
    events = payload.build_events("stock.quant", lines, "t", T)
    assert len(events) > 1
    assert all(len(payload.encode(e)) <= payload.MAX_BODY_BYTES for e in events)
    assert sorted(p for e in events for p in e["product_ids"]) == list(range(1, 3001))
    base = events[0]["event_id"]
    assert [e["event_id"] for e in events[1:]] == [f"{base}-{n}" for n in
                                                   range(2, len(events) + 1)]
    assert payload.build_events("stock.quant", lines, "t", T) == events  # deterministic
    with pytest.raises(ValueError):
        payload.build_events("stock.quant", [line(1, 1, "x" * 500, INTERNAL_WH)], "t", T,
                             max_bytes=100)


def test_encoding_is_compact_utf8_json():
    [event] = payload.build_events("stock.quant", [line(1, 7, "TSHIRT-Ü-€", INTERNAL_WH)], "t", T)
    body = payload.encode(event)
    assert b", " not in body and b": " not in body
    assert "TSHIRT-Ü-€".encode() in body
    assert json.loads(body.decode("utf-8")) == event


def test_endpoint_url_accepts_the_daemon_root_or_the_full_endpoint():
    assert payload.endpoint_url("https://woodoo.example.com") == (
        "https://woodoo.example.com/webhooks/odoo")
    assert payload.endpoint_url(" https://woodoo.example.com/ ") == (
        "https://woodoo.example.com/webhooks/odoo")
    assert payload.endpoint_url("http://127.0.0.1:8080/webhooks/odoo") == (
        "http://127.0.0.1:8080/webhooks/odoo")
    assert payload.endpoint_url("https://h.example/base/webhooks/odoo/") == (
        "https://h.example/base/webhooks/odoo")
    for bad in ("", "woodoo.example.com", "ftp://h.example/x"):
        with pytest.raises(ValueError):
            payload.endpoint_url(bad)


def test_retries_back_off_from_one_minute_to_one_hour_and_stop_after_48_hours():
    assert [payload.retry_delay(n) for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert payload.next_attempt(T, 2) == T + timedelta(minutes=2)
    assert not payload.expired(T, T + timedelta(hours=47, minutes=59))
    assert payload.expired(T, T + timedelta(hours=48))


# -- the module's files --------------------------------------------------------------------------

def manifest() -> dict:
    return ast.literal_eval((ADDON / "__manifest__.py").read_text("utf-8"))


def test_manifest_parses_and_lists_existing_data_files():
    data = manifest()
    assert data["name"] == "Woodoo Webhook"
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    assert data["license"] == "LGPL-3"
    assert set(data["depends"]) == {"stock", "base_automation"}
    assert data["installable"] is True
    assert "security/ir.model.access.csv" in data["data"]
    for relative in data["data"]:
        assert (ADDON / relative).is_file(), relative
    assert data["data"][0] == "security/ir.model.access.csv"  # access rules before the records


def test_every_xml_data_file_is_well_formed_and_valid_for_17_and_18():
    files = sorted(ADDON.rglob("*.xml"))
    assert files
    for path in files:
        root = ET.parse(path).getroot()
        assert root.tag == "odoo", path
    cron = ET.parse(ADDON / "data" / "ir_cron.xml").getroot()
    [record] = cron.iter("record")
    used = {f.get("name") for f in record.iter("field")}
    # Fields both ir.cron versions accept (18 dropped numbercall and doall).
    assert used <= {"name", "model_id", "state", "code", "user_id", "interval_number",
                    "interval_type", "priority", "active", "nextcall"}
    assert {f.get("name"): f.text for f in record.iter("field")}["interval_type"] == "minutes"
    functions = {f.get("name") for path in files for f in ET.parse(path).getroot().iter("function")}
    source = (ADDON / "models" / "woodoo_webhook_event.py").read_text("utf-8")
    for name in functions | {"_cron_woodoo_send"}:
        assert f"def {name}(" in source, name


def test_access_rules_name_the_outbox_model():
    with (ADDON / "security" / "ir.model.access.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["model_id:id"] for r in rows} == {"model_woodoo_webhook_event"}
    assert '_name = "woodoo.webhook.event"' in (
        ADDON / "models" / "woodoo_webhook_event.py").read_text("utf-8")


def test_every_python_file_compiles_for_python_3_10():
    files = sorted(ADDON.rglob("*.py"))
    assert len(files) >= 7
    for path in files:
        source = path.read_text("utf-8")
        compile(source, str(path), "exec")
        ast.parse(source, feature_version=(3, 10))  # Odoo 17 and 18 run on Python 3.10+


def test_the_pure_files_import_nothing_from_odoo():
    for path in (ADDON / "lib").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("odoo", "openerp") for n in names), path


def test_quants_and_moves_get_the_method_the_signed_rules_call():
    tree = ast.parse((ADDON / "models" / "stock.py").read_text("utf-8"))
    inherits = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            values = {t.id: v for a in node.body if isinstance(a, ast.Assign)
                      for t in a.targets if isinstance(t, ast.Name) for v in [a.value]}
            methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
            inherits[ast.literal_eval(values["_inherit"])] = methods
    assert set(inherits) == {spec.model for spec in odoo_setup.RULES}
    method = odoo_setup.SIGNED_CODE.removeprefix("records.").removesuffix("()")
    assert all(method in methods for methods in inherits.values())


def test_readme_documents_install_parameters_and_the_rules_setup_creates():
    readme = (ADDON / "README.md").read_text("utf-8")
    for needle in ("addons_path", "Update Apps List", "woodoo_webhook.url",
                   "woodoo_webhook.secret", "woodoo_webhook.timeout", odoo_setup.SIGNED_CODE,
                   "on_create_or_write", "on_state_set", "Execute Code", "17", "18"):
        assert needle in readme, needle
    for spec in odoo_setup.RULES:
        assert spec.name in readme
