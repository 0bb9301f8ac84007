"""Cluster: the EKS control plane, its system node group, pinned add-ons and a Kubernetes provider."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster import iam
from components.cluster.addons import addon_configuration, addon_plan
from components.cluster.kubeconfig import kubeconfig
from components.cluster.nodes import (
    AMI_TYPES,
    CRITICAL_ADDONS_TAINT,
    system_launch_template,
    system_node_labels,
)
from components.cluster.storage import gp3_storage_class
from components.iam import pod_identity_trust_policy, to_json
from components.kube import kubernetes_object
from components.tagging import KARPENTER_DISCOVERY


@dataclass(frozen=True)
class SystemNodeGroupArgs:
    instance_types: list[str]
    architecture: str
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int


@dataclass(frozen=True)
class ClusterArgs:
    name: str
    region: str
    partition: str
    account_id: str
    kubernetes_version: str
    support_type: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    service_cidr: str
    system_node_group: SystemNodeGroupArgs
    log_types: list[str]
    log_retention_days: int
    public_access_cidrs: list[str] = field(default_factory=list)
    admin_principals: list[str] = field(default_factory=list)
    bootstrap_creator_admin: bool = True
    network_policies: bool = False
    """Turn on the VPC CNI's network policy engine (NetworkPolicies are ignored without it)."""
    protect: bool = False
    """Protect and retain what holds state or keys (KMS key, log group) and turn on EKS deletion protection."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags for what the provider's default tags do not reach (instances and volumes of the node group)."""


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    provider: k8s.Provider
    system_nodes: aws.eks.NodeGroup
    """The node group controllers run on; Kubernetes workloads wait for it."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)

        # --- encryption key and control-plane logs (both outlive a cluster rebuild in production)
        secrets_key = aws.kms.Key(
            f"{name}-secrets",
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {args.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.protect else 7,
            opts=stateful,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.name}-eks-secrets", target_key_id=secrets_key.key_id, opts=child)
        # Created before the cluster so EKS writes into a group with retention instead of a never-expiring one.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.name}/cluster",
            retention_in_days=args.log_retention_days,
            opts=stateful,
        )

        # --- control plane
        cluster_role = aws.iam.Role(
            f"{name}-control-plane", assume_role_policy=to_json(iam.cluster_trust_policy()), opts=child
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-control-plane-{p}", role=cluster_role.name, policy_arn=arn, opts=child)
            for p, arn in zip(iam.CLUSTER_MANAGED_POLICIES, iam.managed_policy_arns(args.partition, iam.CLUSTER_MANAGED_POLICIES))
        ]
        attachments.append(
            aws.iam.RolePolicy(
                f"{name}-control-plane-secrets-encryption",
                role=cluster_role.name,
                policy=secrets_key.arn.apply(lambda arn: to_json(iam.secrets_encryption_policy(arn))),
                opts=child,
            )
        )

        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.private_subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=bool(args.public_access_cidrs),
                public_access_cidrs=args.public_access_cidrs or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=args.bootstrap_creator_admin,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
            ),
            enabled_cluster_log_types=args.log_types,
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                ip_family="ipv4", service_ipv4_cidr=args.service_cidr
            ),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type),
            # The add-ons below are EKS-managed; no unmanaged copies to fight with.
            bootstrap_self_managed_addons=False,
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *attachments]),
        )
        # Karpenter puts its nodes in the cluster security group it discovers by this tag.
        aws.ec2.Tag(
            f"{name}-sg-discovery",
            resource_id=cluster.vpc_config.cluster_security_group_id,
            key=KARPENTER_DISCOVERY,
            value=args.name,
            opts=child,
        )

        for index, principal in enumerate(args.admin_principals):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}", cluster_name=cluster.name, principal_arn=principal, type="STANDARD", opts=child
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=iam.access_policy_arn(args.partition, iam.CLUSTER_ADMIN_ACCESS_POLICY),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=child,
            )

        # --- add-ons that nodes need to become Ready
        addons = addon_plan(args.kubernetes_version)

        def addon(spec, opts: pulumi.ResourceOptions, pod_identity=None) -> aws.eks.Addon:
            return aws.eks.Addon(
                f"{name}-{spec.name}",
                cluster_name=cluster.name,
                addon_name=spec.name,
                addon_version=spec.version,
                # The pinned version and configuration win over edits made in the cluster.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                configuration_values=addon_configuration(spec.name, network_policies=args.network_policies),
                pod_identity_associations=pod_identity,
                opts=opts,
            )

        early_addons = [addon(spec, child) for spec in addons if spec.before_nodes]

        # --- system node group
        node_role = aws.iam.Role(f"{name}-system-node", assume_role_policy=to_json(iam.node_trust_policy()), opts=child)
        node_attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-system-node-{p}", role=node_role.name, policy_arn=arn, opts=child)
            for p, arn in zip(iam.NODE_MANAGED_POLICIES, iam.managed_policy_arns(args.partition, iam.NODE_MANAGED_POLICIES))
        ]
        ng = args.system_node_group
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-system",
            description=f"System nodes of {args.name}: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            **system_launch_template(ng.disk_size_gib, {**args.tags, "Name": f"{args.name}-system"}),
            opts=child,
        )
        node_group = aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=cluster.name,
            node_group_name="system",
            version=args.kubernetes_version,
            node_role_arn=node_role.arn,
            subnet_ids=args.private_subnet_ids,
            instance_types=ng.instance_types,
            capacity_type="ON_DEMAND",
            ami_type=AMI_TYPES[ng.architecture],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=ng.min_size, desired_size=ng.desired_size, max_size=ng.max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            labels=system_node_labels(),
            taints=[aws.eks.NodeGroupTaintArgs(**CRITICAL_ADDONS_TAINT)],
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*node_attachments, *early_addons],
                # Scaling after creation (by people or autoscalers) is not reverted by the next `pulumi up`.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )

        # --- add-ons that need running nodes
        ebs_role = aws.iam.Role(
            f"{name}-ebs-csi",
            assume_role_policy=to_json(
                pod_identity_trust_policy(
                    args.account_id, namespace=iam.EBS_CSI_SERVICE_ACCOUNT[0], service_account=iam.EBS_CSI_SERVICE_ACCOUNT[1]
                )
            ),
            opts=child,
        )
        ebs_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=ebs_role.name,
            policy_arn=iam.managed_policy_arn(args.partition, iam.EBS_CSI_DRIVER_POLICY),
            opts=child,
        )
        late_addons = {}
        for spec in addons:
            if spec.before_nodes:
                continue
            pod_identity = None
            if spec.name == "aws-ebs-csi-driver":
                pod_identity = [
                    aws.eks.AddonPodIdentityAssociationArgs(role_arn=ebs_role.arn, service_account=iam.EBS_CSI_SERVICE_ACCOUNT[1])
                ]
            late_addons[spec.name] = addon(
                spec, pulumi.ResourceOptions(parent=self, depends_on=[node_group, ebs_policy, *early_addons]), pod_identity
            )

        # --- Kubernetes access for the components that follow
        config = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
            lambda v: json.dumps(kubeconfig(v[0], v[1], v[2], args.region), sort_keys=True)
        )
        self.kubeconfig = pulumi.Output.secret(config)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[node_group]),
        )
        kubernetes_object(
            f"{name}-gp3",
            gp3_storage_class(),
            pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[late_addons["aws-ebs-csi-driver"]]),
        )

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.arn = cluster.arn
        self.oidc_issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.node_role_arn = node_role.arn
        self.system_nodes = node_group
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "arn": self.arn,
                "kubeconfig": self.kubeconfig,
                "oidcIssuer": self.oidc_issuer,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "systemNodeRoleArn": self.node_role_arn,
            }
        )
