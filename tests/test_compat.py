"""Which versions of the parts work together (woodoo/compat.py), and how the daemon hears and says
them: the user agents of signed calls over real HTTP, the status route, `status`, `check` and the
alert."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner
from helpers import Clock

from woodoo import __version__, compat
from woodoo import config as config_module
from woodoo.cli import main
from woodoo.config import Config
from woodoo.reporting.alerts import Alerts, Figures, evaluate
from woodoo.state import State
from woodoo.web import peers, signing
from woodoo.web.metrics import Metrics
from woodoo.web.server import HttpServer
from woodoo.web.webhooks import create_app

VECTORS = json.loads((Path(__file__).parent / "vectors" / "compat.json").read_text("utf-8"))
ODOO_SECRET = "whsec_odoo_0123456789abcdefghijklmnopqr"
SHOP_SECRET = "whsec_shop_0123456789abcdefghijklmnopqr"
MODULE_AGENT = f"woodoo-webhook/{__version__} (Odoo)"
PLUGIN_AGENT = f"WoodooCompanion/{__version__}"


@pytest.mark.parametrize("case", VECTORS["pairings"],
                         ids=lambda c: f"{c['part']}-{c['version']!r}-vs-{c['release']}")
def test_pairings_follow_the_shared_vectors(case):
    pairing = compat.pairing(case["part"], case["version"], case["release"])
    assert pairing.level == case["level"]
    assert case["says"] in pairing.words
    assert pairing.fails == (case["level"] == "broken")
    assert "\n" not in pairing.words and len(pairing.words) < 500


@pytest.mark.parametrize("case", VECTORS["agents"], ids=lambda c: repr(c["agent"])[:40])
def test_user_agents_follow_the_shared_vectors(case):
    assert compat.agent_version(case["part"], case["agent"]) == case["version"]


def test_this_release_works_with_itself_and_says_so_for_every_part():
    for part in ("daemon", "plugin", "module"):
        assert compat.pairing(part, __version__).level == "works"
    assert compat.agent_version("plugin", PLUGIN_AGENT) == __version__
    assert compat.agent_version("module", MODULE_AGENT) == __version__


# -- the daemon hears the parts over real HTTP ---------------------------------------------------

@dataclass
class Daemon:
    url: str
    state: State
    clock: Clock

    def odoo_heartbeat(self, agent: str | None, *, secret: str = ODOO_SECRET) -> requests.Response:
        now = time.gmtime(self.clock())
        body = json.dumps({"event_id": f"hb-{self.clock()}", "heartbeat": True,
                           "odoo_time": time.strftime("%Y-%m-%d %H:%M:%S", now)}).encode()
        return self.post("/webhooks/odoo", body, signing.ODOO_EVENTS, secret, agent)

    def shop_test_event(self, agent: str | None) -> requests.Response:
        body = b'{"event": "test"}'
        return self.post("/webhooks/woocommerce", body, signing.SHOP_EVENTS, SHOP_SECRET, agent)

    def status(self) -> dict:
        body = b"{}"
        answer = self.post("/webhooks/status", body, signing.SHOP_STATUS, SHOP_SECRET, PLUGIN_AGENT)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: bytes, route: str, secret: str,
             agent: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json",
                   signing.HEADER: signing.sign(body, secret, route, int(self.clock()))}
        if agent is not None:
            headers["User-Agent"] = agent
        return requests.post(f"{self.url}{path}", data=body, headers=headers, timeout=10)

    def dump(self) -> str:
        return "\n".join(self.state.database.db.conn.iterdump())


def daemon_config(tmp_path: Path) -> Config:
    return config_module.parse(yaml.safe_dump({
        "odoo": {"url": "http://127.0.0.1:1", "database": "d", "username": "u", "password": "p",
                 "warehouses": ["WH"]},
        "woocommerce": {"url": "http://127.0.0.1:2", "consumer_key": "ck", "consumer_secret": "cs"},
        "webhooks": {"odoo_secrets": [ODOO_SECRET], "shop_secrets": [SHOP_SECRET]},
        "orders": {"enabled": True}, "state": {"path": "w.sqlite"}}), base_dir=tmp_path)


@pytest.fixture
def daemon(tmp_path) -> Iterator[Daemon]:
    config = daemon_config(tmp_path)
    state = State(config.state.path)
    clock = Clock(time.time())
    app = create_app(config, state, Metrics(), clock=clock)
    server = HttpServer(app, host="127.0.0.1", port=0, threads=2).start()
    try:
        yield Daemon(f"http://127.0.0.1:{server.port}", state, clock)
    finally:
        server.stop()
        state.close()


def test_the_daemon_says_its_version_to_signed_callers_only(daemon):
    for answer in (daemon.odoo_heartbeat(MODULE_AGENT), daemon.shop_test_event(PLUGIN_AGENT),
                   daemon.post("/webhooks/odoo", b"[]", signing.ODOO_EVENTS, ODOO_SECRET, None)):
        assert answer.headers[compat.HEADER] == __version__, answer.text  # 200, 200 and a 400
    assert daemon.status()["version"] == __version__
    for answer in (daemon.odoo_heartbeat(None, secret="x" * 40),
                   requests.get(f"{daemon.url}/healthz", timeout=5),
                   requests.get(f"{daemon.url}/metrics", timeout=5)):
        assert compat.HEADER not in answer.headers


def test_signed_calls_tell_the_parts_versions_and_the_status_route_pairs_them(daemon):
    assert daemon.status()["parts"] == {"plugin": None, "module": None}
    assert daemon.odoo_heartbeat(MODULE_AGENT).status_code == 200
    assert daemon.shop_test_event("WoodooCompanion/2.1.0").status_code == 200
    parts = daemon.status()["parts"]
    assert parts["module"] == {"version": __version__, "level": "works", "heard_at": int(daemon.clock()),
                               "words": compat.pairing("module", __version__).words}
    assert parts["plugin"]["level"] == "broken" and parts["plugin"]["version"] == "2.1.0"
    assert "cannot work with this daemon" in parts["plugin"]["words"]
    # An older module (2.0-2.2 said 2.0), then one that says nothing readable.
    daemon.odoo_heartbeat("woodoo-webhook/2.0 (Odoo)")
    assert daemon.status()["parts"]["module"]["level"] == "limited"
    daemon.odoo_heartbeat(None)
    module = daemon.status()["parts"]["module"]
    assert (module["level"], module["version"]) == ("unknown", None)
    assert "did not say a version" in module["words"]


def test_a_refused_call_records_nothing(daemon):
    before = daemon.dump()
    assert daemon.odoo_heartbeat("WoodooCompanion/9.0.0", secret="y" * 40).status_code == 401
    assert daemon.shop_test_event("WoodooCompanion/9.0.0").status_code == 200  # taken: recorded
    after_taken = daemon.dump()
    assert after_taken != before
    body = b'{"event_id": "x", "heartbeat": true, "skus": ["A"]}'  # signed, but refused: 400
    answer = daemon.post("/webhooks/odoo", body, signing.ODOO_EVENTS, ODOO_SECRET, MODULE_AGENT)
    assert answer.status_code == 400
    assert daemon.dump() == after_taken
    assert peers.heard(daemon.state)["module"] is None


def test_a_part_is_written_when_its_agent_changes_or_hourly_not_on_every_call(daemon):
    daemon.odoo_heartbeat(MODULE_AGENT)
    first = peers.heard(daemon.state)["module"]
    daemon.clock.now += 600
    daemon.odoo_heartbeat(MODULE_AGENT)
    assert peers.heard(daemon.state)["module"] == first  # no write for the same agent
    daemon.clock.now += peers.REFRESH
    daemon.odoo_heartbeat(MODULE_AGENT)
    assert peers.heard(daemon.state)["module"].at == int(daemon.clock())


def test_a_damaged_record_reads_as_not_heard(daemon):
    for raw in ("{not json", "[]", '{"agent": "x"}', '{"agent": "x", "at": true}',
                '{"agent": "x", "at": -1}', '{"agent": "x", "at": 1e300}',
                '{"agent": "x", "at": 99999999999999999999}'):
        daemon.state.runs.set_meta(peers.key("plugin"), raw)
        assert peers.heard(daemon.state)["plugin"] is None
        assert daemon.status()["parts"]["plugin"] is None


def test_a_part_that_cannot_work_raises_an_alert_until_it_is_updated(daemon, tmp_path):
    config = daemon_config(tmp_path)
    alerts = Alerts(config.alerts, [], gather=lambda: Figures(
        failing_pairings=tuple(peers.failing(daemon.state))), load=daemon.state.runs.get_meta,
        store=daemon.state.runs.set_meta, metrics=Metrics(), shop="shop", poll_interval=60)
    daemon.shop_test_event("WoodooCompanion/2.0.0")
    started = alerts.check()
    assert [(m.kind, m.key, m.title) for m in started] == [
        ("started", "pairing_plugin", "The WordPress plugin's version cannot work with this daemon")]
    assert "WoodooCompanion 2.0.0" in started[0].text and "cannot work" in started[0].text
    daemon.shop_test_event(PLUGIN_AGENT)
    assert [(m.kind, m.key) for m in alerts.check()] == [("cleared", "pairing_plugin")]


def test_an_unknown_version_is_said_but_raises_no_alert():
    unknown = compat.pairing("plugin", None)
    assert evaluate(Figures(failing_pairings=()), config_module.AlertsConfig(),
                    poll_interval=60) == []
    assert not unknown.fails


# -- status and check say it --------------------------------------------------------------------

def record(config_path: Path, **agents: str) -> None:
    """What the running daemon would have recorded from the parts' signed calls."""
    document = yaml.safe_load(config_path.read_text())
    state = State(Path(document["state"]["path"]))
    try:
        for part, agent in agents.items():
            state.runs.set_meta(peers.key(part), json.dumps({"agent": agent, "at": 1_800_000_000}))
    finally:
        state.close()


