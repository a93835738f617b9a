"""Which versions of the daemon, the WordPress plugin and the Odoo module work together: one
table, pure.

Each part says its version: the plugin's signed calls carry `WoodooCompanion/<version>`, the
module's `woodoo-webhook/<version> (Odoo)`, and the daemon's answers to signed calls
`X-Woodoo-Version` (the status route's `version` too). From 1.0.0 the three share one release
version, and parts of the same major version work together. Before it each part had its own
numbering: the plugin 0.1-0.4, the module 1.0 and 2.0-2.2 (its user agent said `2.0` for all
three), and every daemon said 0.1.0.

The plugin mirrors this table (wp-plugin/woodoo-companion/includes/class-woodoo-compat.php); both
are held to tests/vectors/compat.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from woodoo import __version__

Part = Literal["daemon", "plugin", "module"]
Level = Literal["works", "limited", "broken", "unknown"]
PARTS: tuple[Part, ...] = ("plugin", "module")  # the parts that call the daemon
PRODUCTS: dict[Part, str] = {"daemon": "Woodoo", "plugin": "WoodooCompanion",
                             "module": "woodoo-webhook"}
NAMES: dict[Part, str] = {"daemon": "the daemon", "plugin": "the WordPress plugin",
                          "module": "the Odoo module"}
HEADER = "X-Woodoo-Version"  # the daemon's version, on its answers to signed calls
MAX_AGENT = 200  # a longer user agent is no part's: its version is unknown
# Up to 4 numbers of at most 6 digits: bounded, and [0-9] because \d takes any script's digits.
VERSION = r"[0-9]{1,6}(?:\.[0-9]{1,6}){1,3}"

# Releases before 1.0.0, by (major, minor) as each part numbered them: what working with a 1.x
# counterpart gives. Read from CHANGELOG.md, the plugin's readme.txt, the module's README and git.
UPDATE = "update it to {release}"
LEGACY: dict[Part, dict[tuple[int, int], tuple[Level, str]]] = {
    "plugin": {
        (0, 1): ("broken", "it signs its calls the v1 way with one secret, which daemons refuse "
                           "since 0.2 (signatures bound to their route, a secret per channel): "
                           "no order event arrives and no stock write is accepted; " + UPDATE
                           + " and set its events and stock secrets"),
        (0, 2): ("limited", "it has no flush route (events waiting in the shop go at their next "
                            "retry, up to 6 hours apart, not when the daemon starts) and no bulk "
                            "routes (stock goes through WooCommerce's REST API); " + UPDATE),
        (0, 3): ("limited", "it has no bulk routes (stock goes through WooCommerce's REST API, "
                            "about 15 times slower on a large catalog); " + UPDATE),
        (0, 4): ("works", "it does not show in its panel whether it works with the daemon; "
                          + UPDATE),
    },
    "module": {
        (1, 0): ("broken", "it signs its events the v1 way, which daemons refuse since 0.2, and "
                           "sends inside the user's save: no stock event arrives; " + UPDATE
                           + " (-u woodoo_webhook)"),
        (2, 0): ("limited", "a module from before 1.0 (2.0, 2.1 and 2.2 all said 2.0): 2.0 and "
                            "2.1 can leave an event waiting for the next change or the minute's "
                            "cron run, and none sends the idle heartbeat that ends the daemon's "
                            "pause when Odoo is back; " + UPDATE + " (-u woodoo_webhook)"),
    },
    "daemon": {
        (0, 1): ("limited", "a daemon from before 1.0 (every one said 0.1.0): order events, the "
                            "stock, flush and bulk routes work, but it does not check the parts' "
                            "versions; " + UPDATE),
    },
}


@dataclass(frozen=True)
class Pairing:
    """How `part` at `version` works with a counterpart at `release`, in one sentence."""

    part: Part
    version: str | None  # as the part said it; None when it said nothing readable
    level: Level
    words: str

    @property
    def fails(self) -> bool:
        """True when the pairing cannot work (an alert), not when it is only unknown."""
        return self.level == "broken"


def agent_version(part: Part, agent: object) -> str | None:
    """The version `part`'s user agent names (`<product>/<version>[ <comment>]`), or None."""
    if not isinstance(agent, str) or len(agent) > MAX_AGENT:
        return None
    match = re.fullmatch(rf"{re.escape(PRODUCTS[part])}/({VERSION})(?: [ -~]*)?", agent)
    return match.group(1) if match else None


def pairing(part: Part, version: str | None, release: str = __version__) -> Pairing:
    """How `part` at `version` works with the other parts at `release` (a 1.x or later)."""
    viewer = "this plugin" if part == "daemon" else "this daemon"
    numbers = _numbers(version)
    release_major = int(release.split(".")[0])
    update = UPDATE.format(release=f"{release_major}.x")
    said = f"{NAMES[part]} ({PRODUCTS[part]} {version})"
    if numbers is None:
        return Pairing(part, None, "unknown",
                       f"{NAMES[part]} did not say a version {viewer} can read (it says "
                       f"{PRODUCTS[part]}/X.Y.Z from 1.0): it is an old or a foreign sender, "
                       f"and whether it works with {viewer} ({release}) is unknown; {update}")
    if len(numbers) == 3 and numbers[0] >= 1:
        if numbers[0] == release_major:
            return Pairing(part, version, "works", f"{said} works with {viewer} ({release})")
        newer = numbers[0] > release_major
        fix = (f"update {'this side' if part != 'daemon' else 'this plugin'} to {numbers[0]}.x"
               if newer else update)
        return Pairing(part, version, "broken",
                       f"{said} cannot work with {viewer} ({release}): a different major "
                       f"version ({numbers[0]}.x, {'newer' if newer else 'older'}) speaks "
                       f"another protocol; {fix}")
    known = LEGACY[part].get((numbers[0], numbers[1])) if release_major == 1 else None
    if known is None:
        return Pairing(part, version, "unknown",
                       f"{said} is no release {viewer} ({release}) knows; {update}")
    level, reason = known
    verdict = {"works": "works with", "limited": "works, with limits, with",
               "broken": "cannot work with"}[level]
    return Pairing(part, version, level,
                   f"{said} {verdict} {viewer} ({release}): {reason.format(release=f'{release_major}.x')}")


def _numbers(version: str | None) -> tuple[int, ...] | None:
    if not isinstance(version, str) or not re.fullmatch(VERSION, version):
        return None
    return tuple(int(part) for part in version.split("."))
