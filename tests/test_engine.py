"""The engine end to end: real odoorpc and woocommerce clients against the simulators over HTTP."""

from __future__ import annotations

import threading
import time

import pytest
from structlog.testing import capture_logs

from woodoo.engine import WATERMARK
from woodoo.gateways.odoo import OdooError
from woodoo.lock import StateLock
from woodoo.state import PushItem


def batch_posts(shop) -> list:
    return [r for r in shop.server.requests if r.method == "POST" and r.path.endswith("/batch")]


def odoo_model_calls(odoo) -> int:
    return odoo.call_count(method="execute_kw")


def shows(shop, sku) -> int | None:
    return shop.stock(sku)[0]


def test_first_poll_makes_the_shop_show_odoo_free_stock_in_the_configured_warehouse(
        engine, odoo, shop):
    summary = engine.poll()
    assert summary.failed == 0
    assert shows(shop, "WDG-1001") == 115  # WH: 120 on hand, 5 reserved
    assert shows(shop, "WDG-1006") == 0  # stock only in RET, which is not configured
    assert shop.stock("WDG-1006")[1] == "outofstock"
    assert shows(shop, "TSH-M-BLU") == 22  # a variation: 25 on hand, 3 reserved
    assert shows(shop, "GIFT-WRAP") == 5  # an Odoo consumable never zeroes the shop
    assert shows(shop, "WOO-ONLY-1") == 7  # unknown to Odoo: left alone
    assert engine.state.runs.get_meta(WATERMARK) is not None


def test_a_poll_where_nothing_changed_writes_nothing(engine, shop):
    engine.poll()
    shop.server.reset_log()
    summary = engine.poll()
    assert (summary.changed, summary.pushed) == (0, 0)
    assert batch_posts(shop) == []


def test_delta_poll_pushes_only_what_changed(engine, odoo, shop):
    engine.poll()
    shop.server.reset_log()
    odoo.set_on_hand("WDG-1002", "WH", 61)
    summary = engine.poll()
    assert summary.pushed == 1
    assert shows(shop, "WDG-1002") == 61
    [post] = batch_posts(shop)
    assert post.path == "/wp-json/wc/v3/products/batch"
    [audit] = engine.state.pushes.audit("WDG-1002", limit=1)
    assert (audit["old_quantity"], audit["new_quantity"], audit["source"]) == (80, 61, "poll")


def test_variations_are_written_through_their_parent(engine, odoo, shop, shop_ids):
    engine.poll()
    shop.server.reset_log()
    odoo.set_on_hand("TSH-L-BLK", "WH", 3)
    engine.poll()
    assert shop.stock("TSH-L-BLK") == (3, "instock")
    [post] = batch_posts(shop)
    assert post.path == f"/wp-json/wc/v3/products/{shop_ids['TSH']}/variations/batch"


def test_stock_status_is_written_with_the_quantity(engine, odoo, shop):
    engine.poll()
    odoo.set_on_hand("WDG-1003", "WH", 0)
    engine.poll()
    assert shop.stock("WDG-1003") == (0, "outofstock")
    odoo.set_on_hand("WDG-1003", "WH", 4)
    engine.poll()
    assert shop.stock("WDG-1003") == (4, "instock")


def test_an_sku_missing_from_the_shop_is_a_dead_letter_and_blocks_nothing(engine, odoo, shop):
    odoo.add_product("NEW-1", "New Lamp")
    odoo.set_on_hand("NEW-1", "WH", 9)
    odoo.set_on_hand("WDG-1004", "WH", 17)
    engine.poll()
    assert shows(shop, "WDG-1004") == 17
    letters = {d.sku: d.reason for d in engine.state.dead_letters.open()}
    assert letters == {"NEW-1": "SKU NEW-1 could not be found in WooCommerce"}


