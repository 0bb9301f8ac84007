"""The DR comparison our users make: the standby stack's monthly cost next to the primary's, and next to
a second always-on EMR cluster with the primary's Spark capacity (what DR costs them on YARN today)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparkeks.config.model import StackConfig
from sparkeks.cost import prices
from sparkeks.cost.report import fixed_total, usd
from sparkeks.instances import FAMILIES

_POOLS = ("driver", "executor", "executorNvme")


@dataclass(frozen=True)
class EmrNodes:
    pool: str
    instance_type: str
    nodes: int
    ec2_usd_per_hour: float | None
    emr_usd_per_hour: float | None
    """Amazon EMR's uplift per instance-hour, from the region's Price List table."""


def emr_capacity(config: StackConfig) -> list[EmrNodes]:
    """An always-on cluster as big as each Spark pool's CPU limit (a YARN cluster's fixed size), on the pool's
    first family at its largest allowed size, all on-demand."""
    out = []
    for key in _POOLS:
        pool = config.karpenter.pools.pool(key)
        family = FAMILIES[pool.instance_families[0]]
        instance_type = family.instance_types([max(pool.instance_cpus)])[0]
        vcpus = max(pool.instance_cpus)
        nodes = math.ceil(pool.limits.cpu / vcpus)
        out.append(EmrNodes(key, instance_type, nodes, prices.ec2_on_demand(config.region, instance_type), prices.emr_uplift(config.region, instance_type)))
    return out


def _monthly(nodes: list[EmrNodes], rate: str) -> float | None:
    rates = [getattr(n, rate) for n in nodes]
    if any(r is None for r in rates):
        return None
    return round(sum(n.nodes * r for n, r in zip(nodes, rates)) * prices.HOURS_PER_MONTH, 2)


def emr_monthly(config: StackConfig) -> tuple[float | None, list[EmrNodes]]:
    """EC2 on-demand for the always-on cluster, a month."""
    nodes = emr_capacity(config)
    return _monthly(nodes, "ec2_usd_per_hour"), nodes


def _emr_line(config: StackConfig, ec2: float | None, nodes: list[EmrNodes]) -> str:
    uplift = _monthly(nodes, "emr_usd_per_hour")
    if uplift is None:
        missing = ", ".join(sorted({n.instance_type for n in nodes if n.emr_usd_per_hour is None}))
        return f"{usd(ec2)} EC2 on-demand + EMR uplift ({prices.unpriced(config.region, f'EMR uplift ({missing})')})"
    total = usd(None if ec2 is None else round(ec2 + uplift, 2))
    return f"{usd(ec2)} EC2 on-demand + {usd(uplift)} EMR uplift = {total} a month"


def comparison_lines(primary: str, primary_cost: dict[str, Any], primary_config: StackConfig, standby: str, standby_cost: dict[str, Any]) -> list[str]:
    ec2, nodes = emr_monthly(primary_config)
    shape = ", ".join(f"{n.nodes} x {n.instance_type} ({n.pool})" for n in nodes)
    vcpus = sum(primary_config.karpenter.pools.pool(k).limits.cpu for k in _POOLS)
    return [
        f"monthly cost, list prices ({primary_cost['region']} / {standby_cost['region']}; `cost.md` beside each plan has the detail):",
        f"  primary {primary}: {fixed_total(primary_cost)} fixed, plus Spark nodes while they run",
        f"  standby {standby}: {fixed_total(standby_cost)} fixed; its Spark pools add nodes only after failover",
        f"  a second always-on EMR cluster with {primary}'s Spark capacity ({vcpus} vCPUs: {shape}): {_emr_line(primary_config, ec2, nodes)}",
    ]


def dr_comparison(primary: str, standby: str, project_dir: Path) -> list[str]:
    """Plan both stacks offline and compare them (the standby's plan reads the primary's outputs)."""
    from sparkeks.cost.estimate import estimate
    from sparkeks.plan.runner import PlanError, run_plan

    try:
        primary_plan = run_plan(primary, project_dir)
        standby_plan = run_plan(standby, project_dir)
    except PlanError as err:
        return ["cost comparison not available: the offline plan failed:", *err.lines]
    return comparison_lines(
        primary,
        estimate(primary_plan.resources, primary_plan.config),
        primary_plan.config,
        standby,
        estimate(standby_plan.resources, standby_plan.config),
    )
