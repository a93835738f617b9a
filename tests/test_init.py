"""`woodoo init`: guided on a real pseudo-terminal, from flags and environment, and the starter
file without either; every config it writes passes `woodoo check`."""

from __future__ import annotations

import codecs
import fcntl
import http.server
import importlib.util
import json
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from woodoo import secret, starter_config, wizard
from woodoo.cli import main
from woodoo.gateways import odoo_setup

EXAMPLE = Path(__file__).parent.parent / "config" / "woodoo.example.yaml"
ODOO_PASSWORD = "odoo-Pa55word-for-tests"  # distinct from the login, so a leak would show


class Terminal:
    """A command on a pseudo-terminal: read what it prints, type answers; it never hangs a test."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        master, slave = os.openpty()
        # A wide window, so that nothing the command prints is wrapped.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        # A session of its own: the pty is its only terminal (getpass reads hidden input there).
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                        env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.output = ""
        self.position = 0  # what `expect` has consumed

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the command ended and closed the terminal
            data = b""
        if not data:
            return False
        self.output += self.decoder.decode(data).replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` is printed (after what was expected before); what came before it."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, self.position)) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 0.5)):
                raise AssertionError(f"no {text!r} within {timeout} s; the command printed:\n"
                                     f"{self.output[self.position:]}")
        before = self.output[self.position:found]
        self.position = found + len(text)
        return before

    def answer(self, prompt: str, text: str) -> None:
        """Wait for `prompt`, then type `text` and Enter."""
        self.expect(prompt)
        os.write(self.master, text.encode() + b"\r")

    def finish(self, timeout: float = 60) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.5):
            if self.process.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        return self.process.wait(timeout=max(deadline - time.monotonic(), 1))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path):
    """Start `woodoo ARGS` on a pseudo-terminal in tmp_path, with no WOODOO_ variables."""
    started: list[Terminal] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOODOO_")}
    env.update(PYTHONUNBUFFERED="1", TERM="dumb", NO_COLOR="1")

    def start(*args: str) -> Terminal:
        started.append(Terminal([sys.executable, "-m", "woodoo", *args], tmp_path, env))
        return started[-1]

    yield start
    for term in started:
        term.close()


@pytest.fixture(autouse=True)
def no_woodoo_environment(monkeypatch):
    for name in [n for n in os.environ if n.startswith("WOODOO_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def sides(odoo, shop):
    odoo.password = ODOO_PASSWORD
    return odoo, shop


def check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOODOO_")}
    return subprocess.run([sys.executable, "-m", "woodoo", "check", "-c", str(path)], env=env,
                          capture_output=True, text=True, timeout=60)


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def answer_odoo_step(term: Terminal, odoo, password: str) -> None:
    term.answer("Odoo URL", odoo.url)
    term.expect("Odoo lists these databases:")
    term.answer("Odoo database", "1")
    term.answer("Odoo login", odoo.login)
    term.answer("Its password or API key (hidden)", password)


def answer_shop_step(term: Terminal, shop) -> None:
    term.answer("Shop URL", shop.url + "/wp-admin/")  # cut to the home URL
    term.answer("Consumer key (ck_...) (hidden)", shop.consumer_key)
    term.answer("Consumer secret (cs_...) (hidden)", shop.consumer_secret)


def answer_native_polling(term: Terminal) -> None:
    """No plugin, no module: decline the native rule, keep the daemon URL, have a token made."""
    term.answer("Set up Odoo's automation rule in native mode once the config is written", "n")
    term.answer("The daemon's URL as the shop and Odoo reach it", "")
    term.answer("Enter makes a new one)", "")


def test_guided_init_on_a_terminal_writes_a_config_that_check_passes(terminal, sides, tmp_path):
    odoo, shop = sides
    shop.add_simple("", None, manage_stock=False, name="Gift card")  # one item without SKU
    target = tmp_path / "etc" / "woodoo.yaml"
    term = terminal("init", str(target))
    answer_odoo_step(term, odoo, ODOO_PASSWORD)
    term.expect(f"connected: Odoo 18.0, database {odoo.database}, as {odoo.login}")
    shown = term.expect("Warehouses (numbers or codes, separated by commas) [1]:")
    assert "1. WH       Main Warehouse" in shown and "2. RET" in shown
    os.write(term.master, b"1, RET\r")
    shown = term.expect("Stock figure [free_qty]:")
    for name in ("free_qty", "qty_available", "virtual_available"):
        assert name in shown
    os.write(term.master, b"2\r")
    answer_shop_step(term, shop)
    term.expect("connected: WooCommerce 11.0.1")
    term.expect("with an SKU: 9 products, 3 variations; without one (left alone): 1 item")
    answer_native_polling(term)
    for label in ("the Odoo password", "the consumer key", "the consumer secret"):
        term.answer(f"Encrypt {label} in the config? [Y/n]:", "n")
    term.answer("Encrypt the channel secrets (webhooks.native_tokens) in the config?", "n")
    term.expect(f"wrote {target} (mode 0600")
    term.expect(f"$ woodoo check -c {target}")
    term.expect("check passed")
    assert term.finish() == 0, term.output
    for hidden in (ODOO_PASSWORD, shop.consumer_key, shop.consumer_secret):
        assert hidden not in term.output  # typed hidden, never echoed nor printed
    assert any(call.service == "db" and call.method == "list" for call in odoo.calls)

    text = target.read_text()
    assert comments(text) == comments(EXAMPLE.read_text())  # every comment kept, in order
    odoo_section = yaml.safe_load(text)["odoo"]
    assert odoo_section["url"] == odoo.url and odoo_section["database"] == odoo.database
    assert odoo_section["warehouses"] == ["WH", "RET"]
    assert odoo_section["stock_field"] == "qty_available"
    assert yaml.safe_load(text)["woocommerce"]["url"] == shop.url
    assert oct(target.stat().st_mode & 0o777) == "0o600"  # it holds the secrets as typed
    assert not (target.parent / "woodoo.key").exists()
    result = check(target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warehouses WH (Main Warehouse), RET" in result.stdout


def test_a_wrong_odoo_password_is_explained_and_the_step_asked_again(terminal, sides, tmp_path):
    odoo, shop = sides
    target = tmp_path / "woodoo.yaml"
    term = terminal("init", str(target))
    answer_odoo_step(term, odoo, "not-the-password")
    problem = term.expect("Try the Odoo step again? [Y/n]:")
    assert f"problem: Odoo at {odoo.url} refused the login: wrong username, password" in problem
    assert "what to try: check the login" in problem and "API key" in problem
    os.write(term.master, b"\r")
    # The same session: the step again, with the answers given as defaults.
    term.answer(f"Odoo URL (the server root, e.g. https://mycompany.odoo.com) [{odoo.url}]:", "")
    term.answer(f"Odoo database [{odoo.database}]:", "")
    term.answer(f"[{odoo.login}]:", "")
    term.answer("Its password or API key (hidden; Enter keeps the one typed before)", ODOO_PASSWORD)
    term.expect("connected: Odoo 18.0")
    term.answer("Warehouses (numbers or codes, separated by commas) [1]:", "")
    term.answer("Stock figure [free_qty]:", "")
    answer_shop_step(term, shop)
    answer_native_polling(term)
    for label in ("the Odoo password", "the consumer key", "the consumer secret"):
        term.answer(f"Encrypt {label} in the config? [Y/n]:", "")
    term.answer("Encrypt the channel secrets", "")
    term.expect("check passed")
    assert term.finish() == 0, term.output
    assert ODOO_PASSWORD not in term.output

    text = target.read_text()
    written = yaml.safe_load(text)
    assert written["odoo"]["password"].startswith("enc:")
    assert written["woocommerce"]["consumer_key"].startswith("enc:")
    assert written["woocommerce"]["consumer_secret"].startswith("enc:")
    assert written["secret_key_file"] == "woodoo.key"
    assert ODOO_PASSWORD not in text and shop.consumer_secret not in text
    key_file = tmp_path / "woodoo.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert secret.decrypt(written["odoo"]["password"], key_file.read_text().strip(),
                          "test") == ODOO_PASSWORD
    result = check(target)
    assert result.returncode == 0, result.stdout + result.stderr


def flags(odoo, shop, *extra: str) -> list[str]:
    return ["--odoo-url", odoo.url, "--odoo-user", odoo.login, "--shop-url", shop.url,
            "--consumer-key", shop.consumer_key, *extra]


def test_flags_and_environment_write_a_config_that_check_passes(sides, tmp_path):
    odoo, shop = sides
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(
        main, ["init", str(target), *flags(odoo, shop, "--warehouse", "WH", "--no-encrypt")],
        env={"WOODOO_ODOO_PASSWORD": ODOO_PASSWORD,
             "WOODOO_CONSUMER_SECRET": shop.consumer_secret})
    assert result.exit_code == 0, result.output
    assert "connected: WooCommerce 11.0.1" in result.output
    assert "check passed" in result.output
    assert ODOO_PASSWORD not in result.output and shop.consumer_secret not in result.output
    written = yaml.safe_load(target.read_text())
    # The database is the only one Odoo lists; the stock figure is the default.
    assert written["odoo"]["database"] == odoo.database
    assert written["odoo"]["stock_field"] == "free_qty"
    assert written["odoo"]["password"] == ODOO_PASSWORD
    assert comments(target.read_text()) == comments(EXAMPLE.read_text())
    assert check(target).returncode == 0


def test_flags_encrypt_the_secrets_with_a_key_file_beside_the_config(sides, tmp_path):
    odoo, shop = sides
    target = tmp_path / "conf" / "woodoo.yaml"
    result = CliRunner().invoke(main, [
        "init", str(target), *flags(odoo, shop, "--odoo-password", ODOO_PASSWORD,
                                    "--consumer-secret", shop.consumer_secret,
                                    "--warehouse", "Main Warehouse", "--warehouse", "RET",
                                    "--stock-field", "virtual_available", "--encrypt")])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    written = yaml.safe_load(text)
    assert written["odoo"]["warehouses"] == ["WH", "RET"]
    assert written["odoo"]["stock_field"] == "virtual_available"
    for value in (written["odoo"]["password"], written["woocommerce"]["consumer_key"],
                  written["woocommerce"]["consumer_secret"]):
        assert value.startswith("enc:")
    for plain in (ODOO_PASSWORD, shop.consumer_key, shop.consumer_secret):
        assert plain not in text and plain not in result.output
    key_file = target.parent / "woodoo.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert check(target).returncode == 0


def test_without_a_terminal_the_missing_answers_are_named_and_nothing_written(odoo, tmp_path):
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(main, ["init", str(target), "--odoo-url", odoo.url])
    assert result.exit_code == 2
    assert "missing --odoo-user (or $WOODOO_ODOO_USER)" in result.output
    assert "missing --consumer-secret (or $WOODOO_CONSUMER_SECRET)" in result.output
    assert not target.exists()


def test_connection_problems_without_a_terminal_are_explained(sides, tmp_path):
    odoo, shop = sides
    target = tmp_path / "woodoo.yaml"
    wrong = CliRunner().invoke(main, ["init", str(target), *flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", "cs_wrong",
        "--warehouse", "WH")])
    assert wrong.exit_code == 1
    assert "WooCommerce answered HTTP 401" in wrong.output
    assert "what to try: make a REST API key with Read/Write permissions" in wrong.output
    several = CliRunner().invoke(main, ["init", str(target), *flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret)])
    assert several.exit_code == 2
    assert ("Odoo has several warehouses; choose with --warehouse CODE (repeatable): "
            "WH (Main Warehouse), RET") in several.output
    odoo.stop()
    down = CliRunner().invoke(main, ["init", str(target), *flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret)])
    assert down.exit_code == 1
    assert f"cannot reach Odoo at {odoo.url}" in down.output
    assert "what to try: check the URL" in down.output
    assert not target.exists()


def test_a_big_shop_says_it_is_counting(sides, tmp_path, monkeypatch):
    odoo, shop = sides
    monkeypatch.setattr(wizard, "BIG_SHOP_PAGES", 0)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "woodoo.yaml"), *flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret,
        "--warehouse", "WH")])
    assert result.exit_code == 0, result.output
    assert "a big shop: counting its products (1 pages of 100)" in result.output


def test_without_a_terminal_or_answers_init_writes_the_starter_file(tmp_path):
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0
    assert target.read_text() == EXAMPLE.read_text()


def test_render_sets_values_in_place_and_keeps_every_comment():
    values = {"odoo.url": "https://odoo.example.org", "odoo.password": "a: #tricky 'value'",
              "odoo.warehouses": ["WH", "RET 2"], "woocommerce.url": "https://shop.example.org",
              "secret_key_file": "woodoo.key"}
    text = starter_config.render(EXAMPLE.read_text(), values)
    assert len(text.splitlines()) == len(EXAMPLE.read_text().splitlines())
    assert comments(text) == [c for c in comments(EXAMPLE.read_text())
                              if c != "# secret_key_file: woodoo.key"]
    loaded = yaml.safe_load(text)
    assert loaded["odoo"]["password"] == "a: #tricky 'value'"
    assert loaded["odoo"]["warehouses"] == ["WH", "RET 2"]
    assert loaded["woocommerce"]["url"] == "https://shop.example.org"
    assert loaded["secret_key_file"] == "woodoo.key"
    assert loaded["smtp"]["password"] is None  # only odoo.password was set
    with pytest.raises(ValueError, match=r"no line for odoo\.nope"):
        starter_config.render(EXAMPLE.read_text(), {"odoo.nope": 1})


def test_on_a_terminal_an_existing_file_is_kept_unless_the_user_agrees(tmp_path):
    target = tmp_path / "woodoo.yaml"
    target.write_text("mine\n")
    result = CliRunner().invoke(main, ["init", str(target), "--interactive"], input="n\n")
    assert result.exit_code == 2 and "overwrite it? [y/N]" in result.output
    assert target.read_text() == "mine\n"


def test_stopping_the_questions_writes_nothing(tmp_path):
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(main, ["init", str(target), "--interactive"], input="")
    assert result.exit_code == 130
    assert "stopped; nothing was written" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_bad_url_among_the_flags_names_its_flag(tmp_path):
    result = CliRunner().invoke(main, [
        "init", str(tmp_path / "woodoo.yaml"), "--odoo-url", "odoo.example.com", "--odoo-user",
        "u", "--odoo-password", "p", "--shop-url", "https://s.example.com", "--consumer-key", "k",
        "--consumer-secret", "s"])
    assert result.exit_code == 2
    assert "error: --odoo-url: 'odoo.example.com' is not a full http:// or https:// URL" in (
        result.output)


# -- the whole product: the plugin, the module, the secrets, Odoo's parameters and rule ---------

STOCK_SECRET = "shop-stock-secret-0123456789-abcdefghijk"  # what the shop's wp-config.php holds
ODOO_HAS_SECRET = "odoo-param-secret-0123456789-abcdefghijk"


def decrypted(value: str, directory: Path) -> str:
    return secret.decrypt(value, (directory / "woodoo.key").read_text().strip(), "test")


def test_guided_init_finds_the_plugin_and_the_module_and_check_shows_the_whole_product(
        terminal, sides, tmp_path):
    odoo, shop = sides
    shop.plugin_secret = STOCK_SECRET  # the plugin active, its stock secret set in wp-config.php
    odoo.install_module("woodoo_webhook")
    target = tmp_path / "woodoo.yaml"
    term = terminal("init", str(target))
    answer_odoo_step(term, odoo, ODOO_PASSWORD)
    term.expect("The woodoo_webhook module is installed: Odoo's stock changes can reach the "
                "daemon as signed events")
    term.answer("Warehouses (numbers or codes, separated by commas) [1]:", "")
    term.answer("Stock figure [free_qty]:", "")
    answer_shop_step(term, shop)
    term.expect("The Woodoo Companion plugin is active, with its stock, flush and bulk routes "
                "(REST namespace woodoo/v1).")
    # Asked with the shop: the plugin's catalog route then counts the shop, and a secret the
    # plugin does not have would be found here.
    term.answer("The stock secret, as wp-config.php (WOODOO_STOCK_SECRET) holds it (hidden; "
                "Enter makes a new one)", STOCK_SECRET)
    term.answer("Bring the shop's orders into Odoo", "")
    term.answer("Set up Odoo's automation rule in signed mode once the config is written "
                "(`woodoo odoo setup-webhooks --mode signed`)? [Y/n]:", "")
    # An events URL pasted from the plugin's settings is cut to the daemon's base URL.
    term.answer("The daemon's URL as the shop and Odoo reach it", "https://woodoo.example.com"
                "/webhooks/woocommerce")
    term.expect("using the daemon's base URL https://woodoo.example.com")
    term.answer("The events secret, as wp-config.php (WOODOO_EVENTS_SECRET) holds it", "")
    term.expect("events secret: made")
    term.answer("The Odoo webhook secret, as Odoo (woodoo_webhook.secret) holds it", "")
    term.answer("Set woodoo_webhook.url and woodoo_webhook.secret in Odoo now, through its API", "")
    for label in ("the Odoo password", "the consumer key", "the consumer secret"):
        term.answer(f"Encrypt {label} in the config? [Y/n]:", "")
    term.answer("Encrypt the channel secrets (woocommerce.plugin_secret, webhooks.shop_secrets, "
                "webhooks.odoo_secrets) in the config? [Y/n]:", "")
    term.expect(f"wrote {target}")
    shown = term.expect("Press Enter once wp-config.php has these lines")
    os.write(term.master, b"\r")
    term.expect("set in Odoo: woodoo_webhook.url, woodoo_webhook.secret "
                        "(woodoo_webhook.url was not set, now https://woodoo.example.com/webhooks/"
                        "odoo)")
    term.expect("create: Woodoo: stock.quant quantity changed")
    closing = term.expect("check passed")
    assert term.finish() == 0, term.output

    written = yaml.safe_load(target.read_text())
    events = decrypted(written["webhooks"]["shop_secrets"][0], tmp_path)
    odoo_secret = decrypted(written["webhooks"]["odoo_secrets"][0], tmp_path)
    assert decrypted(written["woocommerce"]["plugin_secret"], tmp_path) == STOCK_SECRET
    assert written["orders"]["enabled"] is True
    assert STOCK_SECRET not in target.read_text() and events not in target.read_text()
    # The exact lines the plugin reads, once, to copy.
    assert ("define( 'WOODOO_DAEMON_URL', 'https://woodoo.example.com/webhooks/woocommerce' );\n"
            f"  define( 'WOODOO_EVENTS_SECRET', '{events}' );\n"
            f"  define( 'WOODOO_STOCK_SECRET', '{STOCK_SECRET}' );") in shown
    assert odoo.parameters == {"woodoo_webhook.url": "https://woodoo.example.com/webhooks/odoo",
                               "woodoo_webhook.secret": odoo_secret}
    assert secret.channel_weakness(events) is None and secret.channel_weakness(odoo_secret) is None
    assert len({events, odoo_secret, STOCK_SECRET}) == 3
    # The closing check: each part of the product on its own line.
    assert ("real-time path: real time through signed events of the woodoo_webhook module, sent "
            "to https://woodoo.example.com/webhooks/odoo (its secret is one of "
            "webhooks.odoo_secrets).") in closing
    assert ("order events: on: the plugin sends them to the daemon's /webhooks/woocommerce, "
            "signed with the events secret") in closing
    assert ("bulk routes: in use: the Woodoo Companion plugin's catalog and stock/bulk routes "
            "answer.") in closing
    assert ODOO_PASSWORD not in term.output and odoo_secret not in term.output


def invoke_init(target: Path, args: list[str], stdin: str | None = None):
    return CliRunner().invoke(main, ["init", str(target), *args], input=stdin)


def test_declining_on_stdin_prints_what_to_set_and_leaves_odoo_alone(sides, tmp_path):
    odoo, shop = sides
    shop.plugin_secret = STOCK_SECRET
    odoo.install_module("woodoo_webhook")
    target = tmp_path / "woodoo.yaml"
    answers = [odoo.url, "1", odoo.login, ODOO_PASSWORD, "WH", "", shop.url, shop.consumer_key,
               shop.consumer_secret,
               "ab" * 16, STOCK_SECRET,  # a repetitive stock secret refused, asked again
               "n",  # no orders
               "n",  # no automation rule now
               "",  # the daemon URL: the default
               "", "",  # the events and Odoo secrets made
               "n",  # Odoo's parameters: not through the API
               "", "", "", "",  # encrypt everything
               ""]  # Enter once wp-config.php has the lines
    result = invoke_init(target, ["--interactive"], "\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(target.read_text())
    odoo_secret = decrypted(written["webhooks"]["odoo_secrets"][0], tmp_path)
    assert "Error: uses only 2 different characters (at least 8)" in result.output
    assert decrypted(written["woocommerce"]["plugin_secret"], tmp_path) == STOCK_SECRET
    assert ("Odoo, Settings > Technical > System Parameters (developer mode): set these"
            in result.output)
    assert "  woodoo_webhook.url = http://127.0.0.1:8765/webhooks/odoo\n" in result.output
    assert f"  woodoo_webhook.secret = {odoo_secret}\n" in result.output
    assert odoo.parameters == {}  # declined: nothing set in Odoo
    assert (f"Odoo's automation rule, when you want it: woodoo odoo setup-webhooks -c {target} "
            f"--mode signed --url http://127.0.0.1:8765") in result.output
    assert "orders: off" in result.output and written["orders"]["enabled"] is False
    assert "define( 'WOODOO_DAEMON_URL', 'http://127.0.0.1:8765/webhooks/woocommerce' );" in (
        result.output)
    assert ("real-time path: polling only: Odoo is read every 60 s; Odoo has no Woodoo "
            "automation rule") in result.output
    assert "order events: off (orders.enabled is false)" in result.output
    assert "bulk routes: in use" in result.output and "check passed" in result.output


def test_flags_with_the_module_available_but_not_installed_set_up_native_mode(sides, tmp_path):
    odoo, shop = sides
    shop.plugin_active = True  # active, no stock secret set yet
    odoo.make_module_available("woodoo_webhook")
    target = tmp_path / "woodoo.yaml"
    result = invoke_init(target, flags(odoo, shop, "--odoo-password", ODOO_PASSWORD,
                                       "--consumer-secret", shop.consumer_secret, "--warehouse",
                                       "WH", "--webhooks", "--no-encrypt"))
    written = yaml.safe_load(target.read_text())
    stock = written["woocommerce"]["plugin_secret"]
    assert ("The woodoo_webhook module is available in Odoo but not installed: Odoo's own "
            "webhook action (native mode) is used until it is installed") in result.output
    assert "native mode: Odoo calls the daemon inside each save" in result.output
    assert "create: Woodoo: stock.quant quantity changed" in result.output
    token = written["webhooks"]["native_tokens"][0]
    assert written["orders"]["enabled"] is True and written["webhooks"]["odoo_secrets"] == []
    assert f"define( 'WOODOO_STOCK_SECRET', '{stock}' );" in result.output
    # Until wp-config.php has the stock secret, the plugin refuses: check says so, at once.
    assert "it fails until wp-config.php has these lines" in result.output
    assert result.exit_code == 1
    assert ("error: woocommerce: WooCommerce answered HTTP 503 to POST woodoo/v1/catalog: the "
            "stock secret is not set") in result.output
    assert "attempt" not in result.output  # not retried: no retry sets a secret
    assert "bulk routes: in use" not in result.output
    shop.plugin_secret = stock  # the lines put into wp-config.php
    after = check(target)
    assert after.returncode == 0, after.stdout + after.stderr
    assert ("real-time path: real time through Odoo's native webhook action, posting to "
            "http://127.0.0.1:8765/webhooks/odoo-native/<token>") in after.stdout
    assert token not in after.stdout
    assert "order events: on" in after.stdout and "bulk routes: in use" in after.stdout


def test_odoo_parameters_cannot_be_set_without_the_module_and_nothing_is_written(sides, tmp_path):
    odoo, shop = sides
    odoo.make_module_available("woodoo_webhook")
    target = tmp_path / "woodoo.yaml"
    result = invoke_init(target, flags(odoo, shop, "--odoo-password", ODOO_PASSWORD,
                                       "--consumer-secret", shop.consumer_secret, "--warehouse",
                                       "WH", "--set-odoo-parameters"))
    assert result.exit_code == 2
    assert ("error: --set-odoo-parameters: The woodoo_webhook module is available in Odoo but "
            "not installed") in result.output
    assert list(tmp_path.iterdir()) == [] and odoo.parameters == {}


def test_without_the_plugin_orders_are_refused_and_the_module_absent_means_native(sides,
                                                                                 tmp_path):
    odoo, shop = sides
    target = tmp_path / "woodoo.yaml"
    base = flags(odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret",
                 shop.consumer_secret, "--warehouse", "WH")
    refused = invoke_init(target, [*base, "--orders"])
    assert refused.exit_code == 2
    assert ("error: --orders: The Woodoo Companion plugin is not active in the shop (its REST "
            "namespace woodoo/v1 is not there). Only the plugin sends order events") in (
        refused.output)
    assert list(tmp_path.iterdir()) == []
    result = invoke_init(target, base)
    assert result.exit_code == 0, result.output
    assert ("The woodoo_webhook module is not in this Odoo (not in its addons path, or the apps "
            "list was not updated)") in result.output
    assert "define(" not in result.output  # no plugin: nothing for wp-config.php
    assert (f"Odoo's automation rule, when you want it: woodoo odoo setup-webhooks -c {target} "
            f"--mode native --url http://127.0.0.1:8765 --token <webhooks.native_tokens[0]>") in (
        result.output)
    assert "order events: off (orders.enabled is false)" in result.output
    assert ("bulk routes: not used, because woocommerce.plugin_secret (the plugin's stock "
            "secret) is not set.") in result.output


def test_flags_keep_the_secret_odoo_has_and_say_when_its_parameters_already_agree(sides,
                                                                                  tmp_path):
    odoo, shop = sides
    odoo.install_module("woodoo_webhook")
    odoo.parameters.update({"woodoo_webhook.url": "https://woodoo.example.com",
                            "woodoo_webhook.secret": ODOO_HAS_SECRET})
    target = tmp_path / "woodoo.yaml"
    result = invoke_init(target, flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret,
        "--warehouse", "WH", "--daemon-url", "https://woodoo.example.com/", "--webhooks",
        "--set-odoo-parameters"))
    assert result.exit_code == 0, result.output
    assert "Odoo webhook secret: the one Odoo has (woodoo_webhook.secret)" in result.output
    assert ("Odoo's system parameters woodoo_webhook.url, woodoo_webhook.secret already hold "
            "these values") in result.output
    written = yaml.safe_load(target.read_text())
    assert decrypted(written["webhooks"]["odoo_secrets"][0], tmp_path) == ODOO_HAS_SECRET
    assert odoo.parameters["woodoo_webhook.secret"] == ODOO_HAS_SECRET
    assert "real-time path: real time through signed events" in result.output
    assert ODOO_HAS_SECRET not in result.output


def test_a_secret_odoo_has_that_the_daemon_would_refuse_is_replaced(sides, tmp_path):
    odoo, shop = sides
    odoo.install_module("woodoo_webhook")
    odoo.parameters["woodoo_webhook.secret"] = "short"
    target = tmp_path / "woodoo.yaml"
    result = invoke_init(target, flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret,
        "--warehouse", "WH", "--set-odoo-parameters", "--webhooks"))
    assert result.exit_code == 0, result.output
    assert "Odoo webhook secret: made" in result.output
    written = yaml.safe_load(target.read_text())
    assert odoo.parameters["woodoo_webhook.secret"] == decrypted(
        written["webhooks"]["odoo_secrets"][0], tmp_path)
    assert "set in Odoo: woodoo_webhook.url, woodoo_webhook.secret" in result.output


class RefusingProxy:
    """Odoo behind a proxy that refuses the Nth set_param as Odoo refuses a non-administrator
    (AccessError), passing everything else through over real HTTP."""

    def __init__(self, upstream: str, refuse: int) -> None:
        proxy = self
        self.set_params = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                call = json.loads(body or b"{}")
                args = call.get("params", {}).get("args", [])
                if args[3:5] == ["ir.config_parameter", "set_param"]:
                    proxy.set_params += 1
                    if proxy.set_params == refuse:
                        self._answer(json.dumps({"jsonrpc": "2.0", "id": call.get("id"), "error": {
                            "code": 200, "message": "Odoo Server Error", "data": {
                                "name": "odoo.exceptions.AccessError", "debug": "",
                                "message": "You are not allowed to modify 'System Parameter' "
                                           "(ir.config_parameter) records.",
                                "arguments": [], "context": {}}}}).encode())
                        return
                answer = requests.post(upstream + self.path, data=body, timeout=10,
                                       headers={"Content-Type": "application/json"})
                self._answer(answer.content)

            def _answer(self, content: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_failed_parameter_write_puts_back_the_one_set_and_says_what_is_left(sides, tmp_path):
    odoo, shop = sides
    odoo.install_module("woodoo_webhook")
    odoo.parameters["woodoo_webhook.url"] = "https://old.example.com"
    proxy = RefusingProxy(odoo.url, refuse=2)  # the URL is set, the secret refused
    try:
        target = tmp_path / "woodoo.yaml"
        result = invoke_init(target, [
            "--odoo-url", proxy.url, "--odoo-user", odoo.login, "--odoo-password", ODOO_PASSWORD,
            "--shop-url", shop.url, "--consumer-key", shop.consumer_key, "--consumer-secret",
            shop.consumer_secret, "--warehouse", "WH", "--daemon-url", "https://new.example.com",
            "--set-odoo-parameters", "--webhooks"])
    finally:
        proxy.close()
    assert result.exit_code == 1
    assert (f"error: {target} is written, but setting Odoo's system parameters failed (") in (
        result.output)
    assert "You are not allowed to modify 'System Parameter'" in result.output
    assert "Odoo keeps the ones it had" in result.output
    # Nothing half-done: the URL set first was put back; no rule, no closing check.
    assert odoo.parameters == {"woodoo_webhook.url": "https://old.example.com"}
    assert proxy.set_params == 3
    assert "$ woodoo check" not in result.output and "create:" not in result.output
    assert yaml.safe_load(target.read_text())["webhooks"]["odoo_secrets"]  # the secret is kept


def test_stopping_after_the_config_is_written_says_what_is_written(sides, tmp_path):
    odoo, shop = sides
    shop.plugin_secret = STOCK_SECRET
    target = tmp_path / "woodoo.yaml"
    answers = [odoo.url, "1", odoo.login, ODOO_PASSWORD, "WH", "", shop.url, shop.consumer_key,
               shop.consumer_secret, STOCK_SECRET, "", "n", "", "", "", "", "", "", ""]
    # stdin ends at "Press Enter once wp-config.php has these lines": as Ctrl-D there.
    result = invoke_init(target, ["--interactive"], "\n".join(answers) + "\n")
    assert result.exit_code == 130, result.output
    assert "Press Enter once wp-config.php has these lines" in result.output
    assert (f"error: stopped; {target} is written, Odoo was not changed further than said "
            f"above") in result.output
    assert "nothing was written" not in result.output
    assert yaml.safe_load(target.read_text())["orders"]["enabled"] is True


def test_a_stock_secret_given_ahead_counts_through_the_plugin_or_is_refused_before_writing(
        sides, tmp_path):
    odoo, shop = sides
    shop.plugin_secret = STOCK_SECRET
    target = tmp_path / "woodoo.yaml"
    base = flags(odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret",
                 shop.consumer_secret, "--warehouse", "WH")
    wrong = invoke_init(target, [*base, "--stock-secret", ODOO_HAS_SECRET])
    assert wrong.exit_code == 1
    assert "WooCommerce answered HTTP 401 to POST woodoo/v1/catalog" in wrong.output
    assert ("what to try: the stock secret given (--stock-secret) is not the one the shop's "
            "Woodoo Companion plugin has") in wrong.output
    assert ODOO_HAS_SECRET not in wrong.output
    assert list(tmp_path.iterdir()) == []
    shop.server.reset_log()
    right = invoke_init(target, [*base, "--stock-secret", STOCK_SECRET])
    assert right.exit_code == 0, right.output
    counted = [r.path for r in shop.server.requests]
    assert "/wp-json/woodoo/v1/catalog" in counted
    assert "/wp-json/wc/v3/products" not in counted[:counted.index("/wp-json/woodoo/v1/catalog")]


def test_a_named_shop_gets_its_own_module_target_rule_and_check(sides, tmp_path):
    odoo, shop = sides
    odoo.install_module("woodoo_webhook")
    odoo.parameters.update({"woodoo_webhook.url": "https://first.example.com",
                            "woodoo_webhook.secret": ODOO_HAS_SECRET,
                            "woodoo_webhook.targets": "shop-b"})
    target = tmp_path / "shop-a.yaml"  # the config of shop "shop-a" (systemd woodoo@shop-a)
    result = invoke_init(target, flags(
        odoo, shop, "--odoo-password", ODOO_PASSWORD, "--consumer-secret", shop.consumer_secret,
        "--warehouse", "WH", "--daemon-url", "https://a.example.com", "--set-odoo-parameters",
        "--webhooks"))
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(target.read_text())
    made = decrypted(written["webhooks"]["odoo_secrets"][0], tmp_path)
    # The first shop's parameters are left alone; this one is a target of its own.
    assert odoo.parameters == {"woodoo_webhook.url": "https://first.example.com",
                               "woodoo_webhook.secret": ODOO_HAS_SECRET,
                               "woodoo_webhook.targets": "shop-b,shop-a",
                               "woodoo_webhook.url.shop-a": "https://a.example.com/webhooks/odoo",
                               "woodoo_webhook.secret.shop-a": made}
    assert "create: Woodoo: stock.quant quantity changed (shop-a)" in result.output
    assert ("real-time path: real time through signed events of the woodoo_webhook module, sent "
            "to https://a.example.com/webhooks/odoo") in result.output


@pytest.mark.parametrize("url", ["https://w.example.com", "https://w.example.com/",
                                 "https://w.example.com/prefix", "http://h:8765/webhooks/odoo",
                                 "ftp://w.example.com", ""])
def test_the_endpoint_is_worked_out_as_the_module_does(url):
    module_file = Path(__file__).parent.parent / "odoo-addon/woodoo_webhook/lib/payload.py"
    spec = importlib.util.spec_from_file_location("woodoo_webhook_payload", module_file)
    assert spec and spec.loader
    payload = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(payload)
    try:
        expected = payload.endpoint_url(url)
    except ValueError:
        expected = ""
    assert odoo_setup.module_endpoint(url) == expected
