"""Stack config: the VPC (`network.*`)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sparkeks.config.base import (
    _PRIVATE_RANGES,
    Cidr,
    ConfigModel,
    _no_duplicates,
    problem,
)
from sparkeks.regions import Region
from sparkeks.subnets import SubnetLayoutError, plan_subnets

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


_PULL_THROUGH_SECRET = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:ecr-pullthroughcache/.+$")


class PullThroughCredentialsConfig(ConfigModel):
    docker_hub: str | None = Field(
        None, description="ARN of the Secrets Manager secret `ecr-pullthroughcache/...` holding Docker Hub credentials."
    )
    github: str | None = Field(
        None, description="ARN of the Secrets Manager secret `ecr-pullthroughcache/...` holding a GitHub token that reads packages (ghcr.io)."
    )

    @field_validator("docker_hub", "github")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not _PULL_THROUGH_SECRET.match(value):
            raise problem("must be the ARN of a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (ECR requires that prefix)")
        return value


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

    pull_through_credentials: PullThroughCredentialsConfig = Field(
        default_factory=PullThroughCredentialsConfig,
        description="With natStrategy none, charts' images come through ECR pull-through cache; Docker Hub and ghcr.io need these secrets.",
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
            credentials = self.pull_through_credentials
            unset = [key for key, value in (("dockerHub", credentials.docker_hub), ("github", credentials.github)) if value is None]
            if unset:
                raise problem(
                    f"without NAT the charts' images come through ECR pull-through cache, which needs credentials for "
                    f"{', '.join(unset)}; set them (Secrets Manager ARNs) or choose perZone/single",
                    key="pullThroughCredentials",
                    value=None,
                )
        return self
