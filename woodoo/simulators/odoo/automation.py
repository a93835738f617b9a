"""Automation rules and server actions over RPC: create/write/unlink on base.automation and
ir.actions.server, with the fields each version recomputes and the constraints it checks."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from woodoo.simulators.odoo.configuration import rule_actions
from woodoo.simulators.odoo.errors import OdooFault, create_each, type_error
from woodoo.simulators.odoo.records import Row
from woodoo.simulators.odoo.store import Store

WRITABLE_MODELS = frozenset({"ir.actions.server", "base.automation"})

DEFAULT_PYTHON_CODE = "# Available variables:\n#  - env, model, record, records, ...\n\n\n\n"
# 16's base.automation keeps these on its delegated ir.actions.server (_inherits).
DELEGATED_16 = frozenset({"name", "model_id", "state", "code", "usage", "sequence"})
TIME_TRIGGERS = ("on_time", "on_time_created", "on_time_updated")
# trigger: (field types, field names, relation) of the field it watches, as
# _get_trigger_specific_field (18) and _compute_trigger_and_trigger_field_ids (17) search it.
TRIGGER_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "on_stage_set": (("many2one",), ("stage_id", "x_studio_stage_id"), None),
    "on_tag_set": (("many2many",), ("tag_ids", "x_studio_tag_ids"), None),
    "on_priority_set": (("selection",), ("priority", "x_studio_priority"), None),
    "on_state_set": (("selection",), ("state", "x_studio_state"), None),
    "on_user_set": (("many2one", "many2many"),
                    ("user_id", "user_ids", "x_studio_user_id", "x_studio_user_ids"), "res.users"),
    "on_archive": (("boolean",), ("active", "x_active"), None),
    "on_unarchive": (("boolean",), ("active", "x_active"), None),
    "on_time_created": (("datetime",), ("create_date",), None),
    "on_time_updated": (("datetime",), ("write_date",), None),
}
# Like 18's DOMAIN_FIELDS_RE: a quoted field name opening a domain leaf (its first component).
DOMAIN_FIELD = re.compile(r"""[(\[]\s*(?P<quote>['"])(?P<field>[a-z]\w*)(?:\.[.\w]*)?(?P=quote)""")


class Automation:
    """The writable configuration models of a Store (WRITABLE_MODELS)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def call(self, model: str, method: str, bound: dict[str, Any]) -> Any:
        """create/write/unlink on a configuration model: all or nothing, like one Odoo RPC."""
        saved = {name: {i: Row(r.id, copy.deepcopy(r.values))
                        for i, r in self.store.tables[name].items()} for name in WRITABLE_MODELS}
        try:
            if method == "create":
                result: Any = create_each(
                    bound["vals_list"], lambda items: [self._config_create(model, v) for v in items])
            elif method == "write":
                if not isinstance(bound["vals"], dict):
                    raise type_error("write() takes a dict of values")
                self._config_write(model, self.store.existing(model, bound["ids"]), bound["vals"])
                result = True
            else:
                self._config_unlink(model, self.store.existing(model, bound["ids"]))
                result = True
        except BaseException:
            for name, rows in saved.items():
                self.store.tables[name].clear()
                self.store.tables[name].update(rows)
            raise
        finally:
            self.store.changed()
        return result

    def _config_defaults(self, model: str, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {name: None for name, column in self.store.columns[model].items()
                                  if column.field.store and name != "id"}
        if model == "base.automation" and self.store.major < 17:
            values = {k: v for k, v in values.items() if k not in DELEGATED_16}
        values.update(create_date=now, write_date=now)
        if model == "ir.actions.server":
            values.update(type="ir.actions.server", usage="ir_actions_server",
                          state="object_write", sequence=5, code=DEFAULT_PYTHON_CODE)
            if self.store.major >= 17:
                values["webhook_field_ids"] = []
        elif model == "base.automation":
            values.update(active=True, trigger_field_ids=[])
        return values

    def _config_create(self, model: str, vals: dict[str, Any]) -> int:
        vals = dict(vals)
        if model == "base.automation" and self.store.major < 17:
            # 16's delegation: the action's fields create (or update) the delegated action.
            own, delegated = self._split_delegated(vals)
            if own.get("action_server_id"):
                if delegated:
                    self._config_write("ir.actions.server", [own["action_server_id"]], delegated)
            else:
                delegated.setdefault("usage", "base_automation")
                own["action_server_id"] = self._config_create("ir.actions.server", delegated)
            vals = own
        record_id = self.store.alloc(model)
        row = Row(record_id, self._config_defaults(model, self.store.clock()))
        self.store.tables[model][record_id] = row
        self._assign(model, row, vals, creating=True)
        return record_id

    def _config_write(self, model: str, ids: list[int], vals: dict[str, Any]) -> None:
        for record_id in ids:
            row = self.store.tables[model][record_id]
            values = dict(vals)
            if model == "base.automation" and self.store.major < 17:
                values, delegated = self._split_delegated(values)
                if delegated:
                    self._config_write("ir.actions.server", [row.action_server_id], delegated)
            self._assign(model, row, values, creating=False)

    def _split_delegated(self, vals: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        delegated = {k: v for k, v in vals.items() if k in DELEGATED_16}
        return {k: v for k, v in vals.items() if k not in DELEGATED_16}, delegated

    def _config_unlink(self, model: str, ids: list[int]) -> None:
        table = self.store.tables[model]
        for record_id in ids:
            if model == "ir.actions.server" and self.store.major < 17 and any(
                    rule.action_server_id == record_id
                    for rule in self.store.tables["base.automation"].values()):
                # 16: base.automation.action_server_id is ondelete='restrict'
                raise OdooFault("odoo.exceptions.ValidationError",
                                "The operation cannot be completed: another model requires the "
                                "record being deleted. If possible, archive it instead.")
            if model == "base.automation" and self.store.major >= 17:
                # ir.actions.server.base_automation_id is ondelete='cascade'
                for action in rule_actions(self.store, record_id):
                    del self.store.tables["ir.actions.server"][action.id]
            del table[record_id]

    def _assign(self, model: str, row: Row, vals: dict[str, Any], *, creating: bool) -> None:
        """Convert and store `vals` on `row`, recompute what depends on them, then validate."""
        columns = self.store.columns[model]
        written: set[str] = set()
        one2many: list[tuple[str, Any]] = []
        for name, value in vals.items():
            column = columns.get(name)
            if column is None:
                # Stricter than Odoo, whose create() only logs "includes unknown fields" (write()
                # raises this): a field the version lacks must not pass unnoticed in tests.
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if name == "model_name" and model == "base.automation" and self.store.major >= 17:
                # 17/18: related with an inverse (_inverse_model_name sets model_id)
                model_id = next((m.id for m in self.store.tables["ir.model"].values()
                                 if m.model == value), None)
                row.values["model_id"] = model_id
                written.add("model_id")
                continue
            if name in ("id", "display_name", "create_date", "write_date", "model_name") or (
                    not column.field.store and column.field.type != "one2many"):
                continue  # read-only: Odoo ignores what is written to them
            if column.field.type == "one2many":
                one2many.append((name, value))
                written.add(name)
                continue
            row.values[name] = self.store.convert(model, column.field, value, row.values.get(name))
            written.add(name)
        if model == "base.automation" and self.store.major >= 17:
            self._recompute_automation(row, written, creating=creating)
        if model == "ir.actions.server" and self.store.major >= 18 and (
                row.values.get("usage") == "base_automation"):
            # Seen on a real Odoo 18: an automation rule's action is named after its type
            # ("Execute Code") whatever name is written (17 not observed: left as written).
            labels = dict(columns["state"].field.selection or ())
            row.values["name"] = labels.get(row.values.get("state"), row.values.get("name"))
        row.values["write_date"] = self.store.clock()
        for _name, value in one2many:
            self._assign_actions(row, value)
        self._validate(model, row)

    def _assign_actions(self, rule: Row, value: Any) -> None:
        """base.automation.action_server_ids commands (17+); the inverse is base_automation_id."""
        current = [a.id for a in rule_actions(self.store, rule.id)]
        if value is None or value is False:
            value = [[5]]
        elif isinstance(value, (list, tuple)) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [[6, 0, list(value)]]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for base.automation.action_server_ids: {value!r}")
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Wrong value for base.automation.action_server_ids: "
                                 f"{command!r}")
            code = command[0]
            if code == 0:
                vals = dict(command[2] or {})
                vals["base_automation_id"] = rule.id
                # the one2many's context={'default_usage': 'base_automation'}
                vals.setdefault("usage", "base_automation")
                self._config_create("ir.actions.server", vals)
            elif code == 1:
                self._config_write("ir.actions.server", self.store.existing(
                    "ir.actions.server", [command[1]]), dict(command[2] or {}))
            elif code in (2, 3):
                # unlink (3) deletes too: the inverse base_automation_id is ondelete='cascade'
                self._config_unlink("ir.actions.server",
                                    self.store.existing("ir.actions.server", [command[1]]))
            elif code == 4:
                self._config_write("ir.actions.server", self.store.existing(
                    "ir.actions.server", [command[1]]), {"base_automation_id": rule.id})
            elif code in (5, 6):
                keep = list(command[2] or []) if code == 6 and len(command) > 2 else []
                gone = [i for i in current if i not in keep]
                self._config_unlink("ir.actions.server", gone)
                if keep:
                    self._config_write("ir.actions.server",
                                       self.store.existing("ir.actions.server", keep),
                                       {"base_automation_id": rule.id})
            else:
                raise ValueError(f"Wrong value for base.automation.action_server_ids: "
                                 f"{command!r}")
            current = [a.id for a in rule_actions(self.store, rule.id)]
        self._validate("base.automation", rule)

    def _validate(self, model: str, row: Row) -> None:
        """Required fields and the constraints Odoo checks on these models."""
        required = {"ir.actions.server": ("name", "model_id", "state", "usage"),
                    "base.automation": (("model_id", "trigger", "name") if self.store.major >= 17
                                        else ("action_server_id", "trigger"))}[model]
        for name in required:
            if row.values.get(name) in (None, False, ""):
                raise self.store.mandatory(model, name)
        if model == "ir.actions.server":
            target = self.store.model_name(row.model_id)
            for field_id in row.values.get("webhook_field_ids") or []:
                name = self.store.tables["ir.model.fields"][field_id].name
                if name not in self.store.columns.get(target or "", {}):
                    # _check_webhook_field_ids looks the name up in Model._fields
                    raise OdooFault("builtins.KeyError", repr(name))
            if row.state == "code" and row.code:
                try:
                    compile(row.code, "<server action>", "exec")
                except SyntaxError as error:  # _check_python_code
                    raise OdooFault("odoo.exceptions.ValidationError",
                                    f"SyntaxError : {error.msg} at line {error.lineno}") from None
        elif model == "base.automation" and self.store.major >= 17:
            wrong = [a for a in rule_actions(self.store, row.id) if a.model_id != row.model_id]
            if wrong:  # _check_action_server_model
                raise OdooFault("odoo.exceptions.ValidationError",
                                f"Target model of actions {', '.join(a.name for a in wrong)} "
                                f"are different from rule model.")

    def _recompute_automation(self, row: Row, written: set[str], *, creating: bool) -> None:
        """The stored computed fields of base.automation that depend on what was written.

        Odoo recomputes a stored computed field (readonly=False) when one of its dependencies is
        written and the field itself is not in the same write; on create, every computed field
        not given is computed. The computes differ between versions (base_automation.py of each,
        copies named in configuration_schema):
        - 18: trigger <- model_id (reset); trg_selection_field_id, trg_field_ref <- trigger
          (reset); filter_domain <- trigger, trg_selection_field_id, trg_field_ref (e.g.
          on_state_set gives [('state', '=', <value>)], on_create_or_write gives False);
          trigger_field_ids <- model_id, trigger, filter_domain (on_create_or_write ADDS the
          fields the domain names, e.g. location_id; other triggers: their field).
        - 17: trigger_field_ids (and trigger) <- model_id, trigger (on_create_or_write: none);
          trg_selection_field_id, trg_field_ref <- trigger, trigger_field_ids (reset);
          filter_domain <- trigger, trigger_field_ids, trg_selection_field_id, trg_field_ref
          (from the one trigger field; left as it is with several, False with none).
        So a write that changes one of these without the others can change the rest.
        """
        values = row.values
        model = self.store.model_name(values.get("model_id"))
        fields_table = self.store.tables["ir.model.fields"]

        def selection_value() -> str | None:
            selection = self.store.tables["ir.model.fields.selection"].get(
                values.get("trg_selection_field_id"))
            return selection.value if selection is not None else None

        def domain_for(field_name: str) -> str | None:
            trigger = values.get("trigger")
            if trigger in ("on_state_set", "on_priority_set"):
                value = selection_value()
                if self.store.major >= 18:
                    return repr([(field_name, "=", value)]) if value else None
                return f"[('{field_name}', '=', '{value}')]" if value else None
            if trigger == "on_user_set":
                return repr([(field_name, "!=", False)])
            if trigger in ("on_archive", "on_unarchive"):
                return repr([(field_name, "=", trigger == "on_unarchive")])
            return None  # stage/tag need trg_field_ref (not modelled); the others: False

        def filter_domain_18() -> str | None:
            trigger = values.get("trigger")
            if trigger in ("on_create_or_write", *TIME_TRIGGERS):
                return None
            field_id = self._trigger_field(model, trigger)
            return domain_for(fields_table[field_id].name) if field_id else None

        def trigger_fields_18() -> list[int]:
            trigger = values.get("trigger")
            if trigger == "on_create_or_write":
                named = self._domain_field_ids(model, values.get("filter_domain"))
                return list(dict.fromkeys([*(values.get("trigger_field_ids") or []), *named]))
            field_id = None if trigger in TIME_TRIGGERS else self._trigger_field(model, trigger)
            return [field_id] if field_id else []

        def trigger_fields_17() -> list[int]:
            trigger = values.get("trigger")
            if trigger not in TRIGGER_FIELDS:
                return []
            field_id = self._trigger_field(model, trigger)
            if field_id is None and "trigger" not in written:
                values["trigger"] = None
            return [field_id] if field_id else []

        def filter_domain_17() -> str | None:
            ids = values.get("trigger_field_ids") or []
            if len(ids) > 1:
                return values.get("filter_domain")
            return domain_for(fields_table[ids[0]].name) if ids else None

        def reset() -> None:
            return None

        computes: list[tuple[str, set[str], Callable[[], Any]]]
        if self.store.major >= 18:
            computes = [
                ("trigger", {"model_id"}, reset),
                ("trg_selection_field_id", {"trigger"}, reset),
                ("trg_field_ref", {"trigger"}, reset),
                ("filter_pre_domain", {"trigger", "trg_field_ref"}, reset),
                ("filter_domain", {"trigger", "trg_selection_field_id", "trg_field_ref"},
                 filter_domain_18),
                ("trigger_field_ids", {"model_id", "trigger", "filter_domain"},
                 trigger_fields_18),
            ]
        else:
            computes = [
                ("trigger_field_ids", {"model_id", "trigger"}, trigger_fields_17),
                ("trg_selection_field_id", {"trigger", "trigger_field_ids"}, reset),
                ("trg_field_ref", {"trigger", "trigger_field_ids"}, reset),
                ("filter_pre_domain", {"trigger", "trigger_field_ids", "trg_field_ref"}, reset),
                ("filter_domain", {"trigger", "trigger_field_ids", "trg_selection_field_id",
                                   "trg_field_ref"}, filter_domain_17),
            ]
        changed = set(written)
        for name, depends, compute in computes:
            if name not in written and (creating or depends & changed):
                values[name] = compute()
                changed.add(name)

    def _trigger_field(self, model: str | None, trigger: str | None) -> int | None:
        """_get_trigger_specific_field (18) / the search of 17: the field a trigger watches."""
        spec = TRIGGER_FIELDS.get(trigger or "")
        if spec is None or model is None:
            return None
        types, names, relation = spec
        found = sorted(
            (row.name, row.id) for row in self.store.tables["ir.model.fields"].values()
            if row.model == model and row.name in names and row.ttype in types
            and (relation is None or row.relation == relation))
        return found[0][1] if found else None

    def _domain_field_ids(self, model: str | None, domain: str | None) -> list[int]:
        """The fields a domain string names (18's DOMAIN_FIELDS_RE, first path component)."""
        if not domain or model is None:
            return []
        names = [m.group("field") for m in DOMAIN_FIELD.finditer(domain)]
        return [self.store.field_ids[(model, n)] for n in dict.fromkeys(names)
                if (model, n) in self.store.field_ids]
