"""What a reconciliation found: the data its report is rendered from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Drift:
    """One SKU whose shop stock differed from what it should show."""

    sku: str
    name: str
    shop_before: int | None
    shop_status_before: str
    odoo_figure: float
    pending: int
    should_show: int
    shop_after: int | None  # None when not corrected (dry run, correction off, or it failed)
    error: str | None = None  # why the correction failed, if it did


@dataclass
class Health:
    """The day's sync health (the 24 hours before the run)."""

    polls: int = 0
    polls_failed: int = 0
    webhook_events: dict[str, int] = field(default_factory=dict)  # by source
    pushes: dict[str, int] = field(default_factory=dict)  # stock values written, by source
    push_failures: int = 0
    latency_p50: float | None = None  # seconds, Odoo event time -> shop write confirmed
    latency_p95: float | None = None
    queue_depth: int = 0
    last_backfill: float | None = None  # unix time of the last successful order backfill
    backfill_failures: int = 0  # order backfills that could not read the shop


@dataclass
class ReconcileReport:
    """Everything one reconciliation found; what the email, the saved files and the CLI show."""

    run_id: str
    started_at: float  # unix time
    finished_at: float
    timezone: str  # IANA name; times are shown in it
    dry_run: bool
    correct: bool  # reconciliation.correct: false means report only
    checked: int = 0
    drift: list[Drift] = field(default_factory=list)
    shop_only: list[str] = field(default_factory=list)  # SKUs Odoo does not track
    odoo_only: list[str] = field(default_factory=list)  # Odoo SKUs the shop does not have
    duplicate_shop: dict[str, list[int]] = field(default_factory=dict)  # SKU -> shop ids
    duplicate_odoo: dict[str, list[int]] = field(default_factory=dict)  # SKU -> Odoo ids
    unmanaged: list[str] = field(default_factory=list)  # "SKU (id N)" not managing stock
    dead_letters: list[dict[str, Any]] = field(default_factory=list)  # sku, reason, attempts, since
    # Incoming events set aside after their last try: event_id, source, reason, attempts, since
    failed_events: list[dict[str, Any]] = field(default_factory=list)
    orders_attention: list[dict[str, Any]] = field(default_factory=list)  # number, status, reason
    stuck_orders: list[dict[str, Any]] = field(default_factory=list)  # number, status, age_hours, skus
    repeat_drifters: list[tuple[str, int]] = field(default_factory=list)  # (SKU, nights in 7)
    failures: list[str] = field(default_factory=list)  # what went wrong with the run itself
    # Orders only the backfill brought (their events never arrived): number, status, received_at.
    # Handled already, so not a problem by itself; a steady stream means the event path is broken.
    backfill_found: list[dict[str, Any]] = field(default_factory=list)
    health: Health = field(default_factory=Health)

    @property
    def corrected(self) -> int:
        """How many drifted SKUs were corrected."""
        return sum(1 for d in self.drift if d.shop_after is not None)

    @property
    def needs_attention(self) -> bool:
        """True when a person should look: anything wrong that was not fixed automatically."""
        uncorrected = any(d.shop_after is None for d in self.drift)
        return bool(
            self.failures or uncorrected or self.duplicate_shop or self.duplicate_odoo
            or self.dead_letters or self.failed_events or self.orders_attention or self.stuck_orders
            or self.repeat_drifters or self.odoo_only or self.unmanaged
        )


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The value at `fraction` (0..1) of already sorted values, nearest rank; None when empty."""
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]