def test_status_names_each_part_s_version_and_how_it_pairs(make_config_file):
    path = make_config_file()
    record(path, plugin="WoodooCompanion/0.3.0")
    result = CliRunner().invoke(main, ["status", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert f"versions: this daemon is woodoo {__version__}" in result.output
    assert ("  plugin: works with limits: the WordPress plugin (WoodooCompanion 0.3.0) works, with "
            "limits, with this daemon") in result.output
    assert "(user agent 'WoodooCompanion/0.3.0', last heard 2027-01-15 08:00 UTC)" in result.output
    assert "  module: not heard from yet" in result.output


def test_check_fails_on_a_part_that_cannot_work_and_warns_of_an_unknown_one(make_config_file):
    path = make_config_file()
    runner = CliRunner()
    record(path, plugin=PLUGIN_AGENT, module="python-requests/2.32")
    result = runner.invoke(main, ["check", "-c", str(path)])
    assert result.exit_code == 0, result.output
    assert f"woodoo: version {__version__}" in result.output
    assert f"plugin: ok: the WordPress plugin (WoodooCompanion {__version__}) works" in result.output
    assert "warning: module: UNKNOWN VERSION: the Odoo module did not say a version" in result.output
    record(path, module="woodoo-webhook/1.0 (Odoo)")
    result = runner.invoke(main, ["check", "-c", str(path)])
    assert result.exit_code != 0
    assert ("error: module: CANNOT WORK: the Odoo module (woodoo-webhook 1.0) cannot work with "
            "this daemon") in result.output
