"""Karpenter: the controller and its IAM, interruption handling, node classes and Spark node pools."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import managed_policy_arn, pod_identity_trust_policy, service_trust_policy, to_json
from components.karpenter import iam
from components.karpenter.network import network_policies as karpenter_network_policies
from components.karpenter.nodes import DEFAULT_NODE_CLASS, NVME_NODE_CLASS, ec2_node_class, node_pools
from components.karpenter.values import controller_values
from components.kube import kubernetes_object
from sparkeks import versions
from sparkeks.config.model import PlatformPoolConfig, SparkPoolsConfig
from sparkeks.netpol import ClusterNetwork
from sparkeks.placement import PLATFORM_POOL


@dataclass(frozen=True)
class KarpenterArgs:
    cluster_name: str
    cluster_endpoint: pulumi.Input[str]
    region: str
    partition: str
    account_id: str
    provider: k8s.Provider
    pools: SparkPoolsConfig
    pool_zones: dict[str, list[str]]
    """Zones per pool key (driver, executor, executorNvme)."""
    ami_alias: str
    node_volume_gib: int
    platform: PlatformPoolConfig
    platform_zones: list[str]
    capacity_scale: float = 1.0
    """Share of each pool's limits this stack may use (DR standby)."""
    isolated_vpc: bool = False
    node_tags: dict[str, str] = field(default_factory=dict)
    cluster_network: ClusterNetwork | None = None
    """With it, default-deny NetworkPolicies for the controller's namespace."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """What must exist before the controller starts (the system node group)."""


class Karpenter(pulumi.ComponentResource):
    node_role_arn: pulumi.Output[str]
    controller_role_arn: pulumi.Output[str]
    interruption_queue_name: pulumi.Output[str]
    node_pool_names: list[str]
    platform_pool: pulumi.Resource
    """The NodePool platform services run on; their releases wait for it."""

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:karpenter:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, service_account = iam.CONTROLLER_SERVICE_ACCOUNT

        # --- nodes: role, and an access entry so they join without aws-auth
        node_role = aws.iam.Role(f"{name}-node", assume_role_policy=to_json(service_trust_policy("ec2.amazonaws.com")), opts=child)
        for policy in iam.NODE_MANAGED_POLICIES:
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=node_role.name, policy_arn=managed_policy_arn(args.partition, policy), opts=child
            )
        node_access = aws.eks.AccessEntry(
            f"{name}-node", cluster_name=args.cluster_name, principal_arn=node_role.arn, type="EC2_LINUX", opts=child
        )

        # --- interruption handling: EC2 events -> EventBridge -> SQS -> controller
        queue = aws.sqs.Queue(
            f"{name}-interruption",
            name=f"{args.cluster_name}-karpenter",
            message_retention_seconds=300,  # events are only worth acting on for minutes
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-interruption",
            queue_url=queue.url,
            policy=queue.arn.apply(lambda arn: to_json(iam.interruption_queue_policy(arn))),
            opts=child,
        )
        for suffix, source, detail_type in iam.INTERRUPTION_EVENTS:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                name=f"{args.cluster_name}-karpenter-{suffix}",
                description=f"{detail_type} events for Karpenter in {args.cluster_name}",
                event_pattern=to_json(iam.event_pattern(source, detail_type)),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}", rule=rule.name, arn=queue.arn, target_id="KarpenterInterruptionQueueTarget", opts=child
            )

        # --- controller identity: Pod Identity for karpenter/karpenter, policies scoped like upstream's
        trust = pod_identity_trust_policy(args.account_id, namespace=namespace, service_account=service_account)
        controller_role = aws.iam.Role(f"{name}-controller", assume_role_policy=to_json(trust), opts=child)
        documents = {
            "node-lifecycle": pulumi.Output.from_input(
                to_json(iam.node_lifecycle_policy(args.partition, args.region, args.cluster_name))
            ),
            "iam-integration": node_role.arn.apply(
                lambda arn: to_json(iam.iam_integration_policy(args.partition, args.region, args.account_id, args.cluster_name, arn))
            ),
            "eks-integration": pulumi.Output.from_input(
                to_json(iam.eks_integration_policy(args.partition, args.region, args.account_id, args.cluster_name))
            ),
            "interruption": queue.arn.apply(lambda arn: to_json(iam.interruption_policy(arn))),
            "resource-discovery": pulumi.Output.from_input(
                to_json(iam.resource_discovery_policy(args.partition, args.region, args.account_id))
            ),
        }
        attachments = []
        for concern, document in documents.items():
            policy = aws.iam.Policy(
                f"{name}-controller-{concern}",
                description=f"Karpenter controller of {args.cluster_name}: {concern}",
                policy=document,
                opts=child,
            )
            attachments.append(
                aws.iam.RolePolicyAttachment(f"{name}-controller-{concern}", role=controller_role.name, policy_arn=policy.arn, opts=child)
            )
        identity = aws.eks.PodIdentityAssociation(
            f"{name}-controller",
            cluster_name=args.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=controller_role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )

        # --- Kubernetes side. CRDs come from their own chart (Helm never upgrades a chart's crds/), so
        # the order is: namespace -> CRD release -> controller release -> node classes and pools.
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        ns = kubernetes_object(f"{name}-namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, k8s_opts)
        if args.cluster_network is not None:
            in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
            for manifest in karpenter_network_policies(namespace, args.cluster_network):
                kubernetes_object(f"{name}-{manifest['metadata']['name']}", manifest, in_ns)
        crds = k8s.helm.v3.Release(
            f"{name}-crd",
            name="karpenter-crd",
            chart=versions.KARPENTER_CRD_CHART,
            version=versions.KARPENTER_VERSION,
            namespace=namespace,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns]),
        )
        controller = k8s.helm.v3.Release(
            f"{name}-controller",
            name="karpenter",
            chart=versions.KARPENTER_CHART,
            version=versions.KARPENTER_VERSION,
            namespace=namespace,
            skip_crds=True,
            values=controller_values(
                cluster_name=args.cluster_name,
                cluster_endpoint=args.cluster_endpoint,
                queue_name=queue.name,
                isolated_vpc=args.isolated_vpc,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[crds, identity, node_access, *args.depends_on]),
        )

        after_controller = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[crds, controller])
        class_args = dict(
            role=node_role.name,
            ami_alias=args.ami_alias,
            cluster_name=args.cluster_name,
            volume_gib=args.node_volume_gib,
            tags=args.node_tags,
        )
        for node_class, raid0 in ((DEFAULT_NODE_CLASS, False), (NVME_NODE_CLASS, True)):
            kubernetes_object(f"{name}-class-{node_class}", ec2_node_class(node_class, raid0_instance_store=raid0, **class_args), after_controller)

        # A driver's node is only removed when empty; executor nodes also when underused.
        pools = [
            ("driver", DEFAULT_NODE_CLASS, "WhenEmpty"),
            ("executor", DEFAULT_NODE_CLASS, "WhenEmptyOrUnderutilized"),
            ("executorNvme", NVME_NODE_CLASS, "WhenEmptyOrUnderutilized"),
        ]
        self.node_pool_names = []
        for key, node_class, policy in pools:
            manifests = node_pools(
                key, args.pools.pool(key), zones=args.pool_zones[key], node_class=node_class, consolidation_policy=policy, limit_scale=args.capacity_scale
            )
            for manifest in manifests:
                pool_name = manifest["metadata"]["name"]
                self.node_pool_names.append(pool_name)
                kubernetes_object(f"{name}-pool-{pool_name}", manifest, after_controller)

        # Platform services: on-demand, removed when empty or underused. Karpenter evicts through PDBs
        # and never moves a pod marked do-not-disrupt, so a stateful pod without a PDB pins its node.
        [platform] = node_pools(
            "platform", args.platform, zones=args.platform_zones, node_class=DEFAULT_NODE_CLASS,
            consolidation_policy="WhenEmptyOrUnderutilized", name=PLATFORM_POOL,
        )
        self.node_pool_names.append(PLATFORM_POOL)
        self.platform_pool = kubernetes_object(f"{name}-pool-{PLATFORM_POOL}", platform, after_controller)

        self.node_role_arn = node_role.arn
        self.controller_role_arn = controller_role.arn
        self.interruption_queue_name = queue.name
        self.register_outputs(
            {
                "nodeRoleArn": self.node_role_arn,
                "controllerRoleArn": self.controller_role_arn,
                "interruptionQueueName": self.interruption_queue_name,
                "nodePools": self.node_pool_names,
            }
        )
