"""`./dev release [--root DIR] [--today YYYY-MM-DD]`: refuses a release whose versions,
CHANGELOG and README compatibility table disagree; exit 1 with one line per disagreement and
where it is, exit 0 when they agree.

What it reads (the formats are exact, and docs/releasing.md shows them whole):

- VERSION and every spot packaging/version.py lists: all the same X.Y.Z.
- CHANGELOG.md (Keep a Changelog): `## [Unreleased]` is the first `## ` heading; the next is
  `## [X.Y.Z] - YYYY-MM-DD` for this release (a real date, not after today, UTC), holding at
  least one `### Added|Changed|Deprecated|Removed|Fixed|Security` subsection with a `- ` line;
  older releases below it, each `## [A.B.C] - YYYY-MM-DD`, versions and dates going down; at the
  bottom a link reference for `[Unreleased]` and one for every release, e.g.
  `[1.0.0]: https://github.com/woodoo/woodoo/releases/tag/v1.0.0`.
- README.md: a `## Compatibility` section holding one table whose header is
  `| Part | Version | Run on | Only read about |`, with one row per part, named in its first
  cell by its package name in backticks (`` `woodoo` ``, `` `woodoo-companion` ``,
  `` `woodoo_webhook` ``); each Version cell starts with X.Y.Z; the Run on cells name what was
  run (the daemon's: Python, Odoo and WooCommerce; the plugin's: `WordPress <its Tested up to>`,
  `WooCommerce <its WC tested up to>` and PHP; the module's: Odoo); no cell is empty (write
  `none` where nothing was only read about).
- The plugin's readme.txt: a `= X.Y.Z =` entry in its changelog (what WordPress shows).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import version as versions  # packaging/version.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_HEADER = "wp-plugin/woodoo-companion/woodoo-companion.php"
PLUGIN_README = "wp-plugin/woodoo-companion/readme.txt"
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
RELEASED = re.compile(r"^## \[(?P<version>[^\]\n]*)\](?P<rest>.*)$", re.MULTILINE)
DATED = re.compile(r" - (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})")
LINK = r"^\[{}\]: https?://\S+$"
COLUMNS = ("part", "version", "run on", "only read about")
PARTS = {  # the name in backticks that names the row -> what its Run on cell must name
    "woodoo": ("Python", "Odoo", "WooCommerce"),
    "woodoo-companion": ("PHP",),  # and WordPress, WooCommerce: from the plugin's header
    "woodoo_webhook": ("Odoo",),
}


def check(root: Path, today: date) -> list[str]:
    """Every disagreement, one sentence each naming the file and what is wrong (empty: none)."""
    problems = versions.disagreements(root)
    try:
        release = versions.release(root)
    except versions.VersionError:
        return problems  # nothing else can be compared with an unreadable VERSION
    problems += changelog(_read(root, "CHANGELOG.md", problems), release, today)
    problems += compatibility(_read(root, "README.md", problems), release, _tested(root, problems))
    readme = _read(root, PLUGIN_README, problems)
    if readme and not re.search(rf"^= {re.escape(release)} =$", readme, re.MULTILINE):
        problems.append(f"{PLUGIN_README}: its changelog has no `= {release} =` entry")
    return problems


def _read(root: Path, relative: str, problems: list[str]) -> str:
    try:
        return (root / relative).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{relative}: cannot be read ({error})")
        return ""


def changelog(text: str, release: str, today: date) -> list[str]:
    """What CHANGELOG.md lacks for `release`."""
    if not text:
        return []
    where = "CHANGELOG.md"
    headings = list(RELEASED.finditer(text))
    if not headings or headings[0]["version"] != "Unreleased" or headings[0]["rest"]:
        return [f"{where}: the first `## ` heading must be `## [Unreleased]`"]
    released = headings[1:]
    if not released or released[0]["version"] != release:
        found = released[0].group(0) if released else "none"
        return [f"{where}: the newest released section must be `## [{release}] - YYYY-MM-DD` "
                f"(right after `## [Unreleased]`), found {found!r}"]
    problems = []
    previous: tuple[tuple[int, ...], date] | None = None
    for heading in released:
        name = heading.group(0)
        dated = DATED.fullmatch(heading["rest"])
        if not versions.RELEASE.fullmatch(heading["version"]) or not dated:
            problems.append(f"{where}: {name!r} is not `## [X.Y.Z] - YYYY-MM-DD`")
            continue
        try:
            when = date.fromisoformat(dated["date"])
        except ValueError:
            problems.append(f"{where}: {name!r}: {dated['date']} is not a date")
            continue
        if when > today:
            problems.append(f"{where}: {name!r} is dated after today ({today.isoformat()})")
        number = tuple(int(part) for part in heading["version"].split("."))
        if previous and not (number < previous[0] and when <= previous[1]):
            problems.append(f"{where}: {name!r} is not older than the section above it")
        previous = (number, when)
    end = released[1].start() if len(released) > 1 else len(text)
    body = text[released[0].end():end]
    names = "|".join(SECTIONS)
    if not re.search(rf"^### (?:{names})\b.*\n(?:.*\n)*?- \S", body, re.MULTILINE):
        problems.append(f"{where}: the [{release}] section has no `### {'/'.join(SECTIONS)}` "
                        f"subsection with a `- ` line")
    for name in ["Unreleased"] + [h["version"] for h in released]:
        if not re.search(LINK.format(re.escape(name)), text, re.MULTILINE):
            problems.append(f"{where}: no link reference `[{name}]: https://...` at the bottom")
    return problems


def _tested(root: Path, problems: list[str]) -> dict[str, str]:
    """The plugin header's 'Tested up to' and 'WC tested up to'."""
    header = _read(root, PLUGIN_HEADER, problems)
    found = {}
    for name, key in (("WordPress", "Tested up to"), ("WooCommerce", "WC tested up to")):
        match = re.search(rf"^ \* {key}:[ \t]+(\S+)[ \t]*$", header, re.MULTILINE)
        if match:
            found[name] = match.group(1)
        elif header:
            problems.append(f"{PLUGIN_HEADER}: no `{key}:` line in the header")
    return found


