"""Create or update, over RPC, the Odoo automation rules that tell Woodoo about stock changes.

Two rules, on `stock.quant` (quantity or reservation of a quant in an internal/transit location
saved) and on `stock.move` (state set to done), each with one server action:
- mode "native": Odoo's own "Send Webhook Notification" action (state 'webhook', Odoo 17+), which
  POSTs `{_model, _id, _action, <chosen fields>}` to `<daemon>/webhooks/odoo-native/<token>`.
  It cannot sign or add headers, so the token in the URL is the authentication.
- mode "signed": an "Execute Code" action calling `records._woodoo_notify()` of the Odoo module
  `woodoo_webhook` (odoo-addon/), which queues HMAC-signed events in an outbox, sent after commit.

Rules are found again by name (every name starts with "Woodoo: "), so running this twice changes
nothing and a changed URL or mode updates the rules in place instead of adding more.

Odoo facts relied on, read in public copies of the source (17: UmmeHani-SCI/
Odoo17-UH_Hospital_Management @ 02f3b73; 18: informaticeng0011/odoo_18.0 @ 011dedd; files
addons/base_automation/models/base_automation.py, addons/base_automation/models/
ir_actions_server.py, odoo/addons/base/models/ir_actions.py):
- 17 and 18 name the fields alike: base.automation `name`, `model_id` (an ir.model id),
  `trigger`, `trigger_field_ids` (ir.model.fields), `trg_selection_field_id`
  (ir.model.fields.selection), `filter_pre_domain`, `filter_domain` (a string), `active`, and
  `action_server_ids`, a one2many whose inverse is ir.actions.server `base_automation_id` (usage
  'base_automation'). 16 and older have one delegated action (`action_server_id`) and no
  on_state_set trigger, and 16 has no 'webhook' action: not supported here.
- ir.actions.server: `state` 'webhook' with `webhook_url` and `webhook_field_ids`, 'code' with
  `code` (readable by Settings administrators only); the action must be on the rule's model
  (_check_action_server_model).
- Several of those rule fields are stored computed fields that Odoo recomputes when another one is
  written alone, differently in 17 and 18 (18 adds the fields the domain names to
  trigger_field_ids, 17 clears trg_selection_field_id whenever the trigger fields change...).
  So an update always writes the whole set, never one field.
- Automation rules run their actions once per record (`_process`), inside the transaction that
  changed the stock; the native webhook waits at most 1 s and is never retried.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from woodoo.odoo import OdooGateway, OdooSetupError

RULE_PREFIX = "Woodoo: "
MODULE = "woodoo_webhook"
NATIVE_PATH = "/webhooks/odoo-native/"
SIGNED_PATH = "/webhooks/odoo"
SIGNED_CODE = "records._woodoo_notify()"
MODES = ("native", "signed")
TOKEN = re.compile(r"[A-Za-z0-9._~-]{32,256}")  # unreserved URL characters: no escaping needed
MIN_VERSION = 17


class WebhookSetupError(OdooSetupError):
    """Odoo cannot take the webhook rules as asked; each problem says what to do."""


@dataclass(frozen=True)
class RuleSpec:
    """One automation rule Woodoo needs, in Odoo's terms."""

    name: str
    model: str
    trigger: str
    trigger_fields: tuple[str, ...]
    filter_domain: str
    state_value: str | None  # on_state_set: the selection value the state is set to
    webhook_fields: tuple[str, ...]


RULES = (
    RuleSpec(
        name=f"{RULE_PREFIX}stock.quant quantity changed", model="stock.quant",
        trigger="on_create_or_write", trigger_fields=("quantity", "reserved_quantity"),
        # Quants also exist in customer/inventory-adjustment locations (negative there): skip them.
        filter_domain="[('location_id.usage', 'in', ['internal', 'transit'])]", state_value=None,
        webhook_fields=("product_id", "location_id", "quantity", "reserved_quantity"),
    ),
    RuleSpec(
        name=f"{RULE_PREFIX}stock.move done", model="stock.move", trigger="on_state_set",
        # What 17 and 18 store for "State is set to: Done" (both write this exact string).
        trigger_fields=("state",), filter_domain="[('state', '=', 'done')]", state_value="done",
        webhook_fields=("product_id", "state", "location_id", "location_dest_id"),
    ),
)

