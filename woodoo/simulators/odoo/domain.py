"""Evaluate Odoo search domains in memory, the way the Odoo 16-18 ORM interprets them.

A domain is prefix notation: `&`, `|` (binary) and `!` (unary) before their operands, leaves
`(path, operator, value)`, and an implicit `&` between consecutive top-level terms. Dotted paths
go through many2one fields (`location_id.usage`). What is modelled here, and why:

- `False` (and `''`/None) means "not set" for `=`, `!=`, `in`, `not in`, as SQL NULL does in Odoo.
- Negative operators (`!=`, `not in`, `not like`, `not ilike`) also match unset values: Odoo adds
  `OR column IS NULL` for them.
- `like`/`ilike` wrap the value in `%...%`; `=like`/`=ilike` use it as the whole pattern (`%` any
  run, `_` one character). Odoo does not escape `%`/`_` in the value, so neither do we; a
  backslash makes the next character literal (`\\%`, `\\_`, `\\\\`), as PostgreSQL's LIKE does by
  default and Odoo 18's `odoo.tools.sql.escape_psql` relies on, and a pattern ending in a lone
  backslash is PostgreSQL's error "LIKE pattern must not end with escape character".
- A many2one compared with a string (or list of strings) matches by the comodel's record name,
  like Odoo's name_search substitution.
- A path through an empty many2one never matches (Odoo 17+ turns paths into `any` subqueries).
- `child_of` / `parent_of` follow the model's hierarchy (stock.location's `parent_path`); on a model
  without one they mean `in`.
- An unknown field raises ``ValueError("Invalid field <model>.<field> in leaf <leaf>")``, the exact
  message recorded from Odoo 18 (`osv/expression.py`, `_anyfy_leaves`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Predicate = Callable[[Any], bool]

TERM_OPERATORS = frozenset({
    "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like", "ilike",
    "not ilike", "in", "not in", "child_of", "parent_of", "any", "not any",
})
NEGATIVE_OPERATORS = frozenset({"!=", "not like", "not ilike", "not in", "not any"})
TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%d")


@dataclass(frozen=True)
class Field:
    """One field of a simulated model: what `fields_get` reports and how domains treat it."""

    name: str
    type: str
    string: str
    relation: str | None = None
    store: bool = True
    selection: tuple[tuple[str, str], ...] | None = None


class DomainSource(Protocol):
    """What the evaluator needs to know about the models it filters."""

    def field(self, model: str, name: str) -> Field | None:
        """The field `name` of `model`, or None if the model has no such field."""

    def getter(self, model: str, name: str) -> Callable[[Any], Any]:
        """A function giving a record's raw value (a many2one gives an id or None)."""

    def browse(self, model: str, record_id: int) -> Any | None:
        """The record of `model` with this id, or None."""

    def name_search_ids(self, model: str, operator: str, value: str) -> set[int]:
        """Ids of `model` records whose record name matches `value` with `operator`."""

    def descendant_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and all their children in the model's hierarchy (just `ids` if it has none)."""

    def ancestor_ids(self, model: str, ids: set[int]) -> set[int]:
        """`ids` and all their parents in the model's hierarchy (just `ids` if it has none)."""


def is_empty(value: Any) -> bool:
    """True for what Odoo stores as NULL: False, None and the empty string."""
    return value is None or value is False or value == ""


