"""Pure add-on plan: which EKS add-ons, at which pinned build, in which order."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sparkeks import versions


@dataclass(frozen=True)
class AddonSpec:
    name: str
    version: str
    before_nodes: bool
    """Needed for a node to become Ready (networking, kube-proxy, Pod Identity credentials)."""


def addon_plan(kubernetes_version: str) -> list[AddonSpec]:
    pins = versions.eks_addon_versions(kubernetes_version)
    return [AddonSpec(n, pins[n], True) for n in versions.EKS_ADDONS_BEFORE_NODES] + [
        AddonSpec(n, pins[n], False) for n in versions.EKS_ADDONS_AFTER_NODES
    ]


def addon_configuration(name: str, *, network_policies: bool) -> str | None:
    """Add-on configuration values (JSON), or None for the add-on's defaults."""
    if name == "vpc-cni" and network_policies:
        return json.dumps({"enableNetworkPolicy": "true"}, sort_keys=True)
    return None
