"""The Odoo module with several daemons (several shops on one Odoo): one outbox row per target.

On the stand-ins for Odoo of tests/test_odoo_addon.py (its fixtures, imported).
"""

from __future__ import annotations

import json
import sys

import pytest
import requests
import test_odoo_addon as stand_in
from test_odoo_addon import SECRET, _Daemon, _Env, outbox, payload, quants

from woodoo.web import signing

# Its fixtures: the module on stand-ins for Odoo, a database, no network.
addon, odoo, no_network = stand_in.addon, stand_in.odoo, stand_in.no_network
SECRET_B = "whsec_odoo_shop_b_0123456789abcdefghijklm"
URL_A = "https://woodoo.example.com/webhooks/odoo"
URL_B = "http://127.0.0.1:8766/webhooks/odoo"


class _Daemons(_Daemon):
    """Both daemons behind one requests.Session stand-in: those at `down` do not answer."""

    def __init__(self, down: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.down = down

    def post(self, url: str, data: bytes, headers: dict, timeout: float,
             allow_redirects: bool) -> object:
        if url in self.down:
            raise requests.exceptions.ConnectTimeout(f"{url} blackholed")
        return super().post(url, data, headers, timeout, allow_redirects)


def with_shop_b(env: _Env, **params: str) -> _Env:
    env.db.params.update({"woodoo_webhook.targets": "shop-b",
                          "woodoo_webhook.url.shop-b": "http://127.0.0.1:8766",
                          "woodoo_webhook.secret.shop-b": SECRET_B, **params})
    return env


def verified(post: dict, secret: str) -> bool:
    """True when the daemon holding `secret` takes this POST's signature."""
    header = post["headers"][signing.HEADER]
    signed_at = int(header.split(",")[0].removeprefix("t="))
    try:
        return signing.verify(post["body"], header, [secret], signing.ODOO_EVENTS,
                              now=signed_at) == signed_at
    except signing.SignatureError:
        return False


def test_each_target_gets_every_event_at_its_own_url_signed_with_its_own_secret(
        odoo, monkeypatch):
    with_shop_b(odoo)
    quants(odoo, 15)._woodoo_notify()
    quants(odoo, 31)._woodoo_notify()
    quants(odoo, 15)._woodoo_notify()  # the same records again: queued once per target
    odoo.cr.commit()
    rows = list(outbox(odoo).values())
    assert sorted((row["event_id"], row["target"]) for row in rows) == sorted(
        (event_id, target) for event_id in {row["event_id"] for row in rows}
        for target in ("default", "shop-b"))
    assert len(rows) == 4  # two events, two targets
    daemons = _Daemons()
    monkeypatch.setattr(requests, "Session", daemons)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 4
    to_a = [post for post in daemons.posts if post["url"] == URL_A]
    to_b = [post for post in daemons.posts if post["url"] == URL_B]
    assert len(to_a) == len(to_b) == 2
    assert all(verified(post, SECRET) and not verified(post, SECRET_B) for post in to_a)
    assert all(verified(post, SECRET_B) and not verified(post, SECRET) for post in to_b)
    assert sorted(post["body"] for post in to_a) == sorted(post["body"] for post in to_b)
    assert {row["state"] for row in outbox(odoo).values()} == {"sent"}


def test_one_daemon_down_holds_back_no_other(odoo, monkeypatch):
    with_shop_b(odoo)
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    quants(odoo, 31)._woodoo_notify()
    odoo.cr.commit()
    daemons = _Daemons(down=(URL_A,))  # the first daemon (its rows come first) is down
    monkeypatch.setattr(requests, "Session", daemons)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 2
    assert [post["url"] for post in daemons.posts] == [URL_B, URL_B]
    by_target = {(row["target"], row["state"], row["attempts"]) for row in outbox(odoo).values()}
    # Shop A's: one attempt (one timeout per run), the other keeps its place.
    assert by_target == {("default", "pending", 1), ("default", "pending", 0),
                         ("shop-b", "sent", 1)}
    daemons.down = ()
    for row in outbox(odoo).values():
        row["next_attempt"] = None  # due now
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 2
    assert {row["state"] for row in outbox(odoo).values()} == {"sent"}


def test_a_target_not_set_up_says_which_parameter_and_the_others_go(odoo, monkeypatch):
    with_shop_b(odoo, **{"woodoo_webhook.targets": "shop-b, shop-c",
                         "woodoo_webhook.secret.shop-b": "s" * 31})
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    daemons = _Daemons()
    monkeypatch.setattr(requests, "Session", daemons)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 1
    assert [post["url"] for post in daemons.posts] == [URL_A]
    errors = {row["target"]: row["last_error"] for row in outbox(odoo).values()
              if row["state"] == "pending"}
    assert errors["shop-c"] == "system parameter woodoo_webhook.url.shop-c is not set"
    assert "(system parameter woodoo_webhook.secret.shop-b) has 31 characters" in errors["shop-b"]


def test_an_idle_run_tells_every_daemon_odoo_runs(odoo, monkeypatch):
    with_shop_b(odoo)
    daemons = _Daemons()
    monkeypatch.setattr(requests, "Session", daemons)
    assert odoo["woodoo.webhook.event"]._cron_woodoo_send() == 0
    beats = {beat["url"]: beat for beat in daemons.heartbeats}
    assert set(beats) == {URL_A, URL_B}
    assert verified(beats[URL_A], SECRET) and verified(beats[URL_B], SECRET_B)
    assert json.loads(beats[URL_B]["body"])["heartbeat"] is True


@pytest.mark.parametrize(("listed", "names", "refused"), [
    ("", [], ""),
    (" shop-b ,shop-c,, shop-b", ["shop-b", "shop-c"], ""),
    ("default", [], "'default' is not a target name"),
    ("Shop B", [], "'Shop B' is not a target name"),
    ("shop\nb", [], "is not a target name"),
    ("a" * 33, [], "is not a target name"),
    (",".join(f"s{i}" for i in range(10)), [f"s{i}" for i in range(8)],
     "'s8' left out: at most 8 targets; 's9' left out: at most 8 targets"),
])
def test_target_names_are_bounded_and_checked(listed, names, refused):
    found, said = payload.target_names(listed)
    assert found == names
    assert (refused in said) if refused else said == ""


def test_a_bad_target_name_is_logged_and_left_out_and_the_change_still_queued(
        odoo, caplog, no_network):
    odoo.db.params["woodoo_webhook.targets"] = "Shop B"
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    assert [row["target"] for row in outbox(odoo).values()] == ["default"]
    assert "woodoo_webhook.targets: 'Shop B' is not a target name" in caplog.text


def test_where_an_event_goes_cannot_be_rewritten_over_rpc(odoo):
    """A stock manager who may send events again must not redirect one to another daemon."""
    with_shop_b(odoo)
    quants(odoo, 15)._woodoo_notify()
    odoo.cr.commit()
    event_id = next(i for i, row in outbox(odoo).items() if row["target"] == "default")
    with pytest.raises(sys.modules["odoo.exceptions"].AccessError, match="target"):
        odoo["woodoo.webhook.event"].browse([event_id]).write({"target": "shop-b"})
    assert outbox(odoo)[event_id]["target"] == "default"
