# Part of woodoo_webhook. License LGPL-3.
"""The outbox of signed Woodoo events, sent by Odoo's cron worker, never in a user's request.

An event row is created in the transaction that changes the stock, so it exists only if that
change commits. Once that transaction has committed, a post-commit callback asks Odoo to run the
module's cron (`ir.cron._trigger()` at the database's clock, in a transaction of its own, once per
transaction); the cron worker then POSTs the due events. A user's save therefore never waits on
the daemon, however slow or unreachable it is: measured on Odoo 18 with the daemon's port
blackholed, sending after commit inside the request cost every stock save 2.2 s. The cron also
runs every minute on its own, retrying with exponential backoff, and gives up after about 48
hours.

What this relies on in Odoo 17, 18 and 19 (odoo/addons/base/models/ir_cron.py):
- `_trigger(at)` creates one `ir.cron.trigger` row (cron_id, call_at) and, when `call_at` is not
  later than `fields.Datetime.now()` (whole seconds), registers `_notifydb`: a
  `pg_notify('cron_trigger', <db>)` after commit that wakes the cron workers. No HTTP.
- Workers run an active job whose `nextcall` is due or that has a trigger with
  `call_at <= now()`, in a transaction whose snapshot is taken after the worker woke; after the
  run they delete the job's triggers with `call_at < now()`, `now()` being the start of the
  worker's transaction, taken *before* the run.
Why the trigger is made after the commit, at the database's clock to the microsecond: made inside
the stock transaction (as 2.x did), at `fields.Datetime.now()` (whole seconds), a trigger that
committed while a run was under way (its events unseen by that run's snapshot) was deleted by
that run whenever both fell in the same second, and its events waited for the next change or the
minute's run: 9.5 s median on a real Odoo 18. Made after the commit, its `call_at` is later than
the event's commit: either the run started after it and sees the event, or the trigger outlives
the run and starts another one. And events are due at the database's clock, compared with the
database's clock (`next_attempt` holds microseconds; 2.x compared it with the Python clock cut to
whole seconds, so a run in the same second as the change skipped its own event).
- `_trigger_list` drops triggers due now when the cron is inactive: an administrator who
  deactivates the cron stops the sending, events wait in the outbox.

Inventory administrators watch the outbox under Inventory → Configuration → Woodoo outbox
(views/woodoo_webhook_event_views.xml) and send failed or waiting events again with "Send now",
which, like a stock change, only queues them and triggers the cron.
"""

import functools
import logging
import threading
import time
import uuid
from datetime import timedelta

import psycopg2.errors
import requests
from odoo import SUPERUSER_ID, api, fields, models, tools
from odoo.exceptions import AccessError

from ..lib import outbox_views as woodoo_views
from ..lib import payload as woodoo_payload
from ..lib import woodoo_signing

_logger = logging.getLogger(__name__)

PARAM_URL = "woodoo_webhook.url"
PARAM_SECRET = "woodoo_webhook.secret"
PARAM_TIMEOUT = "woodoo_webhook.timeout"
PARAM_SKU_FIELD = "woodoo_webhook.sku_field"
# Several daemons (several shops on one Odoo): woodoo_webhook.targets names the others, e.g.
# "shop-b,shop-c", each with woodoo_webhook.url.<name> and woodoo_webhook.secret.<name>. Every
# event is queued once per target, so that one daemon being down holds back no other.
PARAM_TARGETS = "woodoo_webhook.targets"
DEFAULT_TARGET = "default"  # the target of woodoo_webhook.url and woodoo_webhook.secret
DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 30.0
CRON_BATCH = 200
CRON_XMLID = "woodoo_webhook.ir_cron_woodoo_webhook_send"
LIST_VIEW_XMLID = "woodoo_webhook.view_woodoo_webhook_event_list"
# Kept in the cursor's post-commit data, which Odoo clears on commit and on rollback: exactly the
# life of one transaction.
TRIGGERED_KEY = "woodoo_webhook.cron_triggered"
KEEP_SENT_DAYS = 30
KEEP_FAILED_DAYS = 90
USER_AGENT = "woodoo-webhook/1.0.0 (Odoo)"
# What is signed and sent, and where: written once, by the module, when the event is queued.
SIGNED_FIELDS = ("event_id", "payload", "source_model", "target")
# How long the wake-up after a start waits for the database to finish loading: an update of a
# large database (-u) can take minutes; past this, the minute's cron run says it instead.
LOADED_WAIT = 900.0
LOADED_POLL = 0.1


