"""The root of Woodoo's errors: each says what went wrong in words, for a person to act on.

Under `WoodooError` sit the remote errors (Odoo, WooCommerce: `retry.RemoteError`), the
config and set-up errors (a list of problems, each naming its key), signatures, secrets, the
state lock and the order backfill. The command line and the daemon catch this one base class;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class WoodooError(Exception):
    """A failure Woodoo explains in words (never a bug)."""


class ProblemsError(WoodooError):
    """Several problems found at once (config, Odoo set-up); one line each, naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
