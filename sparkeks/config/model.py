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
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel, to_snake
from pydantic_core import PydanticCustomError

from sparkeks import versions
from sparkeks.instances import FAMILIES, SIZE_VCPUS
from sparkeks.regions import Region
from sparkeks.spark.defaults import EXECUTOR_IDLE_TIMEOUT_SECONDS

PROJECT = "spark-on-eks"

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REQUIRED_CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")

# Interface endpoints a private cluster may need; the S3 gateway endpoint is always created.
INTERFACE_ENDPOINT_SERVICES = (
    "autoscaling",
    "ec2",
    "ecr.api",
    "ecr.dkr",
    "eks",
    "eks-auth",
    "elasticloadbalancing",
    "kms",
    "logs",
    "sqs",
    "ssm",
    "sts",
)
# Without NAT, nodes still have to pull images (ECR), let the VPC CNI manage ENIs (EC2), and
# exchange Pod Identity and IRSA tokens (EKS Auth, STS).
# Karpenter adds SSM (AMI alias lookup) and SQS (interruption queue).
ENDPOINTS_NEEDED_WITHOUT_NAT = ("ec2", "ecr.api", "ecr.dkr", "eks-auth", "sqs", "ssm", "sts")

_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.(?P<size>[a-z0-9]+)$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
# Prefixes AWS, EKS and Karpenter reserve for the tags they set on nodes themselves.
_RESERVED_TAG_PREFIXES = ("aws:", "eks:", "kubernetes.io/", "karpenter.sh/", "karpenter.k8s.aws/")
_K8S_MINOR = re.compile(r"^1\.\d{2}$")


def problem(reason: str, *, key: str | None = None, value: Any = None) -> PydanticCustomError:
    """A validation error that names the exact key below the model that raised it."""
    ctx: dict[str, Any] = {"reason": reason}
    if key is not None:
        ctx["key"] = key
        ctx["value"] = value
    return PydanticCustomError("stack_config", "{reason}", ctx)


def _ipv4_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise problem("must be an IPv4 CIDR with its host bits zero, like 10.0.0.0/16") from None
    return value


def _iam_principal(value: str) -> str:
    if ":sts::" in value and "assumed-role" in value:
        raise problem("is an STS session ARN; use the IAM role's ARN (arn:aws:iam::<account>:role/<name>)")
    if not _IAM_PRINCIPAL.match(value):
        raise problem("must be an IAM role or user ARN, like arn:aws:iam::123456789012:role/platform-admin")
    return value


def instance_architecture(instance_type: str) -> str:
    """arm64 for Graviton types (a `g` after the generation digit: m7g, c7gn, r8gd), else amd64."""
    match = _INSTANCE_TYPE.match(instance_type)
    if match is None:
        raise ValueError(instance_type)
    return "arm64" if "g" in match["attributes"] else "amd64"


def _instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise problem("must be an EC2 instance type like m7i.large (family, generation, attributes, size)")
    return value


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
IamPrincipal = Annotated[str, AfterValidator(_iam_principal)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]


def _no_duplicates(values: list[Any]) -> list[Any]:
    seen = set()
    for value in values:
        if value in seen:
            raise problem(f"lists {value!r} twice; each entry must be unique")
        seen.add(value)
    return values