class DeliveryError(Exception):
    """One attempt failed; `reachable` is False when the daemon did not answer at all."""

    def __init__(self, message, reachable):
        super().__init__(message)
        self.reachable = reachable


class WoodooWebhookEvent(models.Model):
    _name = "woodoo.webhook.event"
    _description = "Woodoo webhook event (outbox)"
    _order = "id desc"
    _rec_name = "event_id"

    event_id = fields.Char(required=True, readonly=True, index=True, copy=False)
    payload = fields.Text(required=True, readonly=True, help="The exact JSON body sent.")
    source_model = fields.Char(readonly=True)
    target = fields.Char(
        default=DEFAULT_TARGET, readonly=True, index=True,
        help="The daemon it goes to: default (woodoo_webhook.url) or a name listed in "
             "woodoo_webhook.targets (woodoo_webhook.url.<name>).")
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
        default="pending", required=True, index=True)
    attempts = fields.Integer(
        default=0, readonly=True,
        help="Attempts since the event was queued, or since it was last sent again by hand.")
    next_attempt = fields.Datetime(index=True, readonly=True)
    last_error = fields.Text(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    requeued_at = fields.Datetime(
        string="Sent again by hand", readonly=True,
        help="When an administrator last pressed Send now: the 48 hours before giving up count "
             "from then.")

    # The same database constraint (woodoo_webhook_event_event_id_unique) on every version:
    # Odoo 19 ignores _sql_constraints (with a warning) and declares constraints as attributes.
    # An event is queued once per target; rows queued before targets existed have none (NULL,
    # the default target), and are distinct from each other as ever by their event id.
    if hasattr(models, "Constraint"):
        _event_id_unique = models.Constraint("unique(event_id, target)",
                                             "A Woodoo event id must be unique per target.")
    else:
        _sql_constraints = [
            ("event_id_unique", "unique(event_id, target)",
             "A Woodoo event id must be unique per target."),
        ]

    # -- queueing, inside the transaction that changes the stock --------------------------------
    @api.model
    def _woodoo_enqueue(self, model_name, lines):
        """Queue the events for `lines` (StockLine) now; the cron worker sends them after commit."""
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
        known = {(record.event_id, record.target or DEFAULT_TARGET) for record in outbox.search(
            [("event_id", "in", [event["event_id"] for event in events])])}
        new = [(event, target) for event in events for target in outbox._woodoo_target_names()
               if (event["event_id"], target) not in known]
        if not new:
            return self.browse()
        records = outbox.create([{
            "event_id": event["event_id"],
            "payload": woodoo_payload.encode(event).decode("utf-8"),
            "source_model": model_name,
            "target": target,
            "next_attempt": now,
        } for event, target in new])
        self._woodoo_wake_cron()
        return records

    @api.model
    def _woodoo_wake_cron(self):
        """Ask the cron worker to send the outbox once this transaction has committed; once per
        transaction, however many records and calls queued events in it."""
        data = self.env.cr.postcommit.data
        if data.get(TRIGGERED_KEY):
            return
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if not cron:
            # Deleted by hand: nothing would ever send. Say so where administrators look.
            _logger.error("woodoo_webhook: the scheduled action %s is missing; events wait in "
                          "the outbox until the module is updated (-u woodoo_webhook)",
                          CRON_XMLID)
            return
        self.env.cr.postcommit.add(
            functools.partial(_trigger_after_commit, self.env.registry, cron.id))
        data[TRIGGERED_KEY] = True

    def write(self, vals):
        """Refuse any change to what is signed: only the module writes it, when queueing."""
        changed = sorted(set(vals) & set(SIGNED_FIELDS))
        if changed:
            raise AccessError(f"Woodoo outbox: {', '.join(changed)} cannot be changed; an event "
                              f"is sent exactly as it was queued")
        return super().write(vals)

    @api.model
    def _woodoo_db_now(self):
        """The database's clock now (UTC, to the microsecond): the clock events are due by."""
        self.env.cr.execute("SELECT (clock_timestamp() AT TIME ZONE 'UTC')")
        return self.env.cr.fetchone()[0]

    # -- sending, from the cron worker only -------------------------------------------------------
    @api.model
    def _woodoo_deliver(self, limit=CRON_BATCH):
        """Send the pending events that are due, oldest first; every attempt is recorded."""
        now = self._woodoo_db_now()
        cr = self.env.cr
        try:
            with cr.savepoint():
                # SKIP LOCKED: a manual "Run Manually" beside the worker never sends a row twice.
                cr.execute("SELECT id FROM woodoo_webhook_event WHERE state = 'pending' "
                           "AND (next_attempt IS NULL OR next_attempt <= %s) "
                           "ORDER BY next_attempt, id LIMIT %s FOR UPDATE SKIP LOCKED",
                           [now, limit])
                event_ids = [row[0] for row in cr.fetchall()]
        except psycopg2.errors.SerializationFailure:
            # Sent and committed by the other run since this transaction began: skip now.
            _logger.info("woodoo_webhook: events changed concurrently; next run sends the rest")
            return 0
        events = self.browse(event_ids)
        if not events:
            return 0
        targets = {}  # name -> (url, secret, timeout), or the ValueError saying what is missing
        for name in dict.fromkeys(event.target or DEFAULT_TARGET for event in events):
            try:
                targets[name] = self._woodoo_target(name)
            except ValueError as error:
                # Recorded on every event waiting for it, in words: the administrator sees
                # what to fix; the other targets' events go.
                waiting = self.browse([event.id for event in events
                                       if (event.target or DEFAULT_TARGET) == name])
                waiting._woodoo_failed(str(error), now)
                _logger.warning("woodoo_webhook: %s; %d event(s) wait", error, len(waiting))
        sent = 0
        down = set()  # targets that did not answer in this run
        session = requests.Session()
        try:
            for event in events:
                name = event.target or DEFAULT_TARGET
                if name in down or not isinstance(targets.get(name), tuple):
                    continue
                try:
                    event._woodoo_post(session, *targets[name])
                except DeliveryError as error:
                    event._woodoo_failed(str(error), now)
                    _logger.warning("woodoo_webhook: event %s not delivered to %s: %s",
                                    event.event_id, name, error)
                    # An unreachable daemon costs the worker one timeout per run, not one per
                    # event; its other events keep their place and go with the next run, and
                    # the other daemons' go now.
                    if not error.reachable:
                        down.add(name)
                else:
                    event.write({"state": "sent", "sent_at": self._woodoo_db_now(),
                                 "attempts": event.attempts + 1, "last_error": False,
                                 "next_attempt": False})
                    sent += 1
        finally:
            session.close()
        return sent

    @api.model
    def _woodoo_target_names(self):
        """The daemons every event goes to: the default one, then those woodoo_webhook.targets
        names (bounded; a name that is not one is said in the log and left out)."""
        listed = self.env["ir.config_parameter"].sudo().get_param(PARAM_TARGETS) or ""
        names, refused = woodoo_payload.target_names(listed)
        if refused:
            _logger.error("woodoo_webhook: %s: %s", PARAM_TARGETS, refused)
        return [DEFAULT_TARGET, *names]

    @api.model
    def _woodoo_target(self, name=DEFAULT_TARGET):
        """(endpoint URL, secret, timeout) of a target from the system parameters; ValueError
        naming the parameter that is missing or wrong."""
        params = self.env["ir.config_parameter"].sudo()
        suffix = "" if name == DEFAULT_TARGET else f".{name}"
        url = (params.get_param(PARAM_URL + suffix) or "").strip()
        secret = (params.get_param(PARAM_SECRET + suffix) or "").strip()
        if not url:
            raise ValueError(f"system parameter {PARAM_URL}{suffix} is not set")
        try:
            # Refused before any request: an event signed with a weak secret is never sent.
            woodoo_signing.check_secret(secret)
            endpoint = woodoo_payload.endpoint_url(url)
        except ValueError as error:
            if not suffix:
                raise
            # The words name the default target's parameters: name this target's instead.
            raise ValueError(str(error).replace(PARAM_SECRET, PARAM_SECRET + suffix)
                             .replace(PARAM_URL, PARAM_URL + suffix)) from None
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
            woodoo_signing.HEADER: woodoo_signing.sign(body, secret, route=woodoo_signing.ROUTE),
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
            if woodoo_payload.expired(event._woodoo_trying_since(), now):
                values.update(state="failed", next_attempt=False)
            else:
                values["next_attempt"] = woodoo_payload.next_attempt(now, attempts)
            event.write(values)

    def _woodoo_trying_since(self):
        """Since when this event is being tried: queued, or last sent again by hand."""
        self.ensure_one()
        return self.requeued_at or self.create_date

    # -- "Send now", from the outbox views ----------------------------------------------------------
    def action_send_now(self):
        """Queue these failed or waiting events for the cron's next run, and wake the cron.

        The administrator's request only writes the rows and the trigger, like a stock change:
        the cron worker sends after the commit, so the click never waits on the daemon either.
        A failed event gets a fresh 48 h and backoff from 1 minute, as if newly queued (the
        last error stays until the next attempt replaces it). Sent events are left alone.
        """
        now = fields.Datetime.now()
        events = self.browse([event.id for event in self if event.state != "sent"])
        if not events:
            return True
        events.write({"state": "pending", "next_attempt": now, "attempts": 0,
                      "requeued_at": now})
        self._woodoo_wake_cron()
        return True

    # -- cron, clean-up and install ---------------------------------------------------------------
    @api.model
    def _cron_woodoo_send(self):
        """Every minute and on trigger: give up on events tried for ~48 h, send those due."""
        now = self._woodoo_db_now()
        stale = self.search([("state", "=", "pending"),
                             ("create_date", "<", now - woodoo_payload.GIVE_UP_AFTER)])
        for event in stale:
            if not woodoo_payload.expired(event._woodoo_trying_since(), now):
                continue  # sent again by hand within the last 48 h
            event.write({"state": "failed", "next_attempt": False,
                         "last_error": "gave up after 48 h; last error: "
                                       f"{event.last_error or 'none'}"})
        sent = self._woodoo_deliver(limit=CRON_BATCH)
        if not sent:
            self._woodoo_heartbeat(now)
        return sent

    @api.model
    def _woodoo_heartbeat(self, now):
        """Tell the daemon that Odoo runs, when this run had nothing to send: a daemon that
        paused its calls to Odoo (Odoo was down) resumes at once, instead of at the end of a
        cool-down of up to 5 minutes. One short signed POST a minute while idle; never retried,
        never recorded (the next run says it again)."""
        body = woodoo_payload.encode(woodoo_payload.heartbeat(now, uuid.uuid4().hex))
        with requests.Session() as session:
            for name in self._woodoo_target_names():  # every daemon may have paused its calls
                try:
                    url, secret, timeout = self._woodoo_target(name)
                except ValueError:
                    continue  # not set up: the events' last_error already says what is missing
                headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                           woodoo_signing.HEADER: woodoo_signing.sign(
                               body, secret, route=woodoo_signing.ROUTE)}
                try:
                    session.post(url, data=body, headers=headers, timeout=timeout,
                                 allow_redirects=False)
                except requests.exceptions.RequestException as error:
                    _logger.debug("woodoo_webhook: heartbeat not delivered to %s: %s", name,
                                  error)

    def _register_hook(self):
        """Once this process has loaded the database: tell the daemon Odoo runs, and send what
        waited, without waiting for the cron.

        Odoo's cron thread (and cron worker) sleeps up to a minute before its first look after a
        start, and only looks at databases already loaded: on a real Odoo 19 stopped for 155 s,
        the daemon heard of the start from the idle heartbeat 23.5 s after it. The registry is
        marked ready only after every `_register_hook` has returned, hence a thread that waits
        for it. Each process that loads the database (each HTTP worker, the cron worker) says it
        once: a few short POSTs per start, which the daemon takes as word that Odoo is back.
        """
        super()._register_hook()
        if tools.config.get("test_enable") or tools.config.get("stop_after_init"):
            return  # tests and one-off updates: the process ends, nothing is running to announce
        threading.Thread(target=_announce_when_loaded, args=(self.env.registry,),
                         name="woodoo-webhook-loaded", daemon=True).start()

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
    def _woodoo_load_list_view(self):
        """On install and update: the outbox's list view, as <list> on Odoo 18, <tree> on 17.

        Loaded like a data file's record (`_load_records` with the module's XML id, as
        tools/convert.py does in both versions), so that an update keeps it and an uninstall
        removes it; lib/outbox_views.py says why it cannot live in the XML.
        """
        views = self.env["ir.ui.view"]
        tag = woodoo_views.list_tag(views._fields["type"].get_values(self.env))
        # arch_db rather than arch: ir.ui.view.write() flags an `arch` written outside a data
        # file as edited by hand (arch_updated), which this view is not. With arch_db the type
        # must be given: create() derives it from `arch` or `arch_base` only.
        return views._load_records([{
            "xml_id": LIST_VIEW_XMLID,
            "values": {"name": "woodoo.webhook.event.list", "model": self._name, "type": tag,
                       "arch_db": woodoo_views.list_view_arch(tag)},
            "noupdate": False,
        }], True)

    @api.model
    def _woodoo_fix_cron(self):
        """Odoo 17's ir.cron runs `numbercall` times (default 1); make ours run forever.

        18 has no numbercall (the XML cannot set a field one version lacks), hence this.
        """
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if cron and "numbercall" in cron._fields and cron.numbercall != -1:
            cron.sudo().write({"numbercall": -1})


