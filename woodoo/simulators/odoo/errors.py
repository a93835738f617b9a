"""Odoo's errors: the JSON-RPC error object, and the faults every simulated model raises alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from woodoo.simulators.odoo.records import ADMIN_UID


class OdooFault(Exception):
    """An error Odoo would report in the JSON-RPC `error` object."""

    def __init__(self, name: str, message: str, *, code: int = 200,
                 title: str = "Odoo Server Error") -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = code
        self.title = title

    def to_json(self, version: str) -> dict[str, Any]:
        """The error object as Odoo serialises it (odoo.http.serialize_exception)."""
        shown = self.name.removeprefix("builtins.")
        debug = ("Traceback (most recent call last):\n"
                 f'  File "odoo/http.py" (simulated by woodoo, Odoo {version})\n'
                 f"{shown}: {self.message}\n")
        return {"code": self.code, "message": self.title,
                "data": {"name": self.name, "debug": debug, "message": self.message,
                         "arguments": [self.message], "context": {}}}


def type_error(message: str) -> OdooFault:
    return OdooFault("builtins.TypeError", message)


def create_each(vals_list: Any, create: Callable[[list[dict[str, Any]]], list[int]]) -> Any:
    """create() as odoo.api.call_kw answers it: a dict gives one id, a list of dicts a list of ids."""
    items = [vals_list] if isinstance(vals_list, dict) else vals_list
    if not isinstance(items, list) or not all(isinstance(v, dict) for v in items):
        raise type_error("create() takes a dict of values or a list of them")
    ids = create(items)
    return ids[0] if isinstance(vals_list, dict) else ids


def missing_record(model: str, record_id: Any) -> OdooFault:
    """The MissingError of reading or writing a record that does not exist (recorded)."""
    return OdooFault("odoo.exceptions.MissingError",
                     "Record does not exist or has been deleted.\n"
                     f"(Record: {model}({record_id!r},), User: {ADMIN_UID})")
