"""Invariants between stacks that no single stack file can break on its own, checked by `plan`.

A DR stack exists to survive what takes its primary down: a zone outage that hits both defeats it, and it
must not take the names its primary holds (an EKS cluster name per region, a bucket name anywhere). `dr
init` refuses these when it writes the file; a file edited by hand (or a primary changed later) is checked
here, against the primary's own stack file when it is in the folder.
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
    if primary == stack or not STACK_NAME.match(primary) or not (project_dir / "stacks" / f"Pulumi.{primary}.yaml").is_file():
        return []
    try:
        config = load_stack_config(stack, config_raw, secret_keys)
        primary_config = load_stack(primary, project_dir)
    except (ConfigError, PlanError):
        return []  # the program (or the primary's own plan) reports what is wrong with either file
    problems = []
    shared = [z for z in config.spark_zones if z in primary_config.spark_zones] if config.region == primary_config.region else []
    if shared:
        problems.append(
            f"{stack_file(stack)}: {PROJECT}:network.sparkZones: {render(config.spark_zones)}: {', '.join(shared)} "
            f"{'is' if len(shared) == 1 else 'are'} also a Spark zone of the primary stack {primary} "
            f"({', '.join(primary_config.spark_zones)}); a zone outage would take both: set network.sparkZones to zones the primary does not use"
        )
    cluster = config.resolved_cluster_name(stack)
    if config.region == primary_config.region and cluster == primary_config.resolved_cluster_name(primary):
        problems.append(
            f"{stack_file(stack)}: {PROJECT}:clusterName: {render(cluster)}: the primary stack {primary}'s cluster has this name "
            f"in {config.region}; EKS cluster names are unique per account and region: pick another, e.g. {cluster[:29]}-dr"
        )
    account = config.known_account_id or primary_config.known_account_id
    if account is not None:
        bucket = config.resolved_bucket_name(stack, account)
        if bucket == primary_config.resolved_bucket_name(primary, primary_config.known_account_id or account):
            problems.append(
                f"{stack_file(stack)}: {PROJECT}:spark.bucketName: {render(bucket)}: the primary stack {primary}'s platform bucket "
                "has this name; S3 bucket names are global: set spark.bucketName or another clusterName"
            )
    return problems
