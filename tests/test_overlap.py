"""Polls inside the overlap window: Odoo is asked only for rows not read before, so a window
full of an import's rows costs as many requests as a quiet poll, and a late commit is still
found; a daemon started after `woodoo sync --full` starts from the rows that read saw."""

from __future__ import annotations

import threading
import time

from click.testing import CliRunner

from woodoo.cli import main
from woodoo.gateways import window
from woodoo.gateways.odoo import unseen_domain

QUIET_POLL_CALLS = 3  # quants, moves, products written: one request each when nothing is new


def odoo_requests(odoo) -> int:
    return odoo.call_count(method="execute_kw")


def figures_read(odoo) -> int:
    """Product figures Odoo was asked to compute since the last reset (calls reading free_qty)."""
    return sum(1 for call in odoo.calls if call.model == "product.product"
               and "free_qty" in (call.kwargs or {}).get("fields", []))


def burst(odoo, count: int, quantity: int = 5) -> list[str]:
    """`count` new products, each one's quant written in one go (an import)."""
    skus = [f"IMP-{n:03d}" for n in range(count)]
    for sku in skus:
        odoo.add_product(sku, f"Imported {sku}")
    with odoo.transaction():
        for sku in skus:
            odoo.set_on_hand(sku, "WH", quantity)
    return skus


def test_polls_inside_the_window_after_a_burst_ask_one_request_per_model(make_engine, odoo,
                                                                          shop):
    engine = make_engine(sync={"delta_overlap": 600}, odoo={"page_size": 10})
    for n in range(40):
        shop.add_simple(f"IMP-{n:03d}", 0)
    engine.poll()
    burst(odoo, 40)  # 80 quant and move rows: eight pages of the window
    engine.poll()  # reads the burst once
    assert shop.stock("IMP-039")[0] == 5
    for _ in range(2):
        odoo.reset_calls()
        summary = engine.poll()
        assert odoo_requests(odoo) == QUIET_POLL_CALLS  # no page of the window read again
        assert (figures_read(odoo), summary.checked) == (0, 0)


def test_a_late_commit_inside_a_full_window_is_still_found(make_engine, odoo, shop):
    engine = make_engine(sync={"delta_overlap": 600}, odoo={"page_size": 10})
    for n in range(40):
        shop.add_simple(f"IMP-{n:03d}", 0)
    engine.poll()
    burst(odoo, 40)
    engine.poll()
    with odoo.transaction():  # stamped now, invisible to readers until it commits
        odoo.set_on_hand("WDG-1003", "WH", 5)
        time.sleep(1.1)
        other = threading.Thread(target=odoo.set_on_hand, args=("IMP-007", "WH", 6))
        other.start()
        other.join()  # commits first, with a later stamp
        engine.poll()
        assert (shop.stock("IMP-007")[0], shop.stock("WDG-1003")[0]) == (6, 45)
    odoo.reset_calls()
    summary = engine.poll()  # the late rows carry a stamp inside the window, older than seen
    assert shop.stock("WDG-1003")[0] == 5
    assert summary.checked == 1 and odoo_requests(odoo) == QUIET_POLL_CALLS + 1


def test_a_daemon_started_after_sync_full_reads_nothing_again(make_engine, make_config_file,
                                                               odoo, shop):
    path = str(make_config_file(sync={"delta_overlap": 600}))
    done = CliRunner().invoke(main, ["sync", "--full", "-c", path])
    assert done.exit_code == 0, done.output
    started = make_engine(sync={"delta_overlap": 600})  # the daemon, on the same state file
    started.odoo.connect()
    odoo.reset_calls()
    summary = started.poll()
    assert (figures_read(odoo), summary.checked) == (0, 0)  # no second full read
    assert odoo_requests(odoo) == QUIET_POLL_CALLS
    odoo.set_on_hand("WDG-1002", "WH", 61)  # and what is new is still read
    started.poll()
    assert shop.stock("WDG-1002")[0] == 61


def test_a_damaged_record_of_rows_read_means_none_read():
    assert window.loads("not json") == {}
    assert window.loads('{"stock.quant": {"2026-01-01 00:00:00": [[1, 99999999]]}}') == {}
    seen = window.remember({}, [("stock.quant", n, "2026-01-01 00:00:00") for n in (1, 2, 3, 7)])
    assert window.loads(window.dumps(seen)) == seen


def test_consecutive_ids_are_sent_as_ranges():
    domain = unseen_domain({"2026-01-01 00:00:00": {*range(1, 20001), 30000}})
    assert len(str(domain)) < 300  # not 20,000 ids in every request
