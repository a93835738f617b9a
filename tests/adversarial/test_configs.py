"""Hostile configs through `woodoo.config.parse`: each is a ConfigError naming the key, nothing else.

YAML bombs run in a child process with a memory ceiling and a deadline, so that a parser that
expands them fails this test instead of hanging the suite or the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import yaml

from adversarial.hostile import ODOO_SECRET, SHOP_SECRET, TALLY, TOKEN
from woodoo import config as config_module

PLUGIN_SECRET = "adv_plugin_secret_0123456789abcdefghijklmn"
BASE: dict[str, Any] = {
    "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
             "warehouses": ["WH"]},
    "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck", "consumer_secret": "cs",
                    "plugin_secret": PLUGIN_SECRET},
    "webhooks": {"odoo_secrets": [ODOO_SECRET], "shop_secrets": [SHOP_SECRET],
                 "native_tokens": [TOKEN]},
    "orders": {"enabled": True},
}


def merged(**sections: Any) -> str:
    document = json.loads(json.dumps(BASE))
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(document.get(name), dict):
            document[name].update(values)
        else:
            document[name] = values
    return yaml.safe_dump(document)


def without(section: str, key: str) -> str:
    document = json.loads(json.dumps(BASE))
    del document[section][key]
    return yaml.safe_dump(document)


BASE_TEXT = yaml.safe_dump(BASE)
# Each: the config text, and a key path its error must name.
HOSTILE: dict[str, tuple[str, str]] = {
    "empty text": ("", "expected a mapping"),
    "a list at the top": ("- odoo\n- woocommerce\n", "expected a mapping"),
    "a number at the top": ("42\n", "expected a mapping"),
    "a string at the top": ("just words\n", "expected a mapping"),
    "null at the top": ("~\n", "expected a mapping"),
    "not YAML": ("odoo: [unclosed\n", "not valid YAML"),
    "a tab indent": ("odoo:\n\turl: x\n", "not valid YAML"),
    "a python tag": ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    "an unhashable key": ("? [a, b]\n: 1\n", "not valid YAML"),
    "an odoo secret of 0 characters": (merged(webhooks={"odoo_secrets": [""]}),
                                       "webhooks.odoo_secrets[0]"),
    "an odoo secret of 1 character": (merged(webhooks={"odoo_secrets": ["x"]}),
                                      "webhooks.odoo_secrets[0]"),
    "an odoo secret of 31 characters": (merged(webhooks={"odoo_secrets": ["s" * 31]}),
                                        "webhooks.odoo_secrets[0]"),
    "an odoo secret of x and 31 spaces": (merged(webhooks={"odoo_secrets": ["x" + " " * 31]}),
                                          "webhooks.odoo_secrets[0]"),
    "a shop secret of 31 spaces and x": (merged(webhooks={"shop_secrets": [" " * 31 + "x"]}),
                                         "webhooks.shop_secrets[0]"),
    "a shop secret padded with a tab": (merged(webhooks={"shop_secrets": [SHOP_SECRET + "\t"]}),
                                        "webhooks.shop_secrets[0]"),
    "a plugin secret padded with a newline": (
        merged(woocommerce={"plugin_secret": "\n" + PLUGIN_SECRET}), "woocommerce.plugin_secret"),
    "a native token padded with no-break spaces": (
        merged(webhooks={"native_tokens": ["\u00a0" * 2 + TOKEN]}), "webhooks.native_tokens[0]"),
    "a native token of x, 30 spaces and y": (merged(webhooks={"native_tokens": ["x" + " " * 30 + "y"]}),
                                             "webhooks.native_tokens[0]"),
    "an odoo secret of 40 zeros": (merged(webhooks={"odoo_secrets": ["0" * 40]}),
                                   "webhooks.odoo_secrets[0]"),
    "a shop secret of ab 16 times": (merged(webhooks={"shop_secrets": ["ab" * 16]}),
                                     "webhooks.shop_secrets[0]"),
    "a plugin secret of password 4 times": (merged(woocommerce={"plugin_secret": "password" * 4}),
                                            "woocommerce.plugin_secret"),
    "a shop secret of 1 character": (merged(webhooks={"shop_secrets": ["x"]}),
                                     "webhooks.shop_secrets[0]"),
    "a native token of 5 characters": (merged(webhooks={"native_tokens": ["short"]}),
                                       "webhooks.native_tokens[0]"),
    "a plugin secret of 0 characters": (merged(woocommerce={"plugin_secret": ""}),
                                        "woocommerce.plugin_secret"),
    "the shop secret shared with Odoo": (merged(webhooks={"shop_secrets": [ODOO_SECRET]}),
                                         "webhooks.shop_secrets[0]"),
    "the plugin secret shared with the shop": (merged(woocommerce={"plugin_secret": SHOP_SECRET}),
                                               "woocommerce.plugin_secret"),
    "a native token shared with Odoo": (merged(webhooks={"native_tokens": [ODOO_SECRET]}),
                                        "webhooks.native_tokens[0]"),
    "one secret twice in a rotation": (
        merged(webhooks={"odoo_secrets": [ODOO_SECRET, ODOO_SECRET]}), "webhooks.odoo_secrets[1]"),
    "an empty ${ENV}": (merged(webhooks={"odoo_secrets": ["${ADV_EMPTY}"]}),
                        "webhooks.odoo_secrets[0]"),
    "an unset ${ENV}": (merged(webhooks={"shop_secrets": ["${ADV_NEVER_SET_ANYWHERE}"]}),
                        "webhooks.shop_secrets[0]"),
    "an enc: value with no key": (merged(webhooks={"native_tokens": ["enc:gAAAAABnotreal"]}),
                                  "webhooks.native_tokens[0]"),
    "orders without shop secrets": (merged(webhooks={"shop_secrets": []}),
                                    "webhooks.shop_secrets"),
    "conditional writes without a plugin secret": (
        merged(woocommerce={"conditional_writes": True, "plugin_secret": None}),
        "woocommerce.plugin_secret"),
    "five odoo secrets": (merged(webhooks={"odoo_secrets": [f"{i}" * 40 for i in range(5)]}),
                          "webhooks.odoo_secrets"),
    "secrets a string, not a list": (merged(webhooks={"odoo_secrets": ODOO_SECRET}),
                                     "webhooks.odoo_secrets"),
    "a secret that is a number": (merged(webhooks={"odoo_secrets": [10**40]}),
                                  "webhooks.odoo_secrets[0]"),
    "a secret that is a mapping": (merged(webhooks={"odoo_secrets": [{"a": 1}]}),
                                   "webhooks.odoo_secrets[0]"),
    "the old webhooks.secrets": (merged(webhooks={"secrets": [ODOO_SECRET]}), "webhooks.secrets"),
    "port 99999": (merged(server={"port": 99999}), "server.port"),
    "port -1": (merged(server={"port": -1}), "server.port"),
    "port a string": (merged(server={"port": "eighty"}), "server.port"),
    "connection_limit 10^30": (merged(server={"connection_limit": 10**30}),
                               "server.connection_limit"),
    "connection_limit 5": (merged(server={"connection_limit": 5}), "server.connection_limit"),
    "channel_timeout .inf": (BASE_TEXT + "server: {channel_timeout: .inf}\n",
                             "server.channel_timeout"),
    "threads 10^6": (merged(server={"threads": 10**6}), "server.threads"),
    "max_body_bytes 2^64": (merged(webhooks={"max_body_bytes": 2**64}), "webhooks.max_body_bytes"),
    "max_body_bytes 0": (merged(webhooks={"max_body_bytes": 0}), "webhooks.max_body_bytes"),
    "tolerance -1": (merged(webhooks={"tolerance": -1}), "webhooks.tolerance"),
    "tolerance 10^100": (merged(webhooks={"tolerance": 10**100}), "webhooks.tolerance"),
    "native_rate_limit 0": (merged(webhooks={"native_rate_limit": 0}),
                            "webhooks.native_rate_limit"),
    "native_rate_limit .nan": (BASE_TEXT.replace("webhooks:\n", "webhooks:\n  native_rate_limit: .nan\n"),
                               "webhooks.native_rate_limit"),
    "reread_after descending": (merged(webhooks={"reread_after": [5, 1]}),
                                "webhooks.reread_after"),
    "reread_after negative": (merged(webhooks={"reread_after": [-1]}), "webhooks.reread_after"),
    "reread_after empty": (merged(webhooks={"reread_after": []}), "webhooks.reread_after"),
    "max_line_quantity 10^12": (merged(orders={"max_line_quantity": 10**12}),
                                "orders.max_line_quantity"),
    "max_line_quantity 0": (merged(orders={"max_line_quantity": 0}), "orders.max_line_quantity"),
    "poll_interval .nan": (BASE_TEXT + "sync: {poll_interval: .nan}\n", "sync.poll_interval"),
    "batch_size 10^100": (merged(sync={"batch_size": 10**100}), "sync.batch_size"),
    "an unknown top-level key": (merged(surprise={"a": 1}), "surprise"),
    "an unknown nested key": (merged(odoo={"databse": "d"}), "odoo.databse"),
    "an unknown key of 10,000 characters": (merged(webhooks={"k" * 10000: 1}), "webhooks.kkk"),
    "a section that is a list": (merged(webhooks=[1, 2]), "webhooks"),
    "a section that is a string": (merged(server="everywhere"), "server"),
    "a required section null": (merged(odoo=None), "odoo"),
    "a required key missing": (without("odoo", "url"), "odoo.url"),
    "a URL with an unclosed IPv6 bracket": (merged(woocommerce={"url": "http://[::1"}),
                                            "woocommerce.url"),
    "a javascript: URL": (merged(odoo={"url": "javascript:alert(1)"}), "odoo.url"),
    "a time zone path": (merged(reconciliation={"timezone": "../../../etc/passwd"}),
                         "reconciliation.timezone"),
    "a time zone with a NUL": (merged(reconciliation={"timezone": "Europe/\x00Paris"}),
                               "reconciliation.timezone"),
    "a cron line of junk": (merged(reconciliation={"schedule": "* * * * * * * * *"}),
                            "reconciliation.schedule"),
    "warehouses empty": (merged(odoo={"warehouses": []}), "odoo.warehouses"),
    "state.path a list": (merged(state={"path": ["a", "b"]}), "state.path"),
    "nested 50 deep in an unknown key": (BASE_TEXT + "deep: " + "[" * 50 + "]" * 50 + "\n",
                                         "deep"),
    # shop.name goes into mail subjects, log lines and metric labels.
    "shop.name with a line break (a forged mail header)": (
        merged(shop={"name": "shop-a\nBcc: all@example.com"}), "shop.name"),
    "shop.name with a carriage return": (merged(shop={"name": "shop-a\rX: y"}), "shop.name"),
    "shop.name with a NUL": (merged(shop={"name": "shop\x00a"}), "shop.name"),
    "shop.name with an escape sequence": (merged(shop={"name": "\x1b[31mshop"}), "shop.name"),
    "shop.name with a tab": (merged(shop={"name": "shop\ta"}), "shop.name"),
    "shop.name of 10,000 characters": (merged(shop={"name": "s" * 10000}), "shop.name"),
    "shop.name of 65 characters": (merged(shop={"name": "s" * 65}), "shop.name"),
    "shop.name blank": (merged(shop={"name": "   "}), "shop.name"),
    "shop.name empty": (merged(shop={"name": ""}), "shop.name"),
    "shop.name padded with spaces": (merged(shop={"name": " shop-a "}), "shop.name"),
    "shop.name a list": (merged(shop={"name": ["a", "b"]}), "shop.name"),
    "shop.name a number": (merged(shop={"name": 42}), "shop.name"),
    "shop a list": (merged(shop=["a"]), "shop"),
    "shop.name with a line separator": (merged(shop={"name": "shop\u2028a"}), "shop.name"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_config_is_a_config_error_naming_the_key(case, monkeypatch):
    text, path = HOSTILE[case]
    monkeypatch.setenv("ADV_EMPTY", "")
    monkeypatch.delenv("WOODOO_SECRET_KEY", raising=False)
    monkeypatch.delenv("WOODOO_SECRET_KEY_FILE", raising=False)
    TALLY.inputs["config"] += 1
    with pytest.raises(config_module.ConfigError) as raised:
        config_module.parse(text, source="woodoo.yaml")
    said = str(raised.value)
    assert path in said, said[:500]
    # Words, not the input: no secret and no 10,000-character key is repeated whole.
    for secret in (ODOO_SECRET, SHOP_SECRET, TOKEN, PLUGIN_SECRET):
        assert secret not in said


def test_the_base_config_is_valid():
    parsed = config_module.parse(BASE_TEXT)
    assert parsed.orders.enabled and parsed.warnings == ()


# Each: a config that may run but should not unchanged, and the key its warning must name.
UNSAFE: dict[str, tuple[str, str]] = {
    "verify_tls false": (merged(woocommerce={"verify_tls": False}), "woocommerce.verify_tls"),
    "server.host 0.0.0.0": (merged(server={"host": "0.0.0.0"}), "server.host"),
    "server.host ::": (merged(server={"host": "::"}), "server.host"),
    "server.host empty (every interface)": (merged(server={"host": ""}), "server.host"),
    "server.host a LAN address": (merged(server={"host": "192.168.1.10"}), "server.host"),
    "server.host a public name": (merged(server={"host": "shop.example.com"}), "server.host"),
    "server.host a name that looks local": (merged(server={"host": "127.0.0.1.nip.io"}),
                                            "server.host"),
    "server.host of 10,000 characters": (merged(server={"host": "h" * 10000}), "server.host"),
}
# Each: the config file's mode, and what the warning must say about who can read it.
READABLE_MODES = {0o644: "every user of this machine can read (mode 644)",
                  0o604: "every user of this machine can read (mode 604)",
                  0o640: "its group can read (mode 640)"}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_an_unsafe_config_runs_with_a_warning_naming_the_key(case):
    text, key = UNSAFE[case]
    TALLY.inputs["config"] += 1
    warnings = config_module.parse(text, source="woodoo.yaml").warnings
    assert [w for w in warnings if w.startswith(f"{key}: ")], warnings
    assert all(len(w) < 1000 for w in warnings)  # a 10,000-character host is cut, not echoed


@pytest.mark.parametrize("mode", list(READABLE_MODES))
def test_plain_text_secrets_in_a_config_others_can_read_are_named_in_a_warning(mode, tmp_path):
    TALLY.inputs["config"] += 1
    path = tmp_path / "woodoo.yaml"
    # Ten secrets in plain text: the REST keys, Odoo's password, and seven channel secrets.
    path.write_text(merged(webhooks={"native_tokens": [f"{TOKEN}-{i}" for i in range(4)]}))
    path.chmod(mode)
    [warning] = config_module.load(path).warnings
    named = warning.split(": secrets written in plain text", 1)[0]
    assert named.startswith("odoo.password, ") and named.endswith(" and 2 more"), named
    assert "woocommerce.consumer_key" in named and "webhooks.native_tokens[0]" in named
    assert READABLE_MODES[mode] in warning and f"chmod 600 {path}" in warning
    for secret in (ODOO_SECRET, SHOP_SECRET, TOKEN, PLUGIN_SECRET):
        assert secret not in warning


BILLION_LAUGHS = BASE_TEXT + textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
""")
BOMBS = {
    "billion laughs (9^9 aliases)": (BILLION_LAUGHS, "i: holds more than"),
    "lists nested 20,000 deep": (BASE_TEXT + "deep: " + "[" * 20000 + "]" * 20000 + "\n", "deep"),
    "mappings nested 20,000 deep": (BASE_TEXT + "deep: " + "{a: " * 20000 + "1"
                                    + "}" * 20000 + "\n", "deep"),
    "lists nested 600 deep": (BASE_TEXT + "deep: " + "[" * 600 + "]" * 600 + "\n", "deep"),
}
CHILD = textwrap.dedent("""\
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: a bomb fails fast
    from woodoo import config
    try:
        config.parse(sys.stdin.read(), source="woodoo.yaml")
        print(json.dumps({"kind": "parsed"}))
    except config.ConfigError as error:
        print(json.dumps({"kind": "ConfigError", "text": str(error)[:2000]}))
    except BaseException as error:
        print(json.dumps({"kind": type(error).__name__, "text": str(error)[:500]}))
""")
BOMB_SECONDS = 5


@pytest.mark.parametrize("case", list(BOMBS))
def test_a_yaml_bomb_is_a_quick_config_error(case):
    text, path = BOMBS[case]
    TALLY.inputs["config"] += 1
    try:
        done = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True,
                              text=True, timeout=BOMB_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"config.parse was still working after {BOMB_SECONDS} s")
    result = json.loads(done.stdout or '{"kind": "crashed", "text": ""}')
    assert result["kind"] == "ConfigError", result
    assert path in result["text"]
