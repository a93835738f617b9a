"""The outbox an administrator sees in Odoo (woodoo_webhook's views, action, menu, access rights
and "Send now"), checked without Odoo.

The views are checked against the model as its source declares it (read with `ast`): every field
they name exists, every button calls a public method of the model, every expression uses fields
the view shows (Odoo 17 and 18 refuse a view otherwise). "Send now" runs on the stand-ins for
Odoo of tests/test_odoo_addon.py, whose fixtures are reused here.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
import requests
import test_odoo_addon as base

ADDON = base.ADDON
MODULE = ADDON.name
MODEL = "woodoo.webhook.event"
MODEL_FILE = ADDON / "models" / "woodoo_webhook_event.py"
# Odoo adds create_date to every model; the views use no other field the model does not declare (no
# mail.thread, no other mixin).
AUTOMATIC_FIELDS = {"create_date"}
# Names an Odoo 17/18 view expression may use besides the record's fields.
EXPRESSION_NAMES = {"True", "False", "None", "context", "uid", "parent"}
EXPRESSION_ATTRIBUTES = ("invisible", "readonly", "required", "column_invisible")
STOCK_CONFIGURATION_MENU = "stock.menu_stock_config_settings"
STOCK_MANAGERS = "stock.group_stock_manager"

outbox_views = base.load("outbox_views")

# The stand-in Odoo of tests/test_odoo_addon.py, under the names its tests use.
addon = base.addon
odoo = base.odoo
no_network = base.no_network


# -- the model, as its source declares it ---------------------------------------------------------

def model_class() -> ast.ClassDef:
    tree = ast.parse(MODEL_FILE.read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
                isinstance(item, ast.Assign) and [t.id for t in item.targets
                                                  if isinstance(t, ast.Name)] == ["_name"]
                and ast.literal_eval(item.value) == MODEL for item in node.body):
            return node
    raise AssertionError(f"no class with _name = {MODEL!r} in {MODEL_FILE}")


def model_fields() -> dict[str, ast.Call]:
    """Field name -> the `fields.X(...)` call declaring it."""
    declared = {}
    for item in model_class().body:
        if (isinstance(item, ast.Assign) and isinstance(item.value, ast.Call)
                and isinstance(item.value.func, ast.Attribute)
                and isinstance(item.value.func.value, ast.Name)
                and item.value.func.value.id == "fields"):
            for target in item.targets:
                declared[target.id] = item.value
    return declared


def model_methods() -> set[str]:
    return {item.name for item in model_class().body if isinstance(item, ast.FunctionDef)}


def selection_values(field: str) -> list[str]:
    return [value for value, _label in ast.literal_eval(model_fields()[field].args[0])]


def test_the_model_is_found_with_its_fields_and_methods():
    fields = model_fields()
    assert {"event_id", "state", "attempts", "next_attempt", "last_error", "payload",
            "sent_at", "requeued_at"} <= set(fields)
    assert selection_values("state") == ["pending", "sent", "failed"]
    assert {"action_send_now", "_cron_woodoo_send", "_woodoo_load_list_view"} <= model_methods()


# -- the data files --------------------------------------------------------------------------------

def manifest() -> dict:
    return ast.literal_eval((ADDON / "__manifest__.py").read_text("utf-8"))


def xml_files() -> list[Path]:
    return sorted(path for folder in ("data", "views") for path in (ADDON / folder).rglob("*.xml"))


def elements(tag: str) -> list[ET.Element]:
    return [element for path in xml_files() for element in ET.parse(path).getroot().iter(tag)]


def records(model: str) -> dict[str, ET.Element]:
    return {record.get("id"): record for record in elements("record")
            if record.get("model") == model}


def field_value(record: ET.Element, name: str) -> ET.Element | None:
    return record.find(f"field[@name='{name}']")


def test_every_data_file_is_listed_and_exists_and_every_xml_file_is_loaded():
    listed = manifest()["data"]
    assert len(listed) == len(set(listed))
    for relative in listed:
        assert (ADDON / relative).is_file(), relative
    assert {path.relative_to(ADDON).as_posix() for path in xml_files()} <= set(listed)
    assert "views/woodoo_webhook_event_views.xml" in listed
    assert listed[0] == "security/ir.model.access.csv"  # access rules before the records


def test_every_xml_file_is_well_formed_odoo_data():
    assert xml_files()
    for path in xml_files():
        assert ET.parse(path).getroot().tag == "odoo", path


def test_every_reference_names_this_module_or_one_it_depends_on():
    known = {MODULE, "base", *manifest()["depends"]}
    references = []
    for path in xml_files():
        for element in ET.parse(path).getroot().iter():
            references += [element.get(attribute) for attribute in ("ref", "parent")
                           if element.get(attribute)]
            references += (element.get("groups") or "").split(",")
    assert STOCK_CONFIGURATION_MENU in references and STOCK_MANAGERS in references
    for reference in filter(None, references):
        module, dot, _name = reference.lstrip("-").rpartition(".")
        assert not dot or module in known, reference


def test_every_function_called_from_the_data_files_is_a_model_method():
    functions = elements("function")
    assert {f.get("name") for f in functions} >= {"_woodoo_load_list_view"}
    for function in functions:
        assert function.get("model") == MODEL
        assert function.get("name") in model_methods(), function.get("name")


def test_access_rights_let_inventory_administrators_read_act_and_delete_only():
    path = ADDON / "security" / "ir.model.access.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, *lines = rows
    assert header == ["id", "name", "model_id:id", "group_id:id", "perm_read", "perm_write",
                      "perm_create", "perm_unlink"]
    assert lines and all(len(line) == len(header) for line in lines)
    rules = [dict(zip(header, line, strict=True)) for line in lines]
    assert len({rule["id"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["model_id:id"] == "model_" + MODEL.replace(".", "_")
        assert {rule[p] for p in header[4:]} <= {"0", "1"}
    [rule] = rules  # nobody else: not even Settings administrators outside Inventory's managers
    assert rule["group_id:id"] == STOCK_MANAGERS
    # Events come only from stock changes (queued with sudo); administrators read, send again
    # (a write) and may delete.
    assert (rule["perm_read"], rule["perm_write"], rule["perm_create"], rule["perm_unlink"]) == (
        "1", "1", "0", "1")


def test_manifest_version_is_the_release_version():
    # From 1.0.0 the module carries Woodoo's release version (it replaced its own 2.2.0: Odoo
    # updates it with -u all the same, docs/releasing.md), bare: each Odoo prefixes its series.
    release = (Path(__file__).resolve().parent.parent / "VERSION").read_text("utf-8").strip()
    assert manifest()["version"] == release
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", release)


# -- the views -------------------------------------------------------------------------------------

def xml_views() -> dict[str, ET.Element]:
    """XML id -> arch root, for the module's ir.ui.view records."""
    views = {}
    for view_id, record in records("ir.ui.view").items():
        assert field_value(record, "model").text == MODEL, view_id
        [root] = list(field_value(record, "arch"))
        views[view_id] = root
    return views


