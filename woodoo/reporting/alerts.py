"""Alerts: rules over the figures the daemon already has, evaluated every minute.

Staff hear of a condition once when it starts, again every `alerts.reminder_hours` while it
lasts, and once when it clears: a flood of failures is one alert, never a message per event.
Sending goes to every configured channel (email through the `smtp` section, a Slack-compatible
incoming webhook); a send that fails is logged, counted and retried at the next check, and never
blocks or breaks syncing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal, Protocol

import requests

from woodoo import log
from woodoo.compat import NAMES, Pairing
from woodoo.config import AlertsConfig, Config
from woodoo.gateways import transport
from woodoo.gateways.retry import RetryPolicy
from woodoo.limits import CHAT_ANSWER_BYTES
from woodoo.reporting import mail
from woodoo.state.runs import FAILING_RUNS
from woodoo.web.metrics import Metrics

ACTIVE = "alerts_active"  # meta key: the conditions that hold, with when they began
OUTBOX = "alerts_outbox"  # meta key: messages no channel took yet, tried again next check
MAX_OUTBOX = 50
SEND_POLICY = RetryPolicy(1, 1.0)  # one quick retry; the next check tries again anyway
Kind = Literal["started", "reminder", "cleared", "test"]


@dataclass(frozen=True)
class Figures:
    """What the rules look at, gathered from the state, the worker and the breakers."""

    latency_p95: float | None = None  # seconds, Odoo event -> shop, events of the last 10 min
    failed_pushes_last_hour: int = 0
    dead_letters_open: int = 0
    failed_events: int = 0
    orders_attention: int = 0
    stuck_orders: int = 0
    queue_depth: int = 0
    oldest_event_age: float | None = None  # seconds the oldest waiting event has been due
    last_good_poll_age: float | None = None  # seconds since the last complete poll
    open_breakers: dict[str, float] = field(default_factory=dict)  # side -> seconds open
    worker_stalled: bool = False
    drift_items: int | None = None  # the last reconciliation's
    drift_units: int | None = None
    failing_runs: int = 0  # the latest runs (polls, pushes, syncs) that failed in a row
    # Parts whose last signed call said a version that cannot work with this daemon (compat.py).
    failing_pairings: tuple[Pairing, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One alert that holds now, in words."""

    key: str
    title: str
    figure: str
    threshold: str
    look_at: str


@dataclass(frozen=True)
class Message:
    """What to tell staff about one condition."""

    kind: Kind
    key: str
    title: str
    text: str


