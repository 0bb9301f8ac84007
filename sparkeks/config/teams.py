"""Stack config: teams, the replacement for YARN queues (`teams[]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sparkeks.config.base import (
    ConfigModel,
    CpuQuantity,
    MemoryQuantity,
    S3Uri,
    _no_duplicates,
    cpu_milli,
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
    default_cpu: CpuQuantity = Field("1", description="CPU request of a container that states none.")
    default_memory: MemoryQuantity = Field(
        "2Gi",
        json_schema_extra={"documented_default": "`\"2Gi\"`, or `maxMemory` when smaller"},
        description="Memory request and limit of a container that states none.",
    )
    max_cpu: int = Field(
        32,
        gt=0,
        json_schema_extra={"documented_default": "`32`, or the quota's cpu when smaller"},
        description="Largest CPU a single container may use.",
    )
    max_memory: MemoryQuantity = Field(
        "256Gi",
        json_schema_extra={"documented_default": "`\"256Gi\"`, or the quota's memory when smaller"},
        description="Largest memory a single container may use.",
    )


@dataclass(frozen=True)
class EffectiveLimits:
    """A team's LimitRange as applied: what the user wrote, and defaults that never exceed the quota."""

    default_cpu: str
    default_memory: str
    max_cpu: int
    max_memory: str
    defaulted: frozenset[str]
    """Keys (`maxCpu`, ...) the user did not write."""
    sources: dict[str, str]
    """Where each defaulted value came from: `the default`, `the quota's cpu`, ..."""

    def describe(self, key: str, where: str = "this file") -> str:
        """`limits.maxCpu 16` when the user wrote it, else `limits.maxCpu 16: not set in <where>, so the quota's cpu`."""
        value = {"defaultCpu": self.default_cpu, "defaultMemory": self.default_memory, "maxCpu": self.max_cpu, "maxMemory": self.max_memory}[key]
        if key not in self.defaulted:
            return f"limits.{key} {value}"
        return f"limits.{key} {value}: not set in {where}, so {self.sources[key]}"


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

    @property
    def container_limits(self) -> EffectiveLimits:
        written = {ContainerLimits.model_fields[n].alias or n for n in self.limits.model_fields_set}
        limits, quota = self.limits, self.quota
        sources = {}
        max_cpu = limits.max_cpu
        if "maxCpu" not in written:
            max_cpu = min(limits.max_cpu, quota.cpu)
            sources["maxCpu"] = "the quota's cpu" if max_cpu < limits.max_cpu else "the default"
        max_memory = limits.max_memory
        if "maxMemory" not in written:
            max_memory = min(limits.max_memory, quota.memory, key=memory_mib)
            sources["maxMemory"] = "the quota's memory" if max_memory != limits.max_memory else "the default"
        default_memory = limits.default_memory
        if "defaultMemory" not in written:
            default_memory = min(limits.default_memory, max_memory, key=memory_mib)
            sources["defaultMemory"] = "maxMemory" if default_memory != limits.default_memory else "the default"
        default_cpu = limits.default_cpu
        if "defaultCpu" not in written:
            default_cpu = default_cpu if cpu_milli(default_cpu) <= max_cpu * 1000 else str(max_cpu)
            sources["defaultCpu"] = "maxCpu" if default_cpu != limits.default_cpu else "the default"
        return EffectiveLimits(default_cpu, default_memory, max_cpu, max_memory, frozenset(sources), sources)

    @model_validator(mode="after")
    def _limits_within_quota(self) -> TeamConfig:
        # Only what the user wrote can be wrong: defaults shrink to fit the quota.
        effective = self.container_limits
        if "maxCpu" not in effective.defaulted and self.limits.max_cpu > self.quota.cpu:
            raise problem(f"is larger than the team quota's cpu {self.quota.cpu}", key="limits.maxCpu", value=self.limits.max_cpu)
        if "maxMemory" not in effective.defaulted and memory_mib(self.limits.max_memory) > memory_mib(self.quota.memory):
            raise problem(
                f"is larger than the team quota's memory {self.quota.memory}", key="limits.maxMemory", value=self.limits.max_memory
            )
        # The API server refuses a LimitRange whose default request is above its max.
        if cpu_milli(effective.default_cpu) > effective.max_cpu * 1000:
            raise problem(f"is larger than {effective.describe('maxCpu')}", key="limits.defaultCpu", value=effective.default_cpu)
        if memory_mib(effective.default_memory) > memory_mib(effective.max_memory):
            raise problem(
                f"is larger than {effective.describe('maxMemory')}", key="limits.defaultMemory", value=effective.default_memory
            )
        if self.guaranteed is not None and (
            self.guaranteed.cpu > self.quota.cpu or memory_mib(self.guaranteed.memory) > memory_mib(self.quota.memory)
        ):
            raise problem("must not exceed the team quota (the queue's maximum)", key="guaranteed", value=self.guaranteed.model_dump())
        return self