def parse_datetime(value: Any) -> datetime:
    """A datetime from an Odoo datetime string (or a datetime); ValueError if it is neither."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        for fmt in DATETIME_FORMATS:
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
    raise ValueError(f"Invalid datetime value {value!r}")


def domain_fields(domain: Iterable[Any]) -> set[str]:
    """The first path component of every leaf of `domain` (to see e.g. whether `active` is used)."""
    names = set()
    for item in domain:
        if isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[0], str):
            names.add(item[0].split(".", 1)[0])
    return names


def compile_domain(domain: Any, model: str, source: DomainSource) -> Predicate:
    """Turn `domain` on `model` into a predicate over records; raise ValueError like Odoo."""
    if domain is None or domain is False:
        domain = []
    if not isinstance(domain, (list, tuple)):
        raise ValueError(f"Invalid domain {domain!r}: a domain is a list")
    stack: list[Predicate] = []
    # Walk the prefix notation from the end, as odoo.osv.expression.normalize_domain does.
    for item in reversed(list(domain)):
        if item == "!":
            operand = _pop(stack, domain)
            stack.append(lambda r, p=operand: not p(r))
        elif item in ("&", "|"):
            left, right = _pop(stack, domain), _pop(stack, domain)
            if item == "&":
                stack.append(lambda r, a=left, b=right: a(r) and b(r))
            else:
                stack.append(lambda r, a=left, b=right: a(r) or b(r))
        else:
            stack.append(_compile_leaf(item, model, source))
    terms = list(reversed(stack))  # what is left is implicitly AND-ed, in order
    if not terms:
        return lambda r: True
    if len(terms) == 1:
        return terms[0]
    return lambda r: all(term(r) for term in terms)


def _pop(stack: list[Predicate], domain: Any) -> Predicate:
    if not stack:
        raise ValueError(f"Invalid domain {domain!r}: an operator is missing operands")
    return stack.pop()


def _compile_leaf(item: Any, model: str, source: DomainSource) -> Predicate:
    if not isinstance(item, (list, tuple)) or len(item) != 3:
        raise ValueError(f"Invalid leaf {item!r}")
    leaf = tuple(item)
    if leaf == TRUE_LEAF:
        return lambda r: True
    if leaf == FALSE_LEAF:
        return lambda r: False
    path, operator, value = leaf
    if not isinstance(operator, str) or operator.lower() not in TERM_OPERATORS:
        raise ValueError(f"Invalid leaf {leaf!r}")
    operator = operator.lower()
    if not isinstance(path, str) or not path:
        raise ValueError(f"Invalid leaf {leaf!r}")
    head, _, rest = path.partition(".")
    field = source.field(model, head)
    if field is None:
        raise ValueError(f"Invalid field {model}.{head} in leaf {leaf!r}")
    get = source.getter(model, head)
    if rest:
        if field.type != "many2one" or field.relation is None:
            raise ValueError(f"Invalid field {model}.{path} in leaf {leaf!r}")
        comodel = field.relation
        inner = _compile_leaf((rest, operator, value), comodel, source)

        def through(record: Any) -> bool:
            target_id = get(record)
            if not target_id:
                return False
            target = source.browse(comodel, target_id)
            return target is not None and inner(target)

        return through
    if field.type == "many2one":
        return _many2one_leaf(field, get, operator, value, source)
    if head == "id" and operator in ("child_of", "parent_of"):
        ids = _ids_of(value, model, source)
        related = (source.descendant_ids if operator == "child_of" else source.ancestor_ids)(
            model, ids)
        return lambda r: get(r) in related
    if operator in ("any", "not any", "child_of", "parent_of"):
        raise ValueError(f"Invalid leaf {leaf!r}: {operator} needs a relational field")
    return _scalar_leaf(field, get, operator, value)


def _ids_of(value: Any, comodel: str, source: DomainSource) -> set[int]:
    """Record ids named by a domain value: ids as such, strings by record name (ilike)."""
    values = value if isinstance(value, (list, tuple)) else [value]
    ids: set[int] = set()
    for item in values:
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            ids.add(item)
        elif isinstance(item, str):
            ids |= source.name_search_ids(comodel, "ilike", item)
    return ids


def _many2one_leaf(field: Field, get: Callable[[Any], Any], operator: str, value: Any,
                   source: DomainSource) -> Predicate:
    comodel = field.relation or ""
    if operator in ("any", "not any"):
        inner = compile_domain(value, comodel, source)

        def any_match(record: Any) -> bool:
            target_id = get(record)
            target = source.browse(comodel, target_id) if target_id else None
            return target is not None and inner(target)

        if operator == "any":
            return any_match
        return lambda r: not any_match(r)
    if operator in ("child_of", "parent_of"):
        ids = _ids_of(value, comodel, source)
        related = (source.descendant_ids if operator == "child_of" else source.ancestor_ids)(
            comodel, ids)
        return lambda r: get(r) in related
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(v, str) and v != "" for v in values):
        # Odoo substitutes a name_search on the comodel for names given to a many2one.
        name_operator = {"=": "=", "!=": "=", "in": "=", "not in": "=", "like": "like",
                         "not like": "like", "ilike": "ilike", "not ilike": "ilike",
                         "=like": "=like", "=ilike": "=ilike"}.get(operator)
        if name_operator is None:
            raise ValueError(f"Invalid leaf {(field.name, operator, value)!r}")
        ids = set()
        for v in values:
            if isinstance(v, str) and v != "":
                ids |= source.name_search_ids(comodel, name_operator, v)
        negative = operator in NEGATIVE_OPERATORS
        if negative:
            return lambda r: not get(r) or get(r) not in ids
        return lambda r: get(r) in ids
    return _scalar_leaf(field, get, operator, value)


def _like_regex(pattern: str, *, wrap: bool, ignore_case: bool) -> re.Pattern[str]:
    if wrap:
        pattern = f"%{pattern}%"
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    if escaped:
        # Imported here: errors -> records -> domain would be a cycle at import time.
        from woodoo.simulators.odoo.errors import OdooFault

        raise OdooFault("psycopg2.errors.InvalidEscapeSequence",
                        "LIKE pattern must not end with escape character\n")
    return re.compile("".join(parts), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _coerce(field: Field, value: Any) -> Any:
    """The domain value as the field's Python type (datetime strings become datetimes)."""
    if field.type == "boolean":
        return bool(value) if not is_empty(value) else False
    if is_empty(value):
        return None
    if field.type == "datetime":
        return parse_datetime(value)
    return value


