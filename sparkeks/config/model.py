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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from sparkeks import versions
from sparkeks.regions import Region

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
ENDPOINTS_NEEDED_WITHOUT_NAT = ("ec2", "ecr.api", "ecr.dkr", "eks-auth", "sts")

_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z-]*)\.(?P<size>[a-z0-9]+)$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
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


class StackConfig(ConfigModel):
    """Everything under `spark-on-eks:` plus `aws:region`."""

    region: str = Field(description="AWS region (the provider's own `aws:region` key). Required.")
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
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128 or len(value) > 256:
                raise problem(f"tag {key!r}: keys are 1-128 characters, not starting with aws:, values at most 256")
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
        return self

    def resolved_cluster_name(self, stack: str) -> str:
        return self.cluster_name or f"spark-{stack}"

    @property
    def protect_state(self) -> bool:
        return self.environment == "prod" if self.protect is None else self.protect
