# Part of woodoo_webhook. License LGPL-3.
"""The outbox of signed Woodoo events.

An event row is created in the transaction that changes the stock, so it exists only if that
change commits. A post-commit hook sends the transaction's events right after the commit, in a
fresh cursor, with a short timeout, stopping at the first failure: users never wait more than one
timeout on a daemon that is down, and nothing is ever sent for a rolled-back transaction. A cron
retries what is left every minute with exponential backoff and gives up after about 48 hours.
"""

import functools
import logging
import time
from datetime import timedelta

import psycopg2.errors
import requests
from odoo import SUPERUSER_ID, api, fields, models

from ..lib import payload as woodoo_payload
from ..lib import woodoo_signing

_logger = logging.getLogger(__name__)

PARAM_URL = "woodoo_webhook.url"
PARAM_SECRET = "woodoo_webhook.secret"
PARAM_TIMEOUT = "woodoo_webhook.timeout"
PARAM_SKU_FIELD = "woodoo_webhook.sku_field"
DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 30.0
POSTCOMMIT_BATCH = 50  # more (a mass import) is left to the cron, off the user's request
CRON_BATCH = 200
POSTCOMMIT_KEY = "woodoo_webhook.event_ids"
KEEP_SENT_DAYS = 30
KEEP_FAILED_DAYS = 90
USER_AGENT = "woodoo-webhook/1.0 (Odoo)"


class DeliveryError(Exception):
    """One attempt failed; `reachable` is False when the daemon did not answer at all."""

    def __init__(self, message, reachable):
        super().__init__(message)
        self.reachable = reachable


def _send_committed(registry, event_ids):
    """Post-commit hook: send one transaction's events in a new cursor. Never raises.

    The transaction is committed already; an exception here would only turn the user's
    successful save into an error page. Whatever is not sent stays pending for the cron.
    """
    if not event_ids:
        return
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["woodoo.webhook.event"]._woodoo_deliver(
                ids=list(event_ids)[:POSTCOMMIT_BATCH], stop_on_error=True)
    except Exception:
        _logger.exception("woodoo_webhook: sending events after commit failed; "
                          "the cron will retry them")


