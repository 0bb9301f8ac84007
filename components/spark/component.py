"""SparkPlatform: the Spark Operator, shared priority classes and admission rules, and one SparkTeam per team."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import to_json
from components.identity import grant_pod_identity
from components.kube import kubernetes_object
from components.spark import teams as team_objects
from components.spark.iam import team_policy
from components.spark.network import operator_network_policies, yunikorn_network_policies
from components.spark.values import operator_values, yunikorn_values
from sparkeks import versions
from sparkeks.config.model import TeamConfig
from sparkeks.netpol import ClusterNetwork
from sparkeks.spark.layout import event_log_prefix, fallback_prefix, s3a
from sparkeks.teams.queues import QueueTree, TeamQueue

OPERATOR_NAMESPACE = "spark-operator"
YUNIKORN_NAMESPACE = "yunikorn"


@dataclass(frozen=True)
class SparkTeamArgs:
    team: TeamConfig
    queue: TeamQueue
    batch_scheduler: str
    cluster_name: str
    account_id: str
    region: str
    partition: str
    bucket_name: pulumi.Input[str]
    provider: k8s.Provider
    network_policies: bool
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class SparkTeam(pulumi.ComponentResource):
    """A team: namespace, `spark` ServiceAccount with a driver Role, an IAM role through Pod Identity,
    a ResourceQuota at its queue's max, limits, and optionally NetworkPolicies."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SparkTeamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:spark:SparkTeam", name, None, opts)
        team = args.team
        child = pulumi.ResourceOptions(parent=self)

        identity = grant_pod_identity(
            f"{name}-spark",
            cluster_name=args.cluster_name,
            account_id=args.account_id,
            namespace=team.name,
            service_account=team_objects.SPARK_SERVICE_ACCOUNT,
            policy_name=f"{name}-spark-data",
            policy=pulumi.Output.from_input(args.bucket_name).apply(
                lambda bucket: to_json(team_policy(args.partition, team.name, bucket, team.data.read, team.data.write))
            ),
            parent=self,
        )
        # Spark refuses to start when its event-log directory is missing; S3 has directories only as markers.
        aws.s3.BucketObjectv2(
            f"{name}-event-log-dir",
            bucket=args.bucket_name,
            key=event_log_prefix(team.name),
            content="",
            opts=child,
        )

        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        ns = kubernetes_object(f"{name}-namespace", team_objects.namespace(team, args.queue if args.batch_scheduler == "yunikorn" else None), k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
        objects = [
            team_objects.service_account(team),
            team_objects.driver_role(team),
            team_objects.driver_role_binding(team),
            team_objects.resource_quota(team, args.queue),
            team_objects.limit_range(team, args.queue),
            team_objects.platform_config_map(
                team,
                {
                    "bucket": args.bucket_name,
                    "eventLogDir": pulumi.Output.from_input(args.bucket_name).apply(lambda b: s3a(b, event_log_prefix(team.name))),
                    "fallbackStoragePath": pulumi.Output.from_input(args.bucket_name).apply(lambda b: s3a(b, fallback_prefix(team.name))),
                    "region": args.region,
                    "serviceAccount": team_objects.SPARK_SERVICE_ACCOUNT,
                },
            ),
        ]
        if args.network_policies:
            objects += team_objects.network_policies(team)
        for manifest in objects:
            kubernetes_object(f"{name}-{manifest['kind'].lower()}-{manifest['metadata']['name']}", manifest, in_ns)

        self.role_arn = identity.role.arn
        self.register_outputs({"namespace": team.name, "roleArn": self.role_arn, "podIdentity": identity.association.association_arn})


@dataclass(frozen=True)
class SparkPlatformArgs:
    teams: list[TeamConfig]
    queues: QueueTree
    cluster_name: str
    account_id: str
    region: str
    partition: str
    bucket_name: pulumi.Input[str]
    provider: k8s.Provider
    batch_scheduler: str = "yunikorn"
    preemption_delay: str = "2m"
    network_policies: bool = False
    operator_pod_monitor: bool = False
    cluster_network: ClusterNetwork | None = None
    """With it, default-deny NetworkPolicies for the operator's (and YuniKorn's) namespace."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class SparkPlatform(pulumi.ComponentResource):
    team_role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: SparkPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:spark:SparkPlatform", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)

        # A PriorityClass's value and preemptionPolicy are immutable: switching the batch scheduler replaces it.
        immutable = pulumi.ResourceOptions.merge(
            k8s_opts, pulumi.ResourceOptions(replace_on_changes=["preemptionPolicy", "value"], delete_before_replace=True)
        )
        for manifest in team_objects.priority_classes(args.batch_scheduler):
            kubernetes_object(f"{name}-{manifest['kind'].lower()}-{manifest['metadata']['name']}", manifest, immutable)
        for manifest in team_objects.pool_access_policy():
            kubernetes_object(f"{name}-{manifest['kind'].lower()}-{manifest['metadata']['name']}", manifest, k8s_opts)

        teams = [
            SparkTeam(
                f"team-{team.name}",
                SparkTeamArgs(
                    team=team,
                    queue=args.queues.team(team.name),
                    batch_scheduler=args.batch_scheduler,
                    cluster_name=args.cluster_name,
                    account_id=args.account_id,
                    region=args.region,
                    partition=args.partition,
                    bucket_name=args.bucket_name,
                    provider=args.provider,
                    network_policies=args.network_policies,
                    depends_on=args.depends_on,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for team in args.teams
        ]
        team_namespaces = [t.name for t in args.teams]

        scheduler: list[pulumi.Resource] = []
        if args.batch_scheduler == "yunikorn":
            yk_ns = kubernetes_object(
                f"{name}-yunikorn-namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": YUNIKORN_NAMESPACE}}, k8s_opts
            )
            scheduler.append(
                k8s.helm.v3.Release(
                    f"{name}-yunikorn",
                    name="yunikorn",
                    chart="yunikorn",
                    version=versions.YUNIKORN_VERSION,
                    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.YUNIKORN_REPO),
                    namespace=YUNIKORN_NAMESPACE,
                    values=yunikorn_values(args.queues, preemption_delay=args.preemption_delay),
                    opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[yk_ns, *args.depends_on]),
                )
            )
            if args.cluster_network is not None:
                in_yk = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[yk_ns])
                for manifest in yunikorn_network_policies(YUNIKORN_NAMESPACE, args.cluster_network):
                    kubernetes_object(f"{name}-yunikorn-{manifest['metadata']['name']}", manifest, in_yk)

        operator_ns = kubernetes_object(
            f"{name}-operator-namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}}, k8s_opts
        )
        if args.cluster_network is not None:
            in_operator = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[operator_ns])
            for manifest in operator_network_policies(OPERATOR_NAMESPACE, args.cluster_network):
                kubernetes_object(f"{name}-operator-{manifest['metadata']['name']}", manifest, in_operator)
        k8s.helm.v3.Release(
            f"{name}-operator",
            name="spark-operator",
            chart="spark-operator",
            version=versions.SPARK_OPERATOR_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.SPARK_OPERATOR_REPO),
            namespace=OPERATOR_NAMESPACE,
            values=operator_values(team_namespaces, batch_scheduler=args.batch_scheduler, pod_monitor=args.operator_pod_monitor),
            # The operator watches the team namespaces, so they exist first.
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[operator_ns, *teams, *scheduler, *args.depends_on]),
        )

        self.team_role_arns = {t.name: team.role_arn for t, team in zip(args.teams, teams)}
        self.register_outputs({"teamRoleArns": self.team_role_arns, "jobNamespaces": team_namespaces})
