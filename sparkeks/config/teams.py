"""Stack config: teams, the replacement for YARN queues (`teams[]`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sparkeks.config.base import (
    ConfigModel,
    MemoryQuantity,
    S3Uri,
    _no_duplicates,
    memory_mib,
    problem,
)

_TEAM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")
# Namespaces the platform itself uses; a team may not take them.
RESERVED_NAMESPACES = ("default", "karpenter", "spark-operator", "spark-history", "monitoring", "yunikorn")
POOL_KEYS = ("driver", "executor", "executorNvme")


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
