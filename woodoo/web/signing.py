"""The Woodoo webhook signature: HMAC-SHA256 over `timestamp.route.body`, bound to one route.

Header: `X-Woodoo-Signature: t=<unix seconds>,v2=<64 hex digits>[,v2=...]`. The signed message is
`<t>.<METHOD> <route>.<raw body>`, where the route is the logical route (`POST /webhooks/odoo`,
not the URL: a proxy prefix or WordPress's `?rest_route=` form do not change it), so a signature
made for one route is refused on every other. A sender signs with its current secret; during a
rotation it may send one `v2` per secret (at most MAX_DIGESTS). A receiver accepts the request
when any `v2` matches any of its active secrets for that route and `t` is within the tolerance of
its clock.

The header has a strict grammar (ASCII, bounded length, `t` of at most 10 digits, `v2` exactly
64 hex digits) so that hostile input is refused in words before any arithmetic on it.

Hand-written because the scheme is ours (shared with the Odoo module and the WordPress plugin
through tests/vectors/signatures.json); the primitives are the stdlib's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable

from woodoo.errors import WoodooError

HEADER = "X-Woodoo-Signature"
TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 400
MAX_DIGESTS = 4
MIN_SECRET_LENGTH = 32

# The routes a signature can be made for, one per channel and direction.
ODOO_EVENTS = "POST /webhooks/odoo"  # Odoo module -> daemon
SHOP_EVENTS = "POST /webhooks/woocommerce"  # WordPress plugin -> daemon
PLUGIN_STOCK = "POST /woodoo/v1/stock"  # daemon -> WordPress plugin
PLUGIN_FLUSH = "POST /woodoo/v1/flush"  # daemon -> WordPress plugin: send waiting events now
SHOP_STATUS = "POST /webhooks/status"  # WordPress plugin -> daemon: read the daemon's status
PLUGIN_CATALOG = "POST /woodoo/v1/catalog"  # daemon -> WordPress plugin: read the stock catalog
PLUGIN_STOCK_BULK = "POST /woodoo/v1/stock/bulk"  # daemon -> WordPress plugin: bulk stock writes

_TIMESTAMP = re.compile(r"[0-9]{1,10}")
_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class SignatureError(WoodooError):
    """The signature header is missing, malformed, stale, or matches no active secret."""


class StaleSignature(SignatureError):
    """The signed timestamp is outside the tolerance of this server's clock."""


def sign(body: bytes, secret: str, route: str, timestamp: int | None = None) -> str:
    """The header value signing `body` for `route` with `secret` at `timestamp` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v2={digest(body, secret, route, timestamp)}"


def digest(body: bytes, secret: str, route: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `timestamp.route.body` under `secret`."""
    if not secret:
        raise SignatureError("refusing to sign with an empty secret")
    message = f"{timestamp}.{route}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v2 digests of a header value; SignatureError says what is wrong."""
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError(f"{HEADER} is longer than {MAX_HEADER_LENGTH} characters")
    if not header.isascii() or not header.isprintable():
        raise SignatureError(f"{HEADER} must be printable ASCII")
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        key, equals, value = part.strip().partition("=")
        if key == "t" and equals and timestamp is None:
            # fullmatch on an ASCII pattern: int() alone would take '٣' or '1_000' as digits.
            if not _TIMESTAMP.fullmatch(value):
                raise SignatureError(f"{HEADER}: t must be unix seconds (1 to 10 digits)")
            timestamp = int(value)
        elif key == "v2" and equals:
            if not _DIGEST.fullmatch(value):
                raise SignatureError(f"{HEADER}: v2 must be 64 hex digits")
            digests.append(value.lower())
        elif key == "v1":
            raise SignatureError(f"{HEADER}: v1 signatures are no longer accepted; update the "
                                 f"sender to the route-bound v2 scheme (Woodoo 0.2)")
        else:
            raise SignatureError(f"{HEADER} must look like t=<unix seconds>,v2=<64 hex digits>")
    if timestamp is None or not digests:
        raise SignatureError(f"{HEADER} must look like t=<unix seconds>,v2=<64 hex digits>")
    if len(digests) > MAX_DIGESTS:
        raise SignatureError(f"{HEADER}: at most {MAX_DIGESTS} v2 signatures are accepted")
    return timestamp, digests


def verify(body: bytes, header: str | None, secrets: Iterable[str], route: str, *,
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check `header` against `body`, `route` and the active secrets; return the signed timestamp."""
    keys = list(secrets)
    if not keys or any(not key for key in keys):
        # Fail closed: an empty key would make every signature computable by anyone.
        raise SignatureError("no secret is configured for this route")
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    timestamp, digests = parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise StaleSignature(
            f"timestamp {timestamp} is {int(now - timestamp)} s from this server's clock; "
            f"at most {tolerance} s is accepted (check the sender's clock)"
        )
    matched = False
    for key in keys:
        expected = digest(body, key, route, timestamp)
        for candidate in digests:
            # compare_digest for every pair: the time taken does not tell how close a guess was.
            matched = hmac.compare_digest(expected, candidate) or matched
    if not matched:
        raise SignatureError("signature does not match the body and route with any active secret")
    return timestamp
