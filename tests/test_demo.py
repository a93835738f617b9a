"""`woodoo demo` tells its story unattended: webhook, poll, a shop order, drift and its report."""

import io
import re

from rich.console import Console

from woodoo.demo import run_demo


def test_the_demo_tells_the_whole_story_and_every_change_arrives(tmp_path):
    output = io.StringIO()
    result = run_demo(duration=12, poll_interval=1, directory=tmp_path,
                      console=Console(file=output, width=120))
    text = output.getvalue()
    assert result.ok, text
    assert result.steps == 4, text
    assert "First sync done" in text
    # 1. A signed webhook brings an Odoo change to the shop in well under a second.
    assert "1. a stock change in Odoo, sent by its webhook" in text
    assert "posts a signed event to /webhooks/odoo: 202 queued" in text
    assert result.webhook_seconds is not None and result.webhook_seconds < 1, text
    assert re.search(r"WDG-1002 shows 64 \(instock\) 0\.\d\d s after the change in Odoo", text)
    # 2. Without a webhook, the poll brings it.
    assert "2. the same without a webhook: the poll, every 1 s" in text
    assert re.search(r"WDG-1004 shows 27 \(instock\) after a wait of \d+\.\d\d s for the next "
                     r"poll \(written by the daemon's poll path\)", text), text
    # 3. A shop order: pending, then the sale order in Odoo, then released.
    assert "3. a shop order: held back as pending until Odoo has it" in text
    assert "sends the signed order event to /webhooks/woocommerce: delivered" in text
    assert "holds 2 x WDG-1005 as pending" in text
    assert re.search(r"sale order S\d+ \(WC-\d+\) created and confirmed", text), text
    assert "pending released" in text
    assert "WDG-1005 showed 198 throughout" in text
    # 4. Drift in the shop, corrected by a reconciliation whose report is saved.
    assert "4. a hand-made drift in the shop, corrected by a reconciliation" in text
    assert "reconciliation: " in text and "1 drifted, 1 corrected" in text
    assert "TSH-S-RED: shop 52 -> 40" in text
    assert result.report is not None and result.report.exists()
    assert result.report.parent == tmp_path / "reports"
    assert "saved, to open in a browser:" in text and f" {result.report}\n" in text
    # Then, as before the story, stock keeps changing until --duration.
    assert "Shop  : WDG-1001 shows 90 (instock), updated" in text
    assert "Demo finished." in text


def test_a_duration_shorter_than_the_story_stops_after_the_step_in_hand(tmp_path):
    output = io.StringIO()
    result = run_demo(duration=1, poll_interval=1, directory=tmp_path,
                      console=Console(file=output, width=120))
    text = output.getvalue()
    assert result.ok, text
    assert result.steps < 4, text
    if result.steps:  # the first sync finished within the second, as it does in a tenth
        assert f"(--duration reached: stopping after step {result.steps})" in text
    assert "Demo finished." in text