class ConfigModel(BaseModel):
    """Strict, closed models: unknown keys (typos) and wrongly typed values are errors."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
    )


class NetworkConfig(ConfigModel):
    cidr: Cidr = Field("10.0.0.0/16", description="VPC IPv4 CIDR (a private range, /16 to /22).")
    zones: list[str] = Field(
        default_factory=list,
        json_schema_extra={"documented_default": "first three zones of `aws:region`"},
        description="Availability zones the VPC spans (at least 2, EKS needs 2).",
    )
    spark_zones: list[str] = Field(
        default_factory=list,
        json_schema_extra={"documented_default": "all of `zones`"},
        description="Zones that run Spark capacity (Karpenter pools); a subset of `zones`. A DR stack uses zones disjoint from its primary's.",
    )
    nat_strategy: Literal["perZone", "single", "none"] = Field(
        "perZone",
        description="NAT gateways: `perZone` (one per zone, zone-independent egress), `single` (cheapest, one zone), `none` (private cluster: needs interface endpoints).",
    )
    private_subnet_prefix: int = Field(
        19, ge=16, le=24, description="Prefix length of each zone's private (node and pod) subnet; /19 gives 8,187 pod IPs per zone."
    )
    public_subnet_prefix: int = Field(
        24, ge=20, le=28, description="Prefix length of each zone's public subnet (load balancers and NAT gateways only)."
    )
    interface_endpoints: list[Literal[INTERFACE_ENDPOINT_SERVICES]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Interface VPC endpoints in the private subnets, e.g. `[ecr.api, ecr.dkr, sts, ec2, eks-auth]`. The S3 gateway endpoint is always there.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_zones(cls, data: Any, info: ValidationInfo) -> Any:
        region: Region | None = (info.context or {}).get("region")
        if isinstance(data, dict) and "zones" not in data and region is not None:
            return {**data, "zones": list(region.zones[:3])}
        return data

    @field_validator("zones")
    @classmethod
    def _zones_in_region(cls, zones: list[str], info: ValidationInfo) -> list[str]:
        region: Region | None = (info.context or {}).get("region")
        if region is None and not zones:
            return zones  # the region itself is reported as the problem
        _no_duplicates(zones)
        if len(zones) < 2:
            raise problem("needs at least 2 zones: EKS requires subnets in two availability zones (3 recommended)")
        if region is not None:
            unknown = [z for z in zones if z not in region.zones]
            if unknown:
                raise problem(f"{', '.join(unknown)} not in {region.name}; zones there: {', '.join(region.zones)}")
        return zones

    @field_validator("spark_zones")
    @classmethod
    def _unique_spark_zones(cls, zones: list[str]) -> list[str]:
        return _no_duplicates(zones)

    @field_validator("interface_endpoints")
    @classmethod
    def _unique_endpoints(cls, endpoints: list[str]) -> list[str]:
        return _no_duplicates(endpoints)

    @model_validator(mode="after")
    def _fits(self) -> NetworkConfig:
        from components.network.layout import SubnetLayoutError, plan_subnets

        vpc = ipaddress.IPv4Network(self.cidr)
        if not any(vpc.subnet_of(r) for r in _PRIVATE_RANGES):
            raise problem(
                "must be in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10)",
                key="cidr",
                value=self.cidr,
            )
        if not 16 <= vpc.prefixlen <= 22:
            raise problem("prefix length must be between /16 and /22", key="cidr", value=self.cidr)
        try:
            plan_subnets(self.cidr, self.zones, self.private_subnet_prefix, self.public_subnet_prefix)
        except SubnetLayoutError as err:
            raise problem(str(err), key="cidr", value=self.cidr) from None
        outside = [z for z in self.spark_zones if z not in self.zones]
        if outside:
            raise problem(
                f"{', '.join(outside)} not among the stack's zones ({', '.join(self.zones)})", key="sparkZones", value=list(self.spark_zones)
            )
        if self.nat_strategy == "none":
            missing = [s for s in ENDPOINTS_NEEDED_WITHOUT_NAT if s not in self.interface_endpoints]
            if missing:
                raise problem(
                    f"without NAT the nodes need interface endpoints for {', '.join(missing)}; add them or choose perZone/single",
                    key="interfaceEndpoints",
                    value=list(self.interface_endpoints),
                )
        return self


class SystemNodeGroupConfig(ConfigModel):
    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["m7i.large", "m6i.large", "m7a.large"],
        min_length=1,
        max_length=20,
        description="On-demand instance types of the system node group (one CPU architecture).",
    )
    min_size: int = Field(2, ge=0, le=100, description="Fewest system nodes.")
    desired_size: int = Field(3, ge=0, le=100, description="System nodes at creation (later changes by autoscaling are kept).")
    max_size: int = Field(6, ge=1, le=100, description="Most system nodes.")
    disk_size_gib: int = Field(50, ge=20, le=16384, description="Encrypted gp3 root volume per system node, GiB.")

    @field_validator("instance_types")
    @classmethod
    def _one_architecture(cls, types: list[str]) -> list[str]:
        _no_duplicates(types)
        arches = {instance_architecture(t) for t in types}
        if len(arches) > 1:
            raise problem("mixes arm64 (Graviton) and amd64 types; a managed node group runs one architecture")
        return types

    @model_validator(mode="after")
    def _sizes(self) -> SystemNodeGroupConfig:
        if self.min_size > self.max_size:
            raise problem(f"minSize {self.min_size} is larger than maxSize {self.max_size}", key="minSize", value=self.min_size)
        if not self.min_size <= self.desired_size <= self.max_size:
            raise problem(
                f"must be between minSize {self.min_size} and maxSize {self.max_size}", key="desiredSize", value=self.desired_size
            )
        return self

    @property
    def architecture(self) -> str:
        return instance_architecture(self.instance_types[0])


_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")
_QUANTITY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)$")
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_CRON = re.compile(r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|\S+\s\S+\s\S+\s\S+\s\S+)$")


def duration_seconds(value: str) -> int:
    """`1h30m` -> 5400 (the Kubernetes duration subset Karpenter accepts)."""
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)([smh])", value))


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise problem("must be a duration like 90s, 10m or 1h30m")
    return value


def _duration_or_never(value: str) -> str:
    return value if value == "Never" else _duration(value)


def _memory_quantity(value: str) -> str:
    match = _QUANTITY.match(value)
    if not match or int(match[1]) <= 0:
        raise problem("must be a positive memory quantity like 4000Gi (Ki, Mi, Gi or Ti)")
    return value


Duration = Annotated[str, AfterValidator(_duration)]
DurationOrNever = Annotated[str, AfterValidator(_duration_or_never)]
MemoryQuantity = Annotated[str, AfterValidator(_memory_quantity)]


class PoolLimits(ConfigModel):
    cpu: int = Field(gt=0, description="Most vCPUs all nodes of the pool may add up to.")
    memory: MemoryQuantity = Field(description="Most memory all nodes of the pool may add up to, e.g. 8000Gi.")


class DisruptionBudget(ConfigModel):
    nodes: str = Field(description="Nodes that may be disrupted at once: a count (`0` blocks) or a percentage (`10%`).")
    schedule: str | None = Field(None, description="Cron schedule (UTC) when this budget applies; needs `duration`.")
    duration: Duration | None = Field(None, description="How long the budget applies after each `schedule` start.")
    reasons: list[Literal["Empty", "Drifted", "Underutilized"]] | None = Field(
        None, description="Disruption reasons this budget limits (all when left out)."
    )

    @field_validator("nodes", mode="before")
    @classmethod
    def _count_as_string(cls, value: Any) -> Any:
        # YAML reads `nodes: 0` as a number; Karpenter wants the string.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("nodes")
    @classmethod
    def _nodes(cls, value: str) -> str:
        if not _BUDGET_NODES.match(value):
            raise problem("must be a node count like 0 or 5, or a percentage like 10%")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and not _CRON.match(value):
            raise problem("must be a cron expression with five fields (\"0 1 * * *\") or a macro like @daily")
        return value

    @model_validator(mode="after")
    def _schedule_needs_duration(self) -> DisruptionBudget:
        if (self.schedule is None) != (self.duration is None):
            raise problem("schedule and duration go together: set both or neither", key="schedule", value=self.schedule)
        return self


class SparkPoolConfig(ConfigModel):
    """One Spark capacity pool; renders one Karpenter NodePool per architecture x capacity type."""

    architectures: list[Literal["amd64", "arm64"]] = Field(
        default_factory=lambda: ["amd64"],
        min_length=1,
        description="CPU architectures, most preferred first (e.g. `[arm64, amd64]` prefers Graviton through NodePool weights).",
    )
    capacity_types: list[str] = Field(
        default_factory=lambda: ["spot", "on-demand"],
        min_length=1,
        description="EC2 capacity types, most preferred first (`spot`, `on-demand`); each gets its own weighted NodePool.",
    )
    instance_families: list[str] = Field(min_length=1, description="EC2 instance families the pool may launch.")
    instance_cpus: list[int] = Field(min_length=1, description="Instance sizes by vCPU count, e.g. `[8, 16, 32]`.")
    limits: PoolLimits = Field(description="Capacity cap of each NodePool of this pool: the replacement for a YARN cluster's fixed size. Required.")
    zones: list[str] = Field(
        default_factory=list,
        json_schema_extra={"documented_default": "`network.sparkZones`"},
        description="Zones this pool may use; a subset of `network.sparkZones`.",
    )
    consolidate_after: Duration = Field("5m", description="How long a node stays empty or underused before Karpenter removes it.")
    expire_after: DurationOrNever = Field("720h", description="Node lifetime before replacement (picks up new AMIs), or `Never`.")
    budgets: list[DisruptionBudget] = Field(
        default_factory=lambda: [DisruptionBudget(nodes="10%")],
        description="Karpenter disruption budgets, e.g. `[{nodes: \"0\", schedule: \"0 1 * * *\", duration: 6h}]` for a batch window.",
    )
    needs_local_nvme: ClassVar[bool] = False

    @field_validator("architectures", "instance_families", "instance_cpus", "zones")
    @classmethod
    def _unique(cls, values: list[Any]) -> list[Any]:
        return _no_duplicates(values)

    @field_validator("capacity_types")
    @classmethod
    def _capacity_types(cls, values: list[str]) -> list[str]:
        _no_duplicates(values)
        unknown = [v for v in values if v not in ("spot", "on-demand")]
        if unknown:
            raise problem(f"unknown capacity type {', '.join(unknown)}; allowed: spot, on-demand")
        return values

    @field_validator("instance_cpus")
    @classmethod
    def _cpus(cls, values: list[int]) -> list[int]:
        bad = [v for v in values if v not in SIZE_VCPUS.values()]
        if bad:
            raise problem(f"no instance size has {bad[0]} vCPUs; sizes: {', '.join(map(str, SIZE_VCPUS.values()))}")
        return values

    @model_validator(mode="after")
    def _families_fit(self) -> SparkPoolConfig:
        for family in self.instance_families:
            known = FAMILIES.get(family)
            if known is None:
                raise problem(
                    f"unknown instance family {family!r}; known: {', '.join(sorted(FAMILIES))}",
                    key="instanceFamilies",
                    value=list(self.instance_families),
                )
            if known.architecture not in self.architectures:
                kind = "arm64 (Graviton)" if known.architecture == "arm64" else "amd64"
                raise problem(
                    f"{family} is {kind}, not in this pool's architectures ({', '.join(self.architectures)})",
                    key="instanceFamilies",
                    value=list(self.instance_families),
                )
            if self.needs_local_nvme and not known.local_nvme:
                raise problem(
                    f"{family} has no local NVMe instance store; the NVMe pool needs families like c6id, m6id, r6id, i4i",
                    key="instanceFamilies",
                    value=list(self.instance_families),
                )
        for arch in self.architectures:
            if not any(FAMILIES[f].architecture == arch for f in self.instance_families):
                raise problem(f"no instance family for {arch}", key="instanceFamilies", value=list(self.instance_families))
        if not self.instance_types():
            raise problem("no instance type of these families has these vCPU counts", key="instanceCpus", value=list(self.instance_cpus))
        return self

    def instance_types(self, architecture: str | None = None) -> list[str]:
        return [
            t
            for f in self.instance_families
            if architecture is None or FAMILIES[f].architecture == architecture
            for t in FAMILIES[f].instance_types(self.instance_cpus)
        ]


class DriverPoolConfig(SparkPoolConfig):
    capacity_types: list[str] = Field(
        default_factory=lambda: ["on-demand"], min_length=1, description="Always `[on-demand]`: a reclaimed driver fails its whole application."
    )
    instance_families: list[str] = Field(default_factory=lambda: ["m7i", "m6i", "m7a", "m6a"], min_length=1, description="Instance families for drivers.")
    instance_cpus: list[int] = Field(default_factory=lambda: [4, 8, 16], min_length=1, description="Driver node sizes by vCPU count.")
    limits: PoolLimits = Field(
        default_factory=lambda: PoolLimits(cpu=256, memory="1024Gi"), description="Capacity cap of the driver pool. Required when the pool is set."
    )
    expire_after: DurationOrNever = Field("Never", description="Driver nodes are not expired under running drivers (`Never`), or a duration.")

    @field_validator("capacity_types")
    @classmethod
    def _on_demand_only(cls, values: list[str]) -> list[str]:
        if values != ["on-demand"]:
            raise problem("drivers run on on-demand only: a reclaimed driver fails its whole application")
        return values


def _executor_families() -> list[str]:
    return ["m7i", "m6i", "m7a", "m6a", "c7i", "c6i", "c7a", "c6a", "r7i", "r6i", "r7a", "r6a"]


class ExecutorPoolConfig(SparkPoolConfig):
    instance_families: list[str] = Field(
        default_factory=_executor_families, min_length=1, description="Instance families for executors; diverse, so spot capacity is found."
    )
    instance_cpus: list[int] = Field(default_factory=lambda: [8, 16, 32], min_length=1, description="Executor node sizes by vCPU count.")
    limits: PoolLimits = Field(
        default_factory=lambda: PoolLimits(cpu=2000, memory="8000Gi"), description="Capacity cap of each executor NodePool. Required when the pool is set."
    )
    expire_after: DurationOrNever = Field("168h", description="Executor node lifetime before replacement, or `Never`.")


class NvmeExecutorPoolConfig(SparkPoolConfig):
    capacity_types: list[str] = Field(
        default_factory=lambda: ["on-demand"], min_length=1, description="Capacity types for shuffle-heavy executors (on-demand by default)."
    )
    instance_families: list[str] = Field(
        default_factory=lambda: ["m6id", "r6id", "c6id", "i4i"], min_length=1, description="Families with local NVMe instance store."
    )
    instance_cpus: list[int] = Field(default_factory=lambda: [8, 16, 32], min_length=1, description="NVMe node sizes by vCPU count.")
    limits: PoolLimits = Field(
        default_factory=lambda: PoolLimits(cpu=1000, memory="4000Gi"), description="Capacity cap of each NVMe NodePool. Required when the pool is set."
    )
    expire_after: DurationOrNever = Field("168h", description="NVMe node lifetime before replacement, or `Never`.")
    needs_local_nvme: ClassVar[bool] = True


class SparkPoolsConfig(ConfigModel):
    driver: DriverPoolConfig = Field(default_factory=DriverPoolConfig, description="On-demand pool for Spark drivers (`spark-driver`).")
    executor: ExecutorPoolConfig = Field(
        default_factory=ExecutorPoolConfig, description="Spot-first pool for executors (`spark-executor`, fallback `spark-executor-on-demand`)."
    )
    executor_nvme: NvmeExecutorPoolConfig = Field(
        default_factory=NvmeExecutorPoolConfig, description="Instance-store pool for shuffle-heavy executors (`spark-executor-nvme`)."
    )

    @field_validator("driver", "executor", "executor_nvme", mode="before")
    @classmethod
    def _limits_stated(cls, value: Any) -> Any:
        if isinstance(value, dict) and "limits" not in value:
            raise problem("is required: a pool set in config states its capacity cap", key="limits", value=None)
        return value

    def pool(self, key: str) -> SparkPoolConfig:
        """A pool by its stack-config key (`driver`, `executor`, `executorNvme`)."""
        return getattr(self, to_snake(key))

    @model_validator(mode="after")
    def _consolidation_after_spark_idle(self) -> SparkPoolsConfig:
        for name in ("executor", "executorNvme"):
            pool = self.pool(name)
            if duration_seconds(pool.consolidate_after) <= EXECUTOR_IDLE_TIMEOUT_SECONDS:
                raise problem(
                    f"must be longer than Spark's executor idle timeout ({EXECUTOR_IDLE_TIMEOUT_SECONDS}s), or Karpenter and dynamic allocation fight over nodes",
                    key=f"{name}.consolidateAfter",
                    value=pool.consolidate_after,
                )
        return self


class KarpenterConfig(ConfigModel):
    ami_alias: str = Field(
        versions.AL2023_AMI_ALIAS,
        description="EC2NodeClass AMI alias, `al2023@<release>`; `al2023@latest` is refused in prod.",
    )
    node_volume_gib: int = Field(100, ge=20, le=16384, description="Encrypted gp3 root volume of Spark nodes, GiB (Spark's local dirs on non-NVMe nodes).")
    pools: SparkPoolsConfig = Field(default_factory=SparkPoolsConfig, description="Spark capacity pools.")

    @field_validator("ami_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not re.match(r"^al2023@(v\d{8}|latest)$", value):
            raise problem("must be al2023@v<YYYYMMDD> (an amazon-eks-ami release) or al2023@latest")
        return value


class ClusterConfig(ConfigModel):
    kubernetes_version: str = Field(
        versions.DEFAULT_KUBERNETES_VERSION,
        description="EKS Kubernetes minor, quoted. One with pinned add-on versions in `sparkeks/versions.py`.",
    )
    support_type: Literal["STANDARD", "EXTENDED"] = Field(
        "STANDARD", description="EKS upgrade policy; EXTENDED keeps an old minor running at extra cost."
    )
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public API endpoint. Empty: the endpoint is private only (reach it from the VPC or a VPN).",
    )
    admin_principals: list[IamPrincipal] = Field(
        default_factory=list,
        description="IAM role/user ARNs given cluster-admin through EKS access entries.",
    )
    bootstrap_creator_admin: bool = Field(
        True,
        description="Give the identity that creates the cluster admin access (needed by `pulumi up` to install Kubernetes objects). Do not also list it in adminPrincipals.",
    )
    log_types: list[Literal[CONTROL_PLANE_LOG_TYPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(CONTROL_PLANE_LOG_TYPES),
        description="Control-plane logs sent to CloudWatch; must include api, audit and authenticator.",
    )
    log_retention_days: int = Field(90, description="Retention of the control-plane log group, in days (a CloudWatch value).")
    service_cidr: Cidr = Field(
        "172.20.0.0/16", description="Kubernetes Service CIDR; must not overlap the VPC."
    )
    system_node_group: SystemNodeGroupConfig = Field(
        default_factory=SystemNodeGroupConfig,
        description="The small on-demand node group, tainted `CriticalAddonsOnly`, that hosts controllers.",
    )

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _k8s_version(cls, value: Any) -> Any:
        supported = ", ".join(versions.SUPPORTED_KUBERNETES_VERSIONS)
        if isinstance(value, (int, float)):
            raise problem(f"must be a quoted string (YAML read a number); supported: {supported}")
        if isinstance(value, str):
            if not _K8S_MINOR.match(value):
                raise problem(f"is not a Kubernetes minor version like \"{versions.DEFAULT_KUBERNETES_VERSION}\"; supported: {supported}")
            if value not in versions.SUPPORTED_KUBERNETES_VERSIONS:
                raise problem(f"has no pinned add-on versions; supported: {supported}")
        return value

    @field_validator("log_types")
    @classmethod
    def _log_types(cls, log_types: list[str]) -> list[str]:
        _no_duplicates(log_types)
        missing = [t for t in REQUIRED_CONTROL_PLANE_LOGS if t not in log_types]
        if missing:
            raise problem(f"must include {', '.join(REQUIRED_CONTROL_PLANE_LOGS)} (missing {', '.join(missing)})")
        return log_types

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise problem(f"must be one of CloudWatch's periods: {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return days

    @field_validator("public_access_cidrs", "admin_principals")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return _no_duplicates(values)

    @field_validator("service_cidr")
    @classmethod
    def _service_cidr(cls, value: str) -> str:
        net = ipaddress.IPv4Network(value)
        if not any(net.subnet_of(r) for r in _PRIVATE_RANGES[:3]) or not 12 <= net.prefixlen <= 24:
            raise problem("must be a /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (EKS rule)")
        return value


_TEAM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>([A-Za-z0-9!_.'()-]+/)*)$")
# Namespaces the platform itself uses; a team may not take them.
RESERVED_NAMESPACES = ("default", "karpenter", "spark-operator", "spark-history", "monitoring", "yunikorn")
POOL_KEYS = ("driver", "executor", "executorNvme")


def _s3_uri(value: str) -> str:
    if "*" in value or not _S3_URI.match(value):
        raise problem("must be an S3 location like s3://bucket/path/ (ending in /, no wildcards)")
    return value


S3Uri = Annotated[str, AfterValidator(_s3_uri)]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b/` -> ("bucket", "a/b/")."""
    match = _S3_URI.match(uri)
    assert match is not None, uri
    return match["bucket"], match["prefix"]