RULE_FIELDS = ["name", "model_id", "trigger", "trigger_field_ids", "trg_selection_field_id",
               "filter_pre_domain", "filter_domain", "action_server_ids", "active"]
ACTION_FIELDS = ["name", "model_id", "state", "usage", "code", "webhook_url", "webhook_field_ids"]


@dataclass(frozen=True)
class PlannedAction:
    """One automation rule and what applying the plan does to it ("create"/"update"/"unchanged").

    `details` (JSON-friendly) holds what apply_webhooks needs and what a dry run shows: `rule_id`,
    `action_id`, `values` (the rule's and the action's), `changes` (field: {from, to}, readable),
    `remove_action_ids`, `archive_rule_ids` (duplicates by name), `mode` and `url` (native: the
    webhook URL, token included; signed: what the module's woodoo_webhook.url parameter needs).
    """

    name: str
    model: str
    trigger: str
    operation: str
    details: dict[str, Any] = field(default_factory=dict)


def plan_webhooks(gateway: OdooGateway, *, mode: str, daemon_url: str,
                  token: str | None) -> list[PlannedAction]:
    """What to create or update in Odoo so its automation rules notify the daemon; reads only."""
    if mode not in MODES:
        raise WebhookSetupError([f"mode must be one of {', '.join(MODES)}, not {mode!r}"])
    base_url = _check_daemon_url(daemon_url)
    if gateway.client is None or not gateway.server_version:
        gateway.connect()
    if gateway.major_version < MIN_VERSION:
        raise WebhookSetupError([
            f"Odoo {gateway.server_version} has no webhook automation rules of the kind Woodoo "
            f"sets up (they changed in Odoo {MIN_VERSION}); Woodoo keeps polling Odoo instead"])
    model_ids = _model_ids(gateway)
    _check_schema(gateway, mode)
    if mode == "signed":
        _check_module(gateway)
    names = _field_names(gateway)  # ir.model.fields id -> "model.field", for both models
    ids = {label: field_id for field_id, label in names.items()}
    existing = _existing_rules(gateway)
    if mode == "native":
        url = native_url(base_url, _native_token(token, existing))
    else:
        # Not written anywhere by this: the module's system parameter woodoo_webhook.url
        # must hold it (set in Odoo, with the secret; see odoo-addon/woodoo_webhook/README.md).
        url = f"{base_url}{SIGNED_PATH}"
    plan = []
    for spec in RULES:
        rule_values = _rule_values(gateway, spec, model_ids[spec.model], ids)
        action_values = _action_values(spec, model_ids[spec.model], ids, mode, url)
        plan.append(_plan_rule(spec, rule_values, action_values, existing.get(spec.name, []),
                               names, mode, url))
    return plan


def apply_webhooks(gateway: OdooGateway, plan: list[PlannedAction]) -> None:
    """Carry out a plan from plan_webhooks: one Odoo transaction per rule."""
    for planned in plan:
        details = planned.details
        values = details["values"]
        if planned.operation == "create":
            # A rule created since the plan (or by an earlier run whose answer was lost) would
            # be duplicated: stop and let a fresh plan turn it into an update.
            found = gateway.execute("base.automation", "search", [[("name", "=", planned.name)]],
                                    {"context": {"active_test": False}})
            if found:
                raise WebhookSetupError([f"{planned.name}: the rule appeared in Odoo since the "
                                         f"plan was made; plan again"])
            gateway.execute("base.automation", "create", [
                {**values["rule"], "action_server_ids": [[0, 0, values["action"]]]}], {})
        elif planned.operation == "update":
            commands: list[list[Any]] = (
                [[1, details["action_id"], values["action"]]] if details["action_id"]
                else [[0, 0, values["action"]]])
            commands += [[2, action_id] for action_id in details["remove_action_ids"]]
            # The whole rule is written at once: Odoo recomputes the trigger fields, the state
            # value and the domain from each other when one is written alone.
            gateway.execute("base.automation", "write", [
                [details["rule_id"]], {**values["rule"], "action_server_ids": commands}], {})
            if details["archive_rule_ids"]:
                gateway.execute("base.automation", "write",
                                [details["archive_rule_ids"], {"active": False}], {})
        elif planned.operation != "unchanged":
            raise ValueError(f"unknown operation {planned.operation!r} for {planned.name}")