class WoodooWebhookEvent(models.Model):
    _name = "woodoo.webhook.event"
    _description = "Woodoo webhook event (outbox)"
    _order = "id desc"
    _rec_name = "event_id"

    event_id = fields.Char(required=True, readonly=True, index=True, copy=False)
    payload = fields.Text(required=True, readonly=True, help="The exact JSON body sent.")
    source_model = fields.Char(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
        default="pending", required=True, index=True)
    attempts = fields.Integer(default=0, readonly=True)
    next_attempt = fields.Datetime(index=True, readonly=True)
    last_error = fields.Text(readonly=True)
    sent_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("event_id_unique", "unique(event_id)", "A Woodoo event id must be unique."),
    ]

    # -- queueing, inside the transaction that changes the stock --------------------------------
    @api.model
    def _woodoo_enqueue(self, model_name, lines):
        """Queue the events for `lines` (StockLine) now; send them right after the commit."""
        cr = self.env.cr
        now = cr.now() if hasattr(cr, "now") else fields.Datetime.now()
        # Transaction id and start time: the same records in the same transaction give the
        # same event id (queued once), any other transaction gives another one.
        cr.execute("SELECT txid_current()")
        transaction = f"{cr.fetchone()[0]}@{now.isoformat()}"
        events = woodoo_payload.build_events(model_name, lines, transaction, now)
        if not events:
            return self.browse()
        outbox = self.sudo()  # stock users queue events; only administrators read the outbox
        known = set(outbox.search(
            [("event_id", "in", [event["event_id"] for event in events])]).mapped("event_id"))
        new = [event for event in events if event["event_id"] not in known]
        if not new:
            return self.browse()
        records = outbox.create([{
            "event_id": event["event_id"],
            "payload": woodoo_payload.encode(event).decode("utf-8"),
            "source_model": model_name,
            "next_attempt": now,
        } for event in new])
        records._woodoo_send_after_commit()
        return records

    def _woodoo_send_after_commit(self):
        """One post-commit hook per transaction, sending that transaction's events."""
        postcommit = self.env.cr.postcommit
        pending = postcommit.data.get(POSTCOMMIT_KEY)
        if pending is None:
            # The data and the hook are dropped on rollback: nothing is sent for it.
            pending = postcommit.data[POSTCOMMIT_KEY] = []
            postcommit.add(functools.partial(_send_committed, self.env.registry, pending))
        pending.extend(self.ids)

    # -- sending ----------------------------------------------------------------------------------
    @api.model
    def _woodoo_deliver(self, ids=None, stop_on_error=False, limit=CRON_BATCH):
        """Send pending events (these `ids`, or those due); every attempt is recorded."""
        now = fields.Datetime.now()
        cr = self.env.cr
        try:
            with cr.savepoint():
                # SKIP LOCKED: the cron and a post-commit hook never send the same row at once.
                if ids is not None:
                    if not ids:
                        return 0
                    cr.execute("SELECT id FROM woodoo_webhook_event WHERE id IN %s "
                               "AND state = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED",
                               [tuple(ids)])
                else:
                    cr.execute("SELECT id FROM woodoo_webhook_event WHERE state = 'pending' "
                               "AND (next_attempt IS NULL OR next_attempt <= %s) "
                               "ORDER BY next_attempt, id LIMIT %s FOR UPDATE SKIP LOCKED",
                               [now, limit])
                event_ids = [row[0] for row in cr.fetchall()]
        except psycopg2.errors.SerializationFailure:
            # Sent and committed by the other sender since this transaction began: skip now.
            _logger.info("woodoo_webhook: events changed concurrently; next run sends the rest")
            return 0
        events = self.browse(event_ids)
        if not events:
            return 0
        try:
            target = self._woodoo_target()
        except ValueError as error:
            events._woodoo_failed(str(error), now)
            _logger.warning("woodoo_webhook: %s; %d event(s) wait", error, len(events))
            return 0
        sent = 0
        # After a commit the user's request waits for this: a slow daemon gets one timeout's
        # worth of sending, the cron does the rest.
        deadline = time.monotonic() + target[2] if stop_on_error else None
        session = requests.Session()
        try:
            for event in events:
                if deadline is not None and sent and time.monotonic() > deadline:
                    break
                try:
                    event._woodoo_post(session, *target)
                except DeliveryError as error:
                    event._woodoo_failed(str(error), now)
                    _logger.warning("woodoo_webhook: event %s not delivered: %s",
                                    event.event_id, error)
                    # An unreachable daemon costs one timeout per run, not one per event.
                    if stop_on_error or not error.reachable:
                        break
                else:
                    event.write({"state": "sent", "sent_at": fields.Datetime.now(),
                                 "attempts": event.attempts + 1, "last_error": False,
                                 "next_attempt": False})
                    sent += 1
        finally:
            session.close()
        return sent

    @api.model
    def _woodoo_target(self):
        """(endpoint URL, secret, timeout) from the system parameters; ValueError if missing."""
        params = self.env["ir.config_parameter"].sudo()
        url = (params.get_param(PARAM_URL) or "").strip()
        secret = (params.get_param(PARAM_SECRET) or "").strip()
        if not url:
            raise ValueError(f"system parameter {PARAM_URL} is not set")
        if not secret:
            raise ValueError(f"system parameter {PARAM_SECRET} is not set")
        endpoint = woodoo_payload.endpoint_url(url)
        try:
            timeout = float(params.get_param(PARAM_TIMEOUT) or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return endpoint, secret, min(max(timeout, 0.1), MAX_TIMEOUT)

    def _woodoo_post(self, session, url, secret, timeout):
        """POST this event's stored body, signed now; raise DeliveryError unless 2xx."""
        self.ensure_one()
        body = self.payload.encode("utf-8")  # the stored bytes: the same body on every retry
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            woodoo_signing.HEADER: woodoo_signing.sign(body, secret),
        }
        try:
            response = session.post(url, data=body, headers=headers, timeout=timeout,
                                     allow_redirects=False)
        except requests.exceptions.RequestException as error:
            # A read timeout may still have been delivered: the retry carries the same
            # event_id, which the daemon deduplicates.
            raise DeliveryError(f"{type(error).__name__}: {error}", reachable=False) from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code} from {url}: "
                                f"{(response.text or '')[:300]}", reachable=True)

    def _woodoo_failed(self, message, now):
        """Record a failed attempt: back off (1 min doubling, 1 h at most) or give up (48 h)."""
        for event in self:
            attempts = event.attempts + 1
            values = {"attempts": attempts, "last_error": message[:2000]}
            if woodoo_payload.expired(event.create_date, now):
                values.update(state="failed", next_attempt=False)
            else:
                values["next_attempt"] = woodoo_payload.next_attempt(now, attempts)
            event.write(values)

    # -- cron, clean-up and install ---------------------------------------------------------------
    @api.model
    def _cron_woodoo_send(self):
        """Every minute: give up on events older than ~48 h, then send those that are due."""
        now = fields.Datetime.now()
        stale = self.search([("state", "=", "pending"),
                             ("create_date", "<", now - woodoo_payload.GIVE_UP_AFTER)])
        for event in stale:
            event.write({"state": "failed", "next_attempt": False,
                         "last_error": "gave up after 48 h; last error: "
                                       f"{event.last_error or 'none'}"})
        return self._woodoo_deliver(limit=CRON_BATCH)

    @api.autovacuum
    def _gc_woodoo_events(self):
        """Daily: forget sent events after 30 days and failed ones after 90."""
        now = fields.Datetime.now()
        self.search([("state", "=", "sent"),
                     ("create_date", "<", now - timedelta(days=KEEP_SENT_DAYS))]
                    ).unlink()
        self.search([("state", "=", "failed"),
                     ("create_date", "<", now - timedelta(days=KEEP_FAILED_DAYS))]
                    ).unlink()

    @api.model
    def _woodoo_default_parameters(self):
        """On install: the default timeout and SKU field, unless already set."""
        params = self.env["ir.config_parameter"].sudo()
        if not params.get_param(PARAM_TIMEOUT):
            params.set_param(PARAM_TIMEOUT, "2")
        if not params.get_param(PARAM_SKU_FIELD):
            params.set_param(PARAM_SKU_FIELD, "default_code")

    @api.model
    def _woodoo_fix_cron(self):
        """Odoo 17's ir.cron runs `numbercall` times (default 1); make ours run forever.

        18 has no numbercall (the XML cannot set a field one version lacks), hence this.
        """
        cron = self.env.ref("woodoo_webhook.ir_cron_woodoo_webhook_send",
                            raise_if_not_found=False)
        if cron and "numbercall" in cron._fields and cron.numbercall != -1:
            cron.sudo().write({"numbercall": -1})
