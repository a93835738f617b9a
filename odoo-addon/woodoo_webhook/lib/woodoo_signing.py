# Part of woodoo_webhook. License LGPL-3.
"""The Woodoo webhook signature: HMAC-SHA256 over `timestamp + "." + raw body`. No Odoo import.

Header: `X-Woodoo-Signature: t=<unix seconds>,v1=<hex digest>[,v1=<hex digest>...]`. The same
scheme as the daemon's woodoo/signing.py, written again here because an Odoo module cannot import
the daemon's package; tests/vectors/signatures.json holds both to the same cases (see
tests/test_odoo_addon.py). Standard library only, so CI tests it without Odoo.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Woodoo-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale, or matches no secret."""


def digest(body, secret, timestamp):
    """The hex HMAC-SHA256 of `<timestamp>.<body>` keyed by the UTF-8 `secret`."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body, secret, timestamp=None):
    """The header value signing the bytes `body` with `secret` at `timestamp` (now by default)."""
    if not isinstance(body, bytes):
        raise TypeError(f"sign the exact bytes that are sent, not {type(body).__name__}")
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={digest(body, secret, timestamp)}"


def parse(header):
    """The timestamp and the v1 digests of a header value."""
    timestamp = None
    digests = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            if not value.isdigit():
                raise SignatureError(f"{HEADER}: t must be unix seconds, got {value!r}")
            timestamp = int(value)
        elif key == "v1" and value:
            digests.append(value.lower())
    if timestamp is None or not digests:
        raise SignatureError(f"{HEADER} must look like t=<unix seconds>,v1=<hex>")
    return timestamp, digests


def verify(body, header, secrets, now=None, tolerance=TOLERANCE_SECONDS):
    """Check `header` against `body` and the secrets; return the signed timestamp."""
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    timestamp, digests = parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"timestamp {timestamp} is {int(now - timestamp)} s from this "
                             f"clock; at most {tolerance} s is accepted")
    for secret in secrets:
        expected = digest(body, secret, timestamp)
        # compare_digest for every pair: the time taken does not tell how close a guess was.
        if any(hmac.compare_digest(expected, candidate) for candidate in digests):
            return timestamp
    raise SignatureError("signature does not match the body with any secret")
