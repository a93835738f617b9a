"""What a release ships: `./dev package` (the wheel and sdist, the WordPress plugin's zip, the
Odoo module's zip) and the systemd unit the README shows."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import ModuleType

import pytest
from helpers import systemd_verify
from helpers import unit_directives as directives

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "wp-plugin" / "woodoo-companion"
ODOO_MODULE = ROOT / "odoo-addon" / "woodoo_webhook"
UNIT = ROOT / "packaging" / "woodoo.service"
INSTALLED_BINARY = "/opt/woodoo/bin/woodoo"


def load_packaging() -> ModuleType:
    sys.path.insert(0, str(ROOT / "packaging"))  # package.py imports version.py beside it
    try:
        spec = importlib.util.spec_from_file_location("woodoo_packaging",
                                                      ROOT / "packaging" / "package.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    return module


packaging = load_packaging()


# The release version, read here independently of packaging/: every archive is named by it.
def release_version() -> str:
    return (ROOT / "VERSION").read_text("utf-8").strip()


def plugin_version() -> str:
    header = (PLUGIN / "woodoo-companion.php").read_text("utf-8")
    return re.search(r"^ \* Version:\s+(\S+)$", header, re.MULTILINE).group(1)


def odoo_version() -> str:
    return ast.literal_eval((ODOO_MODULE / "__manifest__.py").read_text("utf-8"))["version"]




def source_files(folder: Path) -> set[str]:
    return {path.relative_to(folder.parent).as_posix() for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
            and not path.name.startswith(".")}


@pytest.fixture(scope="module")
def sources() -> dict[str, set[str]]:
    """The files that should ship, listed just before packaging: the tree may change after."""
    return {folder.name: source_files(folder) for folder in (ROOT / "woodoo", PLUGIN, ODOO_MODULE)}


@pytest.fixture(scope="module")
def packaged(sources, tmp_path_factory) -> Iterator[dict[str, Path]]:
    """`./dev package` into a temporary directory, as a release would run it."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([str(ROOT / "dev"), "package", str(out)], capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    built = {path.name: path for path in out.iterdir()}
    assert sorted(result.stdout.split()) == sorted(str(path) for path in built.values())
    yield built


def test_package_builds_four_archives_named_by_the_release_version(packaged):
    version = release_version()
    assert plugin_version() == odoo_version() == version
    assert set(packaged) == {
        f"woodoo-{version}-py3-none-any.whl",
        f"woodoo-{version}.tar.gz",
        f"woodoo-companion-{version}.zip",
        f"woodoo_webhook-{version}.zip",
    }


def test_the_wheel_has_the_package_its_data_files_and_the_command(packaged, sources):
    with zipfile.ZipFile(packaged[f"woodoo-{release_version()}-py3-none-any.whl"]) as wheel:
        names = set(wheel.namelist())
        dist_info = f"woodoo-{release_version()}.dist-info"
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
    assert {"woodoo/__init__.py", "woodoo/cli.py", "woodoo/py.typed",
            "woodoo/data/woodoo.example.yaml", "woodoo/reporting/templates/report.html.j2",
            "woodoo/reporting/templates/report.txt.j2"} <= names
    # Every module and data file of the package, subpackages included, and nothing else.
    shipped = {name for name in names if name.startswith("woodoo/")}
    assert shipped == sources["woodoo"]
    assert re.search(r"^woodoo = woodoo\.cli:main$", entry_points, re.MULTILINE)
    assert f"\nVersion: {release_version()}\n" in metadata


def test_the_sdist_has_the_sources_to_build_it_again(packaged):
    with tarfile.open(packaged[f"woodoo-{release_version()}.tar.gz"]) as sdist:
        names = set(sdist.getnames())
    top = f"woodoo-{release_version()}"
    assert {f"{top}/pyproject.toml", f"{top}/README.md", f"{top}/PKG-INFO",
            f"{top}/woodoo/__init__.py", f"{top}/woodoo/reporting/templates/report.html.j2",
            f"{top}/woodoo/data/woodoo.example.yaml"} <= names


