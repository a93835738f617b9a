"""woodoo.odoo_setup against the Odoo simulator, over real HTTP through a real OdooGateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from woodoo.config import OdooConfig
from woodoo.odoo import OdooGateway, OdooSetupError
from woodoo.odoo_setup import (
    RULES,
    SIGNED_CODE,
    PlannedAction,
    WebhookSetupError,
    apply_webhooks,
    native_url,
    plan_webhooks,
)
from woodoo.retry import RetryPolicy
from woodoo.simulators.odoo import OdooSimulator

URL = "http://woodoo.example:8080"
TOKEN = "tok-0123456789abcdef-0123456789abcdef"
QUANT, MOVE = (spec.name for spec in RULES)


def connect(sim: OdooSimulator) -> OdooGateway:
    config = OdooConfig(url=sim.url, database=sim.database, username=sim.login,
                        password=sim.password, warehouses=["WH"])
    gateway = OdooGateway(config, RetryPolicy(1, 0.01))
    gateway.connect()
    return gateway


@pytest.fixture(params=["18.0", "17.0"])
def sim(request) -> Iterator[OdooSimulator]:
    """Odoo 18 and Odoo 17 emulations with the demo catalog."""
    with OdooSimulator(version=request.param) as simulator:
        simulator.load_catalog()
        yield simulator


@pytest.fixture
def gateway(sim) -> OdooGateway:
    return connect(sim)


def operations(plan: list[PlannedAction]) -> dict[str, str]:
    return {action.name: action.operation for action in plan}


def rules(gateway: OdooGateway) -> list[dict[str, Any]]:
    """What Odoo holds: every Woodoo rule (archived too) with its actions, names resolved."""
    fields = {row["id"]: row["name"] for row in gateway.execute(
        "ir.model.fields", "search_read", [[("model", "in", ["stock.quant", "stock.move"])]],
        {"fields": ["name"]})}
    rows = gateway.execute(
        "base.automation", "search_read", [[("name", "=like", "Woodoo: %")]],
        {"fields": ["name", "model_name", "trigger", "trigger_field_ids", "filter_domain",
                    "trg_selection_field_id", "action_server_ids", "active"],
         "context": {"active_test": False}, "order": "id"})
    for row in rows:
        row["trigger_field_ids"] = sorted(fields[i] for i in row["trigger_field_ids"])
        row["actions"] = gateway.execute(
            "ir.actions.server", "read", [row["action_server_ids"]],
            {"fields": ["state", "code", "webhook_url", "webhook_field_ids", "usage",
                        "model_name"]})
        for action in row["actions"]:
            action["webhook_field_ids"] = sorted(fields[i] for i in action["webhook_field_ids"])
    return rows


def test_native_setup_creates_two_rules_then_changes_nothing(sim, gateway):
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL + "/", token=TOKEN)
    assert operations(plan) == {QUANT: "create", MOVE: "create"}
    assert {(a.model, a.trigger) for a in plan} == {("stock.quant", "on_create_or_write"),
                                                   ("stock.move", "on_state_set")}
    assert sim.call_count("base.automation", "create") == 0  # planning only reads
    apply_webhooks(gateway, plan)

    quant, move = rules(gateway)
    webhook = f"{URL}/webhooks/odoo-native/{TOKEN}"
    assert quant["name"] == QUANT and quant["model_name"] == "stock.quant"
    assert quant["trigger"] == "on_create_or_write"
    assert quant["trigger_field_ids"] == ["quantity", "reserved_quantity"]
    assert quant["filter_domain"] == "[('location_id.usage', 'in', ['internal', 'transit'])]"
    assert quant["trg_selection_field_id"] is False
    [quant_action] = quant["actions"]
    assert quant_action["state"] == "webhook" and quant_action["webhook_url"] == webhook
    assert quant_action["usage"] == "base_automation"
    assert quant_action["webhook_field_ids"] == [
        "location_id", "product_id", "quantity", "reserved_quantity"]
    assert move["trigger"] == "on_state_set" and move["trigger_field_ids"] == ["state"]
    assert move["trg_selection_field_id"][1] == "Done"
    assert move["filter_domain"] == "[('state', '=', 'done')]"
    [move_action] = move["actions"]
    assert move_action["webhook_field_ids"] == [
        "location_dest_id", "location_id", "product_id", "state"]

    again = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(again) == {QUANT: "unchanged", MOVE: "unchanged"}
    assert all(a.details["changes"] == {} for a in again)
    sim.reset_calls()
    apply_webhooks(gateway, again)
    assert sim.call_count("base.automation") == 0  # unchanged means untouched


def test_a_new_daemon_url_updates_both_rules_in_place(gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    before = rules(gateway)
    moved = "https://woodoo.example.com"
    # Without --token the token the rules already carry is kept.
    plan = plan_webhooks(gateway, mode="native", daemon_url=moved, token=None)
    assert operations(plan) == {QUANT: "update", MOVE: "update"}
    for action in plan:
        assert action.details["changes"] == {"action.webhook_url": {
            "from": f"{URL}/webhooks/odoo-native/{TOKEN}",
            "to": f"{moved}/webhooks/odoo-native/{TOKEN}"}}
    apply_webhooks(gateway, plan)
    after = rules(gateway)
    assert [r["id"] for r in after] == [r["id"] for r in before]  # no new rules
    assert [a["id"] for r in after for a in r["actions"]] == [
        a["id"] for r in before for a in r["actions"]]  # nor new actions
    assert {a["webhook_url"] for r in after for a in r["actions"]} == {
        native_url(moved, TOKEN)}
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=moved, token=None)) == {
        QUANT: "unchanged", MOVE: "unchanged"}
    rotated = plan_webhooks(gateway, mode="native", daemon_url=moved, token="z" * 32)
    assert operations(rotated) == {QUANT: "update", MOVE: "update"}


def test_signed_mode_needs_the_module_installed(sim, gateway):
    with pytest.raises(WebhookSetupError) as raised:
        plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)
    message = str(raised.value)
    assert "woodoo_webhook" in message and "Odoo does not know the module" in message
    assert "addons_path" in message and "Update Apps List" in message
    assert "--mode native" in message
    assert isinstance(raised.value, OdooSetupError)  # the CLI reports it as a setup problem
    sim.install_module("woodoo_webhook")
    sim.installed_modules.discard("woodoo_webhook")  # known to Odoo, then uninstalled
    with pytest.raises(WebhookSetupError, match="the module is uninstalled"):
        plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)
    assert sim.call_count("base.automation", "create") == 0


def test_signed_mode_runs_the_module_method_and_switching_modes_updates(sim, gateway):
    sim.install_module("woodoo_webhook")
    plan = plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)
    assert operations(plan) == {QUANT: "create", MOVE: "create"}
    assert {a.details["url"] for a in plan} == {f"{URL}/webhooks/odoo"}
    apply_webhooks(gateway, plan)
    for rule in rules(gateway):
        [action] = rule["actions"]
        assert action["state"] == "code" and action["code"] == SIGNED_CODE
        assert action["webhook_url"] is False
    assert operations(plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)) == {
        QUANT: "unchanged", MOVE: "unchanged"}
    # The daemon URL lives in the module's system parameter, not in the rules.
    assert operations(plan_webhooks(gateway, mode="signed", daemon_url="https://other.example",
                                    token=None)) == {QUANT: "unchanged", MOVE: "unchanged"}

    to_native = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(to_native) == {QUANT: "update", MOVE: "update"}
    assert to_native[0].details["changes"]["action.state"] == {"from": "code", "to": "webhook"}
    apply_webhooks(gateway, to_native)
    assert [a["state"] for r in rules(gateway) for a in r["actions"]] == ["webhook", "webhook"]
    back = plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)
    assert operations(back) == {QUANT: "update", MOVE: "update"}
    apply_webhooks(gateway, back)
    after = rules(gateway)
    assert len(after) == 2 and all(len(r["actions"]) == 1 for r in after)
    assert all(a["webhook_url"] is False and a["code"] == SIGNED_CODE
               for r in after for a in r["actions"])


def test_edits_made_in_odoo_are_repaired_whole(sim, gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    quant, move = rules(gateway)
    # An administrator narrows the domain alone: Odoo 18 then adds the fields the domain names
    # to the trigger fields (location_id), Odoo 17 leaves them; either way it is drift.
    gateway.execute("base.automation", "write",
                    [[quant["id"]], {"filter_domain": "[('location_id.usage', '=', 'internal')]"}],
                    {})
    gateway.execute("base.automation", "write", [[move["id"]], {"active": False}], {})
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(plan) == {QUANT: "update", MOVE: "update"}
    changes = plan[0].details["changes"]
    assert "rule.filter_domain" in changes
    if sim.version.startswith("18"):
        assert changes["rule.trigger_field_ids"]["from"] == [
            "stock.quant.location_id", "stock.quant.quantity", "stock.quant.reserved_quantity"]
    else:
        assert "rule.trigger_field_ids" not in changes
    assert plan[1].details["changes"] == {"rule.active": {"from": False, "to": True}}
    apply_webhooks(gateway, plan)
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged", MOVE: "unchanged"}
    quant, move = rules(gateway)
    assert quant["trigger_field_ids"] == ["quantity", "reserved_quantity"]
    assert move["active"] is True


def test_the_same_domain_written_differently_is_unchanged(gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    rule_id = rules(gateway)[0]["id"]
    [row] = gateway.execute("base.automation", "read", [[rule_id]],
                            {"fields": ["trigger_field_ids"]})
    # What a domain editor may save: double quotes, a tuple, other spacing; written with the
    # trigger fields, as the form saves them together.
    gateway.execute("base.automation", "write", [[rule_id], {
        "filter_domain": '[ ("location_id.usage", "in", ("internal", "transit")) ]',
        "trigger_field_ids": [[6, 0, row["trigger_field_ids"]]]}], {})
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged", MOVE: "unchanged"}


def test_duplicates_by_name_are_archived_and_extra_actions_removed(sim, gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    quant = rules(gateway)[0]
    model_id = gateway.execute("ir.model", "search", [[("model", "=", "stock.quant")]], {})[0]
    duplicate = gateway.execute("base.automation", "create", [{
        "name": QUANT, "model_id": model_id, "trigger": "on_create_or_write",
        "action_server_ids": [[0, 0, {"name": "dup", "model_id": model_id, "state": "code",
                                      "code": "pass"}]]}], {})
    gateway.execute("base.automation", "write", [[quant["id"]], {"action_server_ids": [
        [0, 0, {"name": "extra", "model_id": model_id, "state": "code", "code": "pass"}]]}], {})
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(plan)[QUANT] == "update"
    assert plan[0].details["rule_id"] == quant["id"]  # the oldest one is kept
    assert plan[0].details["archive_rule_ids"] == [duplicate]
    assert len(plan[0].details["remove_action_ids"]) == 1
    apply_webhooks(gateway, plan)
    after = {r["id"]: r for r in rules(gateway)}
    assert after[duplicate]["active"] is False
    assert len(after[quant["id"]]["actions"]) == 1
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged", MOVE: "unchanged"}


def test_apply_refuses_to_create_a_rule_that_appeared_since_the_plan(gateway):
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    apply_webhooks(gateway, plan)
    with pytest.raises(WebhookSetupError, match="plan again"):
        apply_webhooks(gateway, plan)
    assert len(rules(gateway)) == 2


def test_native_mode_checks_the_token_and_the_url(gateway):
    with pytest.raises(WebhookSetupError, match="needs --token"):
        plan_webhooks(gateway, mode="native", daemon_url=URL, token=None)
    for token in ("short", "has space in it 0123", "slash/in/the/token/0123"):
        with pytest.raises(WebhookSetupError, match="--token"):
            plan_webhooks(gateway, mode="native", daemon_url=URL, token=token)
    for url in ("woodoo.example", "ftp://woodoo.example", "https://woodoo.example/?a=1"):
        with pytest.raises(WebhookSetupError, match="--url"):
            plan_webhooks(gateway, mode="native", daemon_url=url, token=TOKEN)
    with pytest.raises(WebhookSetupError, match="mode must be"):
        plan_webhooks(gateway, mode="polling", daemon_url=URL, token=TOKEN)


def test_odoo_16_is_refused_in_words():
    with OdooSimulator(version="16.0") as sim:
        sim.load_catalog()
        sim.install_module("woodoo_webhook")
        gateway = connect(sim)
        for mode in ("native", "signed"):
            with pytest.raises(WebhookSetupError, match=r"Odoo 16\.0 .*Odoo 17"):
                plan_webhooks(gateway, mode=mode, daemon_url=URL, token=TOKEN)


def test_odoo_without_automation_rules_is_told_what_to_install():
    with OdooSimulator() as sim:
        sim.load_catalog()
        gateway = connect(sim)
        original = gateway.execute

        def without_base_automation(model: str, method: str, args: list[Any],
                                    kwargs: dict[str, Any]) -> Any:
            rows = original(model, method, args, kwargs)
            if model == "ir.model":
                rows = [r for r in rows if r["model"] != "base.automation"]
            return rows

        gateway.execute = without_base_automation  # type: ignore[method-assign]
        with pytest.raises(WebhookSetupError, match="base_automation"):
            plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)


def test_odoo_online_saas_versions_are_understood():
    with OdooSimulator(version="saas~17.4") as sim:
        sim.load_catalog()
        gateway = connect(sim)
        assert gateway.server_version == "saas~17.4"
        plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
        assert operations(plan) == {QUANT: "create", MOVE: "create"}


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0"])
def test_simulated_automation_fields_follow_the_version(version):
    with OdooSimulator(version=version) as sim:
        gateway = connect_bare(sim)
        rule = gateway.execute("base.automation", "fields_get", [], {"attributes": ["type"]})
        action = gateway.execute("ir.actions.server", "fields_get", [],
                                 {"attributes": ["selection"]})
        states = {key for key, _label in action["state"]["selection"]}
        if version == "16.0":
            assert rule["action_server_id"] == {"type": "many2one"}
            assert "action_server_ids" not in rule and "webhook_url" not in action
            assert "webhook" not in states
        else:
            assert rule["action_server_ids"] == {"type": "one2many"}
            assert "action_server_id" not in rule
            assert {"webhook", "code"} <= states
            assert ("trg_field_ref_display_name" in rule) is (version == "17.0")


def connect_bare(sim: OdooSimulator) -> OdooGateway:
    """A gateway on a simulator without the catalog (no warehouse to resolve)."""
    config = OdooConfig(url=sim.url, database=sim.database, username=sim.login,
                        password=sim.password, warehouses=["WH"])
    gateway = OdooGateway(config, RetryPolicy(1, 0.01))
    sim.add_warehouse("WH", "Main Warehouse")
    gateway.connect()
    return gateway
