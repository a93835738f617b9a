"""Config validation: every problem named by its key path, with the fix; nothing written."""

import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from woodoo import config, secret
from woodoo.cli import main

VALID = textwrap.dedent("""
    odoo:
      url: http://127.0.0.1:8069
      database: woodoo
      username: admin
      password: admin
      warehouses: [WH]
    woocommerce:
      url: http://127.0.0.1:8080
      consumer_key: ck_test
      consumer_secret: cs_test
    state:
      path: state/woodoo.sqlite
""")


def problems(text: str, tmp_path: Path = Path(".")) -> list[str]:
    with pytest.raises(config.ConfigError) as caught:
        config.parse(text, base_dir=tmp_path)
    return caught.value.problems


def test_valid_config_has_documented_defaults(tmp_path):
    parsed = config.parse(VALID, base_dir=tmp_path)
    assert parsed.odoo.stock_field == "free_qty"
    assert parsed.odoo.sku_field == "default_code"
    assert parsed.woocommerce.verify_tls is True
    assert parsed.sync.batch_size == 100
    assert parsed.state.path == tmp_path / "state/woodoo.sqlite"


def test_example_config_is_valid_once_its_env_vars_are_set(monkeypatch):
    for name in ("ODOO_API_KEY", "WOO_CONSUMER_KEY", "WOO_CONSUMER_SECRET"):
        monkeypatch.setenv(name, f"value-of-{name}")
    example = Path(__file__).parent.parent / "config" / "woodoo.example.yaml"
    parsed = config.load(example)
    assert parsed.odoo.password.get_secret_value() == "value-of-ODOO_API_KEY"


def test_malformed_yaml_says_where():
    found = problems("odoo:\n  url: [unclosed\n")
    assert len(found) == 1
    assert "not valid YAML at line" in found[0]


def test_unknown_key_names_path_and_known_keys():
    found = problems(VALID.replace("database: woodoo", "database: woodoo\n  databse: x"))
    assert found == [
        "odoo.databse: unknown key; remove it or use one of: url, database, username, password, "
        "warehouses, stock_field, sku_field, timeout, page_size"
    ]


def test_wrong_types_and_ranges_are_each_reported():
    text = VALID + "sync:\n  poll_interval: soon\n  batch_size: 500\n  stock_buffer: -1\n"
    found = problems(text)
    assert [p.split(":")[0] for p in found] == [
        "sync.poll_interval", "sync.batch_size", "sync.stock_buffer"
    ]
    assert "less than or equal to 100, got 500" in found[1]


def test_missing_value_says_what_to_set():
    found = problems(VALID.replace("  database: woodoo\n", ""))
    assert found == ["odoo.database: missing; set it to Odoo database name"]


def test_list_items_are_addressed_by_index():
    found = problems(VALID.replace("warehouses: [WH]", "warehouses: [WH, {code: RET}]"))
    assert found[0].startswith("odoo.warehouses[1]: ")


def test_env_reference_and_missing_env(monkeypatch):
    monkeypatch.setenv("WOO_SECRET", "cs_from_env")
    parsed = config.parse(VALID.replace("cs_test", "${WOO_SECRET}"))
    assert parsed.woocommerce.consumer_secret.get_secret_value() == "cs_from_env"
    monkeypatch.delenv("WOO_SECRET")
    assert problems(VALID.replace("cs_test", "${WOO_SECRET}")) == [
        "woocommerce.consumer_secret: environment variable WOO_SECRET is not set; "
        "export it or write the value"
    ]


