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
    # Drifted SKUs per night (the store's days, oldest first, tonight last), for the chart.
    drift_nights: list[tuple[str, int]] = field(default_factory=list)
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


def plural(count: int, one: str, many: str | None = None) -> str:
    """`count` and the noun that agrees with it: "1 SKU", "2 SKUs", "1,200 orders"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The value at `fraction` (0..1) of already sorted values, nearest rank; None when empty."""
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


UNUSUAL_FACTOR = 2  # tonight's drift is unusual above this many times the usual (the median)
MIN_NIGHTS = 5  # fewer nights than this say nothing about what is usual


def unusual_drift(report: ReconcileReport) -> str | None:
    """Tonight's drift in words when it is unusual for this shop, with its likeliest cause (pure).

    Usual is the median of the nights before; a cause is read from the other findings, in the
    order that explains most drift in practice.
    """
    earlier = sorted(count for _, count in report.drift_nights[:-1])
    tonight = len(report.drift)
    if len(earlier) < MIN_NIGHTS or tonight == 0:
        return None
    usual = earlier[len(earlier) // 2]
    if tonight <= max(UNUSUAL_FACTOR * usual, 1):
        return None
    repeat = {sku for sku, _ in report.repeat_drifters}
    recurring = sum(1 for d in report.drift if d.sku in repeat)
    if recurring * 2 >= tonight:
        cause = (f"{recurring:,} of them {'drifts' if recurring == 1 else 'drift'} night after "
                 f"night: someone edits stock in the shop "
                 f"by hand, or an order path bypasses the plugin")
    elif report.stuck_orders:
        stuck = len(report.stuck_orders)
        cause = (f"{plural(stuck, 'order')} {'is' if stuck == 1 else 'are'} stuck pending on "
                 f"{'its' if stuck == 1 else 'their'} way to Odoo")
    elif report.backfill_found:
        found = len(report.backfill_found)
        cause = (f"the events of {plural(found, 'order')} never reached the daemon: check the "
                 f"plugin (daemon URL, events secret)")
    elif report.dead_letters:
        given_up = len(report.dead_letters)
        cause = (f"{plural(given_up, 'stock update')} {'was' if given_up == 1 else 'were'} "
                 f"given up (dead letters)")
    else:
        cause = "no pattern in the other findings: look at the drifted SKUs' history (woodoo audit)"
    return (f"Tonight's drift ({plural(tonight, 'SKU')}) is unusual for this shop: more than "
            f"{UNUSUAL_FACTOR}x the usual {usual:,} a night. Likeliest cause: {cause}.")
