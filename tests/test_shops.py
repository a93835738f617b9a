"""Several shops on one host: a daemon per config, each with its own name, state, port and secrets.

The daemons here are real `woodoo run` processes (as systemd runs them) on the simulators: one
Odoo, a shop each.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from click.testing import CliRunner
from helpers import Inbox, free_port, listening, systemd_verify, unit_directives, wait_for

from woodoo import config as config_module
from woodoo.cli import main
from woodoo.config import OdooConfig
from woodoo.gateways.odoo import OdooGateway
from woodoo.gateways.retry import RetryPolicy
from woodoo.simulators import config as simulator_config
from woodoo.simulators.odoo import OdooSimulator
from woodoo.simulators.woocommerce import WooSimulator
from woodoo.web import signing

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"
UNIT, TEMPLATE = PACKAGING / "woodoo.service", PACKAGING / "woodoo@.service"
INSTALLED_BINARY = "/opt/woodoo/bin/woodoo"  # where both units expect the daemon
SECRETS = {"shop-a": "whsec_shop_a_odoo_0123456789abcdefghijk",
           "shop-b": "whsec_shop_b_odoo_0123456789abcdefghijk"}
SHOP_SECRETS = {"shop-a": "whsec_shop_a_events_0123456789abcdefgh",
                "shop-b": "whsec_shop_b_events_0123456789abcdefgh"}


# -- the name ----------------------------------------------------------------------------------

BASE = {
    "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
             "warehouses": ["WH"]},
    "woocommerce": {"url": "https://shop-a.example.com", "consumer_key": "ck",
                    "consumer_secret": "cs"},
}


def write_config(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document), "utf-8")
    path.chmod(0o600)
    return path


def test_the_shop_is_named_by_its_key_else_its_config_file_else_its_host(tmp_path):
    named = write_config(tmp_path / "anything.yaml", {**BASE, "shop": {"name": "Shop A (EU)"}})
    assert config_module.load(named).shop_name == "Shop A (EU)"
    # The systemd template's instance: /etc/woodoo/shop-b.yaml is shop-b.
    assert config_module.load(write_config(tmp_path / "shop-b.yaml", BASE)).shop_name == "shop-b"
    # The one-shop default file name says nothing: the shop's host does.
    assert config_module.load(write_config(tmp_path / "woodoo.yaml", BASE)).shop_name == (
        "shop-a.example.com")


@pytest.mark.parametrize(("name", "problem"), [
    ("a" * 65, "shop.name: must be at most 64 characters, got 65"),
    ("shop-a\nBcc: everyone@example.com", "shop.name: must be printable on one line"),
    ("  ", "shop.name: must not be blank"),
])
def test_a_shop_name_that_would_break_a_subject_or_a_log_line_is_refused_in_words(
        tmp_path, name, problem):
    with pytest.raises(config_module.ConfigError) as refused:
        config_module.parse(yaml.safe_dump({**BASE, "shop": {"name": name}}), base_dir=tmp_path)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(problem), refused.value.problems


def test_a_config_file_whose_name_cannot_name_a_shop_falls_back_to_the_host(tmp_path):
    path = write_config(tmp_path / ("x" * 70 + ".yaml"), BASE)
    assert config_module.load(path).shop_name == "shop-a.example.com"


# -- the systemd template unit -----------------------------------------------------------------

def service_section(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for section, key, value in unit_directives(unit.read_text("utf-8")):
        if section == "Service":
            found.setdefault(key, []).append(value)
    return found


def test_the_template_unit_is_the_single_unit_per_instance_with_the_same_confinement():
    single, template = service_section(UNIT), service_section(TEMPLATE)
    per_instance = {
        "Environment": ["WOODOO_CONFIG=/etc/woodoo/%i.yaml",
                        "WOODOO_SECRET_KEY_FILE=/etc/woodoo/%i.key"],
        "StateDirectory": ["woodoo/%i"], "ReadWritePaths": ["/var/lib/woodoo/%i"],
        "SyslogIdentifier": ["woodoo-%i"],
    }
    assert {key: template.get(key) for key in per_instance} == per_instance
    # Every other line of woodoo.service (user, hardening, restart, stop timeout) is kept as is.
    assert {key: value for key, value in template.items() if key not in per_instance} == {
        key: value for key, value in single.items() if key not in per_instance}
    # Writable: its own state folder only, the one systemd makes for it.
    assert template["ReadWritePaths"] == [f"/var/lib/{template['StateDirectory'][0]}"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (systemd's own unit checker)")
def test_systemd_analyze_verify_accepts_an_instance_of_the_template(tmp_path):
    # An instance file (woodoo@shop-a.service) so that %i is expanded; verify checks that the
    # Exec commands exist, so the installed daemon's path is this Python's. Nothing is started.
    def verify(text: str) -> str:
        return systemd_verify(tmp_path / "woodoo@shop-a.service", text, INSTALLED_BINARY)

    text = TEMPLATE.read_text("utf-8")
    assert verify(text) == "exit 0: "
    assert "ProtectSytem" in verify(text.replace("ProtectSystem=", "ProtectSytem="))


def unit_command(line: str, instance: str, root: Path) -> tuple[list[str], dict[str, str]]:
    """An Exec line of the template and its Environment=, as systemd would run them for
    `instance`, with /etc and /var/lib moved under `root` and the daemon run from this Python."""
    def place(text: str) -> str:
        return (text.replace("%i", instance).replace("/etc/woodoo", f"{root}/etc/woodoo")
                .replace("/var/lib/woodoo", f"{root}/var/lib/woodoo"))

    words = shlex.split(place(line))
    assert words[0] == INSTALLED_BINARY
    environment = dict(os.environ)
    for assignment in service_section(TEMPLATE)["Environment"]:
        key, _, value = place(assignment).partition("=")
        environment[key] = value
    environment["STATE_DIRECTORY"] = place("/var/lib/woodoo/%i")  # what StateDirectory= sets
    return [sys.executable, "-m", "woodoo", *words[1:]], environment


def test_the_template_s_commands_run_the_instance_s_config_and_state(odoo, tmp_path):
    section = service_section(TEMPLATE)
    port = free_port()
    with WooSimulator() as shop:
        shop.load_catalog()
        write_config(tmp_path / "etc/woodoo/shop-a.yaml", simulator_config.document(
            odoo, shop, tmp_path / "var/lib/woodoo/shop-a/woodoo.sqlite",
            server={"port": port}, logging={"format": "json"}))
        (tmp_path / "var/lib/woodoo/shop-a").mkdir(parents=True, mode=0o700)  # StateDirectory=
        check, environment = unit_command(section["ExecStartPre"][0], "shop-a", tmp_path)
        checked = subprocess.run(check, env=environment, capture_output=True, text=True,
                                 timeout=120, check=False)
        assert checked.returncode == 0, checked.stderr
        assert "check passed" in checked.stdout
        run, environment = unit_command(section["ExecStart"][0], "shop-a", tmp_path)
        log = tmp_path / "daemon.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(run, env=environment, stdout=subprocess.DEVNULL,
                                       stderr=stderr)
            try:
                assert wait_for(lambda: listening(port), timeout=30), log.read_text()
                assert wait_for(lambda: shop.stock("WDG-1001")[0] == 115, timeout=30)
            finally:
                process.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
                assert process.wait(timeout=60) == 0
    assert (tmp_path / "var/lib/woodoo/shop-a/woodoo.sqlite").is_file()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    started = [line for line in lines if line["event"] == "started"]
    assert started and {line.get("shop") for line in lines} == {"shop-a"}


# -- two daemons side by side ------------------------------------------------------------------

def woodoo(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "woodoo", *arguments], capture_output=True,
                          text=True, timeout=timeout, check=False)


def post_signed(port: int, product_id: int, secret: str, event_id: str) -> requests.Response:
    body = json.dumps({"event_id": event_id, "product_ids": [product_id]}).encode()
    return requests.post(f"http://127.0.0.1:{port}/webhooks/odoo", data=body, timeout=5,
                         headers={"Content-Type": "application/json",
                                  signing.HEADER: signing.sign(body, secret, signing.ODOO_EVENTS)})


@contextmanager
def daemons(configs: dict[str, Path], logs: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """`woodoo run -c <config>` for each shop, stopped with SIGTERM at the end."""
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, path in configs.items():
            with (logs / f"{name}.log").open("w") as stderr:
                running[name] = subprocess.Popen(
                    [sys.executable, "-m", "woodoo", "run", "-c", str(path)],
                    stdout=subprocess.DEVNULL, stderr=stderr)
        yield running
    finally:
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        for process in running.values():
            process.wait(timeout=60)


@pytest.mark.slow
def test_two_daemons_on_one_host_each_keep_their_own_shop(odoo, tmp_path, smtp_server):
    inbox = Inbox()
    smtp = {"host": "127.0.0.1", "port": smtp_server(inbox), "security": "none",
            "recipients": ["staff@agency.test"]}
    ports = {"shop-a": free_port(), "shop-b": free_port()}
    buffers = {"shop-a": 0, "shop-b": 5}  # shop B holds 5 back: its figures are its own
    shops: dict[str, WooSimulator] = {}
    configs: dict[str, Path] = {}
    etc = tmp_path / "etc"
    with WooSimulator() as shop_a, WooSimulator() as shop_b:
        for name, shop in (("shop-a", shop_a), ("shop-b", shop_b)):
            shop.load_catalog()
            shops[name] = shop
            configs[name] = write_config(etc / f"{name}.yaml", simulator_config.document(
                odoo, shop, tmp_path / "var" / name / "woodoo.sqlite",
                server={"port": ports[name]}, smtp=smtp, logging={"format": "json"},
                sync={"poll_interval": 3600, "stock_buffer": buffers[name]},  # then webhooks
                webhooks={"odoo_secrets": [SECRETS[name]], "shop_secrets": [SHOP_SECRETS[name]],
                          "reread_after": [0.1]}))
        with daemons(configs, tmp_path) as running:
            for name, port in ports.items():
                assert wait_for(lambda p=port: listening(p), timeout=30), (
                    (tmp_path / f"{name}.log").read_text())
            assert wait_for(lambda: shop_a.stock("WDG-1001")[0] == 115, timeout=30)
            assert wait_for(lambda: shop_b.stock("WDG-1001")[0] == 110, timeout=30)

            # A webhook to shop A's daemon changes shop A only.
            before_b = shop_b.stock("WDG-1002")[0]
            odoo.set_on_hand("WDG-1002", "WH", 17)
            product = odoo.product_id("WDG-1002")
            assert post_signed(ports["shop-a"], product, SECRETS["shop-a"], "a-1").status_code == 202
            assert wait_for(lambda: shop_a.stock("WDG-1002")[0] == 17, timeout=10)
            # Shop A's secret opens nothing at shop B's daemon.
            refused = post_signed(ports["shop-b"], product, SECRETS["shop-a"], "a-2")
            assert refused.status_code == 401
            time.sleep(1.0)  # what a wrongly applied event would have taken (reread 0.1 s)
            assert shop_b.stock("WDG-1002")[0] == before_b
            assert post_signed(ports["shop-b"], product, SECRETS["shop-b"], "b-1").status_code == 202
            assert wait_for(lambda: shop_b.stock("WDG-1002")[0] == 12, timeout=10)
            assert shop_a.stock("WDG-1002")[0] == 17

            # Each names its shop: status, the plugin's status route, metrics, mails.
            for name, port in ports.items():
                shown = woodoo("status", "-c", str(configs[name]))
                assert shown.returncode == 0, shown.stderr
                assert shown.stdout.startswith(f"shop: {name} ({shops[name].url}")
                body = b"{}"
                answer = requests.post(
                    f"http://127.0.0.1:{port}/webhooks/status", data=body, timeout=5,
                    headers={"Content-Type": "application/json", signing.HEADER: signing.sign(
                        body, SHOP_SECRETS[name], signing.SHOP_STATUS)})
                assert answer.json()["shop"] == name
                metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                assert f'woodoo_shop_info{{shop="{name}"}} 1.0' in metrics
            assert woodoo("alerts", "test", "-c", str(configs["shop-a"])).returncode == 0
            reconciled = woodoo("reconcile", "--dry-run", "-c", str(configs["shop-b"]))
            assert reconciled.returncode == 0, reconciled.stderr
            assert "handed `woodoo reconcile` to it" in reconciled.stderr  # B's daemon ran it
            subjects = sorted(str(message["Subject"]) for message in inbox.messages)
            assert len(subjects) == 2, subjects
            assert subjects[0].startswith("[Woodoo] (dry run) All good") and re.search(
                r" — shop-b \d{4}-\d\d-\d\d$", subjects[0]), subjects
            assert subjects[1] == "[Woodoo] test: Test alert — shop-a"

            # A third config naming shop A's state by another path (relative, through a linked
            # folder) is refused, naming the daemon that holds it; nothing is started.
            (tmp_path / "linked").symlink_to(tmp_path / "var" / "shop-a")
            for state_path in ("../var/shop-a/./woodoo.sqlite",
                               str(tmp_path / "linked" / "woodoo.sqlite")):
                document = yaml.safe_load(configs["shop-b"].read_text())
                document["state"]["path"] = state_path
                document["server"]["port"] = free_port()
                third = woodoo("run", "-c", str(write_config(etc / "shop-c.yaml", document)),
                               timeout=60)
                assert third.returncode == 1
                assert third.stderr.strip().endswith(
                    f"is in use by `woodoo run` (pid {running['shop-a'].pid}): one process owns "
                    f"a state file; stop it first, or give this one its own state.path"), (
                    third.stderr)
            # A config with its own state and shop B's port stops before any work, in words.
            document = yaml.safe_load(configs["shop-b"].read_text())
            document["state"]["path"] = str(tmp_path / "var" / "shop-c" / "woodoo.sqlite")
            calls = len(odoo.calls)
            third = woodoo("run", "-c", str(write_config(etc / "shop-c.yaml", document)),
                           timeout=60)
            assert third.returncode == 1
            assert third.stderr.strip().splitlines()[-1] == (
                f"error: server.port: 127.0.0.1:{ports['shop-b']} is already in use by another "
                f"process (another Woodoo daemon? each daemon needs its own server.port); set "
                f"server.port (and server.host) in the config to a free one")
            assert "Traceback" not in third.stderr
            assert len(odoo.calls) == calls  # Odoo was not called
            assert not (tmp_path / "var" / "shop-c" / "woodoo.sqlite").exists()
            assert all(process.poll() is None for process in running.values())
    for name in ports:
        lines = [json.loads(line) for line in (tmp_path / f"{name}.log").read_text().splitlines()
                 if line.startswith("{")]
        assert lines and {line.get("shop") for line in lines} == {name}


# -- one Odoo, several shops: each daemon its own automation rule ------------------------------

TOKENS = {"shop-a": "tok-shop-a-0123456789abcdef0123456789",
          "shop-b": "tok-shop-b-0123456789abcdef0123456789"}


def quant_rules(odoo: OdooSimulator) -> dict[str, dict[str, Any]]:
    """The Woodoo quant rules in the Odoo simulator, by name: active, and their webhook URL."""
    gateway = OdooGateway(OdooConfig(url=odoo.url, database=odoo.database, username=odoo.login,
                                     password=odoo.password, warehouses=["WH"]),
                          RetryPolicy(1, 0.01))
    gateway.connect()
    rules = gateway.execute("base.automation", "search_read",
                            [[("name", "=like", "Woodoo: stock.quant%")]],
                            {"fields": ["name", "active", "action_server_ids"],
                             "context": {"active_test": False}})
    found = {}
    for rule in rules:
        [action] = gateway.execute("ir.actions.server", "read", [rule["action_server_ids"]],
                                   {"fields": ["webhook_url"]})
        found[rule["name"]] = {"active": rule["active"], "url": action["webhook_url"]}
    return found


def test_each_shop_s_setup_webhooks_pause_and_resume_keep_to_its_own_rule(odoo, tmp_path):
    configs = {}
    with WooSimulator() as shop:
        for name in ("shop-a", "shop-b"):
            configs[name] = write_config(tmp_path / f"{name}.yaml", simulator_config.document(
                odoo, shop, tmp_path / name / "woodoo.sqlite",
                webhooks={"native_tokens": [TOKENS[name]]}))
        ports = {"shop-a": 8766, "shop-b": 8767}
        for name, path in configs.items():
            result = CliRunner().invoke(main, [
                "odoo", "setup-webhooks", "-c", str(path), "--mode", "native",
                "--url", f"http://127.0.0.1:{ports[name]}", "--token", TOKENS[name]])
            assert result.exit_code == 0, result.output
        rule_a = "Woodoo: stock.quant quantity changed (shop-a)"
        rule_b = "Woodoo: stock.quant quantity changed (shop-b)"
        assert quant_rules(odoo) == {
            rule_a: {"active": True,
                     "url": f"http://127.0.0.1:8766/webhooks/odoo-native/{TOKENS['shop-a']}"},
            rule_b: {"active": True,
                     "url": f"http://127.0.0.1:8767/webhooks/odoo-native/{TOKENS['shop-b']}"}}
        # Run again without --token: each keeps its own token, not the other shop's.
        again = CliRunner().invoke(main, ["odoo", "setup-webhooks", "-c", str(configs["shop-b"]),
                                          "--mode", "native", "--url", "http://127.0.0.1:8767"])
        assert again.exit_code == 0, again.output
        assert quant_rules(odoo)[rule_b]["url"].endswith(TOKENS["shop-b"])
        paused = CliRunner().invoke(main, ["odoo", "pause-webhooks", "-c", str(configs["shop-b"])])
        assert paused.exit_code == 0, paused.output
        assert {name: rule["active"] for name, rule in quant_rules(odoo).items()} == {
            rule_a: True, rule_b: False}
        resumed = CliRunner().invoke(main, ["odoo", "resume-webhooks", "-c",
                                            str(configs["shop-b"])])
        assert resumed.exit_code == 0, resumed.output
        assert {name: rule["active"] for name, rule in quant_rules(odoo).items()} == {
            rule_a: True, rule_b: True}
