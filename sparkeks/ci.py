"""Which stacks a change touches, for previews in pull requests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

# Files that shape every stack: any change here previews them all.
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "requirements.txt", "components/", "sparkeks/", "helm-values/", "dashboards/")


def stack_files(project_dir: Path) -> dict[str, str | None]:
    """stack -> the stack it is the DR copy of (or None)."""
    stacks: dict[str, str | None] = {}
    for path in sorted((project_dir / "stacks").glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi.") : -len(".yaml")]
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        dr = config.get("spark-on-eks:dr") or {}
        primary = dr.get("primaryStack") if isinstance(dr, dict) else None
        stacks[name] = primary.rsplit("/", 1)[-1] if isinstance(primary, str) else None
    return stacks


def _is_program(path: str) -> bool:
    return any(path.startswith(p) if p.endswith("/") else path == p for p in PROGRAM_PATHS)


def stacks_to_preview(changed: list[str], stacks: dict[str, str | None]) -> list[str]:
    """All stacks when the program changed; otherwise the stacks whose files changed, and the DR stacks
    of those (a DR stack reads its primary)."""
    if any(_is_program(path) for path in changed):
        return sorted(stacks)
    touched = {path[len("stacks/Pulumi.") : -len(".yaml")] for path in changed if path.startswith("stacks/Pulumi.") and path.endswith(".yaml")}
    touched &= set(stacks)
    touched |= {name for name, primary in stacks.items() if primary in touched}
    return sorted(touched)


def changed_files(base: str, project_dir: Path) -> list[str]:
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD"], cwd=project_dir, check=True, capture_output=True, text=True
    )
    return [line for line in result.stdout.splitlines() if line]
