"""Pure builder of the cluster's default StorageClass."""

from __future__ import annotations

from typing import Any

EBS_CSI_PROVISIONER = "ebs.csi.aws.com"


def gp3_storage_class(name: str = "gp3") -> dict[str, Any]:
    """Encrypted gp3, bound where the pod lands (a volume is zonal; WaitForFirstConsumer picks the pod's zone)."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": EBS_CSI_PROVISIONER,
        "parameters": {"type": "gp3", "encrypted": "true", "fsType": "ext4"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