def list_arch(tag: str) -> ET.Element:
    return ET.fromstring(outbox_views.list_view_arch(tag))


def all_archs() -> list[tuple[str, ET.Element]]:
    return [*xml_views().items(), *((f"list <{tag}>", list_arch(tag))
                                    for tag in outbox_views.LIST_TAGS)]


def expression_names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression.strip(), mode="eval"))
            if isinstance(node, ast.Name)} - EXPRESSION_NAMES


def domain_fields(domain: str) -> set[str]:
    return {leaf[0] for leaf in ast.literal_eval(domain) if isinstance(leaf, tuple | list)}


@pytest.mark.parametrize(("name", "arch"), all_archs(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_field_a_view_names_exists_on_the_model(name, arch):
    known = set(model_fields()) | AUTOMATIC_FIELDS
    shown = {field.get("name") for field in arch.iter("field")}
    assert shown, name
    assert shown <= known, f"{name}: {sorted(shown - known)}"
    for element in arch.iter():
        for attribute, expression in element.attrib.items():
            if attribute in EXPRESSION_ATTRIBUTES or attribute.startswith("decoration-"):
                used = expression_names(expression)
                assert used <= shown, f"{name}: {attribute}={expression!r} uses a field not shown"
        if element.get("domain"):
            assert domain_fields(element.get("domain")) <= known, element.get("domain")
        if element.get("context"):
            group_by = ast.literal_eval(element.get("context")).get("group_by")
            assert group_by is None or group_by in known, group_by


@pytest.mark.parametrize(("name", "arch"), all_archs(), ids=lambda v: v if isinstance(v, str) else None)
def test_every_button_calls_a_public_method_of_the_model(name, arch):
    for button in arch.iter("button"):
        assert button.get("type") == "object", name
        method = button.get("name")
        # Odoo refuses to call a method whose name starts with _ from a button.
        assert not method.startswith("_") and method in model_methods(), f"{name}: {method}"


def test_the_list_view_shows_the_outbox_with_its_state_for_both_versions():
    assert outbox_views.list_tag({"tree", "form", "search"}) == "tree"  # Odoo 17
    assert outbox_views.list_tag({"list", "form", "search"}) == "list"  # Odoo 18
    with pytest.raises(ValueError):
        outbox_views.list_tag({"form", "kanban"})
    with pytest.raises(ValueError):
        outbox_views.list_view_arch("kanban")
    for tag in outbox_views.LIST_TAGS:
        arch = list_arch(tag)
        assert arch.tag == tag
        columns = [field.get("name") for field in arch.findall("field")]
        assert columns[:6] == ["create_date", "event_id", "state", "attempts", "next_attempt",
                               "last_error"]
        assert arch.get("decoration-danger") == "state == 'failed'"
        assert arch.get("create") == "0"
        assert [b.get("name") for b in arch.find("header").iter("button")] == ["action_send_now"]
    tree, listed = (outbox_views.list_view_arch(tag) for tag in ("tree", "list"))
    assert tree.replace("<tree", "<list").replace("</tree>", "</list>") == listed


def test_the_form_shows_the_state_as_a_statusbar_and_offers_send_now_until_sent():
    [form] = [arch for arch in xml_views().values() if arch.tag == "form"]
    header = form.find("header")
    [state] = [f for f in header.iter("field") if f.get("name") == "state"]
    assert state.get("widget") == "statusbar"
    [button] = header.iter("button")
    assert button.get("name") == "action_send_now" and button.get("invisible") == "state == 'sent'"
    shown = {field.get("name") for field in form.iter("field")}
    assert {"event_id", "state", "attempts", "next_attempt", "last_error", "create_date",
            "payload"} <= shown


def test_the_search_view_filters_failed_waiting_and_sent_groups_and_counts_by_state():
    [search] = [arch for arch in xml_views().values() if arch.tag == "search"]
    filters = {f.get("name"): f for f in search.findall("filter")}
    states = set(selection_values("state"))
    for name, state in (("failed", "failed"), ("waiting", "pending"), ("sent", "sent")):
        assert state in states
        assert ("state", "=", state) in ast.literal_eval(filters[name].get("domain"))
    assert ast.literal_eval(filters["group_state"].get("context")) == {"group_by": "state"}
    [panel_field] = search.find("searchpanel").findall("field")
    assert panel_field.get("name") == "state"
    assert panel_field.get("enable_counters") == "1" and panel_field.get("expand") == "1"


# -- action and menu -------------------------------------------------------------------------------

def test_the_action_opens_the_outbox_on_its_failed_events():
    actions = records("ir.actions.act_window")
    [(action_id, action)] = actions.items()
    assert field_value(action, "res_model").text == MODEL
    # No view_mode: 17's default is 'tree,form', 18's 'list,form'; a fixed value fits only one.
    assert field_value(action, "view_mode") is None
    assert field_value(action, "view_id") is None
    search_ref = field_value(action, "search_view_id").get("ref")
    assert xml_views()[search_ref].tag == "search"
    context = ast.literal_eval(field_value(action, "context").text)
    assert context == {"searchpanel_default_state": "failed"}
    assert context["searchpanel_default_state"] in selection_values("state")
    help_text = "".join(field_value(action, "help").itertext())
    assert "No failed event" in help_text and "Send now" in help_text
    assert action_id == "action_woodoo_webhook_event"


def test_the_menu_is_under_inventory_configuration_for_inventory_administrators():
    [menu] = elements("menuitem")
    assert menu.get("name") == "Woodoo outbox"
    assert menu.get("parent") == STOCK_CONFIGURATION_MENU
    assert menu.get("groups") == STOCK_MANAGERS
    assert menu.get("action") in records("ir.actions.act_window")


def test_the_list_view_xml_id_is_this_modules_and_no_xml_record_reuses_it():
    source = MODEL_FILE.read_text("utf-8")
    module, _dot, name = ast.literal_eval(
        source.split("LIST_VIEW_XMLID = ", 1)[1].split("\n", 1)[0]).partition(".")
    assert module == MODULE
    assert name not in {element.get("id") for element in elements("record")}
    assert name not in {element.get("id") for element in elements("menuitem")}


# -- the list view written at install and update, on the stand-ins ---------------------------------

@pytest.mark.parametrize(("version", "view_types", "tag"), [
    ("17", ["tree", "form", "graph", "pivot", "calendar", "gantt", "kanban", "search", "qweb"],
     "tree"),
    ("18", ["list", "form", "graph", "pivot", "calendar", "kanban", "search", "qweb"], "list"),
])
def test_the_list_view_is_loaded_with_the_tag_of_the_running_odoo(odoo, version, view_types, tag):
    loaded: list[tuple[list, bool]] = []

    class Views(base._Model):
        _name = "ir.ui.view"
        _fields: ClassVar = {"type": SimpleNamespace(get_values=lambda env: list(view_types))}

        def _load_records(self, data_list: list, update: bool = False) -> None:
            loaded.append((data_list, update))

    odoo.registry["ir.ui.view"] = Views
    odoo[MODEL]._woodoo_load_list_view()
    [([data], update)] = loaded
    assert update is True  # an update rewrites it like any other record of the module
    assert data["xml_id"] == f"{MODULE}.view_woodoo_webhook_event_list"
    assert data["noupdate"] is False
    values = data["values"]
    assert values["model"] == MODEL and values["type"] == tag
    assert ET.fromstring(values["arch_db"]).tag == tag


# -- "Send now", on the stand-ins ------------------------------------------------------------------

def events(env: base._Env) -> dict:
    return env.db.tables[MODEL]


def run_cron(env: base._Env, monkeypatch, daemon: base._Daemon) -> int:
    """One run of the sending cron, with `daemon` answering its POSTs."""
    with monkeypatch.context() as patch:
        patch.setattr(requests, "Session", daemon)
        return env[MODEL]._cron_woodoo_send()


def queue_one(env: base._Env, quant_id: int) -> int:
    base.quants(env, quant_id)._woodoo_notify()
    env.cr.commit()
    return max(events(env))


def test_send_now_queues_a_failed_event_for_the_cron_and_wakes_it(odoo, monkeypatch):
    event_id = queue_one(odoo, 15)
    assert odoo.db.trigger_calls == 1
    down = base._Daemon(error=requests.exceptions.ConnectTimeout("blackholed"))
    assert run_cron(odoo, monkeypatch, down) == 0
    odoo.db.clock = base.NOW + timedelta(hours=48, minutes=1)
    run_cron(odoo, monkeypatch, down)  # the 48 h are over: given up
    row = events(odoo)[event_id]
    assert row["state"] == "failed" and "gave up after 48 h" in row["last_error"]
    odoo.cr.commit()

    # The administrator, a day later, in a request of their own: no HTTP, one trigger.
    attempts = []
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: attempts.append(a))
    clicked = odoo.db.clock = base.NOW + timedelta(days=3)
    assert odoo[MODEL].browse([event_id]).action_send_now() is True
    row = events(odoo)[event_id]
    assert (row["state"], row["next_attempt"], row["attempts"], row["requeued_at"]) == (
        "pending", clicked, 0, clicked)
    assert "gave up after 48 h" in row["last_error"]  # until the next attempt says otherwise
    # The cron is triggered, and hears of it, after the click's commit only.
    assert odoo.db.trigger_calls == 1 and odoo.db.notified == ["cron_trigger"]
    odoo.cr.commit()
    assert odoo.db.trigger_calls == 2 and len(odoo.db.tables["ir.cron.trigger"]) == 2
    assert odoo.db.notified == ["cron_trigger"] * 2
    assert attempts == []

    # The cron's next run sends it, though it was created three days ago.
    up = base._Daemon()
    assert run_cron(odoo, monkeypatch, up) == 1
    row = events(odoo)[event_id]
    assert row["state"] == "sent" and row["last_error"] is False
    [post] = up.posts
    assert post["body"] == row["payload"].encode()
    assert json.loads(post["body"])["event_id"] == row["event_id"]


def test_send_now_hurries_waiting_events_and_leaves_sent_ones_alone(odoo, monkeypatch):
    sent = queue_one(odoo, 15)
    assert run_cron(odoo, monkeypatch, base._Daemon()) == 1
    waiting = queue_one(odoo, 31)
    run_cron(odoo, monkeypatch, base._Daemon(status=503))
    assert events(odoo)[waiting]["next_attempt"] == base.NOW + timedelta(minutes=1)
    before = dict(events(odoo)[sent])
    triggers = odoo.db.trigger_calls

    odoo[MODEL].browse([sent, waiting]).action_send_now()
    assert events(odoo)[sent] == before
    assert events(odoo)[waiting]["next_attempt"] == base.NOW
    assert events(odoo)[waiting]["attempts"] == 0
    odoo.cr.commit()
    assert odoo.db.trigger_calls == triggers + 1

    odoo[MODEL].browse([sent]).action_send_now()  # only sent events: nothing to do, no trigger
    odoo.cr.commit()
    assert events(odoo)[sent] == before and odoo.db.trigger_calls == triggers + 1
    assert run_cron(odoo, monkeypatch, base._Daemon()) == 1
    assert events(odoo)[waiting]["state"] == "sent"


def test_an_event_sent_again_by_hand_is_retried_for_another_48_hours(odoo, monkeypatch):
    event_id = queue_one(odoo, 15)
    down = base._Daemon(error=requests.exceptions.ConnectionError("refused"))
    odoo.db.clock = base.NOW + timedelta(hours=49)
    run_cron(odoo, monkeypatch, down)
    assert events(odoo)[event_id]["state"] == "failed"
    clicked = odoo.db.clock = base.NOW + timedelta(hours=50)
    odoo[MODEL].browse([event_id]).action_send_now()
    odoo.cr.commit()

    run_cron(odoo, monkeypatch, down)  # still down: retried from one minute, as a new event
    row = events(odoo)[event_id]
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert row["next_attempt"] == clicked + timedelta(minutes=1)
    odoo.db.clock = clicked + timedelta(hours=47)
    run_cron(odoo, monkeypatch, down)
    assert events(odoo)[event_id]["state"] == "pending"
    odoo.db.clock = clicked + timedelta(hours=48)
    run_cron(odoo, monkeypatch, down)
    assert events(odoo)[event_id]["state"] == "failed"
