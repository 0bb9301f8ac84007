"""Executor shapes that fill the nodes Karpenter launches for them.

YARN gave every job one container shape, so CPU or memory sat idle on every node. Here the shape follows
the node: for a job's cores per executor, each instance category of the pool (c: 2 GiB per vCPU, m: 4,
r and i: 8) gets the executor memory, overhead and CPU request that use at least `TARGET_SHARE` of the
room a Spark node has (Karpenter's allocatable minus the platform's DaemonSets, `sparkeks.nodes`), and
the job is pointed at the category whose ratio matches what it asked for. Node room comes only from
published figures, so the advice never counts on more than a node offers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sparkeks import nodes
from sparkeks.spark.sizing import ExecutorShape, Node, SizingError, memory_overhead_mib

TARGET_SHARE = 0.9
# Heaps are whole multiples of 256 MiB (readable settings like 11776m); CPU requests step by 50m.
HEAP_GRANULE_MIB = 256
REQUEST_STEP_MILLI = 50
# An explicit memory is served by the leanest category whose filled shape still gives at least this
# share of the pod memory asked for; YARN-era sizes carry padding (measure with `migrate event-log`).
MEMORY_KEPT = 0.8
CATEGORY_NAMES = {"c": "compute-optimised", "m": "general-purpose", "r": "memory-optimised", "i": "storage-optimised"}
CATEGORY_LABEL = "karpenter.k8s.aws/instance-category"
CPU_LABEL = "karpenter.k8s.aws/instance-cpu"


@dataclass(frozen=True)
class TypeFit:
    """One instance type holding executors of one shape."""

    instance_type: str
    category: str
    vcpus: int
    executors: int
    cpu_share: float
    memory_share: float

    @property
    def fills(self) -> bool:
        return self.executors > 0 and min(self.cpu_share, self.memory_share) >= TARGET_SHARE

    @property
    def score(self) -> float:
        return min(self.cpu_share, self.memory_share)


@dataclass(frozen=True)
class CategoryFit:
    """A shape for one instance category and the node sizes of it that the shape fills."""

    category: str
    shape: ExecutorShape
    request_milli: int
    vcpus: tuple[int, ...]
    rows: tuple[TypeFit, ...]

    @property
    def pod_memory_per_core(self) -> float:
        return self.shape.pod_memory_mib / self.shape.cores

    @property
    def best(self) -> TypeFit:
        return max(self.rows, key=lambda r: (r.vcpus in self.vcpus, r.score, r.vcpus))

    @property
    def fills(self) -> bool:
        return all(r.fills for r in self.rows if r.vcpus in self.vcpus)


@dataclass(frozen=True)
class Advice:
    cores: int
    overhead_factor: float
    categories: tuple[CategoryFit, ...]
    picked: CategoryFit
    requested: ExecutorShape | None
    """The job's own shape when its memory is set: it is kept, and reported against the picked nodes."""
    requested_rows: tuple[TypeFit, ...]
    requested_request_milli: int | None
    all_vcpus: tuple[int, ...]

    @property
    def shape(self) -> ExecutorShape:
        return self.requested or self.picked.shape

    @property
    def request_milli(self) -> int:
        return self.requested_request_milli if self.requested else self.picked.request_milli

    @property
    def rows(self) -> tuple[TypeFit, ...]:
        return self.requested_rows if self.requested else self.picked.rows

    @property
    def picked_type(self) -> str:
        """The instance type the job's executors fill best: where it lands when Karpenter has the choice."""
        candidates = [r for r in self.rows if r.executors > 0 and (self.requested or r.vcpus in self.picked.vcpus)]
        return max(candidates, key=lambda r: (r.score, r.vcpus)).instance_type

    def landing_types(self) -> list[str]:
        """Instance types the job's executors may land on under the node requirements below."""
        allowed = set(self.requirement_vcpus())
        return [r.instance_type for r in self.rows if r.executors > 0 and r.vcpus in allowed]

    def requirement_vcpus(self) -> tuple[int, ...]:
        if self.requested:
            return tuple(sorted({r.vcpus for r in self.requested_rows if r.executors > 0}))
        return self.picked.vcpus

    def node_requirements(self) -> list[dict[str, object]]:
        """Node affinity terms steering Karpenter to nodes of the picked ratio (and sizes it fills)."""
        terms: list[dict[str, object]] = [{"key": CATEGORY_LABEL, "operator": "In", "values": [self.picked.category]}]
        sizes = self.requirement_vcpus()
        if sizes and tuple(sorted(sizes)) != tuple(sorted(self.all_vcpus)):
            terms.append({"key": CPU_LABEL, "operator": "In", "values": [str(v) for v in sorted(sizes)]})
        return terms


def _largest_heap(pod_mib: int, factor: float) -> int:
    """The largest heap (multiple of 256 MiB) whose pod, with its overhead, fits in `pod_mib`."""
    heap = pod_mib // HEAP_GRANULE_MIB * HEAP_GRANULE_MIB
    while heap > 0 and heap + memory_overhead_mib(heap, factor) > pod_mib:
        heap -= HEAP_GRANULE_MIB
    return heap