def evaluate(figures: Figures, limits: AlertsConfig, *, poll_interval: float) -> list[Condition]:
    """The conditions that hold for these figures (pure)."""
    found: list[Condition] = []

    def above(key: str, value: float | None, limit: float, title: str, shown: str,
              limit_shown: str, look_at: str) -> None:
        if value is not None and value > limit:
            found.append(Condition(key, title, shown, f"alert above {limit_shown}", look_at))

    f = figures
    above("latency", f.latency_p95, limits.sync_latency_seconds,
          "Stock changes reach the shop slowly", f"p95 {_duration(f.latency_p95)} over 10 min",
          _duration(limits.sync_latency_seconds), "woodoo status; the shop's and Odoo's "
          "response times; /metrics woodoo_sync_latency_seconds")
    above("failed_pushes", f.failed_pushes_last_hour, limits.failed_pushes_per_hour,
          "Stock writes to the shop are failing", f"{f.failed_pushes_last_hour} in the last hour",
          f"{limits.failed_pushes_per_hour} an hour", "woodoo status (dead letters and reasons)")
    above("dead_letters", f.dead_letters_open, limits.dead_letters,
          "Stock updates were given up", f"{f.dead_letters_open} open dead letters",
          str(limits.dead_letters), "woodoo status: each SKU with its reason")
    above("failed_events", f.failed_events, limits.failed_events,
          "Incoming events were set aside", f"{f.failed_events} events",
          str(limits.failed_events), "woodoo status; then woodoo events retry")
    above("orders_attention", f.orders_attention, limits.orders_attention,
          "Shop orders need attention", f"{f.orders_attention} orders",
          str(limits.orders_attention), "woodoo status: each order with its reason; then "
          "woodoo orders retry")
    above("stuck_orders", f.stuck_orders, limits.stuck_orders,
          "Shop orders are stuck on their way to Odoo", f"{f.stuck_orders} orders",
          str(limits.stuck_orders), "woodoo status; is Odoo reachable?")
    above("queue_depth", f.queue_depth, limits.queue_depth, "Events pile up in the queue",
          f"{f.queue_depth} waiting", str(limits.queue_depth), "woodoo status; /readyz")
    above("queue_age", f.oldest_event_age, limits.oldest_event_minutes * 60,
          "Events wait too long to be processed", f"oldest due {_duration(f.oldest_event_age)}",
          _duration(limits.oldest_event_minutes * 60), "/readyz (worker, breakers); the log")
    stale_after = max(limits.poll_age_minutes * 60, 3 * poll_interval)
    above("poll_age", f.last_good_poll_age, stale_after, "No poll has finished lately",
          f"last complete poll {_duration(f.last_good_poll_age)} ago", _duration(stale_after),
          "woodoo status (the last run's error); is Odoo reachable?")
    for side, seconds in sorted(f.open_breakers.items()):
        above(f"unreachable_{side}", seconds, limits.unreachable_minutes * 60 - 1e-9,
              f"{_side(side)} is unreachable", f"down for {_duration(seconds)}",
              _duration(limits.unreachable_minutes * 60),
              f"{_side(side)} itself; calls to it are paused and resume by themselves (nothing "
              f"is lost: events wait in the queue)")
    if f.failing_runs >= FAILING_RUNS:
        found.append(Condition("failing_runs", "Polls and pushes keep failing",
                               f"the last {f.failing_runs} runs failed in a row",
                               f"alert from {FAILING_RUNS} in a row (/readyz not ready)",
                               "woodoo status (the latest run's error); the log"))
    for pairing in f.failing_pairings:
        name = NAMES[pairing.part]
        found.append(Condition(f"pairing_{pairing.part}",
                               f"{name[0].upper()}{name[1:]}'s version cannot work with this daemon",
                               pairing.words, "alert when a part's version cannot work",
                               "woodoo status (versions); update the part it names"))
    if f.worker_stalled:
        found.append(Condition("worker", "The event worker has stopped beating", "stalled",
                               "alert when stalled with events due", "the log; restart the daemon"))
    above("drift_items", f.drift_items, limits.drift_items,
          "The last reconciliation found much drift", f"{f.drift_items} SKUs",
          f"{limits.drift_items} SKUs", "woodoo report --last")
    above("drift_units", f.drift_units, limits.drift_units,
          "The last reconciliation found much drift", f"{f.drift_units} units",
          f"{limits.drift_units} units", "woodoo report --last")
    return found


class Channel(Protocol):
    """Somewhere staff read alerts."""

    name: str

    def send(self, message: Message) -> tuple[bool, str]:
        """Deliver `message`; (sent, note in words), never raising."""


