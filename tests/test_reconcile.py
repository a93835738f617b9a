"""Nightly reconciliation against the simulators: drift found, corrected, reported, emailed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from helpers import Inbox, free_port

from woodoo.daemon import build_scheduler, open_engine
from woodoo.reporting import reconcile


@pytest.fixture
def inbox():
    handler = Inbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def smtp(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none", "sender": "woodoo@shop.test",
            "recipients": ["staff@shop.test"], "timeout": 5}


def drift_the_shop(engine, odoo, shop, shop_ids):
    engine.poll()
    shop.set_stock(shop_ids["WDG-1001"], 500)  # edited by hand
    shop.delete(shop_ids["WDG-1005"])  # deleted in the shop
    shop.set_sku(shop_ids["WDG-1004"], "WDG-1003")  # SKU duplicated
    shop.set_manage_stock(shop_ids["WDG-1017"], False)  # manage stock turned off


def test_drift_is_found_corrected_reported_and_emailed(make_engine, odoo, shop, shop_ids, inbox):
    engine = make_engine(smtp=smtp(inbox.port))
    drift_the_shop(engine, odoo, shop, shop_ids)
    found, saved, (sent, note) = reconcile.reconcile_and_report(engine)

    assert [(d.sku, d.shop_before, d.should_show, d.shop_after) for d in found.drift] == [
        ("WDG-1001", 500, 115, 115)]
    assert shop.stock("WDG-1001")[0] == 115
    assert found.odoo_only == ["WDG-1004", "WDG-1005"]  # 1004 now carries the SKU WDG-1003
    assert found.duplicate_shop == {"WDG-1003": [shop_ids["WDG-1003"], shop_ids["WDG-1004"]]}
    assert found.unmanaged == [f"WDG-1017 (id {shop_ids['WDG-1017']})"]
    assert found.needs_attention
    assert saved["html"].exists() and saved["csv"].exists() and saved["txt"].exists()

    assert sent, note
    [message] = inbox.messages
    assert "Needs attention" in message["Subject"]
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    [attachment] = [p for p in message.iter_attachments()]
    assert attachment.get_filename().endswith(".csv")
    assert "WDG-1001" in attachment.get_content()
    text = message.get_body(("plain",)).get_content()
    assert "WDG-1001" in text and "WDG-1005" in text


def test_dry_run_corrects_nothing(make_engine, odoo, shop, shop_ids):
    engine = make_engine()
    drift_the_shop(engine, odoo, shop, shop_ids)
    found, _, (sent, note) = reconcile.reconcile_and_report(engine, dry_run=True, email=False)
    assert [(d.sku, d.shop_after) for d in found.drift] == [("WDG-1001", None)]
    assert shop.stock("WDG-1001")[0] == 500
    assert (sent, note) == (False, "not sent (--no-email)")


def test_report_only_config_corrects_nothing(make_engine, odoo, shop, shop_ids):
    engine = make_engine(reconciliation={"correct": False})
    drift_the_shop(engine, odoo, shop, shop_ids)
    found, _, _ = reconcile.reconcile_and_report(engine, email=False)
    assert found.drift[0].shop_after is None and shop.stock("WDG-1001")[0] == 500


def test_smtp_down_keeps_the_report_and_says_why(make_engine, odoo, shop, shop_ids):
    engine = make_engine(smtp=smtp(free_port()))
    drift_the_shop(engine, odoo, shop, shop_ids)
    _, saved, (sent, note) = reconcile.reconcile_and_report(engine)
    assert not sent and "refused" in note.lower()
    assert saved["txt"].exists() and "WDG-1001" in saved["txt"].read_text()
    assert shop.stock("WDG-1001")[0] == 115  # the correction did not depend on the mail


def test_a_sku_drifting_on_several_nights_is_reported(make_engine, odoo, shop, shop_ids):
    engine = make_engine()
    engine.poll()
    for night in (1, 2):
        engine.state.database.clock = engine.clock = (
            lambda n=night: datetime(2026, 11, 20 + n, 2, tzinfo=UTC).timestamp())
        shop.set_stock(shop_ids["WDG-1002"], 1)
        found, _, _ = reconcile.reconcile_and_report(engine, email=False)
    assert found.repeat_drifters == [("WDG-1002", 2)]


def test_schedule_runs_in_the_store_time_zone(make_config):
    schedule = reconcile.trigger(make_config(reconciliation={"timezone": "America/New_York"}))
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    fire = schedule.get_next_fire_time(None, now)
    assert fire.astimezone(UTC) == datetime(2026, 11, 24, 7, tzinfo=UTC)  # 02:00 EST


def test_a_missed_run_is_caught_up_once_and_a_done_run_is_not_repeated(make_config):
    schedule = reconcile.trigger(make_config())
    due = datetime(2026, 11, 23, 2, tzinfo=UTC)
    three_am = due + timedelta(hours=1)
    yesterday = (due - timedelta(days=1)).timestamp()
    assert reconcile.missed_run(schedule, yesterday, three_am, grace_hours=6) == due
    assert reconcile.missed_run(schedule, due.timestamp() + 60, three_am, grace_hours=6) is None
    assert reconcile.missed_run(schedule, yesterday, due + timedelta(hours=8), 6) is None
    assert reconcile.missed_run(schedule, None, three_am, 6) is None  # a new install missed nothing


def test_the_daemon_schedules_a_catch_up_only_when_a_run_was_missed(make_config):
    config = make_config(reconciliation={"catch_up_hours": 48})
    with open_engine(config, connect=False) as engine:
        def catch_up_job() -> bool:
            scheduler = build_scheduler(engine)
            scheduler.start(paused=True)
            try:
                return scheduler.get_job("reconcile-catch-up") is not None
            finally:
                scheduler.shutdown(wait=False)

        assert not catch_up_job()  # a new installation: nothing missed, the clock starts now
        assert engine.state.runs.get_meta(reconcile.LAST_RUN) is not None
        engine.state.runs.set_meta(reconcile.LAST_RUN, repr(time.time() - 3 * 86400))
        assert catch_up_job()  # down over a scheduled run within the grace period
        engine.state.runs.set_meta(reconcile.LAST_RUN, repr(time.time()))
        assert not catch_up_job()  # already done: a restart does not run it twice


def test_drift_per_night_takes_each_day_s_most_and_tonight_s_figure():
    from datetime import date
    from zoneinfo import ZoneInfo

    from woodoo.reporting.reconcile import _drift_nights

    zone = ZoneInfo("Europe/Amsterdam")
    day = 86400.0
    start = 1_795_000_000.0  # 2026-11-18, 10:06 in Amsterdam
    runs = [(start - 40 * day, 9), (start, 5), (start + 3600, 4), (start + day, 0),
            (start + 2 * day, 200)]
    nights = _drift_nights(runs, zone, date(2026, 11, 20), tonight=7)
    # 11-18: a rerun found 4 after 5; 11-20: 200 drifted earlier tonight, this run found 7.
    assert nights == [("2026-11-18", 5), ("2026-11-19", 0), ("2026-11-20", 200)]


def test_an_sku_two_shop_items_share_is_a_duplicate_not_missing(make_engine, odoo, shop, shop_ids):
    engine = make_engine()
    drift_the_shop(engine, odoo, shop, shop_ids)
    found = reconcile.run_reconciliation(engine)
    reasons = [d.reason for d in engine.state.dead_letters.open() if d.sku == "WDG-1003"]
    assert reasons and all("several WooCommerce products" in r for r in reasons), reasons
    assert "WDG-1003" not in found.odoo_only


def test_a_second_run_in_a_night_charts_what_drifted_earlier(make_engine, odoo, shop, shop_ids):
    engine = make_engine()
    engine.poll()
    for hour, skus in ((2, ("WDG-1001", "WDG-1002", "WDG-1003")), (3, ("WDG-1002",))):
        engine.state.database.clock = engine.clock = (
            lambda h=hour: datetime(2026, 11, 21, h, tzinfo=UTC).timestamp())
        for sku in skus:
            shop.set_stock(shop_ids[sku], 1)  # edited by hand
        found, saved, _ = reconcile.reconcile_and_report(engine, email=False)
    assert [d.sku for d in found.drift] == ["WDG-1002"]
    assert found.drift_nights[-1] == ("2026-11-21", 3)  # the night's most, not the rerun's 1
    html = saved["html"].read_text()
    assert "Tonight 3 SKUs drifted in an earlier run; this run found 1 SKU," in html
    assert 'data-drift="3"' in html and "Drift <span" in html and "(1)</span>" in html
