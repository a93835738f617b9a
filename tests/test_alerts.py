"""Alerts: each rule at its threshold, one message per condition (start, reminder, clear) to a real
SMTP server and a local chat-webhook receiver, retries of a failed send, and the Prometheus rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import Clock, Inbox

from woodoo.cli import main
from woodoo.config import AlertsConfig
from woodoo.reporting import mail
from woodoo.reporting.alerts import Alerts, EmailChannel, Figures, SlackChannel, evaluate
from woodoo.web.metrics import Metrics
from woodoo.web.server import HttpServer

LIMITS = AlertsConfig()
DOCS = Path(__file__).parent.parent / "docs"
# Each rule: the figure, the value at its threshold (no alert), and the key it raises above it.
RULES = [
    ("latency_p95", LIMITS.sync_latency_seconds, "latency"),
    ("failed_pushes_last_hour", LIMITS.failed_pushes_per_hour, "failed_pushes"),
    ("dead_letters_open", LIMITS.dead_letters, "dead_letters"),
    ("failed_events", LIMITS.failed_events, "failed_events"),
    ("orders_attention", LIMITS.orders_attention, "orders_attention"),
    ("stuck_orders", LIMITS.stuck_orders, "stuck_orders"),
    ("queue_depth", LIMITS.queue_depth, "queue_depth"),
    ("oldest_event_age", LIMITS.oldest_event_minutes * 60, "queue_age"),
    ("last_good_poll_age", LIMITS.poll_age_minutes * 60, "poll_age"),
    ("drift_items", LIMITS.drift_items, "drift_items"),
    ("drift_units", LIMITS.drift_units, "drift_units"),
]


@pytest.mark.parametrize(("figure", "threshold", "key"), RULES)
def test_each_rule_fires_above_its_threshold_and_not_at_it(figure, threshold, key):
    at = evaluate(replace(Figures(), **{figure: threshold}), LIMITS, poll_interval=60)
    above = evaluate(replace(Figures(), **{figure: threshold + 1}), LIMITS, poll_interval=60)
    assert [c.key for c in at] == []
    [condition] = above
    assert condition.key == key and condition.look_at and "alert above" in condition.threshold


def test_every_figure_has_a_rule():
    covered = {figure for figure, _, _ in RULES} | {"open_breakers", "worker_stalled",
                                                    "failing_runs", "failing_pairings"}
    # failing_pairings: tests/test_compat.py, test_a_part_that_cannot_work_raises_an_alert...
    assert {f.name for f in fields(Figures)} == covered


def test_an_unreachable_side_and_a_stalled_worker_alert_at_once():
    found = evaluate(Figures(open_breakers={"odoo": 0.0}, worker_stalled=True), LIMITS,
                     poll_interval=60)
    assert [c.key for c in found] == ["unreachable_odoo", "worker"]
    assert "Odoo is unreachable" in found[0].title and "nothing is lost" in found[0].look_at
    later = AlertsConfig(unreachable_minutes=5)
    assert evaluate(Figures(open_breakers={"odoo": 299.0}), later, poll_interval=60) == []
    assert len(evaluate(Figures(open_breakers={"odoo": 301.0}), later, poll_interval=60)) == 1


class ChatReceiver:
    """A local stand-in for Slack's incoming webhook: records what it is sent."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.texts: list[str] = []
        self.server = HttpServer(self._app, host="127.0.0.1", port=0, threads=2,
                                 name="chat").start()
        self.url = f"http://127.0.0.1:{self.server.port}/services/T0/B0/x"

    def _app(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if self.failures:
            self.failures -= 1
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"oops, the secret url was http://..."]
        self.texts.append(json.loads(body)["text"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def chat() -> Iterator[ChatReceiver]:
    receiver = ChatReceiver()
    yield receiver
    receiver.server.stop(grace=0)


@pytest.fixture
def inbox(smtp_server) -> tuple[Inbox, mail.SmtpSettings]:
    handler = Inbox()
    port = smtp_server(handler)
    settings = mail.SmtpSettings(host="127.0.0.1", port=port, security="none",
                                 sender="woodoo@shop.test", recipients=("staff@shop.test",),
                                 timeout=5)
    return handler, settings


def alerts_over(figures: list[Figures], channels: list, clock: Clock) -> tuple[Alerts, dict]:
    meta: dict[str, str] = {}
    current = iter(figures)
    holder = {"figures": Figures()}

    def gather() -> Figures:
        holder["figures"] = next(current, holder["figures"])
        return holder["figures"]

    alerts = Alerts(LIMITS, channels, gather=gather, load=meta.get,
                    store=meta.__setitem__, metrics=Metrics(), shop="shop.test",
                    poll_interval=60, clock=clock)
    return alerts, meta


def test_a_flood_is_one_message_then_a_reminder_then_one_when_it_clears(inbox, chat):
    handler, settings = inbox
    clock = Clock(1_800_000_000.0)
    flood = Figures(failed_pushes_last_hour=1000)  # a thousand failures in the hour
    alerts, meta = alerts_over([flood, flood, flood, flood, Figures()],
                               [EmailChannel(settings, "shop.test"), SlackChannel(chat.url)],
                               clock)
    assert [m.kind for m in alerts.check()] == ["started"]
    clock.now += 60
    assert alerts.check() == []  # still the same condition: nothing new to say
    clock.now += LIMITS.reminder_hours * 3600 - 60
    assert [m.kind for m in alerts.check()] == ["reminder"]
    clock.now += 60
    assert alerts.check() == []
    clock.now += 60
    assert [m.kind for m in alerts.check()] == ["cleared"]
    subjects = [m["Subject"] for m in handler.messages]
    assert subjects == ["[Woodoo] ALERT: Stock writes to the shop are failing — shop.test",
                        "[Woodoo] still: Stock writes to the shop are failing — shop.test",
                        "[Woodoo] cleared: Stock writes to the shop are failing — shop.test"]
    assert len(chat.texts) == 3
    first = chat.texts[0]
    assert "Figure: 1000 in the last hour (alert above 5 an hour)" in first
    assert "Since: 2027-01-15" in first and "Look at: woodoo status" in first
    assert json.loads(meta["alerts_active"]) == {}


def test_a_send_that_fails_is_retried_at_the_next_check_and_never_raises(chat):
    chat.failures = 1
    clock = Clock(1_800_000_000.0)
    alerts, meta = alerts_over([Figures(queue_depth=5000)], [SlackChannel(chat.url)], clock)
    alerts.check()
    assert chat.texts == [] and len(json.loads(meta["alerts_outbox"])) == 1
    clock.now += 60
    assert alerts.check() == []  # nothing new; the queued message goes out now
    assert len(chat.texts) == 1 and "Events pile up" in chat.texts[0]
    assert json.loads(meta["alerts_outbox"]) == []
    assert 'woodoo_alert_sends_total{channel="slack",outcome="failed"} 1.0' in (
        alerts.metrics.render().decode())


def test_woodoo_alerts_test_reaches_every_channel(inbox, chat, make_config_file):
    handler, settings = inbox
    path = make_config_file(
        smtp={"host": "127.0.0.1", "port": settings.port, "security": "none",
              "recipients": ["staff@shop.test"]},
        alerts={"slack_webhook_url": chat.url})
    result = CliRunner().invoke(main, ["alerts", "test", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert "email: sent: sent to staff@shop.test" in result.output
    assert "slack: sent: sent to the chat webhook" in result.output
    assert handler.messages[0]["Subject"].startswith("[Woodoo] test: Test alert")
    assert "a test alert" in chat.texts[0]
    chat.failures = 1
    failed = CliRunner().invoke(main, ["alerts", "test", "-c", str(path)])
    assert failed.exit_code == 1 and "slack: FAILED: the chat webhook answered HTTP 500" in (
        failed.output)
    assert "secret url" not in failed.output  # the answer's body is never echoed


def test_woodoo_alerts_test_without_a_channel_says_what_to_set(make_config_file):
    result = CliRunner().invoke(main, ["alerts", "test", "-c", str(make_config_file())])
    assert result.exit_code == 1 and "no alert channel is configured" in result.output


def test_the_prometheus_rules_parse_and_name_only_metrics_the_daemon_serves():
    rules = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    [group] = rules["groups"]
    names = set()
    for rule in group["rules"]:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["alert"].startswith("Woodoo") and rule["annotations"]["summary"]
        names |= set(re.findall(r"\bwoodoo_[a-z_]+", rule["expr"]))
    metrics = Metrics()
    metrics.watch_breaker("odoo", "closed")
    metrics.alerts_active.labels("latency").set(0)
    metrics.sync_latency.observe(1)
    # Labelled series appear with their first sample, as they do in a running daemon.
    metrics.push_failures.labels("poll").inc(0)
    metrics.events_failed.labels("odoo").inc(0)
    served = set(re.findall(r"^(woodoo_[a-z_]+)", metrics.render().decode(), re.M))
    assert names and names <= served, names - served


def test_status_shows_each_breaker_and_the_alerts_that_hold(make_config_file, tmp_path):
    from woodoo.state import State

    path = make_config_file()
    state = State(tmp_path / "woodoo.sqlite")
    state.runs.set_meta("breaker_odoo", json.dumps({
        "state": "open", "failures": 5, "since": 1_800_000_000.0, "open_until": 1_800_000_040.0,
        "last_error": "cannot reach Odoo: connection refused"}))
    state.runs.set_meta("alerts_active", json.dumps({"unreachable_odoo": {
        "since": 1_800_000_000.0, "reminded": 1_800_000_000.0, "title": "Odoo is unreachable"}}))
    state.close()
    result = CliRunner().invoke(main, ["status", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert "odoo: calls paused since 2027-01-15" in result.output
    assert "(circuit breaker open): cannot reach Odoo: connection refused" in result.output
    assert "woocommerce: calls flow (circuit breaker closed)" in result.output
    assert "alert since 2027-01-15" in result.output and "Odoo is unreachable" in result.output