def memory_mib(quantity: str) -> int:
    """Kubernetes binary quantity (`4Gi`) in MiB."""
    match = _QUANTITY.match(quantity)
    assert match is not None, quantity
    return int(match[1]) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}[match[2]]


class DataAccess(ConfigModel):
    read: list[S3Uri] = Field(default_factory=list, description="S3 locations the team's jobs may read.")
    write: list[S3Uri] = Field(default_factory=list, description="S3 locations the team's jobs may read and write.")


class TeamQuota(ConfigModel):
    cpu: int = Field(gt=0, description="vCPUs all the team's pods may request together.")
    memory: MemoryQuantity = Field(description="Memory all the team's pods may request (and be limited to) together.")
    pods: int = Field(1000, gt=0, description="Most pods at once.")


class ContainerLimits(ConfigModel):
    default_cpu: str = Field("1", description="CPU request of a container that states none.")
    default_memory: MemoryQuantity = Field("2Gi", description="Memory request and limit of a container that states none.")
    max_cpu: int = Field(32, gt=0, description="Largest CPU a single container may use.")
    max_memory: MemoryQuantity = Field("256Gi", description="Largest memory a single container may use.")


class TeamConfig(ConfigModel):
    name: str = Field(description="Team name: its namespace, ServiceAccount owner and IAM role (lowercase, digits, hyphens).")
    data: DataAccess = Field(default_factory=DataAccess, description="S3 data the team's jobs may touch (nothing else).")
    quota: TeamQuota = Field(description="ResourceQuota of the team namespace: the team's share, like a YARN queue's capacity.")
    limits: ContainerLimits = Field(default_factory=ContainerLimits, description="LimitRange of the team namespace.")
    pools: list[Literal["driver", "executor", "executorNvme"]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(POOL_KEYS), description="Spark pools the team may run on (enforced at admission)."
    )
    guaranteed: TeamQuota | None = Field(None, description="YuniKorn guaranteed share (needs spark.batchScheduler yunikorn).")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TEAM_NAME.match(value):
            raise problem("must be 2-30 characters: lowercase letters, digits and hyphens, starting with a letter")
        if value in RESERVED_NAMESPACES or value.startswith("kube-"):
            raise problem(f"is a namespace the platform uses; reserved: {', '.join(RESERVED_NAMESPACES)}, kube-*")
        return value

    @field_validator("pools")
    @classmethod
    def _unique_pools(cls, values: list[str]) -> list[str]:
        _no_duplicates(values)
        if "driver" not in values:
            raise problem("must include driver: every Spark application needs a driver")
        return values

    @model_validator(mode="after")
    def _limits_within_quota(self) -> TeamConfig:
        if self.limits.max_cpu > self.quota.cpu:
            raise problem(f"is larger than the team quota's cpu {self.quota.cpu}", key="limits.maxCpu", value=self.limits.max_cpu)
        if memory_mib(self.limits.max_memory) > memory_mib(self.quota.memory):
            raise problem(
                f"is larger than the team quota's memory {self.quota.memory}", key="limits.maxMemory", value=self.limits.max_memory
            )
        if self.guaranteed is not None and (
            self.guaranteed.cpu > self.quota.cpu or memory_mib(self.guaranteed.memory) > memory_mib(self.quota.memory)
        ):
            raise problem("must not exceed the team quota (the queue's maximum)", key="guaranteed", value=self.guaranteed.model_dump())
        return self


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