def test_encrypted_secret_round_trip_and_bad_keys(monkeypatch):
    key = secret.generate_key()
    encrypted = secret.encrypt("cs_super_secret", key)
    text = VALID.replace("cs_test", encrypted)
    monkeypatch.setenv(secret.KEY_ENV, key)
    assert config.parse(text).woocommerce.consumer_secret.get_secret_value() == "cs_super_secret"

    monkeypatch.setenv(secret.KEY_ENV, secret.generate_key())
    [wrong_key] = problems(text)
    assert wrong_key.startswith("woocommerce.consumer_secret: cannot decrypt")
    assert "cs_super_secret" not in wrong_key

    monkeypatch.setenv(secret.KEY_ENV, "not-a-key")
    [broken] = problems(text)
    assert "is not a valid Fernet key" in broken

    monkeypatch.delenv(secret.KEY_ENV)
    [absent] = problems(text)
    assert "no key was found" in absent


def test_key_file_beside_the_config_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv(secret.KEY_ENV, raising=False)
    key = secret.generate_key()
    (tmp_path / "woodoo.key").write_text(key + "\n")
    (tmp_path / "woodoo.key").chmod(0o600)
    text = VALID.replace("password: admin", "password: " + secret.encrypt("pw", key))
    assert config.parse(text, base_dir=tmp_path).odoo.password.get_secret_value() == "pw"


def test_a_key_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(secret.KEY_ENV, raising=False)
    key = secret.generate_key()
    (tmp_path / "woodoo.key").write_text(key + "\n")
    (tmp_path / "woodoo.key").chmod(0o644)
    text = VALID.replace("password: admin", "password: " + secret.encrypt("pw", key))
    found = problems(text, tmp_path)
    assert any(p.startswith("secret_key_file: ") and "readable by others (mode 644)" in p
               and "chmod 600" in p for p in found)


LONG = "whsec_0123456789abcdefghijklmnopq_{}"  # 32+ characters of some variety


@pytest.mark.parametrize(("sections", "expected"), [
    ({"webhooks": {"odoo_secrets": [""]}}, "webhooks.odoo_secrets[0]: must not be blank"),
    ({"webhooks": {"shop_secrets": ["k"]}}, "webhooks.shop_secrets[0]: must be at least 32 characters"),
    ({"woocommerce": {"plugin_secret": "short"}}, "woocommerce.plugin_secret: must be at least 32"),
    ({"webhooks": {"native_tokens": ["t" * 31]}}, "webhooks.native_tokens[0]: must be at least 32"),
    ({"webhooks": {"odoo_secrets": ["x" + " " * 31]}},
     "webhooks.odoo_secrets[0]: starts or ends with spaces or other blanks"),
    ({"webhooks": {"shop_secrets": ["\t" + LONG.format(1)]}},
     "webhooks.shop_secrets[0]: starts or ends with spaces or other blanks"),
    ({"woocommerce": {"plugin_secret": "password" * 4}},
     "woocommerce.plugin_secret: uses only 7 different characters (at least 8)"),
    ({"webhooks": {"native_tokens": ["x" + " " * 30 + "y"]}},
     "webhooks.native_tokens[0]: uses only 3 different characters"),
    ({"webhooks": {"odoo_secrets": [LONG.format(1)], "shop_secrets": [LONG.format(1)]}},
     "webhooks.shop_secrets[0]: the same value as webhooks.odoo_secrets[0]"),
    ({"webhooks": {"odoo_secrets": [LONG.format(1)]}, "woocommerce": {"plugin_secret": LONG.format(1)}},
     "woocommerce.plugin_secret: the same value as webhooks.odoo_secrets[0]"),
    ({"webhooks": {"secrets": [LONG.format(1)]}}, "webhooks.secrets: split by channel in 0.2"),
    ({"orders": {"enabled": True}}, "webhooks.shop_secrets: missing; orders.enabled"),
    ({"woocommerce": {"conditional_writes": True}}, "woocommerce.plugin_secret: missing"),
])
def test_channel_secrets_fail_closed(sections, expected):
    found = problems(_with(sections))
    assert any(p.startswith(expected) for p in found), found
    assert not any(LONG.format(1) in p for p in found)  # never shown


