"""One request's view of the simulated database: its context, search and read as the ORM does
them, its stock quantities, and the answers the domain evaluator asks for."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from woodoo.simulators.odoo.domain import DomainSource, Field, compile_domain, domain_fields, is_empty
from woodoo.simulators.odoo.errors import missing_record
from woodoo.simulators.odoo.records import DEFAULT_ORDER, Column, Product
from woodoo.simulators.odoo.stock import quantities, selected_locations
from woodoo.simulators.odoo.store import Store

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
_UNSET = object()


class Query(DomainSource):
    """A request's context over the simulator state; answers the domain evaluator's questions."""

    def __init__(self, store: Store, context: dict[str, Any] | None) -> None:
        self.store = store
        self.context: dict[str, Any] = dict(context or {})
        self._selected: Any = _UNSET
        self._quantities: dict[int, dict[str, float]] = {}

    # -- DomainSource -----------------------------------------------------------------------
    def field(self, model: str, name: str) -> Field | None:
        """The field `name` of `model`, or None."""
        column = self.store.columns.get(model, {}).get(name)
        return column.field if column else None

    def getter(self, model: str, name: str) -> Callable[[Any], Any]:
        """The raw value getter of a field, bound to this request."""
        get = self.store.columns[model][name].get
        return lambda record: get(record, self)

    def browse(self, model: str, record_id: int) -> Any | None:
        """The record, or None."""
        table = self.store.tables.get(model)
        if table is None or not isinstance(record_id, int):
            return None
        return table.get(record_id)

    def name_search_ids(self, model: str, operator: str, value: str) -> set[int]:
        """Ids whose record name matches (products also by reference), active records only."""
        if model == "product.product":
            domain: list[Any] = ["|", ("default_code", operator, value), ("name", operator, value)]
        elif model == "stock.location":
            domain = [("complete_name", operator, value)]
        elif model == "ir.model":
            domain = [("model", operator, value)]
        elif model == "res.users":
            domain = ["|", ("login", operator, value), ("name", operator, value)]
        else:
            domain = [("name", operator, value)]
        return set(self.search(model, domain))

    def descendant_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and their children; only stock.location has a hierarchy here."""
        if model != "stock.location":
            return set(ids)
        locations = self.store.tables["stock.location"]
        paths = [locations[i].parent_path for i in ids if i in locations]
        return {loc.id for loc in locations.values()
                if any(loc.parent_path.startswith(path) for path in paths)}

    def ancestor_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and their parents; only stock.location has a hierarchy here."""
        if model != "stock.location":
            return set(ids)
        locations = self.store.tables["stock.location"]
        found: set[int] = set()
        for location_id in ids:
            if location_id in locations:
                found |= {int(part) for part in locations[location_id].parent_path.split("/")
                          if part}
        return found

    # -- Quantities -------------------------------------------------------------------------
    def selected_locations(self) -> set[int] | None:
        """The locations whose quants count for this request (see stock.selected_locations)."""
        if self._selected is _UNSET:
            self._selected = selected_locations(self)
        return self._selected

    def quantities(self, product: Product) -> dict[str, float]:
        """A product's quantities for this request (see stock.quantities)."""
        found = self._quantities.get(product.id)
        if found is None:
            found = self._quantities[product.id] = quantities(self, product)
        return found

    # -- search and read --------------------------------------------------------------------
    def search(self, model: str, domain: Any, offset: int = 0, limit: int | None = None,
               order: str | None = None) -> list[int]:
        """Ids matching `domain`, ordered and sliced like Odoo's search (active_test included)."""
        terms = self._order_terms(model, order)
        try:
            key: tuple[Any, ...] | None = (
                model, json.dumps(domain), order,
                json.dumps(self.context, sort_keys=True), self.store.state_version)
        except (TypeError, ValueError):
            key = None
        ids = self.store.search_cache.get(key) if key is not None else None
        if ids is None:
            predicate = compile_domain(domain, model, self)
            columns = self.store.columns[model]
            active_only = ("active" in columns and self.context.get("active_test", True)
                           and "active" not in domain_fields(domain or []))
            rows = [r for r in self.store.tables[model].values()
                    if (not active_only or r.active) and predicate(r)]
            for name, descending in reversed(terms):
                column = columns[name]
                rows.sort(key=self._sort_key(column), reverse=descending)
            ids = [r.id for r in rows]
            if key is not None:
                self.store.search_cache[key] = ids
                while len(self.store.search_cache) > 16:
                    self.store.search_cache.popitem(last=False)
        start = int(offset or 0)
        return ids[start:start + int(limit)] if limit else ids[start:]

    def _order_terms(self, model: str, order: str | None) -> list[tuple[str, bool]]:
        spec = order or DEFAULT_ORDER[model]
        terms = []
        for part in spec.split(","):
            match = re.fullmatch(r"\s*(\w+)(?:\s+(asc|desc))?(?:\s+nulls\s+(?:first|last))?\s*",
                                 part, re.IGNORECASE)
            if not match:
                raise ValueError(f"Invalid order {spec!r}")
            name = match.group(1)
            column = self.store.columns[model].get(name)
            if column is None:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if column.field.store:  # Odoo cannot order by a non-stored computed field
                terms.append((name, (match.group(2) or "asc").lower() == "desc"))
        return terms

    def _sort_key(self, column: Column) -> Callable[[Any], Any]:
        get, relation = column.get, column.field.relation

        def key(record: Any) -> tuple[int, Any]:
            value = get(record, self)
            if relation and value:
                target = self.store.tables[relation].get(value)
                value = self.store.display(relation, target) if target is not None else None
            # PostgreSQL puts NULLs last ascending and first descending (reverse=True)
            return (1, 0) if is_empty(value) and value is not False else (0, value)

        return key

    def read(self, model: str, ids: Iterable[Any], fields: Any,
             load: Any = "_classic_read") -> list[dict[str, Any]]:
        """The records' fields as Odoo's read() answers them."""
        columns = self.store.columns[model]
        names = list(fields) if fields else list(columns)
        for name in names:
            if not isinstance(name, str) or name not in columns:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
        table = self.store.tables[model]
        rows = []
        for record_id in ids:
            record = table.get(record_id) if isinstance(record_id, int) else None
            if record is None:
                raise missing_record(model, record_id)
            row: dict[str, Any] = {"id": record.id}
            for name in names:
                if name != "id":
                    row[name] = self._value(columns[name], record, load)
            rows.append(row)
        return rows

    def _value(self, column: Column, record: Any, load: Any) -> Any:
        """A field value as Odoo's read() serialises it."""
        raw = column.get(record, self)
        kind = column.field.type
        if kind == "many2one":
            if not raw:
                return False
            if load != "_classic_read":
                return raw
            relation = column.field.relation or ""
            target = self.store.tables[relation].get(raw)
            return [raw, self.store.display(relation, target) if target is not None else ""]
        if kind == "datetime":
            return raw.strftime(ODOO_DATETIME) if raw else False
        if kind in ("float", "monetary"):
            return float(raw or 0.0)
        if kind == "integer":
            return int(raw or 0)
        if kind == "boolean":
            return bool(raw)
        if kind in ("one2many", "many2many"):
            return list(raw or [])
        return False if raw is None or raw is False else raw


def fields_get(columns: dict[str, Column], allfields: Any, attributes: Any) -> dict[str, Any]:
    """What fields_get answers for a model with these columns."""
    result = {}
    for name, column in columns.items():
        if allfields and name not in allfields:
            continue
        spec = column.field
        description: dict[str, Any] = {
            "type": spec.type, "string": spec.string, "store": spec.store,
            "readonly": not spec.store or name in ("id", "create_date", "write_date"),
            "required": False, "searchable": True, "sortable": spec.store,
        }
        if spec.relation:
            description["relation"] = spec.relation
        if spec.selection:
            description["selection"] = [list(pair) for pair in spec.selection]
        if attributes:
            description = {k: v for k, v in description.items() if k in attributes}
        result[name] = description
    return result
