"""Pure IAM builders of the cluster: roles' trust, managed policies, and the secrets-key grant."""

from __future__ import annotations

from typing import Any

from components.iam import managed_policy_arn, policy_document, service_trust_policy

CLUSTER_MANAGED_POLICIES = ("AmazonEKSClusterPolicy",)
# What a node needs to join, run the VPC CNI, pull images and be reachable by Session Manager (no SSH).
NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
EBS_CSI_DRIVER_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
CLUSTER_ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"


def cluster_trust_policy() -> dict[str, Any]:
    return service_trust_policy("eks.amazonaws.com", tag_session=True)


def node_trust_policy() -> dict[str, Any]:
    return service_trust_policy("ec2.amazonaws.com")


def secrets_encryption_policy(key_arn: str) -> dict[str, Any]:
    """Lets the control plane use exactly one key for envelope encryption of Kubernetes secrets."""
    return policy_document(
        {
            "Sid": "EnvelopeEncryptionOfSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"],
            "Resource": key_arn,
        }
    )


def managed_policy_arns(partition: str, names: tuple[str, ...]) -> list[str]:
    return [managed_policy_arn(partition, n) for n in names]


def access_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"
