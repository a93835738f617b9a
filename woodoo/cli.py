"""The `woodoo` command line: a thin layer over the library."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Any

import click

from woodoo import __version__, commands, daemon, log, secret, setup_answers, wizard
from woodoo import config as config_module
from woodoo.check import run_check
from woodoo.config import Config, ConfigError
from woodoo.engine import RunSummary
from woodoo.errors import ProblemsError, WoodooError
from woodoo.gateways.odoo import OdooGateway
from woodoo.gateways.odoo_setup import (
    PlannedAction,
    apply_webhooks,
    native_mode_warning,
    plan_pause,
    plan_resume,
    plan_webhooks,
)
from woodoo.lock import Holder, LockHeld, StateLock
from woodoo.progress import terminal_progress
from woodoo.reporting import alerts, reconcile, report
from woodoo.reporting.findings import plural
from woodoo.state import State
from woodoo.state.runs import FAILING_RUNS
from woodoo.web import peers

EXIT_CONFIG = 2
EXIT_REMOTE = 1
EXIT_INTERRUPTED = 130  # like a shell's Ctrl-C
DEFAULT_CONFIG = "woodoo.yaml"


def _load_config(path: str) -> Config:
    try:
        config = config_module.load(Path(path))
    except ConfigError as error:
        for problem in error.problems:
            click.echo(f"config error: {problem}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    log.configure(config.logging.level, config.logging.format, config.secret_values(),
                  shop=config.shop_name)
    return config


def _warn(config: Config) -> None:
    """Print what is allowed but unsafe in the config, one `warning:` line per key, on stderr."""
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)


def _handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn known failures into one clear line and the documented exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProblemsError as error:  # the config, or the config against Odoo
            for problem in error.problems:
                click.echo(f"config error: {problem}", err=True)
            raise SystemExit(EXIT_CONFIG) from None
        except WoodooError as error:  # remote, lock, signature...: said in words
            click.echo(f"error: {error}", err=True)
            raise SystemExit(EXIT_REMOTE) from None

    return wrapper


config_option = click.option(
    "-c", "--config", "config_path", default=lambda: os.environ.get("WOODOO_CONFIG", DEFAULT_CONFIG),
    show_default=f"$WOODOO_CONFIG or {DEFAULT_CONFIG}", help="Path of the YAML config.",
)

wait_option = click.option(
    "--wait", type=click.FloatRange(min=0), default=commands.WAIT_SECONDS, show_default=True,
    help="When a running daemon does it: how long to wait for its result, in seconds.",
)


@click.group()
@click.version_option(__version__, prog_name="woodoo")
def main() -> None:
    """Keep a WooCommerce shop's stock true to Odoo."""


def _answer_option(name: str, help_text: str, **kwargs: Any) -> Callable[[Any], Any]:
    flag, envvar = setup_answers.OPTIONS[name]
    return click.option(flag, name, envvar=envvar, show_envvar=True, help=help_text, **kwargs)


@main.command()
@click.argument("path", default=DEFAULT_CONFIG, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--interactive/--no-interactive", default=None,
              help="Ask the questions (default: when stdin is a terminal).")
@_answer_option("odoo_url", "Odoo server root URL.")
@_answer_option("odoo_database", "Odoo database (default: the only one Odoo lists).")
@_answer_option("odoo_user", "Odoo login of the user Woodoo acts as.")
@_answer_option("odoo_password", "Its password or API key (prefer the environment variable).")
@_answer_option("warehouses", "Warehouse code or name, repeatable (default: the only one).",
                multiple=True)
@_answer_option("stock_field", "free_qty (default), qty_available or virtual_available.")
@_answer_option("shop_url", "The shop's WordPress home URL.")
@_answer_option("consumer_key", "WooCommerce REST consumer key (prefer the environment variable).")
@_answer_option("consumer_secret", "WooCommerce REST consumer secret (prefer the environment "
                "variable).")
@click.option("--encrypt/--no-encrypt", "encrypt", default=None,
              help="Encrypt the secrets with a key file beside the config (default: encrypt; "
              "on a terminal each is asked).")
@_answer_option("daemon_url", "The daemon's public base URL as the shop and Odoo reach it "
                "(default: http://127.0.0.1:8765).")
