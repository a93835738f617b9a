"""The one release version (`./dev version`) and the release check (`./dev release`), on temporary
copies of the files they read."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import pytest

import woodoo

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 6)
URL = "https://github.com/woodoo/woodoo"


def load(name: str) -> ModuleType:
    """packaging/<name>.py (the folder is not a package: `packaging` is a PyPI library's name)."""
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "packaging"))


versions = load("version")
release = load("release")

CHANGELOG = f"""# Changelog

## [Unreleased]

## [1.0.0] - 2026-12-06

### Added
- One release version.

## [0.4.0] - 2026-12-01

### Fixed
- Something.

[Unreleased]: {URL}/compare/v1.0.0...HEAD
[1.0.0]: {URL}/releases/tag/v1.0.0
[0.4.0]: {URL}/releases/tag/v0.4.0
"""

README = """# Woodoo

## Compatibility

| Part | Version | Run on | Only read about |
| --- | --- | --- | --- |
| Daemon (`woodoo`) | 1.0.0 | Python 3.11; Odoo 18.0, 19.0; WooCommerce 11.0.1 | Odoo 17.0 |
| Plugin (`woodoo-companion`) | 1.0.0 | WordPress 7.0.4, WooCommerce 11.0.1, PHP 8.2 | PHP 7.4 |
| Odoo module (`woodoo_webhook`) | 1.0.0 (Odoo 18 shows 18.0.1.0.0) | Odoo 18.0, 19.0 | Odoo 17.0 |

## Next
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files the release check reads, copied; a CHANGELOG and README in the expected form."""
    for relative in {"VERSION", release.PLUGIN_README, *(s.path for s in versions.SPOTS)}:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, "utf-8")
    (tmp_path / "README.md").write_text(README, "utf-8")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def refusals(root: Path) -> list[str]:
    return release.check(root, TODAY)


# -- one version ----------------------------------------------------------------------------------

