"""Pure add-on plan: which EKS add-ons, at which pinned build, in which order."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sparkeks import versions
from sparkeks.capacity.addons import addon_settings


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
    """Add-on configuration values (JSON), or None for the add-on's defaults. CoreDNS and the EBS CSI
    controller get the requests the system node group is sized for."""
    settings = dict(addon_settings(name))
    if name == "vpc-cni" and network_policies:
        settings["enableNetworkPolicy"] = "true"
    return json.dumps(settings, sort_keys=True) if settings else None