class SparkPlatformConfig(ConfigModel):
    batch_scheduler: Literal["none", "yunikorn"] = Field(
        "none", description="`yunikorn` adds the YuniKorn scheduler with a queue per team (gang scheduling, guaranteed shares)."
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET.match(value) or "--" in value):
            raise problem("must be an S3 bucket name: 3-63 lowercase letters, digits and hyphens")
        return value
    network_policies: bool = Field(False, description="Isolate team namespaces with NetworkPolicies (turns on the VPC CNI's policy engine).")
    memory_overhead_factor: float = Field(
        0.2, ge=0.1, le=1.0, description="JVM executor and driver memory overhead as a share of memory (Kubernetes kills at the limit)."
    )
    non_jvm_memory_overhead_factor: float = Field(
        0.4, ge=0.1, le=1.0, description="Overhead share for PySpark and other non-JVM jobs (Python workers live outside the JVM heap)."
    )
    event_log_retention_days: int = Field(90, ge=1, le=3650, description="Days Spark event logs are kept in the platform bucket.")
    bucket_name: str | None = Field(
        None,
        description="Platform bucket (event logs, shuffle fallback). Default: `<clusterName>-spark-<account id>`.",
    )
    force_destroy_buckets: bool = Field(
        False, description="Let `pulumi destroy` empty and delete the platform bucket (dev only; refused in prod)."
    )


