"""Stack config: teams, the replacement for YARN queues (`teams[]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

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
def team_group(team: str) -> str:
    """A team's group by convention: in Kubernetes (map its people's IAM principals to it with EKS access
    entries) and, unless `teams[].group` names another, in the identity provider for its History Server."""
    return f"spark-on-eks:team:{team}"


RESERVED_NAMESPACES = ("default", "karpenter", "spark-operator", "spark-history", "monitoring", "yunikorn")
POOL_KEYS = ("driver", "executor", "executorNvme")


class DataAccess(ConfigModel):
    read: list[S3Uri] = Field(default_factory=list, description="S3 locations the team's jobs may read.")
    write: list[S3Uri] = Field(default_factory=list, description="S3 locations the team's jobs may read and write.")


class Share(ConfigModel):
    """An amount of Spark capacity in CPU and memory (a YuniKorn queue's guaranteed or max resources)."""

    cpu: int = Field(gt=0, description="vCPUs.")
    memory: MemoryQuantity = Field(description="Memory, e.g. 1600Gi.")

    @property
    def memory_mib(self) -> int:
        return int(memory_mib(self.memory))


class OrgConfig(ConfigModel):
    """A parent queue (`root.<org>`): its teams share its unused capacity before anyone else does."""

    name: str = Field(description="Organisation name: the parent queue `root.<org>` (lowercase, digits, hyphens).")
    guaranteed: Share | None = Field(
        None, json_schema_extra={"documented_default": "none"}, description="Capacity the organisation always gets back (like YARN `capacity`)."
    )
    max: Share | None = Field(
        None,
        json_schema_extra={"documented_default": "the stack's Spark capacity"},
        description="Most the organisation's teams may use together (like YARN `maximum-capacity`).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TEAM_NAME.match(value):
            raise problem("must be 2-30 characters: lowercase letters, digits and hyphens, starting with a letter")
        return value


class ContainerLimits(ConfigModel):
    default_cpu: CpuQuantity = Field("1", description="CPU request of a container that states none.")
    default_memory: MemoryQuantity = Field(
        "2Gi",
        json_schema_extra={"documented_default": "`\"2Gi\"`, or `maxMemory` when smaller"},
        description="Memory request and limit of a container that states none.",
    )
    max_cpu: int | None = Field(
        None,
        gt=0,
        json_schema_extra={"documented_default": "the vCPUs of the largest node the team's pools can launch, or the team's max cpu when smaller"},
        description="Largest CPU a single container may use.",
    )
    max_memory: MemoryQuantity | None = Field(
        None,
        json_schema_extra={
            "documented_default": "what the largest node the team's pools can launch leaves for one pod, or the team's max memory when smaller"
        },
        description="Largest memory a single container may use.",
    )


@dataclass(frozen=True)
class NodeRoom:
    """The largest pod one node holds: the biggest node a team's pools can launch within their limits, and
    what it leaves for a pod after the system reserve and the DaemonSets (sparkeks.spark.sizing.Node)."""

    instance_type: str
    cpu: int
    """The node's vCPUs: a Spark pod of that many cores fits it (its CPU request is sized to what is left)."""
    memory_mib: int


@dataclass(frozen=True)
class EffectiveLimits:
    """A team's LimitRange as applied: what the user wrote, and defaults that never exceed the team's max (its ResourceQuota)."""

    default_cpu: str
    default_memory: str
    max_cpu: int
    max_memory: str
    defaulted: frozenset[str]
    """Keys (`maxCpu`, ...) the user did not write."""
    sources: dict[str, str]
    """Where each defaulted value came from: `the default`, `the team's max cpu`, ..."""

    def describe(self, key: str, where: str = "this file") -> str:
        """`limits.maxCpu 16` when the user wrote it, else `limits.maxCpu 16: not set in <where>, so the team's max cpu`."""
        value = {"defaultCpu": self.default_cpu, "defaultMemory": self.default_memory, "maxCpu": self.max_cpu, "maxMemory": self.max_memory}[key]
        if key not in self.defaulted:
            return f"limits.{key} {value}"
        return f"limits.{key} {value}: not set in {where}, so {self.sources[key]}"


class TeamConfig(ConfigModel):
    name: str = Field(description="Team name: its namespace, ServiceAccount owner and IAM role (lowercase, digits, hyphens).")
    data: DataAccess = Field(default_factory=DataAccess, description="S3 data the team's jobs may touch (nothing else).")
    org: str | None = Field(
        None, json_schema_extra={"documented_default": "none (`root.<team>`)"}, description="Organisation (an `orgs[]` name): the team's queue is `root.<org>.<team>`."
    )
    guaranteed: Share | None = Field(
        None,
        json_schema_extra={"documented_default": "none"},
        description="Capacity the team always gets back, preempting borrowers (like YARN `capacity`; needs spark.batchScheduler yunikorn).",
    )
    max: Share | None = Field(
        None,
        json_schema_extra={"documented_default": "the capacity of the team's pools"},
        description="How far the team may burst into idle capacity (like YARN `maximum-capacity`); also its ResourceQuota.",
    )
    pods: int = Field(1000, gt=0, description="Most pods the team may have at once (ResourceQuota).")
    limits: ContainerLimits = Field(default_factory=ContainerLimits, description="LimitRange of the team namespace.")
    pools: list[Literal["driver", "executor", "executorNvme"]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(POOL_KEYS), description="Spark pools the team may run on (enforced at admission)."
    )
    shuffle: Literal["local", "celeborn"] = Field(
        "local", description="Default shuffle of the team's jobs: `local` (executor disks, decommission and S3 fallback) or `celeborn` (needs spark.shuffle.service celeborn)."
    )
    group: str | None = Field(
        None,
        json_schema_extra={"documented_default": "`spark-on-eks:team:<name>`"},
        description="The team's group in the identity provider (the OIDC groups claim): the only group its History Server's login lets in. Default: the team's Kubernetes group name; no such group in the provider means nobody gets in.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TEAM_NAME.match(value):
            raise problem("must be 2-30 characters: lowercase letters, digits and hyphens, starting with a letter")
        if value in RESERVED_NAMESPACES or value.startswith("kube-"):
            raise problem(f"is a namespace the platform uses; reserved: {', '.join(RESERVED_NAMESPACES)}, kube-*")
        return value

    @property
    def login_group(self) -> str:
        return self.group or team_group(self.name)

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        # oauth2-proxy reads --allowed-group as a comma-separated list: a comma would split the group.
        if value is not None and not re.fullmatch(r"[^,\x00-\x1f]{1,256}", value):
            raise problem("must be 1-256 characters without commas or control characters (an identity-provider group)")
        return value

    @field_validator("pools")
    @classmethod
    def _unique_pools(cls, values: list[str]) -> list[str]:
        _no_duplicates(values)
        if "driver" not in values:
            raise problem("must include driver: every Spark application needs a driver")
        return values

    def container_limits(self, max_cpu: int, max_memory: str, room: NodeRoom | None = None) -> EffectiveLimits:
        """The LimitRange as applied under the team's resolved max (`max_cpu`, `max_memory`): what the user
        wrote, and defaults that are what the largest node its pools can launch holds (`room`; without one,
        the team's max), never more than that max (`sparkeks.teams.queues.team_limits`)."""
        written = {ContainerLimits.model_fields[n].alias or n for n in self.limits.model_fields_set}
        limits = self.limits
        sources = {}
        if "maxCpu" in written:
            container_cpu = limits.max_cpu
        elif room is not None and room.cpu < max_cpu:
            container_cpu = room.cpu
            sources["maxCpu"] = f"the vCPUs of {room.instance_type}, the largest node its pools can launch"
        else:
            container_cpu = max_cpu
            sources["maxCpu"] = "the team's max cpu"
        if "maxMemory" in written:
            container_memory = limits.max_memory
        elif room is not None and room.memory_mib < memory_mib(max_memory):
            from sparkeks.spark.sizing import kubernetes_memory

            container_memory = kubernetes_memory(room.memory_mib)
            sources["maxMemory"] = f"what {room.instance_type}, the largest node its pools can launch, leaves for one pod"
        else:
            container_memory = max_memory
            sources["maxMemory"] = "the team's max memory"
        default_memory = limits.default_memory
        if "defaultMemory" not in written:
            default_memory = min(limits.default_memory, container_memory, key=memory_mib)
            sources["defaultMemory"] = "maxMemory" if default_memory != limits.default_memory else "the default"
        default_cpu = limits.default_cpu
        if "defaultCpu" not in written:
            default_cpu = default_cpu if cpu_milli(default_cpu) <= container_cpu * 1000 else str(container_cpu)
            sources["defaultCpu"] = "maxCpu" if default_cpu != limits.default_cpu else "the default"
        return EffectiveLimits(default_cpu, default_memory, container_cpu, container_memory, frozenset(sources), sources)

    def limit_problems(self, max_cpu: int, max_memory: str, room: NodeRoom | None = None) -> list[tuple[str, object, str]]:
        """(key, value, reason) of each container limit the team's max cannot hold. Only what the user
        wrote can be wrong: defaults shrink to fit the max."""
        effective = self.container_limits(max_cpu, max_memory, room)
        limits = self.limits
        found: list[tuple[str, object, str]] = []
        if "maxCpu" not in effective.defaulted and limits.max_cpu > max_cpu:
            found.append(("limits.maxCpu", limits.max_cpu, f"is larger than the team's max cpu {max_cpu}"))
        if "maxMemory" not in effective.defaulted and memory_mib(limits.max_memory) > memory_mib(max_memory):
            found.append(("limits.maxMemory", limits.max_memory, f"is larger than the team's max memory {max_memory}"))
        # The API server refuses a LimitRange whose default request is above its max.
        if cpu_milli(effective.default_cpu) > effective.max_cpu * 1000:
            found.append(("limits.defaultCpu", effective.default_cpu, f"is larger than {effective.describe('maxCpu')}"))
        if memory_mib(effective.default_memory) > memory_mib(effective.max_memory):
            found.append(("limits.defaultMemory", effective.default_memory, f"is larger than {effective.describe('maxMemory')}"))
        return found

    @model_validator(mode="after")
    def _limits_within_max(self) -> TeamConfig:
        # A max the user wrote is checked here, beside the team's other problems; a defaulted one (the
        # capacity of the team's pools) needs the stack and is checked with the queue tree.
        if self.max is not None:
            for key, value, reason in self.limit_problems(self.max.cpu, self.max.memory)[:1]:
                raise problem(reason, key=key, value=value)
        return self

    @model_validator(mode="before")
    @classmethod
    def _quota_replaced(cls, data: Any) -> Any:
        if isinstance(data, dict) and "quota" in data:
            raise problem(
                "was replaced by max (how far the team may burst; also its ResourceQuota), guaranteed (the share it always "
                "gets back) and pods",
                key="quota",
                value=data["quota"],
            )
        return data
