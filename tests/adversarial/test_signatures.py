"""Hostile X-Woodoo-Signature headers on both signed routes, against the whole daemon.

Each body is a valid event for its route with a fresh id, so only the header can be the reason
for a refusal, and a header wrongly accepted shows as a stored row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

import pytest

from adversarial.hostile import ROUTES, SECRETS, now, odoo_event, order_event, signed_headers
from woodoo.web import signing

OTHER = {"/webhooks/odoo": "/webhooks/woocommerce", "/webhooks/woocommerce": "/webhooks/odoo"}
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
Header = Callable[[bytes, str, int], "str | bytes | None"]


def mac(body: bytes, path: str, t: int) -> str:
    return signing.digest(body, SECRETS[path], ROUTES[path], t)


def sign(body: bytes, path: str, t: int) -> str:
    return f"t={t},v2={mac(body, path, t)}"


# Each builder gets the body, the route's path and the current unix time.
REFUSED: dict[str, Header] = {
    "missing": lambda b, p, t: None,
    "empty": lambda b, p, t: "",
    "blank": lambda b, p, t: "   ",
    "10 KB of hex": lambda b, p, t: f"t={t},v2={'a' * 10240}",
    "valid then 10 KB": lambda b, p, t: sign(b, p, t) + "," + "x" * 10240,
    "t of 400 digits": lambda b, p, t: f"t={'9' * 400},v2={mac(b, p, t)}",
    "t of 5000 digits": lambda b, p, t: f"t={'9' * 5000},v2={mac(b, p, t)}",
    "t of 300 digits": lambda b, p, t: f"t={'1' * 300},v2={mac(b, p, t)}",
    "t with an Arabic-Indic digit": lambda b, p, t: f"t=٣,v2={mac(b, p, t)}".encode(),
    "t of now in Arabic-Indic digits": lambda b, p, t: (
        f"t={str(t).translate(ARABIC_INDIC)},v2={mac(b, p, t)}".encode()),
    "t of now in fullwidth digits": lambda b, p, t: (
        f"t={str(t).translate(FULLWIDTH)},v2={mac(b, p, t)}".encode()),
    "t with underscores": lambda b, p, t: f"t={t:_},v2={mac(b, p, t)}",
    "t with a plus": lambda b, p, t: f"t=+{t},v2={mac(b, p, t)}",
    "t as a float": lambda b, p, t: f"t={t}.0,v2={mac(b, p, t)}",
    "t in hex": lambda b, p, t: f"t={t:#x},v2={mac(b, p, t)}",
    "t empty": lambda b, p, t: f"t=,v2={mac(b, p, t)}",
    "t only": lambda b, p, t: f"t={t}",
    "v2 only": lambda b, p, t: f"v2={mac(b, p, t)}",
    "t=0 signed at 0": lambda b, p, t: sign(b, p, 0),
    "t=1 signed at 1": lambda b, p, t: sign(b, p, 1),
    "t negative": lambda b, p, t: f"t=-{t},v2={mac(b, p, -t)}",
    "t=2^63 signed at 2^63": lambda b, p, t: sign(b, p, 2**63),
    "t=2^64": lambda b, p, t: sign(b, p, 2**64),
    "t=10^10 signed at 10^10": lambda b, p, t: sign(b, p, 10**10),
    "t=9999999999 signed so": lambda b, p, t: sign(b, p, 9999999999),
    "far past": lambda b, p, t: sign(b, p, t - 10**8),
    "far future": lambda b, p, t: sign(b, p, t + 10**8),
    "just stale": lambda b, p, t: sign(b, p, t - 301),
    "just early": lambda b, p, t: sign(b, p, t + 301),
    "v1 (the old scheme)": lambda b, p, t: (
        f"t={t},v1={hmac.new(SECRETS[p].encode(), f'{t}.'.encode() + b, hashlib.sha256).hexdigest()}"),
    "v1 with non-ASCII bytes": lambda b, p, t: f"t={t},v1={'é' * 64}".encode(),
    "v2 with non-ASCII bytes": lambda b, p, t: f"t={t},v2={'é' * 64}".encode(),
    "v2 of 63 hex": lambda b, p, t: f"t={t},v2={mac(b, p, t)[:63]}",
    "v2 of 65 hex": lambda b, p, t: f"t={t},v2={mac(b, p, t)}0",
    "v2 of 64 non-hex": lambda b, p, t: f"t={t},v2={'g' * 64}",
    "five v2, the right one last": lambda b, p, t: (
        f"t={t}," + ",".join([f"v2={'0' * 64}"] * 4) + f",v2={mac(b, p, t)}"),
    "duplicate t": lambda b, p, t: f"t={t},t={t},v2={mac(b, p, t)}",
    "two different t": lambda b, p, t: f"t={t - 1},t={t},v2={mac(b, p, t)}",
    "upper-case keys": lambda b, p, t: f"T={t},V2={mac(b, p, t)}",
    "semicolons": lambda b, p, t: f"t={t};v2={mac(b, p, t)}",
    "spaces around =": lambda b, p, t: f"t = {t}, v2 = {mac(b, p, t)}",
    "NUL inside": lambda b, p, t: f"t={t}\x00,v2={mac(b, p, t)}",
    "tab inside": lambda b, p, t: f"t={t},\tv2={mac(b, p, t)}",
    "garbage": lambda b, p, t: "garbage;;==,,",
    "only commas": lambda b, p, t: "," * 300,
    "route confusion: signed for the other route with its secret": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[OTHER[p]], ROUTES[OTHER[p]], t)}"),
    "the other channel's secret on this route": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[OTHER[p]], ROUTES[p], t)}"),
    "this secret, the other route": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[p], ROUTES[OTHER[p]], t)}"),
    "this secret, the plugin's stock route": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[p], signing.PLUGIN_STOCK, t)}"),
    "route without the method": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[p], p, t)}"),
    "route with a trailing slash": lambda b, p, t: (
        f"t={t},v2={signing.digest(b, SECRETS[p], ROUTES[p] + '/', t)}"),
    "the body alone, no timestamp or route": lambda b, p, t: (
        f"t={t},v2={hmac.new(SECRETS[p].encode(), b, hashlib.sha256).hexdigest()}"),
    "an empty key": lambda b, p, t: (
        f"t={t},v2={hmac.new(b'', f'{t}.{ROUTES[p]}.'.encode() + b, hashlib.sha256).hexdigest()}"),
    "signed over another body": lambda b, p, t: sign(b + b" ", p, t),
}
# Senders may do these: accepted (and stored), so they must go on working.
ACCEPTED: dict[str, Header] = {
    "upper-case hex": lambda b, p, t: sign(b, p, t).upper().replace("T=", "t=").replace(
        "V2=", "v2="),
    "four v2 during a rotation": lambda b, p, t: (
        f"t={t}," + ",".join([f"v2={'0' * 64}"] * 3) + f",v2={mac(b, p, t)}"),
    "spaces after commas": lambda b, p, t: f"t={t}, v2={mac(b, p, t)}",
    "a few seconds early": lambda b, p, t: sign(b, p, t + 250),
}


def valid_body(live, path: str) -> bytes:
    payload = odoo_event() if path == "/webhooks/odoo" else order_event(live.shop.url)
    return json.dumps(payload).encode()


def headers_with(value: str | bytes | None) -> dict[str, str | bytes]:
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    if value is not None:
        headers[signing.HEADER] = value
    return headers


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_hostile_signature_is_refused_and_stores_nothing(live, path, case):
    body = valid_body(live, path)
    header = REFUSED[case](body, path, now())
    live.target.hostile("signature", "POST", path, body=body, headers=headers_with(header),
                        expect={400, 401}, label=case)


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("case", list(ACCEPTED))
def test_what_senders_may_send_is_accepted(live, path, case):
    body = valid_body(live, path)
    header = ACCEPTED[case](body, path, now())
    answer = live.target.hostile("signature", "POST", path, body=body,
                                 headers=headers_with(header), expect={202}, label=case,
                                 stores=True)
    assert answer.json()["status"] == "queued"


@pytest.mark.parametrize("path", list(ROUTES))
def test_a_signature_made_for_one_route_is_refused_on_the_other(live, path):
    """Both channels' bodies, each validly signed for its own route, replayed on the other."""
    other = OTHER[path]
    body = valid_body(live, other)
    headers = signed_headers(body, other)  # accepted on `other`, never on `path`
    answer = live.target.hostile("signature", "POST", path, body=body, headers=headers,
                                 expect={401}, label=f"replayed from {other}")
    assert answer.json()["error"] == "bad_signature"


@pytest.mark.parametrize("path", list(ROUTES))
def test_a_replayed_event_is_a_duplicate_stored_once(live, path):
    body = valid_body(live, path)
    headers = signed_headers(body, path)
    first = live.target.hostile("replay", "POST", path, body=body, headers=headers,
                                expect={202}, label="first delivery", stores=True)
    assert first.json()["status"] == "queued"
    for label in ("same request again", "again"):
        again = live.target.hostile("replay", "POST", path, body=body, headers=headers,
                                    expect={202}, label=label)
        assert again.json()["status"] == "duplicate"
    # The same event id in another (validly signed) body changes nothing either.
    changed = json.loads(body)
    changed["order" if path.endswith("woocommerce") else "product_ids"] = (
        {**changed["order"], "number": "CHANGED"} if path.endswith("woocommerce") else [2])
    body = json.dumps(changed).encode()
    answer = live.target.hostile("replay", "POST", path, body=body,
                                 headers=signed_headers(body, path), expect={202},
                                 label="same id, other body")
    assert answer.json()["status"] == "duplicate"


def test_zz_the_worker_survives_the_batch(live):
    live.prove_worker_alive()
