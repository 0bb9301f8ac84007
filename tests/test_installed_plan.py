"""The installed package plans a user's project: code and pinned facts from the wheel, project files from the project.

The wheel is built offline from a copy of the checkout and installed into a target directory away from it.
The project is what a user keeps in their own repository (Pulumi.yaml, the program, stacks/, helm-values/,
dashboards/, images/), without the code, and the installed command runs from a third directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sparkeks import conformance
from sparkeks.plan.writer import write_plan
from tests.conftest import PROJECT_ROOT, build_wheel, copy_of_the_project

# A user's project: what they edit and review. The code (sparkeks/, components/) comes from the wheel.
USER_PROJECT = ("Pulumi.yaml", "__main__.py", "stacks", "helm-values", "dashboards", "images")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A target directory the wheel is installed into (`pip install --target`, offline)."""
    tmp = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(copy_of_the_project(tmp / "checkout"), tmp / "dist")
    site = tmp / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        cwd=tmp,
    )
    assert install.returncode == 0, install.stderr
    shutil.rmtree(tmp / "checkout")  # nothing may be read from the copy the wheel was built from
    return site


def user_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for entry in USER_PROJECT:
        source = PROJECT_ROOT / entry
        if source.is_dir():
            shutil.copytree(source, dest / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / entry)
    return dest


def installed_cli(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m sparkeks ...` of the installed package: dependencies from this interpreter's site-packages,
    the working directory kept off the path (-P), the pinned CRD schemas the checkout's plans use."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"PYTHONPATH": str(site), "SPARK_EKS_SCHEMAS": str(conformance.schemas_dir().resolve())}
    return subprocess.run([sys.executable, "-s", "-P", "-m", "sparkeks", *args], capture_output=True, text=True, cwd=cwd, env=env)


def _files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_code_comes_from_the_installed_package_only(installed, tmp_path):
    # Without the target directory, this interpreter has neither package (the test above it would prove nothing).
    probe = "import importlib.util as u; print(u.find_spec('sparkeks') is None, u.find_spec('components') is None)"
    bare = subprocess.run([sys.executable, "-s", "-P", "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert bare.stdout.split() == ["True", "True"], bare.stderr
    assert not (installed / "helm-values").exists() and not (installed / "dashboards").exists()


def test_the_installed_cli_plans_a_project_like_the_checkout(installed, prod, tmp_path):
    project = user_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "installed-plan"
    run = installed_cli(installed, elsewhere, "plan", "prod", "--project-dir", str(project), "--out", str(out), "-q")
    assert run.returncode == 0, run.stderr
    expected = tmp_path / "checkout-plan"
    write_plan(prod.plan, expected)
    assert _files(out).keys() == _files(expected).keys()
    different = [name for name, data in _files(out).items() if data != _files(expected)[name]]
    assert different == []


def test_a_missing_project_file_is_one_line(installed, tmp_path):
    project = user_project(tmp_path / "project")
    (project / "helm-values" / "yunikorn.yaml").unlink()
    run = installed_cli(installed, tmp_path, "plan", "prod", "--project-dir", str(project), "--out", str(tmp_path / "out"), "-q")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"helm-values/yunikorn.yaml: not found in project dir {project} (expected beside Pulumi.yaml)\n"


# What `sparkeks init` writes: the checkout's own files (no code: the program imports it from the package).
INIT_FILES = sorted(
    [
        "Pulumi.yaml",
        "__main__.py",
        "stacks/Pulumi.dev.yaml",
        *(p.relative_to(PROJECT_ROOT).as_posix() for folder in ("helm-values", "dashboards", "images") for p in (PROJECT_ROOT / folder).rglob("*") if p.is_file()),
    ]
)


def test_the_wheel_ships_the_checkouts_project_files_byte_for_byte(installed):
    from sparkeks.project import PROGRAM_FILES

    shipped = installed / "sparkeks" / "project_template"
    files = {name: data for name, data in _files(shipped).items() if not name.startswith("__pycache__/")}  # pip compiles __main__.py
    assert sorted(files) == INIT_FILES
    assert [name for name, data in files.items() if data != (PROJECT_ROOT / name).read_bytes()] == []
    assert [f for f in PROGRAM_FILES if not (shipped / f).exists()] == []


def test_init_then_plan_dev_is_the_checkouts_dev(installed, dev, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    init = installed_cli(installed, elsewhere, "init", "team-platform")
    assert init.returncode == 0, init.stderr
    project = elsewhere / "team-platform"
    assert init.stdout.splitlines()[0] == f"wrote {len(INIT_FILES)} files to {project}"
    # The project's virtualenv gets the very package that wrote it.
    version = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"{project}/.venv/bin/pip install 'spark-on-eks=={version}' (from the index or wheel this command came from)" in init.stdout
    assert sorted(_files(project)) == INIT_FILES  # no components/ or sparkeks/: the program imports them from the package
    out = tmp_path / "init-plan"
    run = installed_cli(installed, project, "plan", "dev", "--out", str(out), "-q")
    assert run.returncode == 0, run.stderr
    expected = tmp_path / "checkout-plan"
    write_plan(dev.plan, expected)
    assert _files(out).keys() == _files(expected).keys()
    assert [name for name, data in _files(out).items() if data != _files(expected)[name]] == []


def test_init_never_overwrites_a_file(tmp_path, capsys):
    from sparkeks.cli import main

    project = tmp_path / "project"
    (project / "helm-values").mkdir(parents=True)
    (project / "helm-values" / "loki.yaml").write_text("mine\n")
    assert main(["init", str(project)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        f"sparkeks init: {project}: already holds helm-values/loki.yaml; init never overwrites a file: "
        "name a new or empty directory\n",
    )
    assert sorted(_files(project)) == ["helm-values/loki.yaml"] and (project / "helm-values" / "loki.yaml").read_text() == "mine\n"


def test_init_from_the_checkout_writes_its_files(tmp_path, capsys):
    from sparkeks.cli import main

    assert main(["init", str(tmp_path / "project")]) == 0, capsys.readouterr().err
    written = _files(tmp_path / "project")
    assert sorted(written) == INIT_FILES
    assert [name for name, data in written.items() if data != (PROJECT_ROOT / name).read_bytes()] == []
