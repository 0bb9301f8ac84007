"""Pure builder of the Karpenter controller's Helm values."""

from __future__ import annotations

from typing import Any

from components.helm import base_values, merge_values
from components.karpenter.iam import CONTROLLER_SERVICE_ACCOUNT


def controller_values(
    *, cluster_name: str, cluster_endpoint: Any, queue_name: Any, isolated_vpc: bool
) -> dict[str, Any]:
    return merge_values(
        base_values("karpenter"),
        {
            "settings": {
                "clusterName": cluster_name,
                "clusterEndpoint": cluster_endpoint,
                "interruptionQueue": queue_name,
                # Without NAT, skip AWS APIs that have no VPC endpoint (the pricing API).
                "isolatedVPC": isolated_vpc,
            },
            "serviceAccount": {"name": CONTROLLER_SERVICE_ACCOUNT[1]},
        },
    )