@_answer_option("stock_secret", "The plugin's stock secret (default: made; prefer the "
                "environment variable).")
@_answer_option("events_secret", "The plugin's events secret (default: made).")
@_answer_option("odoo_webhook_secret", "The woodoo_webhook module's secret (default: the one "
                "Odoo has, else made).")
@_answer_option("native_token", "The URL token of Odoo's native webhook (default: made).")
@click.option("--orders/--no-orders", "orders", default=None,
              help="Take the shop's order events (default: on when the plugin is active).")
@click.option("--webhooks/--no-webhooks", "webhooks", default=None,
              help="Set up Odoo's automation rule after writing the config (default: asked on "
              "a terminal, else no).")
@click.option("--set-odoo-parameters/--no-set-odoo-parameters", "set_odoo_parameters",
              default=None, help="Set the module's woodoo_webhook.url and .secret through "
              "Odoo's API (default: asked on a terminal, else no: they are printed).")
@click.pass_context
def init(ctx: click.Context, path: str, force: bool, interactive: bool | None,
         **given: Any) -> None:
    """Write a config: guided on a terminal (or from the answers given as flags or environment),
    else the starter config with every key explained."""
    target = Path(path)
    answers = setup_answers.Answers(**{**given, "warehouses": list(given["warehouses"])})
    if interactive is None:
        interactive = sys.stdin.isatty()
    if target.exists() and not force and not (
            interactive and click.confirm(f"{target} exists; overwrite it?", default=False)):
        click.echo(f"{target} exists; use --force to overwrite it", err=True)
        raise SystemExit(EXIT_CONFIG)
    if not interactive and not answers.given():
        example = resources.files("woodoo").joinpath("data/woodoo.example.yaml").read_text()
        target.write_text(example)
        click.echo(f"wrote {target}; edit it, then run `woodoo check -c {target}`")
        return
    if not interactive and answers.missing():
        for missing in answers.missing():
            click.echo(f"error: missing {missing}; without a terminal every answer is given "
                       f"ahead (or run `woodoo init` on a terminal to be asked)", err=True)
        raise SystemExit(EXIT_CONFIG)
    log.configure("warning", "auto", answers.secrets())
    try:
        wizard.Wizard(answers, target, interactive=interactive).run()
    except wizard.SetupError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
    except (click.Abort, KeyboardInterrupt):
        click.echo("\nstopped; nothing was written", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    click.echo(f"\n$ woodoo check -c {target}")
    ctx.invoke(check, config_path=str(target))


@main.command()
@config_option
@_handled
def check(config_path: str) -> None:
    """Validate the config, connect to both sides and report SKU mapping problems."""
    config = _load_config(config_path)
    click.echo(f"config: {config_path} is valid")
    _warn(config)
    with daemon.open_engine(config, connect=False) as engine:
        report = run_check(engine.odoo, engine.woo, set(config.sync.exclude_skus),
                           config.sync.skus, config)
    if report.odoo_version:
        click.echo(f"odoo: version {report.odoo_version}, warehouses {', '.join(report.warehouses)}")
    if report.figures:
        click.echo(f"odoo stock figures: {report.figures}")
    if report.woocommerce_version:
        click.echo(f"woocommerce: version {report.woocommerce_version}")
        click.echo(f"stock is read and written through {report.write_path}.")
    # The whole product, one line each: how Odoo's changes arrive, the shop's order events,
    # and the plugin's bulk routes.
    for title, line in (("real-time path", report.realtime), ("order events", report.order_events),
                        ("bulk routes", report.bulk_routes)):
        if line:
            click.echo(f"{title}: {line}")
    _check_versions(config, report.errors)
    for problem in report.errors:
        click.echo(f"error: {problem}", err=True)
    if not report.ok:
        raise SystemExit(EXIT_REMOTE)
    problems = report.problems
    sections = [
        ("SKUs used by several Odoo products",
         [f"{s} (ids {', '.join(map(str, ids))})" for s, ids in problems.duplicate_odoo.items()]),
        ("SKUs used by several shop products",
         [f"{s} (ids {', '.join(map(str, ids))})" for s, ids in problems.duplicate_shop.items()]),
        ("Odoo SKUs the shop does not have", problems.odoo_only),
        ("shop SKUs Odoo does not have (left alone)", problems.shop_only),
        ("shop products that do not manage stock (left alone)", problems.unmanaged),
        ("variations without SKU (left alone)", problems.variations_without_sku),
    ]
    for title, rows in sections:
        if rows:
            click.echo(f"{title}: {len(rows)}")
            for row in rows[:50]:
                click.echo(f"  - {row}")
            if len(rows) > 50:
                click.echo(f"  ... and {len(rows) - 50} more")
    if problems.products_without_sku:
        click.echo(f"shop products without SKU (left alone): {problems.products_without_sku}")
    verdict = "no mapping problems" if not problems.count else (
        f"{plural(problems.count, 'mapping problem')} (warnings)")
    click.echo(f"check passed: {verdict}")


@main.command()
@config_option
@click.option("--full", is_flag=True, help="Re-read the whole shop and fix every difference.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--sku", "skus", multiple=True, help="Only these SKUs (repeatable).")
@wait_option
@_handled
def sync(config_path: str, full: bool, dry_run: bool, skus: tuple[str, ...], wait: float) -> None:
    """Sync once now and exit (a running daemon does it, when there is one)."""
    config = _load_config(config_path)
    args = {"full": full, "dry_run": dry_run, "skus": list(skus)}
    if dry_run:
        # Writes nothing (the engine's dry run keeps even lookups to itself), so it needs no
        # lock and never waits for the daemon.
        with daemon.open_engine(config) as engine, terminal_progress() as progress:
            result = commands.execute(engine, "sync", args, progress)
    else:
        result = _write_command(config, "sync", args, wait)
    summary = commands.summary_from_result(result)
    _print_summary(summary)
    if summary.failed:
        raise SystemExit(EXIT_REMOTE)


def _write_command(config: Config, name: str, args: dict[str, Any], wait: float) -> dict[str, Any]:
    """Run a write command here under the state lock, or hand it to the daemon that holds it.

    Either way the result is what `commands.execute` returns, so it prints the same.
    """
    lock = StateLock(config.state.path)
    try:
        lock.acquire(name)
    except LockHeld as held:
        if held.holder.command != "run":
            click.echo(f"error: {held}; try again when it has finished", err=True)
            raise SystemExit(EXIT_REMOTE) from None
        return _hand_off(config, held.holder, name, args, wait)
    local_only = name in ("orders-retry", "events-retry")  # state only: no remote to reach
    with lock, daemon.open_engine(config, lock=lock, connect=not local_only) as engine, \
            terminal_progress() as progress:
        return commands.execute(engine, name, args, progress)


def _hand_off(config: Config, holder: Holder, name: str, args: dict[str, Any],
              wait: float) -> dict[str, Any]:
    """Queue the command for the daemon, wait for its result; any other ending exits here."""
    state = State(config.state.path)
    try:
        command_id, wait_for_it = commands.hand_off(state.commands, holder, name, args, wait=wait)
        shown = name.replace("-", " ")  # orders-retry is `woodoo orders retry`
        click.echo(f"the daemon {holder} owns the state: handed `woodoo {shown}` to it "
                   f"(command {command_id}), waiting for its result", err=True)
        outcome = wait_for_it()
    finally:
        state.close()
    if outcome.how == "done" and outcome.result is not None:
        return outcome.result
    message, code = {
        "failed": (f"error: {outcome.error}", EXIT_REMOTE),
        "timeout": (f"the daemon has not finished it after {wait:g} s; it "
                    f"{'is running it' if outcome.started else 'keeps it queued'} and will "
                    f"still finish it (`woodoo status` shows its run)", EXIT_REMOTE),
        "cancelled": ("cancelled: the daemon had not started it, and will not", EXIT_INTERRUPTED),
        "left-running": ("the daemon has started it and will finish it (`woodoo status` shows "
                         "its run)", EXIT_INTERRUPTED),
        "daemon-gone": (("error: the daemon stopped while running it" if outcome.started else
                         "error: the daemon stopped before running it; nothing was done, "
                         "run the command again"), EXIT_REMOTE),
    }.get(outcome.how, (f"error: {outcome.error or outcome.how}", EXIT_REMOTE))
    click.echo(message, err=True)
    raise SystemExit(code)


def _print_summary(summary: RunSummary) -> None:
    verb = "would change" if summary.dry_run else "changed"
    for change in summary.changes:
        old = f"{change.old.quantity} {change.old.status}" if change.old else "unknown"
        click.echo(f"  {change.sku}: {old} -> {change.new.quantity} {change.new.status}")
    click.echo(
        f"{summary.checked} checked, {summary.changed} {verb}, {summary.pushed} pushed, "
        f"{summary.failed} failed, {summary.skipped} skipped ({summary.duration:.1f} s)"
    )


@main.command()
@config_option
@click.option("--run-for", type=float, default=None, help="Stop by itself after N seconds.")
@_handled
def run(config_path: str, run_for: float | None) -> None:
    """Run the daemon: poll on a schedule until stopped (SIGTERM or Ctrl-C)."""
    config = _load_config(config_path)
    _warn(config)  # in words on stderr; the daemon's log says it again
    try:
        daemon.run(config, run_for=run_for)
    except LockHeld as held:
        click.echo(f"error: {held}: one process owns a state file; stop it first, or give "
                   f"this one its own state.path", err=True)
        raise SystemExit(EXIT_REMOTE) from None


@main.command()
@config_option
@click.option("--sku", default=None, help="Only this SKU.")
@click.option("--limit", default=50, show_default=True, help="How many rows, newest first.")
@_handled
def audit(config_path: str, sku: str | None, limit: int) -> None:
    """Show the audit log: every stock value written to the shop, newest first."""
    config = _load_config(config_path)
    state = State(config.state.path)
    try:
        for row in state.pushes.audit(sku, limit=limit):
            when = dt.datetime.fromtimestamp(row["at"]).isoformat(timespec="seconds")
            click.echo(f"{when}  {row['sku']}: {row['old_quantity']} {row['old_status'] or ''} -> "
                       f"{row['new_quantity']} {row['new_status']}  ({row['source']}, "
                       f"run {row['correlation_id']})")
    finally:
        state.close()


@main.command(name="reconcile")
@config_option
@click.option("--dry-run", is_flag=True, help="Compare and report; correct nothing.")
@click.option("--no-email", is_flag=True, help="Save the report but do not email it.")
@wait_option
@_handled
def reconcile_command(config_path: str, dry_run: bool, no_email: bool, wait: float) -> None:
    """Compare both sides in full now, correct drift, save and email the report."""
    config = _load_config(config_path)
    # Even a dry run writes (its report's files, the email), so it too goes to a running daemon.
    found = _write_command(config, "reconcile", {"dry_run": dry_run, "email": not no_email}, wait)
    state = "needs attention" if found["needs_attention"] else "all good"
    corrected = "none corrected (report only)" if dry_run or not found["correct"] else (
        f"{found['corrected']} corrected")
    click.echo(f"{state}: {found['checked']} SKUs checked, {found['drifted']} drifted, {corrected}")
    for drift in found["drift"]:
        click.echo(f"  {drift['sku']}: shop {drift['shop_before']} -> {drift['should_show']} "
                   f"(Odoo {drift['odoo_figure']:g}, pending {drift['pending']})")
    for failure in found["failures"]:
        click.echo(f"failure: {failure}", err=True)
    click.echo(f"report: {found['report']}")
    click.echo(f"email: {found['email']}")
    if found["failures"]:
        raise SystemExit(EXIT_REMOTE)


@main.command(name="report")
@config_option
@click.option("--last", is_flag=True, required=True, help="The latest saved report.")
@click.option("--html", "as_html", is_flag=True, help="Print the HTML path instead of the text.")
def report_command(config_path: str, last: bool, as_html: bool) -> None:
    """Print the latest reconciliation report (text), or the path of its HTML."""
    config = _load_config(config_path)
    saved = report.latest(reconcile.reports_directory(config))
    if saved is None:
        click.echo("no report yet: run `woodoo reconcile`", err=True)
        raise SystemExit(EXIT_REMOTE)
    click.echo(str(saved["html"]) if as_html else saved["txt"].read_text())


@main.command()
@config_option
@_handled
def status(config_path: str) -> None:
    """Show the last poll, counts and open dead letters."""
    config = _load_config(config_path)
    click.echo(f"shop: {config.shop_name} ({config.woocommerce.url}, Odoo {config.odoo.url} "
               f"database {config.odoo.database}; listens on port {config.server.port})")
    state = State(config.state.path)
    try:
        last = state.runs.last()
        if last:
            when = dt.datetime.fromtimestamp(last["started_at"]).isoformat(timespec="seconds")
            outcome = f"failed: {last['error']}" if last["error"] else "ok"
            click.echo(
                f"last run: {last['kind']} at {when}, {outcome}; checked {last['checked']}, "
                f"changed {last['changed']}, pushed {last['pushed']}, failed {last['failed']}"
            )
        else:
            click.echo("last run: none yet")
        streak, reason = state.runs.failing_streak()
        if streak >= FAILING_RUNS:
            click.echo(f"runs: failing, the last {streak} failed in a row (the daemon is not ready "
                       f"from {FAILING_RUNS}); the latest: {reason}")
        click.echo(f"state: {config.state.path} (schema {state.database.schema_version})")
        watermark = state.runs.get_meta("odoo_watermark")
        click.echo(f"odoo watermark: {watermark or 'none (the next poll reads everything)'}")
        reconciled = state.runs.get_meta(reconcile.LAST_RUN)
        click.echo("last reconciliation (or install): " + (
            dt.datetime.fromtimestamp(float(reconciled)).isoformat(timespec="seconds")
            if reconciled else "never"))
        activity = state.runs.activity(since=time.time() - 86400)
        good = activity["last_good_poll"].get("at")
        click.echo("last successful poll: " + (
            dt.datetime.fromtimestamp(good).isoformat(timespec="seconds") if good else "never"))
        for kind in ("events", "pushes"):
            by_source = ", ".join(f"{k} {v}" for k, v in sorted(activity[kind].items())) or "none"
            click.echo(f"{kind} in the last 24 h: {by_source}")
        if config.orders.enabled:
            _show_backfill(state)
        _show_breakers_and_alerts(state)
        click.echo(f"versions: this daemon is woodoo {__version__}")
        for _, line in peers.report(state):
            click.echo(f"  {line}")
        for name, value in state.runs.counts().items():
            click.echo(f"{name.replace('_', ' ')}: {value}")
        for letter in state.dead_letters.open()[:20]:
            click.echo(f"  dead letter {letter.sku}: {letter.reason} (attempts {letter.attempts})")
        for event in state.events.failed(limit=20):
            click.echo(f"  event {event['id']} ({event['source']} {event['event_id']}) set aside "
                       f"after {plural(event['attempts'], 'try', 'tries')}: {event['last_error']} "
                       f"(`woodoo events retry {event['id']}` once fixed)")
        for order in state.orders.needing_attention()[:20]:
            click.echo(f"  order #{order['number']} needs attention: {order['attention']}")
    finally:
        state.close()


def _check_versions(config: Config, errors: list[str]) -> None:
    """This daemon's version, and how the versions the parts said in their last calls to the
    daemon pair with it: one that cannot work is an error, an unknown one a warning."""
    click.echo(f"woodoo: version {__version__}")
    state = State(config.state.path)
    try:
        for level, line in peers.report(state):
            if level == "broken":
                errors.append(line)
            else:
                click.echo(("warning: " if level == "unknown" else "") + line,
                           err=level == "unknown")
    finally:
        state.close()


def _show_breakers_and_alerts(state: State) -> None:
    """Each side's circuit breaker and the alerts that hold, as the daemon last recorded them."""
    for side in ("odoo", "woocommerce"):
        snapshot = json.loads(state.runs.get_meta(f"breaker_{side}") or '{"state": "closed"}')
        if snapshot["state"] == "closed":
            click.echo(f"{side}: calls flow (circuit breaker closed)")
        else:
            since = dt.datetime.fromtimestamp(snapshot["since"]).isoformat(timespec="seconds")
            click.echo(f"{side}: calls paused since {since} (circuit breaker {snapshot['state']}): "
                       f"{snapshot['last_error']}")
    active = json.loads(state.runs.get_meta(alerts.ACTIVE) or "{}")
    for key, alert in sorted(active.items()):
        since = dt.datetime.fromtimestamp(alert["since"]).isoformat(timespec="seconds")
        click.echo(f"  alert since {since}: {alert['title']} ({key})")
    if not active:
        click.echo("alerts: none")


def _show_backfill(state: State) -> None:
    """The last read of the shop's orders, and the orders only it found in the last 24 h."""
    backfill = state.runs.last("backfill")
    if backfill is None:
        click.echo("last order backfill: never")
    else:
        when = dt.datetime.fromtimestamp(backfill["started_at"]).isoformat(timespec="seconds")
        click.echo(f"last order backfill: {when}, " + (
            f"failed: {backfill['error']}" if backfill["error"] else
            f"read {backfill['checked']} changed orders, took {backfill['changed']}"))
    found = state.orders.found_by_backfill(time.time() - 86400)
    numbers = ", ".join(f"#{o['number']}" for o in found[:20]) or "none"
    click.echo(f"orders found only by the backfill in the last 24 h: {numbers}"
               + (" (their events never arrived: check the plugin's settings tab)" if found
                  else ""))


@main.command()
@click.option("--duration", type=float, default=None,
              help="Stop by itself after N seconds (default: until Ctrl-C).")
@click.option("--poll-interval", type=float, default=2.0, show_default=True)
def demo(duration: float | None, poll_interval: float) -> None:
    """Run the daemon against the built-in Odoo and WooCommerce simulators."""
    from woodoo.demo import run_demo

    if not run_demo(duration=duration, poll_interval=poll_interval).ok:
        raise SystemExit(EXIT_REMOTE)  # a step did not arrive: the output says which


@main.group(name="odoo")
def odoo_group() -> None:
    """Odoo-side set-up."""


@odoo_group.command(name="setup-webhooks")
@config_option
@click.option("--mode", type=click.Choice(["native", "signed"]), required=True,
              help="signed: the woodoo_webhook module (recommended wherever it can be "
                   "installed: Odoo never waits on the daemon); native: Odoo's own webhook "
                   "action (Odoo Online; users wait up to 1 s per changed quant when the daemon "
                   "is unreachable).")
@click.option("--url", "daemon_url", required=True,
              help="The daemon's public base URL as Odoo reaches it, e.g. https://woodoo.example.com")
@click.option("--token", default=None,
              help="native mode: the URL token (one of webhooks.native_tokens); default: keep "
                   "the one already set up.")
@click.option("--dry-run", is_flag=True, help="Show what would be created or updated.")
@_handled
def setup_webhooks(config_path: str, mode: str, daemon_url: str, token: str | None,
                   dry_run: bool) -> None:
    """Create or update (idempotently) the automated action that notifies the daemon."""
    config = _load_config(config_path)
    with daemon.open_engine(config) as engine:
        plan = plan_webhooks(engine.odoo, mode=mode, daemon_url=daemon_url, token=token,
                             shop=config.shop.name)
        if mode == "native":
            for line in native_mode_warning(engine.odoo):
                click.echo(line)
        _print_plan(plan)
        if dry_run:
            click.echo("dry run: nothing written")
            return
        apply_webhooks(engine.odoo, plan)
    click.echo("done: Odoo now notifies the daemon on stock changes (run this again after "
               "changing odoo.warehouses or odoo.stock_field: the rule depends on them)")


def _print_plan(plan: list[PlannedAction]) -> None:
    for action in plan:
        click.echo(f"{action.operation}: {action.name} ({action.model}, {action.trigger})")
        for name, change in (action.details.get("changes") or {}).items():
            click.echo(f"    {name}: {change}")
        if action.details.get("reason"):
            click.echo(f"    why: {action.details['reason']}")


@odoo_group.command(name="pause-webhooks")
@config_option
@click.option("--dry-run", is_flag=True, help="Show what would be paused.")
@_handled
def pause_webhooks(config_path: str, dry_run: bool) -> None:
    """Switch off (archive) the automation rules setup-webhooks made, e.g. for maintenance."""
    plan = _switch_webhooks(config_path, plan_pause, dry_run)
    if plan is None:
        return
    click.echo("paused: Odoo no longer notifies the daemon, and no save waits on it; the poll "
               "keeps the shop right. Undo with `woodoo odoo resume-webhooks`.")
    if any(action.details.get("mode") == "signed" for action in plan):
        click.echo("note: in signed mode a daemon outage needs no pause (events wait in Odoo's "
                   "outbox and are retried); changes made while paused are not queued at all.")


@odoo_group.command(name="resume-webhooks")
@config_option
@click.option("--dry-run", is_flag=True, help="Show what would be resumed.")
@_handled
def resume_webhooks(config_path: str, dry_run: bool) -> None:
    """Switch back on the automation rules pause-webhooks switched off."""
    if _switch_webhooks(config_path, plan_resume, dry_run) is not None:
        click.echo("resumed: Odoo notifies the daemon again. Changes made while paused reach "
                   "the shop with the next poll (`woodoo sync` applies them now).")


def _switch_webhooks(config_path: str,
                     planner: Callable[[OdooGateway, str | None], list[PlannedAction]],
                     dry_run: bool) -> list[PlannedAction] | None:
    """Plan with `planner` for this config's shop, print the plan and apply it; None on a dry
    run (nothing written)."""
    config = _load_config(config_path)
    with daemon.open_engine(config) as engine:
        plan = planner(engine.odoo, config.shop.name)
        _print_plan(plan)
        if dry_run:
            click.echo("dry run: nothing written")
            return None
        apply_webhooks(engine.odoo, plan)
    return plan


@main.group(name="orders")
def orders_group() -> None:
    """Shop orders on their way to Odoo."""


@orders_group.command(name="retry")
@config_option
@click.argument("order_ids", nargs=-1, type=int)
@wait_option
def retry_orders(config_path: str, order_ids: tuple[int, ...], wait: float) -> None:
    """Try again to bring orders needing attention (or ORDER_IDS) to Odoo, e.g. after fixing an SKU."""
    config = _load_config(config_path)
    result = _write_command(config, "orders-retry", {"order_ids": list(order_ids)}, wait)
    click.echo(f"{result['count']} orders queued for the next sync with Odoo (the running daemon "
               f"takes them)")


@main.group(name="events")
def events_group() -> None:
    """Webhook and order events in the daemon's queue."""


@events_group.command(name="retry")
@config_option
@click.argument("event_ids", nargs=-1, type=int)
@wait_option
def retry_events(config_path: str, event_ids: tuple[int, ...], wait: float) -> None:
    """Put events set aside after their last try (all, or EVENT_IDS) back in the queue."""
    config = _load_config(config_path)
    result = _write_command(config, "events-retry", {"event_ids": list(event_ids)}, wait)
    click.echo(f"{result['count']} events back in the queue")


@main.group(name="alerts")
def alerts_group() -> None:
    """Alerts to staff (email, chat webhook)."""


@alerts_group.command(name="test")
@config_option
def test_alerts(config_path: str) -> None:
    """Send a test alert to every configured channel and say what happened."""
    config = _load_config(config_path)
    channels = alerts.channels_for(config)
    if not channels:
        click.echo("error: no alert channel is configured: set smtp.host and smtp.recipients "
                   "(alerts.email), or alerts.slack_webhook_url", err=True)
        raise SystemExit(EXIT_REMOTE)
    message = alerts.test_message(config.shop_name)
    results = [(channel.name, *channel.send(message)) for channel in channels]
    for name, sent, note in results:
        click.echo(f"{name}: {'sent' if sent else 'FAILED'}: {note}")
    if not all(sent for _, sent, _ in results):
        raise SystemExit(EXIT_REMOTE)


@main.group(name="secret")
def secret_group() -> None:
    """Make keys and encrypt values for `enc:` config entries."""


@secret_group.command()
@click.option("--output", type=click.Path(dir_okay=False), help="Write the key to this file (0600).")
def keygen(output: str | None) -> None:
    """Print (or write) a new secret key."""
    key = secret.generate_key()
    if output is None:
        click.echo(key)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    click.echo(f"wrote {output}; point secret_key_file at it or export {secret.KEY_ENV}")


@secret_group.command()
@click.argument("value", required=False)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), default=None)
def encrypt(value: str | None, key_file: str | None) -> None:
    """Encrypt VALUE (asked for, hidden, when not given) into an enc: config value."""
    try:
        key, source = secret.load_key(Path(key_file) if key_file else None)
        if key is None:
            raise secret.SecretError(
                f"no key found ({source}); set {secret.KEY_ENV} or pass --key-file")
        if value is None:
            value = click.prompt("value to encrypt", hide_input=True)
        click.echo(secret.encrypt(value, key))
    except secret.SecretError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