def _trigger_after_commit(registry, cron_id):
    """Trigger the sending cron now, in a transaction of its own (a post-commit callback)."""
    try:
        with registry.cursor() as cr:
            cron = api.Environment(cr, SUPERUSER_ID, {})["ir.cron"].browse(cron_id)
            if not cron.active:
                return  # deactivated by an administrator: events wait in the outbox
            # cr.now(): this transaction's start, after the events' commit, to the microsecond.
            at = cr.now()
            cron._trigger(at=at)
            if at > fields.Datetime.now():
                # _trigger wakes the workers only for a time not later than now in whole seconds.
                cr.postcommit.add(cron._notifydb)
    except Exception:  # the stock change is committed: the minute's run sends its events
        _logger.exception("woodoo_webhook: could not trigger the sending cron; the events go "
                          "with its next run (within a minute)")


def _announce_when_loaded(registry):
    """Wait until `registry` is ready, then send a heartbeat and trigger the sending cron."""
    deadline = time.monotonic() + LOADED_WAIT
    while not registry.ready:
        if time.monotonic() > deadline:
            return  # never finished loading: the minute's cron run says it instead
        time.sleep(LOADED_POLL)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cron = env.ref(CRON_XMLID, raise_if_not_found=False)
            outbox = env["woodoo.webhook.event"]
            outbox._woodoo_heartbeat(outbox._woodoo_db_now())
    except Exception:  # a courtesy: the minute's cron run tells the daemon anyway
        _logger.exception("woodoo_webhook: could not tell the daemon that Odoo started")
        return
    if cron:
        _trigger_after_commit(registry, cron.id)  # events that waited while Odoo was down
