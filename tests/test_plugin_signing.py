"""The WordPress plugin's PHP signer and the daemon's Python verifier agree (wp-plugin/bin/sign.php)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from woodoo import signing

ROOT = Path(__file__).resolve().parent.parent
SIGN_PHP = ROOT / "wp-plugin" / "bin" / "sign.php"
PHP = shutil.which("php")

pytestmark = pytest.mark.skipif(
    PHP is None,
    reason="php is not installed (./dev test installs php-cli); cannot run wp-plugin/bin/sign.php",
)

BODIES = [
    b"",
    b'{"event_id":"8c1f0d2e-0000-4000-8000-000000000001","event":"order.created"}',
    json.dumps({"event_id": "é-1", "skus": ["TSHIRT-Ü-€"], "note": "日本語 🚀"},
               ensure_ascii=False).encode("utf-8"),
    b'{"a": "line\\nbreak", "b": "tab\\t", "trailing": "newline"}\n',
]


def php_sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    args = [PHP or "php", str(SIGN_PHP), secret]
    if timestamp is not None:
        args.append(str(timestamp))
    result = subprocess.run(args, input=body, capture_output=True, check=True, timeout=30)
    return result.stdout.decode("ascii").strip()


@pytest.mark.parametrize("body", BODIES, ids=["empty", "ascii", "unicode", "escapes-newline"])
@pytest.mark.parametrize("secret", ["whsec_test_0123456789abcdef", "s3cr3t-ÄÖ"])
def test_php_signed_bodies_verify_in_python(body: bytes, secret: str) -> None:
    header = php_sign(body, secret)
    assert signing.verify(body, header, [secret]) == int(header.split(",")[0][2:])
    assert header == signing.sign(body, secret, int(header.split(",")[0][2:]))


def test_php_signature_at_a_fixed_time_matches_the_shared_vector() -> None:
    cases = json.loads((ROOT / "tests" / "vectors" / "signatures.json").read_text("utf-8"))["cases"]
    for case in (c for c in cases if c["valid"]):
        header = php_sign(case["body"].encode("utf-8"), case["secret"], case["timestamp"])
        assert header == case["header"], case["name"]


def test_tampered_body_or_other_secret_fails() -> None:
    body = BODIES[2]
    header = php_sign(body, "k1")
    with pytest.raises(signing.SignatureError):
        signing.verify(body.replace("€".encode(), b"E"), header, ["k1"])
    with pytest.raises(signing.SignatureError):
        signing.verify(body, header, ["k2"])


def test_php_timestamp_is_now() -> None:
    header = php_sign(b"{}", "k")
    assert abs(int(header.split(",")[0][2:]) - time.time()) < 60