def compatibility(text: str, release: str, tested: dict[str, str]) -> list[str]:
    """What README.md's compatibility table lacks for `release`."""
    if not text:
        return []
    where = "README.md, section Compatibility"
    parts = re.split(r"^## Compatibility[ \t]*$", text, maxsplit=1, flags=re.MULTILINE)
    if len(parts) < 2:
        return ["README.md: no `## Compatibility` section"]
    section = re.split(r"^## ", parts[1], maxsplit=1, flags=re.MULTILINE)[0]
    rows = [_cells(line) for line in section.splitlines() if line.strip().startswith("|")]
    if len(rows) < 2 or tuple(c.lower() for c in rows[0]) != COLUMNS:
        return [f"{where}: no table with the header `| Part | Version | Run on | Only read "
                f"about |`"]
    problems = []
    body = rows[2:] if set("".join(rows[1])) <= set("-: ") else rows[1:]
    for name, must in PARTS.items():
        matching = [row for row in body if row and f"`{name}`" in row[0]]
        if len(matching) != 1:
            problems.append(f"{where}: {len(matching)} rows name `{name}`, expected one")
            continue
        row = matching[0]
        if len(row) != len(COLUMNS) or not all(row):
            problems.append(f"{where}: the `{name}` row must fill its {len(COLUMNS)} cells")
            continue
        if not re.match(rf"{re.escape(release)}(?![0-9.])", row[1]):
            problems.append(f"{where}: the `{name}` row's version is {row[1]!r}, the release is "
                            f"{release}")
        needed = list(must)
        if name == "woodoo-companion":
            needed += [f"{what} {version}" for what, version in tested.items()]
        for word in needed:
            if not re.search(rf"{re.escape(word)}(?![0-9])", row[2]):
                problems.append(f"{where}: the `{name}` row's Run on cell does not name "
                                f"{word!r}" + (" (the plugin's header says it was tested up to "
                                                "it)" if " " in word else ""))
    return problems


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row, trimmed (a `\\|` inside a cell is kept)."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to check")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the date releases may not be after (default: today, UTC)")
    args = parser.parse_args(argv)
    problems = check(args.root, args.today or datetime.now(UTC).date())
    for problem in problems:
        print(f"release: {problem}", file=sys.stderr)
    if problems:
        print(f"release: refused ({len(problems)} disagreement"
              f"{'' if len(problems) == 1 else 's'})", file=sys.stderr)
        return 1
    print(f"release {versions.release(args.root)}: versions, CHANGELOG.md and the README's "
          f"compatibility table agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