def test_a_per_item_batch_error_fails_that_item_only(engine, odoo, shop, shop_ids):
    engine.poll()
    shop.delete(shop_ids["WDG-1005"])
    odoo.set_on_hand("WDG-1005", "WH", 150)
    odoo.set_on_hand("WDG-1004", "WH", 11)
    summary = engine.poll()
    assert (summary.pushed, summary.failed) == (1, 1)
    assert shows(shop, "WDG-1004") == 11
    [letter] = engine.state.dead_letters.open()
    assert letter.sku == "WDG-1005"
    assert "WooCommerce rejected the update" in letter.reason
    assert "WDG-1005" not in engine.state.catalog.products(["WDG-1005"])  # looked up anew next time


def test_429_is_retried_after_retry_after(engine, odoo, shop):
    engine.poll()
    odoo.set_on_hand("WDG-1002", "WH", 33)
    shop.server.reset_log()
    shop.rate_limit_next(1, retry_after=1)
    summary = engine.poll()
    assert summary.pushed == 1 and shows(shop, "WDG-1002") == 33
    limited, retried = shop.server.requests[0], shop.server.requests[1]
    assert limited.status == 429 and retried.status == 200
    assert retried.at - limited.at >= 0.9  # backoff base is 0.01 s: Retry-After won


def test_odoo_down_then_back(engine, odoo, shop):
    engine.poll()
    watermark = engine.state.runs.get_meta(WATERMARK)
    odoo.server.go_down()
    with pytest.raises(OdooError, match="cannot reach Odoo"):
        engine.poll()
    assert engine.state.runs.get_meta(WATERMARK) == watermark
    odoo.server.come_back()
    odoo.set_on_hand("WDG-1002", "WH", 12)
    engine.poll()
    assert shows(shop, "WDG-1002") == 12


def test_woocommerce_down_keeps_the_watermark_and_retries_next_poll(engine, odoo, shop):
    engine.poll()
    watermark = engine.state.runs.get_meta(WATERMARK)
    odoo.set_on_hand("WDG-1002", "WH", 44)
    shop.server.go_down()
    summary = engine.poll()
    assert summary.failed == 1
    assert engine.state.runs.get_meta(WATERMARK) == watermark
    [letter] = engine.state.dead_letters.open()
    assert "cannot reach WooCommerce" in letter.reason
    shop.server.come_back()
    engine.poll()
    assert shows(shop, "WDG-1002") == 44
    assert engine.state.dead_letters.open() == []


def test_only_configured_warehouses_count_and_several_are_summed(make_engine, odoo, shop):
    make_engine().poll()
    assert shows(shop, "WDG-1001") == 115
    odoo.set_on_hand("WDG-1001", "RET", 80)
    make_engine().poll()
    assert shows(shop, "WDG-1001") == 115
    both = make_engine(odoo={"warehouses": ["WH", "Retail Store"]})
    both.sync(full=True)
    assert shows(shop, "WDG-1001") == 195


def test_rules_from_config_apply(make_engine, odoo, shop):
    make_engine(sync={"stock_buffer": 10, "exclude_skus": ["WDG-1002"]}).sync(full=True)
    assert shows(shop, "WDG-1001") == 105
    assert shows(shop, "WDG-1004") == 20
    assert shows(shop, "WDG-1002") == 0  # excluded: the shop's own value stays


def test_full_sync_fixes_drift_made_in_the_shop(engine, shop, shop_ids):
    engine.poll()
    shop.set_stock(shop_ids["WDG-1003"], 999)
    assert engine.poll().pushed == 0  # the poll trusts what it last pushed
    summary = engine.sync(full=True)
    assert summary.pushed == 1 and shows(shop, "WDG-1003") == 45


def test_dry_run_writes_nothing(engine, shop):
    before = {sku: shows(shop, sku) for sku in ("WDG-1001", "TSH-S-RED")}
    shop.server.reset_log()
    summary = engine.sync(full=True, dry_run=True)
    assert summary.changed > 0 and summary.pushed == 0
    assert {c.sku for c in summary.changes} >= {"WDG-1001", "TSH-S-RED"}
    assert batch_posts(shop) == []
    assert {sku: shows(shop, sku) for sku in before} == before
    assert engine.state.runs.counts()["skus_mapped"] == 0


