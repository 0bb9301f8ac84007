"""Requests of the EKS add-on pods that run on the system node group, set by the platform itself.

CoreDNS and the EBS CSI controller are Deployments that tolerate `CriticalAddonsOnly`: with every other
node tainted, they land on the system nodes. Their requests are stated here and handed to EKS as add-on
configuration, so the capacity check counts figures the cluster really applies, not assumed defaults.
(The add-ons' DaemonSets come from `sparkeks.daemonsets`, read for the pinned builds.)
"""

from __future__ import annotations

from typing import Any

COREDNS = "coredns"
EBS_CSI = "aws-ebs-csi-driver"

_COREDNS_SETTINGS = {
    "replicaCount": 2,
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
}
# The controller's sidecars take `controller.resources` unless given their own (the driver chart's
# `default .Values.controller.resources .Values.sidecars.<name>.resources`).
_EBS_CSI_SETTINGS = {
    "controller": {"resources": {"requests": {"cpu": "10m", "memory": "40Mi"}, "limits": {"memory": "256Mi"}}},
}
# ebs-plugin, csi-provisioner, csi-attacher, csi-resizer, liveness-probe; csi-snapshotter only joins when
# the cluster serves snapshot.storage.k8s.io, which this platform does not install.
EBS_CSI_CONTROLLER_CONTAINERS = 5
EBS_CSI_CONTROLLER_REPLICAS = 2


def addon_settings(name: str) -> dict[str, Any]:
    """The capacity-relevant configuration values of an add-on (empty for the others)."""
    return {COREDNS: _COREDNS_SETTINGS, EBS_CSI: _EBS_CSI_SETTINGS}.get(name, {})
