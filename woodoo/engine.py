"""The sync engine: from Odoo's figures to the shop's stock, pushing only what changed."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from structlog.stdlib import BoundLogger

from woodoo import log, rules
from woodoo.config import Config
from woodoo.gateways import window
from woodoo.gateways.odoo import OdooGateway, OdooProduct, shift
from woodoo.gateways.woocommerce import BatchOutcome, WooError, WooGateway, batches
from woodoo.lock import StateLock, process_token
from woodoo.mapping import Catalogs, MappingProblems
from woodoo.orders.backfill import BackfillError, OrderBackfill
from woodoo.orders.sync import STOCK_TAKEN, ShopOrder, quantities
from woodoo.read_ahead import read_ahead
from woodoo.state import PushItem, ShopProduct, State
from woodoo.web.metrics import Metrics

WATERMARK = "odoo_watermark"
WATERMARK_SEEN_AT = "odoo_watermark_seen_at"
WATERMARK_SEALED = "odoo_watermark_sealed"
WINDOW_SEEN = "odoo_window_seen"  # the overlap window's rows already read (gateways/window.py)
Progress = Callable[[str, int, int], None]  # (task, advance, total)
LISTED_CHUNK = 5000  # SKUs compared at a time after a full listing: bounds the memory a run takes


@dataclass(frozen=True)
class PlannedChange:
    """One SKU whose shop stock differs from what it should show, and why."""

    sku: str
    old: rules.ShownStock | None
    new: rules.ShownStock
    figure: float = 0.0  # Odoo's figure in the configured warehouses
    pending: int = 0  # shop orders Odoo does not have yet


@dataclass
class RunSummary:
    """What one poll or sync did."""

    kind: str
    run_id: str
    started: float = 0.0
    checked: int = 0
    changed: int = 0
    pushed: int = 0
    failed: int = 0
    skipped: int = 0
    duration: float = 0.0
    dry_run: bool = False
    changes: list[PlannedChange] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # SKU -> why its write failed
    error: str | None = None

    def counts(self) -> dict[str, int]:
        """The numbers worth logging and storing."""
        return {"checked": self.checked, "changed": self.changed, "pushed": self.pushed,
                "failed": self.failed}


class Engine:
    """Polls Odoo, applies the stock rules and writes the differences to WooCommerce."""

    def __init__(
        self, config: Config, state: State, odoo: OdooGateway, woo: WooGateway,
        *, clock: Callable[[], float] = time.time, metrics: Metrics | None = None,
        state_lock: StateLock | None = None, owner: str | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        # Crash leftovers are settled only while this lock is held: then whoever journaled them
        # is certainly dead. Without it (a dry run, a test) they are left alone.
        self.state_lock = state_lock
        # Written on every journal row this engine makes, so no one mistakes them for leftovers.
        self.owner = owner or process_token()
        self._recovered = False
        # Every read-then-push runs under this lock, so a push made from an older Odoo read can
        # never land after one made from a newer read (webhooks and polls run in parallel).
        self.lock = threading.RLock()
        self.state = state
        self.odoo = odoo
        self.woo = woo
        self.clock = clock
        self.policy = config.sync.policy()
        self.log = log.get("woodoo.engine")
        # Set when orders are enabled: shop orders whose event has not arrived, read from the
        # shop before any run that could otherwise show their sold units again.
        self.backfill: OrderBackfill | None = None
        # The overlap window's rows the last complete poll read (loaded from the state at the
        # first poll): the next poll asks Odoo only for rows not among them.
        self._seen: window.Seen | None = None

    # -- entry points ----------------------------------------------------------------------------

    def poll(self, progress: Progress | None = None) -> RunSummary:
        """One scheduled poll: a delta read since the watermark (a full read the first time)."""
        with self._run("poll") as summary:
            self.recover(summary.run_id)
            self._backfill(required=False)
            watermark = self.state.runs.get_meta(WATERMARK)
            if watermark is None:
                # The first poll reads both sides in full and compares with what the shop shows.
                newest = self.odoo.newest_write()
                seen = self._window_rows(newest)
                with self._read_catalogs(progress, write=True) as catalogs:
                    complete = self._sync_listed(catalogs, summary, source="poll",
                                                 progress=progress, dry_run=False)
            else:
                if self.state.catalog.size() == 0:
                    self.refresh_index(progress)
                since = self._delta_start(watermark)
                seen = window.prune(self._seen_rows(), since)
                # Within the overlap Odoo answers only rows not read before at their write date
                # (woodoo/gateways/window.py): nothing, when nothing is new, however many rows
                # the window holds; a late commit is a row not read before.
                delta = self.odoo.changed_since(since, seen)
                newest = delta.newest
                wanted = {product for _, product in delta.writes.values()}
                wanted |= self._dead_letter_retries()
                read = [(model, row, at) for (model, row), (at, _) in delta.writes.items()]
                if since > watermark:  # sealed: only what is newer, a few rows at most
                    products = self.odoo.read_products(wanted, written_since=since)
                else:
                    written = self.odoo.products_written_since(since, seen)
                    wanted |= set(written)
                    read += [("product.product", pid, at) for pid, at in written.items()]
                    products = self.odoo.read_products(wanted) if wanted else []
                seen = window.remember(seen, read)
                complete = self._sync(products, summary, source="poll", progress=progress)
            if complete:
                self._advance_watermark(watermark, newest, read_started=summary.started)
                self.metrics.last_successful_poll.set(self.clock())
                self._keep_seen(seen)
        return summary

    def sync(
        self, *, full: bool = False, dry_run: bool = False, skus: Iterable[str] | None = None,
        progress: Progress | None = None,
    ) -> RunSummary:
        """On demand: `full` re-reads the whole shop and compares with what it shows now."""
        with self._run("sync", dry_run=dry_run, full=full) as summary:
            if not dry_run:
                self.recover(summary.run_id)
                if full:
                    self._backfill(required=True)
            wanted = set(skus or ())
            newest = self.odoo.newest_write() if not wanted else None
            # Read before the figures, so that each row read is in them: when this run sets the
            # watermark, the daemon's next poll need not read the window's rows again.
            first = not dry_run and self.state.runs.get_meta(WATERMARK) is None
            seen = self._window_rows(newest) if first else {}
            if full:
                with self._read_catalogs(progress, write=not dry_run) as catalogs:
                    if wanted:
                        self._warn_unknown(catalogs.keep_odoo(wanted), summary.run_id)
                    complete = self._sync_listed(catalogs, summary, source="sync",
                                                 progress=progress, dry_run=dry_run)
            else:
                if self.state.catalog.size() == 0 and not dry_run:
                    self.refresh_index(progress)
                products = self.odoo.read_products()
                if wanted:
                    products = [p for p in products if p.sku in wanted]
                    self._warn_unknown(wanted - {p.sku for p in products}, summary.run_id)
                complete = self._sync(products, summary, source="sync", progress=progress,
                                      dry_run=dry_run)
            if complete and first and self.state.runs.get_meta(WATERMARK) is None:
                self._advance_watermark(None, newest, read_started=summary.started)
                self._keep_seen(seen)
        return summary

    def push_products(self, product_ids: Iterable[int], skus: Iterable[str], *,
                      source: str) -> RunSummary:
        """Read these products from Odoo now and push what differs (for webhook events)."""
        with self._run(source) as summary:
            self.recover(summary.run_id)
            products = self.odoo.read_products(product_ids, skus=skus)
            self._sync(products, summary, source=source, progress=None)
        return summary

    @contextmanager
    def _run(self, kind: str, *, dry_run: bool = False, **fields: object) -> Iterator[RunSummary]:
        """One run under the engine lock: summary, logging and the runs table."""
        summary = RunSummary(kind, _run_id(), dry_run=dry_run)
        bound = self.log.bind(run_id=summary.run_id, kind=kind, dry_run=dry_run, **fields)
        with self.lock:
            summary.started = self.clock()
            try:
                yield summary
            except Exception as error:
                summary.error = str(error)
                raise
            finally:
                self._finish(summary, bound, record=not dry_run)

    def refresh_index(self, progress: Progress | None = None) -> None:
        """Read every shop product and variation and store them as the SKU map."""
        with self._read_catalogs(progress, write=True, odoo=False):
            pass

    def reconcile(self, *, dry_run: bool, progress: Progress | None = None,
                  ) -> tuple[RunSummary, MappingProblems, dict[str, str]]:
        """Read both sides in full, compare with what the shop shows now, and (unless
        `dry_run`) write every difference; returns the run, how the catalogs line up, and the
        shop's names of the SKUs that drifted."""
        with self._run("reconcile", dry_run=dry_run) as summary:
            if not dry_run:
                self.recover(summary.run_id)
                self._backfill(required=True)
            with self._read_catalogs(progress, write=not dry_run) as catalogs:
                self._sync_listed(catalogs, summary, source="reconcile", progress=progress,
                                  dry_run=dry_run)
                problems = catalogs.problems()
                names = catalogs.names(change.sku for change in summary.changes)
        return summary, problems, names

    @contextmanager
    def _read_catalogs(self, progress: Progress | None, *, write: bool,
                       odoo: bool = True) -> Iterator[Catalogs]:
        """Both sides read in full, side by side (the shop's listing stored as the SKU map
        unless `write` is off)."""
        def advance(step: int, total: int) -> None:
            if progress:
                progress("index", step, total)

        with Catalogs(self.config.sync.exclude_skus, self.config.sync.skus) as catalogs, \
                ExitStack() as reading:
            odoo_pages = (reading.enter_context(read_ahead(self.odoo.product_pages(), "odoo"))
                          if odoo else None)
            catalogs.add_shop(self.woo.item_pages(advance))
            self._shared_skus(catalogs.shared_shop(), "WooCommerce",
                              "give each its own SKU in the shop", "index", write=write)
            if write:
                self.state.catalog.replace(catalogs.shop_products())
            if odoo_pages is not None:
                catalogs.add_odoo(odoo_pages)
            yield catalogs

    def _backfill(self, *, required: bool) -> None:
        """Bring the shop's orders the daemon lacks (when due, or always when `required`).

        Required before a full comparison that corrects the shop: a figure lowered by an order
        Woodoo has not seen would otherwise be "corrected" back up. A poll goes on without it
        (and the next one tries again): it writes only what changed in Odoo.
        """
        if self.backfill is None or not (required or self.backfill.due()):
            return
        try:
            self.backfill.run()
        except BackfillError as error:
            if required:
                raise BackfillError(f"{error}; nothing corrected, as orders missing from "
                                    f"Woodoo would make the shop show units it has sold") from error
            self.log.error("order backfill failed; the next poll tries again", error=str(error))

    def recover(self, run_id: str) -> None:
        """Settle pushes a dead process left unconfirmed: keep what the shop applied, re-send the rest.

        Only under the state lock, and never this process's own rows: those are pushes in flight
        on another thread (a webhook batch during a poll), and taking them would send them twice.
        Once others' leftovers are settled, no new ones can appear while the lock is held, so
        this runs (successfully) once per process.
        """
        if self._recovered or self.state_lock is None or not self.state_lock.held:
            return
        leftovers = self.state.pushes.unfinished(not_owned_by=self.owner)
        if not leftovers:
            self._recovered = True
            return
        # One SKU may sit in several batches (a poll's and a webhook's): rows come oldest first,
        # and the newest is what the dead process meant the shop to show, so only it is re-sent.
        journaled: dict[str, list[tuple[str, PushItem]]] = {}
        for batch_id, item, _, _ in leftovers:
            journaled.setdefault(item.sku, []).append((batch_id, item))
        shown = self.woo.current_stock([rows[-1][1] for rows in journaled.values()])
        confirmed: dict[str, list[PushItem]] = {}
        resend: list[PushItem] = []
        for sku, rows in journaled.items():
            quantity, _ = shown.get(sku, (None, ""))
            if rows[-1][1].quantity != quantity:
                resend.append(rows[-1][1])
            # The newest row the shop shows is the write it applied last: recorded once.
            applied = next(((b, i) for b, i in reversed(rows) if i.quantity == quantity), None)
            if applied is not None:
                confirmed.setdefault(applied[0], []).append(applied[1])
        # Every batch settled once: its journal rows go, superseded ones recorded as nothing.
        for batch_id, source, correlation in dict.fromkeys((b, s, c) for b, _, s, c in leftovers):
            self.state.pushes.record_outcome(
                batch_id, confirmed.pop(batch_id, []), [], f"{source}+recovered", correlation
            )
        self.log.warning("recovered unfinished pushes", run_id=run_id, rows=len(leftovers),
                         confirmed=len(journaled) - len(resend), resent=len(resend))
        if resend:
            self._push(resend, source="recovery", run_id=run_id,
                       summary=RunSummary("recovery", run_id))
        self._recovered = True

    # -- the watermark ---------------------------------------------------------------------------

    def _window_rows(self, newest: str | None) -> window.Seen:
        """The rows of the window the watermark `newest` opens, read before a full read of the
        figures (which then reflect each of them): what the next poll need not read again."""
        if newest is None:
            return {}
        since = shift(newest, -self.config.sync.delta_overlap)
        delta = self.odoo.changed_since(since)
        written = self.odoo.products_written_since(since)
        return window.remember({}, [
            *((model, row, at) for (model, row), (at, _) in delta.writes.items()),
            *(("product.product", pid, at) for pid, at in written.items())])

    def _seen_rows(self) -> window.Seen:
        """The window's rows read by the last complete poll (or full read), of any process."""
        if self._seen is None:
            self._seen = window.loads(self.state.runs.get_meta(WINDOW_SEEN))
        return self._seen

    def _keep_seen(self, seen: window.Seen) -> None:
        """Remember the window's rows read, in the state too (a daemon started after `woodoo
        sync --full` starts from them); stored only when they changed."""
        if seen != self._seen:
            self.state.runs.set_meta(WINDOW_SEEN, window.dumps(seen))
        self._seen = seen

    def _delta_start(self, watermark: str) -> str:
        """Where a delta read starts: `delta_overlap` before the watermark, until that is safe.

        Odoo stamps a write with its transaction's start time, so a transaction that commits late
        writes rows older than what we have already seen: we re-read the overlap. Once a read
        has been made `delta_overlap` seconds (by our clock) after the watermark was first seen,
        every transaction stamped at or before it has committed (if none ran longer than the
        overlap) and was read: from then on only what is newer is read, so that a quiet shop's
        polls stop re-reading the last burst of writes. The second after, because RPC dates are
        truncated to seconds.
        """
        if self.state.runs.get_meta(WATERMARK_SEALED) == watermark:
            return shift(watermark, 1)
        return shift(watermark, -self.config.sync.delta_overlap)

    def _advance_watermark(self, watermark: str | None, newest: str | None, *,
                           read_started: float) -> None:
        """After a complete poll: move to the newest write seen, or seal the current one."""
        now = self.clock()
        if newest and (watermark is None or newest > watermark):
            with self.state.database.atomic():
                self.state.runs.set_meta(WATERMARK, newest)
                self.state.runs.set_meta(WATERMARK_SEEN_AT, repr(now))
            return
        if watermark is None:
            return
        seen_at = float(self.state.runs.get_meta(WATERMARK_SEEN_AT) or 0)
        if read_started - seen_at >= self.config.sync.delta_overlap:
            self.state.runs.set_meta(WATERMARK_SEALED, watermark)

    # -- the core --------------------------------------------------------------------------------

    def _sync(
        self, products: list[OdooProduct], summary: RunSummary, *, source: str,
        progress: Progress | None, dry_run: bool = False, again: bool = False,
    ) -> bool:
        """Compare with what was last pushed (or, never pushed, with what the SKU map last saw)
        and push what differs; True when every remote call went through."""
        products = self._usable(products, write=not dry_run)
        shop = self._shop_products(products, write=not dry_run)
        if not again:
            summary.checked = len(products)
        to_push = self._plan(products, shop, self.state.pushes.last_pushed(shop), summary,
                             dry_run=dry_run)
        return self._write(to_push, {p.sku: p for p in products}, summary, source=source,
                           progress=progress, dry_run=dry_run, again=again)

    def _sync_listed(self, catalogs: Catalogs, summary: RunSummary, *, source: str,
                     progress: Progress | None, dry_run: bool) -> bool:
        """Compare with what the shop shows now (a full listing), a chunk of SKUs at a time, and
        push what differs; True when every remote call went through."""
        write = not dry_run
        self._shared_skus(catalogs.shared_odoo(), "Odoo",
                          "give each its own internal reference in Odoo", "odoo", write=write)
        shared_in_shop = {sku for sku, _ in catalogs.shared_shop()}
        to_push: list[PushItem] = []
        planned: dict[str, OdooProduct] = {}
        for chunk in catalogs.matched(LISTED_CHUNK):
            summary.checked += len(chunk)
            products = [product for product, _ in chunk]
            shop = {product.sku: entry for product, entry in chunk if entry is not None}
            self._report_missing([p for p in products
                                  if p.sku not in shop and p.sku not in shared_in_shop], write=write)
            pushes = self._plan(products, shop, {}, summary, dry_run=dry_run)
            to_push += pushes
            by_sku = {product.sku: product for product in products}
            planned |= {item.sku: by_sku[item.sku] for item in pushes}
        return self._write(to_push, planned, summary, source=source, progress=progress,
                           dry_run=dry_run, again=False)

    def _warn_unknown(self, skus: Iterable[str], run_id: str) -> None:
        """Log SKUs asked for by name that no storable Odoo product has."""
        for sku in sorted(skus):
            self.log.warning("sku not in odoo", sku=sku, run_id=run_id,
                             reason="no storable Odoo product has this SKU")

    def _plan(self, products: list[OdooProduct], shop: dict[str, ShopProduct],
              baseline: dict[str, rules.ShownStock], summary: RunSummary, *,
              dry_run: bool) -> list[PushItem]:
        """The writes these products need: the stock to show where it differs from `baseline`
        (or, with none for an SKU, from what its shop entry shows); noted in `summary`."""
        if not dry_run:
            self.state.catalog.link_odoo_ids({p.sku: p.id for p in products if p.sku in shop})
        pending = self.state.orders.pending_by_sku(shop)
        to_push: list[PushItem] = []
        for product in products:
            entry = shop.get(product.sku)
            if entry is None or not entry.manage_stock:
                summary.skipped += 1
                continue
            new = rules.stock_to_show(product.figure, pending.get(product.sku, 0), entry.backorders,
                                      self.policy)
            old = baseline.get(product.sku)
            if old is None and entry.quantity is not None:
                old = rules.ShownStock(entry.quantity, entry.status)  # type: ignore[arg-type]
            if old == new:
                continue
            summary.changes.append(PlannedChange(product.sku, old, new, product.figure,
                                                 pending.get(product.sku, 0)))
            to_push.append(PushItem(product.sku, entry.woo_id, entry.parent_id, new.quantity,
                                    new.status, product.id))
        return to_push

    def _write(self, to_push: list[PushItem], products: dict[str, OdooProduct],
               summary: RunSummary, *, source: str, progress: Progress | None, dry_run: bool,
               again: bool) -> bool:
        """Push the planned writes; SKUs whose shop stock moved under us are computed again once
        (`products` has their Odoo figures). True when every remote call went through."""
        if not again:
            summary.changed = len(to_push)
        if dry_run or not to_push:
            return True
        complete, conflicted = self._push(to_push, source=source, run_id=summary.run_id,
                                          summary=summary, progress=progress)
        if conflicted and not again:
            # The shop's stock moved under us (a checkout whose order event is on its way): the
            # drop is now held back, so a second computation writes Odoo minus that drop.
            retry = [products[sku] for sku in sorted(conflicted)]
            # What gets written for them is what the second computation says.
            summary.changes = [c for c in summary.changes if c.sku not in conflicted]
            return self._sync(retry, summary, source=source, progress=None, again=True) and complete
        for sku in conflicted:
            summary.failures[sku] = "the shop's stock kept changing while Woodoo wrote it"
        return complete

    def _push(
        self, items: list[PushItem], *, source: str, run_id: str, summary: RunSummary,
        progress: Progress | None = None,
    ) -> tuple[bool, set[str]]:
        """Journal, send and record; returns (every call went through, SKUs in conflict)."""
        path = self.woo.write_path()
        planned = list(batches(items, path.batch_size if path.bulk else self.config.sync.batch_size))
        batch_ids = {id(batch): f"{run_id}-{n}" for n, batch in enumerate(planned, start=1)}
        for batch in planned:
            self.state.pushes.journal(batch_ids[id(batch)], batch, source, run_id, owner=self.owner)
        expected = None
        # The bulk route compares and sets like the conditional route: it needs what we saw.
        if self.config.woocommerce.conditional_writes or path.bulk:
            known = self.state.catalog.products(i.sku for i in items)
            expected = {sku: product.quantity for sku, product in known.items()}
        complete = True
        conflicted: set[str] = set()
        for batch, outcome in self.woo.push_all(planned, expected):
            batch_id = batch_ids[id(batch)]
            if isinstance(outcome, WooError):
                complete = False
                reason = f"{outcome} (gave up after {self.config.sync.retries} retries)"
                outcome = BatchOutcome([], [(item, reason) for item in batch])
            self.state.pushes.record_outcome(batch_id, outcome.applied, outcome.failed, source, run_id)
            for sku in outcome.stale_skus:
                # The shop no longer knows this id (product deleted or recreated): look it up anew.
                self.state.catalog.forget(sku)
            for item, current in outcome.conflicts:
                conflicted.add(item.sku)
                self._conflict(item, (expected or {}).get(item.sku), current, run_id)
            summary.pushed += len(outcome.applied)
            summary.failed += len(outcome.failed)
            self.metrics.pushes.labels(source).inc(len(outcome.applied))
            self.metrics.push_failures.labels(source).inc(len(outcome.failed))
            for item, reason in outcome.failed:
                summary.failures[item.sku] = reason
                self.log.error("push failed", run_id=run_id, batch_id=batch_id, sku=item.sku,
                               reason=reason)
            if progress:
                progress("push", len(batch), len(items))
        return complete, conflicted

    def _conflict(self, item: PushItem, expected: int | None, current: int | None,
                  run_id: str) -> None:
        """The shop no longer showed what we expected: learn what it shows, hold back a drop."""
        # Orders that reached us after we last learnt the shop's figure explain that much of
        # the drop already (they are pending): only the rest is unexplained.
        explained = sum(
            quantities(ShopOrder.model_validate(row["payload"])).get(item.sku, 0)
            for row in self.state.orders.received_after(self.state.catalog.seen_at(item.sku) or 0)
            if row["status"] in STOCK_TAKEN)
        self.state.catalog.note_shop_quantity(item.sku, current)
        # A figure emptied by hand or by an import says nothing of what was sold.
        drop = 0 if current is None else (expected or 0) - current - explained
        if drop > 0:
            hold = self.config.woocommerce.unexplained_hold_minutes * 60
            self.state.orders.hold_unexplained(item.sku, drop, self.clock() + hold)
        self.log.warning("shop stock moved under us", run_id=run_id, sku=item.sku,
                         expected=expected, current=current, held_back=max(drop, 0))

    def _usable(self, products: list[OdooProduct], *, write: bool) -> list[OdooProduct]:
        """Drop excluded SKUs, SKUs outside `sync.skus`, and SKUs that several Odoo products
        share (which one is true?)."""
        excluded = set(self.config.sync.exclude_skus)
        in_scope = rules.sku_scope(self.config.sync.skus)
        products = [p for p in products if in_scope(p.sku)]
        shared = self._shared_skus(
            [(p.sku, p.id) for p in products if p.sku not in excluded], "Odoo",
            "give each its own internal reference in Odoo", "odoo", write=write)
        return [p for p in products if p.sku not in excluded and p.sku not in shared]

    def _shared_skus(self, skus_and_ids: list[tuple[str, int]], side: str, fix: str, source: str,
                     *, write: bool) -> set[str]:
        """SKUs that several records of one side share: logged, dead-lettered, to be skipped."""
        counts = Counter(sku for sku, _ in skus_and_ids)
        shared = {sku for sku, seen in counts.items() if seen > 1}
        for sku in sorted(shared):
            ids = ", ".join(str(i) for s, i in skus_and_ids if s == sku)
            self.log.warning("duplicate sku", side=side, sku=sku, ids=ids)
            if write:
                self.state.dead_letters.add(
                    sku, f"SKU {sku} is used by several {side} products (ids {ids}); {fix}", source)
        return shared

    def _shop_products(self, products: list[OdooProduct], *,
                       write: bool = True) -> dict[str, ShopProduct]:
        """The shop entries for these SKUs, looking up SKUs the map does not know yet (and
        remembering what was found unless `write` is off: a dry run runs without the lock)."""
        known = self.state.catalog.products(p.sku for p in products)
        unknown = [p for p in products if p.sku not in known]
        if not unknown:
            return known
        recheck_after = self.clock() - self.config.sync.sku_recheck_interval
        absent = self.state.catalog.absent_since(p.sku for p in unknown)
        to_look_up = [p for p in unknown if absent.get(p.sku, 0) <= recheck_after]
        if not to_look_up:
            return known
        found = self.woo.lookup(p.sku for p in to_look_up)
        counts = Counter(i.sku for i in found)
        unique = [i.as_product() for i in found if counts[i.sku] == 1]
        if write:
            self.state.catalog.remember(unique)
        known.update({p.sku: p for p in unique})
        self._report_missing([p for p in to_look_up if p.sku not in counts], write=write)
        return known

    def _report_missing(self, products: list[OdooProduct], *, write: bool) -> None:
        """Dead-letter Odoo products whose SKU the shop does not have."""
        if not write or not products:
            return
        self.state.catalog.mark_absent(p.sku for p in products)
        for product in products:
            self.state.dead_letters.add(
                product.sku, f"SKU {product.sku} could not be found in WooCommerce", "lookup",
                {"odoo_id": product.id},
            )

    def _dead_letter_retries(self) -> set[int]:
        """Odoo ids of dead-lettered pushes due for another try, backing off per attempt.

        SKUs missing from the shop are not retried here: they are looked up again after
        `sync.sku_recheck_interval`, or at the next full sync.
        """
        now = self.clock()
        interval = self.config.sync.poll_interval
        return {
            letter.odoo_id
            for letter in self.state.dead_letters.open()
            if letter.odoo_id and letter.source != "lookup"
            and now >= letter.last_attempt_at + min(interval * 2 ** (letter.attempts - 1), 3600)
        }

    def _finish(self, summary: RunSummary, bound: BoundLogger, *, record: bool) -> None:
        summary.duration = self.clock() - summary.started
        if record:
            self.state.runs.record(summary.kind, summary.run_id, summary.started,
                                   error=summary.error, **summary.counts())
        event = "run failed" if summary.error else "run finished"
        (bound.error if summary.error else bound.info)(
            event, duration_ms=round(summary.duration * 1000), skipped=summary.skipped,
            error=summary.error, **summary.counts(),
        )


def _run_id() -> str:
    return uuid.uuid4().hex[:12]
