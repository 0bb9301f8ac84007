"""Which stacks a change touches, for previews in pull requests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from sparkeks.project import PROGRAM_FILES

# Files that shape every stack: any change here previews them all (the code, and what it reads from the project).
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "requirements.txt", "components/", "sparkeks/", *PROGRAM_FILES)


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


class GitError(Exception):
    """git could not answer: one line saying why and what to do."""


def _git(project_dir: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True)
    except FileNotFoundError:
        raise GitError("git is not installed; install it, or pass --all") from None


def changed_files(base: str, project_dir: Path, *, uncommitted: bool = True) -> list[str]:
    """Project-relative paths changed since the merge base of `base` and HEAD: the commits, and with
    `uncommitted` also staged, unstaged and new untracked files (what a local run is about to push)."""
    if _git(project_dir, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise GitError(f"{project_dir}: not a git checkout; run it in a clone, or pass --all")
    if _git(project_dir, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        raise GitError(f"--base {base}: no such commit or branch here; fetch it (git fetch origin main) or name another ref")
    merge_base = _git(project_dir, "merge-base", base, "HEAD")
    if merge_base.returncode != 0:
        raise GitError(f"--base {base}: shares no history with HEAD (a shallow clone? fetch with more depth)")
    since = merge_base.stdout.strip()
    # --relative: paths relative to the project, which may sit below the repository root.
    diff = ["diff", "--name-only", "--relative", since] + ([] if uncommitted else ["HEAD"])
    changed = _git(project_dir, *diff).stdout.splitlines()
    if uncommitted:
        changed += _git(project_dir, "ls-files", "--others", "--exclude-standard").stdout.splitlines()
    return sorted({line for line in changed if line})
