"""Pure IAM builders for Karpenter: the controller's policies (scoped as upstream scopes them for
v1.14), the node role's managed policies, and the interruption queue's resource policy."""

from __future__ import annotations

from typing import Any

from components.iam import policy_document

NODE_MANAGED_POLICIES = (
    "AmazonEKS_CNI_Policy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
)
CONTROLLER_SERVICE_ACCOUNT = ("karpenter", "karpenter")


def _ec2(partition: str, region: str, resource: str, account: str = "*") -> str:
    return f"arn:{partition}:ec2:{region}:{account}:{resource}"


def _owned(cluster: str, prefix: str = "aws:ResourceTag") -> dict[str, str]:
    return {f"{prefix}/kubernetes.io/cluster/{cluster}": "owned"}


def node_lifecycle_policy(partition: str, region: str, cluster: str) -> dict[str, Any]:
    """Launch, tag and terminate only instances Karpenter launched for this cluster's NodePools."""
    launchable = [
        f"arn:{partition}:ec2:{region}::image/*",
        f"arn:{partition}:ec2:{region}::snapshot/*",
        *(_ec2(partition, region, r) for r in ("security-group/*", "subnet/*", "capacity-reservation/*", "placement-group/*")),
    ]
    created = [
        _ec2(partition, region, r)
        for r in ("fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*")
    ]
    request_tags = {**_owned(cluster, "aws:RequestTag"), "aws:RequestTag/eks:eks-cluster-name": cluster}
    nodepool_resource = {"aws:ResourceTag/karpenter.sh/nodepool": "*"}
    nodepool_request = {"aws:RequestTag/karpenter.sh/nodepool": "*"}
    return policy_document(
        {
            "Sid": "AllowScopedEC2InstanceAccessActions",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Resource": launchable,
        },
        {
            "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            "Resource": _ec2(partition, region, "launch-template/*"),
            "Condition": {"StringEquals": _owned(cluster), "StringLike": nodepool_resource},
        },
        {
            "Sid": "AllowScopedEC2InstanceActionsWithTags",
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            "Resource": created,
            "Condition": {"StringEquals": request_tags, "StringLike": nodepool_request},
        },
        {
            "Sid": "AllowScopedResourceCreationTagging",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": created,
            "Condition": {
                "StringEquals": {**request_tags, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                "StringLike": nodepool_request,
            },
        },
        {
            "Sid": "AllowScopedResourceTagging",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": _ec2(partition, region, "instance/*"),
            "Condition": {
                "StringEquals": _owned(cluster),
                "StringLike": nodepool_resource,
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
            },
        },
        {
            "Sid": "AllowScopedDeletion",
            "Effect": "Allow",
            "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            "Resource": [_ec2(partition, region, "instance/*"), _ec2(partition, region, "launch-template/*")],
            "Condition": {"StringEquals": _owned(cluster), "StringLike": nodepool_resource},
        },
    )


def iam_integration_policy(partition: str, region: str, account: str, cluster: str, node_role_arn: str) -> dict[str, Any]:
    """Pass exactly the node role, and manage only instance profiles tagged for this cluster and region."""
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    nodeclass_request = {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    nodeclass_resource = {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}
    request_tags = {
        **_owned(cluster, "aws:RequestTag"),
        "aws:RequestTag/eks:eks-cluster-name": cluster,
        "aws:RequestTag/topology.kubernetes.io/region": region,
    }
    resource_tags = {**_owned(cluster), "aws:ResourceTag/topology.kubernetes.io/region": region}
    return policy_document(
        {
            "Sid": "AllowPassingInstanceRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": node_role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        },
        {
            "Sid": "AllowScopedInstanceProfileCreationActions",
            "Effect": "Allow",
            "Action": ["iam:CreateInstanceProfile"],
            "Resource": profiles,
            "Condition": {"StringEquals": request_tags, "StringLike": nodeclass_request},
        },
        {
            "Sid": "AllowScopedInstanceProfileTagActions",
            "Effect": "Allow",
            "Action": ["iam:TagInstanceProfile"],
            "Resource": profiles,
            "Condition": {
                "StringEquals": {**resource_tags, **request_tags},
                "StringLike": {**nodeclass_resource, **nodeclass_request},
            },
        },
        {
            "Sid": "AllowScopedInstanceProfileActions",
            "Effect": "Allow",
            "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
            "Resource": profiles,
            "Condition": {"StringEquals": resource_tags, "StringLike": nodeclass_resource},
        },
    )


def eks_integration_policy(partition: str, region: str, account: str, cluster: str) -> dict[str, Any]:
    return policy_document(
        {
            "Sid": "AllowAPIServerEndpointDiscovery",
            "Effect": "Allow",
            "Action": "eks:DescribeCluster",
            "Resource": f"arn:{partition}:eks:{region}:{account}:cluster/{cluster}",
        }
    )


def interruption_policy(queue_arn: str) -> dict[str, Any]:
    return policy_document(
        {
            "Sid": "AllowInterruptionQueueActions",
            "Effect": "Allow",
            "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            "Resource": queue_arn,
        }
    )


def resource_discovery_policy(partition: str, region: str, account: str) -> dict[str, Any]:
    """Read-only discovery, limited to this region where the API allows it."""
    return policy_document(
        {
            "Sid": "AllowRegionalReadActions",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        },
        {
            "Sid": "AllowSSMReadActions",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
        },
        {"Sid": "AllowPricingReadActions", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {"Sid": "AllowUnscopedInstanceProfileListAction", "Effect": "Allow", "Action": "iam:ListInstanceProfiles", "Resource": "*"},
        {
            "Sid": "AllowInstanceProfileReadActions",
            "Effect": "Allow",
            "Action": "iam:GetInstanceProfile",
            "Resource": f"arn:{partition}:iam::{account}:instance-profile/*",
        },
    )


def interruption_queue_policy(queue_arn: str) -> dict[str, Any]:
    """Only EventBridge and SQS may send; nothing may use the queue without TLS."""
    return {
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Sid": "AllowEventDelivery",
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


# (rule suffix, event source, detail-type) of every EC2 event that can take a node away.
INTERRUPTION_EVENTS = (
    ("scheduled-change", "aws.health", "AWS Health Event"),
    ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("instance-state-change", "aws.ec2", "EC2 Instance State-change Notification"),
    ("capacity-reservation-interruption", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
)


def event_pattern(source: str, detail_type: str) -> dict[str, list[str]]:
    return {"source": [source], "detail-type": [detail_type]}