def native_url(daemon_url: str, token: str) -> str:
    """The URL Odoo's native webhook posts to: `<daemon>/webhooks/odoo-native/<token>`."""
    return f"{_check_daemon_url(daemon_url)}{NATIVE_PATH}{_check_token(token)}"


# -- checks ------------------------------------------------------------------------------------

def _check_daemon_url(daemon_url: str) -> str:
    parsed = urlparse(daemon_url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise WebhookSetupError([f"--url: {daemon_url!r} must be the daemon's public http(s) "
                                 f"URL, e.g. https://woodoo.example.com"])
    if parsed.query or parsed.fragment:
        raise WebhookSetupError([f"--url: {daemon_url!r} must not have a query or fragment"])
    return daemon_url.strip().rstrip("/")


def _check_token(token: str) -> str:
    if not TOKEN.fullmatch(token):
        raise WebhookSetupError([
            "--token must be 32 to 256 characters from A-Z a-z 0-9 - _ . ~ (it goes in the URL "
            "and is all that authenticates Odoo's native webhook); use the daemon's token"])
    return token


def _native_token(token: str | None, existing: dict[str, list[dict[str, Any]]]) -> str:
    if token:
        return _check_token(token)
    # Re-running without --token keeps the token the rules already use.
    for rules in existing.values():
        for rule in rules:
            for action in rule["actions"]:
                url = action.get("webhook_url") or ""
                if NATIVE_PATH in url:
                    return _check_token(url.rsplit(NATIVE_PATH, 1)[1])
    raise WebhookSetupError(["native mode needs --token: the secret path token the daemon "
                             "accepts at /webhooks/odoo-native/<token>"])


def _model_ids(gateway: OdooGateway) -> dict[str, int]:
    wanted = ["stock.quant", "stock.move", "base.automation", "ir.actions.server"]
    rows = gateway.execute("ir.model", "search_read", [[("model", "in", wanted)]],
                           {"fields": ["model"]})
    found = {row["model"]: row["id"] for row in rows}
    if "base.automation" not in found:
        raise WebhookSetupError(["Odoo has no automation rules: install the app \"Automation "
                                 "Rules\" (module base_automation) in Odoo's Apps first"])
    missing = [model for model in wanted if model not in found]
    if missing:
        raise WebhookSetupError([f"Odoo has no model {', '.join(missing)}: is the Inventory "
                                 f"app (module stock) installed?"])
    return found


def _check_schema(gateway: OdooGateway, mode: str) -> None:
    """Fail early, in words, if this Odoo lacks a field or value the rules need."""
    attributes = {"attributes": ["type", "selection"]}
    rule_fields = gateway.execute("base.automation", "fields_get", [], attributes)
    action_fields = gateway.execute("ir.actions.server", "fields_get", [], attributes)
    needed_rule = set(RULE_FIELDS) - {"name"}
    # Both modes read all of these, and write the webhook ones (signed mode clears them).
    needed_action = {"model_id", "state", "usage", "base_automation_id", "code", "webhook_url",
                     "webhook_field_ids"}
    problems = [f"base.automation has no field {name}" for name in sorted(needed_rule)
                if name not in rule_fields]
    problems += [f"ir.actions.server has no field {name}" for name in sorted(needed_action)
                 if name not in action_fields]
    if problems:
        if "code" not in action_fields:
            problems.append("the Odoo user Woodoo logs in with must be an administrator "
                            "(Settings access rights) to set up automation rules")
        raise WebhookSetupError(problems)
    triggers = {key for key, _label in rule_fields["trigger"].get("selection") or []}
    states = {key for key, _label in action_fields["state"].get("selection") or []}
    problems = [f"this Odoo has no automation trigger {spec.trigger}" for spec in RULES
                if spec.trigger not in triggers]
    wanted_state = "webhook" if mode == "native" else "code"
    if wanted_state not in states:
        problems.append(f"this Odoo's server actions have no type {wanted_state!r}")
    if problems:
        raise WebhookSetupError(problems)


def _check_module(gateway: OdooGateway) -> None:
    rows = gateway.execute("ir.module.module", "search_read", [[("name", "=", MODULE)]],
                           {"fields": ["state"]})
    state = rows[0]["state"] if rows else None
    if state in ("installed", "to upgrade"):
        return
    where = ("Odoo does not know the module (it is not in Odoo's addons path, or the apps list "
             "was not updated)" if state is None else f"the module is {state}")
    raise WebhookSetupError([
        f"signed mode needs the Odoo module {MODULE} installed, and {where}. Install it: copy "
        f"odoo-addon/{MODULE} from Woodoo into a folder of Odoo's addons_path, restart Odoo, "
        f"then in Odoo (developer mode) Apps > Update Apps List, search \"Woodoo Webhook\" and "
        f"click Install (or run odoo -d <database> -i {MODULE}); set its system parameters "
        f"woodoo_webhook.url and woodoo_webhook.secret. Where custom modules cannot be "
        f"installed (Odoo Online), use --mode native"])


def _field_names(gateway: OdooGateway) -> dict[int, str]:
    models = sorted({spec.model for spec in RULES})
    rows = gateway.execute("ir.model.fields", "search_read", [[("model", "in", models)]],
                           {"fields": ["name", "model"]})
    names = {row["id"]: f"{row['model']}.{row['name']}" for row in rows}
    wanted = {f"{spec.model}.{name}" for spec in RULES
              for name in (*spec.trigger_fields, *spec.webhook_fields)}
    missing = sorted(wanted - set(names.values()))
    if missing:
        raise WebhookSetupError([f"Odoo has no field {', '.join(missing)}"])
    return names


def _existing_rules(gateway: OdooGateway) -> dict[str, list[dict[str, Any]]]:
    """Rules whose name starts with the prefix (archived too), by name, oldest first."""
    rows = gateway.execute(
        "base.automation", "search_read", [[("name", "=like", f"{RULE_PREFIX}%")]],
        {"fields": RULE_FIELDS, "order": "id", "context": {"active_test": False}})
    action_ids = sorted({i for row in rows for i in row["action_server_ids"]})
    actions = {}
    if action_ids:
        actions = {row["id"]: row for row in gateway.execute(
            "ir.actions.server", "read", [action_ids], {"fields": ACTION_FIELDS})}
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["actions"] = [actions[i] for i in row["action_server_ids"] if i in actions]
        found.setdefault(row["name"], []).append(row)
    return found


# -- desired state and comparison --------------------------------------------------------------

def _rule_values(gateway: OdooGateway, spec: RuleSpec, model_id: int,
                 ids: dict[str, int]) -> dict[str, Any]:
    selection_id: int | bool = False
    if spec.state_value is not None:
        state_field = ids[f"{spec.model}.{spec.trigger_fields[0]}"]
        rows = gateway.execute(
            "ir.model.fields.selection", "search_read",
            [[("field_id", "=", state_field), ("value", "=", spec.state_value)]],
            {"fields": ["value"]})
        if not rows:
            raise WebhookSetupError([f"{spec.model}.{spec.trigger_fields[0]} has no value "
                                     f"{spec.state_value!r} in this Odoo"])
        selection_id = rows[0]["id"]
    # Every field the trigger computes from, explicitly: nothing is left for Odoo to recompute.
    return {
        "name": spec.name,
        "model_id": model_id,
        "trigger": spec.trigger,
        "trigger_field_ids": [[6, 0, [ids[f"{spec.model}.{n}"] for n in spec.trigger_fields]]],
        "trg_selection_field_id": selection_id,
        "filter_pre_domain": False,
        "filter_domain": spec.filter_domain,
        "active": True,
    }


def _action_values(spec: RuleSpec, model_id: int, ids: dict[str, int], mode: str,
                   url: str) -> dict[str, Any]:
    values: dict[str, Any] = {"name": spec.name, "model_id": model_id, "usage": "base_automation"}
    if mode == "native":
        values.update(state="webhook", webhook_url=url, webhook_field_ids=[
            [6, 0, [ids[f"{spec.model}.{n}"] for n in spec.webhook_fields]]])
    else:
        # The webhook URL would carry a native token: clear it when switching to signed.
        values.update(state="code", code=SIGNED_CODE, webhook_url=False,
                      webhook_field_ids=[[6, 0, []]])
    return values


def _plan_rule(spec: RuleSpec, rule_values: dict[str, Any], action_values: dict[str, Any],
               matches: list[dict[str, Any]], names: dict[int, str], mode: str,
               url: str) -> PlannedAction:
    details: dict[str, Any] = {
        "mode": mode, "url": url, "rule_id": None, "action_id": None,
        "values": {"rule": rule_values, "action": action_values}, "changes": {},
        "remove_action_ids": [], "archive_rule_ids": []}
    if not matches:
        return PlannedAction(spec.name, spec.model, spec.trigger, "create", details)
    rule, duplicates = matches[0], matches[1:]
    action = rule["actions"][0] if rule["actions"] else None
    details.update(rule_id=rule["id"], action_id=action["id"] if action else None,
                   remove_action_ids=[a["id"] for a in rule["actions"][1:]],
                   archive_rule_ids=[d["id"] for d in duplicates if d["active"]])
    changes = _differences("rule", _readable_rule(rule, names),
                           _readable_rule(_as_read(rule_values), names))
    wanted_action = _readable_action(_as_read(action_values), names, mode)
    if action is None:
        changes["action"] = {"from": None, "to": wanted_action}
    else:
        changes.update(_differences("action", _readable_action(action, names, mode),
                                    wanted_action))
    details["changes"] = changes
    changed = changes or details["remove_action_ids"] or details["archive_rule_ids"]
    return PlannedAction(spec.name, spec.model, spec.trigger,
                         "update" if changed else "unchanged", details)


def _as_read(values: dict[str, Any]) -> dict[str, Any]:
    """Values as written, in the shape search_read gives them (x2many ids, many2one id)."""
    shaped = dict(values)
    for key, value in values.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            shaped[key] = list(value[0][2])  # a single [6, 0, ids] command
    return shaped


def _m2o(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple)) and value else (value or False)