class EmailChannel:
    """Alerts by email, through the `smtp` section, to its recipients."""

    name = "email"

    def __init__(self, settings: mail.SmtpSettings, shop: str) -> None:
        self.settings = settings
        self.shop = shop

    def send(self, message: Message) -> tuple[bool, str]:
        """Email the message (retried once; the next check tries again)."""
        email = EmailMessage()
        prefix = {"started": "ALERT", "reminder": "still", "cleared": "cleared",
                  "test": "test"}[message.kind]
        email["Subject"] = f"[Woodoo] {prefix}: {message.title} — {self.shop}"
        email["From"] = self.settings.sender
        email["To"] = ", ".join(self.settings.recipients)
        email["Date"] = formatdate(localtime=True)
        email["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2] or None)
        email.set_content(message.text)
        return mail.send(email, self.settings, policy=SEND_POLICY, what="alert")


class SlackChannel:
    """Alerts to a Slack incoming webhook (Mattermost and Teams accept the same {"text"})."""

    name = "slack"

    def __init__(self, url: str, *, timeout: float = 10) -> None:
        self.url = url
        self.timeout = timeout
        self.session = transport.session(1)

    def send(self, message: Message) -> tuple[bool, str]:
        """POST {"text": ...}; a 2xx is delivered (the answer bounded in time and size, and a
        redirect not followed: the alert would go wherever it points)."""
        try:
            answer = transport.fetch(self.session, "POST", self.url, remote="the chat webhook",
                                     limit=CHAT_ANSWER_BYTES, timeout=self.timeout,
                                     json={"text": message.text})
        except transport.AnswerRefused as error:
            return False, str(error)
        except requests.RequestException as error:
            return False, f"the chat webhook could not be reached: {type(error).__name__}"
        if 200 <= answer.status_code < 300:
            return True, "sent to the chat webhook"
        # The body of a refusal is not echoed: the URL is a secret, and answers may quote it.
        return False, f"the chat webhook answered HTTP {answer.status_code}"


def test_message(shop: str) -> Message:
    """What `woodoo alerts test` sends."""
    return Message("test", "test", "Test alert", f"Woodoo ({shop}): a test alert from `woodoo "
                   f"alerts test`. If you read this, alerts reach you here.")


def channels_for(config: Config) -> list[Channel]:
    """The channels the config names: email (with an smtp host and recipients), the webhook."""
    channels: list[Channel] = []
    if config.alerts.email and config.smtp.host and config.smtp.recipients:
        channels.append(EmailChannel(mail.settings(config.smtp), _shop(config)))
    if config.alerts.slack_webhook_url is not None:
        channels.append(SlackChannel(config.alerts.slack_webhook_url.get_secret_value()))
    return channels


def _shop(config: Config) -> str:
    return config.shop_name


class Alerts:
    """Evaluates the rules, remembers what holds, and tells every channel what changed."""

    def __init__(self, limits: AlertsConfig, channels: list[Channel], *,
                 gather: Callable[[], Figures], load: Callable[[str], str | None],
                 store: Callable[[str, str], None], metrics: Metrics, shop: str,
                 poll_interval: float, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.channels = channels
        self.gather = gather
        self.load = load
        self.store = store
        self.metrics = metrics
        self.shop = shop
        self.poll_interval = poll_interval
        self.clock = clock
        self.log = log.get("woodoo.reporting.alerts")
        self._seen: set[str] = set()  # every alert shown in /metrics, so a cleared one reads 0

    def check(self) -> list[Message]:
        """One evaluation: the messages it made (already sent, or queued for the next check)."""
        now = self.clock()
        holding = {c.key: c for c in evaluate(self.gather(), self.limits,
                                              poll_interval=self.poll_interval)}
        active: dict[str, dict[str, Any]] = json.loads(self.load(ACTIVE) or "{}")
        messages: list[Message] = []
        for key, condition in holding.items():
            known = active.get(key)
            if known is None:
                active[key] = {"since": now, "reminded": now, "title": condition.title}
                messages.append(self._message("started", condition, now))
            elif now - known["reminded"] >= self.limits.reminder_hours * 3600:
                known["reminded"] = now
                messages.append(self._message("reminder", condition, known["since"]))
        for key in sorted(set(active) - set(holding)):
            gone = active.pop(key)
            messages.append(Message("cleared", key, gone["title"], self._cleared_text(gone, now)))
        self.store(ACTIVE, json.dumps(active))
        for key in set(holding) | self._seen:
            self.metrics.alerts_active.labels(key).set(1 if key in holding else 0)
        self._seen |= set(holding)
        outbox = [Message(**m) for m in json.loads(self.load(OUTBOX) or "[]")] + messages
        self.store(OUTBOX, json.dumps([asdict(m) for m in self._deliver(outbox)][-MAX_OUTBOX:]))
        return messages

    def _deliver(self, messages: list[Message]) -> list[Message]:
        """Send each message to every channel; those no channel took are kept for next time."""
        kept = []
        for message in messages:
            delivered = False
            for channel in self.channels:
                sent, note = channel.send(message)
                self.metrics.alert_sends.labels(channel.name, "sent" if sent else "failed").inc()
                if not sent:
                    self.log.error("alert not sent; will retry", channel=channel.name,
                                   alert=message.key, reason=note)
                delivered = delivered or sent
            if not delivered and self.channels:
                kept.append(message)
        return kept

    def _message(self, kind: Kind, condition: Condition, since: float) -> Message:
        head = {"started": "ALERT", "reminder": "Still"}[kind]
        text = (f"{head} — Woodoo ({self.shop}): {condition.title}.\n"
                f"Figure: {condition.figure} ({condition.threshold}).\n"
                f"Since: {_when(since)}.\n"
                f"Look at: {condition.look_at}.")
        return Message(kind, condition.key, condition.title, text)

    def _cleared_text(self, gone: dict[str, Any], now: float) -> str:
        return (f"Cleared — Woodoo ({self.shop}): {gone['title']} no longer holds (it began "
                f"{_when(gone['since'])}, lasted {_duration(now - gone['since'])}).")


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _side(side: str) -> str:
    return {"odoo": "Odoo", "woocommerce": "The shop (WooCommerce)"}.get(side, side)