def _slots(node: Node, cores: int) -> int:
    return min(node.vcpus // cores, node.pods)


def pack(shape: ExecutorShape, request_milli: int, node: Node, category: str) -> TypeFit:
    """How many executors of `shape` a node holds and the share of its Spark room they take."""
    # Never more executors than the node has vCPUs for their task threads, whatever the request.
    n = max(0, min(node.pod_cpu_milli // request_milli, node.pod_memory_mib // shape.pod_memory_mib, node.pods, node.vcpus // shape.cores))
    return TypeFit(
        node.instance_type,
        category,
        node.vcpus,
        n,
        n * request_milli / node.pod_cpu_milli,
        n * shape.pod_memory_mib / node.pod_memory_mib,
    )


def _shape_for(members: list[Node], cores: int, factor: float) -> tuple[ExecutorShape, int] | None:
    pod = min(n.pod_memory_mib // _slots(n, cores) for n in members)
    request = min(cores * 1000, min(n.pod_cpu_milli // _slots(n, cores) // REQUEST_STEP_MILLI * REQUEST_STEP_MILLI for n in members))
    heap = _largest_heap(pod, factor)
    if heap <= 0 or request <= 0:
        return None
    return ExecutorShape(cores, heap, memory_overhead_mib(heap, factor)), request


def tile(category: str, category_nodes: list[Node], cores: int, factor: float) -> CategoryFit | None:
    """The shape that fills nodes of one category, and the sizes it fills.

    One shape serves every size Karpenter may pick, so it is sized for the tightest one; sizes it cannot
    fill to `TARGET_SHARE` (5 cores on 8 vCPUs) are dropped and the shape recomputed for the rest.
    """
    members = [n for n in category_nodes if _slots(n, cores) > 0]
    if not members:
        return None
    sizes = sorted({n.vcpus for n in members})
    while True:
        chosen = [n for n in members if n.vcpus in sizes]
        shaped = _shape_for(chosen, cores, factor)
        if shaped is None:
            return None
        shape, request = shaped
        rows = tuple(pack(shape, request, n, category) for n in members)
        filling = sorted({r.vcpus for r in rows if r.vcpus in sizes} - {r.vcpus for r in rows if r.vcpus in sizes and not r.fills})
        if filling == sizes or not filling:
            if not filling:
                # Nothing reaches the target: keep the one size that comes closest.
                best = max((r for r in rows if r.vcpus in sizes), key=lambda r: r.score)
                if len(sizes) > 1:
                    sizes = [best.vcpus]
                    continue
            return CategoryFit(category, shape, request, tuple(sizes), rows)
        sizes = filling


def _by_category(instance_types: list[str], observability: bool) -> dict[str, list[Node]]:
    groups: dict[str, list[Node]] = {}
    for name in instance_types:
        groups.setdefault(nodes.instance_type(name).category, []).append(Node.of(name, observability=observability))
    return groups


def _pick(fits: list[CategoryFit], requested: ExecutorShape | None) -> CategoryFit:
    leanest_first = sorted(fits, key=lambda f: (f.pod_memory_per_core, f.category))
    if requested is None:
        general = [f for f in leanest_first if f.category == "m"]
        return general[0] if general else leanest_first[len(leanest_first) // 2]
    wanted = requested.pod_memory_mib / requested.cores
    for fit in leanest_first:
        if fit.pod_memory_per_core >= MEMORY_KEPT * wanted:
            return fit
    return leanest_first[-1]


def advise(
    cores: int,
    instance_types: list[str],
    *,
    overhead_factor: float,
    memory_mib: int | None = None,
    observability: bool = True,
) -> Advice:
    """Shapes for `cores` per executor on a pool's instance types, and the one picked.

    Without `memory_mib` the picked category's filling shape is the advice. With it the job's own
    shape is kept: the category is the leanest one whose filling shape holds at least `MEMORY_KEPT` of
    it, and the report shows how that shape packs there.
    """
    groups = _by_category(instance_types, observability)
    fits = [f for c, members in sorted(groups.items()) if (f := tile(c, members, cores, overhead_factor)) is not None]
    if not fits:
        raise SizingError(f"no instance type of the pool has {cores} vCPUs for one executor")
    requested = None
    if memory_mib is not None:
        requested = ExecutorShape(cores, memory_mib, memory_overhead_mib(memory_mib, overhead_factor))
    picked = _pick(fits, requested)
    all_vcpus = tuple(sorted({n.vcpus for n in groups[picked.category]}))
    requested_rows: tuple[TypeFit, ...] = ()
    requested_request = None
    if requested is not None:
        members = [n for n in groups[picked.category] if n.vcpus >= cores and n.pod_memory_mib >= requested.pod_memory_mib]
        if not members:
            # Nothing of that category holds it: fall back to whichever category holds it at all.
            holders = [c for c, ms in groups.items() if any(n.vcpus >= cores and n.pod_memory_mib >= requested.pod_memory_mib for n in ms)]
            if not holders:
                raise SizingError("no node of the pool holds one executor")
            picked = next(f for f in sorted(fits, key=lambda f: f.pod_memory_per_core) if f.category in holders)
            members = [n for n in groups[picked.category] if n.vcpus >= cores and n.pod_memory_mib >= requested.pod_memory_mib]
            all_vcpus = tuple(sorted({n.vcpus for n in groups[picked.category]}))
        requested_request = _request_for(requested, members)
        requested_rows = tuple(pack(requested, requested_request, n, picked.category) for n in groups[picked.category])
    return Advice(cores, overhead_factor, tuple(fits), picked, requested, requested_rows, requested_request, all_vcpus)


def _request_for(shape: ExecutorShape, members: list[Node]) -> int:
    """The CPU request that fits as many executors as each node has core slots (as in `sizing`)."""
    request = shape.cores * 1000
    for node in members:
        slots = max(1, min(node.vcpus // shape.cores, node.pod_memory_mib // shape.pod_memory_mib))
        request = min(request, node.pod_cpu_milli // slots // REQUEST_STEP_MILLI * REQUEST_STEP_MILLI)
    return request


def percent(share: float) -> str:
    return f"{math.floor(share * 100)}%"


@dataclass(frozen=True)
class ExecutorPlacement:
    """What a job's executors get: their shape, CPU request, node requirements, and how they pack."""

    shape: ExecutorShape
    request_milli: int
    requirements: tuple[dict[str, object], ...]
    rows: tuple[TypeFit, ...]
    """Every instance type of the pool with this shape (0 executors where it does not fit)."""
    allowed: tuple[str, ...]
    """The types the requirements leave Karpenter (all of the pool's with fit: off)."""
    picked_type: str
    advice: Advice | None

    @property
    def executors_per_node(self) -> dict[str, int]:
        """Executors per node of each type they may land on (the node requirements leave out the rest)."""
        return {r.instance_type: r.executors for r in self.rows if r.instance_type in self.allowed}

    def affinity(self) -> dict[str, object] | None:
        if not self.requirements:
            return None
        terms = [{"matchExpressions": [dict(r) for r in self.requirements]}]
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


def place_executors(
    *,
    cores: int,
    memory_mib: int | None,
    overhead_factor: float,
    instance_types: list[str],
    fit_auto: bool,
    observability: bool = True,
) -> ExecutorPlacement:
    """The executors' placement on a pool: filled nodes with `fit_auto`, else the pool as it comes.

    Raises SizingError when no node of the pool holds one executor.
    """
    from sparkeks.spark.sizing import executor_request_milli

    all_nodes = [Node.of(t, observability=observability) for t in instance_types]
    category = {n.instance_type: nodes.instance_type(n.instance_type).category for n in all_nodes}
    if fit_auto:
        advice = advise(cores, instance_types, overhead_factor=overhead_factor, memory_mib=memory_mib, observability=observability)
        shape, request = advice.shape, advice.request_milli
        allowed = tuple(advice.landing_types())
        requirements = tuple(advice.node_requirements())
        picked = advice.picked_type
    else:
        if memory_mib is None:
            raise SizingError("executor memory is required with fit: off")
        advice = None
        shape = ExecutorShape(cores, memory_mib, memory_overhead_mib(memory_mib, overhead_factor))
        request = executor_request_milli(shape, all_nodes)
        allowed = tuple(instance_types)
        requirements = ()
        picked = ""
    rows = tuple(pack(shape, request, n, category[n.instance_type]) for n in all_nodes)
    if not picked:
        picked = max((r for r in rows if r.executors > 0), key=lambda r: (r.score, r.vcpus)).instance_type
    return ExecutorPlacement(shape, request, requirements, rows, allowed, picked, advice)


def landing_instance_type(placement: ExecutorPlacement) -> str:
    """The instance type a job's executors land on when Karpenter can choose: the one they fill best
    among those the requirements allow (for pricing a job)."""
    return placement.picked_type


def table(placement: ExecutorPlacement) -> list[str]:
    """Lines of the per-instance-type table `sparkeks job` and `sparkeks size` print: the types the
    executors may land on (all of the pool's with fit: off)."""
    shown = [r for r in placement.rows if r.instance_type in placement.allowed]
    width = max(len("instance type"), *(len(r.instance_type) for r in shown))
    lines = [f"{'instance type':<{width}}  executors/node  CPU used  memory used"]
    for r in shown:
        note = "  <- picked" if r.instance_type == placement.picked_type else ("  (does not fit)" if not r.executors else "")
        lines.append(f"{r.instance_type:<{width}}  {r.executors:>14}  {percent(r.cpu_share):>8}  {percent(r.memory_share):>11}{note}")
    left_out = len(placement.rows) - len(shown)
    if left_out:
        lines.append(f"({left_out} other instance types of the pool are left out by the node requirements)")
    return lines
