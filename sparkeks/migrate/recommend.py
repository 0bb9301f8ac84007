"""A right-sized job spec from what a job used (its event log), and a report of observed vs requested.

The rules, each stated in the report so a reader can check it:
- heap: the peak JVM heap used plus 30% headroom when the heap had room to spare; doubled when the
  unified (storage + execution) memory was full or tasks spilled (the cache or the shuffle did not fit),
  1.5x when only GC or heap use was high. Never below 512m.
- overhead: the platform derives it from the heap; the report compares it with the off-heap, Python and
  other process memory the executors really used.
- executors: as many as the peak number of tasks running at once needs; dynamic allocation when cores sat
  idle or the executor count varied.
- then the heap is raised to the shape that fills the picked node type (`sparkeks.spark.fit`), never
  lowered below what the job needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sparkeks.migrate.eventlog import ApplicationUse
from sparkeks.migrate.submit import Target, _name, _tokens
from sparkeks.spark import fit
from sparkeks.spark.sizing import SizingError, format_mib, memory_overhead_mib, parse_memory_mib

MIB = 1024 * 1024
MIN_HEAP_MIB = 512
HEADROOM = 1.3
RESERVED_MIB = 300  # Spark's reserved system memory, outside the unified region
FULL = 0.9
HIGH_GC = 0.1
IDLE = 0.5


@dataclass(frozen=True)
class Observed:
    executors_max: int
    executors_avg: float
    peak_tasks: int
    busy: float
    gc: float
    heap_peak_mib: float
    unified_peak_mib: float
    unified_max_mib: float
    offheap_peak_mib: float
    python_peak_mib: float
    other_peak_mib: float
    spilled_memory: int
    spilled_disk: int
    shuffle_read: int
    shuffle_write: int
    tasks: int
    duration_s: float


@dataclass(frozen=True)
class Recommendation:
    spec: dict[str, Any]
    needed_heap_mib: int
    """The heap the job needs by the rules above, before it is raised to fill a node."""
    observed: Observed
    requested: dict[str, Any]
    reasons: list[str]
    placement: fit.ExecutorPlacement


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _sweep(intervals: list[tuple[int, int]]) -> tuple[int, float]:
    """Most intervals open at once, and the time-weighted average."""
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda p: (p[0], p[1]))
    open_now = peak = 0
    area = 0.0
    last = points[0][0] if points else 0
    for time, step in points:
        area += open_now * (time - last)
        last = time
        open_now += step
        peak = max(peak, open_now)
    span = (points[-1][0] - points[0][0]) if points else 0
    return peak, (area / span if span else float(peak))


def observe(app: ApplicationUse) -> Observed:
    end = app.end_ms or max((f for _, f, _ in app.task_intervals), default=app.start_ms or 0)
    executors = [e for e in app.executors.values() if e.executor_id != "driver"]
    lifetimes = [(e.added_ms or app.start_ms or 0, e.removed_ms or end) for e in executors]
    executors_max, executors_avg = _sweep(lifetimes)
    peak_tasks, _ = _sweep([(s, f) for s, f, _ in app.task_intervals])
    core_ms = sum(max(0, (e.removed_ms or end) - (e.added_ms or app.start_ms or 0)) * max(e.cores, 1) for e in executors)
    run_ms = sum(e.run_ms for e in executors)
    gc_ms = sum(e.gc_ms for e in executors)

    def peak(*keys: str) -> float:
        return max((sum(e.peak.get(k, 0) for k in keys) for e in executors), default=0) / MIB

    heap_mib = parse_memory_mib(app.properties.get("spark.executor.memory", "1g"))
    fraction = float(app.properties.get("spark.memory.fraction", "0.6"))
    return Observed(
        executors_max=executors_max,
        executors_avg=executors_avg,
        peak_tasks=peak_tasks,
        busy=run_ms / core_ms if core_ms else 0.0,
        gc=gc_ms / run_ms if run_ms else 0.0,
        heap_peak_mib=peak("JVMHeapMemory"),
        unified_peak_mib=peak("OnHeapUnifiedMemory"),
        unified_max_mib=max((e.unified_max for e in executors), default=0) / MIB or max(0.0, (heap_mib - RESERVED_MIB) * fraction),
        offheap_peak_mib=peak("JVMOffHeapMemory", "DirectPoolMemory", "MappedPoolMemory"),
        python_peak_mib=peak("ProcessTreePythonRSSMemory"),
        other_peak_mib=peak("ProcessTreeOtherRSSMemory"),
        spilled_memory=app.memory_spilled,
        spilled_disk=app.disk_spilled,
        shuffle_read=app.shuffle_read,
        shuffle_write=app.shuffle_write,
        tasks=sum(e.tasks for e in executors),
        duration_s=((app.end_ms or end) - (app.start_ms or end)) / 1000,
    )


def _requested(app: ApplicationUse) -> dict[str, Any]:
    props = app.properties
    cores = int(props.get("spark.executor.cores") or max((e.cores for e in app.executors.values()), default=1) or 1)
    dynamic = props.get("spark.dynamicAllocation.enabled", "false").lower() == "true"
    instances = props.get("spark.executor.instances") or (props.get("spark.dynamicAllocation.maxExecutors") if dynamic else None)
    return {
        "cores": cores,
        "memory_mib": parse_memory_mib(props.get("spark.executor.memory", "1g")),
        "instances": int(instances) if instances and instances.isdigit() else None,
        "dynamic": dynamic,
    }


def _application(app: ApplicationUse, main_file: str | None) -> tuple[dict[str, Any], list[str]]:
    """Name, type, application file, class and arguments from the submit command Spark recorded."""
    notes: list[str] = []
    words = app.command.split()
    if words and words[0].endswith("SparkSubmit"):
        words = words[1:]
    options, positional = {}, []
    if words:
        try:
            options, positional = _tokens(words)
        except Exception:  # noqa: BLE001 - a command we cannot parse just leaves the fields to --main-file
            options, positional = {}, []
    recorded = positional[0] if positional and positional[0] not in ("pyspark-shell", "spark-shell", "spark-internal") else None
    app_file = main_file or recorded
    if app_file is None:
        raise SizingError("the event log does not name the application file (an interactive or embedded session); pass --main-file")
    if "://" not in app_file or app_file.startswith(("file:", "hdfs:")):
        notes.append(f"application file {app_file}: not reachable from Kubernetes; copy it to S3 and use its s3a:// path")
    # SparkSubmit records spark.submit.pyFiles for Python applications only.
    python = app_file.endswith(".py") or "spark.submit.pyFiles" in app.properties
    main_class = (options.get("--class") or [None])[-1] or app.properties.get("spark.app.mainClass")
    fields: dict[str, Any] = {"name": _name(app.app_name or app_file), "type": "Python" if python else "Scala", "mainApplicationFile": app_file}
    if not python:
        if not main_class:
            raise SizingError("the event log names no main class for this jar application; pass --main-file with a .py file or check the log")
        fields["mainClass"] = main_class
    if positional[1:] and recorded:
        fields["arguments"] = positional[1:]
    return fields, notes


def recommend(app: ApplicationUse, target: Target, instance_types: list[str], *, observability: bool = True, main_file: str | None = None) -> Recommendation:
    observed = observe(app)
    requested = _requested(app)
    fields, notes = _application(app, main_file)
    python = fields["type"] == "Python"
    factor = target.non_jvm_memory_overhead_factor if python else target.memory_overhead_factor
    heap = requested["memory_mib"]
    reasons: list[str] = list(notes)

    unified_full = observed.unified_max_mib > 0 and observed.unified_peak_mib >= FULL * observed.unified_max_mib
    spilled = observed.spilled_memory > 0 or observed.spilled_disk > 0
    if unified_full or spilled:
        need = heap * 2
        why = []
        if unified_full:
            why.append(f"storage + execution memory peaked at {observed.unified_peak_mib:.0f} of {observed.unified_max_mib:.0f} MiB (cached data or joins did not fit)")
        if spilled:
            why.append(f"tasks spilled {_bytes(observed.spilled_memory)} to disk")
        reasons.append(f"heap doubled: {'; '.join(why)}")
    elif observed.gc >= HIGH_GC or observed.heap_peak_mib >= FULL * heap:
        need = heap * 1.5
        reasons.append(f"heap x1.5: GC took {observed.gc:.0%} of task time, heap use peaked at {observed.heap_peak_mib / heap:.0%}")
    else:
        need = max(observed.heap_peak_mib * HEADROOM, (observed.unified_peak_mib / 0.6 + RESERVED_MIB) * HEADROOM if observed.unified_peak_mib else 0)
        need = min(need, heap)
        reasons.append(f"heap: peak use {observed.heap_peak_mib:.0f} MiB + {HEADROOM - 1:.0%} headroom (room to spare: no spill, GC {observed.gc:.0%})")
    need_mib = max(MIN_HEAP_MIB, math.ceil(need / fit.HEAP_GRANULE_MIB) * fit.HEAP_GRANULE_MIB)

    cores = requested["cores"]
    instances = max(1, math.ceil(observed.peak_tasks / cores)) if observed.peak_tasks else (requested["instances"] or 1)
    dynamic = observed.busy < IDLE or observed.executors_max != round(observed.executors_avg) or requested["dynamic"]
    if observed.busy < IDLE:
        reasons.append(f"executor cores were busy {observed.busy:.0%} of the time: dynamic allocation releases idle executors")
    reasons.append(f"executors: at most {observed.peak_tasks} tasks ran at once: {instances} x {cores} cores covers them")

    placement = fit.place_executors(
        cores=cores, memory_mib=need_mib, overhead_factor=factor, instance_types=instance_types, fit_auto=True, observability=observability
    )
    filled = placement.advice.picked if placement.advice else None
    memory_mib = need_mib
    if filled is not None and filled.shape.memory_mib >= need_mib:
        memory_mib = filled.shape.memory_mib
        verb = "raised to" if memory_mib > need_mib else "kept at"
        reasons.append(f"heap {verb} {format_mib(memory_mib)}: the shape that fills {filled.category} nodes ({filled.best.instance_type})")
        placement = fit.place_executors(
            cores=cores, memory_mib=memory_mib, overhead_factor=factor, instance_types=instance_types, fit_auto=True, observability=observability
        )
    non_heap = observed.offheap_peak_mib + observed.python_peak_mib + observed.other_peak_mib
    overhead = memory_overhead_mib(memory_mib, factor)
    if non_heap * 1.2 > overhead:
        reasons.append(
            f"off-heap + Python + other memory peaked at {non_heap:.0f} MiB, close to or over the {format_mib(overhead)} overhead: "
            "raise the stack's overhead factor for this kind of job"
        )

    spec: dict[str, Any] = {
        "name": fields["name"],
        "stack": target.stack,
        "team": target.team,
        "sparkVersion": target.spark_version,
        **{k: v for k, v in fields.items() if k != "name"},
        "executor": {"instances": instances, "cores": cores, "memory": format_mib(memory_mib)},
        "dynamicAllocation": dynamic,
    }
    return Recommendation(spec, need_mib, observed, requested, reasons, placement)


def report_lines(rec: Recommendation) -> list[str]:
    o, r, s = rec.observed, rec.requested, rec.spec["executor"]
    requested_instances = r["instances"] if r["instances"] is not None else "(not set)"
    return [
        f"observed over {o.duration_s:.0f} s, {o.tasks} tasks:",
        f"  executors     requested {requested_instances} x {r['cores']} cores; ran at most {o.executors_max} at once "
        f"(average {o.executors_avg:.1f}); at most {o.peak_tasks} tasks at once -> {s['instances']} x {s['cores']} cores",
        f"  heap          requested {format_mib(r['memory_mib'])}; peak used {o.heap_peak_mib:.0f} MiB; storage + execution peak "
        f"{o.unified_peak_mib:.0f} of {o.unified_max_mib:.0f} MiB -> needs {format_mib(rec.needed_heap_mib)}, gets {s['memory']}",
        f"  non-heap      off-heap {o.offheap_peak_mib:.0f} MiB, Python {o.python_peak_mib:.0f} MiB, other {o.other_peak_mib:.0f} MiB",
        f"  task time     cores busy {o.busy:.0%} of executor time; GC {o.gc:.0%} of task time",
        f"  spill         {_bytes(o.spilled_memory)} from memory, {_bytes(o.spilled_disk)} on disk",
        f"  shuffle       read {_bytes(o.shuffle_read)}, written {_bytes(o.shuffle_write)}",
        *(f"why: {reason}" for reason in rec.reasons),
        *fit.table(rec.placement),
    ]
