"""A job's shuffle path: the checks and settings for `shuffle: celeborn` (the default path needs none)."""

from __future__ import annotations

from typing import Any

from sparkeks.config.errors import render
from sparkeks.config.loader import stack_file
from sparkeks.spark.celeborn import REMOVED_WITH_CELEBORN, celeborn_owned_keys, celeborn_spark_conf, supported_lines


def celeborn_problems(label: str, spec: Any, team: Any, config: Any) -> list[str]:
    """Why this job cannot use Celeborn here: one line per problem, naming the key the job (or its team) set."""
    from_team = spec.shuffle is None
    key = f"team {team.name}'s shuffle default" if from_team else "shuffle"
    problems = []
    if config.spark.shuffle.service != "celeborn":
        problems.append(
            f"{label}: {key}: {render('celeborn')}: stack {spec.stack} runs no Celeborn "
            f"(spark.shuffle.service is none in {stack_file(spec.stack)}); allowed: local"
        )
    lines = supported_lines()
    if spec.spark_version not in lines:
        problems.append(
            f"{label}: sparkVersion: {render(spec.spark_version)}: the platform's Celeborn client covers Spark {', '.join(lines)}; "
            "use one of those lines or shuffle: local"
        )
    owned = sorted(set(spec.spark_conf) & celeborn_owned_keys())
    for conf_key in owned:
        problems.append(f"{label}: sparkConf.{conf_key}: {render(spec.spark_conf[conf_key])}: set by the platform for shuffle: celeborn")
    return problems


def with_celeborn(conf: dict[str, str], line: str, *, celeborn: Any) -> dict[str, str]:
    """The job's settings with the Celeborn client of the stack's service (its CelebornConfig) on and what
    conflicts with it taken out."""
    kept = {k: v for k, v in conf.items() if k not in REMOVED_WITH_CELEBORN}
    return {**kept, **celeborn_spark_conf(line, replicate=celeborn.replicate, authenticate=celeborn.rpc_auth == "sasl")}
