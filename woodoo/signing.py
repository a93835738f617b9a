"""The Woodoo webhook signature: HMAC-SHA256 over `timestamp + "." + raw body`.

Header: `X-Woodoo-Signature: t=<unix seconds>,v1=<hex digest>[,v1=<hex digest>...]`. A sender
signs with its current secret; during a rotation it may send one `v1` per secret. A receiver
accepts the request when any `v1` matches any of its active secrets and `t` is within the
tolerance of its clock. Hand-written because the scheme is ours (shared with the Odoo module and
the WordPress plugin through tests/vectors/signatures.json); the primitives are the stdlib's.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "X-Woodoo-Signature"
TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale, or matches no active secret."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value signing `body` with `secret` at `timestamp` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={digest(body, secret, timestamp)}"


def digest(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 digests of a header value."""
    timestamp: int | None = None
    digests: list[str] = []
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


def verify(body: bytes, header: str | None, secrets: Iterable[str], *,
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check `header` against `body` and the active secrets; return the signed timestamp."""
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    timestamp, digests = parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            f"timestamp {timestamp} is {int(now - timestamp)} s from this server's clock; "
            f"at most {tolerance} s is accepted (check the sender's clock)"
        )
    for secret in secrets:
        expected = digest(body, secret, timestamp)
        # compare_digest for every pair: the time taken does not tell how close a guess was.
        if any(hmac.compare_digest(expected, candidate) for candidate in digests):
            return timestamp
    raise SignatureError("signature does not match the body with any active secret")
