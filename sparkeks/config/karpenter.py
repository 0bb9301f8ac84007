"""Stack config: Karpenter and the Spark capacity pools (`karpenter.*`)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.alias_generators import to_snake

from sparkeks import versions
from sparkeks.config.base import (
    ConfigModel,
    Duration,
    DurationOrNever,
    MemoryQuantity,
    _no_duplicates,
    duration_seconds,
    problem,
)
from sparkeks.instances import FAMILIES, SIZE_VCPUS
from sparkeks.spark.defaults import EXECUTOR_IDLE_TIMEOUT_SECONDS

_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_CRON = re.compile(r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|\S+\s\S+\s\S+\s\S+\s\S+)$")


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


class PlatformPoolConfig(SparkPoolConfig):
    """The on-demand `platform` NodePool for the platform's own services (Spark Operator, monitoring,
    logging, History Servers): their capacity follows what the stack runs instead of a fixed node group."""

    capacity_types: list[str] = Field(
        default_factory=lambda: ["on-demand"], min_length=1, description="Always `[on-demand]`: platform services hold state and leader leases."
    )
    instance_families: list[str] = Field(
        default_factory=lambda: ["m7i", "m6i", "m7a", "m6a"], min_length=1, description="Instance families for platform services (general purpose)."
    )
    instance_cpus: list[int] = Field(
        default_factory=lambda: [4, 8], min_length=1, description="Platform node sizes by vCPU count (the largest must hold the largest platform pod)."
    )
    limits: PoolLimits = Field(
        default_factory=lambda: PoolLimits(cpu=64, memory="256Gi"), description="Capacity cap of the platform pool."
    )
    zones: list[str] = Field(
        default_factory=list,
        json_schema_extra={"documented_default": "`network.zones`"},
        description="Zones the platform pool may use; a subset of `network.zones`.",
    )
    consolidate_after: Duration = Field("10m", description="How long a platform node stays empty or underused before Karpenter removes it.")
    expire_after: DurationOrNever = Field("720h", description="Platform node lifetime before replacement (picks up new AMIs), or `Never`.")
    budgets: list[DisruptionBudget] = Field(
        default_factory=lambda: [DisruptionBudget(nodes="1")],
        description="Karpenter disruption budgets of the platform pool; one node at a time by default.",
    )

    @field_validator("capacity_types")
    @classmethod
    def _on_demand_only(cls, values: list[str]) -> list[str]:
        if values != ["on-demand"]:
            raise problem("the platform pool runs on on-demand only: a reclaimed node takes monitoring and the operator with it")
        return values


class KarpenterConfig(ConfigModel):
    ami_alias: str = Field(
        versions.AL2023_AMI_ALIAS,
        description="EC2NodeClass AMI alias, `al2023@<release>`; `al2023@latest` is refused in prod.",
    )
    node_volume_gib: int = Field(100, ge=20, le=16384, description="Encrypted gp3 root volume of Spark nodes, GiB (Spark's local dirs on non-NVMe nodes).")
    pools: SparkPoolsConfig = Field(default_factory=SparkPoolsConfig, description="Spark capacity pools.")
    platform: PlatformPoolConfig = Field(default_factory=PlatformPoolConfig, description="The `platform` NodePool for the platform's own services.")

    @field_validator("ami_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not re.match(r"^al2023@(v\d{8}|latest)$", value):
            raise problem("must be al2023@v<YYYYMMDD> (an amazon-eks-ami release) or al2023@latest")
        return value