class HistoryServerConfig(ConfigModel):
    enabled: bool = Field(True, description="Run the Spark History Server (one instance per team, each reading its team's event logs).")
    spark_line: str = Field(
        versions.NEWEST_SPARK, description="Spark line of the server's image; reads event logs of this line and older ones."
    )
    dataflint_version: str = Field(versions.DATAFLINT_VERSION, description="Dataflint plugin release on the server (pinned checksums).")
    dataflint_telemetry: bool = Field(False, description="Let Dataflint's UI report usage telemetry.")
    replicas: int = Field(2, ge=1, le=5, description="Servers per team; two keep the UI up while a node drains.")
    heap: str = Field("2g", description="JVM heap of each server (memory request and limit add 1g).")
    cpu: str = Field("500m", description="CPU request of each server.")
    store_size_gib: int = Field(20, ge=5, le=1000, description="Ephemeral gp3 volume for the server's local (hybrid) store, GiB.")
    update_interval: Duration = Field("30s", description="How often the server checks S3 for new and updated event logs.")
    retained_applications: int = Field(50, ge=1, le=1000, description="Application UIs kept in memory.")
    internal_load_balancer: bool = Field(
        False, description="Expose each server through an internal NLB (VPC only); otherwise use kubectl port-forward."
    )

    @field_validator("spark_line")
    @classmethod
    def _line(cls, value: str) -> str:
        if value not in versions.SPARK_S3A_JARS:
            raise problem(f"has no pinned image and jars; supported: {', '.join(versions.SPARK_S3A_JARS)}")
        return value

    @field_validator("heap", mode="before")
    @classmethod
    def _heap(cls, value: Any) -> Any:
        from sparkeks.spark.sizing import SizingError, parse_memory_mib

        try:
            parse_memory_mib(value)
        except SizingError as err:
            raise problem(str(err)) from None
        return str(value)

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not re.match(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$", value):
            raise problem("must be a Kubernetes CPU quantity like 500m or 2")
        return value

    @model_validator(mode="after")
    def _dataflint_pinned(self) -> HistoryServerConfig:
        builds = versions.DATAFLINT_JARS.get(self.dataflint_version)
        if builds is None or self.spark_line not in builds:
            known = ", ".join(v for v, b in versions.DATAFLINT_JARS.items() if self.spark_line in b)
            raise problem(
                f"has no pinned Dataflint build for Spark {self.spark_line}; pinned: {known or 'none'}",
                key="dataflintVersion",
                value=self.dataflint_version,
            )
        return self


class PrometheusConfig(ConfigModel):
    retention: str = Field("15d", description="How long Prometheus keeps metrics, e.g. 15d.")
    storage_gib: int = Field(50, ge=10, le=16384, description="gp3 volume of Prometheus, GiB.")
    memory: MemoryQuantity = Field("4Gi", description="Prometheus memory request and limit.")

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not re.match(r"^[0-9]+(h|d|w|y)$", value):
            raise problem("must be a Prometheus duration like 15d, 2w or 720h")
        return value


class LokiConfig(ConfigModel):
    storage: Literal["filesystem", "s3"] = Field(
        "filesystem", description="`filesystem`: one Loki with a gp3 volume (dev). `s3`: Loki replicas on a protected S3 bucket (prod)."
    )
    replicas: int = Field(1, ge=1, le=9, description="Loki replicas (more than one needs s3 storage).")
    retention_days: int = Field(30, ge=1, le=3650, description="Days logs are kept (Loki's compactor deletes older ones).")
    volume_gib: int = Field(50, ge=10, le=16384, description="gp3 volume per Loki replica (the whole store with filesystem; WAL and cache with s3).")

    @model_validator(mode="after")
    def _replicas_need_object_storage(self) -> LokiConfig:
        if self.replicas > 1 and self.storage == "filesystem":
            raise problem("more than one Loki replica needs storage: s3 (replicas share the object store)", key="replicas", value=self.replicas)
        return self


class ObservabilityConfig(ConfigModel):
    enabled: bool = Field(True, description="Prometheus, Alertmanager, Grafana, Loki and Fluent Bit, with Spark dashboards and alerts.")
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig, description="Prometheus.")
    loki: LokiConfig = Field(default_factory=LokiConfig, description="Loki.")
    slack_channel: str | None = Field(
        None, description="Slack channel for alerts (with the secret `alertmanagerSlackWebhookUrl`); without both, alerts stay in Alertmanager."
    )
    tempo_url: str | None = Field(None, description="URL of an existing Tempo for traces, added as a Grafana datasource.")

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^#[a-z0-9_-]{1,80}$", value):
            raise problem("must be a Slack channel like #data-platform-alerts")
        return value

    @field_validator("tempo_url")
    @classmethod
    def _tempo(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            raise problem("must be an http(s) URL")
        return value


class DisasterRecoveryConfig(ConfigModel):
    primary_stack: str = Field(
        description="The primary's stack, as a StackReference names it (`<org>/spark-on-eks/<stack>`; the last part is its stack file)."
    )
    capacity_scale: float = Field(
        0.1, gt=0, le=1, description="Share of the primary's pool limits this stack may use: 0.1 on standby, 1 after failover."
    )
    replicate_buckets: list[str] = Field(
        default_factory=list,
        description="Primary team data buckets (versioned) to replicate into `<bucket>-dr` here; event logs are always replicated.",
    )
    replication_time_control: bool = Field(
        True, description="S3 Replication Time Control: 99.99% of objects copied within 15 minutes (the RPO), at extra cost."
    )

    @field_validator("primary_stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        if not re.match(r"^([\w.-]+/){0,2}[\w.-]+$", value):
            raise problem("must be a stack name like prod or <org>/spark-on-eks/prod")
        return value

    @field_validator("replicate_buckets")
    @classmethod
    def _buckets(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _BUCKET.match(value) or len(value) > 60:
                raise problem(f"{value!r} is not an S3 bucket name (with room for the -dr suffix)")
        return _no_duplicates(values)

    @property
    def primary_stack_file(self) -> str:
        return self.primary_stack.rsplit("/", 1)[-1]


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
    dr: DisasterRecoveryConfig | None = Field(
        None,
        json_schema_extra={"documented_default": "none (not a DR stack)"},
        description="Makes this stack the DR copy of another: replication from the primary, standby capacity. Written by `sparkeks dr init`.",
    )
    teams: list[TeamConfig] = Field(
        default_factory=list, description="Teams: the replacement for YARN queues. Each gets a namespace, identity, quota and limits."
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
        return tags

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        vpc = ipaddress.IPv4Network(self.network.cidr)
        service = ipaddress.IPv4Network(self.cluster.service_cidr)
        if vpc.overlaps(service):
            # The two ranges EKS itself picks from, whichever is free.
            free = next(c for c in ("172.20.0.0/16", "10.100.0.0/16") if not vpc.overlaps(ipaddress.IPv4Network(c)))
            raise problem(
                f"overlaps the VPC CIDR {self.network.cidr}; pick a range outside it, e.g. {free}",
                key="cluster.serviceCidr",
                value=self.cluster.service_cidr,
            )
        if self.environment == "prod" and "0.0.0.0/0" in self.cluster.public_access_cidrs:
            raise problem(
                "prod stacks may not open the API endpoint to the whole internet; list your VPN or office CIDRs",
                key="cluster.publicAccessCidrs",
                value=list(self.cluster.public_access_cidrs),
            )
        if self.environment == "prod" and self.karpenter.ami_alias.endswith("@latest"):
            raise problem(
                "prod pins the AMI release (al2023@v<YYYYMMDD>) so nodes change only by a reviewed commit",
                key="karpenter.amiAlias",
                value=self.karpenter.ami_alias,
            )
        names = [t.name for t in self.teams]
        for name in sorted({n for n in names if names.count(n) > 1}):
            raise problem(f"team {name!r} is declared twice", key="teams", value=names)
        if self.environment == "prod" and self.spark.force_destroy_buckets:
            raise problem("prod never lets `pulumi destroy` delete bucket contents", key="spark.forceDestroyBuckets", value=True)
        for index, team in enumerate(self.teams):
            if team.guaranteed is not None and self.spark.batch_scheduler != "yunikorn":
                raise problem(
                    "a guaranteed share needs spark.batchScheduler: yunikorn", key=f"teams.{index}.guaranteed", value=team.guaranteed.model_dump()
                )
        spark_zones = self.spark_zones
        for name in POOL_KEYS:
            pool = self.karpenter.pools.pool(name)
            outside = [z for z in pool.zones if z not in spark_zones]
            if outside:
                raise problem(
                    f"{', '.join(outside)} not among network.sparkZones ({', '.join(spark_zones)})",
                    key=f"karpenter.pools.{name}.zones",
                    value=list(pool.zones),
                )
        observability = self.observability
        if observability.enabled and self.grafana_admin_password is None:
            raise problem(
                "is required with observability: set it with `pulumi config set --secret spark-on-eks:grafanaAdminPassword`",
                key="grafanaAdminPassword",
                value=None,
            )
        if (observability.slack_channel is None) != (self.alertmanager_slack_webhook_url is None):
            raise problem(
                "Slack alerts need both observability.slackChannel and the secret alertmanagerSlackWebhookUrl",
                key="observability.slackChannel",
                value=observability.slack_channel,
            )
        return self

    @property
    def spark_zones(self) -> list[str]:
        return list(self.network.spark_zones or self.network.zones)

    @property
    def capacity_scale(self) -> float:
        return self.dr.capacity_scale if self.dr else 1.0

    def pool_zones(self, pool: SparkPoolConfig) -> list[str]:
        return list(pool.zones or self.spark_zones)

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
