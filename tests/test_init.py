"""`woodoo init`: guided on a real pseudo-terminal, from flags and environment, and the starter
file without either; every config it writes passes `woodoo check`."""

from __future__ import annotations

import codecs
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from woodoo import secret, wizard
from woodoo.cli import main

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


def test_guided_init_on_a_terminal_writes_a_config_that_check_passes(terminal, sides, tmp_path):
    odoo, shop = sides
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
    term.expect("products and")
    term.expect("variations have an SKU")
    for label in ("the Odoo password", "the consumer key", "the consumer secret"):
        term.answer(f"Encrypt {label} in the config? [Y/n]:", "n")
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
    for label in ("the Odoo password", "the consumer key", "the consumer secret"):
        term.answer(f"Encrypt {label} in the config? [Y/n]:", "")
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
    text = wizard.render(EXAMPLE.read_text(), values)
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
        wizard.render(EXAMPLE.read_text(), {"odoo.nope": 1})


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
