"""Computed Helm values of the Celeborn release: sizes, ports, placement and volumes from the stack config."""

from __future__ import annotations

from typing import Any

from components.celeborn.rest_api import rest_api_conf
from components.celeborn.rpc_auth import rpc_auth_conf
from components.helm import base_values, merge_values
from sparkeks import versions
from sparkeks.config.shuffle import CelebornConfig
from sparkeks.placement import DO_NOT_DISRUPT, POOL_LABEL, ZONE_KEY, on_platform_nodes
from sparkeks.spark import celeborn

WORKER_POOL = "celeborn-worker"
GP3_STORAGE_CLASS = "gp3"
SHUFFLE_DIR = "/mnt/celeborn"
# Graceful shutdown may take celeborn.worker.graceful.shutdown.timeout (600s in the base values); the
# kubelet must not kill the worker before it has committed what it holds.
WORKER_TERMINATION_GRACE_SECONDS = 660


def role_labels(role: str) -> dict[str, str]:
    """The chart's selector labels of a role's pods (release `celeborn`, chart `celeborn`)."""
    return {"app.kubernetes.io/name": "celeborn", "app.kubernetes.io/instance": celeborn.RELEASE, "app.kubernetes.io/role": role}


def _spread(role: str) -> dict[str, Any]:
    """One pod per node (required) and one per zone where the zones allow (preferred). The chart takes
    `affinity` but has no topologySpreadConstraints value, so zone spread is a preferred anti-affinity."""
    selector = {"matchLabels": role_labels(role)}
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}],
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": selector, "topologyKey": ZONE_KEY}}
            ],
        }
    }


def _memory(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _env(**variables: str) -> list[dict[str, str]]:
    # The chart's default env also sets Java 8 GC-logging flags and a Shanghai time zone; neither applies.
    return [{"name": name, "value": value} for name, value in {**variables, "CELEBORN_NO_DAEMONIZE": "true", "TZ": "UTC"}.items()]


def worker_storage_dirs() -> str:
    """`celeborn.worker.storage.dirs`: one directory on the node's RAID0 (one array, one flusher)."""
    return f"{SHUFFLE_DIR}/shuffle:disktype=SSD"


def computed_values(config: CelebornConfig) -> dict[str, Any]:
    worker_memory, master_memory = _memory(config.worker_memory_mib), _memory(config.master_memory_mib)
    ports = celeborn.WORKER_PORTS
    return {
        "image": {"tag": versions.CELEBORN_VERSION},
        "celeborn": {
            "celeborn.master.port": celeborn.MASTER_PORT,
            "celeborn.worker.rpc.port": ports["rpc"],
            "celeborn.worker.fetch.port": ports["fetch"],
            "celeborn.worker.push.port": ports["push"],
            "celeborn.worker.replicate.port": ports["replicate"],
            "celeborn.worker.storage.dirs": worker_storage_dirs(),
            "celeborn.worker.graceful.shutdown.recoverPath": f"{SHUFFLE_DIR}/recover",
            **rest_api_conf(config.admin_api),
            **rpc_auth_conf(config.rpc_auth),
        },
        "master": {
            "replicas": celeborn.MASTERS,
            "env": _env(CELEBORN_MASTER_MEMORY=config.master_heap),
            # Stateful (Raft log): memory request = limit, so the node never reclaims it under pressure.
            "resources": {"requests": {"cpu": "500m", "memory": master_memory}, "limits": {"memory": master_memory}},
            **on_platform_nodes(),
            "affinity": _spread("master"),
            # The Raft log on an encrypted gp3 volume per master instead of the chart's hostPath.
            "volumes": [],
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "celeborn-ratis"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": GP3_STORAGE_CLASS,
                        "resources": {"requests": {"storage": f"{config.master_volume_gib}Gi"}},
                    },
                }
            ],
        },
        "worker": {
            "replicas": config.workers,
            "env": _env(CELEBORN_WORKER_MEMORY=config.worker_heap, CELEBORN_WORKER_OFFHEAP_MEMORY=config.worker_off_heap),
            "resources": {
                "requests": {"cpu": str(config.worker_cpu), "memory": worker_memory},
                "limits": {"memory": worker_memory},
            },
            "nodeSelector": {POOL_LABEL: WORKER_POOL},
            "tolerations": [{"key": POOL_LABEL, "operator": "Equal", "value": WORKER_POOL, "effect": "NoSchedule"}],
            "affinity": _spread("worker"),
            # Karpenter never drains a worker's node voluntarily (consolidation, drift): running jobs'
            # shuffle data is on it. Workers move only when an operator rolls them.
            "annotations": {DO_NOT_DISRUPT: "true"},
            "terminationGracePeriodSeconds": WORKER_TERMINATION_GRACE_SECONDS,
            # The kubelet's storage is the node's instance-store RAID0 (EC2NodeClass `nvme`), so is an emptyDir.
            "volumes": [{"name": "shuffle", "emptyDir": {}}],
            "volumeMounts": [{"name": "shuffle", "mountPath": SHUFFLE_DIR}],
        },
    }


def release_values(config: CelebornConfig) -> dict[str, Any]:
    return merge_values(base_values("celeborn"), computed_values(config))
