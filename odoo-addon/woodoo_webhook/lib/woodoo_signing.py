# Part of woodoo_webhook. License LGPL-3.
"""The Woodoo webhook signature (v2, bound to one route), sender side only. No Odoo import.

Header: `X-Woodoo-Signature: t=<unix seconds>,v2=<64 hex digits>`, where the digest is the hex
HMAC-SHA256, keyed with the UTF-8 secret, of `<t>.<route>.<raw body bytes>` and the route is the
logical route `POST /webhooks/odoo` (not the URL: a proxy prefix does not change it). A signature
made for this route is refused on every other one, so a captured event cannot be replayed to
another endpoint that shares the secret.

The same scheme as the daemon's woodoo/web/signing.py, written again here because an Odoo module
cannot import the daemon's package; tests/test_odoo_addon.py holds both to the shared vectors in
tests/vectors/signatures.json. The module only signs: verifying is the daemon's business.
Standard library only, so Woodoo's CI tests it without Odoo.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Woodoo-Signature"
ROUTE = "POST /webhooks/odoo"
# The daemon refuses shorter secrets in its config: a shorter one here could never match.
MIN_SECRET_LENGTH = 32


class SignatureError(ValueError):
    """The event cannot be signed; the message says what to fix."""


def check_secret(secret):
    """Raise SignatureError, in words, unless `secret` is long enough to sign with."""
    if not secret:
        raise SignatureError("the signing secret (system parameter woodoo_webhook.secret) is "
                             "empty; set it to the daemon's webhooks.odoo_secrets value")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SignatureError(
            f"the signing secret (system parameter woodoo_webhook.secret) has {len(secret)} "
            f"characters; at least {MIN_SECRET_LENGTH} are needed (make one with "
            f"`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'` and put the same "
            f"value in the daemon's webhooks.odoo_secrets)")


def digest(body, secret, route, timestamp):
    """The hex HMAC-SHA256 of `<timestamp>.<route>.<body>` keyed by the UTF-8 `secret`."""
    check_secret(secret)
    message = f"{int(timestamp)}.{route}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body, secret, *, timestamp=None, route=ROUTE):
    """The header value signing the bytes `body` for `route` at `timestamp` (now by default)."""
    if not isinstance(body, bytes):
        raise TypeError(f"sign the exact bytes that are sent, not {type(body).__name__}")
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v2={digest(body, secret, route, timestamp)}"
