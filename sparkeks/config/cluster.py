"""Stack config: the EKS control plane and system node group (`cluster.*`)."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sparkeks import versions
from sparkeks.config.base import (
    _K8S_MINOR,
    _PRIVATE_RANGES,
    Cidr,
    ConfigModel,
    IamPrincipal,
    InstanceType,
    _no_duplicates,
    instance_architecture,
    problem,
)

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REQUIRED_CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")


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


# The widest public API access a prod stack may grant: one /8 at most, alone or summed over every CIDR.
# Wider than that is no longer "our offices and VPN" but a large share of the internet.
WIDEST_PROD_PREFIX = 8
MAX_PROD_PUBLIC_ADDRESSES = 2 ** (32 - WIDEST_PROD_PREFIX)


def too_wide_for_prod(cidrs: list[str]) -> str | None:
    """Why these public API endpoint CIDRs are too open for prod, or None when they are narrow enough."""
    nets = [ipaddress.IPv4Network(c) for c in cidrs]
    wide = [str(n) for n in nets if n.prefixlen < WIDEST_PROD_PREFIX]
    if wide:
        return f"prod stacks may not open the API endpoint to ranges wider than a /{WIDEST_PROD_PREFIX} ({', '.join(wide)})"
    covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))
    if covered > MAX_PROD_PUBLIC_ADDRESSES:
        return (
            f"prod stacks may not open the API endpoint to more addresses than one /{WIDEST_PROD_PREFIX} "
            f"({MAX_PROD_PUBLIC_ADDRESSES}) in total; these CIDRs cover {covered}"
        )
    return None


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
        description="CIDRs allowed to reach the public API endpoint. Empty: the endpoint is private only (reach it from the VPC or a VPN). Prod: each at most a /8 and all together at most a /8 of addresses.",
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
