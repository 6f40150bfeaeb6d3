"""The code's shape holds: lint and format are clean, the layering contracts hold (and would catch
a break), modules and functions stay small, DAG files import only light modules, every imported
package is declared, and the wheel carries nothing test-only."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.conftest import ROOT, bin_path

SRC = ROOT / "src" / "goalwatch"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_ruff_finds_nothing():
    proc = run(bin_path("ruff"), "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_changes_nothing():
    proc = run(bin_path("ruff"), "format", "--check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_layering_contracts_hold():
    proc = run(bin_path("lint-imports"), "--no-cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        pytest.param("core/periods.py", "import sqlalchemy", "The core is pure", id="core-imports-sqlalchemy"),
        pytest.param(
            "core/verdicts.py", "from goalwatch.config import Config", "The core is pure", id="core-imports-config"
        ),
        pytest.param("core/forecast.py", "from pathlib import Path", "The core is pure", id="core-reads-files"),
        pytest.param(
            "alerting/plan.py", "import airflow.sdk", "Only runtime imports Airflow", id="alerting-imports-airflow"
        ),
        pytest.param("data/store.py", "from goalwatch.alerting import ledger", "Layers", id="data-imports-alerting"),
        pytest.param("pipeline.py", "import matplotlib", "matplotlib draws", id="pipeline-imports-matplotlib"),
        # A module added later is covered without editing the contracts.
        pytest.param("alerting/new_module.py", "import sqlalchemy", "SQLAlchemy is spoken", id="new-module-sqlalchemy"),
        pytest.param("alerting/render/new.py", "import matplotlib", "matplotlib draws", id="new-renderer-matplotlib"),
        pytest.param("dev/new.py", "import great_expectations", "Great Expectations", id="new-dev-module-gx"),
    ],
)
def test_a_break_of_the_layering_is_caught(tmp_path, module, line, broken):
    """The contracts are live: one forbidden import in a copy of the package breaks the named one."""
    shutil.copytree(SRC, tmp_path / "goalwatch", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "goalwatch" / module
    before = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(before + f"\n{line}  # noqa\n", encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    proc = run(bin_path("lint-imports"), "--no-cache", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = " ".join(proc.stdout.split())  # contract names wrap at the terminal's width
    verdict = re.search(rf"{re.escape(broken)}.*? (KEPT|BROKEN)", report)
    assert verdict is not None and verdict.group(1) == "BROKEN", proc.stdout


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_modules_and_functions_stay_small():
    too_long = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for fn in _functions(ast.parse(text)):
            if fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES:
                too_long.append(f"{name}:{fn.lineno} {fn.name}(): {fn.end_lineno - fn.lineno + 1} lines")
    assert too_long == []


# What a DAG file may import when the dag-processor parses it: the standard library, pendulum,
# airflow.sdk and goalwatch's light modules (each task body imports the rest when it runs).
LIGHT = {
    "__future__",
    "datetime",
    "pendulum",
    "airflow.sdk",
    "goalwatch.config",
    "goalwatch.config.settings",
    "goalwatch.runtime",
    "goalwatch.runtime.tasks",
    "goalwatch.runtime.assets",
    "goalwatch.runtime.schedules",
}


@pytest.mark.parametrize("dag_file", sorted((ROOT / "dags").glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_only_light_modules(dag_file):
    tree = ast.parse(dag_file.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported - LIGHT == set()


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module (or ``airflow.providers.X``) -> the files importing it, for src/."""
    stdlib = set(sys.stdlib_module_names)
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in stdlib or top == "goalwatch":
                    continue
                key = ".".join(name.split(".")[:3]) if name.startswith("airflow.providers.") else top
                found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower().replace("_", "-") for req in project["dependencies"]}


def _requirements_in() -> set[str]:
    lines = (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines()
    return {
        re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower() for line in lines if line.strip()[:1].isalnum()
    }


def test_the_image_requirements_name_every_declared_package():
    """The image installs requirements.lock, made from requirements.in: a package the code needs
    must be named there, not only arrive as another package's dependency."""
    assert _declared() - _requirements_in() == set()


def test_every_package_the_code_imports_is_declared():
    declared = _declared()
    distributions = packages_distributions()
    missing = {}
    for module, files in _third_party_imports().items():
        if module.startswith("airflow.providers."):
            wanted = {f"apache-airflow-providers-{module.split('.')[2].replace('_', '-')}"}
        else:
            wanted = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not wanted & declared:
            missing[module] = sorted(files)
    assert missing == {}


def test_the_wheel_holds_the_package_and_nothing_test_only(tmp_path):
    # Built from a copy of what the image copies (a build/ folder left in the tree could hold
    # modules that have since moved).
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
               str(tmp_path), str(project))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("goalwatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    modules = [n for n in names if n.endswith(".py")]
    assert "goalwatch/core/pacing.py" in modules
    assert "goalwatch/data/migrations/versions/0002_once.py" in modules  # the store's schema ships too
    assert [n for n in modules if not n.startswith("goalwatch/")] == []
    assert [n for n in modules if "fake" in n or "/tests/" in n or n.split("/")[-1].startswith("test_")] == []
