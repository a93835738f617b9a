"""Create, update, pause or resume, over RPC, the Odoo automation rule that tells Woodoo about
stock changes.

One rule, on `stock.quant`: quantity (and, for free_qty and the forecast, reserved quantity) of a
quant saved in an internal or transit location of the configured warehouses. Its one server
action is, by mode:
- "native": Odoo's own "Send Webhook Notification" action (state 'webhook', Odoo 17+), which
  POSTs `{_model, _id, _action, <chosen fields>}` to `<daemon>/webhooks/odoo-native/<token>`.
  It cannot sign or add headers, so the token in the URL is the authentication.
- "signed": an "Execute Code" action calling `records._woodoo_notify()` of the Odoo module
  `woodoo_webhook` (odoo-addon/), which queues HMAC-signed events in an outbox that Odoo's cron
  worker sends after the commit.

Why one quant rule and nothing else. The native action is synchronous: Odoo POSTs inside the
user's transaction, once per record and per rule, and waits up to 1 s for each answer. On a real
Odoo 18 with the daemon's port blackholed, an inventory adjustment of 5 products (5 quants + 5
moves notified) took 10.25 s instead of 0.18 s. So the rule set is the smallest that still sees
every change of the stock figure. What one operation notified, recorded on Odoo 18 (tests/
fixtures/odoo18/webhooks/webhook_sequence_by_operation.json, one product, with the earlier
quant + done-move rules):
  inventory adjustment +3   quant (quantity 200 -> 203) + move done              2 -> now 1
  sale order confirmed      quant (reserved 0 -> 3)                              1 -> now 1
  delivery validated        quant (reserved 3 -> 0), quant (203 -> 200), move    3 -> now 2
and in precommit_probe.json an adjustment -1 wrote the stock quant three times (reserve,
unreserve, quantity): 4 -> now 3.
- Every done move that changes sellable stock writes the quantity of a quant in an internal
  location, in the same transaction (each move notification above came with its quant's), so the
  move rule only doubled the notifications: it is no longer created, and setup archives the one
  an older Woodoo made.
- Quants outside a warehouse also change (the inventory-adjustment location, customers: quants
  40 and 55 in native_webhook_requests.jsonl, recorded before the rule had a domain); the domain
  leaves them out, and the quants of warehouses Woodoo does not sync.
- Only `quantity` and `reserved_quantity` are trigger fields (not `inventory_quantity`, which a
  count edits without changing stock); with odoo.stock_field qty_available, reservations do not
  change the figure and `reserved_quantity` is left out too (a delivery then notifies once).
  A forecast (virtual_available) also moves with confirmed moves that touch no quant; no rule
  catches those (nor did the done-move rule): polling does.
Each notification still costs a user up to 1 s while the daemon is unreachable, so the CLI says
so in words and points to the module, and `pause-webhooks` switches the rule off for maintenance.

Rules are found again by name (every name starts with "Woodoo: "), so running this twice changes
nothing and a changed URL, mode, warehouse list or stock figure updates the rule in place instead
of adding more.

Odoo facts relied on, read in public copies of the source (17: UmmeHani-SCI/
Odoo17-UH_Hospital_Management @ 02f3b73; 18: informaticeng0011/odoo_18.0 @ 011dedd; files
addons/base_automation/models/base_automation.py, addons/base_automation/models/
ir_actions_server.py, odoo/addons/base/models/ir_actions.py):
- 17 and 18 name the fields alike: base.automation `name`, `model_id` (an ir.model id),
  `trigger`, `trigger_field_ids` (ir.model.fields), `trg_selection_field_id`
  (ir.model.fields.selection), `filter_pre_domain`, `filter_domain` (a string), `active`, and
  `action_server_ids`, a one2many whose inverse is ir.actions.server `base_automation_id` (usage
  'base_automation'). 16 and older have one delegated action (`action_server_id`) and no
  'webhook' action: not supported here.
- ir.actions.server: `state` 'webhook' with `webhook_url` and `webhook_field_ids`, 'code' with
  `code` (readable by Settings administrators only); the action must be on the rule's model
  (_check_action_server_model).
- Several of those rule fields are stored computed fields that Odoo recomputes when another one is
  written alone, differently in 17 and 18 (18 adds the fields the domain names to
  trigger_field_ids, 17 clears trg_selection_field_id whenever the trigger fields change...).
  So an update always writes the whole set, never one field; `active` is no dependency of any of
  them, so pausing and resuming write it alone.
- Automation rules run their actions once per record (`_process`), inside the transaction that
  changed the stock, only when a trigger field's value changed, on the records the domain keeps
  (`filtered_domain`, which follows many2one paths such as location_id.warehouse_id); the native
  webhook waits at most 1 s and is never retried.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from woodoo.gateways.odoo import OdooGateway, OdooSetupError

RULE_PREFIX = "Woodoo: "
MODULE = "woodoo_webhook"
NATIVE_PATH = "/webhooks/odoo-native/"
SIGNED_PATH = "/webhooks/odoo"
SIGNED_CODE = "records._woodoo_notify()"
MODES = ("native", "signed")
# The module's system parameters: where it sends, and what it signs with.
PARAM_URL = "woodoo_webhook.url"
PARAM_SECRET = "woodoo_webhook.secret"
PARAMETERS = (PARAM_URL, PARAM_SECRET)
PARAM_TARGETS = "woodoo_webhook.targets"  # the other daemons' names (several shops, one Odoo)
TOKEN = re.compile(r"[A-Za-z0-9._~-]{32,256}")  # unreserved URL characters: no escaping needed
MIN_VERSION = 17
NATIVE_WAIT_SECONDS = 1  # Odoo's webhook action: requests.post(..., timeout=1), per record
STOCK_USAGES = ("internal", "transit")
# The quant fields each stock figure (odoo.stock_field) moves with.
TRIGGER_FIELDS = {
    "free_qty": ("quantity", "reserved_quantity"),
    "qty_available": ("quantity",),
    "virtual_available": ("quantity", "reserved_quantity"),
}
QUANT_RULE = f"{RULE_PREFIX}stock.quant quantity changed"
# Rules earlier versions of Woodoo created, by name, with their model and trigger: archived by
# setup-webhooks, paused with the others, never resumed.
RETIRED_RULES = {f"{RULE_PREFIX}stock.move done": ("stock.move", "on_state_set")}


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


def quant_rule_name(shop: str | None = None) -> str:
    """The quant rule's name: QUANT_RULE for a config that names no shop (one daemon), else
    QUANT_RULE (shop), so that each daemon on one Odoo has its rule (URL, token, warehouses)
    and a second shop's setup-webhooks, pause or resume never touches the first's."""
    return QUANT_RULE if shop is None else f"{QUANT_RULE} ({shop})"


def quant_rule(stock_field: str = "free_qty", warehouse_ids: Sequence[int] = (),
               shop: str | None = None) -> RuleSpec:
    """The quant rule for a stock figure and the ids of the warehouses synced (all if none),
    named for `shop` (see quant_rule_name)."""
    if stock_field not in TRIGGER_FIELDS:
        raise WebhookSetupError([f"odoo.stock_field {stock_field!r} is not one of "
                                 f"{', '.join(TRIGGER_FIELDS)}"])
    domain: list[tuple[str, str, list[Any]]] = [("location_id.usage", "in", list(STOCK_USAGES))]
    if warehouse_ids:
        domain.append(("location_id.warehouse_id", "in", sorted(set(warehouse_ids))))
    return RuleSpec(
        name=quant_rule_name(shop), model="stock.quant", trigger="on_create_or_write",
        trigger_fields=TRIGGER_FIELDS[stock_field], filter_domain=repr(domain), state_value=None,
        webhook_fields=("product_id", "location_id", "quantity", "reserved_quantity"),
    )


RULES = (quant_rule(),)


def rules_for(gateway: OdooGateway, shop: str | None = None) -> tuple[RuleSpec, ...]:
    """The rules as this gateway's config needs them: its stock figure, its warehouses, named
    for `shop`."""
    return (quant_rule(gateway.config.stock_field, [w.id for w in gateway.warehouses], shop),)


RULE_FIELDS = ["name", "model_id", "trigger", "trigger_field_ids", "trg_selection_field_id",
               "filter_pre_domain", "filter_domain", "action_server_ids", "active"]
ACTION_FIELDS = ["name", "model_id", "state", "usage", "code", "webhook_url", "webhook_field_ids"]


@dataclass(frozen=True)
class PlannedAction:
    """One automation rule and what applying the plan does to it: "create", "update",
    "unchanged", "archive" (a rule of an earlier Woodoo), "pause" or "resume".

    `details` (JSON-friendly) holds what apply_webhooks needs and what a dry run shows: `rule_id`,
    `action_id`, `values` (the rule's and the action's), `changes` (field: {from, to}, readable),
    `remove_action_ids`, `archive_rule_ids` (duplicates by name, or the rules to switch off),
    `mode` and `url` (native: the webhook URL, token included; signed: what the module's
    woodoo_webhook.url parameter needs). Pause and resume plans hold `rule_ids` and `mode`.
    """

    name: str
    model: str
    trigger: str
    operation: str
    details: dict[str, Any] = field(default_factory=dict)


def plan_webhooks(gateway: OdooGateway, *, mode: str, daemon_url: str,
                  token: str | None, shop: str | None = None) -> list[PlannedAction]:
    """What to create or update in Odoo so its automation rules notify the daemon of `shop`
    (None: the config names none); reads only."""
    if mode not in MODES:
        raise WebhookSetupError([f"mode must be one of {', '.join(MODES)}, not {mode!r}"])
    base_url = _check_daemon_url(daemon_url)
    _connect(gateway)
    specs = rules_for(gateway, shop)
    model_ids = _model_ids(gateway)
    _check_schema(gateway, mode)
    if mode == "signed":
        _check_module(gateway)
    names = _field_names(gateway, specs)  # ir.model.fields id -> "model.field"
    ids = {label: field_id for field_id, label in names.items()}
    existing = existing_rules(gateway)
    if mode == "native":
        # This shop's rules only: another shop's daemon takes another token.
        url = native_url(base_url, _native_token(
            token, {spec.name: existing.get(spec.name, []) for spec in specs}))
    else:
        # Not written anywhere by this: the module's system parameter woodoo_webhook.url
        # must hold it (set in Odoo, with the secret; see odoo-addon/woodoo_webhook/README.md).
        url = f"{base_url}{SIGNED_PATH}"
    plan = []
    for spec in specs:
        rule_values = _rule_values(gateway, spec, model_ids[spec.model], ids)
        action_values = _action_values(spec, model_ids[spec.model], ids, mode, url)
        plan.append(_plan_rule(spec, rule_values, action_values, existing.get(spec.name, []),
                               names, mode, url))
    for name, (model, trigger) in (RETIRED_RULES.items() if shop is None else ()):
        active = [rule["id"] for rule in existing.get(name, []) if rule["active"]]
        if active:
            plan.append(PlannedAction(name, model, trigger, "archive", {
                "archive_rule_ids": active, "mode": mode, "url": url,
                "changes": {"rule.active": {"from": True, "to": False}},
                "reason": f"no longer needed: {QUANT_RULE} sees every stock change, and each "
                          f"notification of this rule made Odoo users wait for the daemon too"}))
    return plan


def apply_webhooks(gateway: OdooGateway, plan: list[PlannedAction]) -> None:
    """Carry out a plan from plan_webhooks, plan_pause or plan_resume: one Odoo transaction per
    rule."""
    for planned in plan:
        details = planned.details
        if planned.operation == "create":
            values = details["values"]
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
            values = details["values"]
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
        elif planned.operation in ("archive", "pause"):
            gateway.execute("base.automation", "write",
                            [details["archive_rule_ids"], {"active": False}], {})
        elif planned.operation == "resume":
            gateway.execute("base.automation", "write", [[details["rule_id"]], {"active": True}],
                            {})
        elif planned.operation != "unchanged":
            raise ValueError(f"unknown operation {planned.operation!r} for {planned.name}")


def plan_pause(gateway: OdooGateway, shop: str | None = None) -> list[PlannedAction]:
    """Switching off every rule setup-webhooks made for `shop` (retired ones too); reads only.

    Archiving is what Odoo's own "Archive" does to a rule: it stops firing and keeps all its
    settings, so resuming is a write of `active` alone and needs no URL, token or mode.
    """
    plan = []
    for name, rules in _managed_rules(gateway, shop).items():
        active = [rule["id"] for rule in rules if rule["active"]]
        if not active and name in RETIRED_RULES:
            continue  # archived by setup-webhooks: not part of what is paused and resumed
        details: dict[str, Any] = {"archive_rule_ids": active, "rule_ids": [r["id"] for r in rules],
                                   "mode": _rule_mode(rules[0]), "changes": {}}
        if active:
            details["changes"] = {"rule.active": {"from": True, "to": False}}
        plan.append(PlannedAction(name, *_rule_model(name), "pause" if active else "unchanged",
                                  details))
    return plan


def plan_resume(gateway: OdooGateway, shop: str | None = None) -> list[PlannedAction]:
    """Switching back on the rules setup-webhooks keeps for `shop` (the oldest of each name);
    reads only.

    Rules of earlier Woodoo versions and duplicates stay archived: setup-webhooks archived them
    on purpose.
    """
    existing = _managed_rules(gateway, shop)
    specs = [quant_rule(shop=shop)]
    missing = [spec.name for spec in specs if spec.name not in existing]
    if missing:
        raise WebhookSetupError([
            f"Odoo has no rule {name!r} to resume; create it with `woodoo odoo setup-webhooks`"
            for name in missing])
    plan = []
    for spec in specs:
        rule = existing[spec.name][0]
        details: dict[str, Any] = {"rule_id": rule["id"], "rule_ids": [rule["id"]],
                                   "mode": _rule_mode(rule), "changes": {}}
        if not rule["active"]:
            details["changes"] = {"rule.active": {"from": False, "to": True}}
        plan.append(PlannedAction(spec.name, spec.model, spec.trigger,
                                  "unchanged" if rule["active"] else "resume", details))
    return plan


def native_mode_warning(gateway: OdooGateway) -> list[str]:
    """In words, what native mode costs Odoo users when the daemon cannot answer, and what to
    use instead where possible."""
    _connect(gateway)
    wait = NATIVE_WAIT_SECONDS
    lines = [
        f"warning: in native mode Odoo calls the daemon INSIDE the user's save and waits for the "
        f"answer: up to about {wait} s per notification whenever the daemon is down, restarting, "
        f"slow or unreachable (and Odoo never retries). There is one notification per changed "
        f"stock quant, so validating a transfer or an inventory adjustment of N products can "
        f"keep the user waiting about N seconds (on Odoo 18 with the daemon unreachable, 5 "
        f"products took 10 s with Woodoo's earlier two rules; expect about 5 s with this one).",
        "warning: before any maintenance of the daemon, its proxy or the network between them, "
        "run `woodoo odoo pause-webhooks`, and `woodoo odoo resume-webhooks` afterwards (polling "
        "keeps the shop right meanwhile).",
    ]
    state = module_state(gateway)
    if module_installed(state):
        lines.append(f"recommended: the {MODULE} module is installed in this Odoo: use "
                     f"--mode signed instead; its events are sent by Odoo's cron worker and "
                     f"never make a user wait.")
    elif gateway.server_version.startswith("saas~"):
        lines.append(f"note: Odoo {gateway.server_version} is Odoo Online, where custom modules "
                     f"cannot be installed: native mode is the only real-time way there. Keep "
                     f"the daemon reachable.")
    else:
        lines.append(f"recommended: wherever custom modules can be installed (on-premise Odoo, "
                     f"Odoo.sh), install the {MODULE} module from Woodoo's odoo-addon/ and use "
                     f"--mode signed: Odoo then never waits on the daemon. Native mode is for "
                     f"Odoo Online.")
    return lines


def native_url(daemon_url: str, token: str) -> str:
    """The URL Odoo's native webhook posts to: `<daemon>/webhooks/odoo-native/<token>`."""
    return f"{_check_daemon_url(daemon_url)}{NATIVE_PATH}{_check_token(token)}"


