"""Where platform pods run: the node label and taints that separate the three kinds of capacity.

- `system`: the managed node group (fixed size, `CriticalAddonsOnly` taint) for what must run before
  Karpenter can add nodes: Karpenter itself, CoreDNS, the EKS add-ons.
- `platform`: a Karpenter NodePool (on-demand, tainted) for the platform's own services, so their
  capacity follows what the stack runs.
- the Spark pools (`spark-driver`, `spark-executor`, ...), each tainted with its own name.
"""

from __future__ import annotations

from typing import Any

POOL_LABEL = "spark-on-eks.io/pool"
SYSTEM_POOL = "system"
PLATFORM_POOL = "platform"
# Pool key in stack config -> Spark NodePool base name (stable: jobs select nodes by it).
POOL_NAMES = {"driver": "spark-driver", "executor": "spark-executor", "executorNvme": "spark-executor-nvme"}
CRITICAL_ADDONS_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists"}
PLATFORM_TOLERATION = {"key": POOL_LABEL, "operator": "Equal", "value": PLATFORM_POOL, "effect": "NoSchedule"}
ZONE_KEY = "topology.kubernetes.io/zone"
# Karpenter never voluntarily disrupts a node that runs a pod with this annotation.
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


def on_platform_nodes() -> dict[str, Any]:
    """nodeSelector and tolerations of a pod that runs on the platform NodePool."""
    return {"nodeSelector": {POOL_LABEL: PLATFORM_POOL}, "tolerations": [dict(PLATFORM_TOLERATION)]}


def zone_spread(match_labels: dict[str, str], *, hard: bool = False) -> dict[str, Any]:
    """Spread replicas over zones; `hard` refuses to stack two in one zone while another has none."""
    return {
        "maxSkew": 1,
        "topologyKey": ZONE_KEY,
        "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
        "labelSelector": {"matchLabels": dict(match_labels)},
    }
