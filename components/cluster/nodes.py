"""Pure builders of the system node group: launch template settings, labels and taints."""

from __future__ import annotations

from typing import Any

from sparkeks.placement import POOL_LABEL, SYSTEM_POOL

# The conventional taint for nodes reserved to critical add-ons; CoreDNS and the EBS CSI controller
# tolerate it out of the box, everything else must opt in.
CRITICAL_ADDONS_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
AMI_TYPES = {"amd64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}


def system_node_labels() -> dict[str, str]:
    return {POOL_LABEL: SYSTEM_POOL}


def system_launch_template(disk_size_gib: int, tags: dict[str, str]) -> dict[str, Any]:
    """Launch template arguments: IMDSv2 only, one hop (pods get credentials from Pod Identity, never
    from the node's role), an encrypted gp3 root volume, and tags on the instances and volumes."""
    return {
        "metadata_options": {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "instance_metadata_tags": "disabled",
        },
        "block_device_mappings": [
            {
                "device_name": "/dev/xvda",
                "ebs": {
                    "volume_size": disk_size_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }
        ],
        "tag_specifications": [
            {"resource_type": "instance", "tags": dict(tags)},
            {"resource_type": "volume", "tags": dict(tags)},
        ],
    }