# -- checks ------------------------------------------------------------------------------------

def _connect(gateway: OdooGateway) -> None:
    if gateway.client is None or not gateway.server_version:
        gateway.connect()
    if gateway.major_version < MIN_VERSION:
        raise WebhookSetupError([
            f"Odoo {gateway.server_version} has no webhook automation rules of the kind Woodoo "
            f"sets up (they changed in Odoo {MIN_VERSION}); Woodoo keeps polling Odoo instead"])


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
    wanted = ["stock.quant", "base.automation", "ir.actions.server"]
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


def module_state(gateway: OdooGateway) -> str | None:
    """The woodoo_webhook module's ir.module.module state ('installed', 'uninstalled': in the
    addons path, not installed, ...), or None when Odoo does not know it at all."""
    rows = gateway.execute("ir.module.module", "search_read", [[("name", "=", MODULE)]],
                           {"fields": ["state"]})
    return str(rows[0]["state"]) if rows else None


def module_installed(state: str | None) -> bool:
    """True when a module in `state` runs (an upgrade pending still runs the installed code)."""
    return state in ("installed", "to upgrade")


def describe_module(state: str | None) -> str:
    """One sentence: what the module's state means for the real-time path."""
    if module_installed(state):
        return (f"The {MODULE} module is installed: Odoo's stock changes can reach the daemon "
                f"as signed events, sent by Odoo's cron worker after each commit.")
    if state is None:
        return (f"The {MODULE} module is not in this Odoo (not in its addons path, or the apps "
                f"list was not updated): Odoo's own webhook action (native mode) is used.")
    if state == "uninstallable":
        return (f"The {MODULE} module is in Odoo's addons path but cannot be installed (a "
                f"module it depends on is missing): Odoo's own webhook action (native mode) is "
                f"used.")
    return (f"The {MODULE} module is available in Odoo but {state.replace('uninstalled', 'not installed')}: "
            f"Odoo's own webhook action (native mode) is used until it is installed (Apps, "
            f"search \"Woodoo Webhook\", Install; then run `woodoo init` or `woodoo odoo "
            f"setup-webhooks --mode signed` again).")


