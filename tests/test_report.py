"""The reconciliation report: rendered, saved, and emailed through a real SMTP server on loopback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import itertools
import json
import re
import ssl
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from helpers import Inbox, free_port
from structlog.testing import capture_logs

from woodoo.gateways.retry import RetryPolicy
from woodoo.reporting import mail, report
from woodoo.reporting.findings import Drift, Health, ReconcileReport

FAST = RetryPolicy(3, 0.01)
NOV_24_0300_UTC = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC).timestamp()


# -- reports -----------------------------------------------------------------------------------

def troubled_report(**changes) -> ReconcileReport:
    """A report with a bit of everything: corrected and failed drift, and every kind of problem."""
    found = ReconcileReport(
        run_id="rec-42", started_at=NOV_24_0300_UTC, finished_at=NOV_24_0300_UTC + 95,
        timezone="Europe/Amsterdam", dry_run=False, correct=True, checked=20000,
        drift=[
            Drift("WDG-1001", "Widget, blue", 500, "instock", 120.0, 5, 115, 115),
            Drift("WDG-1002", "Widget \"red\"", 0, "outofstock", 7.5, 1, 6, 6),
            Drift("WDG-1003", "Gadget", 9, "instock", 4.0, 0, 4, None,
                  "the shop answered HTTP 500: internal error"),
        ],
        shop_only=["SHOP-ONLY-1"], odoo_only=["WDG-1005"],
        duplicate_shop={"WDG-1007": [31, 34]}, duplicate_odoo={"WDG-1008": [7, 8]},
        unmanaged=["WDG-1017 (id 57)"],
        dead_letters=[{"sku": "WDG-1020", "reason": "shop answered 404: product gone",
                       "attempts": 5, "since": NOV_24_0300_UTC - 7200}],
        failed_events=[{"event_id": "odoo-move-9-x", "source": "odoo",
                        "reason": "ValueError: no such warehouse", "attempts": 5,
                        "since": NOV_24_0300_UTC - 3600}],
        orders_attention=[{"number": "1042", "status": "processing",
                           "reason": "SKU NOT-IN-ODOO is not in Odoo"}],
        stuck_orders=[{"number": "1040", "status": "on-hold", "skus": "WDG-1001 x2",
                       "age_hours": 52.5, "last_error": "Odoo timed out"}],
        repeat_drifters=[("WDG-1001", 3)],
        failures=[],
        health=Health(polls=1440, polls_failed=2, webhook_events={"odoo": 310, "woocommerce": 1204},
                      pushes={"webhook": 1500, "reconcile": 2}, push_failures=1,
                      latency_p50=0.84, latency_p95=3.2, queue_depth=4),
    )
    for name, value in changes.items():
        setattr(found, name, value)
    return found


def good_report() -> ReconcileReport:
    return ReconcileReport(run_id="rec-43", started_at=NOV_24_0300_UTC,
                           finished_at=NOV_24_0300_UTC + 60, timezone="Europe/Amsterdam",
                           dry_run=False, correct=True, checked=20000)


# -- a real SMTP server ------------------------------------------------------------------------

def settings(port: int, **changes) -> mail.SmtpSettings:
    values = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "woodoo@shop.test",
              "recipients": ("staff@shop.test", "owner@shop.test"), "timeout": 5}
    return mail.SmtpSettings(**{**values, **changes})


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login, auth_data.password) == (b"woodoo", b"s3cret pass")
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate (and key) for 127.0.0.1, usable as its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "woodoo test mail server")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def deliver(rendered: report.RenderedReport, port: int, **changes) -> tuple[bool, str]:
    return report.send(rendered, settings(port, **changes), filename="report.csv", policy=FAST)


# -- rendering ---------------------------------------------------------------------------------

def test_subject_says_the_state_and_counts_in_the_store_time_zone():
    rendered = report.render(troubled_report(), shop_name="shop.example.com")
    assert rendered.subject == (
        "[Woodoo] Needs attention: 3 drifted (2 corrected), 9 problems — shop.example.com 2026-11-24")
    good = report.render(good_report(), shop_name="shop.example.com")
    assert good.subject == "[Woodoo] All good: 20,000 SKUs checked — shop.example.com 2026-11-24"
    # 03:00 UTC is still the evening before in New York.
    found = good_report()
    found.timezone = "America/New_York"
    assert report.render(found, shop_name="s").subject.endswith("— s 2026-11-23")
    assert "22:00:00 EST" in report.render(found, shop_name="s").text


def test_corrected_drift_alone_is_all_good_and_says_so():
    found = good_report()
    found.drift = [Drift("WDG-1", "One", 3, "instock", 5, 0, 5, 5)]
    rendered = report.render(found, shop_name="shop")
    assert rendered.subject.startswith("[Woodoo] All good: 20,000 SKUs checked, 1 drifted (1 corrected)")
    assert "All good" in rendered.html and "Needs attention" not in rendered.html


def test_html_has_the_summary_the_state_and_a_table_per_finding():
    html = report.render(troubled_report(), shop_name="shop.example.com").html
    assert "Needs attention" in html and "All good" not in html
    assert "20,000" in html  # checked
    for title in ("Drift", "Only in the shop", "Only in Odoo", "Duplicate SKUs",
                  "Shop products not managing stock", "Open dead letters", "Events set aside",
                  "Orders needing attention",
                  "Stuck pending orders", "SKUs that drifted on several nights",
                  "Sync health, last 24 hours"):
        assert title in html, title
    for value in ("WDG-1001", "SHOP-ONLY-1", "WDG-1005", "31, 34", "WDG-1017 (id 57)",
                  "shop answered 404: product gone", "SKU NOT-IN-ODOO is not in Odoo", "52.5 h",
                  "odoo-move-9-x", "ValueError: no such warehouse",
                  "someone edits stock in the shop by hand, or an order path bypasses the plugin",
                  "not corrected: the shop answered HTTP 500: internal error",
                  "1,440 (2 failed)", "1,514 (odoo 310, woocommerce 1,204)",
                  "1,502 (reconcile 2, webhook 1,500)", "0.84 s", "3.20 s"):
        assert value in html, value
    assert "<style" not in html.lower()  # inline styles only
    assert 'style="' in html
    assert "Failures of the run itself" not in html  # empty findings get no table


def test_failures_of_the_run_are_shown_first():
    found = troubled_report(failures=["the reconciliation could not finish: Odoo is down"])
    rendered = report.render(found, shop_name="shop")
    assert rendered.subject.startswith("[Woodoo] Needs attention: the run failed, 3 drifted")
    assert rendered.text.index("Failures of the run itself") < rendered.text.index("== Drift (")
    assert "Odoo is down" in rendered.html


def test_all_good_report_renders_the_all_good_state():
    rendered = report.render(good_report(), shop_name="shop.example.com")
    assert "All good" in rendered.html and "Needs attention" not in rendered.html
    assert rendered.text.startswith("ALL GOOD")
    assert "== Drift (" not in rendered.text and "no data" in rendered.text  # no latencies yet
    assert rendered.csv.strip() == ",".join(report.CSV_COLUMNS)


def test_dry_run_says_nothing_was_corrected():
    found = troubled_report(dry_run=True)
    found.drift = [Drift(d.sku, d.name, d.shop_before, d.shop_status_before, d.odoo_figure,
                         d.pending, d.should_show, None) for d in found.drift]
    rendered = report.render(found, shop_name="shop")
    assert rendered.subject.startswith("[Woodoo] (dry run) Needs attention: 3 drifted (0 corrected)")
    assert "Dry run: nothing was corrected." in rendered.text
    assert "dry run" in rendered.html


def test_everything_is_escaped_in_html_but_not_in_text():
    found = troubled_report()
    found.drift.append(Drift("<script>alert(1)</script>", "Tom & Jerry's <b>mug</b>", 1, "instock",
                             2, 0, 2, 2))
    found.unmanaged.append('"><img src=x onerror=alert(1)>')
    rendered = report.render(found, shop_name="<shop>")
    assert "<script>" not in rendered.html and "<b>mug" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "Tom &amp; Jerry&#39;s &lt;b&gt;mug&lt;/b&gt;" in rendered.html
    assert "<img" not in rendered.html and "&lt;shop&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text  # plain text is not HTML


def test_text_part_has_the_same_content():
    text = report.render(troubled_report(), shop_name="shop.example.com").text
    assert text.startswith("NEEDS ATTENTION")
    for value in ("20,000", "WDG-1001", "SHOP-ONLY-1", "WDG-1005", "WDG-1007", "31, 34",
                  "WDG-1017 (id 57)", "shop answered 404: product gone", "1042", "1040",
                  "someone edits stock in the shop by hand", "not corrected: the shop answered HTTP 500",
                  "1,440 (2 failed)", "Queue depth:      4", "2026-11-24 04:00:00 CET"):
        assert value in text, value
    assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_csv_has_one_row_per_drift():
    found = troubled_report()
    rows = list(csv.DictReader(io.StringIO(report.render(found, shop_name="s").csv)))
    assert len(rows) == len(found.drift) == 3
    assert rows[0] == {"sku": "WDG-1001", "name": "Widget, blue", "shop_before": "500",
                       "shop_status_before": "instock", "odoo_figure": "120", "pending": "5",
                       "should_show": "115", "shop_after": "115", "corrected": "yes", "error": ""}
    assert rows[1]["name"] == 'Widget "red"' and rows[1]["odoo_figure"] == "7.5"
    assert (rows[2]["shop_after"], rows[2]["corrected"]) == ("", "no")
    assert rows[2]["error"] == "the shop answered HTTP 500: internal error"


# -- saving ------------------------------------------------------------------------------------

def test_save_writes_every_file_and_latest_finds_the_newest(tmp_path):
    directory = tmp_path / "reports"
    assert report.latest(directory) is None
    first = troubled_report()
    first.timezone = "UTC"
    saved = report.save(report.render(first, shop_name="s"), first, directory)
    assert set(saved) == {"html", "txt", "csv", "json"}
    assert saved["html"].name == "2026-11-24T030000-rec-42.html"
    assert "WDG-1001" in saved["txt"].read_text() and "&lt;" not in saved["txt"].read_text()
    assert saved["csv"].read_text().count("\n") == 4
    summary = json.loads(saved["json"].read_text())
    assert (summary["run_id"], summary["drifted"], summary["corrected"]) == ("rec-42", 3, 2)
    assert summary["needs_attention"] is True
    assert report.latest(directory) == saved

    second = good_report()
    second.started_at += 86400
    newer = report.save(report.render(second, shop_name="s"), second, directory)
    assert report.latest(directory) == newer
    again = report.save(report.render(second, shop_name="s"), second, directory)  # same second
    assert again["html"] != newer["html"] and newer["html"].exists()
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_report_without_a_run_id_still_gets_a_file_name(tmp_path):
    found = good_report()
    found.run_id = ""
    saved = report.save(report.render(found, shop_name="s"), found, tmp_path)
    assert saved["html"].name == "2026-11-24T040000-run.html"


# -- sending -----------------------------------------------------------------------------------

def test_the_report_arrives_with_text_html_and_the_csv(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    rendered = report.render(troubled_report(), shop_name="shop.example.com")
    sent, note = report.send(rendered, settings(port), filename="2026-11-24T040000-rec-42.csv",
                             policy=FAST)
    assert sent, note
    assert note == "sent to staff@shop.test, owner@shop.test"
    [message] = inbox.messages
    assert inbox.envelopes[0].rcpt_tos == ["staff@shop.test", "owner@shop.test"]
    assert message["Subject"] == rendered.subject
    assert message["From"] == "woodoo@shop.test"
    assert message["To"] == "staff@shop.test, owner@shop.test"
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds[0] == "multipart/mixed" and {"text/plain", "text/html", "text/csv"} <= set(kinds)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "NEEDS ATTENTION" in text and "WDG-1005" in text and "1,440 (2 failed)" in text
    assert "Needs attention" in html and "SHOP-ONLY-1" in html
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "2026-11-24T040000-rec-42.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert [r["sku"] for r in rows] == ["WDG-1001", "WDG-1002", "WDG-1003"]


def test_username_and_password_are_sent(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox, authenticator=authenticator, auth_require_tls=False)
    rendered = report.render(good_report(), shop_name="shop")
    assert deliver(rendered, port, username="woodoo", password="s3cret pass")[0]
    with capture_logs() as logs:
        sent, note = deliver(rendered, port, username="woodoo", password="wrong")
    assert not sent and "rejected the username or password" in note
    assert not [e for e in logs if e["event"] == "retrying"]  # a wrong password is not retried
    assert not any("wrong" in str(value) for e in logs for value in e.values())
    assert inbox.logins == [b"woodoo"]


def test_starttls_with_a_trusted_certificate(smtp_server, certificate, monkeypatch):
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_tls(certificate), require_starttls=True,
                       authenticator=authenticator, auth_required=True)
    rendered = report.render(troubled_report(), shop_name="shop")
    # Without trusting the test certificate, the client refuses it and says so.
    sent, note = deliver(rendered, port, security="starttls", username="woodoo", password="s3cret pass")
    assert not sent and "certificate that cannot be trusted" in note
    # Plain SMTP against a server that requires STARTTLS fails in words.
    sent, note = deliver(rendered, port, security="none")
    assert not sent and "530" in note
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    sent, note = deliver(rendered, port, security="starttls", username="woodoo", password="s3cret pass")
    assert sent, note
    assert inbox.logins == [b"woodoo"]


def test_implicit_tls(smtp_server, certificate, monkeypatch):
    inbox = Inbox()
    port = smtp_server(inbox, ssl_context=server_tls(certificate))
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    sent, note = deliver(report.render(good_report(), shop_name="shop"), port, security="ssl")
    assert sent, note
    assert len(inbox.messages) == 1


def test_ssl_against_a_plain_server_fails_in_words(smtp_server):
    port = smtp_server(Inbox())
    sent, note = deliver(report.render(good_report(), shop_name="shop"), port, security="ssl")
    assert not sent and "TLS" in note


def test_a_busy_server_is_retried_until_it_takes_the_report(smtp_server):
    inbox = Inbox(busy=2)
    port = smtp_server(inbox)
    with capture_logs() as logs:
        sent, note = deliver(report.render(good_report(), shop_name="shop"), port)
    assert sent, note
    assert inbox.attempts == 3 and len(inbox.messages) == 1
    assert [e["attempt"] for e in logs if e["event"] == "retrying"] == [1, 2]


def test_a_permanent_refusal_is_not_retried(smtp_server):
    inbox = Inbox(busy=99, reply="554 5.7.1 Message rejected")
    port = smtp_server(inbox)
    sent, note = deliver(report.render(good_report(), shop_name="shop"), port)
    assert not sent and "554 5.7.1 Message rejected" in note
    assert inbox.attempts == 1


def test_smtp_down_returns_the_reason_after_retries_and_the_report_is_kept(tmp_path):
    found = troubled_report()
    rendered = report.render(found, shop_name="shop.example.com")
    saved = report.save(rendered, found, tmp_path / "reports")  # save first, then send
    with capture_logs() as logs:
        sent, note = report.send(rendered, settings(free_port()), filename=saved["csv"].name,
                                 policy=RetryPolicy(2, 0.01))
    assert not sent
    assert "could not connect to the mail server at 127.0.0.1" in note and "refused" in note
    assert [e["attempt"] for e in logs if e["event"] == "retrying"] == [1, 2]  # 3 attempts in all
    [failure] = [e for e in logs if e["event"] == "report email failed"]
    assert failure["log_level"] == "error" and failure["reason"] == note
    assert report.latest(tmp_path / "reports") == saved
    assert "WDG-1001" in saved["txt"].read_text() and "WDG-1001" in saved["html"].read_text()


def test_send_never_raises(monkeypatch):
    rendered = report.render(good_report(), shop_name="shop")
    assert report.send(rendered, settings(25, recipients=()), filename="r.csv") == (
        False, "no recipients configured (smtp.recipients)")
    assert report.send(rendered, settings(25, host=""), filename="r.csv")[0] is False

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(mail, "_deliver", explode)
    sent, note = report.send(rendered, settings(25), filename="r.csv", policy=FAST)
    assert not sent and "boom" in note


def test_build_message_headers():
    rendered = report.render(good_report(), shop_name="shop")
    message = report.build_message(rendered, settings(25), filename="x.csv")
    assert message["Subject"] == rendered.subject and message["Message-ID"].endswith("@shop.test>")
    assert message.get_content_type() == "multipart/mixed"


def test_csv_cells_never_start_a_spreadsheet_formula():
    import csv as csv_module
    import io as io_module

    from woodoo.reporting.findings import Drift, ReconcileReport
    from woodoo.reporting.report import render

    found = ReconcileReport(run_id="r", started_at=0, finished_at=1, timezone="UTC",
                            dry_run=False, correct=True, checked=1)
    found.drift = [Drift("=HYPERLINK(\"http://x\")", "+cmd", 1, "instock", 2, 0, 2, 2)]
    rows = list(csv_module.reader(io_module.StringIO(render(found, shop_name="s").csv)))
    assert rows[1][0].startswith("'=") and rows[1][1] == "'+cmd"


def _chart_numbers(html: str) -> list[tuple[str, int]]:
    import xml.etree.ElementTree as ElementTree

    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root = ElementTree.fromstring(svg)
    return [(rect.get("data-day"), int(rect.get("data-drift")))
            for rect in root.iter("{http://www.w3.org/2000/svg}rect")]


def test_the_drift_chart_carries_every_night_and_tonight_last():
    nights = [(f"2026-11-{day:02d}", day % 3) for day in range(1, 24)] + [("2026-11-24", 3)]
    html = report.render(troubled_report(drift_nights=nights), shop_name="shop").html
    assert _chart_numbers(html) == nights
    assert "Drift per night, last 24 nights" in html
    text = report.render(troubled_report(drift_nights=nights), shop_name="shop").text
    assert "2026-11-24 3 (tonight)" in text and "2026-11-01 1" in text
    empty = report.render(good_report(), shop_name="shop")
    assert "<svg" not in empty.html and "No nights recorded yet" in empty.html  # no history yet
    assert "No nights recorded yet" in empty.text


def test_unusual_drift_is_said_with_its_likeliest_cause():
    from woodoo.reporting.findings import unusual_drift

    usual = [(f"2026-11-{day:02d}", 1) for day in range(10, 23)]
    drifted = troubled_report(drift_nights=[*usual, ("2026-11-24", 3)])  # 3 drifted tonight
    assert unusual_drift(drifted) is not None
    assert "3 SKUs" in unusual_drift(drifted) and "the usual 1 a night" in unusual_drift(drifted)
    # WDG-1001 drifts night after night, but it is 1 of 3: the stuck order is likelier.
    assert "1 order is stuck pending on its way" in unusual_drift(drifted)
    recurring = troubled_report(drift_nights=[*usual, ("2026-11-24", 3)],
                                repeat_drifters=[("WDG-1001", 3), ("WDG-1002", 2)])
    assert "drift night after night" in unusual_drift(recurring)
    assert unusual_drift(troubled_report(drift_nights=[*usual[:3], ("2026-11-24", 3)])) is None
    calm = [(f"2026-11-{day:02d}", 2) for day in range(10, 23)]
    assert unusual_drift(troubled_report(drift_nights=[*calm, ("2026-11-24", 3)])) is None
    html = report.render(recurring, shop_name="shop").html
    assert "is unusual for this shop" in html


def _svg(html: str):
    import xml.etree.ElementTree as ElementTree

    return ElementTree.fromstring(html[html.index("<svg"):html.index("</svg>") + len("</svg>")])


def _nights(count: int, tonight: int) -> list[tuple[str, int]]:
    last = dt.date(2026, 11, 24)
    nights = [((last - dt.timedelta(days=count - 1 - i)).isoformat(), (i * 37) % 180 + 3)
              for i in range(count)]
    return [*nights[:-1], (nights[-1][0], tonight)] if nights else []


WRONG_NUMBER = re.compile(r"(?<![\d,.])1 (SKUs|nights|orders|problems|corrections)\b"
                          r"|(?<![\d,.])(0|[2-9]|\d[\d,]*\d) (SKU|night|order|problem|correction)\b(?!s)")


@pytest.mark.parametrize("count", [0, 1, 2, 7, 30])
def test_a_chart_of_few_or_many_nights_has_equal_bars_an_axis_and_dates(count):
    nights = _nights(count, 3)
    rendered = report.render(troubled_report(drift_nights=nights), shop_name="shop")
    assert not WRONG_NUMBER.search(rendered.html) and not WRONG_NUMBER.search(rendered.text)
    if not count:
        assert "<svg" not in rendered.html
        assert "No nights recorded yet" in rendered.html and "No nights recorded yet" in rendered.text
        return
    svg = _svg(rendered.html)
    ns = "{http://www.w3.org/2000/svg}"
    widths = {float(rect.get("width")) for rect in svg.iter(f"{ns}rect")}
    assert len(widths) == 1  # every bar as wide as the others, whatever the number of nights
    assert report.MIN_BAR <= widths.pop() <= report.MAX_BAR  # never stretched to the chart
    ticks = [text.get("data-tick") for text in svg.iter(f"{ns}text") if text.get("data-tick")]
    assert len(ticks) >= 2 and ticks[0] == "0" and int(ticks[-1].replace(",", "")) >= 3
    labelled = [text for text in svg.iter(f"{ns}text") if text.get("data-label")]
    assert labelled[-1].get("data-label") == nights[-1][0] and labelled[-1].text == "11-24"
    if count <= 10:
        assert [text.get("data-label") for text in labelled] == [day for day, _ in nights]
    centres = [float(text.get("x")) for text in labelled]
    assert all(b - a >= report.LABEL_WIDTH for a, b in itertools.pairwise(centres))  # no overlap
    title = f"last {count} nights" if count > 1 else "tonight, the first night recorded"
    assert title in rendered.html


def test_a_second_run_in_a_night_shows_what_drifted_earlier_and_agrees_with_its_table():
    # 200 SKUs drifted at 02:00 and were corrected; a rerun at 03:00 finds 1.
    from woodoo.reporting.reconcile import _drift_nights

    zone = ZoneInfo("Europe/Amsterdam")
    earlier = [(NOV_24_0300_UTC - 3600, 200), (NOV_24_0300_UTC, 1)]
    night = _drift_nights(earlier, zone, dt.date(2026, 11, 24), tonight=1)
    assert night == [("2026-11-24", 200)]  # the night's most, not its last run
    drift = [Drift("WDG-1001", "Widget, blue", 500, "instock", 120.0, 5, 115, 115)]
    rendered = report.render(troubled_report(drift=drift, drift_nights=night), shop_name="shop")
    assert _chart_numbers(rendered.html) == [("2026-11-24", 200)]
    caption = rendered.html.split('data-caption="drift">')[1].split("</div>")[0]
    assert caption.startswith("Tonight 200 SKUs drifted in an earlier run; this run found 1 SKU,")
    assert "Drift <span" in rendered.html and "(1)</span>" in rendered.html  # its table: 1 row
    assert len(rendered.csv.splitlines()) == 1 + 1
    assert caption in rendered.text and "2026-11-24 200 (tonight)" in rendered.text
    ticks = [t.get("data-tick") for t in _svg(rendered.html).iter() if t.get("data-tick")]
    assert ticks[-1] == "200"  # the axis reaches the night's figure, not this run's
    assert not WRONG_NUMBER.search(rendered.html) and not WRONG_NUMBER.search(rendered.text)


def test_a_run_finding_more_than_its_night_so_far_is_the_night_s_figure():
    # A report whose history lags its own run: the night can never show less than the table.
    rendered = report.render(troubled_report(drift_nights=[("2026-11-23", 4), ("2026-11-24", 1)]),
                             shop_name="shop")
    assert _chart_numbers(rendered.html)[-1] == ("2026-11-24", 3)
    assert "Tonight 3 SKUs drifted, the Drift table below." in rendered.html
