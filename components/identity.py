"""Pod identities: an IAM role that exactly one Kubernetes ServiceAccount gets through EKS Pod Identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import pod_identity_trust_policy, to_json


@dataclass(frozen=True)
class PodIdentity:
    role: aws.iam.Role
    association: aws.eks.PodIdentityAssociation


def grant_pod_identity(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    account_id: str,
    namespace: str,
    service_account: str,
    policy_name: str,
    policy: pulumi.Input[str],
    parent: pulumi.Resource,
) -> PodIdentity:
    """Role `name` with inline policy `policy_name`, handed to `namespace/service_account`. The association
    waits for the policy, so the pods never start with a role that cannot yet do its job."""
    trust = pod_identity_trust_policy(account_id, namespace=namespace, service_account=service_account)
    role = aws.iam.Role(name, assume_role_policy=to_json(trust), opts=pulumi.ResourceOptions(parent=parent))
    inline = aws.iam.RolePolicy(policy_name, role=role.name, policy=policy, opts=pulumi.ResourceOptions(parent=parent))
    association = aws.eks.PodIdentityAssociation(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[inline]),
    )
    return PodIdentity(role, association)