def test_an_empty_environment_variable_is_an_error(monkeypatch):
    monkeypatch.setenv("WOODOO_WH", "")
    found = problems(_with({"webhooks": {"odoo_secrets": ["${WOODOO_WH}"]}}))
    assert any(p.startswith("webhooks.odoo_secrets[0]: environment variable WOODOO_WH is empty")
               for p in found), found


def _with(sections: dict) -> str:
    """VALID with these sections' keys added to its own."""
    merged = yaml.safe_load(VALID)
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return yaml.safe_dump(merged)


def test_secrets_are_never_shown_in_errors():
    text = VALID.replace("password: admin", "password: [hunter2-list]")
    [found] = problems(text)
    assert found.startswith("odoo.password: ")
    assert "hunter2" not in found


def test_cli_exits_2_and_writes_nothing_on_bad_config(tmp_path):
    path = tmp_path / "woodoo.yaml"
    path.write_text(VALID.replace("batch_size", "x") + "sync:\n  batch_size: 0\n")
    result = CliRunner().invoke(main, ["sync", "-c", str(path)])
    assert result.exit_code == 2
    assert "config error: sync.batch_size: Input should be greater than or equal to 1" in result.output
    assert not (tmp_path / "state").exists()


def test_cli_missing_config_file(tmp_path):
    result = CliRunner().invoke(main, ["check", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no such file; create one with `woodoo init" in result.output


def test_init_writes_the_documented_example(tmp_path):
    target = tmp_path / "woodoo.yaml"
    assert CliRunner().invoke(main, ["init", str(target)]).exit_code == 0
    example = Path(__file__).parent.parent / "config" / "woodoo.example.yaml"
    assert target.read_text() == example.read_text()
    again = CliRunner().invoke(main, ["init", str(target)])
    assert again.exit_code == 2 and "exists" in again.output


def test_secret_commands(tmp_path):
    runner = CliRunner()
    key_file = tmp_path / "woodoo.key"
    assert runner.invoke(main, ["secret", "keygen", "--output", str(key_file)]).exit_code == 0
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    result = runner.invoke(main, ["secret", "encrypt", "--key-file", str(key_file)], input="pw\n")
    assert result.exit_code == 0
    value = result.output.strip().splitlines()[-1]
    assert value.startswith("enc:")
    assert secret.decrypt(value, key_file.read_text().strip(), "test") == "pw"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_a_loopback_listener_and_checked_tls_say_nothing(host):
    text = VALID + f"server: {{host: '{host}'}}\n"
    assert config.parse(text).warnings == ()


def test_secrets_others_can_read_warn_only_when_written_in_plain_text(tmp_path, monkeypatch):
    monkeypatch.delenv(secret.KEY_ENV, raising=False)
    monkeypatch.setenv("WOODOO_TEST_CK", "ck_from_env")
    key = secret.generate_key()
    (tmp_path / "woodoo.key").write_text(key)
    (tmp_path / "woodoo.key").chmod(0o600)
    path = tmp_path / "woodoo.yaml"
    path.write_text(VALID)
    path.chmod(0o600)
    assert config.load(path).warnings == ()  # plain text, but only its owner can read it
    hidden = (VALID.replace("password: admin", "password: " + secret.encrypt("pw", key))
              .replace("consumer_key: ck_test", "consumer_key: ${WOODOO_TEST_CK}")
              .replace("consumer_secret: cs_test",
                       "consumer_secret: " + secret.encrypt("cs", key)))
    path.write_text(hidden)
    path.chmod(0o644)
    assert config.load(path).warnings == ()  # readable, but nothing in it is a secret as written
    path.write_text(hidden.replace("consumer_key: ${WOODOO_TEST_CK}",
                                   "consumer_key: ck_${WOODOO_TEST_CK}"))
    [warning] = config.load(path).warnings
    assert warning.startswith("woocommerce.consumer_key: secrets written in plain text in ")