def module_endpoint(url: str) -> str:
    """Where the module POSTs for a woodoo_webhook.url value: a bare daemon URL gets
    /webhooks/odoo, a URL with a path is taken as the endpoint (the module's own rule,
    odoo-addon/woodoo_webhook/lib/payload.py endpoint_url; '' for no http(s) URL)."""
    parts = urlparse(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    path = parts.path.rstrip("/") or SIGNED_PATH
    return parts._replace(path=path, fragment="").geturl()


def parameter_keys(shop: str | None = None) -> tuple[str, str]:
    """The system parameters holding the URL and secret of `shop`'s daemon: woodoo_webhook.url
    and .secret for a config that names no shop, else woodoo_webhook.url.<shop> and
    .secret.<shop> (a target the module sends to once woodoo_webhook.targets names it)."""
    return PARAMETERS if shop is None else (f"{PARAM_URL}.{shop}", f"{PARAM_SECRET}.{shop}")


def read_parameters(gateway: OdooGateway, shop: str | None = None) -> dict[str, str]:
    """The URL and secret of `shop`'s daemon as Odoo's system parameters hold them ('' when not
    set), under the keys PARAM_URL and PARAM_SECRET whatever the shop."""
    return {plain: str(gateway.execute("ir.config_parameter", "get_param", [key], {}) or "")
            for plain, key in zip(PARAMETERS, parameter_keys(shop), strict=True)}


def targets(gateway: OdooGateway) -> list[str]:
    """The daemons' names woodoo_webhook.targets lists (the default one is never listed)."""
    listed = gateway.execute("ir.config_parameter", "get_param", [PARAM_TARGETS], {}) or ""
    return [name.strip() for name in str(listed).split(",") if name.strip()]


def set_parameters(gateway: OdooGateway, values: dict[str, str]) -> None:
    """Set system parameters (key: value); when one fails, put back those already set, so that
    Odoo keeps either all the old values or all the new ones."""
    before = {key: gateway.execute("ir.config_parameter", "get_param", [key], {}) or ""
              for key in values}
    done: list[str] = []
    try:
        for key, value in values.items():
            gateway.execute("ir.config_parameter", "set_param", [key, value], {})
            done.append(key)
    except Exception:
        for key in done:
            # set_param with False deletes a parameter that was not there before.
            gateway.execute("ir.config_parameter", "set_param", [key, before[key] or False], {})
        raise


def _check_module(gateway: OdooGateway) -> None:
    state = module_state(gateway)
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


def _field_names(gateway: OdooGateway, specs: Sequence[RuleSpec]) -> dict[int, str]:
    models = sorted({spec.model for spec in specs})
    rows = gateway.execute("ir.model.fields", "search_read", [[("model", "in", models)]],
                           {"fields": ["name", "model"]})
    names = {row["id"]: f"{row['model']}.{row['name']}" for row in rows}
    wanted = {f"{spec.model}.{name}" for spec in specs
              for name in (*spec.trigger_fields, *spec.webhook_fields)}
    missing = sorted(wanted - set(names.values()))
    if missing:
        raise WebhookSetupError([f"Odoo has no field {', '.join(missing)}"])
    return names


def existing_rules(gateway: OdooGateway) -> dict[str, list[dict[str, Any]]]:
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


def _managed_rules(gateway: OdooGateway, shop: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rules setup-webhooks makes or made for `shop`, by name, oldest first (an earlier
    Woodoo's rules belong to the config that names no shop: it made them)."""
    _connect(gateway)
    managed = {quant_rule_name(shop)} | (set(RETIRED_RULES) if shop is None else set())
    found = {name: rules for name, rules in existing_rules(gateway).items() if name in managed}
    if not found:
        raise WebhookSetupError(["Odoo has no Woodoo automation rules: `woodoo odoo "
                                 "setup-webhooks` creates them"])
    return found


def _rule_model(name: str) -> tuple[str, str]:
    """(model, trigger) of a managed rule, known from its name."""
    if name in RETIRED_RULES:
        return RETIRED_RULES[name]
    spec = quant_rule()  # every shop's rule is a quant rule
    return spec.model, spec.trigger


def _rule_mode(rule: dict[str, Any]) -> str | None:
    """"native" or "signed" by the rule's first action (None: neither, e.g. edited by hand)."""
    states = [action.get("state") for action in rule["actions"]]
    if states[:1] == ["webhook"]:
        return "native"
    if states[:1] == ["code"]:
        return "signed"
    return None


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
    # Not the name: Odoo 18 names an automation rule's action after its type ("Execute Code")
    # whatever is written, so comparing it made every run an "update" (seen on a real Odoo 18).
    readable = {"model_id": _m2o(row.get("model_id")), "state": row.get("state"),
                "usage": row.get("usage")}
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
