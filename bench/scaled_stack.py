"""A project copy whose stack has N synthetic teams: the input of the scaling benchmark.

Everything but `stacks/` is linked to the real project, so the real program runs; the stack file is a
shipped one (prod by default) with its teams replaced by N teams shaped like a typical tenant (own data
prefixes, a quota, the default pools). Nothing here talks to the network.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_NOT_LINKED = {"stacks", "build", ".git", ".venv", "bench"}


def scaled_team(index: int) -> dict:
    name = f"team-{index:03d}"
    return {
        "name": name,
        "data": {
            "read": ["s3://example-datalake-prod/curated/"],
            "write": [f"s3://example-datalake-prod/teams/{name}/"],
        },
        "max": {"cpu": 64, "memory": "256Gi"},
        "pods": 500,
        # Its identity-provider group: the only people its History Server's login lets in.
        "group": f"spark-{name}",
    }


def write_scaled_project(dest: Path, teams: int, base_stack: str = "prod") -> str:
    """Lay out a project in `dest` whose stack `<base>-<teams>t` has `teams` teams; return the stack name."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        link = dest / entry.name
        if entry.name not in _NOT_LINKED and not link.exists():
            link.symlink_to(entry)
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{base_stack}.yaml").read_text())
    document["config"]["spark-on-eks:teams"] = [scaled_team(i) for i in range(teams)]
    stack = f"{base_stack}-{teams}t"
    (dest / "stacks").mkdir(exist_ok=True)
    (dest / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return stack