def test_sync_limited_to_some_skus(engine, shop):
    engine.sync(skus=["WDG-1001"])
    assert shows(shop, "WDG-1001") == 115
    assert shows(shop, "WDG-1002") == 0


def test_a_full_sync_of_some_skus_compares_those_and_names_the_unknown(engine, shop, shop_ids):
    engine.poll()
    shop.set_stock(shop_ids["WDG-1003"], 999)
    shop.set_stock(shop_ids["WDG-1004"], 999)
    with capture_logs() as logs:
        summary = engine.sync(full=True, skus=["WDG-1003", "NO-SUCH-SKU"])
    assert summary.checked == 1 and summary.pushed == 1
    assert shows(shop, "WDG-1003") == 45 and shows(shop, "WDG-1004") == 999  # only the one asked
    assert [entry["sku"] for entry in logs if entry["event"] == "sku not in odoo"] == ["NO-SUCH-SKU"]


def test_recovery_resends_a_journaled_push_the_shop_never_got(engine, shop):
    engine.poll()
    product = engine.state.catalog.products(["WDG-1002"])["WDG-1002"]
    engine.state.pushes.journal("lost-1", [PushItem("WDG-1002", product.woo_id, 0, 77, "instock")],
                                "poll", "lost")
    shop.server.reset_log()
    with StateLock(engine.config.state.path).acquire("test") as lock:
        engine.state_lock = lock  # leftovers are settled only by the holder of the state lock
        engine.recover("test")
    assert shows(shop, "WDG-1002") == 77
    assert len(batch_posts(shop)) == 1
    assert engine.state.pushes.unfinished() == []


def test_recovery_confirms_a_push_the_shop_applied_without_resending(engine, shop):
    engine.poll()
    product = engine.state.catalog.products(["WDG-1002"])["WDG-1002"]
    shop.set_stock(product.woo_id, 66)  # the batch arrived, the daemon died before recording it
    engine.state.pushes.journal("half-1", [PushItem("WDG-1002", product.woo_id, 0, 66, "instock")],
                                "poll", "half")
    shop.server.reset_log()
    with StateLock(engine.config.state.path).acquire("test") as lock:
        engine.state_lock = lock
        engine.recover("test")
    assert batch_posts(shop) == []
    [audit] = engine.state.pushes.audit("WDG-1002", limit=1)
    assert (audit["new_quantity"], audit["source"]) == (66, "poll+recovered")


def test_a_transaction_that_commits_late_is_still_read(engine, odoo, shop):
    engine.poll()
    with odoo.transaction():  # stamped now, invisible to readers until it commits
        odoo.set_on_hand("WDG-1003", "WH", 5)
        time.sleep(1.1)
        other = threading.Thread(target=odoo.set_on_hand, args=("WDG-1004", "WH", 6))
        other.start()
        other.join()  # another user's change commits first, with a later stamp
        engine.poll()
        assert (shows(shop, "WDG-1004"), shows(shop, "WDG-1003")) == (6, 45)
    engine.poll()  # the watermark moved past the late transaction's stamp: the overlap catches it
    assert shows(shop, "WDG-1003") == 5


def test_an_sku_with_a_slash_is_found_over_plain_http(engine, odoo, shop):
    engine.poll()  # the SKU map is built: the new SKU must be looked up on its own
    shop.add_simple("BOX/12", 3)
    odoo.add_product("BOX/12", "Box of twelve")
    odoo.set_on_hand("BOX/12", "WH", 30)
    engine.poll()
    assert shows(shop, "BOX/12") == 30
    assert engine.state.dead_letters.open() == []


def test_the_sku_map_knows_the_odoo_product(engine, odoo):
    engine.poll()
    assert engine.state.catalog.odoo_ids()["TSH-S-RED"] == odoo.product_id("TSH-S-RED")