def _readable_rule(row: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    return {
        "model_id": _m2o(row.get("model_id")),
        "trigger": row.get("trigger") or False,
        "trigger_field_ids": sorted(names.get(i, f"#{i}") for i in row.get("trigger_field_ids")
                                    or []),
        "trg_selection_field_id": _m2o(row.get("trg_selection_field_id")),
        "filter_pre_domain": _domain(row.get("filter_pre_domain")),
        "filter_domain": _domain(row.get("filter_domain")),
        "active": bool(row.get("active")),
    }


def _readable_action(row: dict[str, Any], names: dict[int, str], mode: str) -> dict[str, Any]:
    readable = {"name": row.get("name"), "model_id": _m2o(row.get("model_id")),
                "state": row.get("state"), "usage": row.get("usage")}
    if mode == "native":
        readable["webhook_url"] = row.get("webhook_url") or False
        readable["webhook_field_ids"] = sorted(names.get(i, f"#{i}")
                                               for i in row.get("webhook_field_ids") or [])
    else:
        readable["code"] = (row.get("code") or "").strip()
        readable["webhook_url"] = row.get("webhook_url") or False
    return readable


def _domain(value: Any) -> Any:
    """A domain string compared by meaning: quotes, spacing and tuples-vs-lists do not count."""
    if not value:
        return False
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return " ".join(str(value).split())
    return repr(_lists(parsed))


def _lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_lists(item) for item in value]
    return value


def _differences(prefix: str, current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{key}": {"from": current.get(key), "to": value}
            for key, value in wanted.items() if current.get(key) != value}