def _scalar_leaf(field: Field, get: Callable[[Any], Any], operator: str,
                 value: Any) -> Predicate:
    if field.type == "boolean":
        # Odoo 17+ treats a NULL boolean as False.
        def get_bool(record: Any) -> bool:
            return bool(get(record))

        return _comparison(field, get_bool, operator, value)
    return _comparison(field, get, operator, value)


def _comparison(field: Field, get: Callable[[Any], Any], operator: str,
                value: Any) -> Predicate:
    if operator == "=?":
        if is_empty(value):
            return lambda r: True
        operator = "="
    if operator in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        wants_empty = field.type != "boolean" and any(is_empty(v) for v in values)
        members = {_coerce(field, v) for v in values
                   if field.type == "boolean" or not is_empty(v)}

        def contained(record: Any) -> bool:
            current = get(record)
            if field.type != "boolean" and is_empty(current):
                return wants_empty
            return current in members

        if operator == "in":
            return contained
        return lambda r: not contained(r)
    target = _coerce(field, value)
    if operator in ("=", "!="):
        if target is None:
            def equal(record: Any) -> bool:
                return is_empty(get(record))
        else:
            def equal(record: Any) -> bool:
                return get(record) == target
        if operator == "=":
            return equal
        return lambda r: not equal(r)
    if operator in ("<", "<=", ">", ">="):
        if target is None:
            return lambda r: False
        compare = {"<": lambda a: a < target, "<=": lambda a: a <= target,
                   ">": lambda a: a > target, ">=": lambda a: a >= target}[operator]

        def ordered(record: Any) -> bool:
            current = get(record)
            if current is None or (current is False and field.type != "boolean"):
                return False
            try:
                return bool(compare(current))
            except TypeError:
                return False

        return ordered
    # like / ilike / =like / =ilike and their negations
    wrap = not operator.startswith("=")
    regex = _like_regex("" if is_empty(value) else str(value), wrap=wrap,
                        ignore_case="ilike" in operator)

    def matches(record: Any) -> bool:
        current = get(record)
        if is_empty(current):
            return False
        return regex.fullmatch(str(current)) is not None

    if operator in NEGATIVE_OPERATORS:
        return lambda r: not matches(r)
    return matches
