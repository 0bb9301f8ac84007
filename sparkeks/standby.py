"""What a DR stack on standby deploys: its stack file's Spark capacity times `dr.capacityScale`.

The file holds the primary's figures (pool limits, guarantees, maxima), so failover is one value
(`capacityScale: 1`) and no team is edited. On standby the NodePool limits round up to whole vCPUs and
GiB; queue guarantees and maxima round down. Rounding down is monotone and a sum of rounded-down parts
never exceeds the rounded-down whole, so every rule the file's queues meet at scale 1 (guaranteed <= max
<= what the pools hold, children within their parent, no over-commit) still holds on the standby. A max
keeps at least one vCPU and one GiB (each scaled pool holds that much), so no team is shut out entirely.
The arithmetic is decimal: 0.29 of 100 is 29 (the float product, 28.999999999999996, rounds down to 28).
"""

from __future__ import annotations

import math
from fractions import Fraction

GIB_MIB = 1024


def _exact(scale: float) -> Fraction:
    # The shortest decimal that reads back as this float: the figure the user wrote.
    return Fraction(repr(float(scale)))


def pool_limits(cpu: int, memory_mib: float, scale: float) -> tuple[int, int]:
    """(vCPUs, MiB) a pool's limits come to as its NodePools render them."""
    if scale == 1.0:
        return cpu, int(memory_mib)
    share = _exact(scale)
    return max(1, math.ceil(cpu * share)), max(1, math.ceil(Fraction(memory_mib) * share / GIB_MIB)) * GIB_MIB


def guaranteed_share(cpu: int, memory_mib: int, scale: float) -> tuple[int, int]:
    """(vCPUs, MiB) of a scaled guarantee: never more than the scaled pools can give back."""
    if scale == 1.0:
        return cpu, memory_mib
    share = _exact(scale)
    return math.floor(cpu * share), math.floor(memory_mib * share)


def max_share(cpu: int, memory_mib: int, scale: float) -> tuple[int, int]:
    """(vCPUs, MiB) of a scaled max: rounded down, but at least one vCPU and one GiB."""
    if scale == 1.0:
        return cpu, memory_mib
    scaled_cpu, scaled_mib = guaranteed_share(cpu, memory_mib, scale)
    return max(1, scaled_cpu), max(GIB_MIB, scaled_mib)
