"""Where the project is, and the files the program reads from it.

A project is the directory with this program's `Pulumi.yaml`: its `stacks/`, `__main__.py`, and the files a
platform team edits and reviews (Helm base values, dashboards, the Spark image pins and build definition).
The code and its pinned facts (support windows, instance and price tables) are the package's and are read
beside the code; project files are read here, from the project being deployed or planned, because an
installed package has none of them beside it.

Which project: the one an entry point names (`project_at`: the CLI's `--project`, the offline plan's
project), else the nearest one from the working directory upward, as the Pulumi CLI finds it (it runs the
program in the project directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sparkeks.deployed import CHARTS, DATA, deployment_files, program_files

if TYPE_CHECKING:
    from sparkeks.config.model import StackConfig

# The Pulumi project this program is (Pulumi.yaml's name; the prefix of its config keys).
PROJECT = "spark-on-eks"

# The charts whose static base values the project holds (helm-values/<chart>.yaml, merged in code).
HELM_CHARTS = tuple(sorted(CHARTS))
# Everything the program may read from its project, whatever the stack deploys (a trailing / is a folder);
# `check_program_files` requires the part a stack's components read.
PROGRAM_FILES = (*(f"helm-values/{chart}.yaml" for chart in HELM_CHARTS), *DATA)


class ProjectNotFound(Exception):
    """One line for the user: where we looked and what to do."""


class ProjectFileMissing(Exception):
    """Files the project should hold and does not: one ready-to-print line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _project_name(pulumi_yaml: Path) -> str | None:
    try:
        text = pulumi_yaml.read_text()
    except OSError:
        return None
    try:
        import yaml
    except ModuleNotFoundError:
        # Standard library only (the doctor runs before the virtualenv exists): Pulumi.yaml's top-level name.
        found = re.search(r"""^name:[ \t]*(["']?)([^"'#\s]+)\1[ \t]*(?:#.*)?$""", text, re.M)
        return found[2] if found else None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return document.get("name") if isinstance(document, dict) else None


def find_project(explicit: str | Path | None = None, start: Path | None = None) -> Path:
    """The project directory: `explicit` when given (it must hold our Pulumi.yaml), else the nearest
    directory from `start` (default: the current directory) upward that holds one."""
    if explicit is not None:
        directory = Path(explicit).expanduser().resolve()
        pulumi_yaml = directory / "Pulumi.yaml"
        if not pulumi_yaml.is_file():
            raise ProjectNotFound(f"--project {explicit}: no Pulumi.yaml there; point it at the spark-on-eks checkout")
        name = _project_name(pulumi_yaml)
        if name != PROJECT:
            raise ProjectNotFound(f"--project {explicit}: Pulumi.yaml is project {name!r}, not {PROJECT!r}")
        return directory
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        pulumi_yaml = directory / "Pulumi.yaml"
        if pulumi_yaml.is_file() and _project_name(pulumi_yaml) == PROJECT:
            return directory
    raise ProjectNotFound(
        f"{here}: not inside a {PROJECT} project (no Pulumi.yaml of project {PROJECT!r} here or in a parent); "
        "cd into the checkout or pass --project DIR"
    )


_active: Path | None = None
_offline = False
_found_from: dict[str, Path] = {}


@contextmanager
def project_at(directory: Path | None, *, offline: bool = False) -> Iterator[None]:
    """Read project files from `directory` while the block runs (None: from the working directory's project);
    `offline`: the program runs for the offline plan, so nothing is deployed (no provider reads a chart)."""
    global _active, _offline
    previous = _active, _offline
    _active, _offline = (directory.resolve() if directory is not None else None), offline
    try:
        yield
    finally:
        _active, _offline = previous


def current_project() -> Path:
    """The project named by `project_at`, else the one the working directory is in (found once per directory)."""
    if _active is not None:
        return _active
    cwd = os.getcwd()
    if cwd not in _found_from:
        _found_from[cwd] = find_project()
    return _found_from[cwd]


def _missing(root: Path, relative: str, what: str = "expected beside Pulumi.yaml") -> str | None:
    """The line for `relative` (a trailing / names a folder) when `root` does not hold it."""
    path = root / relative
    if path.is_dir() if relative.endswith("/") else path.is_file():
        return None
    return f"{relative}: not found in project dir {root} ({what})"


def _in(root: Path, relative: str) -> Path:
    if problem := _missing(root, relative):
        raise ProjectFileMissing([problem])
    return root / relative


def project_file(relative: str) -> Path:
    """`relative` (e.g. `images/pins.json`, or `dashboards/` for a folder) in the current project."""
    return _in(current_project(), relative)


def check_program_files(config: StackConfig) -> None:
    """Refuse a project without a file this stack's components read (and, when deploying, a file its
    providers read), one line per file, before anything is registered."""
    root = current_project()
    problems = [line for relative in program_files(config) if (line := _missing(root, relative))]
    if not _offline:
        problems += [line for relative, how in sorted(deployment_files(config).items()) if (line := _missing(root, relative, how))]
    if problems:
        raise ProjectFileMissing(problems)


def helm_values(chart: str) -> dict[str, Any]:
    """The static base values of `helm-values/<chart>.yaml` in the current project (shared: copy to change)."""
    if chart not in HELM_CHARTS:
        raise ValueError(f"{chart}: no base values file for this chart; known: {', '.join(HELM_CHARTS)} (add it to CHARTS in sparkeks/deployed.py)")
    return _helm_values_at(current_project(), chart)


@cache
def _helm_values_at(root: Path, chart: str) -> dict[str, Any]:
    from sparkeks import yamlio

    return yamlio.load(_in(root, f"helm-values/{chart}.yaml").read_text()) or {}
