"""Invariants between stacks that no single stack file can break on its own, checked by `plan`.

A DR stack exists to survive what takes its primary down: a zone outage that hits both defeats it. `dr init`
refuses overlapping Spark zones when it writes the file; a file edited by hand (or a primary moved later) is
checked here, against the primary's own stack file when it is in the folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sparkeks.config.errors import render


def dr_problems(stack: str, config_raw: dict[str, str], secret_keys: list[str], project_dir: Path) -> list[str]:
    from sparkeks.config.loader import ConfigError, load_stack_config, stack_file
    from sparkeks.config.model import PROJECT
    from sparkeks.plan.runner import STACK_NAME, PlanError, load_stack

    try:
        dr: Any = json.loads(config_raw.get(f"{PROJECT}:dr", "null"))
    except ValueError:
        return []
    if not isinstance(dr, dict) or not isinstance(dr.get("primaryStack"), str):
        return []
    primary = dr["primaryStack"].rsplit("/", 1)[-1]
    if not STACK_NAME.match(primary) or not (project_dir / "stacks" / f"Pulumi.{primary}.yaml").is_file():
        return []
    try:
        config = load_stack_config(stack, config_raw, secret_keys)
        primary_config = load_stack(primary, project_dir)
    except (ConfigError, PlanError):
        return []  # the program (or the primary's own plan) reports what is wrong with either file
    if config.region != primary_config.region:
        return []
    shared = [z for z in config.spark_zones if z in primary_config.spark_zones]
    if not shared:
        return []
    return [
        f"{stack_file(stack)}: {PROJECT}:network.sparkZones: {render(config.spark_zones)}: {', '.join(shared)} "
        f"{'is' if len(shared) == 1 else 'are'} also a Spark zone of the primary stack {primary} "
        f"({', '.join(primary_config.spark_zones)}); a zone outage would take both: set network.sparkZones to zones the primary does not use"
    ]
