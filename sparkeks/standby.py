"""What a DR stack on standby deploys: its stack file's Spark capacity times `dr.capacityScale`.

The file holds the primary's figures (pool limits, guarantees, maxima), so failover is one value
(`capacityScale: 1`) and no team is edited. On standby every amount rounds up to whole vCPUs and GiB: the
NodePool limits, and the queue guarantees and maxima, which YuniKorn reads as whole quantities (vcore in
cores or millicores, memory in bytes with an SI suffix). Rounding down made a small share 0 (4 vCPUs x 0.1):
an explicit zero that YuniKorn honours, so the team was over its guarantee with its first pod and always
a preemption victim, or a max no pod fits. Rounding up is monotone, so guaranteed <= max <= what the pools
hold and children's maxima within their parent still hold on the standby; sums are not (1.5 + 1.5 rounds
to 4, 3 to 3), so `sparkeks.teams.queues` checks the scaled guarantees against their parents and pools.
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


def queue_share(cpu: int, memory_mib: int, scale: float) -> tuple[int, int]:
    """(vCPUs, MiB) of a scaled queue guarantee or max: rounded up to whole vCPUs and GiB, so a share the
    primary has is at least one of each on the standby."""
    if scale == 1.0:
        return cpu, memory_mib
    share = _exact(scale)
    return math.ceil(cpu * share), math.ceil(Fraction(memory_mib) * share / GIB_MIB) * GIB_MIB
