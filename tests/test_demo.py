"""`woodoo demo` runs unattended and every stock change reaches the shop."""

import io

from rich.console import Console

from woodoo.demo import run_demo


def test_demo_runs_by_itself_and_every_change_arrives():
    output = io.StringIO()
    assert run_demo(duration=9, poll_interval=1, console=Console(file=output, width=120)) is True
    text = output.getvalue()
    assert "First sync done" in text
    assert "Shop  : WDG-1001 shows 90 (instock), updated" in text
    assert "Demo finished." in text