def test_every_spot_carries_the_version_file_s_version():
    assert versions.disagreements(ROOT) == []
    version = versions.release(ROOT)
    assert version == woodoo.__version__
    assert [found for _, found in versions.read(ROOT)] == [version] * len(versions.SPOTS)
    # pyproject reads VERSION, the installed package says it, and so does the command line.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"file": "VERSION"}
    out = subprocess.run([sys.executable, "-m", "woodoo", "--version"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert out.strip() == f"woodoo, version {version}"


def test_the_module_manifest_is_installable_on_every_odoo_it_names():
    # Odoo 17/18 prefix a bare X.Y.Z with their series; Odoo 19 marks a module whose version
    # starts with another series ("18.0.") not installable (odoo/modules/module.py check_version).
    manifest = ast.literal_eval((ROOT / "odoo-addon/woodoo_webhook/__manifest__.py").read_text())
    assert versions.RELEASE.fullmatch(manifest["version"])


def test_a_spot_that_differs_is_named_with_where_it_is(checkout):
    edit(checkout / "odoo-addon/woodoo_webhook/models/woodoo_webhook_event.py",
         f"woodoo-webhook/{woodoo.__version__} (Odoo)", "woodoo-webhook/2.0 (Odoo)")
    assert versions.disagreements(checkout) == [
        f"odoo-addon/woodoo_webhook/models/woodoo_webhook_event.py: the module's USER_AGENT is "
        f"'2.0', VERSION is {woodoo.__version__}"]


def test_dev_version_writes_every_spot_and_nothing_else(checkout):
    before = {p: p.read_text("utf-8") for p in checkout.rglob("*") if p.is_file()}
    changed = versions.write("2.3.4", checkout)
    assert sorted(changed) == sorted({"VERSION", *(s.path for s in versions.SPOTS)})
    assert versions.disagreements(checkout) == []
    assert versions.release(checkout) == "2.3.4"
    for path, text in before.items():  # only the version's lines moved
        relative = path.relative_to(checkout).as_posix()
        spots = sum(spot.path == relative for spot in versions.SPOTS) or relative == "VERSION"
        moved = [a for a, b in zip(text.splitlines(), path.read_text("utf-8").splitlines(),
                                   strict=True) if a != b]
        assert len(moved) == spots, (relative, moved)


def test_dev_version_refuses_what_is_no_release_version_and_writes_nothing(checkout):
    before = (checkout / "VERSION").read_text()
    for bad in ("1.0", "1.0.0-rc1", "v1.0.0", "1.0.0\n2", "9" * 7 + ".0.0"):
        with pytest.raises(versions.VersionError, match="not a release version"):
            versions.write(bad, checkout)
    assert (checkout / "VERSION").read_text() == before


def test_dev_version_writes_nothing_when_a_spot_is_missing(checkout):
    edit(checkout / "wp-plugin/woodoo-companion/readme.txt", "Stable tag:", "Stable-tag:")
    with pytest.raises(versions.VersionError, match=r"readme.txt's Stable tag found 0 times"):
        versions.write("2.3.4", checkout)
    assert versions.release(checkout) == woodoo.__version__


# -- ./dev release --------------------------------------------------------------------------------

def test_this_checkout_s_versions_changelog_and_compatibility_table_agree():
    # The repository as it stands: a version moved without its CHANGELOG section and table row
    # fails here, not at release time. (Today: no release section may be dated later.)
    assert release.check(ROOT, datetime.now(UTC).date()) == []


def test_release_passes_when_everything_agrees(checkout):
    assert refusals(checkout) == []
    result = subprocess.run([str(ROOT / "dev"), "release", "--root", str(checkout),
                             "--today", "2026-12-06"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert "agree" in result.stdout


def test_release_refuses_a_version_spot_that_differs_and_exits_non_zero(checkout):
    edit(checkout / "wp-plugin/woodoo-companion/woodoo-companion.php",
         f"'WOODOO_COMPANION_VERSION', '{woodoo.__version__}'", "'WOODOO_COMPANION_VERSION', '0.4.0'")
    result = subprocess.run([str(ROOT / "dev"), "release", "--root", str(checkout),
                             "--today", "2026-12-06"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert ("woodoo-companion.php: WOODOO_COMPANION_VERSION is '0.4.0', VERSION is 1.0.0"
            in result.stderr)
    assert "refused (1 disagreement)" in result.stderr


@pytest.mark.parametrize(("old", "new", "said"), [
    ("## [1.0.0] - 2026-12-06", "## [0.9.0] - 2026-12-06",
     "the newest released section must be `## [1.0.0] - YYYY-MM-DD`"),
    ("## [Unreleased]\n", "", "the first `## ` heading must be `## [Unreleased]`"),
    ("## [1.0.0] - 2026-12-06", "## [1.0.0]", "'## [1.0.0]' is not `## [X.Y.Z] - YYYY-MM-DD`"),
    ("## [1.0.0] - 2026-12-06", "## [1.0.0] - 2026-13-40", "2026-13-40 is not a date"),
    ("## [1.0.0] - 2026-12-06", "## [1.0.0] - 2026-12-07", "is dated after today (2026-12-06)"),
    ("## [1.0.0] - 2026-12-06", "## [1.0.0] - 2026-11-30",
     "'## [0.4.0] - 2026-12-01' is not older than the section above it"),
    ("### Added\n- One release version.\n", "",
     "the [1.0.0] section has no `### Added/Changed/Deprecated/Removed/Fixed/Security` subsection"),
    (f"[1.0.0]: {URL}/releases/tag/v1.0.0\n", "",
     "no link reference `[1.0.0]: https://...` at the bottom"),
    (f"[Unreleased]: {URL}/compare/v1.0.0...HEAD\n", "",
     "no link reference `[Unreleased]: https://...`"),
])
def test_release_refuses_a_changelog_that_disagrees(checkout, old, new, said):
    edit(checkout / "CHANGELOG.md", old, new)
    found = refusals(checkout)
    assert len(found) == 1 and found[0].startswith("CHANGELOG.md: ") and said in found[0], found


@pytest.mark.parametrize(("old", "new", "said"), [
    ("## Compatibility\n", "## Versions\n", "README.md: no `## Compatibility` section"),
    ("| Only read about |", "| Read |", "no table with the header `| Part | Version | Run on |"),
    ("| Odoo module (`woodoo_webhook`) | 1.0.0 (Odoo", "| Odoo module (`woodoo_webhook`) | 2.2.0 (Odoo",
     "the `woodoo_webhook` row's version is '2.2.0 (Odoo 18 shows 18.0.1.0.0)', the release is 1.0.0"),
    ("| Daemon (`woodoo`) | 1.0.0 |", "| Daemon (`woodoo`) | 1.0.01 |", "the `woodoo` row's version"),
    ("| Plugin (`woodoo-companion`)", "| Plugin (companion)", "0 rows name `woodoo-companion`"),
    ("WordPress 7.0.4", "WordPress 6.9", "does not name 'WordPress 7.0' (the plugin's header"),
    ("WooCommerce 11.0.1, PHP 8.2", "PHP 8.2", "does not name 'WooCommerce 11.0'"),
    ("| PHP 7.4 |", "|  |", "the `woodoo-companion` row must fill its 4 cells"),
    ("Python 3.11; ", "", "the `woodoo` row's Run on cell does not name 'Python'"),
])
def test_release_refuses_a_compatibility_table_that_disagrees(checkout, old, new, said):
    edit(checkout / "README.md", old, new)
    found = refusals(checkout)
    assert len(found) == 1 and found[0].startswith("README.md") and said in found[0], found


def test_release_refuses_a_plugin_readme_without_the_release_in_its_changelog(checkout):
    readme = checkout / release.PLUGIN_README
    readme.write_text(re.sub(r"(?m)^= 1\.0\.0 =$", "= 0.9.9 =", readme.read_text("utf-8")))
    assert refusals(checkout) == [f"{release.PLUGIN_README}: its changelog has no `= 1.0.0 =` entry"]


def test_release_says_every_disagreement_at_once(checkout):
    (checkout / "VERSION").write_text("1.1.0\n")
    found = refusals(checkout)
    assert len([f for f in found if "VERSION is 1.1.0" in f]) == len(versions.SPOTS)
    assert any("must be `## [1.1.0] - YYYY-MM-DD`" in f for f in found)
    assert any("the `woodoo` row's version is '1.0.0'" in f for f in found)
    assert any("no `= 1.1.0 =` entry" in f for f in found)
