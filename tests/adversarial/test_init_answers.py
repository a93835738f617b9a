"""Hostile answers to `woodoo init`'s real-time questions, and hostile shops asked for the
Woodoo Companion plugin.

An answer that would break wp-config.php (a quote ending the PHP string), reach another host,
or sign a channel weakly is refused naming its flag, before anything is written; a shop that
answers the plugin's namespace index with anything but an index is "could not be asked", in
words, never an exception or a plugin found.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from adversarial.hostile import TALLY
from adversarial.test_remotes import Remote, reply
from adversarial.test_remotes import shop as shop_gateway
from woodoo.cli import main

GOOD = "init-good-secret-0123456789-abcdefghijklm"
# Each: the flag, its hostile value, and what the refusal must say.
HOSTILE_ANSWERS: dict[str, tuple[str, str, str]] = {
    "a daemon URL ending the PHP string": (
        "--daemon-url", "http://x.example.com/'); system('id'); //", "without quotes"),
    "a daemon URL with a double quote": ("--daemon-url", 'http://x.example.com/"a', "quotes"),
    "a daemon URL with a backslash": ("--daemon-url", "http://x.example.com/\\", "backslashes"),
    "a daemon URL with a line break": ("--daemon-url", "http://x.example.com/\nX: 1", "blanks"),
    "a daemon URL with a space": ("--daemon-url", "http://x.example.com/a b", "blanks"),
    "a daemon URL not in ASCII": ("--daemon-url", "http://exämple.com", "printable ASCII"),
    "a daemon URL of 3,000 characters": (
        "--daemon-url", "http://x.example.com/" + "a" * 3000, "at most 2000"),
    "a daemon URL with a port out of range": ("--daemon-url", "http://x.example.com:99999",
                                              "no valid port"),
    "a javascript: daemon URL": ("--daemon-url", "javascript:alert(1)", "not the daemon's base"),
    "a daemon URL with a query": ("--daemon-url", "http://x.example.com/?a=1", "without a query"),
    "a daemon URL without a host": ("--daemon-url", "http://", "not the daemon's base URL"),
    "a stock secret of 5 characters": ("--stock-secret", "short", "at least 32 characters"),
    "a padded stock secret": ("--stock-secret", f" {GOOD} ", "starts or ends with spaces"),
    "a repetitive stock secret": ("--stock-secret", "ab" * 16, "uses only 2 different"),
    "a stock secret of 5,000 characters": ("--stock-secret", GOOD * 120, "at most 4096"),
    "an events secret with a tab": ("--events-secret", GOOD[:20] + "\t" + GOOD[20:],
                                    "printable ASCII characters without blanks"),
    "an events secret not in ASCII": ("--events-secret", GOOD + "é", "printable ASCII"),
    "an events secret equal to the stock secret": (
        "--events-secret", GOOD, "the same as another channel's secret"),
    "a native token with a slash": ("--native-token", GOOD[:20] + "/" + GOOD[20:],
                                    "use only A-Z a-z 0-9"),
    "a native token with a NUL": ("--native-token", GOOD + "\x00", "printable ASCII"),
}


@pytest.fixture
def sides(odoo, shop):
    shop.plugin_secret = GOOD  # the plugin active, GOOD in its wp-config.php
    return odoo, shop


@pytest.mark.parametrize("case", list(HOSTILE_ANSWERS))
def test_a_hostile_answer_is_refused_naming_its_flag_and_nothing_is_written(case, sides,
                                                                           tmp_path):
    odoo, shop = sides
    flag, value, said = HOSTILE_ANSWERS[case]
    TALLY.inputs["init answer"] += 1
    extra = ["--stock-secret", GOOD] if flag == "--events-secret" else []
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(main, [
        "init", str(target), "--odoo-url", odoo.url, "--odoo-user", odoo.login,
        "--odoo-password", odoo.password, "--shop-url", shop.url, "--consumer-key",
        shop.consumer_key, "--consumer-secret", shop.consumer_secret, "--warehouse", "WH",
        *extra, flag, value])
    assert result.exit_code == 2, result.output
    assert f"error: {flag}: " in result.output and said in result.output, result.output
    assert list(tmp_path.iterdir()) == []
    assert odoo.parameters == {}
    if "secret" in flag or "token" in flag:
        assert value not in result.output  # a refused secret is not echoed back


def test_a_secret_with_quotes_and_backslashes_is_written_escaped_into_the_php_line(sides,
                                                                                  tmp_path):
    odoo, shop = sides
    TALLY.inputs["init answer"] += 1
    quoted = "it's-a-secret\\' ; echo 0123456789-abcdefgh"
    shop.plugin_secret = quoted.replace(" ", "_")
    target = tmp_path / "woodoo.yaml"
    result = CliRunner().invoke(main, [
        "init", str(target), "--odoo-url", odoo.url, "--odoo-user", odoo.login,
        "--odoo-password", odoo.password, "--shop-url", shop.url, "--consumer-key",
        shop.consumer_key, "--consumer-secret", shop.consumer_secret, "--warehouse", "WH",
        "--stock-secret", quoted.replace(" ", "_"), "--no-encrypt"])
    assert "define( 'WOODOO_STOCK_SECRET', 'it\\'s-a-secret\\\\\\'_;_echo_0123456789-abcdefgh' );" \
        in result.output, result.output
    assert yaml.safe_load(Path(target).read_text())["woocommerce"]["plugin_secret"] == (
        quoted.replace(" ", "_"))


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.close()


# Each: what a hostile shop answers to GET /wp-json/woodoo/v1, and what "could not be asked" says.
HOSTILE_INDEXES = {
    "an HTML page with 200": (200, b"<html>hi</html>", {"Content-Type": "text/html"}, "HTTP 200"),
    "JSON that is a list": (200, b"[1, 2]", {}, "no REST namespace index"),
    "another namespace's index": (200, b'{"namespace": "wc/v3", "routes": {}}', {},
                                  "no REST namespace index"),
    "routes that are a string": (200, b'{"namespace": "woodoo/v1", "routes": "x"}', {},
                                 "no REST namespace index"),
    "broken JSON": (200, b'{"namespace": ', {}, "not JSON"),
    "a server error": (500, b'{"code": "x"}', {}, "HTTP 500"),
    "a redirect elsewhere": (302, b"", {"Location": "http://127.0.0.1:9/wp-json/woodoo/v1"},
                             "redirect"),
    "forbidden": (401, b'{"code": "rest_forbidden"}', {}, "HTTP 401"),
}


@pytest.mark.parametrize("case", list(HOSTILE_INDEXES))
def test_a_hostile_namespace_index_is_could_not_be_asked_in_words(case, remote):
    status, body, headers, said = HOSTILE_INDEXES[case]
    TALLY.inputs["shop answer"] += 1
    remote.answer = lambda h, _: reply(h, status, body, **headers)
    found = shop_gateway(remote.url).plugin()
    assert found.active is None
    assert said in found.problem, found.problem
    assert found.describe().startswith("The Woodoo Companion plugin could not be asked for: ")
    assert len(found.problem) < 1000
