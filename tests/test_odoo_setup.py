"""woodoo.gateways.odoo_setup against the Odoo simulator, over real HTTP through a real OdooGateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from woodoo.cli import main
from woodoo.config import OdooConfig
from woodoo.gateways.odoo import OdooGateway, OdooSetupError
from woodoo.gateways.odoo_setup import (
    RETIRED_RULES,
    RULES,
    SIGNED_CODE,
    PlannedAction,
    WebhookSetupError,
    apply_webhooks,
    native_mode_warning,
    native_url,
    plan_pause,
    plan_resume,
    plan_webhooks,
)
from woodoo.gateways.retry import RetryPolicy
from woodoo.simulators.odoo import OdooSimulator

URL = "http://woodoo.example:8080"
TOKEN = "tok-0123456789abcdef-0123456789abcdef"
[QUANT] = (spec.name for spec in RULES)
[MOVE] = RETIRED_RULES  # what Woodoo before 0.2 also created


def connect(sim: OdooSimulator, warehouses: tuple[str, ...] = ("WH",),
            stock_field: str = "free_qty") -> OdooGateway:
    config = OdooConfig(url=sim.url, database=sim.database, username=sim.login,
                        password=sim.password, warehouses=list(warehouses),
                        stock_field=stock_field)
    gateway = OdooGateway(config, RetryPolicy(1, 0.01))
    gateway.connect()
    return gateway


def quant_domain(gateway: OdooGateway) -> str:
    ids = sorted(w.id for w in gateway.warehouses)
    return (f"[('location_id.usage', 'in', ['internal', 'transit']), "
            f"('location_id.warehouse_id', 'in', {ids})]")


def create_old_move_rule(gateway: OdooGateway, url: str) -> int:
    """The done-move rule Woodoo created before 0.2, as it created it (native mode)."""
    model_id = gateway.execute("ir.model", "search", [[("model", "=", "stock.move")]], {})[0]
    fields = {row["name"]: row["id"] for row in gateway.execute(
        "ir.model.fields", "search_read", [[("model", "=", "stock.move")]], {"fields": ["name"]})}
    [done] = gateway.execute("ir.model.fields.selection", "search",
                             [[("field_id", "=", fields["state"]), ("value", "=", "done")]], {})
    return gateway.execute("base.automation", "create", [{
        "name": MOVE, "model_id": model_id, "trigger": "on_state_set",
        "trigger_field_ids": [[6, 0, [fields["state"]]]], "trg_selection_field_id": done,
        "filter_domain": "[('state', '=', 'done')]", "active": True,
        "action_server_ids": [[0, 0, {
            "name": MOVE, "model_id": model_id, "usage": "base_automation", "state": "webhook",
            "webhook_url": url, "webhook_field_ids": [[6, 0, [fields["product_id"]]]]}]]}], {})


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


def test_native_setup_creates_one_quant_rule_then_changes_nothing(sim, gateway):
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL + "/", token=TOKEN)
    assert operations(plan) == {QUANT: "create"}
    assert [(a.model, a.trigger) for a in plan] == [("stock.quant", "on_create_or_write")]
    assert sim.call_count("base.automation", "create") == 0  # planning only reads
    apply_webhooks(gateway, plan)

    [quant] = rules(gateway)
    webhook = f"{URL}/webhooks/odoo-native/{TOKEN}"
    assert quant["name"] == QUANT and quant["model_name"] == "stock.quant"
    assert quant["trigger"] == "on_create_or_write"
    assert quant["trigger_field_ids"] == ["quantity", "reserved_quantity"]
    # Stock locations of the synced warehouse only (WH, not RET): no customer or adjustment
    # quants, no other warehouse's.
    [wh] = gateway.warehouses
    assert quant["filter_domain"] == (
        f"[('location_id.usage', 'in', ['internal', 'transit']), "
        f"('location_id.warehouse_id', 'in', [{wh.id}])]")
    assert quant["trg_selection_field_id"] is False
    [quant_action] = quant["actions"]
    assert quant_action["state"] == "webhook" and quant_action["webhook_url"] == webhook
    assert quant_action["usage"] == "base_automation"
    assert quant_action["webhook_field_ids"] == [
        "location_id", "product_id", "quantity", "reserved_quantity"]

    again = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(again) == {QUANT: "unchanged"}
    assert all(a.details["changes"] == {} for a in again)
    sim.reset_calls()
    apply_webhooks(gateway, again)
    assert sim.call_count("base.automation") == 0  # unchanged means untouched


def test_the_done_move_rule_of_an_earlier_woodoo_is_archived(sim, gateway):
    old_url = native_url(URL, TOKEN)
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    move_id = create_old_move_rule(gateway, old_url)
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(plan) == {QUANT: "unchanged", MOVE: "archive"}
    archive = plan[1]
    assert (archive.model, archive.trigger) == ("stock.move", "on_state_set")
    assert archive.details["changes"] == {"rule.active": {"from": True, "to": False}}
    assert "sees every stock change" in archive.details["reason"]
    apply_webhooks(gateway, plan)
    after = {r["name"]: r for r in rules(gateway)}
    assert after[MOVE]["id"] == move_id and after[MOVE]["active"] is False  # kept, switched off
    assert after[QUANT]["active"] is True
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=None)) == {
        QUANT: "unchanged"}


def test_the_rule_follows_the_stock_figure_and_the_warehouses(sim):
    gateway = connect(sim, warehouses=("WH", "RET"), stock_field="qty_available")
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    apply_webhooks(gateway, plan)
    [quant] = rules(gateway)
    # On-hand stock does not move with reservations: a delivery notifies once, not twice.
    assert quant["trigger_field_ids"] == ["quantity"]
    assert quant["filter_domain"] == quant_domain(gateway)
    assert len(gateway.warehouses) == 2

    narrower = connect(sim, warehouses=("WH",))
    plan = plan_webhooks(narrower, mode="native", daemon_url=URL, token=None)
    assert operations(plan) == {QUANT: "update"}
    changes = plan[0].details["changes"]
    assert changes["rule.trigger_field_ids"] == {
        "from": ["stock.quant.quantity"],
        "to": ["stock.quant.quantity", "stock.quant.reserved_quantity"]}
    assert changes["rule.filter_domain"]["to"] == repr(
        [["location_id.usage", "in", ["internal", "transit"]],
         ["location_id.warehouse_id", "in", [narrower.warehouses[0].id]]])
    apply_webhooks(narrower, plan)
    assert operations(plan_webhooks(narrower, mode="native", daemon_url=URL, token=None)) == {
        QUANT: "unchanged"}


def test_a_new_daemon_url_updates_the_rule_in_place(gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    before = rules(gateway)
    moved = "https://woodoo.example.com"
    # Without --token the token the rule already carries is kept.
    plan = plan_webhooks(gateway, mode="native", daemon_url=moved, token=None)
    assert operations(plan) == {QUANT: "update"}
    assert plan[0].details["changes"] == {"action.webhook_url": {
        "from": f"{URL}/webhooks/odoo-native/{TOKEN}",
        "to": f"{moved}/webhooks/odoo-native/{TOKEN}"}}
    apply_webhooks(gateway, plan)
    after = rules(gateway)
    assert [r["id"] for r in after] == [r["id"] for r in before]  # no new rule
    assert [a["id"] for r in after for a in r["actions"]] == [
        a["id"] for r in before for a in r["actions"]]  # nor new action
    assert {a["webhook_url"] for r in after for a in r["actions"]} == {
        native_url(moved, TOKEN)}
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=moved, token=None)) == {
        QUANT: "unchanged"}
    rotated = plan_webhooks(gateway, mode="native", daemon_url=moved, token="z" * 32)
    assert operations(rotated) == {QUANT: "update"}


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
    assert operations(plan) == {QUANT: "create"}
    assert {a.details["url"] for a in plan} == {f"{URL}/webhooks/odoo"}
    apply_webhooks(gateway, plan)
    [rule] = rules(gateway)
    [action] = rule["actions"]
    assert action["state"] == "code" and action["code"] == SIGNED_CODE
    assert action["webhook_url"] is False
    assert operations(plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)) == {
        QUANT: "unchanged"}
    # The daemon URL lives in the module's system parameter, not in the rules.
    assert operations(plan_webhooks(gateway, mode="signed", daemon_url="https://other.example",
                                    token=None)) == {QUANT: "unchanged"}

    to_native = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(to_native) == {QUANT: "update"}
    assert to_native[0].details["changes"]["action.state"] == {"from": "code", "to": "webhook"}
    apply_webhooks(gateway, to_native)
    assert [a["state"] for r in rules(gateway) for a in r["actions"]] == ["webhook"]
    back = plan_webhooks(gateway, mode="signed", daemon_url=URL, token=None)
    assert operations(back) == {QUANT: "update"}
    apply_webhooks(gateway, back)
    after = rules(gateway)
    assert len(after) == 1 and all(len(r["actions"]) == 1 for r in after)
    assert all(a["webhook_url"] is False and a["code"] == SIGNED_CODE
               for r in after for a in r["actions"])


def test_edits_made_in_odoo_are_repaired_whole(sim, gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    [quant] = rules(gateway)
    # An administrator narrows the domain alone: Odoo 18 then adds the fields the domain names
    # to the trigger fields (location_id), Odoo 17 leaves them; either way it is drift.
    gateway.execute("base.automation", "write",
                    [[quant["id"]], {"filter_domain": "[('location_id.usage', '=', 'internal')]"}],
                    {})
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    assert operations(plan) == {QUANT: "update"}
    changes = plan[0].details["changes"]
    assert "rule.filter_domain" in changes
    if sim.version.startswith("18"):
        assert changes["rule.trigger_field_ids"]["from"] == [
            "stock.quant.location_id", "stock.quant.quantity", "stock.quant.reserved_quantity"]
    else:
        assert "rule.trigger_field_ids" not in changes
    apply_webhooks(gateway, plan)
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged"}
    [quant] = rules(gateway)
    assert quant["trigger_field_ids"] == ["quantity", "reserved_quantity"]
    assert quant["filter_domain"] == quant_domain(gateway)


def test_the_same_domain_written_differently_is_unchanged(gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    rule_id = rules(gateway)[0]["id"]
    [row] = gateway.execute("base.automation", "read", [[rule_id]],
                            {"fields": ["trigger_field_ids"]})
    [wh] = gateway.warehouses
    # What a domain editor may save: double quotes, tuples, other spacing; written with the
    # trigger fields, as the form saves them together.
    gateway.execute("base.automation", "write", [[rule_id], {
        "filter_domain": f'[ ("location_id.usage", "in", ("internal", "transit")),'
                         f' ("location_id.warehouse_id", "in", ({wh.id},)) ]',
        "trigger_field_ids": [[6, 0, row["trigger_field_ids"]]]}], {})
    assert operations(plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged"}


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
        QUANT: "unchanged"}


def test_apply_refuses_to_create_a_rule_that_appeared_since_the_plan(gateway):
    plan = plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN)
    apply_webhooks(gateway, plan)
    with pytest.raises(WebhookSetupError, match="plan again"):
        apply_webhooks(gateway, plan)
    assert len(rules(gateway)) == 1


# -- pause and resume ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["native", "signed"])
def test_pause_and_resume_switch_the_rule_and_are_idempotent(sim, gateway, mode):
    sim.install_module("woodoo_webhook")
    apply_webhooks(gateway, plan_webhooks(gateway, mode=mode, daemon_url=URL, token=TOKEN))
    [before] = rules(gateway)

    pause = plan_pause(gateway)
    assert operations(pause) == {QUANT: "pause"}
    assert pause[0].details["mode"] == mode
    assert pause[0].details["changes"] == {"rule.active": {"from": True, "to": False}}
    assert sim.call_count("base.automation", "write") == 0  # planning only reads
    apply_webhooks(gateway, pause)
    [paused] = rules(gateway)
    assert paused["active"] is False
    # Everything else is kept, so resuming needs nothing but `active`.
    assert {k: v for k, v in paused.items() if k != "active"} == {
        k: v for k, v in before.items() if k != "active"}
    again = plan_pause(gateway)
    assert operations(again) == {QUANT: "unchanged"}
    sim.reset_calls()
    apply_webhooks(gateway, again)
    assert sim.call_count("base.automation", "write") == 0

    resume = plan_resume(gateway)
    assert operations(resume) == {QUANT: "resume"}
    apply_webhooks(gateway, resume)
    assert rules(gateway) == [before]
    assert operations(plan_resume(gateway)) == {QUANT: "unchanged"}
    assert operations(plan_webhooks(gateway, mode=mode, daemon_url=URL, token=TOKEN)) == {
        QUANT: "unchanged"}


def test_pause_takes_every_woodoo_rule_and_resume_only_the_kept_one(gateway):
    apply_webhooks(gateway, plan_webhooks(gateway, mode="native", daemon_url=URL, token=TOKEN))
    # An earlier Woodoo's move rule, not archived yet (setup-webhooks not re-run since).
    move_id = create_old_move_rule(gateway, native_url(URL, TOKEN))
    model_id = gateway.execute("ir.model", "search", [[("model", "=", "stock.quant")]], {})[0]
    duplicate = gateway.execute("base.automation", "create", [{
        "name": QUANT, "model_id": model_id, "trigger": "on_create_or_write", "active": False}],
        {})
    other = gateway.execute("base.automation", "create", [{
        "name": "Not Woodoo's", "model_id": model_id, "trigger": "on_create_or_write"}], {})

    pause = plan_pause(gateway)
    assert operations(pause) == {QUANT: "pause", MOVE: "pause"}
    assert pause[1].details["archive_rule_ids"] == [move_id]
    apply_webhooks(gateway, pause)
    state = {r["id"]: r["active"] for r in rules(gateway)}
    assert not any(state.values())
    [mine] = gateway.execute("base.automation", "read", [[other]], {"fields": ["active"]})
    assert mine["active"] is True  # only Woodoo's rules are touched

    resume = plan_resume(gateway)
    assert operations(resume) == {QUANT: "resume"}
    apply_webhooks(gateway, resume)
    state = {r["id"]: r["active"] for r in rules(gateway)}
    assert state[duplicate] is False and state[move_id] is False
    assert sum(state.values()) == 1
    # The archived move rule is no longer part of what pause reports.
    assert operations(plan_pause(gateway)) == {QUANT: "pause"}


def test_pause_and_resume_without_rules_say_what_to_run(gateway):
    for plan in (plan_pause, plan_resume):
        with pytest.raises(WebhookSetupError, match="setup-webhooks"):
            plan(gateway)
    create_old_move_rule(gateway, native_url(URL, TOKEN))
    with pytest.raises(WebhookSetupError, match=r"no rule .*stock\.quant.* setup-webhooks"):
        plan_resume(gateway)


def test_native_mode_warning_says_what_an_unreachable_daemon_costs(sim, gateway):
    text = "\n".join(native_mode_warning(gateway))
    assert "INSIDE the user's save" in text and "1 s per notification" in text
    assert "N products" in text and "N seconds" in text
    assert "woodoo odoo pause-webhooks" in text and "resume-webhooks" in text
    assert "recommended:" in text and "woodoo_webhook module" in text and "--mode signed" in text
    sim.install_module("woodoo_webhook")
    text = "\n".join(native_mode_warning(gateway))
    assert "module is installed in this Odoo: use --mode signed" in text


def test_native_mode_warning_on_odoo_online_says_native_is_the_only_way():
    with OdooSimulator(version="saas~17.4") as sim:
        sim.load_catalog()
        text = "\n".join(native_mode_warning(connect(sim)))
        assert "1 s per notification" in text
        assert "Odoo Online" in text and "only real-time way" in text


def test_cli_setup_then_pause_and_resume(make_config_file, odoo):
    path = str(make_config_file())
    runner = CliRunner()
    setup = runner.invoke(main, ["odoo", "setup-webhooks", "--mode", "native", "--url",
                                 "https://woodoo.example.com", "--token", "t" * 40, "-c", path])
    assert setup.exit_code == 0, setup.output
    assert "warning: in native mode Odoo calls the daemon INSIDE the user's save" in setup.output
    assert "recommended:" in setup.output
    assert setup.output.count("create: Woodoo: ") == 1

    dry = runner.invoke(main, ["odoo", "pause-webhooks", "--dry-run", "-c", path])
    assert dry.exit_code == 0, dry.output
    assert f"pause: {QUANT} (stock.quant, on_create_or_write)" in dry.output
    assert "nothing written" in dry.output
    assert rule_states(odoo) == [True]
    for _ in range(2):
        paused = runner.invoke(main, ["odoo", "pause-webhooks", "-c", path])
        assert paused.exit_code == 0, paused.output
        assert "paused: Odoo no longer notifies the daemon" in paused.output
        assert rule_states(odoo) == [False]
    assert f"unchanged: {QUANT}" in paused.output  # the second time: nothing to do

    dry = runner.invoke(main, ["odoo", "resume-webhooks", "--dry-run", "-c", path])
    assert f"resume: {QUANT}" in dry.output and rule_states(odoo) == [False]
    for _ in range(2):
        resumed = runner.invoke(main, ["odoo", "resume-webhooks", "-c", path])
        assert resumed.exit_code == 0, resumed.output
        assert "resumed: Odoo notifies the daemon again" in resumed.output
        assert rule_states(odoo) == [True]


def test_cli_pause_without_rules_exits_2(make_config_file):
    result = CliRunner().invoke(main, ["odoo", "pause-webhooks", "-c", str(make_config_file())])
    assert result.exit_code == 2
    assert "setup-webhooks" in result.output


def rule_states(sim: OdooSimulator) -> list[bool]:
    """`active` of every Woodoo rule in the simulator, read over RPC like any client."""
    return [r["active"] for r in connect(sim).execute(
        "base.automation", "search_read", [[("name", "=like", "Woodoo: %")]],
        {"fields": ["active"], "order": "id", "context": {"active_test": False}})]


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
        assert operations(plan) == {QUANT: "create"}


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
