"""The installed `sparkeks` command: runs the CLI of the project it finds, not a copy of older code.

An installed package is a snapshot; the checkout is what `pulumi up` deploys. So the command finds the
project (`--project DIR`, else the nearest spark-on-eks Pulumi.yaml upward) and, when that checkout carries
its own `sparkeks/`, runs that one: a plan from an installed command is always the plan of the code in front
of the user. Commands that need no project (diff, config-reference) run anywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _explicit_project(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        for option in ("--project", "--project-dir"):
            if arg == option and index + 1 < len(argv):
                return argv[index + 1]
            if arg.startswith(option + "="):
                return arg.split("=", 1)[1]
    return None


def _use_checkout(project: Path) -> None:
    """Import `sparkeks` (and the program's `components`) from the checkout from now on."""
    import sparkeks

    installed = Path(sparkeks.__file__).resolve().parent.parent
    if installed == project or not (project / "sparkeks" / "__init__.py").is_file():
        return
    sys.path.insert(0, str(project))
    for name in [m for m in sys.modules if m.split(".", 1)[0] in ("sparkeks", "components")]:
        del sys.modules[name]


def main() -> None:
    from sparkeks.project import ProjectNotFound, find_project

    try:
        _use_checkout(find_project(_explicit_project(sys.argv[1:])))
    except ProjectNotFound:
        pass  # the command reports it if it needs a project
    from sparkeks.cli import main as cli_main
    from sparkeks.process_exit import run_command

    run_command(lambda: cli_main(prog="sparkeks"))
