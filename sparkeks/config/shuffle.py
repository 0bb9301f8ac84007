"""Stack config: where Spark's shuffle data lives (`spark.shuffle.*`), and the Celeborn service behind it.

`none` keeps shuffle on the executors' own disks (decommissioning with block migration and S3 fallback);
`celeborn` adds an Apache Celeborn cluster that jobs opt into (`shuffle: celeborn` in a job spec, or a
team's default), so a reclaimed spot executor loses no shuffle output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sparkeks.config.base import ConfigModel, Duration, DurationOrNever, problem
from sparkeks.config.collect import reads
from sparkeks.config.karpenter import DisruptionBudget, PoolLimits, SparkPoolConfig
from sparkeks.config.sizes import SizeError, jvm_heap, mib_text


def _heap_mib(heap: str) -> int:
    """A normalised JVM heap (`4g`, `1536m`) in MiB."""
    return int(heap[:-1]) * (1024 if heap.endswith("g") else 1)


# What Celeborn's REST API lets callers do (components/celeborn/rest_api.py).
AdminApi = Literal["read-only", "open"]
# Whether Celeborn's client ports authenticate each application (components/celeborn/rpc_auth.py). Not
# `off`: YAML reads a bare off as false.
RpcAuth = Literal["sasl", "disabled"]

# JVM memory outside heap and direct buffers (metaspace, thread stacks, the recovery DB's native memory).
WORKER_JVM_OVERHEAD_MIB = 2048
MASTER_JVM_OVERHEAD_MIB = 1024


class CelebornWorkerPoolConfig(SparkPoolConfig):
    """The NodePool Celeborn workers run on: on-demand nodes with local NVMe, one worker per node."""

    capacity_types: list[str] = Field(
        default_factory=lambda: ["on-demand"], min_length=1, description="Always `[on-demand]`: a reclaimed worker takes every running job's shuffle data on it."
    )
    instance_families: list[str] = Field(
        default_factory=lambda: ["m6id", "r6id", "i4i"], min_length=1, description="Families with local NVMe instance store for shuffle data."
    )
    instance_cpus: list[int] = Field(default_factory=lambda: [16], min_length=1, description="Worker node sizes by vCPU count.")
    limits: PoolLimits = Field(
        default_factory=lambda: PoolLimits(cpu=128, memory="1024Gi"), description="Capacity cap of the worker pool (workers plus one replacement)."
    )
    consolidate_after: Duration = Field("10m", description="How long a node without a worker stays before Karpenter removes it.")
    expire_after: DurationOrNever = Field(
        "Never", description="Worker node lifetime; `Never`, since Karpenter's expiry is forceful and would drop a worker under running jobs."
    )
    budgets: list[DisruptionBudget] = Field(
        default_factory=lambda: [DisruptionBudget(nodes="1")], description="Karpenter disruption budgets of the worker pool; one node at a time."
    )
    needs_local_nvme: ClassVar[bool] = True

    @field_validator("capacity_types")
    @classmethod
    def _on_demand_only(cls, values: list[str]) -> list[str]:
        if values != ["on-demand"]:
            raise problem("Celeborn workers run on on-demand only: a reclaimed worker loses the shuffle data of every job on it")
        return values


def _heap(value: Any, who: str, floor_mib: int = 1024) -> Any:
    try:
        return jvm_heap(value, floor_mib=floor_mib, who=who)
    except SizeError as err:
        raise problem(str(err)) from None


class CelebornConfig(ConfigModel):
    workers: int = Field(3, ge=2, le=200, description="Celeborn workers, one per NVMe node; at least 2 so every shuffle block has a replica elsewhere.")
    replicate: bool = Field(
        True, description="Jobs push every shuffle block to two workers (`spark.celeborn.client.push.replicate.enabled`): a lost worker loses no data."
    )
    worker_cpu: int = Field(12, ge=2, le=192, description="CPU request (and cores) of each worker.")
    worker_heap: str = Field("4g", description="JVM heap of each worker (`CELEBORN_WORKER_MEMORY`).")
    worker_off_heap: str = Field(
        "24g", description="Direct memory of each worker for push and fetch buffers (`CELEBORN_WORKER_OFFHEAP_MEMORY`)."
    )
    master_heap: str = Field("2g", description="JVM heap of each of the three masters (memory request and limit add 1g).")
    master_volume_gib: int = Field(20, ge=5, le=1000, description="Encrypted gp3 volume of each master for its Raft log and snapshots, GiB.")
    pool: CelebornWorkerPoolConfig = Field(
        default_factory=CelebornWorkerPoolConfig, description="The `celeborn-worker` NodePool (on-demand, NVMe instance store as RAID0)."
    )
    admin_api: AdminApi = Field(
        "read-only",
        description="Celeborn's REST API: `read-only` refuses every change (exclude, decommission, log levels) from anyone; "
        "`open` lets any pod reaching the HTTP ports make them (Celeborn 0.7.0 checks no password).",
    )
    rpc_auth: RpcAuth = Field(
        "sasl",
        description="`sasl`: each application authenticates to masters and workers with its own secret and reaches only its "
        "own shuffle data; `disabled` lets any pod reaching the client ports read or drop any application's.",
    )

    _check_worker_heap = field_validator("worker_heap", mode="before")(lambda cls, v: _heap(v, "a Celeborn worker"))
    _check_off_heap = field_validator("worker_off_heap", mode="before")(lambda cls, v: _heap(v, "a Celeborn worker's direct memory", 2048))
    _check_master_heap = field_validator("master_heap", mode="before")(lambda cls, v: _heap(v, "a Celeborn master"))

    @property
    def worker_memory_mib(self) -> int:
        """Memory request and limit of a worker pod: heap, direct memory and the JVM's own."""
        return _heap_mib(self.worker_heap) + _heap_mib(self.worker_off_heap) + WORKER_JVM_OVERHEAD_MIB

    @property
    def master_memory_mib(self) -> int:
        return _heap_mib(self.master_heap) + MASTER_JVM_OVERHEAD_MIB

    @model_validator(mode="after")
    def _a_pool_holds_its_workers(self) -> CelebornConfig:
        # Each worker has a node to itself: the cap must hold every worker's node and one replacement.
        needed = (self.workers + 1) * min(self.pool.instance_cpus)
        if needed > self.pool.limits.cpu:
            raise problem(
                f"{self.workers} workers on nodes of at least {min(self.pool.instance_cpus)} vCPUs, plus one replacement node, "
                f"need {needed} vCPUs, more than pool.limits.cpu ({self.pool.limits.cpu})",
                key="workers",
                value=self.workers,
            )
        return self


