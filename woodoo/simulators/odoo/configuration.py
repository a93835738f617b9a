"""The configuration models `woodoo odoo setup-webhooks` reads: ir.model.fields (and its selection
values), ir.module.module, and the fields of ir.actions.server and base.automation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from woodoo.simulators.odoo.records import Row, model_rank
from woodoo.simulators.odoo.schema import Schema, col, dates, display
from woodoo.simulators.odoo.store import Store

if TYPE_CHECKING:
    from woodoo.simulators.odoo.query import Query

MODULE_TITLES = {"base": "Base", "web": "Web", "mail": "Discuss", "product": "Products & Pricelists",
                 "stock": "Inventory", "base_automation": "Automation Rules",
                 "woodoo_webhook": "Woodoo Webhook"}

# What a database with Woodoo's prerequisites has installed (base_automation pulls in mail).
DEFAULT_INSTALLED_MODULES = frozenset({"base", "web", "mail", "product", "stock",
                                       "base_automation"})


def configuration_schema(major: int) -> Schema:
    """ir.model.fields(.selection), ir.module.module, ir.actions.server, base.automation.

    Field names as each version has them, read in public copies of the Odoo source:
    - 17 (UmmeHani-SCI/Odoo17-UH_Hospital_Management @ 02f3b73) and 18 (informaticeng0011/
      odoo_18.0 @ 011dedd), addons/base_automation/models/base_automation.py and
      odoo/addons/base/models/ir_actions.py: base.automation has `model_id` (ir.model),
      `trigger`, `trigger_field_ids` (ir.model.fields), `trg_selection_field_id`
      (ir.model.fields.selection), `trg_field_ref`, `filter_pre_domain`, `filter_domain`,
      `active`, and its actions in the one2many `action_server_ids` (inverse
      `base_automation_id` of ir.actions.server, usage 'base_automation'); only 17 has
      `trg_field_ref_display_name`. ir.actions.server has the states 'code' (`code`) and
      'webhook' (`webhook_url`, `webhook_field_ids`) in both.
    - 16 (several public copies of the same base_automation.py): base.automation delegates to
      one server action (`action_server_id`, delegate=True): name, model_id, state and code
      live on the action; the triggers are on_create/on_write/on_create_or_write/on_unlink/
      on_change/on_time; ir.actions.server has no 'webhook' state.
    How the computed fields of base.automation react to writes is in _recompute_automation.
    """
    def model_name(record: Any, query: Query) -> str | None:
        return query.store.model_name(record.model_id)

    def action(record: Any, query: Query) -> Row:
        return query.store.tables["ir.actions.server"][record.action_server_id]

    def delegated(name: str) -> Callable[[Any, Query], Any]:
        return lambda record, query: getattr(action(record, query), name)

    field_types = tuple((t, t) for t in (
        "binary", "boolean", "char", "date", "datetime", "float", "html", "integer", "json",
        "many2many", "many2one", "many2one_reference", "monetary", "one2many", "properties",
        "reference", "selection", "text"))
    module_states = (("uninstallable", "Uninstallable"), ("uninstalled", "Not Installed"),
                     ("installed", "Installed"), ("to upgrade", "To be upgraded"),
                     ("to remove", "To be removed"), ("to install", "To be installed"))
    usages = (("ir_actions_server", "Server Action"), ("ir_cron", "Scheduled Action"),
              ("base_automation", "Automation Rule"))
    states = (("object_write", "Update Record"), ("object_create", "Create Record"),
              ("code", "Execute Code"),
              *((("webhook", "Send Webhook Notification"),) if major >= 17 else ()),
              ("multi", "Execute Existing Actions"), ("mail_post", "Send Email"),
              ("followers", "Add Followers"), ("next_activity", "Create Activity"))
    schema: Schema = {
        "ir.model.fields": [
            col("id", "integer", "ID"),
            col("name", "char", "Field Name"),
            col("model", "char", "Model Name"),
            col("model_id", "many2one", "Model", relation="ir.model"),
            col("field_description", "char", "Field Label"),
            col("ttype", "selection", "Field Type", selection=field_types),
            col("relation", "char", "Related Model"),
            col("store", "boolean", "Stored"),
            display("ir.model.fields"),
        ],
        "ir.model.fields.selection": [
            col("id", "integer", "ID"),
            col("field_id", "many2one", "Field", relation="ir.model.fields"),
            col("value", "char", "Value"),
            col("name", "char", "Name"),
            col("sequence", "integer", "Sequence"),
            display("ir.model.fields.selection"),
        ],
        "ir.module.module": [
            col("id", "integer", "ID"),
            col("name", "char", "Technical Name"),
            col("shortdesc", "char", "Module Name"),
            col("state", "selection", "Status", selection=module_states),
            col("latest_version", "char", "Installed Version"),
            display("ir.module.module"),
        ],
        "ir.actions.server": [
            col("id", "integer", "ID"),
            col("name", "char", "Action Name"),
            col("type", "char", "Action Type"),
            col("usage", "selection", "Usage", selection=usages),
            col("state", "selection", "Type", selection=states),
            col("sequence", "integer", "Sequence"),
            col("model_id", "many2one", "Model", relation="ir.model"),
            col("model_name", "char", "Model Name", model_name),
            col("code", "text", "Python Code"),
            *([col("webhook_url", "char", "Webhook URL"),
               col("webhook_field_ids", "many2many", "Webhook Fields",
                   relation="ir.model.fields"),
               col("base_automation_id", "many2one", "Automation Rule",
                   relation="base.automation")] if major >= 17 else []),
            display("ir.actions.server"),
            *dates(),
        ],
    }
    if major >= 17:
        triggers = (
            ("on_stage_set", "Stage is set to"), ("on_user_set", "User is set"),
            ("on_tag_set", "Tag is added"), ("on_state_set", "State is set to"),
            ("on_priority_set", "Priority is set to"), ("on_archive", "On archived"),
            ("on_unarchive", "On unarchived"), ("on_create_or_write", "On save"),
            ("on_create", "On creation"), ("on_write", "On update"),
            ("on_unlink", "On deletion"), ("on_change", "On UI change"),
            ("on_time", "Based on date field"), ("on_time_created", "After creation"),
            ("on_time_updated", "After last update"),
            ("on_message_received", "On incoming message"),
            ("on_message_sent", "On outgoing message"), ("on_webhook", "On webhook"))
        schema["base.automation"] = [
            col("id", "integer", "ID"),
            col("name", "char", "Automation Rule Name"),
            col("model_id", "many2one", "Model", relation="ir.model"),
            col("model_name", "char", "Model Name", model_name, store=False),
            col("trigger", "selection", "Trigger", selection=triggers),
            col("trigger_field_ids", "many2many", "Trigger Fields",
                relation="ir.model.fields"),
            col("trg_selection_field_id", "many2one", "Trigger Field",
                relation="ir.model.fields.selection"),
            col("trg_field_ref", "many2one_reference", "Trigger Reference"),
            *([col("trg_field_ref_display_name", "char", "Trigger Reference Display Name",
                   lambda r, q: None, store=False)] if major == 17 else []),
            col("filter_pre_domain", "char", "Before Update Domain"),
            col("filter_domain", "char", "Apply on"),
            col("action_server_ids", "one2many", "Actions",
                lambda r, q: [a.id for a in rule_actions(q.store, r.id)],
                relation="ir.actions.server", store=False),
            col("active", "boolean", "Active"),
            col("last_run", "datetime", "Last Run"),
            display("base.automation"),
            *dates(),
        ]
    else:
        triggers = (("on_create", "On Creation"), ("on_write", "On Update"),
                    ("on_create_or_write", "On Creation & Update"),
                    ("on_unlink", "On Deletion"), ("on_change", "Based on Form Modification"),
                    ("on_time", "Based on Timed Condition"))
        schema["base.automation"] = [
            col("id", "integer", "ID"),
            col("action_server_id", "many2one", "Server Actions",
                relation="ir.actions.server"),
            col("name", "char", "Action Name", delegated("name")),
            col("model_id", "many2one", "Model", delegated("model_id"), relation="ir.model"),
            col("model_name", "char", "Model Name",
                lambda r, q: q.store.model_name(action(r, q).model_id),
                store=False),
            col("state", "selection", "Type", delegated("state"), selection=states),
            col("code", "text", "Python Code", delegated("code")),
            col("trigger", "selection", "Trigger", selection=triggers),
            col("trigger_field_ids", "many2many", "Trigger Fields",
                relation="ir.model.fields"),
            col("filter_pre_domain", "char", "Before Update Domain"),
            col("filter_domain", "char", "Apply on"),
            col("active", "boolean", "Active"),
            col("last_run", "datetime", "Last Run"),
            display("base.automation"),
            *dates(),
        ]
    return schema


def seed_configuration(store: Store, installed: set[str]) -> None:
    """An ir.model.fields row (and its selection values) for every simulated field; modules."""
    model_ids = {row.model: row.id for row in store.tables["ir.model"].values()}
    fields_table = store.tables["ir.model.fields"]
    selections = store.tables["ir.model.fields.selection"]
    for model in sorted(store.columns, key=model_rank):
        for name, column in store.columns[model].items():
            spec = column.field
            field_id = store.alloc("ir.model.fields")
            fields_table[field_id] = Row(field_id, {
                "name": name, "model": model, "model_id": model_ids[model],
                "field_description": spec.string, "ttype": spec.type,
                "relation": spec.relation, "store": spec.store})
            store.field_ids[(model, name)] = field_id
            for sequence, (value, label) in enumerate(spec.selection or ()):
                selection_id = store.alloc("ir.model.fields.selection")
                selections[selection_id] = Row(selection_id, {
                    "field_id": field_id, "value": value, "name": label,
                    "sequence": sequence})
    sync_modules(store, installed)


def sync_modules(store: Store, installed: set[str], available: Iterable[str] = ()) -> None:
    """ir.module.module rows follow `installed_modules` (a module taken out: 'uninstalled');
    `available` modules are in the addons path, not installed: a row in state 'uninstalled', as
    Odoo lists a module it found in its addons path (recorded: tests/fixtures/odoo18/setup/
    module_available.json). A module in neither has no row at all (module_absent.json)."""
    with store.lock:
        table = store.tables["ir.module.module"]
        by_name = {row.name: row for row in table.values()}
        changed = False
        for name in sorted(installed | set(by_name) | set(available)):
            state = "installed" if name in installed else "uninstalled"
            row = by_name.get(name)
            if row is None:
                module_id = store.alloc("ir.module.module")
                table[module_id] = Row(module_id, {
                    "name": name, "shortdesc": MODULE_TITLES.get(name, name), "state": state,
                    "latest_version": f"{store.major}.{store.minor}.1.0"})
                changed = True
            elif row.state != state:
                row.values["state"] = state
                changed = True
        if changed:
            store.changed()


def rule_actions(store: Store, automation_id: int) -> list[Row]:
    """The actions of a rule (17+: their base_automation_id), in ir.actions.server order."""
    rows = [a for a in store.tables["ir.actions.server"].values()
            if a.values.get("base_automation_id") == automation_id]
    return sorted(rows, key=lambda a: (a.sequence or 0, a.name or "", a.id))
