"""The rows of the overlap window already read: remembered, stored, and left out of the next read.

Odoo stamps each written row's `write_date` with its transaction's start time (truncated to the
second) and a row is visible to readers only once that transaction commits. So a row a read has
not seen, inside the window, is either newer than the read or committed late with an older
stamp; a row seen before at the same stamp says nothing new (to the second: a row rewritten
within the same second it was read at looks the same). The next read asks Odoo only for rows
not in this set, which Odoo answers from its `write_date` index: one request with an empty
answer when nothing is new, however many rows the window holds (e.g. 20,000 after an import).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from woodoo.limits import MAX_LISTED_ROWS

Seen = dict[str, dict[str, set[int]]]  # model -> write date -> row ids read at that date


def remember(seen: Seen, rows: Iterable[tuple[str, int, str]]) -> Seen:
    """`seen` with these (model, row id, write date) rows added (a new mapping)."""
    merged: Seen = {model: {at: set(ids) for at, ids in dates.items()}
                    for model, dates in seen.items()}
    for model, row_id, at in rows:
        merged.setdefault(model, {}).setdefault(at, set()).add(row_id)
    return merged


def prune(seen: Seen, since: str) -> Seen:
    """Only the rows stamped at/after `since`: older ones are outside every later window."""
    kept = {model: {at: ids for at, ids in dates.items() if at >= since}
            for model, dates in seen.items()}
    return {model: dates for model, dates in kept.items() if dates}


def runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ids as runs of consecutive ids, (first, last) each."""
    found: list[tuple[int, int]] = []
    for row_id in sorted(set(ids)):
        if found and row_id == found[-1][1] + 1:
            found[-1] = (found[-1][0], row_id)
        else:
            found.append((row_id, row_id))
    return found


def dumps(seen: Seen) -> str:
    """`seen` as JSON, ids as runs (an import's 20,000 rows take a few bytes)."""
    return json.dumps({model: {at: runs(ids) for at, ids in sorted(dates.items())}
                       for model, dates in sorted(seen.items())}, separators=(",", ":"))


def loads(text: str | None) -> Seen:
    """What `dumps` wrote; anything else is nothing seen (the next read reads the window again)."""
    try:
        document = json.loads(text or "{}")
        spans = [(str(model), str(at), int(first), int(last))
                 for model, dates in document.items() for at, pairs in dates.items()
                 for first, last in pairs]
    except (ValueError, TypeError, AttributeError):
        return {}
    # Our own file, but a state file can be damaged: no more ids than a listing may hold.
    if sum(last - first + 1 for _, _, first, last in spans) > MAX_LISTED_ROWS:
        return {}
    return remember({}, ((model, row_id, at) for model, at, first, last in spans
                         for row_id in range(first, last + 1)))
