"""The Odoo module odoo-addon/woodoo_webhook, without Odoo: its pure files, manifest, data files.

`odoo-addon` is not an importable package name, so the pure files (which import nothing from
Odoo) are loaded by path. The Odoo-bound files are only compiled and inspected here.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import csv
import importlib.util
import json
import re
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import requests

from woodoo.gateways import odoo_setup
from woodoo.web import signing

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


# -- signing: the module signs like the daemon verifies ----------------------------------------

SECRET = "whsec_odoo_0123456789abcdef0123456789abcdef"  # 43 characters


@pytest.mark.parametrize("case", [c for c in CASES if c["valid"]], ids=lambda c: c["name"])
def test_addon_signs_every_valid_vector(case):
    body = case["body"].encode("utf-8")
    header = addon_signing.sign(body, case["secret"], timestamp=case["timestamp"],
                                route=case["route"])
    digest = addon_signing.digest(body, case["secret"], case["route"], case["timestamp"])
    assert header == f"t={case['timestamp']},v2={digest}"
    assert digest == signing.digest(body, case["secret"], case["route"], case["timestamp"])
    timestamp, digests = signing.parse(case["header"])
    assert timestamp == case["timestamp"]
    assert digest in digests  # the vector may hold it upper-case, or beside a rotation digest
    assert signing.verify(body, header, [case["secret"]], case["route"],
                          now=case["timestamp"]) == case["timestamp"]


def test_the_module_signs_for_the_odoo_route_by_default():
    assert addon_signing.ROUTE == signing.ODOO_EVENTS == VECTORS["routes"]["odoo_events"]
    assert addon_signing.HEADER == signing.HEADER
    assert addon_signing.MIN_SECRET_LENGTH == signing.MIN_SECRET_LENGTH
    [basic] = [c for c in CASES if c["name"] == "basic"]
    assert addon_signing.sign(basic["body"].encode(), basic["secret"],
                              timestamp=basic["timestamp"]) == basic["header"]


def test_the_daemon_accepts_what_the_module_signs_on_its_route_only():
    [event] = payload.build_events("stock.quant", [line(15, 9, "WDG-1009", INTERNAL_WH)],
                                   "txn-1", T)
    body = payload.encode(event)
    now = 1_795_441_954
    header = addon_signing.sign(body, SECRET, timestamp=now)
    assert signing.verify(body, header, ["x" * 32, SECRET], signing.ODOO_EVENTS,
                          now=now + 10) == now
    for route in (signing.SHOP_EVENTS, signing.PLUGIN_STOCK, "POST /webhooks/odoo-native"):
        with pytest.raises(signing.SignatureError, match="route"):
            signing.verify(body, header, [SECRET], route, now=now)
    with pytest.raises(signing.SignatureError):
        signing.verify(body + b" ", header, [SECRET], signing.ODOO_EVENTS, now=now)
    with pytest.raises(signing.StaleSignature):  # beyond the 300 s tolerance
        signing.verify(body, header, [SECRET], signing.ODOO_EVENTS, now=now + 301)
    assert addon_signing.sign(body, SECRET).startswith("t=")  # now, by default


def test_the_module_refuses_to_sign_with_an_empty_or_short_secret():
    with pytest.raises(addon_signing.SignatureError, match="empty"):
        addon_signing.sign(b"{}", "", timestamp=1)
    with pytest.raises(addon_signing.SignatureError, match="31 characters; at least 32"):
        addon_signing.sign(b"{}", "s" * 31, timestamp=1)
    assert addon_signing.sign(b"{}", "s" * 32, timestamp=1) == signing.sign(
        b"{}", "s" * 32, signing.ODOO_EVENTS, 1)
    assert issubclass(addon_signing.SignatureError, ValueError)  # recorded like a config error
    with pytest.raises(TypeError):  # str bodies would be re-encoded: sign the bytes sent
        addon_signing.sign("{}", SECRET, timestamp=1)


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
    # Moves keep the method: a rule made by an earlier Woodoo calls it until setup archives it.
    called_on = ({spec.model for spec in odoo_setup.RULES}
                 | {model for model, _trigger in odoo_setup.RETIRED_RULES.values()})
    assert set(inherits) == called_on
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


# -- the Odoo-bound models, run on stand-ins for Odoo -------------------------------------------
#
# A few dozen lines of Odoo: recordsets over in-memory tables, a cursor whose transactions can
# commit (running the post-commit callbacks, as Odoo's Cursor.commit does) or roll back (the
# tables as they were, callbacks dropped), and an ir.cron whose _trigger() does what Odoo 17/18's
# does: create an ir.cron.trigger row in the transaction and add a post-commit callback that
# notifies the cron workers. Its clocks are Odoo 18's: `cr.now()` is the transaction's start to
# the microsecond, `fields.Datetime.now()` the Python clock cut to whole seconds, and a finished
# cron run deletes the triggers older than its own start. The models' own code runs unchanged.

NOW = datetime(2026, 11, 23, 13, 52, 34)


class _Callbacks:
    """Odoo's cursor callbacks (precommit/postcommit): functions and data for one transaction."""

    def __init__(self) -> None:
        self.funcs: list = []
        self.data: dict = {}

    def add(self, func) -> None:
        self.funcs.append(func)

    def run(self) -> None:
        funcs = list(self.funcs)
        self.clear()
        for func in funcs:
            func()

    def clear(self) -> None:
        self.funcs.clear()
        self.data.clear()


