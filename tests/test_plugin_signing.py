"""The WordPress plugin's PHP signer and verifier agree with the daemon's (wp-plugin/bin/sign.php).

Every case of tests/vectors/signatures.json, valid and invalid, is replayed through the PHP
verifier with its clock at the case's timestamp and the case's route, and must come out as the
case says and as woodoo.web.signing says.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from woodoo.web import signing

ROOT = Path(__file__).resolve().parent.parent
SIGN_PHP = ROOT / "wp-plugin" / "bin" / "sign.php"
VECTORS = json.loads((ROOT / "tests" / "vectors" / "signatures.json").read_text("utf-8"))
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(
    PHP is None,
    reason="php is not installed (./dev test installs php-cli); cannot run wp-plugin/bin/sign.php",
)

EVENTS_SECRET = "whsec_events_0123456789abcdef0123456789abcdef"
UNICODE_SECRET = "s3cr3t-ÄÖ-0123456789abcdefghijklmnop"
BODIES = [
    b"",
    b'{"event_id":"8c1f0d2e-0000-4000-8000-000000000001","event":"order.created"}',
    json.dumps({"event_id": "é-1", "skus": ["TSHIRT-Ü-€"], "note": "日本語 🚀"},
               ensure_ascii=False).encode("utf-8"),
    b'{"a": "line\\nbreak", "b": "tab\\t", "trailing": "newline"}\n',
]


def run_php(args: list[str], body: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([PHP or "php", str(SIGN_PHP), *args], input=body, capture_output=True,
                          check=False, timeout=30)


def php_sign(body: bytes, secret: str, route: str, timestamp: int | None = None) -> str:
    args = [secret, route] + ([] if timestamp is None else [str(timestamp)])
    result = run_php(args, body)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return result.stdout.decode("ascii").strip()


def php_verify(body: bytes, header: str, secret: str, route: str, now: int) -> str | None:
    """None when the PHP verifier accepts, else its reason."""
    result = run_php(["--verify", secret, route, str(now), header], body)
    assert result.returncode in (0, 1), result.stderr.decode("utf-8", "replace")
    out = result.stdout.decode("utf-8").strip()
    return None if result.returncode == 0 and out == "ok" else out


def python_verify(body: bytes, header: str, secret: str, route: str, now: int) -> str | None:
    try:
        signing.verify(body, header, [secret], route, now=now)
    except signing.SignatureError as error:
        return str(error)
    return None


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_every_shared_vector_verifies_in_php_as_documented(case: dict[str, Any]) -> None:
    body = case["body"].encode("utf-8")
    php = php_verify(body, case["header"], case["secret"], case["route"], case["timestamp"])
    py = python_verify(body, case["header"], case["secret"], case["route"], case["timestamp"])
    assert (php is None) is case["valid"], php
    assert (py is None) is case["valid"], py
    if case["valid"]:
        header = php_sign(body, case["secret"], case["route"], case["timestamp"])
        assert header == signing.sign(body, case["secret"], case["route"], case["timestamp"])
        timestamp, digests = signing.parse(case["header"])
        assert header in [f"t={timestamp},v2={d}" for d in digests], "PHP makes one of its digests"


def test_the_vectors_cover_both_plugin_routes_and_the_grammar() -> None:
    routes = {c["route"] for c in VECTORS["cases"]}
    assert {signing.SHOP_EVENTS, signing.PLUGIN_STOCK} <= routes
    assert VECTORS["routes"]["shop_events"] == signing.SHOP_EVENTS
    assert VECTORS["routes"]["plugin_stock"] == signing.PLUGIN_STOCK
    assert any(c["valid"] for c in VECTORS["cases"])
    assert any(not c["valid"] for c in VECTORS["cases"])


@pytest.mark.parametrize("body", BODIES, ids=["empty", "ascii", "unicode", "escapes-newline"])
@pytest.mark.parametrize("secret", [EVENTS_SECRET, UNICODE_SECRET], ids=["ascii", "unicode"])
def test_php_signed_events_verify_in_python(body: bytes, secret: str) -> None:
    header = php_sign(body, secret, signing.SHOP_EVENTS)
    timestamp = int(header.split(",")[0][2:])
    assert signing.verify(body, header, [secret], signing.SHOP_EVENTS) == timestamp
    assert header == signing.sign(body, secret, signing.SHOP_EVENTS, timestamp)


@pytest.mark.parametrize("body", BODIES, ids=["empty", "ascii", "unicode", "escapes-newline"])
def test_python_signed_stock_writes_verify_in_php(body: bytes) -> None:
    header = signing.sign(body, UNICODE_SECRET, signing.PLUGIN_STOCK, 1795441954)
    assert php_verify(body, header, UNICODE_SECRET, signing.PLUGIN_STOCK, 1795441954) is None
    reason = php_verify(body, header, UNICODE_SECRET, signing.SHOP_EVENTS, 1795441954)
    assert reason is not None and "does not match" in reason


def test_tampered_body_other_secret_or_other_route_fails_in_both() -> None:
    body = BODIES[2]
    header = php_sign(body, EVENTS_SECRET, signing.SHOP_EVENTS)
    now = int(header.split(",")[0][2:])
    for args in [(body.replace("€".encode(), b"E"), EVENTS_SECRET, signing.SHOP_EVENTS),
                 (body, UNICODE_SECRET, signing.SHOP_EVENTS),
                 (body, EVENTS_SECRET, signing.PLUGIN_STOCK),
                 (body, EVENTS_SECRET, signing.ODOO_EVENTS)]:
        with pytest.raises(signing.SignatureError):
            signing.verify(args[0], header, [args[1]], args[2], now=now)
        assert php_verify(args[0], header, args[1], args[2], now) is not None


def test_php_refuses_short_secrets_and_v1_in_words() -> None:
    result = run_php(["short-secret", signing.SHOP_EVENTS], b"{}")
    assert result.returncode == 2
    assert b"at least 32" in result.stderr
    v1 = "t=1795441954,v1=" + "0" * 64
    reason = php_verify(b"{}", v1, EVENTS_SECRET, signing.PLUGIN_STOCK, 1795441954)
    assert reason is not None and "v1 signatures are no longer accepted" in reason


def test_php_timestamp_is_now() -> None:
    header = php_sign(b"{}", EVENTS_SECRET, signing.SHOP_EVENTS)
    assert abs(int(header.split(",")[0][2:]) - time.time()) < 60