# Said by the plan summary and by `pulumi up` (celeborn_warnings) when a stack opens Celeborn's REST API.
OPEN_ADMIN_API_WARNING = (
    "Celeborn's REST API is open (`spark.shuffle.celeborn.adminApi: open`): any pod that reaches the masters' and "
    "workers' HTTP ports (every pod, without `spark.networkPolicies`) may exclude, decommission or stop workers, losing "
    "running jobs' shuffle data; Celeborn 0.7.0 checks no password. Read-only by default."
)

OFF_RPC_AUTH_WARNING = (
    "Celeborn's RPC authentication is off (`spark.shuffle.celeborn.rpcAuth: disabled`): any pod that reaches the "
    "masters' and workers' client ports (every team's pods, by design) may read, overwrite or drop another "
    "application's shuffle data, another team's included. On by default."
)
# Said when authentication is on but nothing keeps other pods from the paths around it.
UNISOLATED_WARNING = (
    "Celeborn's shuffle data is not isolated between teams without NetworkPolicies (`spark.networkPolicies`): "
    "Celeborn 0.7.0 hands an application's secret to any pod that asks its driver, and lets any pod that reaches "
    "the internal ports pose as a worker. On by default in prod."
)


def celeborn_warnings(celeborn: CelebornConfig, *, network_policies: bool) -> list[str]:
    """The Celeborn warnings of a stack, in order: the plan summary shows them and `pulumi up` logs them."""
    warnings = [OPEN_ADMIN_API_WARNING] if celeborn.admin_api == "open" else []
    if celeborn.rpc_auth == "disabled":
        warnings.append(OFF_RPC_AUTH_WARNING)
    elif not network_policies:
        warnings.append(UNISOLATED_WARNING)
    return warnings


class ShuffleConfig(ConfigModel):
    service: Literal["none", "celeborn"] = Field(
        "none", description="`celeborn` runs an Apache Celeborn remote shuffle service that jobs opt into (`shuffle: celeborn`)."
    )
    celeborn: CelebornConfig = Field(default_factory=CelebornConfig, description="The Celeborn cluster (with `service: celeborn`).")


# Checks across sections (registered in model.py's CROSS_CHECKS).


@reads("spark", "teams")
def celeborn_needs_the_service(config: Any) -> Iterator[PydanticCustomError]:
    if config.spark.shuffle.service == "celeborn":
        return
    for index, team in enumerate(config.teams):
        if team.shuffle == "celeborn":
            yield problem(
                "a team default of celeborn needs spark.shuffle.service: celeborn in this stack; allowed here: local",
                key=f"teams.{index}.shuffle",
                value=team.shuffle,
            )


@reads("spark", "network")
def celeborn_pool_in_spark_zones(config: Any) -> Iterator[PydanticCustomError]:
    pool = config.spark.shuffle.celeborn.pool
    outside = [z for z in pool.zones if z not in config.spark_zones]
    if config.spark.shuffle.service == "celeborn" and outside:
        yield problem(
            f"{', '.join(outside)} not among network.sparkZones ({', '.join(config.spark_zones)})",
            key="spark.shuffle.celeborn.pool.zones",
            value=list(pool.zones),
        )


@reads("spark", "observability")
def celeborn_workers_fit_their_nodes(config: Any) -> Iterator[PydanticCustomError]:
    """A worker fits what its node leaves after the DaemonSets this stack runs (the monitoring stack's only
    when it has one)."""
    from sparkeks.nodes import spark_room

    celeborn = config.spark.shuffle.celeborn
    cpu, memory = celeborn.worker_cpu * 1000, celeborn.worker_memory_mib
    for instance_type in celeborn.pool.instance_types():
        room_cpu, room_memory, _ = spark_room(instance_type, observability=config.observability.enabled)
        if cpu > room_cpu or memory > room_memory:
            yield problem(
                f"a worker ({celeborn.worker_cpu} CPUs, {mib_text(memory)} with heap, off-heap and JVM overhead) does not fit "
                f"{instance_type} ({room_cpu / 1000:g} CPUs, {mib_text(room_memory)} left after the node's DaemonSets); "
                "lower workerCpu or the worker's memory, or choose larger pool.instanceCpus",
                key="spark.shuffle.celeborn.workerCpu",
                value=celeborn.worker_cpu,
            )
            return