def test_the_plugin_zip_is_the_plugin_folder_only(packaged, sources):
    with zipfile.ZipFile(packaged[f"woodoo-companion-{release_version()}.zip"]) as plugin:
        assert plugin.testzip() is None
        names = plugin.namelist()
        readme = plugin.read("woodoo-companion/readme.txt").decode()
        header = plugin.read("woodoo-companion/woodoo-companion.php").decode()
    files = {name for name in names if not name.endswith("/")}
    assert all(PurePosixPath(name).parts[0] == "woodoo-companion" for name in names)
    assert "woodoo-companion/woodoo-companion.php" in files
    assert files == sources[PLUGIN.name]  # everything in the folder, and only that
    assert not any(part in ("tests", "bin") or part.startswith("phpunit")
                   for name in names for part in PurePosixPath(name).parts)
    # WordPress 7.0.4 with WooCommerce 11.0.1: what the readme and the header promise.
    assert re.search(r"^Tested up to: 7\.0$", readme, re.MULTILINE)
    assert re.search(r"^WC tested up to: 11\.0$", readme, re.MULTILINE)
    assert re.search(r"^Stable tag: " + re.escape(plugin_version()) + "$", readme, re.MULTILINE)
    assert re.search(r"^ \* Tested up to:\s+7\.0$", header, re.MULTILINE)
    assert re.search(r"^ \* WC tested up to:\s+11\.0$", header, re.MULTILINE)


def test_the_odoo_zip_is_the_module_folder_without_caches(packaged, sources):
    with zipfile.ZipFile(packaged[f"woodoo_webhook-{release_version()}.zip"]) as module:
        assert module.testzip() is None
        names = module.namelist()
        manifest = ast.literal_eval(module.read("woodoo_webhook/__manifest__.py").decode())
    files = {name for name in names if not name.endswith("/")}
    assert "woodoo_webhook/__manifest__.py" in files
    assert files == sources[ODOO_MODULE.name]
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert manifest["version"] == odoo_version()
    for relative in manifest["data"]:
        assert f"woodoo_webhook/{relative}" in files


def test_package_refuses_versions_that_differ_and_builds_nothing(tmp_path, monkeypatch):
    copy = tmp_path / "checkout"
    for spot in {"VERSION", *(s.path for s in packaging.versions.SPOTS)}:
        (copy / spot).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / spot, copy / spot)
    monkeypatch.setattr(packaging, "ROOT", copy)
    assert packaging.release_version() == release_version()
    readme = copy / "wp-plugin" / "woodoo-companion" / "readme.txt"
    readme.write_text(re.sub(r"(?m)^Stable tag: .*$", "Stable tag: 9.9.9",
                             readme.read_text("utf-8")), "utf-8")
    with pytest.raises(packaging.PackagingError, match=r"readme.txt's Stable tag is '9\.9\.9'"):
        packaging.package(tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


def test_zips_leave_out_caches_hidden_files_and_tests_and_can_be_reproduced(tmp_path, monkeypatch):
    folder = tmp_path / "src" / "thing"
    for relative in ("thing.php", "includes/a.php", "tests/ThingTest.php", "__pycache__/x.pyc",
                     "lib/b.pyc", ".DS_Store", "includes/.hidden"):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(relative)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    first = packaging.zip_folder(folder, tmp_path / "first.zip")
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["thing/", "thing/thing.php", "thing/includes/",
                                      "thing/includes/a.php"]
    (folder / "thing.php").touch()  # a newer mtime: ignored with SOURCE_DATE_EPOCH
    second = packaging.zip_folder(folder, tmp_path / "second.zip")
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob("*.partial"))


# -- the systemd unit ------------------------------------------------------------------------------

def readme_unit() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Run as a service (systemd)\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```ini\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_shows_the_unit_that_ships():
    assert readme_unit() == UNIT.read_text("utf-8")


def test_the_unit_runs_the_daemon_unprivileged_and_confined():
    service = {key: value for section, key, value in directives(UNIT.read_text("utf-8"))
               if section == "Service"}
    expected = {
        "User": "woodoo", "ExecStart": f"{INSTALLED_BINARY} run", "Restart": "on-failure",
        "StateDirectory": "woodoo", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
        "PrivateTmp": "yes", "UMask": "0077", "ReadWritePaths": "/var/lib/woodoo",
    }
    assert {key: service.get(key) for key in expected} == expected
    # The only writable path is the state directory systemd makes for it.
    assert service["ReadWritePaths"] == f"/var/lib/{service['StateDirectory']}"
    assert int(service["TimeoutStopSec"]) >= 60  # a running poll finishes after SIGTERM


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (systemd's own unit checker)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify also checks that every Exec command exists and is executable: the unit names the
    # installed daemon, so the copy checked runs this Python instead; nothing is started.
    def verify(text: str) -> str:
        return systemd_verify(tmp_path / "woodoo.service", text, INSTALLED_BINARY)

    text = UNIT.read_text("utf-8")
    assert INSTALLED_BINARY in text
    assert verify(text) == "exit 0: "
    # verify only warns about a mistyped directive; the check above sees such warnings.
    assert "ProtectSytem" in verify(text.replace("ProtectSystem=", "ProtectSytem="))
