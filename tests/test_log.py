"""Logging: JSON lines off a terminal, secrets redacted everywhere."""

import io
import json
import logging

from woodoo import log


def test_json_lines_with_bound_fields_and_secrets_redacted():
    stream = io.StringIO()
    log.configure("info", "auto", ["cs_very_secret_value", "hunter22"], stream=stream)
    log.get("woodoo.test", run_id="r1").info(
        "pushed", url="http://x/?oauth_consumer_secret=cs_very_secret_value", sku="A"
    )
    logging.getLogger("somelib").warning("login with hunter22 failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["run_id"] == "r1" and first["sku"] == "A" and first["event"] == "pushed"
    assert "cs_very_secret_value" not in first["url"] and "***" in first["url"]
    assert second["event"] == "login with *** failed"


def test_odoorpc_debug_logging_is_silenced():
    stream = io.StringIO()
    log.configure("debug", "json", [], stream=stream)
    logging.getLogger("odoorpc.rpc.jsonrpclib").debug("execute_kw args with password")
    assert stream.getvalue() == ""
