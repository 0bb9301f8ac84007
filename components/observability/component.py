"""Observability: Prometheus, Alertmanager and Grafana (kube-prometheus-stack), Loki with Fluent Bit,
Spark PodMonitors, the platform's alert rules and dashboards."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.iam import to_json
from components.identity import grant_pod_identity
from components.kube import kubernetes_object
from components.observability import values as v
from components.observability.alerting import alertmanager_config
from components.observability.dashboards import dashboard_config_maps
from components.observability.iam import loki_bucket_policy
from components.observability.monitors import spark_pod_monitors
from components.observability.network import network_policies as monitoring_network_policies
from components.observability.opencost import RELEASE as OPENCOST_RELEASE
from components.observability.opencost import opencost_values
from components.observability.rules import platform_rules
from components.spark.teams import MONITORING_LABEL
from components.storage.bucket import hygiene_rules, noncurrent_versions_rule
from components.storage.protected_bucket import ProtectedBucket, ProtectedBucketArgs
from sparkeks import versions
from sparkeks.config.model import ObservabilityConfig
from sparkeks.netpol import ClusterNetwork


@dataclass(frozen=True)
class ObservabilityArgs:
    config: ObservabilityConfig
    teams: list[str]
    cluster_name: str
    region: str
    partition: str
    account_id: str
    provider: k8s.Provider
    grafana_admin_password: pulumi.Input[str]
    slack_webhook_url: pulumi.Input[str] | None = None
    protect: bool = False
    cluster_network: ClusterNetwork | None = None
    """With it, default-deny NetworkPolicies in the namespace: only Fluent Bit, Grafana, Prometheus and Loki
    itself reach Loki, and each component reaches only what it needs."""
    force_destroy_buckets: bool = False
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    opencost_cost_model: dict[str, str] | None = None
    """OpenCost's custom pricing from the price table; without it (an unpriced region) OpenCost is not installed."""


class Observability(pulumi.ComponentResource):
    monitoring_stack: k8s.helm.v3.Release
    """The release that brings the Prometheus operator's CRDs; monitors elsewhere wait for it."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:observability:Observability", name, None, opts)
        config = args.config
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        namespace = kubernetes_object(
            f"{name}-namespace",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": v.NAMESPACE, "labels": {MONITORING_LABEL: "true"}}},
            k8s_opts,
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])

        # Secrets come from Pulumi secret config into Kubernetes Secrets; the charts only name them.
        def secret(resource_name: str, secret_name: str, data: dict[str, pulumi.Input[str]]) -> pulumi.Resource:
            manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret_name, "namespace": v.NAMESPACE}}
            return kubernetes_object(resource_name, {**manifest, "type": "Opaque", "stringData": data}, in_ns)

        grafana_admin = secret(
            f"{name}-grafana-admin",
            v.GRAFANA_ADMIN_SECRET,
            {"admin-user": "admin", "admin-password": pulumi.Output.secret(args.grafana_admin_password)},
        )
        alertmanager_yaml = pulumi.Output.secret(
            pulumi.Output.from_input(args.slack_webhook_url).apply(
                lambda url: yaml.safe_dump(alertmanager_config(slack_channel=config.slack_channel, slack_webhook_url=url), sort_keys=False)
            )
        )
        alertmanager = secret(f"{name}-alertmanager-config", v.ALERTMANAGER_CONFIG_SECRET, {"alertmanager.yaml": alertmanager_yaml})

        self.monitoring_stack = k8s.helm.v3.Release(
            f"{name}-kube-prometheus-stack",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=versions.KUBE_PROMETHEUS_STACK_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.PROMETHEUS_COMMUNITY_REPO),
            namespace=v.NAMESPACE,
            values=v.kube_prometheus_stack_values(
                config.prometheus, rules=platform_rules(args.teams), tempo_url=config.tempo_url, teams=args.teams, delete_volumes=not args.protect
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace, grafana_admin, alertmanager]),
        )

        loki_depends: list[pulumi.Resource] = [namespace]
        bucket_name = None
        if config.loki.storage == "s3":
            bucket_name = f"{args.cluster_name}-loki-{args.account_id}"
            bucket = ProtectedBucket(
                f"{name}-loki",
                ProtectedBucketArgs(
                    bucket_name=bucket_name,
                    # Loki's compactor deletes by retention; versions of what it deleted go after a week.
                    lifecycle_rules=[noncurrent_versions_rule(7), *hygiene_rules()],
                    protect=args.protect,
                    force_destroy=args.force_destroy_buckets,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            identity = grant_pod_identity(
                f"{name}-loki",
                cluster_name=args.cluster_name,
                account_id=args.account_id,
                namespace=v.NAMESPACE,
                service_account=v.LOKI_SERVICE_ACCOUNT,
                policy_name=f"{name}-loki-bucket",
                policy=bucket.name.apply(lambda b: to_json(loki_bucket_policy(args.partition, b))),
                parent=self,
            )
            loki_depends.append(identity.association)
        loki = k8s.helm.v3.Release(
            f"{name}-loki",
            name="loki",
            chart="loki",
            version=versions.LOKI_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.GRAFANA_COMMUNITY_REPO),
            namespace=v.NAMESPACE,
            values=v.loki_values(config.loki, bucket=bucket_name, region=args.region, delete_volumes=not args.protect),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=loki_depends),
        )
        k8s.helm.v3.Release(
            f"{name}-fluent-bit",
            name="fluent-bit",
            chart="fluent-bit",
            version=versions.FLUENT_BIT_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.FLUENT_REPO),
            namespace=v.NAMESPACE,
            values=v.fluent_bit_values(args.teams),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[loki]),
        )

        after_crds = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.monitoring_stack])
        if args.opencost_cost_model is not None:
            k8s.helm.v3.Release(
                f"{name}-opencost",
                name=OPENCOST_RELEASE,
                chart="opencost",
                version=versions.OPENCOST_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.OPENCOST_REPO),
                namespace=v.NAMESPACE,
                values=opencost_values(cluster_name=args.cluster_name, cost_model=args.opencost_cost_model),
                opts=after_crds,
            )
        for manifest in spark_pod_monitors(v.NAMESPACE, args.teams):
            kubernetes_object(f"{name}-{manifest['metadata']['name']}", manifest, after_crds)
        for manifest in dashboard_config_maps(v.NAMESPACE):
            kubernetes_object(f"{name}-{manifest['metadata']['name']}", manifest, in_ns)
        if args.cluster_network is not None:
            policies = monitoring_network_policies(
                v.NAMESPACE, args.cluster_network, loki_on_s3=config.loki.storage == "s3", tempo_url=config.tempo_url
            )
            for manifest in policies:
                kubernetes_object(f"{name}-{manifest['metadata']['name']}", manifest, in_ns)

        self.register_outputs({"namespace": v.NAMESPACE, "grafana": f"kube-prometheus-stack-grafana.{v.NAMESPACE}:80"})
