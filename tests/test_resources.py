"""Shipped presets and samples are found the same way installed and in a source checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.paths import RESOURCES, resource_dir

REPO = Path(__file__).resolve().parent.parent

#: What a process sees of the shipped files: run with ``python -S`` (no site-packages
#: hooks, so no editable install) and only the dependencies' folders on the path.
PROBE = """
import importlib.util, json
import connector
from adapters.registry import list_all_presets
from connector.paths import resource_dir
from connector.sandbox import default_seed
print(json.dumps({
    "package": connector.__file__,
    "installed_as_package": importlib.util.find_spec("connector.mappings") is not None,
    "presets": [name for name, *_ in list_all_presets()],
    "sample_data": str(resource_dir("sample_data")),
    "seed": len(default_seed()),
}))
"""


def make_tree(root: Path, *folders: str, files: tuple[str, ...] = ()) -> Path:
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in files:
        (root / name).write_text("", encoding="utf-8")
    return root


def test_installed_the_resources_are_the_packages_inside_connector(tmp_path: Path) -> None:
    # site-packages may hold another project's top-level "mappings": never that one.
    site = make_tree(tmp_path, "connector/mappings", "connector/sample_data", "mappings")
    for name in RESOURCES:
        assert resource_dir(name, package_dir=site / "connector") == site / "connector" / name


def test_in_a_checkout_the_resources_are_the_repositorys_folders(tmp_path: Path) -> None:
    repo = make_tree(tmp_path, "connector", "mappings", "sample_data", files=("pyproject.toml",))
    for name in RESOURCES:
        assert resource_dir(name, package_dir=repo / "connector") == repo / name


def test_a_missing_resource_is_an_error_naming_where_it_looked(tmp_path: Path) -> None:
    site = make_tree(tmp_path, "connector", "mappings")
    with pytest.raises(ConfigError) as info:
        resource_dir("mappings", package_dir=site / "connector")
    message = str(info.value)
    assert f"(looked in {site / 'connector' / 'mappings'}):" in message
    assert "reinstall sipalto-sync" in message


def test_a_checkout_without_the_folder_names_both_places(tmp_path: Path) -> None:
    repo = make_tree(tmp_path, "connector", files=("pyproject.toml",))
    with pytest.raises(ConfigError) as info:
        resource_dir("sample_data", package_dir=repo / "connector")
    places = f"{repo / 'connector' / 'sample_data'} and {repo / 'sample_data'}"
    assert f"(looked in {places})" in str(info.value)


def test_only_shipped_resources_can_be_asked_for() -> None:
    with pytest.raises(ValueError, match="unknown resource"):
        resource_dir("tests")


def test_the_install_ships_every_file_of_each_resource_folder() -> None:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    setuptools = config["setuptools"]
    for name in RESOURCES:
        package = f"connector.{name}"
        assert package in setuptools["packages"]
        assert setuptools["package-dir"][package] == name
        patterns = setuptools["package-data"][package]
        unshipped = [
            path.name
            for path in (REPO / name).iterdir()
            if path.is_file() and path.suffix != ".py"
            if not any(path.match(pattern) for pattern in patterns)
        ]
        assert unshipped == [], f"{name}/ files not in package-data: {unshipped}"


def installed_copy(site: Path) -> Path:
    """Lay the repository out as ``pip install`` does: resources inside ``connector/``."""
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("connector", "adapters"):
        shutil.copytree(REPO / package, site / package, ignore=ignore)
    for name in RESOURCES:
        shutil.copytree(REPO / name, site / "connector" / name, ignore=ignore)
    return site


def run_python(code: str, code_root: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``code_root`` first on a clean path and the dependencies after it."""
    paths = sysconfig.get_paths()
    dependencies = sorted({paths["purelib"], paths["platlib"]})
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(code_root), *dependencies])
    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=code_root.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe(code_root: Path) -> dict:
    """What :data:`PROBE` sees from ``code_root``; skipped where the dependencies are not
    importable without ``site`` (a system-wide install spread over several folders)."""
    dependencies = "import click, httpx, platformdirs, starlette, uvicorn, yaml"
    if run_python(dependencies, code_root).returncode:
        pytest.skip("the dependencies cannot be imported with python -S and PYTHONPATH")
    result = run_python(PROBE, code_root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("layout", ["checkout", "installed"])
def test_presets_and_the_sample_phonebook_are_found_in_either_layout(layout, tmp_path) -> None:
    code_root = REPO if layout == "checkout" else installed_copy(tmp_path / "site-packages")
    seen = probe(code_root)
    assert Path(seen["package"]).is_relative_to(code_root)
    # Run from a checkout, nothing maps the folders into the package: the locator must.
    assert seen["installed_as_package"] is (layout == "installed")
    assert seen["presets"] == sorted(path.stem for path in (REPO / "mappings").glob("*.yaml"))
    expected_dir = REPO / "sample_data" if layout == "checkout" else code_root / "connector"
    assert Path(seen["sample_data"]).is_relative_to(expected_dir)
    phonebook = json.loads((REPO / "sample_data" / "phonebook.json").read_text("utf-8"))
    assert seen["seed"] == 2 + len(phonebook)
