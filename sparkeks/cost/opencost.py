"""OpenCost's custom pricing, derived from the price table for the stack's region.

OpenCost prices every node with one rate per vCPU and one per GiB of memory (and spot twins), so the
table's per-instance prices are split into those two rates by a least-squares fit over the instance types
the stack's Spark pools may launch (price = a x vCPUs + b x GiB). The custom provider reads its rates as
monthly figures (it divides by 730 for hourly costs), storage as a GiB-month price.
"""

from __future__ import annotations

from sparkeks.config.model import StackConfig
from sparkeks.cost import prices
from sparkeks.instances import FAMILIES, SIZE_VCPUS

_POOLS = ("driver", "executor", "executorNvme")


def _fit(points: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least squares of price = a*cpu + b*mem (no intercept)."""
    scc = sum(c * c for c, _, _ in points)
    smm = sum(m * m for _, m, _ in points)
    scm = sum(c * m for c, m, _ in points)
    scp = sum(c * p for c, _, p in points)
    smp = sum(m * p for _, m, p in points)
    det = scc * smm - scm * scm
    return (scp * smm - smp * scm) / det, (smp * scc - scp * scm) / det


def rates(config: StackConfig) -> tuple[float, float] | None:
    """(USD per vCPU-hour, USD per GiB-hour) on-demand, or None when the region is unpriced."""
    points = []
    for key in _POOLS:
        for instance_type in config.karpenter.pools.pool(key).instance_types():
            family, size = instance_type.split(".")
            price = prices.ec2_on_demand(config.region, instance_type)
            if price is not None:
                vcpus = SIZE_VCPUS[size]
                points.append((vcpus, vcpus * FAMILIES[family].memory_per_vcpu_gib, price))
    if len({(c, m) for c, m, _ in points}) < 2:
        return None
    return _fit(points)


def cost_model(config: StackConfig) -> dict[str, str] | None:
    """The chart's `customPricing.costModel`, or None when the stack's region is not in the price table."""
    fitted = rates(config)
    gp3 = prices.service_price(config.region, "ebs.gp3")
    if fitted is None or gp3 is None:
        return None
    cpu, ram = fitted
    spot = 1 - config.cost.default_spot_discount
    month = prices.HOURS_PER_MONTH

    def fmt(value: float) -> str:
        return f"{value:.6f}"

    return {
        "description": f"spark-on-eks price table (checked {prices.checked(config.region).isoformat()}), {config.region}",
        "CPU": fmt(cpu * month),
        "spotCPU": fmt(cpu * spot * month),
        "RAM": fmt(ram * month),
        "spotRAM": fmt(ram * spot * month),
        "GPU": fmt(0),
        "storage": fmt(gp3.usd),
        # Karpenter labels each node with its capacity type; OpenCost prices those as spot.
        "spotLabel": "karpenter.sh/capacity-type",
        "spotLabelValue": "spot",
    }
