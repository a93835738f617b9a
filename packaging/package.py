"""Build what a Woodoo release ships, into one directory: `./dev package [DIR]` (dist/ by default,
relative to the checkout).

- woodoo-<version>-py3-none-any.whl and woodoo-<version>.tar.gz: the daemon, by `python -m build`
  (the wheel built from the sdist, so that a file the sdist misses is missing from the wheel too).
- woodoo-companion-<version>.zip: the WordPress plugin's folder as WordPress installs it
  (Plugins > Add New > Upload), nothing else: its tests live outside it.
- woodoo_webhook-<version>.zip: the Odoo module's folder, to unzip into a directory of
  Odoo's addons_path.

Every archive is named by the one release version (VERSION, see packaging/version.py); when a
spot that carries it (the package, the plugin's header, constant and readme, the module's
manifest and user agent) disagrees, nothing is built.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import version as versions  # packaging/version.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "wp-plugin" / "woodoo-companion"
ODOO_MODULE = ROOT / "odoo-addon" / "woodoo_webhook"
# Never shipped: caches and tests (the tests importing the Odoo module leave __pycache__ in it).
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "node_modules"})
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo", ".orig", ".rej", ".swp"})


class PackagingError(Exception):
    """What stops a release from being built, in words."""


def release_version() -> str:
    """The release version, once every spot that carries it agrees with VERSION."""
    problems = versions.disagreements(ROOT)
    if problems:
        raise PackagingError("the versions differ: " + "; ".join(problems)
                             + "; run ./dev version X.Y.Z")
    return versions.release(ROOT)


def build_python(out: Path) -> list[Path]:
    """The wheel and the sdist. --no-isolation: built with the venv's build tools, which ./dev
    installs once, instead of an isolated environment fetched from PyPI on every run."""
    # build's own report goes to stderr: stdout lists the archives, one a line, for scripts.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--quiet", "--outdir",
                    str(out), str(ROOT)], check=True, stdout=sys.stderr)
    version = versions.release(ROOT)
    built = [out / f"woodoo-{version}-py3-none-any.whl", out / f"woodoo-{version}.tar.gz"]
    for path in built:
        if not path.is_file():
            raise PackagingError(f"python -m build did not make {path.name}")
    return built


def shipped_files(folder: Path) -> list[Path]:
    """The files of `folder` that ship, sorted: no caches, tests or hidden files."""
    files = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories
                                   if d not in EXCLUDED_DIRS and not d.startswith("."))
        files += [Path(directory, name) for name in sorted(names)
                  if not name.startswith(".") and Path(name).suffix not in EXCLUDED_SUFFIXES]
    return files


def zip_folder(folder: Path, archive: Path) -> Path:
    """`folder` zipped as `<folder name>/...`, entries sorted, dated SOURCE_DATE_EPOCH if set
    (reproducible archives) or else by the files' own times."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        directories = set()
        for path in shipped_files(folder):
            relative = path.relative_to(folder.parent)
            for parent in reversed(relative.parents[:-1]):
                if parent not in directories:
                    directories.add(parent)
                    entry = zipfile.ZipInfo(f"{parent.as_posix()}/", _zip_time(path, epoch))
                    entry.external_attr = (0o40755 << 16) | 0x10
                    out.writestr(entry, b"")
            entry = zipfile.ZipInfo(relative.as_posix(), _zip_time(path, epoch))
            entry.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, path.read_bytes())
    partial.replace(archive)
    return archive


def _zip_time(path: Path, epoch: str | None) -> tuple[int, int, int, int, int, int]:
    stamp = int(epoch) if epoch else int(path.stat().st_mtime)
    # Zip times start in 1980.
    moment = max(datetime.fromtimestamp(stamp, UTC), datetime(1980, 1, 1, tzinfo=UTC))
    return moment.timetuple()[:6]


def package(out: Path) -> list[Path]:
    """Everything into `out`; the paths of what was built."""
    version = release_version()
    out.mkdir(parents=True, exist_ok=True)
    plugin = zip_folder(PLUGIN, out / f"{PLUGIN.name}-{version}.zip")
    module = zip_folder(ODOO_MODULE, out / f"{ODOO_MODULE.name}-{version}.zip")
    return [*build_python(out), plugin, module]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev package", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", default="dist",
                        help="where to put the archives (relative to the checkout; default dist)")
    args = parser.parse_args(argv)
    out = (ROOT / args.directory).resolve()
    try:
        built = package(out)
    except (PackagingError, subprocess.CalledProcessError) as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    for path in built:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
