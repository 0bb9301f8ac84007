"""Pure builders of Karpenter's EC2NodeClasses and the Spark NodePools (plain manifests)."""

from __future__ import annotations

from typing import Any

from sparkeks.config.feasibility import effective_limits
from sparkeks.config.model import PoolLimits, SparkPoolConfig
from sparkeks.instances import FAMILIES
from sparkeks.placement import POOL_LABEL, POOL_NAMES

NODE_CLASS_API = "karpenter.k8s.aws/v1"
NODE_POOL_API = "karpenter.sh/v1"
DEFAULT_NODE_CLASS = "default"
NVME_NODE_CLASS = "nvme"


def ec2_node_class(
    name: str,
    *,
    role: Any,
    ami_alias: str,
    cluster_name: str,
    volume_gib: int,
    tags: dict[str, str],
    raid0_instance_store: bool = False,
) -> dict[str, Any]:
    """Nodes in the discovery-tagged subnets and security group, IMDSv2 with one hop (pods use Pod
    Identity, never the node's role), encrypted gp3 root volume; `raid0_instance_store` stripes the
    local NVMe disks and puts kubelet and container storage on them (Spark's local dirs)."""
    discovery = {"tags": {"karpenter.sh/discovery": cluster_name}}
    spec: dict[str, Any] = {
        "role": role,
        "amiSelectorTerms": [{"alias": ami_alias}],
        "subnetSelectorTerms": [discovery],
        "securityGroupSelectorTerms": [discovery],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {"volumeSize": f"{volume_gib}Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True},
            }
        ],
        "tags": {**tags, "spark-on-eks/node-class": name},
    }
    if raid0_instance_store:
        spec["instanceStorePolicy"] = "RAID0"
    return {"apiVersion": NODE_CLASS_API, "kind": "EC2NodeClass", "metadata": {"name": name}, "spec": spec}


def scaled_limits(limits: PoolLimits, scale: float) -> dict[str, str]:
    """The pool's cap, scaled (a DR stack on standby runs a share of the primary's capacity)."""
    if scale == 1.0:
        return {"cpu": str(limits.cpu), "memory": limits.memory}
    cpu, memory = effective_limits(limits, scale)
    return {"cpu": str(cpu), "memory": f"{memory // 1024}Gi"}


def _requirement(key: str, values: list[Any]) -> dict[str, Any]:
    return {"key": key, "operator": "In", "values": [str(v) for v in values]}


def node_pools(
    pool_key: str,
    pool: SparkPoolConfig,
    *,
    zones: list[str],
    node_class: str,
    consolidation_policy: str,
    limit_scale: float = 1.0,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """One NodePool per (capacity type, architecture), in preference order with falling weights.

    All NodePools of a pool share its label and taint, so a Spark pod that selects and tolerates the
    pool may land on any of them: Karpenter tries the highest weight first and falls back when EC2
    has no capacity (spot before on-demand, the preferred architecture before the other).
    """
    base = name or POOL_NAMES[pool_key]
    combos = [(cap, arch) for cap in pool.capacity_types for arch in pool.architectures]
    manifests = []
    for index, (capacity, arch) in enumerate(combos):
        suffix = ("" if arch == pool.architectures[0] else f"-{arch}") + ("" if capacity == pool.capacity_types[0] else f"-{capacity}")
        families = [f for f in pool.instance_families if FAMILIES[f].architecture == arch]
        budgets = [b.model_dump(by_alias=True, exclude_none=True) for b in pool.budgets]
        manifests.append(
            {
                "apiVersion": NODE_POOL_API,
                "kind": "NodePool",
                "metadata": {"name": base + suffix},
                "spec": {
                    "weight": 100 - 10 * index,
                    "limits": scaled_limits(pool.limits, limit_scale),
                    "disruption": {
                        "consolidationPolicy": consolidation_policy,
                        "consolidateAfter": pool.consolidate_after,
                        "budgets": budgets,
                    },
                    "template": {
                        "metadata": {"labels": {POOL_LABEL: base}},
                        "spec": {
                            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
                            "expireAfter": pool.expire_after,
                            "taints": [{"key": POOL_LABEL, "value": base, "effect": "NoSchedule"}],
                            "requirements": [
                                _requirement("kubernetes.io/os", ["linux"]),
                                _requirement("kubernetes.io/arch", [arch]),
                                _requirement("karpenter.sh/capacity-type", [capacity]),
                                _requirement("karpenter.k8s.aws/instance-family", families),
                                _requirement("karpenter.k8s.aws/instance-cpu", sorted(pool.instance_cpus)),
                                _requirement("topology.kubernetes.io/zone", zones),
                            ],
                        },
                    },
                },
            }
        )
    return manifests
