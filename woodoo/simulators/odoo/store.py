"""The simulated Odoo database: tables, id sequences, indexes and transactions, and what every model
shares (display names, missing records, mandatory fields, converting written values)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from woodoo.simulators.odoo.domain import Field, parse_datetime
from woodoo.simulators.odoo.errors import OdooFault, missing_record
from woodoo.simulators.odoo.records import DEFAULT_ORDER, MODEL_NAMES, Column, Move, Quant


def _parse_version(version: str) -> tuple[int, int]:
    match = re.match(r"(?:saas~)?(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"unrecognised Odoo version {version!r}; give e.g. '18.0'")
    major, minor = int(match.group(1)), int(match.group(2))
    if major < 16:
        raise ValueError(f"the simulator emulates Odoo 16 to 19, not {version}")
    return major, minor


@dataclass
class Pending:
    """Writes of an open `transaction()`: applied, with its start time, when it exits."""

    start: datetime
    ops: list[Callable[[datetime], None]] = field(default_factory=list)
    products: dict[int, tuple[str | None, bool]] = field(default_factory=dict)
    warehouses: dict[str, int] = field(default_factory=dict)


class Store:
    """The records of every simulated model, with the ids, indexes and transactions around them."""

    def __init__(self, version: str, clock: Callable[[], datetime]) -> None:
        self.version = version
        self.major, self.minor = _parse_version(version)
        self.clock = clock
        self.lock = threading.RLock()
        self._local = threading.local()
        self.tables: dict[str, dict[int, Any]] = {model: {} for model in DEFAULT_ORDER}
        self.sequences: dict[str, int] = dict.fromkeys(DEFAULT_ORDER, 1)
        self.issued: dict[str, set[int]] = {model: set() for model in DEFAULT_ORDER}
        # Indexes kept by the stock operations (stock.py).
        self.quants_by_product: dict[int, list[Quant]] = {}
        self.quant_at: dict[tuple[int, int], Quant] = {}
        self.moves_by_product: dict[int, list[Move]] = {}
        self.skus: dict[str, list[int]] = {}
        # The ir.model.fields id of each (model, field name), kept by configuration.py.
        self.field_ids: dict[tuple[str, str], int] = {}
        # Each model's fields, from the schemas of the areas (set up by OdooSimulator).
        self.columns: dict[str, dict[str, Column]] = {}
        self.state_version = 0
        self.search_cache: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()

    def alloc(self, model: str, explicit: int | None = None) -> int:
        """A new id, like a PostgreSQL sequence (not rolled back); `explicit` forces one."""
        with self.lock:
            table, issued = self.tables[model], self.issued[model]
            if explicit is not None:
                if explicit in table or explicit in issued:
                    raise ValueError(f"{model} id {explicit} is already used")
                issued.add(explicit)
                return explicit
            new_id = self.sequences[model]
            while new_id in table or new_id in issued:
                new_id += 1
            self.sequences[model] = new_id + 1
            issued.add(new_id)
            return new_id

    def pending(self) -> Pending | None:
        """The open transaction of this thread, if any."""
        return getattr(self._local, "pending", None)

    def write(self, op: Callable[[datetime], None]) -> None:
        """Apply a write now (its own committed transaction), or queue it in the open one."""
        pending = self.pending()
        if pending is not None:
            pending.ops.append(op)
            return
        with self.lock:
            op(self.clock())
            self.changed()

    def changed(self) -> None:
        """Note a committed change: searches are computed anew."""
        self.state_version += 1
        self.search_cache.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one Odoo transaction: committed, all at once, when the block exits.

        Like Odoo on PostgreSQL, every row written gets the transaction's start time as
        `write_date` (PostgreSQL `now()`; shown truncated to seconds over RPC), and nothing is
        visible to RPC reads until the commit: a poll running meanwhile sees the old state, and
        after the commit sees rows "written" before its previous watermark. An exception inside
        the block rolls everything back (ids already handed out stay used, as with sequences).
        Nested blocks join the outer transaction. It holds the writes of the thread that opened
        it; `bulk_add` is applied at once regardless.
        """
        if self.pending() is not None:
            yield
            return
        pending = Pending(self.clock())
        self._local.pending = pending
        try:
            yield
        except BaseException:
            self._local.pending = None
            raise
        self._local.pending = None
        with self.lock:
            for op in pending.ops:
                op(pending.start)
            self.changed()

    def display(self, model: str, record: Any) -> str:
        """display_name as Odoo computes it for the simulated models."""
        if model == "product.product":
            return f"[{record.default_code}] {record.name}" if record.default_code else record.name
        if model == "product.template":
            variants = [self.tables["product.product"][v] for v in record.variant_ids
                        if v in self.tables["product.product"]]
            if len(variants) == 1 and variants[0].default_code:
                return f"[{variants[0].default_code}] {record.name}"
            return record.name
        if model == "stock.location":
            return record.complete_name
        if model == "stock.quant":
            product = self.tables["product.product"][record.product_id]
            return f"{self.tables['stock.location'][record.location_id].complete_name} - " \
                   f"{self.display('product.product', product)}"
        if model == "stock.move":
            return record.reference or str(record.id)
        if model == "sale.order.line":
            # sale.order.line._compute_display_name (17/18): "<order> - <first line of name>"
            order = self.tables["sale.order"].get(record.order_id)
            return f"{order.name if order else ''} - {record.name.splitlines()[0]}"
        if model == "ir.model":
            return record.name
        if model == "ir.model.fields":
            return f"{record.field_description} ({record.model})"
        if model == "ir.module.module":
            return record.shortdesc
        if model == "base.automation" and self.major < 17:
            return self.tables["ir.actions.server"][record.action_server_id].name
        return record.name

    def existing(self, model: str, ids: Any) -> list[int]:
        """The ids, if every one is a record of `model`; else the MissingError."""
        found = []
        for record_id in as_ids(ids):
            if not isinstance(record_id, int) or record_id not in self.tables[model]:
                raise missing_record(model, record_id)
            found.append(record_id)
        return found

    def model_name(self, model_id: int | None) -> str | None:
        """The technical name of the ir.model with this id, or None."""
        row = self.tables["ir.model"].get(model_id) if model_id else None
        return row.model if row is not None else None

    def mandatory(self, model: str, name: str) -> OdooFault:
        """The fault of a mandatory field left empty."""
        string = self.columns[model][name].field.string
        # NOT NULL violation as odoo.service.model reports it (not recorded)
        return OdooFault("odoo.exceptions.ValidationError",
                         "The operation cannot be completed:\n"
                         "- Create/update: a mandatory field is not set.\n"
                         "- Delete: another model requires the record being deleted. "
                         "If possible, archive it instead.\n\n"
                         f"Model: {MODEL_NAMES[model]} ({model})\n"
                         f"Field: {string} ({name})")

    def convert(self, model: str, field: Field, value: Any, current: Any) -> Any:
        """A written value as the simulator stores it; Odoo's errors for wrong ones."""
        kind, name = field.type, field.name
        if kind == "many2many":
            return self.many2many(model, field, current or [], value)
        if value is None or value is False:
            return False if kind == "boolean" else None
        if kind == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Wrong value for {model}.{name}: {value!r}")
            self.check_ids(model, field, [value])
            return value
        if kind == "selection":
            if value not in dict(field.selection or ()):
                raise ValueError(f"Wrong value for {model}.{name}: {value!r}")
            return value
        if kind in ("char", "text"):
            return str(value)
        if kind == "boolean":
            return bool(value)
        if kind in ("integer", "many2one_reference"):
            return int(value)
        if kind == "datetime":
            return parse_datetime(value)
        return value

    def check_ids(self, model: str, field: Field, ids: Iterable[Any]) -> None:
        """Each id must be a record of the field's comodel."""
        table = self.tables[field.relation or ""]
        for record_id in ids:
            if isinstance(record_id, bool) or not isinstance(record_id, int):
                raise ValueError(f"Wrong value for {model}.{field.name}: {record_id!r}")
            if record_id not in table:
                # A foreign key violation, which odoo.service.model turns into a ValidationError.
                raise OdooFault("odoo.exceptions.ValidationError",
                                f"The operation cannot be completed: {model}.{field.name} "
                                f"refers to {field.relation}({record_id},), which does not exist.")

    def many2many(self, model: str, field: Field, current: list[int], value: Any) -> list[int]:
        """Apply x2many commands (or a plain list of ids) to a many2many's ids."""
        if value is None or value is False:
            return []
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"Wrong value for {model}.{field.name}: {value!r}")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [[6, 0, list(value)]]
        result = list(current)
        for command in value:
            if not isinstance(command, (list, tuple)) or not command:
                raise ValueError(f"Wrong value for {model}.{field.name}: {command!r}")
            code = command[0]
            if code == 6:
                ids = list(command[2]) if len(command) > 2 and command[2] else []
                self.check_ids(model, field, ids)
                result = list(dict.fromkeys(ids))
            elif code == 5:
                result = []
            elif code == 4:
                self.check_ids(model, field, [command[1]])
                if command[1] not in result:
                    result.append(command[1])
            elif code == 3:
                result = [i for i in result if i != command[1]]
            else:
                raise OdooFault("builtins.NotImplementedError",
                                f"x2many command {code!r} on {model}.{field.name} is not "
                                f"simulated")
        return result


def as_ids(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