class _Field:
    """A column: reads the record's row."""

    def __init__(self, *args: object, default: object = None, **kwargs: object) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, record: object, owner: type) -> object:
        if record is None:
            return self
        record.ensure_one()
        return record.env.db.tables[record._name][record._ids[0]].get(self.name, False)


class _Datetime(_Field):
    @staticmethod
    def now() -> datetime:
        return _Db.current.clock.replace(microsecond=0)  # as Odoo: whole seconds


class _Model:
    """An Odoo recordset, over the stand-in database's tables."""

    _name = ""
    _inherit = ""

    def __init__(self, env: _Env, ids: tuple = ()) -> None:
        self.env = env
        self._ids = tuple(ids)

    @property
    def id(self) -> int:
        self.ensure_one()
        return self._ids[0]

    @property
    def ids(self) -> list[int]:
        return list(self._ids)

    def __iter__(self):
        return (self.browse([i]) for i in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        self.ensure_one()
        return self.env.db.tables[self._name][self._ids[0]][name]

    def ensure_one(self) -> None:
        assert len(self._ids) == 1, self._ids

    def browse(self, ids: object = ()) -> _Model:
        return type(self)(self.env, [ids] if isinstance(ids, int) else ids)

    def sudo(self) -> _Model:
        return self

    def _rows(self) -> dict:
        return self.env.db.tables.setdefault(self._name, {})

    def search(self, domain: list) -> _Model:
        tests = {"=": lambda here, value: here == value,
                 "in": lambda here, value: here in value,
                 "<": lambda here, value: here is not None and here < value}

        def matches(row: dict) -> bool:
            return all(tests[operator](row.get(name), value) for name, operator, value in domain)
        return self.browse([i for i, row in sorted(self._rows().items()) if matches(row)])

    def mapped(self, name: str) -> list:
        return [getattr(record, name) for record in self]

    def create(self, values: list[dict]) -> _Model:
        ids = []
        for vals in values:
            record_id = self.env.db.next_id()
            defaults = {name: f.default for name, f in vars(type(self)).items()
                        if isinstance(f, _Field) and f.default is not None}
            self._rows()[record_id] = {**defaults, **vals, "create_date": self.env.db.clock}
            ids.append(record_id)
        return self.browse(ids)

    def write(self, values: dict) -> None:
        for record_id in self._ids:
            self._rows()[record_id].update(values)

    def _register_hook(self) -> None:
        pass


class _Params(_Model):
    _name = "ir.config_parameter"

    def get_param(self, key: str) -> object:
        return self.env.db.params.get(key)


class _Cron:
    """ir.cron as the module uses it: _trigger() like Odoo 17/18's ir_cron._trigger_list."""

    _name = "ir.cron"
    id = 7

    def __init__(self, env: _Env, ids: tuple = ()) -> None:
        self.env = env

    def sudo(self) -> _Cron:
        return self

    def browse(self, cron_id: int) -> _Cron:
        assert cron_id == self.id
        return self

    @property
    def active(self) -> bool:
        return self.env.db.cron_active

    def _trigger(self, at: datetime | None = None) -> None:
        db = self.env.db
        now = _Datetime.now()
        at = at or now
        if not self.active and at <= now:
            return
        db.trigger_calls += 1
        db.tables["ir.cron.trigger"][db.next_id()] = {"call_at": at}
        if at <= now:
            self.env.cr.postcommit.add(self._notifydb)

    def _notifydb(self) -> None:
        self.env.db.notified.append("cron_trigger")


class _Cursor:
    def __init__(self, db: _Db) -> None:
        self.db = db
        self.precommit = _Callbacks()
        self.postcommit = _Callbacks()
        self.txid = 812
        self._saved = copy.deepcopy(db.tables)
        self._result: list = []
        self._now: datetime | None = None

    def now(self) -> datetime:
        if self._now is None:  # the transaction's start, to the microsecond
            self._now = self.db.clock
        return self._now

    def execute(self, query: str, params: list | None = None) -> None:
        if query == "SELECT txid_current()":
            self._result = [(self.txid,)]
        elif query == "SELECT (clock_timestamp() AT TIME ZONE 'UTC')":
            self._result = [(self.db.clock,)]
        elif "FROM woodoo_webhook_event WHERE state = 'pending'" in query:
            now, limit = params or []
            due = [(row["next_attempt"] or datetime.min, i)
                   for i, row in self.db.tables["woodoo.webhook.event"].items()
                   if row["state"] == "pending" and (not row["next_attempt"]
                                                     or row["next_attempt"] <= now)]
            self._result = [(i,) for _, i in sorted(due)[:limit]]
        else:
            raise AssertionError(f"unexpected SQL: {query}")

    def fetchone(self) -> tuple:
        return self._result[0]

    def fetchall(self) -> list:
        return list(self._result)

    @contextlib.contextmanager
    def savepoint(self):
        yield

    def commit(self) -> None:
        self.precommit.run()
        self._saved = copy.deepcopy(self.db.tables)
        self.txid += 1
        self._now = None
        self.postcommit.run()

    def rollback(self) -> None:
        self.precommit.clear()
        self.postcommit.clear()
        self.db.tables = copy.deepcopy(self._saved)
        self.txid += 1
        self._now = None


class _Registry(dict):
    """Models by name; `cursor()` opens a transaction of its own, committed on leaving; `ready`
    once the database is loaded (Odoo sets it after every `_register_hook` has returned)."""

    db: _Db
    ready = True

    @contextlib.contextmanager
    def cursor(self) -> Iterator[_Cursor]:
        cr = _Cursor(self.db)
        cr._saved = self.db.tables  # a separate transaction: nothing of another to roll back
        yield cr
        cr.commit()


class _Env:
    def __init__(self, db: _Db, cr: _Cursor | None = None) -> None:
        self.db = db
        self.cr = cr or _Cursor(db)
        self.registry = db.registry

    def __getitem__(self, model: str) -> _Model:
        return self.registry[model](self, ())

    def ref(self, xmlid: str, raise_if_not_found: bool = True) -> _Cron | None:
        assert xmlid == f"woodoo_webhook.{CRON_RECORD_ID}", xmlid
        return _Cron(self) if self.db.cron_exists else None


class _Db:
    current: _Db

    def __init__(self, registry: _Registry) -> None:
        self.registry = registry
        registry.db = self
        self.tables: dict = {"woodoo.webhook.event": {}, "ir.cron.trigger": {}}
        self.params: dict = {"woodoo_webhook.url": "https://woodoo.example.com",
                             "woodoo_webhook.secret": SECRET, "woodoo_webhook.timeout": "2"}
        self.clock = NOW
        self.trigger_calls = 0
        self.notified: list[str] = []
        self.cron_exists = True
        self.cron_active = True
        self._next = 1000
        _Db.current = self

    def next_id(self) -> int:
        self._next += 1
        return self._next


class _Location:
    def __init__(self, usage: str, warehouse: str | None) -> None:
        self.usage = usage
        self.warehouse_id = SimpleNamespace(code=warehouse or False)


class _Product(dict):
    def __init__(self, product_id: int, sku: str) -> None:
        super().__init__(default_code=sku, barcode=False)
        self.id = product_id


# odoo.tools.config: the server's options.
ODOO_CONFIG: dict = {}
CRON_RECORD_ID = ET.parse(ADDON / "data" / "ir_cron.xml").getroot().find(".//record").get("id")


@pytest.fixture(scope="module")
def addon() -> Iterator[ModuleType]:
    """The module's package imported on stand-ins for odoo and psycopg2 (then forgotten)."""
    fake_odoo = ModuleType("odoo")
    fake_odoo.SUPERUSER_ID = 1
    fake_odoo.api = SimpleNamespace(model=lambda f: f, autovacuum=lambda f: f,
                                    Environment=lambda cr, uid, context: _Env(cr.db, cr))
    fake_odoo.fields = SimpleNamespace(Char=_Field, Text=_Field, Selection=_Field,
                                       Integer=_Field, Datetime=_Datetime)
    fake_odoo.models = SimpleNamespace(Model=_Model)
    fake_odoo.tools = SimpleNamespace(config=ODOO_CONFIG)
    fake_errors = ModuleType("psycopg2.errors")
    fake_errors.SerializationFailure = type("SerializationFailure", (Exception,), {})
    fake_psycopg2 = ModuleType("psycopg2")
    fake_psycopg2.errors = fake_errors
    fake_exceptions = ModuleType("odoo.exceptions")
    fake_exceptions.AccessError = type("AccessError", (Exception,), {})
    fake_odoo.exceptions = fake_exceptions
    stand_ins = {"odoo": fake_odoo, "odoo.exceptions": fake_exceptions, "psycopg2": fake_psycopg2,
                 "psycopg2.errors": fake_errors}
    before = dict(sys.modules)
    sys.modules.update(stand_ins)
    try:
        spec = importlib.util.spec_from_file_location(
            "woodoo_webhook_under_test", ADDON / "__init__.py",
            submodule_search_locations=[str(ADDON)])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = package
        spec.loader.exec_module(package)
        yield package
    finally:
        for name in set(sys.modules) - set(before):
            del sys.modules[name]
        sys.modules.update({k: v for k, v in before.items() if k in stand_ins})


@pytest.fixture
def odoo(addon) -> _Env:
    """A database with stock quants and moves, and the module's models."""
    models = addon.models
    registry = _Registry({
        "woodoo.webhook.event": models.woodoo_webhook_event.WoodooWebhookEvent,
        "stock.quant": type("Quant", (models.stock.StockQuant,), {"_name": "stock.quant"}),
        "stock.move": type("Move", (models.stock.StockMove,), {"_name": "stock.move"}),
        "ir.config_parameter": _Params,
        "ir.cron": _Cron,
    })
    db = _Db(registry)
    wh, customers, adjustment = (_Location("internal", "WH"), _Location("customer", None),
                                 _Location("inventory", None))
    widget, shirt = _Product(9, "WDG-1009"), _Product(18, "TSH-S-RED")
    db.tables["stock.quant"] = {
        15: {"product_id": widget, "location_id": wh},
        31: {"product_id": shirt, "location_id": wh},
        40: {"product_id": widget, "location_id": adjustment},
    }
    db.tables["stock.move"] = {
        47: {"product_id": widget, "location_id": wh, "location_dest_id": customers},
    }
    return _Env(db)


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Every attempt to open a connection or send over requests is recorded and refused."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args[:2]))
        raise AssertionError("network used in the user's request")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    return attempts


class _Daemon:
    """A requests.Session stand-in for the cron path: records what the module POSTs (events in
    `posts`, heartbeats in `heartbeats`)."""

    def __init__(self, status: int = 202, error: Exception | None = None) -> None:
        self.posts: list[dict] = []
        self.heartbeats: list[dict] = []
        self.status, self.error = status, error

    def __call__(self) -> _Daemon:
        return self

    def __enter__(self) -> _Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def post(self, url: str, data: bytes, headers: dict, timeout: float,
             allow_redirects: bool) -> object:
        sent = {"url": url, "body": data, "headers": headers, "timeout": timeout,
                "allow_redirects": allow_redirects}
        (self.heartbeats if json.loads(data).get("heartbeat") else self.posts).append(sent)
        if self.error:
            raise self.error
        return SimpleNamespace(status_code=self.status, text="")

    def close(self) -> None:
        pass


def quants(env: _Env, *ids: int) -> _Model:
    return env["stock.quant"].browse(list(ids))


def outbox(env: _Env) -> dict:
    return env.db.tables["woodoo.webhook.event"]


def test_the_request_path_makes_no_http_call_and_triggers_the_cron_once(odoo, no_network):
    # One transaction, as an inventory adjustment of two products: the automated action runs
    # once per quant and once per move, plus a repeat of the same quant.
    quants(odoo, 15)._woodoo_notify()
    quants(odoo, 31)._woodoo_notify()
    quants(odoo, 15)._woodoo_notify()  # same records, same transaction: queued once
    quants(odoo, 40)._woodoo_notify()  # the adjustment location: no event
    odoo["stock.move"].browse([47])._woodoo_notify()
    assert len(outbox(odoo)) == 3
    # The cron is triggered only once the change has committed, in a transaction of its own.
    assert odoo.db.trigger_calls == 0 and odoo.db.tables["ir.cron.trigger"] == {}
    assert odoo.db.notified == []
    odoo.cr.commit()  # runs the post-commit callbacks, as Odoo's Cursor.commit does
    assert odoo.db.trigger_calls == 1  # once per transaction, not per record or call
    assert len(odoo.db.tables["ir.cron.trigger"]) == 1
    assert odoo.db.notified == ["cron_trigger"]
    assert no_network == []
    assert {row["state"] for row in outbox(odoo).values()} == {"pending"}

    # The next transaction asks again; one that queues nothing does not.
    quants(odoo, 15, 31)._woodoo_notify()
    odoo.cr.commit()
    assert odoo.db.trigger_calls == 2
    quants(odoo, 40)._woodoo_notify()
    odoo.cr.commit()
    assert odoo.db.trigger_calls == 2
    assert no_network == []


def test_a_rolled_back_change_leaves_no_event_and_no_trigger(odoo, no_network):
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.rollback()
    assert outbox(odoo) == {} and odoo.db.tables["ir.cron.trigger"] == {}
    assert odoo.db.notified == []
    quants(odoo, 15)._woodoo_notify()  # the next transaction triggers anew
    odoo.cr.commit()
    assert odoo.db.trigger_calls == 1 and len(odoo.db.tables["ir.cron.trigger"]) == 1
    assert odoo.db.notified == ["cron_trigger"] and no_network == []


def test_a_missing_cron_is_logged_and_the_event_still_queued(odoo, no_network, caplog):
    odoo.db.cron_exists = False
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    assert len(outbox(odoo)) == 1 and odoo.db.trigger_calls == 0
    assert "ir_cron_woodoo_webhook_send is missing" in caplog.text
    assert no_network == []


def test_the_cron_sends_the_outbox_signed_for_the_odoo_route(odoo, addon, monkeypatch):
    quants(odoo, 15, 31)._woodoo_notify()
    odoo["stock.move"].browse([47])._woodoo_notify()
    odoo.cr.commit()
    daemon = _Daemon()
    monkeypatch.setattr(requests, "Session", daemon)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 2
    assert [post["url"] for post in daemon.posts] == ["https://woodoo.example.com/webhooks/odoo"] * 2
    stored = {row["event_id"]: row for row in outbox(odoo).values()}
    for post in daemon.posts:
        body, header = post["body"], post["headers"][signing.HEADER]
        assert post["headers"]["Content-Type"] == "application/json"
        assert post["timeout"] == 2.0
        signed_at = int(header.split(",")[0].removeprefix("t="))
        assert signing.verify(body, header, [SECRET], signing.ODOO_EVENTS,
                              now=signed_at) == signed_at
        with pytest.raises(signing.SignatureError):
            signing.verify(body, header, [SECRET], signing.SHOP_EVENTS, now=signed_at)
        event = json.loads(body)
        assert stored[event["event_id"]]["payload"].encode() == body  # the stored bytes
        assert stored[event["event_id"]]["state"] == "sent"
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0  # nothing left to send
    assert len(daemon.posts) == 2


@pytest.mark.parametrize(("secret", "words"), [
    ("", "is empty"), ("s" * 31, "has 31 characters; at least 32 are needed")])
def test_a_weak_secret_is_refused_in_words_on_the_event(odoo, no_network, secret, words):
    odoo.db.params["woodoo_webhook.secret"] = secret
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
    assert no_network == []  # nothing signed with it, nothing sent
    [event] = outbox(odoo).values()
    assert event["state"] == "pending" and event["attempts"] == 1
    assert words in event["last_error"] and "woodoo_webhook.secret" in event["last_error"]
    assert event["next_attempt"] == NOW + timedelta(minutes=1)


def test_an_unreachable_daemon_costs_the_cron_one_attempt_per_run(odoo, monkeypatch):
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    quants(odoo, 31)._woodoo_notify()
    odoo.cr.commit()
    daemon = _Daemon(error=requests.exceptions.ConnectTimeout("blackholed"))
    monkeypatch.setattr(requests, "Session", daemon)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
    assert len(daemon.posts) == 1  # the second event waits for the next run
    first, second = outbox(odoo).values()
    assert first["attempts"] == 1 and "ConnectTimeout" in first["last_error"]
    assert second["attempts"] == 0 and second["state"] == "pending"


def run_cron(env: _Env, started: datetime) -> int:
    """One run of the sending cron as Odoo 18's worker makes it: the job, then the deletion of
    its triggers older than the start of the worker's transaction (ir_cron._reschedule_later)."""
    sent = env["woodoo.webhook.event"]._cron_woodoo_send()
    env.cr.commit()
    triggers = env.db.tables["ir.cron.trigger"]
    for trigger_id in [i for i, row in triggers.items() if row["call_at"] < started]:
        del triggers[trigger_id]
    return sent


def test_the_run_a_commit_triggers_sends_that_commits_event_in_the_same_second(odoo, monkeypatch):
    """Seen on a real Odoo 18: the change at 34.40 s, its run at 34.45 s compared the event's
    due time (34.40) with a clock cut to whole seconds (34) and left it for the next run."""
    daemon = _Daemon()
    monkeypatch.setattr(requests, "Session", daemon)
    odoo.db.clock = NOW + timedelta(microseconds=400_000)
    quants(odoo, 15)._woodoo_notify()
    odoo.db.clock = NOW + timedelta(microseconds=420_000)
    odoo.cr.commit()
    [trigger] = odoo.db.tables["ir.cron.trigger"].values()
    assert trigger["call_at"] == odoo.db.clock  # after the commit, to the microsecond
    odoo.db.clock = NOW + timedelta(microseconds=450_000)
    assert run_cron(odoo, started=odoo.db.clock) == 1
    assert len(daemon.posts) == 1
    [event] = outbox(odoo).values()
    assert event["state"] == "sent" and event["sent_at"] == odoo.db.clock


def test_a_change_committed_during_a_run_gets_a_run_of_its_own(odoo, monkeypatch):
    """A run under way does not see a change that commits after it began; the trigger of that
    change must outlive the run (Odoo deletes the triggers older than the run's start)."""
    daemon = _Daemon()
    monkeypatch.setattr(requests, "Session", daemon)
    started = NOW + timedelta(microseconds=100_000)
    odoo.db.clock = NOW + timedelta(microseconds=50_000)  # the change began before the run...
    quants(odoo, 15)._woodoo_notify()
    odoo.db.clock = NOW + timedelta(microseconds=300_000)  # ...and commits during it
    odoo.cr.commit()
    odoo.db.tables["woodoo.webhook.event"], hidden = {}, outbox(odoo)  # not in the run's snapshot
    assert run_cron(odoo, started=started) == 0
    odoo.db.tables["woodoo.webhook.event"] = hidden
    assert len(odoo.db.tables["ir.cron.trigger"]) == 1  # so the workers run the job again
    assert run_cron(odoo, started=NOW + timedelta(microseconds=350_000)) == 1


def test_a_deactivated_cron_is_not_triggered_and_events_wait(odoo, no_network):
    odoo.db.cron_active = False
    odoo.db.clock = NOW + timedelta(microseconds=250_000)
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    assert odoo.db.tables["ir.cron.trigger"] == {} and odoo.db.notified == []
    assert len(outbox(odoo)) == 1


@pytest.mark.parametrize("field", ["payload", "event_id", "source_model"])
def test_what_is_signed_cannot_be_rewritten_over_rpc(odoo, addon, field):
    """A stock manager may read the outbox and send events again, never change what is sent."""
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    [event_id] = outbox(odoo)
    before = dict(outbox(odoo)[event_id])
    with pytest.raises(sys.modules["odoo.exceptions"].AccessError, match=field):
        odoo["woodoo.webhook.event"].browse([event_id]).write({field: "{}", "state": "pending"})
    assert outbox(odoo)[event_id] == before
    odoo["woodoo.webhook.event"].browse([event_id]).write({"state": "failed"})
    assert outbox(odoo)[event_id]["state"] == "failed"


def test_an_idle_run_tells_the_daemon_odoo_runs_signed_and_naming_nothing(odoo, monkeypatch):
    daemon = _Daemon(status=200)
    monkeypatch.setattr(requests, "Session", daemon)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
    [beat] = daemon.heartbeats
    assert daemon.posts == [] and beat["allow_redirects"] is False
    assert beat["url"] == "https://woodoo.example.com/webhooks/odoo" and beat["timeout"] == 2.0
    body, header = beat["body"], beat["headers"][signing.HEADER]
    signed_at = int(header.split(",")[0].removeprefix("t="))
    assert signing.verify(body, header, [SECRET], signing.ODOO_EVENTS, now=signed_at)
    sent = json.loads(body)
    assert sent["heartbeat"] is True and set(sent) == {"event_id", "heartbeat", "odoo_time"}
    assert sent["event_id"].startswith("heartbeat-") and outbox(odoo) == {}  # nothing recorded


def test_a_run_that_sent_events_sends_no_heartbeat(odoo, monkeypatch):
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    daemon = _Daemon()
    monkeypatch.setattr(requests, "Session", daemon)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 1
    assert len(daemon.posts) == 1 and daemon.heartbeats == []


def test_a_heartbeat_the_daemon_does_not_take_is_dropped_quietly(odoo, monkeypatch):
    for daemon in (_Daemon(error=requests.exceptions.ConnectTimeout("blackholed")),
                   _Daemon(status=400)):
        monkeypatch.setattr(requests, "Session", daemon)
        assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
        assert len(daemon.heartbeats) == 1 and outbox(odoo) == {}
    odoo.db.params["woodoo_webhook.secret"] = "short"
    quiet = _Daemon()
    monkeypatch.setattr(requests, "Session", quiet)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
    assert quiet.heartbeats == []  # never signed with a weak secret


def wait_for(condition, timeout: float = 10.0) -> bool:
    """Whether `condition()` became true within `timeout` seconds (checked every 10 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_process_that_loads_the_database_tells_the_daemon_once_it_is_ready(odoo, monkeypatch):
    quants(odoo, 15)._woodoo_notify()  # an event that waited while Odoo was down
    odoo.cr.commit()
    odoo.db.tables["ir.cron.trigger"].clear()
    odoo.db.notified.clear()
    daemon = _Daemon(status=200)
    monkeypatch.setattr(requests, "Session", daemon)
    monkeypatch.setattr(odoo.registry, "ready", False, raising=False)
    odoo["woodoo.webhook.event"]._register_hook()
    [waiting] = [t for t in threading.enumerate() if t.name == "woodoo-webhook-loaded"]
    time.sleep(0.3)
    assert daemon.heartbeats == [] and odoo.db.tables["ir.cron.trigger"] == {}  # still loading
    odoo.registry.ready = True
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    [beat] = daemon.heartbeats
    assert json.loads(beat["body"])["heartbeat"] is True and daemon.posts == []
    # The waiting event goes with a cron run triggered now, not with the minute's run.
    [trigger] = odoo.db.tables["ir.cron.trigger"].values()
    assert trigger["call_at"] <= odoo.db.clock and odoo.db.notified == ["cron_trigger"]


@pytest.mark.parametrize("option", ["test_enable", "stop_after_init"])
def test_tests_and_one_off_updates_announce_nothing(odoo, monkeypatch, option):
    daemon = _Daemon(status=200)
    monkeypatch.setattr(requests, "Session", daemon)
    monkeypatch.setitem(ODOO_CONFIG, option, True)
    before = {t.name for t in threading.enumerate()}
    odoo["woodoo.webhook.event"]._register_hook()
    assert "woodoo-webhook-loaded" not in {t.name for t in threading.enumerate()} - before
    assert daemon.heartbeats == []
