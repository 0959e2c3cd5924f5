"""The distribution ships every package and data file the code reads.

An editable install reads the checkout, so a file missing from `pyproject.toml` only
shows after `pip install .` (as in CI and for users). This test compares the package
list and the package-data globs with what is on disk."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]


def _package_of(directory: Path, dirs: dict[str, str]) -> str | None:
    rel = directory.relative_to(ROOT).as_posix()
    best = None
    for package, source in dirs.items():
        if rel == source or rel.startswith(source + "/"):
            if best is None or len(source) > len(dirs[best]):
                best = package
    if best is None:
        return None
    rest = rel[len(dirs[best]):].strip("/")
    return best + ("." + rest.replace("/", ".") if rest else "")


def test_every_python_package_is_listed() -> None:
    config = _config()
    dirs = config["package-dir"]
    listed = set(config["packages"])
    on_disk = set()
    for source in dirs.values():
        for init in (ROOT / source).rglob("*.py"):
            if "__pycache__" in init.parts:
                continue
            package = _package_of(init.parent, dirs)
            if package:
                on_disk.add(package)
    assert on_disk - listed == set()


def _shipped(path: Path, dirs: dict[str, str], data: dict[str, list[str]]) -> bool:
    """Whether a package-data glob of the file's package, or of a package above it
    (`static/*.js` of `sluicegate.console`), names the file."""
    directory = path.parent
    relative = path.name
    while True:
        package = _package_of(directory, dirs)
        if package is None:
            return False
        if any(fnmatch.fnmatch(relative, g) for g in data.get(package, [])):
            return True
        if directory == ROOT:
            return False
        relative = f"{directory.name}/{relative}"
        directory = directory.parent


def test_every_data_file_is_shipped() -> None:
    config = _config()
    dirs = config["package-dir"]
    data = config.get("package-data", {})
    missing = []
    for source in dirs.values():
        for path in (ROOT / source).rglob("*"):
            if (path.is_dir() or path.suffix in (".py", ".pyc")
                    or "__pycache__" in path.parts):
                continue
            if not _shipped(path, dirs, data):
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []
