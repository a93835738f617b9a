"""The release version, set in one place: the top-level VERSION file.

`./dev version` lists every spot that carries it and whether each agrees; `./dev version X.Y.Z`
writes X.Y.Z into VERSION and into every spot whose format needs a literal (pyproject.toml reads
VERSION itself). The spots:

- `woodoo/__init__.py` `__version__` (`woodoo --version`, `woodoo status`, the status route);
- the plugin's header `Version:`, its `WOODOO_COMPANION_VERSION` and readme.txt's `Stable tag`;
- the Odoo module's manifest `version` (the bare X.Y.Z: each Odoo prefixes its own series, so
  Odoo 18 shows 18.0.X.Y.Z and Odoo 19 shows 19.0.X.Y.Z; a literal `18.0.` prefix would make
  Odoo 19 mark the module not installable) and its `USER_AGENT`.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A release version: three numbers, each at most 6 digits (no pre-release suffix: none is shipped).
RELEASE = re.compile(r"[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}")


class VersionError(Exception):
    """A version that cannot be read or written, in words."""


@dataclass(frozen=True)
class Spot:
    """One place a version is written: a file and a pattern whose group 1 is the version."""

    path: str  # relative to the checkout
    pattern: str
    name: str  # what a reader calls it


SPOTS = (
    Spot("woodoo/__init__.py", r'^__version__ = "([^"\n]*)"$', "woodoo.__version__"),
    Spot("wp-plugin/woodoo-companion/woodoo-companion.php", r"^ \* Version:[ \t]+(\S+)[ \t]*$",
         "the plugin header's Version"),
    Spot("wp-plugin/woodoo-companion/woodoo-companion.php",
         r"^define\( 'WOODOO_COMPANION_VERSION', '([^'\n]*)' \);$", "WOODOO_COMPANION_VERSION"),
    Spot("wp-plugin/woodoo-companion/readme.txt", r"^Stable tag:[ \t]*(\S+)[ \t]*$",
         "readme.txt's Stable tag"),
    Spot("odoo-addon/woodoo_webhook/__manifest__.py", r'^    "version": "([^"\n]*)",$',
         "the module manifest's version"),
    Spot("odoo-addon/woodoo_webhook/models/woodoo_webhook_event.py",
         r'^USER_AGENT = "woodoo-webhook/([^ "\n]*) \(Odoo\)"$', "the module's USER_AGENT"),
)


def release(root: Path = ROOT) -> str:
    """The release version, from VERSION: refused unless it is X.Y.Z."""
    path = root / "VERSION"
    try:
        text = path.read_text("utf-8").strip()
    except OSError as error:
        raise VersionError(f"VERSION: cannot be read ({error.strerror})") from None
    if not RELEASE.fullmatch(text):
        raise VersionError(f"VERSION: {text[:40]!r} is not a release version X.Y.Z")
    return text


def _found(spot: Spot, text: str) -> re.Match[str]:
    matches = list(re.finditer(spot.pattern, text, re.MULTILINE))
    if len(matches) != 1:
        raise VersionError(f"{spot.path}: {spot.name} found {len(matches)} times, expected once "
                           f"(pattern {spot.pattern!r})")
    return matches[0]


def _text(path: Path, relative: str) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as error:
        raise VersionError(f"{relative}: cannot be read ({error.strerror})") from None


def read(root: Path = ROOT) -> list[tuple[Spot, str]]:
    """Each spot with the version written there."""
    return [(spot, _found(spot, _text(root / spot.path, spot.path)).group(1)) for spot in SPOTS]


def disagreements(root: Path = ROOT) -> list[str]:
    """One sentence per spot that does not carry VERSION's version (empty: all agree)."""
    try:
        version = release(root)
        spots = read(root)
    except VersionError as error:
        return [str(error)]
    return [f"{spot.path}: {spot.name} is {found!r}, VERSION is {version}"
            for spot, found in spots if found != version]


def write(version: str, root: Path = ROOT) -> list[str]:
    """`version` into VERSION and every spot; the paths changed."""
    if not RELEASE.fullmatch(version):
        raise VersionError(f"{version[:40]!r} is not a release version X.Y.Z")
    edits: dict[str, str] = {}
    for spot in SPOTS:  # every spot found before anything is written: a missing one changes nothing
        text = edits.get(spot.path) or _text(root / spot.path, spot.path)
        match = _found(spot, text)
        edits[spot.path] = text[:match.start(1)] + version + text[match.end(1):]
    edits["VERSION"] = version + "\n"
    changed = []
    for relative, text in edits.items():
        path = root / relative
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            changed.append(relative)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev version", description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?", help="the new release version X.Y.Z")
    args = parser.parse_args(argv)
    try:
        if args.version:
            for path in write(args.version):
                print(f"wrote {args.version} into {path}")
        version = release()
        for spot, found in read():
            print(f"{'ok  ' if found == version else 'DIFF'} {found:<12} {spot.name} ({spot.path})")
    except VersionError as error:
        print(f"version: {error}", file=sys.stderr)
        return 1
    problems = disagreements()
    for problem in problems:
        print(f"version: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
