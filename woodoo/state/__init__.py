"""Woodoo's state in SQLite: one database, a store per concern.

`State(path)` opens the database and holds the stores: `catalog` (the SKU map), `pushes` (the
journal, last pushed values, audit), `dead_letters`, `events` (the webhook queue), `orders`,
`runs` (runs, settings, drift history, health figures) and `commands` (handed to the daemon).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from woodoo.state.catalog import CatalogStore, ShopProduct
from woodoo.state.commands import CommandStore
from woodoo.state.database import Database
from woodoo.state.dead_letters import DeadLetter, DeadLetterStore
from woodoo.state.events import Claim, EventQueue, QueuedEvent
from woodoo.state.migrations import MIGRATIONS
from woodoo.state.orders import OrderStore
from woodoo.state.pushes import PushItem, PushStore
from woodoo.state.runs import RunStore

__all__ = [
    "MIGRATIONS", "CatalogStore", "Claim", "CommandStore", "Database", "DeadLetter",
    "DeadLetterStore", "EventQueue", "OrderStore", "PushItem", "PushStore", "QueuedEvent",
    "RunStore", "ShopProduct", "State",
]


class State:
    """The database and its stores; safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time,
                 synchronous: Literal["FULL", "NORMAL"] = "FULL") -> None:
        """Open (creating and migrating) the database; `synchronous` NORMAL only for benchmarks."""
        self.database = Database(path, clock=clock, synchronous=synchronous)
        self.catalog = CatalogStore(self.database)
        self.dead_letters = DeadLetterStore(self.database)
        self.pushes = PushStore(self.database, self.catalog, self.dead_letters)
        self.events = EventQueue(self.database)
        self.orders = OrderStore(self.database)
        self.runs = RunStore(self.database)
        self.commands = CommandStore(self.database)

    def close(self) -> None:
        """Close the database connection."""
        self.database.close()
