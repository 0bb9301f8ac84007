"""Celeborn: a remote shuffle service that jobs opt into, so a reclaimed spot executor loses no shuffle data.

Three masters (Raft on gp3 volumes) on the `platform` pool; workers on their own on-demand NVMe NodePool,
one per node, never consolidated under running jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.celeborn import manifests
from components.celeborn.values import release_values
from components.kube import kubernetes_object
from sparkeks import versions
from sparkeks.config.shuffle import CelebornConfig, celeborn_warnings
from sparkeks.spark import celeborn


@dataclass(frozen=True)
class CelebornArgs:
    config: CelebornConfig
    worker_zones: list[str]
    provider: k8s.Provider
    network_policies: bool = False
    pod_monitors: bool = False
    """Render PodMonitors (needs the monitoring stack's CRDs)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The Karpenter controller (through its platform pool) and, with monitors, the monitoring release."""


class Celeborn(pulumi.ComponentResource):
    master_endpoints: str
    node_pool_names: list[str]

    def __init__(self, name: str, args: CelebornArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:celeborn:Celeborn", name, None, opts)
        after = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)

        # Workers' nodes first: the release's worker pods wait for them. Unlike the Spark pools, the pool is
        # not scaled by a DR standby's capacityScale: its workers are a count the stack states, each needing a node.
        pools = [
            kubernetes_object(f"{name}-pool-{pool['metadata']['name']}", pool, after)
            for pool in manifests.worker_node_pools(args.config.pool, zones=args.worker_zones)
        ]
        self.node_pool_names = [p["metadata"]["name"] for p in manifests.worker_node_pools(args.config.pool, zones=args.worker_zones)]

        for warning in celeborn_warnings(args.config, network_policies=args.network_policies):
            pulumi.log.warn(warning, self)

        ns = kubernetes_object(f"{name}-namespace", manifests.namespace(), after)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
        if args.network_policies:
            for policy in manifests.network_policies():
                kubernetes_object(f"{name}-{policy['metadata']['name']}", policy, in_ns)
        for role in manifests.ROLES:
            kubernetes_object(f"{name}-{role}", manifests.disruption_budget(role), in_ns)
            if args.pod_monitors:
                kubernetes_object(f"{name}-{role}-metrics", manifests.pod_monitor(role), in_ns)

        # The chart ships in Apache's release archive, not a Helm repository: `make celeborn-chart` unpacks it.
        k8s.helm.v3.Release(
            name,
            name=celeborn.RELEASE,
            chart=versions.CELEBORN_CHART_DIR,
            version=versions.CELEBORN_CHART_VERSION,
            namespace=celeborn.NAMESPACE,
            values=release_values(args.config),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns, *pools, *args.depends_on]),
        )
        self.master_endpoints = celeborn.master_endpoints()
        self.register_outputs({"masterEndpoints": self.master_endpoints, "nodePools": self.node_pool_names})
