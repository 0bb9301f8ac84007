"""Where the project is: the directory with this program's `Pulumi.yaml`, its `stacks/` and `__main__.py`.

The `sparkeks` command can be installed and run from anywhere, so it looks for the project the way the
Pulumi CLI does (the current directory, then each parent), unless `--project` names it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sparkeks.config.base import PROJECT


class ProjectNotFound(Exception):
    """One line for the user: where we looked and what to do."""


def _project_name(pulumi_yaml: Path) -> str | None:
    try:
        document = yaml.safe_load(pulumi_yaml.read_text())
    except (OSError, yaml.YAMLError):
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
