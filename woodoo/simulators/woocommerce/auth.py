"""WC_REST_Authentication: Basic auth and consumer keys in the query string over HTTPS, OAuth 1.0a
"one-legged" otherwise, with WooCommerce's nonce and timestamp checks and key permissions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, unquote_plus, urlsplit

from werkzeug.wrappers import Request

from woodoo.simulators.woocommerce.php import rawurlencode
from woodoo.simulators.woocommerce.rest import RestError

if TYPE_CHECKING:
    from woodoo.simulators.woocommerce.simulator import WooSimulator

# WC_REST_Authentication::check_oauth_timestamp_and_nonce: "$valid_window = 15 * 60".
OAUTH_WINDOW_SECONDS = 15 * 60


class Authenticator:
    """The authentication of one shop: its key, secret and permissions, and the nonces it saw."""

    def __init__(self, shop: WooSimulator) -> None:
        self.shop = shop
        self._nonces: dict[int | str, str] = {}
        self._lock = threading.Lock()

    def authenticate(self, request: Request, query: dict[str, Any], form: dict[str, Any],
                     ssl: bool, base: str) -> bool:
        """WC_REST_Authentication::authenticate: Basic auth (or consumer_key/consumer_secret query
        parameters) only when is_ssl(), otherwise OAuth 1.0a "one-legged"; raises the auth error."""
        if ssl:
            key = secret = ""
            if query.get("consumer_key") and query.get("consumer_secret"):
                key, secret = str(query["consumer_key"]), str(query["consumer_secret"])
            elif request.authorization is not None and request.authorization.type == "basic":
                key = request.authorization.username or ""
                secret = request.authorization.password or ""
            if key and secret and key == self.shop.consumer_key:
                if not hmac.compare_digest(secret.encode(), self.shop.consumer_secret.encode()):
                    raise RestError("woocommerce_rest_authentication_error",
                                    "Consumer secret is invalid.", 401)
                return True
        params = {**query, **form}
        header = request.headers.get("Authorization", "").strip()
        if header.startswith("OAuth "):
            for match in re.finditer(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
                params[match.group(1)] = unquote_plus(match.group(3) or match.group(4) or "")
        names = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                 "oauth_signature_method")
        missing = [name for name in names if not params.get(name) or params.get(name) == "0"]
        if len(missing) == len(names):
            return False  # not even trying OAuth: the route's permission check answers 401
        if missing:
            word = "parameter" if len(missing) == 1 else "parameters"
            raise RestError("woocommerce_rest_authentication_missing_parameter",
                            f"Missing OAuth {word} {', '.join(missing)}", 401)
        if params["oauth_consumer_key"] != self.shop.consumer_key:
            raise RestError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        self._check_oauth_signature(request, params, base)
        self._check_timestamp_and_nonce(params["oauth_timestamp"], params["oauth_nonce"])
        return True

    def _check_oauth_signature(self, request: Request, params: dict[str, Any], base: str) -> None:
        """WC_REST_Authentication::check_oauth_signature, re-implemented by hand.

        No OAuth library implements WooCommerce's variant: the base URL is the WordPress *home*
        URL plus the request path (not the Host the client used, hence "localhost" vs "127.0.0.1"
        failing), parameters are sorted with strcmp, each key and value is rawurlencode()d, then
        each "key=value" pair is rawurlencode()d again and joined with "%26", and the HMAC key is
        the consumer secret plus "&" (no token).
        """
        raw_uri = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or ""
        request_path = urlsplit(raw_uri).path if raw_uri else request.path
        base_request_uri = rawurlencode(base + "/" + request_path.lstrip("/"))
        consumer_signature = unquote(str(params["oauth_signature"]).replace(" ", "+"))
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        ordered = sorted(signed.items(), key=lambda kv: str(kv[0]).encode("utf-8", "replace"))
        pairs = _join_with_equals_sign(
            [(rawurlencode(str(k)), _encode_deep(v)) for k, v in ordered])
        string_to_sign = f"{request.method}&{base_request_uri}&{'%26'.join(pairs)}"
        method = str(signed["oauth_signature_method"])
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise RestError("woocommerce_rest_authentication_error",
                            "Invalid signature - signature method is invalid.", 401)
        digest = hmac.new((self.shop.consumer_secret + "&").encode(), string_to_sign.encode(),
                          hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256).digest()
        expected = base64.b64encode(digest)
        if not hmac.compare_digest(expected, consumer_signature.encode("utf-8", "replace")):
            raise RestError("woocommerce_rest_authentication_error",
                            "Invalid signature - provided signature does not match.", 401)

    def _check_timestamp_and_nonce(self, timestamp: Any, nonce: Any) -> None:
        """WC_REST_Authentication::check_oauth_timestamp_and_nonce, quirks included.

        The timestamp must be within 15 minutes of now; the nonce must not be among the
        remembered ones, which WooCommerce keys by timestamp: only the last nonce per second is
        remembered, and entries older than 15 minutes are forgotten.
        """
        now = time.time()
        try:
            moment = float(timestamp)
        except (TypeError, ValueError):
            moment = math.nan
        if not (now - OAUTH_WINDOW_SECONDS <= moment <= now + OAUTH_WINDOW_SECONDS):
            raise RestError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        with self._lock:
            if nonce in self._nonces.values():
                raise RestError("woocommerce_rest_authentication_error",
                                "Invalid nonce - nonce has already been used.", 401)
            text = str(timestamp)
            key: int | str = int(text) if re.fullmatch(r"-?[1-9]\d*|0", text) else text
            self._nonces[key] = str(nonce)
            for old in [k for k in self._nonces if float(k) < now - OAUTH_WINDOW_SECONDS]:
                del self._nonces[old]

    def check_key_permissions(self, method: str) -> None:
        """WC_REST_Authentication::check_permissions: the key's read/write permission."""
        if method in ("GET", "HEAD") and self.shop.permissions not in ("read", "read_write"):
            raise RestError("woocommerce_rest_authentication_error",
                            "The API key provided does not have read permissions.", 401)
        if method in ("POST", "PUT", "PATCH", "DELETE") and self.shop.permissions not in (
                "write", "read_write"):
            raise RestError("woocommerce_rest_authentication_error",
                            "The API key provided does not have write permissions.", 401)


def _encode_deep(value: Any) -> Any:
    """wc_rest_urlencode_rfc3986() on a parameter value (arrays element by element)."""
    if isinstance(value, dict):
        return {k: _encode_deep(v) for k, v in value.items()}
    return rawurlencode(str(value))


def _join_with_equals_sign(params: list[tuple[str, Any]], key: str = "") -> list[str]:
    """WC_REST_Authentication::join_with_equals_sign: "k=v" pairs, each rawurlencode()d;
    nested arrays become k%5Bsub%5D."""
    out: list[str] = []
    for name, value in params:
        full = f"{key}%5B{name}%5D" if key else name
        if isinstance(value, dict):
            out.extend(_join_with_equals_sign(list(value.items()), full))
        else:
            out.append(rawurlencode(f"{full}={value}"))
    return out
