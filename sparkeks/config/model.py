"""The typed stack configuration: every key a `stacks/Pulumi.<stack>.yaml` may set.

Keys live under the `spark-on-eks:` namespace (camelCase in YAML, snake_case here); the AWS region is
the provider's own `aws:region`. Field descriptions are the documentation: the README's reference table
is generated from them (`python -m sparkeks config-reference`).

Validation needs the region to check zones, so models are validated with
`context={"region": Region, "environment": str}` (see `loader.py`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

# model.py is the config package's front: the section models and shared helpers are re-exported here.
from sparkeks.config.base import (  # noqa: F401
    _CLUSTER_NAME,
    _RESERVED_TAG_PREFIXES,
    PROJECT,
    ConfigModel,
    _no_duplicates,
    duration_seconds,
    instance_architecture,
    memory_mib,
    parse_s3_uri,
    problem,
)
from sparkeks.config.cluster import ClusterConfig, SystemNodeGroupConfig, too_wide_for_prod  # noqa: F401
from sparkeks.config.collect import also_check, reads, validate_all
from sparkeks.config.cost import CostConfig
from sparkeks.config.dr import DisasterRecoveryConfig
from sparkeks.config.feasibility import effective_limits, largest_pods_fit_the_pool_limits, launchable
from sparkeks.config.karpenter import (  # noqa: F401
    DisruptionBudget,
    DriverPoolConfig,
    ExecutorPoolConfig,
    KarpenterConfig,
    NvmeExecutorPoolConfig,
    PlatformPoolConfig,
    PoolLimits,
    SparkPoolConfig,
    SparkPoolsConfig,
)
from sparkeks.config.network import NetworkConfig
from sparkeks.config.observability import LokiConfig, ObservabilityConfig, PrometheusConfig  # noqa: F401
from sparkeks.config.shuffle import celeborn_needs_the_service, celeborn_pool_in_spark_zones, celeborn_workers_fit_their_nodes
from sparkeks.config.spark import HistoryServerConfig, SparkPlatformConfig
from sparkeks.config.teams import POOL_KEYS, RESERVED_NAMESPACES, ContainerLimits, DataAccess, OrgConfig, Share, TeamConfig  # noqa: F401

# The characters AWS allows in tag keys and values (any letter or digit of any script, spaces, _.:/=+-@).
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")


class StackConfig(ConfigModel):
    """Everything under `spark-on-eks:` plus `aws:region`."""

    region: str = Field(description="AWS region (the provider's own `aws:region` key). Required.")
    allowed_account_ids: list[str] = Field(
        default_factory=list,
        description="The AWS provider's own `aws:allowedAccountIds`: deploy only into these accounts. With one account, tools know it offline (bucket names).",
    )
    environment: Literal["dev", "staging", "prod"] = Field(
        "dev", description="Environment class; `prod` turns on protection of stateful resources and stricter checks."
    )
    cluster_name: str | None = Field(
        None, description="EKS cluster name (lowercase, digits, hyphens; 2-32 chars). Default: `spark-<stack>`."
    )
    protect: bool | None = Field(
        None,
        description="Pulumi-protect and retain stateful resources (KMS key, log groups, later buckets). Default: true in prod.",
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every AWS resource (cost allocation).")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="VPC layout.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="EKS control plane and system nodes.")
    karpenter: KarpenterConfig = Field(default_factory=KarpenterConfig, description="Karpenter and the Spark node pools.")
    spark: SparkPlatformConfig = Field(default_factory=SparkPlatformConfig, description="Spark Operator and Spark defaults.")
    history_server: HistoryServerConfig = Field(default_factory=HistoryServerConfig, description="Spark History Server.")
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig, description="Monitoring and logging.")
    cost: CostConfig = Field(default_factory=CostConfig, description="Cost estimate and OpenCost assumptions.")
    grafana_admin_password: SecretStr | None = Field(
        None,
        json_schema_extra={"secret": True, "documented_default": "none: required with observability"},
        description="Grafana admin password. Secret: `pulumi config set --secret spark-on-eks:grafanaAdminPassword`.",
    )
    alertmanager_slack_webhook_url: SecretStr | None = Field(
        None,
        json_schema_extra={"secret": True, "documented_default": "none"},
        description="Slack incoming-webhook URL for alerts. Secret: `pulumi config set --secret ...`.",
    )
    history_server_client_secret: SecretStr | None = Field(
        None,
        json_schema_extra={"secret": True, "documented_default": "none: required with historyServer.access"},
        description="OIDC client secret of the History Servers' login. Secret: `pulumi config set --secret spark-on-eks:historyServerClientSecret`.",
    )
    history_server_cookie_secret: SecretStr | None = Field(
        None,
        json_schema_extra={"secret": True, "documented_default": "none: required with historyServer.access"},
        description="Key the login cookies are derived from (at least 32 random characters, e.g. `openssl rand -base64 32`). Secret: `pulumi config set --secret ...`.",
    )
    dr: DisasterRecoveryConfig | None = Field(
        None,
        json_schema_extra={"documented_default": "none (not a DR stack)"},
        description="Makes this stack the DR copy of another: replication from the primary, standby capacity. Written by `sparkeks dr init`.",
    )
    orgs: list[OrgConfig] = Field(
        default_factory=list,
        description="Organisations, like YARN parent queues (`root.<org>`): `name`, `guaranteed` and `max` ({cpu, memory}; max defaults to the stack's Spark capacity). Their teams share their unused capacity first.",
    )
    teams: list[TeamConfig] = Field(
        default_factory=list,
        description="Teams: the replacement for YARN queues. Each gets a namespace, identity, an elastic queue (guaranteed, max), quota and limits.",
    )

    @field_validator("allowed_account_ids")
    @classmethod
    def _account_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^\d{12}$", value):
                raise problem("must list 12-digit AWS account ids (quoted)")
        return _no_duplicates(values)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER_NAME.match(value):
            raise problem("must be 2-32 characters: lowercase letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        if len(tags) > 30:
            raise problem("at most 30 tags (AWS allows 50 per resource; the platform adds its own)")
        for key, value in tags.items():
            if key.lower().startswith(_RESERVED_TAG_PREFIXES) or not 1 <= len(key) <= 128 or not 1 <= len(value) <= 256:
                raise problem(
                    f"tag {key!r}: keys are 1-128 characters and may not start with {', '.join(_RESERVED_TAG_PREFIXES)}; "
                    "values are 1-256 characters"
                )
            if not _TAG_TEXT.match(key) or not _TAG_TEXT.match(value):
                raise problem(f"tag {key!r}: keys and values may use letters, digits, spaces and _ . : / = + - @ only")
        return tags

    @field_validator("teams", mode="wrap")
    @classmethod
    def _unique_team_names(cls, value: Any, handler: Any) -> list[TeamConfig]:
        # Read from the raw list, so a team declared twice is reported together with the teams' own problems.
        names = [t.get("name") for t in value if isinstance(t, dict)] if isinstance(value, list) else []
        shown = [n for n in names if isinstance(n, str)]
        twice = sorted({n for n in shown if shown.count(n) > 1})
        problems = [problem(f"team {name!r} is declared twice", key="", value=shown) for name in twice]
        return also_check(value, handler, problems, "teams")

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Any) -> StackConfig:
        return validate_all("StackConfig", data, handler, CROSS_CHECKS)

    @property
    def spark_zones(self) -> list[str]:
        return list(self.network.spark_zones or self.network.zones)

    @property
    def capacity_scale(self) -> float:
        return self.dr.capacity_scale if self.dr else 1.0

    def pool_zones(self, pool: SparkPoolConfig) -> list[str]:
        return list(pool.zones or self.spark_zones)

    @property
    def platform_zones(self) -> list[str]:
        return list(self.karpenter.platform.zones or self.network.zones)

    def resolved_cluster_name(self, stack: str) -> str:
        return self.cluster_name or f"spark-{stack}"

    def resolved_bucket_name(self, stack: str, account_id: str) -> str:
        return self.spark.bucket_name or f"{self.resolved_cluster_name(stack)}-spark-{account_id}"

    @property
    def known_account_id(self) -> str | None:
        """The account this stack deploys to, when config pins exactly one."""
        return self.allowed_account_ids[0] if len(self.allowed_account_ids) == 1 else None

    @property
    def protect_state(self) -> bool:
        return self.environment == "prod" if self.protect is None else self.protect

    @property
    def history_server_access(self) -> bool:
        """People reach History Servers through the OIDC login: on in prod unless a stack says otherwise."""
        access = self.history_server.access.enabled
        # Servers run only for teams: without teams there is nothing to log in to.
        return bool(self.teams) and self.history_server.enabled and (self.environment == "prod" if access is None else access)

    @property
    def network_policies(self) -> bool:
        """NetworkPolicies are on in prod unless a stack says otherwise."""
        return self.environment == "prod" if self.spark.network_policies is None else self.spark.network_policies


# Checks across sections. Each names the top-level keys it reads: when one of them is invalid itself the
# check is skipped, and every other problem of the file is still reported in the same run.


@reads("network", "cluster")
def _service_cidr_outside_the_vpc(config: StackConfig) -> Iterator[PydanticCustomError]:
    vpc = ipaddress.IPv4Network(config.network.cidr)
    service = ipaddress.IPv4Network(config.cluster.service_cidr)
    if vpc.overlaps(service):
        # The two ranges EKS itself picks from, whichever is free.
        free = next(c for c in ("172.20.0.0/16", "10.100.0.0/16") if not vpc.overlaps(ipaddress.IPv4Network(c)))
        yield problem(
            f"overlaps the VPC CIDR {config.network.cidr}; pick a range outside it, e.g. {free}",
            key="cluster.serviceCidr",
            value=config.cluster.service_cidr,
        )


@reads("environment", "cluster", "karpenter", "spark")
def _prod_rules(config: StackConfig) -> Iterator[PydanticCustomError]:
    if config.environment != "prod":
        return
    too_wide = too_wide_for_prod(config.cluster.public_access_cidrs)
    if too_wide:
        yield problem(
            f"{too_wide}; list your VPN or office CIDRs",
            key="cluster.publicAccessCidrs",
            value=list(config.cluster.public_access_cidrs),
        )
    if config.karpenter.ami_alias.endswith("@latest"):
        yield problem(
            "prod pins the AMI release (al2023@v<YYYYMMDD>) so nodes change only by a reviewed commit",
            key="karpenter.amiAlias",
            value=config.karpenter.ami_alias,
        )
    if config.spark.force_destroy_buckets:
        yield problem("prod never lets `pulumi destroy` delete bucket contents", key="spark.forceDestroyBuckets", value=True)


@reads("teams", "orgs", "spark", "karpenter", "dr")
def _team_queues_sound(config: StackConfig) -> Iterator[PydanticCustomError]:
    from sparkeks.teams.queues import queue_problems

    for found in queue_problems(config):
        yield problem(found.reason, key=found.key, value=found.value)


@reads("karpenter", "network")
def _pools_in_spark_zones(config: StackConfig) -> Iterator[PydanticCustomError]:
    spark_zones = config.spark_zones
    for name in POOL_KEYS:
        pool = config.karpenter.pools.pool(name)
        outside = [z for z in pool.zones if z not in spark_zones]
        if outside:
            yield problem(
                f"{', '.join(outside)} not among network.sparkZones ({', '.join(spark_zones)})",
                key=f"karpenter.pools.{name}.zones",
                value=list(pool.zones),
            )


@reads("karpenter", "network")
def _platform_pool_in_the_network(config: StackConfig) -> Iterator[PydanticCustomError]:
    platform_outside = [z for z in config.karpenter.platform.zones if z not in config.network.zones]
    if platform_outside:
        yield problem(
            f"{', '.join(platform_outside)} not among network.zones ({', '.join(config.network.zones)})",
            key="karpenter.platform.zones",
            value=list(config.karpenter.platform.zones),
        )


@reads("historyServer", "teams")
def _history_servers_fit_their_quota(config: StackConfig) -> Iterator[PydanticCustomError]:
    history = config.history_server
    if history.enabled and not history.on_demand and len(config.teams) * history.replicas > history.max_running:
        yield problem(
            f"{len(config.teams)} teams x {history.replicas} replicas always on need {len(config.teams) * history.replicas} History Server pods;"
            " raise historyServer.maxRunning or keep historyServer.onDemand",
            key="historyServer.maxRunning",
            value=history.max_running,
        )


@reads("observability", "grafanaAdminPassword", "alertmanagerSlackWebhookUrl")
def _observability_secrets(config: StackConfig) -> Iterator[PydanticCustomError]:
    observability = config.observability
    if observability.enabled and config.grafana_admin_password is None:
        yield problem(
            "is required with observability: set it with `pulumi config set --secret spark-on-eks:grafanaAdminPassword`",
            key="grafanaAdminPassword",
            value=None,
        )
    if (observability.slack_channel is None) != (config.alertmanager_slack_webhook_url is None):
        yield problem(
            "Slack alerts need both observability.slackChannel and the secret alertmanagerSlackWebhookUrl",
            key="observability.slackChannel",
            value=observability.slack_channel,
        )


@reads("historyServer", "teams", "historyServerClientSecret", "historyServerCookieSecret")
def _history_server_access(config: StackConfig) -> Iterator[PydanticCustomError]:
    if not config.history_server_access:
        return
    access = config.history_server.access
    for key, value in (("issuerUrl", access.issuer_url), ("clientId", access.client_id)):
        if value is None:
            yield problem("is required with historyServer.access (the OIDC login of the History Servers)", key=f"historyServer.access.{key}", value=None)
    for key, value in (("historyServerClientSecret", config.history_server_client_secret), ("historyServerCookieSecret", config.history_server_cookie_secret)):
        if value is None:
            yield problem(f"is required with historyServer.access: set it with `pulumi config set --secret spark-on-eks:{key}`", key=key, value=None)
    if config.history_server.internal_load_balancer:
        yield problem(
            "serves plain HTTP, where browsers drop the login's Secure cookie; reach the servers with kubectl port-forward, or turn historyServer.access off",
            key="historyServer.internalLoadBalancer",
            value=True,
        )


@reads("cluster")
def _arns_in_the_regions_partition(config: StackConfig) -> Iterator[PydanticCustomError]:
    from sparkeks.regions import REGIONS

    partition = REGIONS[config.region].partition if config.region in REGIONS else "aws"
    for arn in config.cluster.admin_principals:
        theirs = arn.split(":")[1]
        if theirs != partition:
            yield problem(
                f"{arn} is in partition {theirs}, but {config.region} is in {partition}; use arn:{partition}:iam::...",
                key="cluster.adminPrincipals",
                value=list(config.cluster.admin_principals),
            )


@reads("karpenter", "dr", "observability")
def _pools_hold_a_node(config: StackConfig) -> Iterator[PydanticCustomError]:
    """Karpenter launches no node that would take a NodePool past its limits: a pool capped below its
    smallest instance type never runs a pod."""
    from sparkeks.config.sizes import mib_text
    from sparkeks.spark.sizing import Node

    scale = config.capacity_scale
    for key in POOL_KEYS:
        pool = config.karpenter.pools.pool(key)
        nodes = [Node.of(t, observability=config.observability.enabled) for t in pool.instance_types()]
        if not nodes:
            continue
        smallest = min(nodes, key=lambda n: (n.vcpus, n.memory_mib))
        cpu, memory = effective_limits(pool.limits, scale)
        if not launchable(smallest, cpu, memory):
            scaled = f" x dr.capacityScale {scale:g}" if scale != 1.0 else ""
            yield problem(
                f"no node fits{scaled}: the smallest instance type of the pool ({smallest.instance_type}) has {smallest.vcpus} vCPUs "
                f"and {mib_text(smallest.memory_mib)}; raise the limits or allow smaller sizes",
                key=f"karpenter.pools.{key}.limits",
                value=pool.limits.model_dump(),
            )


CROSS_CHECKS = [
    _service_cidr_outside_the_vpc,
    _prod_rules,
    _team_queues_sound,
    _pools_in_spark_zones,
    _platform_pool_in_the_network,
    _history_servers_fit_their_quota,
    _arns_in_the_regions_partition,
    _pools_hold_a_node,
    largest_pods_fit_the_pool_limits,
    _observability_secrets,
    celeborn_needs_the_service,
    celeborn_pool_in_spark_zones,
    celeborn_workers_fit_their_nodes,
    _history_server_access,
]
