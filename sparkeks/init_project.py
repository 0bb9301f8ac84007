"""`sparkeks init DIR`: start a project a platform team keeps in its own repository.

The project is the checkout's own files, nothing written by hand here: `Pulumi.yaml`, the program
(`__main__.py`), the Helm base values, the dashboards, the Spark image definition and pins, and the dev stack
as an example. The wheel carries copies made when it is built (setup.py's build step copies `TEMPLATE` into
`sparkeks/project_template/`), so they cannot drift from the checkout; run from a checkout, init copies the
checkout's files themselves.

No `components/` (nor `sparkeks/`): the program imports both from the installed package, which pins them
together with the versions and price tables; a copy in the project would shadow the package's and drift from
it. A project that needs its own components is a fork of the checkout, not an init.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

# What a new project holds, relative to the checkout (a trailing / is every file of the folder).
TEMPLATE = ("Pulumi.yaml", "__main__.py", "helm-values/", "dashboards/", "images/", "stacks/Pulumi.dev.yaml")
# Where the wheel carries them, inside the package.
TEMPLATE_DIR = "project_template"
DIST = "spark-on-eks"


class InitError(Exception):
    """One line for the user; nothing was written."""


def template_files(root: Path) -> list[str]:
    """The files of `TEMPLATE` under `root` (a checkout, or the package's copy), relative and sorted."""
    found = []
    for entry in TEMPLATE:
        if entry.endswith("/"):
            found += [p.relative_to(root).as_posix() for p in (root / entry).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif (root / entry).is_file():
            found.append(entry)
    return sorted(found)


def template_root() -> Path:
    """The package's copy when installed from a wheel, else the checkout this code runs from."""
    package = Path(__file__).resolve().parent
    for root in (package / TEMPLATE_DIR, package.parent):
        if (root / "Pulumi.yaml").is_file() and (root / "__main__.py").is_file():
            return root
    raise InitError(f"{package}: the package has no project files to start from; reinstall {DIST} from its wheel")


def init_project(directory: Path) -> list[str]:
    """Write a new project into `directory` (created if needed); the files written, relative. Refuses a
    directory holding any of them, before writing anything."""
    root = template_root()
    files = template_files(root)
    if directory.exists() and not directory.is_dir():
        raise InitError(f"{directory}: is a file; name a new or empty directory")
    existing = [f for f in files if (directory / f).exists()]
    if existing:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise InitError(f"{directory}: already holds {', '.join(existing[:3])}{more}; init never overwrites a file: name a new or empty directory")
    for relative in files:
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, target)
    return files


def next_steps(directory: Path) -> list[str]:
    try:
        package = f"'{DIST}=={metadata.version(DIST)}' (from the index or wheel this command came from)"
    except metadata.PackageNotFoundError:
        package = str(Path(__file__).resolve().parents[1])  # running from a checkout: install that one
    return [
        f"preview offline: cd {directory} && sparkeks plan dev",
        f"before pulumi up: python -m venv {directory}/.venv && {directory}/.venv/bin/pip install {package}",
        "then edit stacks/Pulumi.dev.yaml (aws:allowedAccountIds, the teams' S3 locations, cluster.publicAccessCidrs), "
        "`pulumi stack init dev` and `pulumi config set --secret spark-on-eks:grafanaAdminPassword`",
    ]
