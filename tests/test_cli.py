"""The CLI over the simulators: sync, dry run, status."""

from click.testing import CliRunner

from woodoo.cli import main


def test_dry_run_prints_changes_then_sync_and_status(make_config_file, shop):
    path = str(make_config_file())
    runner = CliRunner()

    dry = runner.invoke(main, ["sync", "--full", "--dry-run", "-c", path])
    assert dry.exit_code == 0, dry.output
    assert "  WDG-1001: 0 outofstock -> 115 instock" in dry.output
    assert "would change, 0 pushed" in dry.output
    assert shop.stock("WDG-1001")[0] == 0

    done = runner.invoke(main, ["sync", "-c", path])
    assert done.exit_code == 0, done.output
    assert shop.stock("WDG-1001")[0] == 115

    status = runner.invoke(main, ["status", "-c", path])
    assert status.exit_code == 0, status.output
    assert "last run: sync at" in status.output and ", ok; checked 10, changed 8, pushed 8" in (
        status.output)
    assert "skus mapped: 12" in status.output
    assert "dead letters open: 0" in status.output

    audit = runner.invoke(main, ["audit", "--sku", "WDG-1001", "-c", path])
    assert "WDG-1001: 0 outofstock -> 115 instock  (sync, run" in audit.output


def test_setup_webhooks_dry_run_then_apply_is_idempotent(make_config_file, odoo):
    path = str(make_config_file())
    token = "t" * 40
    arguments = ["odoo", "setup-webhooks", "--mode", "native", "--url",
                 "https://woodoo.example.com", "--token", token, "-c", path]
    runner = CliRunner()
    dry = runner.invoke(main, [*arguments, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("create: Woodoo: ") == 1 and "nothing written" in dry.output
    applied = runner.invoke(main, arguments)
    assert applied.exit_code == 0 and "done" in applied.output
    again = runner.invoke(main, [*arguments, "--dry-run"])
    assert again.output.count("unchanged: Woodoo: ") == 1


def test_setup_webhooks_signed_without_the_module_is_explained(make_config_file, odoo):
    result = CliRunner().invoke(main, ["odoo", "setup-webhooks", "--mode", "signed", "--url",
                                       "https://woodoo.example.com", "-c",
                                       str(make_config_file())])
    assert result.exit_code == 2
    assert "woodoo_webhook" in result.output


def test_reconcile_then_report_last(make_config_file, shop, shop_ids):
    path = str(make_config_file())
    runner = CliRunner()
    assert runner.invoke(main, ["sync", "-c", path]).exit_code == 0
    shop.set_stock(shop_ids["WDG-1002"], 3)
    result = runner.invoke(main, ["reconcile", "--no-email", "-c", path])
    assert result.exit_code == 0, result.output
    assert "1 drifted, 1 corrected" in result.output
    assert "  WDG-1002: shop 3 -> 80 (Odoo 80, pending 0)" in result.output
    assert "email: not sent (--no-email)" in result.output
    last = runner.invoke(main, ["report", "--last", "-c", path])
    assert last.exit_code == 0 and "WDG-1002" in last.output
    status = runner.invoke(main, ["status", "-c", path])
    assert "last reconciliation (or install): never" not in status.output


def test_the_readme_command_table_lists_every_command():
    import re
    from pathlib import Path

    import click

    def commands(group: click.Group, prefix: str) -> list[str]:
        found = []
        for name, command in sorted(group.commands.items()):
            full = f"{prefix} {name}"
            found += commands(command, full) if isinstance(command, click.Group) else [full]
        return found

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `woodoo"))
    listed = set(re.findall(r"`(woodoo [a-z -]+?)(?: \[| [A-Z]|`)", table))
    missing = [c for c in commands(main, "woodoo") if not any(row.startswith(c) for row in listed)]
    assert missing == [], f"README's command table lacks: {missing}"
