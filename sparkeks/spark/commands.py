"""`sparkeks size` and the packing report of `sparkeks job`: executor shapes that fill their nodes."""

from __future__ import annotations

import argparse
import sys

from sparkeks.spark import fit
from sparkeks.spark.sizing import SizingError, format_mib, parse_memory_mib

EXIT_USAGE = 2


def _spread(values: list[float]) -> str:
    low, high = fit.percent(min(values)), fit.percent(max(values))
    return low if low == high else f"{low}-{high}"


def category_lines(advice: fit.Advice) -> list[str]:
    """One line per instance category: the shape that fills it, the sizes it fills and how full."""
    lines = ["category               executor memory + overhead  CPU request  node vCPUs   CPU used  memory used"]
    for cat in advice.categories:
        rows = [r for r in cat.rows if r.vcpus in cat.vcpus]
        mark = "  <- picked" if cat.category == advice.picked.category else ""
        name = f"{cat.category} ({fit.CATEGORY_NAMES.get(cat.category, cat.category)})"
        memory = f"{format_mib(cat.shape.memory_mib)} + {format_mib(cat.shape.overhead_mib)}"
        sizes = ",".join(str(v) for v in cat.vcpus)
        lines.append(
            f"{name:<22} {memory:<27} {cat.request_milli:>9}m  {sizes:<11} {_spread([r.cpu_share for r in rows]):>9}"
            f"  {_spread([r.memory_share for r in rows]):>11}{mark}"
        )
    return lines


def job_report(placement: fit.ExecutorPlacement) -> list[str]:
    """What `sparkeks job` prints under the application: the packing per instance type, and with an
    explicit memory, the shape that would fill the picked nodes instead."""
    shape = placement.shape
    lines = [
        f"executor: {shape.cores} cores ({placement.request_milli}m requested), "
        f"{format_mib(shape.memory_mib)} + {format_mib(shape.overhead_mib)} overhead"
        + (f"; node requirements: {_requirements(placement)}" if placement.requirements else "; fit: off"),
        *fit.table(placement),
    ]
    advice = placement.advice
    if advice is not None and advice.requested is not None:
        filled = advice.picked
        best = filled.best
        lines.append(
            f"executor.memory is set, so it is kept; left out, fit: auto would give {format_mib(filled.shape.memory_mib)} + "
            f"{format_mib(filled.shape.overhead_mib)} ({best.instance_type}: {best.executors} per node, "
            f"{fit.percent(best.cpu_share)} CPU, {fit.percent(best.memory_share)} memory)"
        )
    return lines


def _requirements(placement: fit.ExecutorPlacement) -> str:
    return ", ".join(f"{r['key']} in [{', '.join(r['values'])}]" for r in placement.requirements)  # type: ignore[arg-type]


def register(commands: argparse._SubParsersAction) -> None:
    size = commands.add_parser(
        "size",
        help="executor shapes that fill their nodes, for N cores per executor",
        description=(
            "For CORES per executor, print per instance category of a pool (c, m, r, i) the executor memory, overhead "
            "and CPU request that use at least 90%% of the CPU and memory a Spark node offers (Karpenter's published "
            "allocatable figures minus the platform's DaemonSets), which category is picked and, for it, the executors "
            "per node and shares per instance type. With --memory, that memory is kept and reported against the nodes "
            "it packs best on."
        ),
    )
    size.add_argument("--cores", type=int, required=True, help="cores (task slots) per executor")
    size.add_argument("--memory", help="executor heap to keep (e.g. 14g); default: the heap that fills the node")
    size.add_argument("--python", action="store_true", help="PySpark: the larger non-JVM memory overhead")
    size.add_argument("--stack", help="read the pool and overhead factors from this stack (default: the built-in defaults)")
    size.add_argument("--pool", choices=("executor", "executorNvme"), default="executor", help="executor pool (default: executor)")
    size.add_argument("--project-dir", metavar="DIR", help=argparse.SUPPRESS)
    size.set_defaults(func=run_size)


def _pool(args: argparse.Namespace) -> tuple[list[str], float, bool, str]:
    from sparkeks.config.karpenter import SparkPoolsConfig
    from sparkeks.config.spark import SparkPlatformConfig

    if args.stack is None:
        spark, pools, observability, where = SparkPlatformConfig(), SparkPoolsConfig(), True, "built-in defaults"
    else:
        from sparkeks.config.loader import ConfigError
        from sparkeks.plan.runner import PlanError, load_stack

        try:
            config = load_stack(args.stack)  # of the project the CLI works on (--project-dir, else the one we are in)
        except (PlanError, ConfigError) as err:
            lines = err.lines if isinstance(err, PlanError) else err.problems
            raise _Usage(lines) from None
        spark, pools, observability, where = config.spark, config.karpenter.pools, config.observability.enabled, f"stack {args.stack}"
    factor = spark.non_jvm_memory_overhead_factor if args.python else spark.memory_overhead_factor
    return pools.pool(args.pool).instance_types(), factor, observability, where


class _Usage(Exception):
    def __init__(self, lines: list[str]):
        self.lines = lines


def run_size(args: argparse.Namespace) -> int:
    try:
        if args.cores < 1:
            raise _Usage([f"--cores: {args.cores}: must be 1 or more"])
        memory = None
        if args.memory is not None:
            try:
                memory = parse_memory_mib(args.memory)
            except SizingError as err:
                raise _Usage([f"--memory: {args.memory!r}: {err}"]) from None
        types, factor, observability, where = _pool(args)
        try:
            placement = fit.place_executors(
                cores=args.cores, memory_mib=memory, overhead_factor=factor, instance_types=types, fit_auto=True, observability=observability
            )
        except SizingError as err:
            raise _Usage([f"--cores: {args.cores}: {err} (pool {args.pool}, {where})"]) from None
    except _Usage as err:
        for line in err.lines:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    advice = placement.advice
    assert advice is not None
    kind = "PySpark" if args.python else "JVM"
    print(f"{args.cores} cores per executor, pool {args.pool} ({where}), {kind} overhead factor {factor}")
    print(*category_lines(advice), sep="\n")
    print()
    print(*job_report(placement), sep="\n")
    print()
    shape = placement.shape
    print("job spec:")
    print("  fit: auto")
    print(f"  executor: {{cores: {shape.cores}, memory: {format_mib(shape.memory_mib)}}}")
    return 0
