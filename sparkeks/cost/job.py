"""What one hour of a job costs at its shape, on the node type it would land on."""

from __future__ import annotations

import math
from typing import Any

from sparkeks.config.model import StackConfig
from sparkeks.cost.estimate import node_hour
from sparkeks.cost.report import rate
from sparkeks.instances import SIZE_VCPUS


def _capacity(config: StackConfig, pool_key: str) -> str:
    # The pool's first capacity type is the one Karpenter prefers (highest NodePool weight).
    return config.karpenter.pools.pool(pool_key).capacity_types[0]


def executor_options(config: StackConfig, pool_key: str, instances: int, per_node: dict[str, int]) -> list[dict[str, Any]]:
    """Each instance type that fits an executor: nodes for all executors and their hourly cost, cheapest first."""
    capacity = _capacity(config, pool_key)
    options = []
    for instance_type, count in per_node.items():
        if count <= 0:
            continue
        nodes = math.ceil(instances / count)
        price = node_hour(config, instance_type, capacity)
        options.append(
            {"type": instance_type, "capacity": capacity, "nodes": nodes, "usdPerNodeHour": price, "usdPerHour": None if price is None else round(nodes * price, 4)}
        )
    return sorted(options, key=lambda o: (o["usdPerHour"] is None, o["usdPerHour"] or 0, o["type"]))


def driver_option(config: StackConfig, cores: int) -> dict[str, Any] | None:
    """The cheapest driver-pool type with at least the driver's cores (a whole node while the driver is alone on it)."""
    pool = config.karpenter.pools.driver
    candidates = []
    for instance_type in pool.instance_types():
        if SIZE_VCPUS[instance_type.split(".")[1]] >= cores:
            price = node_hour(config, instance_type, "on-demand")
            if price is not None:
                candidates.append((price, instance_type))
    if not candidates:
        return None
    price, instance_type = min(candidates)
    return {"type": instance_type, "usdPerNodeHour": price}


def job_hour_lines(config: StackConfig, application: dict[str, Any], pool_key: str, per_node: dict[str, int]) -> list[str]:
    spec = application["spec"]
    instances = spec["executor"]["instances"]
    options = executor_options(config, pool_key, instances, per_node)
    priced = [o for o in options if o["usdPerHour"] is not None]
    if not priced:
        return [f"cost: unpriced: the price table has no {config.region} prices for the {pool_key} pool's instance types"]
    best = priced[0]
    driver = driver_option(config, int(spec["driver"].get("cores", 1)))
    total = best["usdPerHour"] + (driver["usdPerNodeHour"] if driver else 0)
    lines = [
        f"cost of one hour at full size ({config.region} list prices, "
        + ("spot at the assumed discount" if best["capacity"] == "spot" else best["capacity"])
        + f"): {rate(total)}",
        f"  executors: {instances} on {best['nodes']} x {best['type']} ({rate(best['usdPerNodeHour'])}/node-hour) = {rate(best['usdPerHour'])}",
    ]
    if driver:
        lines.append(f"  driver: at most one {driver['type']} ({rate(driver['usdPerNodeHour'])}/node-hour, on-demand)")
    others = ", ".join(f"{o['type']} {rate(o['usdPerHour'])}" for o in priced[1:4])
    if others:
        lines.append(f"  next cheapest executor nodes: {others}")
    return lines


def job_cost_lines(spec_path, project_dir, job) -> list[str]:
    """Cost lines for a rendered job spec file (`sparkeks job`)."""
    from sparkeks.jobs.render import load_spec
    from sparkeks.plan.runner import load_stack

    spec = load_spec(spec_path)
    config = load_stack(spec.stack, project_dir)
    return job_hour_lines(config, job.application, spec.pool, job.executors_per_node)
