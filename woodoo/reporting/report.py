"""The reconciliation report: rendered (HTML, text, CSV), saved atomically, and emailed by SMTP.

Rendering prepares plain data (strings, sections of rows) here and leaves all markup to the Jinja2
templates in `woodoo/reporting/templates/` (the HTML one is autoescaped, with inline CSS only, so it reads the
same in Gmail and Outlook). Saving always comes before sending, and sending never raises: it
returns whether the mail went out and, if not, why in words.
"""

from __future__ import annotations

import csv
import email.policy
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from woodoo.gateways.retry import RetryPolicy
from woodoo.reporting import mail
from woodoo.reporting.findings import ReconcileReport, plural, unusual_drift
from woodoo.reporting.mail import SmtpSettings

SUFFIXES = ("html", "txt", "csv", "json")
CSV_COLUMNS = ("sku", "name", "shop_before", "shop_status_before", "odoo_figure", "pending",
               "should_show", "shop_after", "corrected", "error")
REPEAT_HINT = "someone edits stock in the shop by hand, or an order path bypasses the plugin"

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("woodoo.reporting", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                        default_for_string=True, default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class RenderedReport:
    """One report, ready to save and send."""

    subject: str
    html: str
    text: str
    csv: str


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, whether it is a number (right-aligned), and a tone for colour."""

    text: str
    numeric: bool = False
    tone: str = ""  # "", "bad" or "good"


@dataclass(frozen=True)
class Section:
    """One finding's table, shown only when it has rows."""

    key: str
    title: str
    note: str
    headers: list[str]
    rows: list[list[Cell]]
    numeric: list[bool]  # per column
    widths: list[int]  # per column, for the text part


# -- rendering ---------------------------------------------------------------------------------

def render(report: ReconcileReport, *, shop_name: str) -> RenderedReport:
    """The subject, HTML, plain text and CSV of `report`."""
    context = _context(report, shop_name)
    return RenderedReport(
        subject=context["subject"],
        html=_environment.get_template("report.html.j2").render(context),
        text=_environment.get_template("report.txt.j2").render(context),
        csv=_csv(report),
    )


def problem_count(report: ReconcileReport) -> int:
    """How many findings besides drift want a person (the same ones as `needs_attention`)."""
    return (len(report.failures) + len(report.duplicate_shop) + len(report.duplicate_odoo)
            + len(report.dead_letters) + len(report.failed_events) + len(report.orders_attention)
            + len(report.stuck_orders) + len(report.repeat_drifters) + len(report.odoo_only)
            + len(report.unmanaged))


def _zone(report: ReconcileReport) -> ZoneInfo:
    try:
        return ZoneInfo(report.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _number(value: float | int | None, empty: str = "—") -> str:
    if value is None:
        return empty
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _plain_number(value: float | int | None) -> str:
    """A number for the CSV: no thousands separators, integers without a decimal point."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _seconds(value: float | None) -> str:
    if value is None:
        return "no data"
    if value < 10:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.0f} s"
    return f"{value / 60:.1f} min"


def _by_source(counts: dict[str, int]) -> str:
    if not counts:
        return "none"
    total = sum(counts.values())
    parts = ", ".join(f"{source} {count:,}" for source, count in sorted(counts.items()))
    return f"{total:,} ({parts})"


def _when(value: Any, zone: ZoneInfo) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, zone).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _subject(report: ReconcileReport, shop_name: str, day: str) -> str:
    drifted, corrected, problems = len(report.drift), report.corrected, problem_count(report)
    prefix = "[Woodoo] " + ("(dry run) " if report.dry_run else "")
    if report.needs_attention:
        parts = []
        if report.failures:
            parts.append("the run failed")
        if drifted:
            parts.append(f"{drifted:,} drifted ({corrected:,} corrected)")
        non_failures = problems - len(report.failures)
        if non_failures:
            parts.append(plural(non_failures, "problem"))
        head = "Needs attention: " + ", ".join(parts)
    else:
        head = f"All good: {plural(report.checked, 'SKU')} checked"
        if drifted:
            head += f", {drifted:,} drifted ({corrected:,} corrected)"
    return f"{prefix}{head} — {shop_name} {day}"


def _section(key: str, title: str, note: str, headers: list[str],
             rows: list[list[Cell]]) -> Section:
    numeric = [bool(rows) and all(row[i].numeric for row in rows) for i in range(len(headers))]
    widths = [max([len(headers[i]), *(len(row[i].text) for row in rows)]) for i in range(len(headers))]
    return Section(key, title, note, headers, rows, numeric, widths)


def _sections(report: ReconcileReport, zone: ZoneInfo) -> list[Section]:
    uncorrected_note = ("dry run" if report.dry_run
                        else "report only" if not report.correct else "not corrected")
    drift_rows = []
    for d in report.drift:
        if d.shop_after is not None:
            after = Cell(_number(d.shop_after), numeric=True, tone="good")
        else:
            after = Cell(uncorrected_note + (f": {d.error}" if d.error else ""), tone="bad")
        before = _number(d.shop_before)
        if d.shop_status_before and d.shop_status_before != "instock":
            before += f" ({d.shop_status_before})"
        drift_rows.append([
            Cell(d.sku), Cell(d.name), Cell(before, numeric=True), Cell(_number(d.odoo_figure), True),
            Cell(_number(d.pending), True), Cell(_number(d.should_show), True), after])
    drift_note = ("Shop stock that differed from what it should show "
                  "(should show = the Odoo figure minus stock held by pending orders).")
    if report.dry_run:
        drift_note += " Dry run: nothing was corrected."
    elif not report.correct:
        drift_note += " Correction is turned off (report only): nothing was corrected."
    sections = [
        _section("failures", "Failures of the run itself",
                 "The reconciliation did not finish cleanly; the figures below may be incomplete.",
                 ["What went wrong"], [[Cell(f, tone="bad")] for f in report.failures]),
        _section("drift", "Drift", drift_note,
                 ["SKU", "Name", "Shop before", "Odoo figure", "Pending", "Should show", "Shop after"],
                 drift_rows),
        _section("repeat_drifters", "SKUs that drifted on several nights",
                 f"These keep drifting: {REPEAT_HINT}.",
                 ["SKU", "Nights (last 7)"],
                 [[Cell(sku), Cell(_number(nights), True)] for sku, nights in report.repeat_drifters]),
        _section("odoo_only", "Only in Odoo",
                 "Odoo products with no shop product of the same SKU: the shop does not sell them.",
                 ["SKU"], [[Cell(s)] for s in report.odoo_only]),
        _section("shop_only", "Only in the shop",
                 "Shop products whose SKU Odoo does not track: their stock is not synced.",
                 ["SKU"], [[Cell(s)] for s in report.shop_only]),
        _section("duplicates", "Duplicate SKUs",
                 "An SKU on more than one product is not synced until only one product carries it.",
                 ["SKU", "Side", "Product ids"],
                 [[Cell(sku), Cell(side), Cell(", ".join(str(i) for i in ids))]
                  for side, found in (("shop", report.duplicate_shop), ("Odoo", report.duplicate_odoo))
                  for sku, ids in sorted(found.items())]),
        _section("unmanaged", "Shop products not managing stock",
                 "“Manage stock” is off for these shop products, so the shop never runs out of them.",
                 ["Product"], [[Cell(u)] for u in report.unmanaged]),
        _section("dead_letters", "Open dead letters",
                 "Stock updates Woodoo gave up on after all retries; the shop may show a wrong figure.",
                 ["SKU", "Reason", "Attempts", "Since"],
                 [[Cell(_text(d.get("sku"))), Cell(_text(d.get("reason")), tone="bad"),
                   Cell(_number(d.get("attempts")), True), Cell(_when(d.get("since"), zone))]
                  for d in report.dead_letters]),
        _section("failed_events", "Events set aside",
                 "Webhook and order events that failed on every try (the queue went on without "
                 "them); fix the cause, then put them back with `woodoo events retry`.",
                 ["Event", "Source", "Reason", "Attempts", "Since"],
                 [[Cell(_text(e.get("event_id"))), Cell(_text(e.get("source"))),
                   Cell(_text(e.get("reason")), tone="bad"), Cell(_number(e.get("attempts")), True),
                   Cell(_when(e.get("since"), zone))] for e in report.failed_events]),
        _section("backfill_found", "Orders whose event never arrived",
                 "The backfill read these from the shop: their events from the plugin did not "
                 "reach the daemon. They are handled; if this list grows, check the plugin's "
                 "settings tab (daemon URL, events secret) and the network between them.",
                 ["Order", "Status", "Found"],
                 [[Cell(_text(o.get("number"))), Cell(_text(o.get("status"))),
                   Cell(_when(o.get("received_at"), zone))] for o in report.backfill_found]),
        _section("orders_attention", "Orders needing attention",
                 "Orders whose stock could not be held or released automatically.",
                 ["Order", "Status", "Reason"],
                 [[Cell(_text(o.get("number"))), Cell(_text(o.get("status"))),
                   Cell(_text(o.get("reason")), tone="bad")] for o in report.orders_attention]),
        _section("stuck_orders", "Stuck pending orders",
                 "Orders still holding stock as pending long after they came in.",
                 ["Order", "Status", "Age", "SKUs", "Last error"],
                 [[Cell(_text(o.get("number"))), Cell(_text(o.get("status"))),
                   Cell(f"{_number(o.get('age_hours'))} h", True), Cell(_text(o.get("skus"))),
                   Cell(_text(o.get("last_error")), tone="bad" if o.get("last_error") else "")]
                  for o in report.stuck_orders]),
    ]
    return [s for s in sections if s.rows]


def _context(report: ReconcileReport, shop_name: str) -> dict[str, Any]:
    zone = _zone(report)
    started = datetime.fromtimestamp(report.started_at, zone)
    finished = datetime.fromtimestamp(report.finished_at or report.started_at, zone)
    duration = max(0.0, (report.finished_at or report.started_at) - report.started_at)
    drifted, corrected = len(report.drift), report.corrected
    problems = problem_count(report)
    summary = [
        ("SKUs checked", _number(report.checked), ""),
        ("Drift found", _number(drifted), "bad" if drifted else "good"),
        ("Drift corrected", _number(corrected),
         "bad" if corrected < drifted else ("good" if drifted else "")),
        ("Problems", _number(problems), "bad" if problems else "good"),
    ]
    h = report.health
    failed = f"{_number(h.polls_failed)} failed" if h.polls_failed else "none failed"
    polls = f"{_number(h.polls)} ({failed})"
    health = [
        ("Polls", polls, "bad" if h.polls_failed else ""),
        ("Webhook events", _by_source(h.webhook_events), ""),
        ("Pushes", _by_source(h.pushes), ""),
        ("Push failures", _number(h.push_failures), "bad" if h.push_failures else ""),
        ("Sync latency p50", _seconds(h.latency_p50), ""),
        ("Sync latency p95", _seconds(h.latency_p95), ""),
        ("Queue depth", _number(h.queue_depth), ""),
        ("Last order backfill", _when(h.last_backfill, zone) if h.last_backfill else "none",
         "bad" if h.backfill_failures else ""),
        ("Orders found only by the backfill", _number(len(report.backfill_found)),
         "bad" if report.backfill_found else ""),
    ]
    if report.needs_attention:
        headline = "Needs attention"
        reasons = []
        if report.failures:
            reasons.append("the run itself failed")
        if drifted > corrected:
            reasons.append(f"{plural(drifted - corrected, 'drifted SKU')} not corrected")
        if problems - len(report.failures):
            reasons.append(plural(problems - len(report.failures), "problem"))
        detail = "A person should look at: " + "; ".join(reasons) + "." if reasons else ""
    else:
        headline = "All good"
        detail = (f"Every SKU matched after {plural(corrected, 'correction')}." if drifted
                  else "Shop and Odoo agree on every SKU.")
    mode = "dry run (nothing corrected)" if report.dry_run else (
        "report only (correction off)" if not report.correct else "correcting")
    return {
        "subject": _subject(report, shop_name, started.date().isoformat()),
        "shop": shop_name,
        "run_id": report.run_id or "(none)",
        "needs_attention": report.needs_attention,
        "headline": headline,
        "detail": detail,
        "started": started.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "finished": finished.strftime("%H:%M:%S"),
        "duration": _seconds(duration) if duration < 120 else f"{duration / 60:.1f} min",
        "timezone": report.timezone,
        "mode": mode,
        "summary": summary,
        "health": health,
        "sections": _sections(report, zone),
        "drift_chart": _drift_chart(report.drift_nights, len(report.drift)),
        "unusual": unusual_drift(report),
    }


# The chart's frame in SVG pixels: the y axis's labels on the left, the dates underneath.
CHART_WIDTH, CHART_HEIGHT = 560, 160
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 552, 18, 132
MAX_SLOT = 48  # a night's share of the width: few nights stay bars, not one slab the chart wide
MAX_BAR, MIN_BAR = 24, 4  # every bar is as wide as the others, within these bounds
LABEL_WIDTH = 34  # room a "11-24" date label needs; fewer labels when the slots are narrower
VALUE_SLOT = 30  # narrower slots than this show only tonight's figure above its bar
NICE_STEPS = (1, 2, 5)  # the y axis counts in 1, 2 or 5 times a power of ten
MAX_TICKS = 4  # intervals on the y axis above 0


def _axis_step(top: int) -> int:
    """The smallest round step (1, 2, 5, 10, 20, ...) that covers `top` in MAX_TICKS steps."""
    scale = 1
    while True:
        for step in NICE_STEPS:
            if step * scale * MAX_TICKS >= top:
                return step * scale
        scale *= 10


def _drift_chart(nights: list[tuple[str, int]], this_run: int) -> dict[str, Any]:
    """Bars of drifted SKUs per night, axis and labels as plain numbers for the inline SVG.

    A night shows the most SKUs one reconciliation found drifted that night (the last entry is
    tonight, and this run is one of tonight's runs, so tonight is at least this run's table). The
    maximum, not the last run: a rerun after the corrections finds little, and that must not hide
    what drifted earlier that night; not the sum: an SKU two runs found is one drifted SKU.
    """
    # Hand-drawn SVG: an email can carry no script, and a chart library's image would need a
    # renderer on the daemon's host; these are a few rectangles and lines.
    chart: dict[str, Any] = {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": [],
                             "ticks": [], "this_run": this_run}
    if not nights:
        chart["caption"] = ("No nights recorded yet: the chart starts with the first "
                            "reconciliation.")
        chart["title"] = "Drift per night"
        return chart
    nights = [*nights[:-1], (nights[-1][0], max(nights[-1][1], this_run))]
    count = len(nights)
    top = max(figure for _, figure in nights)
    step = _axis_step(top)
    axis_top = max(step * -(-top // step), step)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = min(MAX_SLOT, (PLOT_RIGHT - PLOT_LEFT) / count)
    bar_width = max(MIN_BAR, min(MAX_BAR, round(slot * 0.6)))
    label_every = max(1, -(-LABEL_WIDTH // int(slot)))  # ceiling: labels never overlap
    for index, (day, figure) in enumerate(nights):
        height = round(figure / axis_top * plot_height, 1)
        centre = PLOT_LEFT + index * slot + slot / 2
        tonight = index == count - 1
        chart["bars"].append({
            "day": day, "count": figure, "x": round(centre - bar_width / 2, 1), "width": bar_width,
            "y": round(PLOT_BOTTOM - height, 1), "height": height, "centre": round(centre, 1),
            "tonight": tonight, "label": day[5:] if (count - 1 - index) % label_every == 0 else "",
            "value": _number(figure) if tonight or slot >= VALUE_SLOT else "",
            "value_y": round(PLOT_BOTTOM - height - 4, 1),
            "words": f"{day}: {plural(figure, 'SKU')} drifted"})
    for tick in range(0, axis_top + 1, step):
        y = round(PLOT_BOTTOM - tick / axis_top * plot_height, 1)
        chart["ticks"].append({"y": y, "text_y": round(y + 4, 1), "label": _number(tick)})
    chart["plot"] = {"left": PLOT_LEFT, "right": PLOT_RIGHT, "top": PLOT_TOP,
                     "bottom": PLOT_BOTTOM}
    tonight_figure = nights[-1][1]
    if count == 1:
        chart["title"] = "Drift per night: tonight, the first night recorded"
    else:
        chart["title"] = f"Drift per night, last {plural(count, 'night')}"
    if tonight_figure > this_run:
        found = (f"{plural(this_run, 'SKU')}, the Drift table below" if this_run else "none")
        tonight_words = (f"Tonight {plural(tonight_figure, 'SKU')} drifted in an earlier run; "
                         f"this run found {found}.")
    elif this_run:
        tonight_words = f"Tonight {plural(this_run, 'SKU')} drifted, the Drift table below."
    else:
        tonight_words = "Tonight no SKU drifted."
    peak_day = max(nights, key=lambda night: night[1])[0]
    span = (f"{nights[0][0]} to {nights[-1][0]} (tonight in red); highest "
            f"{plural(top, 'SKU')} on {peak_day}. " if count > 1 else "")
    chart["caption"] = (tonight_words + (" " + span if span else " ") + "A night shows the "
                        "most SKUs one run found drifted that night.")
    chart["aria"] = f"Drifted SKUs per night, highest {plural(top, 'SKU')}"
    return chart


def _csv(report: ReconcileReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in report.drift:
        writer.writerow([
            _cell_text(d.sku), _cell_text(d.name), _plain_number(d.shop_before), d.shop_status_before,
            _plain_number(d.odoo_figure), _plain_number(d.pending), _plain_number(d.should_show),
            _plain_number(d.shop_after), "yes" if d.shop_after is not None else "no",
            _cell_text(d.error or ""),
        ])
    return out.getvalue()


def _cell_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (staff open this attachment in Excel)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# -- saving ------------------------------------------------------------------------------------

def _stem(report: ReconcileReport, directory: Path) -> str:
    started = datetime.fromtimestamp(report.started_at, _zone(report))
    run_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", report.run_id).strip("._") or "run"
    stem = f"{started:%Y-%m-%dT%H%M%S}-{run_id}"
    candidate, n = stem, 1
    while any((directory / f"{candidate}.{suffix}").exists() for suffix in SUFFIXES):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _summary(rendered: RenderedReport, report: ReconcileReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id, "started_at": report.started_at,
        "finished_at": report.finished_at, "timezone": report.timezone,
        "dry_run": report.dry_run, "correct": report.correct, "subject": rendered.subject,
        "needs_attention": report.needs_attention, "checked": report.checked,
        "drifted": len(report.drift), "corrected": report.corrected,
        "problems": problem_count(report),
        "counts": {name: len(getattr(report, name)) for name in (
            "shop_only", "odoo_only", "duplicate_shop", "duplicate_odoo", "unmanaged",
            "dead_letters", "failed_events", "orders_attention", "stuck_orders",
            "repeat_drifters", "failures")},
    }


def save(rendered: RenderedReport, report: ReconcileReport, directory: Path) -> dict[str, Path]:
    """Write the report's .html, .txt, .csv and (last) .json under `directory`; suffix -> path."""
    # Reports name customers and their emails: only the daemon's user may read them (mkstemp
    # already creates the files 0600).
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    stem = _stem(report, directory)
    contents = {
        "html": rendered.html.encode(),
        "txt": rendered.text.encode(),
        "csv": rendered.csv.encode(),
        "json": (json.dumps(_summary(rendered, report), indent=2) + "\n").encode(),
    }
    paths = {}
    for suffix in SUFFIXES:  # the .json last: its presence marks a complete report
        paths[suffix] = directory / f"{stem}.{suffix}"
        _write_atomically(paths[suffix], contents[suffix])
    return paths


def latest(directory: Path) -> dict[str, Path] | None:
    """The paths (suffix -> path) of the most recently started complete report, if any."""
    if not directory.is_dir():
        return None
    found: list[tuple[float, str, Path]] = []
    for marker in directory.glob("*.json"):
        try:
            started = float(json.loads(marker.read_text())["started_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append((started, marker.name, marker))
    for _, _, marker in sorted(found, reverse=True):
        paths = {suffix: marker.with_suffix(f".{suffix}") for suffix in SUFFIXES}
        if all(p.exists() for p in paths.values()):
            return paths
    return None


# -- sending -----------------------------------------------------------------------------------

def build_message(rendered: RenderedReport, settings: SmtpSettings, *, filename: str) -> EmailMessage:
    """The email: text and HTML alternatives, the CSV of differences attached as `filename`."""
    # Fold only at SMTP's hard limit: folding at 78 puts a stray space before an encoded word
    # (CPython's folder), so "problems — shop" would arrive as "problems  — shop".
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["Subject"] = rendered.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    domain = settings.sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message.add_attachment(rendered.csv.encode(), maintype="text", subtype="csv", filename=filename)
    return message


def send(rendered: RenderedReport, settings: SmtpSettings, *, filename: str,
         policy: RetryPolicy = mail.DEFAULT_POLICY) -> tuple[bool, str]:
    """Email the report, retrying with backoff; (sent, reason) and never an exception."""
    try:
        message = build_message(rendered, settings, filename=filename)
    except Exception as error:  # never into the caller: the report is saved already
        return False, f"building the report email failed unexpectedly: {error!r}"
    return mail.send(message, settings, policy=policy, what="report")
