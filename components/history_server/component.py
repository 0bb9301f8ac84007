"""HistoryServer: Spark History Servers with Dataflint, reading event logs from S3 with a read-only identity."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from components.history_server import manifests
from components.history_server.iam import history_read_policy
from components.history_server.login import Login, cookie_secret, login_pod_monitor, login_secret, login_settings, proxy_container
from components.history_server.network import network_policies as history_network_policies
from components.iam import to_json
from components.identity import grant_pod_identity
from components.kube import kubernetes_object
from sparkeks import images, versions
from sparkeks.config.model import HistoryServerConfig, StackConfig
from sparkeks.netpol import ClusterNetwork


@dataclass(frozen=True)
class HistoryServerArgs:
    teams: list[str]
    config: HistoryServerConfig
    bucket_name: pulumi.Input[str]
    region: str
    partition: str
    cluster_name: str
    account_id: str
    event_log_retention_days: int
    provider: k8s.Provider
    cluster_network: ClusterNetwork | None = None
    """With it, NetworkPolicies: a server admits only its own team's namespace and the monitoring scraper."""
    login: Login | None = None
    """The OIDC login in front of each server (login.py); without it the servers are open to whoever reaches them."""
    team_groups: dict[str, str] = field(default_factory=dict)
    """Team -> the identity provider's group its server lets in (with `login`)."""
    client_secret: pulumi.Input[str] | None = None
    cookie_secret: pulumi.Input[str] | None = None
    """Pulumi secrets (with `login`): the OIDC client secret, and the key each team's cookie key is derived from."""
    monitoring: list[pulumi.Resource] = field(default_factory=list)
    """The monitoring stack (its CRDs): with it, Prometheus scrapes the logins' metrics."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def history_login(config: StackConfig, private_registry: str | None) -> Login | None:
    """The login the stack asks for (`historyServer.access`), or None when it is off."""
    if not config.history_server_access:
        return None
    access = config.history_server.access
    assert access.issuer_url and access.client_id  # the config check requires both
    return login_settings(
        issuer_url=access.issuer_url,
        client_id=access.client_id,
        groups_claim=access.groups_claim,
        scopes=access.scopes,
        private_registry=private_registry,
    )


def secret_value(value: SecretStr | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.secret(value.get_secret_value())


class HistoryServer(pulumi.ComponentResource):
    role_arns: dict[str, pulumi.Output[str]]
    services: dict[str, str]

    def __init__(self, name: str, args: HistoryServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:history:HistoryServer", name, None, opts)
        config = args.config

        # One identity per team: a server reads its own team's event logs and nothing else.
        readers = {
            team: grant_pod_identity(
                f"{name}-{team}-reader",
                cluster_name=args.cluster_name,
                account_id=args.account_id,
                namespace=manifests.NAMESPACE,
                service_account=manifests.server_name(team),
                policy_name=f"{name}-{team}-read-event-logs",
                policy=pulumi.Output.from_input(args.bucket_name).apply(
                    lambda b, team=team: to_json(history_read_policy(args.partition, b, team))
                ),
                parent=self,
            )
            for team in args.teams
        }
        self.role_arns = {team: reader.role.arn for team, reader in readers.items()}

        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)
        ns = kubernetes_object(f"{name}-namespace", manifests.namespace(), k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns])
        for team in args.teams:
            kubernetes_object(f"{name}-{team}-service-account", manifests.service_account(team), in_ns)
        if args.cluster_network is not None:
            policies = history_network_policies(
                args.teams,
                args.cluster_network,
                login=args.login is not None,
                load_balancer=config.internal_load_balancer,
                issuer_cidrs=tuple(config.access.issuer_cidrs),
            )
            for manifest in policies:
                kubernetes_object(f"{name}-{manifest['metadata']['name']}", manifest, in_ns)
        quota = manifests.resource_quota(max_running=config.max_running, heap=config.heap, cpu=config.cpu, login=args.login is not None)
        kubernetes_object(f"{name}-quota", quota, in_ns)
        if args.login is None:
            pulumi.log.warn(
                "History Servers have no login (historyServer.access is off): every pod in a team's namespace and everyone "
                "who may port-forward to a server reads its applications' SQL, plans and configs",
                self,
            )
        else:
            for team in args.teams:
                # Each team's cookie key is derived from the stack's secret: never in plain text, never shared.
                team_cookie = pulumi.Output.secret(pulumi.Output.from_input(args.cookie_secret).apply(lambda m, team=team: cookie_secret(m, team)))
                secret = login_secret(
                    team,
                    namespace=manifests.NAMESPACE,
                    client_secret=pulumi.Output.secret(args.client_secret),
                    cookie_secret_value=team_cookie,
                    labels=manifests.labels(team),
                )
                kubernetes_object(f"{name}-{team}-login", secret, in_ns)
            if args.monitoring:
                after_crds = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[ns, *args.monitoring])
                kubernetes_object(f"{name}-login-metrics", login_pod_monitor(manifests.NAMESPACE), after_crds)

        runtime = versions.SPARK_RUNTIMES[config.spark_line]
        # The line's platform image (Spark, S3A and Dataflint baked in) by digest: nothing to download at start.
        image = images.platform_image(config.spark_line, account_id=args.account_id, region=args.region, cluster_name=args.cluster_name)
        self.services = {}
        if image is None:
            # First deploy: the registry this stack creates must exist before the images workflow can push.
            pulumi.log.warn(
                f"History Servers wait for the Spark {config.spark_line} platform image: images/pins.json has no digest for it yet; "
                "run the images workflow (.github/workflows/images.yml), merge its pins pull request and deploy again",
                self,
            )
            self.register_outputs({"roleArns": self.role_arns, "services": self.services})
            return
        # Servers start only once their identity exists, or the first S3 scan fails.
        # On demand, a team's own `kubectl scale` decides how many pods run; `pulumi up` leaves it alone.
        for team in args.teams:
            servers = pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[ns, readers[team].association],
                ignore_changes=["spec.replicas"] if config.on_demand else None,
            )
            properties = pulumi.Output.from_input(args.bucket_name).apply(
                lambda bucket, team=team: manifests.server_properties(
                    bucket=bucket,
                    team=team,
                    region=args.region,
                    runtime=runtime,
                    update_interval=config.update_interval,
                    retained_applications=config.retained_applications,
                    event_log_retention_days=args.event_log_retention_days,
                    store_size_gib=config.store_size_gib,
                    dataflint_telemetry=config.dataflint_telemetry,
                    ui_port=manifests.SPARK_LOOPBACK_PORT if args.login else manifests.PORT,
                )
            )
            login = proxy_container(team, args.team_groups[team], args.login) if args.login else None
            deployment = properties.apply(
                lambda props, team=team, login=login: manifests.deployment(
                    team=team,
                    image=image,
                    properties=props,
                    replicas=0 if config.on_demand else config.replicas,
                    heap=config.heap,
                    cpu=config.cpu,
                    store_size_gib=config.store_size_gib,
                    login=login,
                )
            )
            kubernetes_object(
                f"{name}-{team}",
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": deployment["metadata"],
                    "spec": deployment["spec"],
                },
                servers,
            )
            kubernetes_object(f"{name}-{team}", manifests.service(team, internal_load_balancer=config.internal_load_balancer), in_ns)
            kubernetes_object(f"{name}-{team}", manifests.disruption_budget(team), in_ns)
            if config.on_demand:
                kubernetes_object(f"{name}-{team}-start-stop", manifests.start_stop_role(team), in_ns)
                kubernetes_object(f"{name}-{team}-start-stop", manifests.start_stop_binding(team), in_ns)
            self.services[team] = f"{manifests.APP_NAME}-{team}.{manifests.NAMESPACE}:{manifests.PORT}"

        self.register_outputs({"roleArns": self.role_arns, "services": self.services})