def test_skus_shared_by_several_products_are_dead_lettered_not_guessed(engine, odoo, shop,
                                                                      shop_ids):
    shop.set_sku(shop_ids["WDG-1004"], "WDG-1003")
    odoo.add_product("WDG-1002", "A second Odoo product with the same reference")
    engine.poll()
    letters = {d.sku: d.reason for d in engine.state.dead_letters.open()}
    assert letters["WDG-1003"].startswith("SKU WDG-1003 is used by several WooCommerce products")
    assert letters["WDG-1002"].startswith("SKU WDG-1002 is used by several Odoo products")
    assert shows(shop, "WDG-1002") == 0 and shows(shop, "WDG-1001") == 115


def test_the_shop_connections_are_reused(make_engine, shop):
    for n in range(250):  # three pages of products
        shop.add_simple(f"EXTRA-{n:03d}", 1)
    engine = make_engine()
    before = shop.server.connections_seen
    engine.poll()
    requests_made = shop.server.count()
    assert requests_made >= 4
    # One pool of at most `woocommerce.concurrency` (4) keep-alive connections for every request.
    assert shop.server.connections_seen - before <= 4


def _ids_sent(odoo) -> int:
    """How many product ids the client sent in reads of product figures since the last reset."""
    sent = 0
    for call in odoo.calls:
        if (call.model == "product.product" and call.model_method == "search_read" and call.args
                and "free_qty" in (call.kwargs or {}).get("fields", [])):
            for term in call.args[0]:
                if isinstance(term, list) and term[:2] == ["id", "in"]:
                    sent += len(term[2])
    return sent


def test_a_poll_inside_the_overlap_reads_only_what_is_new(make_engine, odoo, shop):
    engine = make_engine(sync={"delta_overlap": 600}, odoo={"page_size": 10})
    engine.poll()
    engine.poll()  # the catalog was written inside the window too: now it has been seen
    skus = ["WDG-1001", "WDG-1002", "WDG-1003", "WDG-1004", "WDG-1005", "TSH-S-RED", "TSH-M-BLU"]
    for n, sku in enumerate(skus):  # a burst of writes, all inside the overlap window
        odoo.set_on_hand(sku, "WH", 30 + n)
    odoo.reset_calls()
    engine.poll()
    assert _ids_sent(odoo) == len(skus)  # each once
    # The quant and move reads ask for bare product ids (no display name per row).
    deltas = [c for c in odoo.calls if c.model in ("stock.quant", "stock.move")]
    assert deltas and all(c.kwargs.get("load") is None and "load" in c.kwargs for c in deltas)
    odoo.reset_calls()
    engine.poll()  # nothing new: the same rows come back, none is read again
    assert _ids_sent(odoo) == 0
    odoo.set_on_hand("WDG-1002", "WH", 3)
    odoo.reset_calls()
    engine.poll()
    assert _ids_sent(odoo) == 1 and shows(shop, "WDG-1002") == 3


def test_after_a_burst_each_product_id_is_sent_once_not_once_per_page(make_engine, odoo):
    engine = make_engine(odoo={"page_size": 10})
    engine.poll()
    engine.poll()
    burst = [f"BURST-{n:03d}" for n in range(35)]
    for sku in burst:
        odoo.add_product(sku, f"Burst {sku}")
        odoo.set_on_hand(sku, "WH", 5)
    odoo.reset_calls()
    engine.poll()
    assert _ids_sent(odoo) == len(burst)  # 4 chunks of at most 10, each id once


def test_sync_skus_limits_every_read_and_write_to_the_patterns(make_engine, shop, shop_ids, odoo):
    engine = make_engine(sync={"skus": ["WDG-100[12]"]})
    first = engine.poll()
    assert {c.sku for c in first.changes} == {"WDG-1001", "WDG-1002"}
    assert shop.stock("WDG-1003")[0] == 0 and shop.stock("TSH-S-RED")[0] == 0  # never written
    shop.set_stock(shop_ids["WDG-1003"], 3)
    shop.set_stock(shop_ids["WDG-1002"], 3)
    odoo.set_on_hand("WDG-1004", "WH", 5)
    summary, _, _ = engine.reconcile(dry_run=False)
    assert {c.sku for c in summary.changes} == {"WDG-1002"}
    assert shop.stock("WDG-1003")[0] == 3 and shop.stock("WDG-1004")[0] == 0
