"""The nightly reconciliation: read both sides in full, correct drift, and say what else is wrong."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from woodoo import log
from woodoo.config import Config
from woodoo.engine import Engine, Progress
from woodoo.reporting import mail, report
from woodoo.reporting.findings import Drift, Health, ReconcileReport, percentile

LAST_RUN = "reconcile_last_run"
LAST_DRIFT = "reconcile_last_drift"
DRIFT_NIGHTS = 30  # the report's chart  # what the last reconciliation found, for the alerts
REPEAT_WINDOW_DAYS = 7


def run_reconciliation(engine: Engine, *, dry_run: bool = False,
                       progress: Progress | None = None) -> ReconcileReport:
    """Compare both sides in full, correct drift (unless dry run or report-only), gather findings."""
    config = engine.config
    settings = config.reconciliation
    zone = ZoneInfo(settings.timezone)
    report_only = dry_run or not settings.correct
    found = ReconcileReport(run_id="", started_at=engine.clock(), finished_at=0,
                             timezone=settings.timezone, dry_run=dry_run, correct=settings.correct)
    day = datetime.fromtimestamp(found.started_at, zone).date()
    try:
        summary, problems, names = engine.reconcile(dry_run=report_only, progress=progress)
        found.run_id = summary.run_id
        found.checked = summary.checked
        found.drift = [
            Drift(
                sku=c.sku, name=names.get(c.sku, ""),
                shop_before=c.old.quantity if c.old else None,
                shop_status_before=c.old.status if c.old else "",
                odoo_figure=c.figure, pending=c.pending, should_show=c.new.quantity,
                shop_after=None if report_only or c.sku in summary.failures else c.new.quantity,
                error=summary.failures.get(c.sku),
            )
            for c in summary.changes
        ]
        found.shop_only, found.odoo_only = problems.shop_only, problems.odoo_only
        found.duplicate_shop, found.duplicate_odoo = problems.duplicate_shop, problems.duplicate_odoo
        found.unmanaged = problems.unmanaged
        if not dry_run:
            engine.state.runs.record_drift(found.run_id, [d.sku for d in found.drift], day.isoformat())
            units = sum(abs(d.should_show - (d.shop_before or 0)) for d in found.drift)
            engine.state.runs.set_meta(LAST_DRIFT, json.dumps(
                {"items": len(found.drift), "units": units, "at": found.started_at}))
    except Exception as error:  # the report must still go out, saying what broke
        found.failures.append(f"the reconciliation could not finish: {error}")
    state = engine.state
    found.dead_letters = [
        {"sku": d.sku, "reason": d.reason, "attempts": d.attempts, "since": d.created_at}
        for d in state.dead_letters.open()]
    found.failed_events = [
        {"event_id": e["event_id"], "source": e["source"], "reason": e["last_error"],
         "attempts": e["attempts"], "since": e["failed_at"]}
        for e in state.events.failed()]
    found.orders_attention = [
        {"number": o["number"], "status": o["status"], "reason": o["attention"]}
        for o in state.orders.needing_attention()]
    stuck_before = found.started_at - config.orders.stuck_after_hours * 3600
    found.stuck_orders = [
        {"number": o["number"], "status": o["status"], "skus": o["skus"],
         "age_hours": round((found.started_at - o["received_at"]) / 3600, 1),
         "last_error": o["last_error"]}
        for o in state.orders.stuck(stuck_before)]
    since_day = (day - timedelta(days=REPEAT_WINDOW_DAYS - 1)).isoformat()
    found.repeat_drifters = state.runs.repeat_drifters(since_day)
    found.drift_nights = _drift_nights(state.runs.finished("reconcile", found.started_at
                                                          - DRIFT_NIGHTS * 86400), zone, day,
                                       len(found.drift))
    found.health = _health(state.runs.health(found.started_at - 86400))
    found.backfill_found = state.orders.found_by_backfill(found.started_at - 86400)
    found.finished_at = engine.clock()
    return found


def _drift_nights(runs: list[tuple[float, int]], zone: ZoneInfo, today: date,
                  tonight: int) -> list[tuple[str, int]]:
    """Drifted SKUs per night over the last DRIFT_NIGHTS days, tonight last: each night the most
    one run found (the report's chart explains why the maximum), tonight at least this run's."""
    by_day: dict[date, int] = {today: tonight}
    for started, changed in runs:
        day = datetime.fromtimestamp(started, zone).date()
        by_day[day] = max(by_day.get(day, 0), changed)
    first = today - timedelta(days=DRIFT_NIGHTS - 1)
    return [(day.isoformat(), count) for day, count in sorted(by_day.items()) if day >= first]


def _health(figures: dict[str, Any]) -> Health:
    latencies = figures["latencies"]
    return Health(
        polls=figures["polls"], polls_failed=figures["polls_failed"],
        webhook_events=figures["webhook_events"], pushes=figures["pushes"],
        push_failures=figures["push_failures"],
        latency_p50=percentile(latencies, 0.50), latency_p95=percentile(latencies, 0.95),
        queue_depth=figures["queue_depth"], last_backfill=figures["last_backfill"],
        backfill_failures=figures["backfill_failures"],
    )


def reconcile_and_report(engine: Engine, *, dry_run: bool = False, email: bool = True,
                         progress: Progress | None = None) -> tuple[ReconcileReport, dict[str, Path],
                                                                    tuple[bool, str]]:
    """Run, save the report (always first), then email it; never loses the report."""
    config = engine.config
    result = run_reconciliation(engine, dry_run=dry_run, progress=progress)
    rendered = report.render(result, shop_name=config.shop_name)
    saved = report.save(rendered, result, reports_directory(config))
    sent = (False, "not sent (--no-email)")
    if email and config.smtp.host and config.smtp.recipients:
        sent = report.send(rendered, mail.settings(config.smtp), filename=saved["csv"].name)
    elif email:
        sent = (False, "not sent: no smtp.host or smtp.recipients in the config")
    if not dry_run:
        engine.state.runs.set_meta(LAST_RUN, repr(result.started_at))
    log.get("woodoo.reporting.reconcile").info(
        "reconciliation finished", run_id=result.run_id, checked=result.checked,
        drifted=len(result.drift), corrected=result.corrected,
        needs_attention=result.needs_attention, report=str(saved["html"]), emailed=sent[0],
        email_note=sent[1])
    return result, saved, sent


def reports_directory(config: Config) -> Path:
    """Where reports are saved: `reports/` beside the state database."""
    return config.state.path.parent / "reports"


def trigger(config: Config) -> CronTrigger:
    """The schedule as an APScheduler trigger in the store's time zone."""
    settings = config.reconciliation
    return CronTrigger.from_crontab(settings.schedule, timezone=ZoneInfo(settings.timezone))


def missed_run(schedule: CronTrigger, last_run: float | None, now: datetime,
               grace_hours: float) -> datetime | None:
    """The latest scheduled time within the grace period that has not run yet, if any."""
    if last_run is None:
        return None
    moment = now - timedelta(hours=grace_hours)
    latest = None
    fire = schedule.get_next_fire_time(None, moment)
    while fire is not None and fire <= now:
        latest = fire
        fire = schedule.get_next_fire_time(fire, fire + timedelta(seconds=1))
    if latest is not None and last_run < latest.timestamp():
        return latest
    return None
