"""Render a job spec into a complete SparkApplication for its team on its stack's platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sparkeks.config.errors import problem_lines, render
from sparkeks.config.files import InputFileError, kind_of, read_yaml
from sparkeks.config.loader import ConfigError, stack_file
from sparkeks.config.model import StackConfig, TeamConfig, memory_mib
from sparkeks.config.sizes import mib_text
from sparkeks.jobs.shuffle import celeborn_problems, with_celeborn
from sparkeks.jobs.spec import JobSpec
from sparkeks.placement import POOL_LABEL, POOL_NAMES
from sparkeks.spark import fit, sizing
from sparkeks.spark.defaults import PLATFORM_OWNED, platform_spark_conf, sizing_spark_conf
from sparkeks.spark.scheduling import driver_annotations, queue_path
from sparkeks.teams.queues import TeamQueue, queue_tree, team_limits
from sparkeks.versions import SPARK_RUNTIMES

SPARK_APPLICATION_API = "sparkoperator.k8s.io/v1beta2"
NVME_LOCAL_DIR = "/spark-local"


# Spark settings that size a job, and the spec field that sets each: through sparkConf they would bypass
# the overhead, packing and team share checks.
SIZING_KEYS = {
    "spark.executor.instances": "executor.instances",
    "spark.executor.cores": "executor.cores",
    "spark.executor.memory": "executor.memory",
    "spark.executor.memoryOverhead": "executor.memory (the overhead follows from it)",
    "spark.executor.memoryOverheadFactor": "executor.memory (the stack's spark.memoryOverheadFactor sets the factor)",
    "spark.kubernetes.executor.request.cores": "executor.cores",
    "spark.kubernetes.executor.limit.cores": "executor.cores",
    "spark.driver.cores": "driver.cores",
    "spark.driver.memory": "driver.memory",
    "spark.driver.memoryOverhead": "driver.memory (the overhead follows from it)",
    "spark.driver.memoryOverheadFactor": "driver.memory (the stack's spark.memoryOverheadFactor sets the factor)",
    "spark.kubernetes.driver.request.cores": "driver.cores",
    "spark.kubernetes.driver.limit.cores": "driver.cores",
    "spark.dynamicAllocation.enabled": "dynamicAllocation",
    "spark.dynamicAllocation.maxExecutors": "executor.instances",
    "spark.dynamicAllocation.initialExecutors": "executor.instances",
    "spark.sql.shuffle.partitions": "shufflePartitions",
}


class JobError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class RenderedJob:
    application: dict[str, Any]
    executor_request_milli: int
    executors_per_node: dict[str, int]
    placement: fit.ExecutorPlacement
    warnings: list[str] = field(default_factory=list)
    """Lines for things that render but will not run as written (a job larger than its team's max or guaranteed share)."""


def load_spec(path: Path) -> JobSpec:
    label = str(path)
    try:
        data = read_yaml(path, label)
    except InputFileError as err:
        raise JobError(err.problems) from None
    if not isinstance(data, dict):
        raise JobError([f"{label}: (top level): {kind_of(data)}: must be a mapping of keys to values (see examples/)"])
    try:
        return JobSpec.model_validate(data)
    except ValidationError as err:
        raise JobError(problem_lines(label, err, JobSpec)) from None


def _tolerate(pool: str) -> list[dict[str, str]]:
    return [{"key": POOL_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}]


def _fit(label: str, key: str, what: str, shape: sizing.ExecutorShape, nodes: list[sizing.Node], pool: str, default: bool = False) -> int:
    try:
        return sizing.executor_request_milli(shape, nodes)
    except sizing.SizingError:
        cores, memory = sizing.largest_executor(nodes)
        named = f" (the default {key})" if default else ""
        raise JobError(
            [
                f"{label}: {key}: {shape.cores} cores, {mib_text(shape.memory_mib)} + "
                f"{mib_text(shape.overhead_mib)} overhead{named}: {what} is bigger than any node of pool {pool} "
                f"holds (at most {cores} cores, {mib_text(memory)} per pod)"
            ]
        ) from None


def _cpus(milli: int) -> str:
    return f"{milli / 1000:g}"


def _executors_within(amount: tuple[int, int], executor: tuple[int, int], driver: tuple[int, int]) -> int:
    """Executors that fit in `amount` (millicores, MiB) beside the driver."""
    return int(max(0, min((amount[0] - driver[0]) // executor[0], (amount[1] - driver[1]) // executor[1])))


def share_warnings(
    label: str, spec: JobSpec, team: TeamConfig, queue: TeamQueue, executor: tuple[int, int], driver: tuple[int, int], *, elastic: bool
) -> list[str]:
    """A job whose executors and driver together ask for more than the team's max (its ResourceQuota)
    renders, and the API server then admits only as many executors as fit: say so, with the figures.
    With elastic queues, a job beyond the team's guaranteed share runs its extra executors on borrowed
    capacity, which preemption takes back when the lending teams need it: say that too.
    `executor` and `driver` are (CPU request in millicores, pod memory in MiB)."""
    count = spec.executor.instances
    cpu = count * executor[0] + driver[0]
    memory = count * executor[1] + driver[1]
    asked = (
        f"{label}: executor.instances: {count}: warning: {count} executors ({_cpus(executor[0])} CPUs, {mib_text(executor[1])} each) "
        f"and the driver ask for {_cpus(cpu)} CPUs and {mib_text(memory)}"
    )
    ceiling = (queue.max.cpu * 1000, queue.max.memory_mib)
    if cpu > ceiling[0] or memory > ceiling[1]:
        return [
            f"{asked}; team {team.name}'s max (its ResourceQuota) is {queue.max.cpu} CPUs and {mib_text(ceiling[1])}, "
            f"so at most {_executors_within(ceiling, executor, driver)} executors run at once"
        ]
    promised = queue.guaranteed
    if not elastic or promised is None:
        return []
    share = (promised.cpu * 1000, promised.memory_mib)
    if cpu <= share[0] and memory <= share[1]:
        return []
    return [
        f"{asked}; team {team.name}'s guaranteed share is {promised.cpu} CPUs and {mib_text(share[1])}, so executors beyond "
        f"{_executors_within(share, executor, driver)} run on idle capacity lent by other teams and are preempted when those teams need it"
    ]


def _platform_image(spec: JobSpec, *, label: str, config: StackConfig, account: str | None, problems: list[str]) -> str | None:
    from sparkeks import images

    if account is None:
        return None  # reported with the bucket
    try:
        image = images.platform_image(
            spec.spark_version, account_id=account, region=config.region, cluster_name=config.resolved_cluster_name(spec.stack)
        )
    except images.PinsError as err:
        problems.extend(err.problems)
        return None
    if image is None:
        problems.append(
            f"{label}: sparkVersion: {render(spec.spark_version)}: the platform image of Spark {spec.spark_version} is not built yet "
            "(no digest in images/pins.json); run the images workflow and merge its pins pull request"
        )
    return image


def _place(label: str, spec: JobSpec, memory_mib: int | None, factor: float, types: list[str], pool: str, observability: bool) -> fit.ExecutorPlacement:
    try:
        return fit.place_executors(
            cores=spec.executor.cores,
            memory_mib=memory_mib,
            overhead_factor=factor,
            instance_types=types,
            fit_auto=spec.fit == "auto",
            observability=observability,
        )
    except sizing.SizingError as err:
        raise JobError([f"{label}: executor.cores: {spec.executor.cores}: {err} (pool {pool})"]) from None


def render_job(spec: JobSpec, *, label: str, config: StackConfig, account_id: str | None = None) -> RenderedJob:
    problems: list[str] = []
    teams = {t.name: t for t in config.teams}
    team: TeamConfig | None = teams.get(spec.team)
    if team is None:
        raise JobError([f"{label}: team: {render(spec.team)}: no such team in stack {spec.stack}; teams: {', '.join(teams) or 'none'}"])
    if spec.pool not in team.pools:
        problems.append(f"{label}: pool: {render(spec.pool)}: team {team.name} may use only {', '.join(team.pools)}")
    pool_cfg = config.karpenter.pools.pool(spec.pool)
    zones = config.pool_zones(pool_cfg)
    if spec.zone is not None and (spec.zone not in zones or spec.zone not in config.pool_zones(config.karpenter.pools.driver)):
        problems.append(f"{label}: zone: {render(spec.zone)}: the {spec.pool} and driver pools run in {', '.join(zones)}")
    account = account_id or config.known_account_id
    if account is None and (config.spark.bucket_name is None or spec.image is None):
        problems.append(
            f"{label}: stack: {render(spec.stack)}: the platform bucket's name and image registry need the AWS account: "
            "set aws:allowedAccountIds in the stack, or pass --account-id"
        )
    for key in sorted(set(spec.spark_conf) & set(SIZING_KEYS)):
        problems.append(
            f"{label}: sparkConf.{key}: {render(spec.spark_conf[key])}: sizes come from the spec, so the platform can check "
            f"and pack them; set {SIZING_KEYS[key]} instead"
        )
    if spec.main_application_file.startswith("https://") and config.network.nat_strategy == "none":
        problems.append(
            f"{label}: mainApplicationFile: {render(spec.main_application_file)}: stack {spec.stack} has no internet egress "
            "(natStrategy none); put the file in S3 (s3a://) or in the image (local://)"
        )
    owned = sorted(set(spec.spark_conf) & set(PLATFORM_OWNED))
    for key in owned:
        problems.append(f"{label}: sparkConf.{key}: {render(spec.spark_conf[key])}: set by the platform; jobs may not override it")
    shuffle = spec.shuffle or team.shuffle
    if shuffle == "celeborn":
        problems.extend(celeborn_problems(label, spec, team, config))
    image = spec.image or _platform_image(spec, label=label, config=config, account=account, problems=problems)
    if problems:
        raise JobError(problems)

    runtime = SPARK_RUNTIMES[spec.spark_version]
    factor = config.spark.non_jvm_memory_overhead_factor if spec.type == "Python" else config.spark.memory_overhead_factor
    executor_mib = sizing.parse_memory_mib(spec.executor.memory) if spec.executor.memory else None
    driver_mib = sizing.parse_memory_mib(spec.driver.memory)
    driver_shape = sizing.ExecutorShape(spec.driver.cores, driver_mib, sizing.memory_overhead_mib(driver_mib, factor))

    pool_name = POOL_NAMES[spec.pool]
    executor_nodes = [sizing.Node.of(t) for t in pool_cfg.instance_types()]
    driver_nodes = [sizing.Node.of(t) for t in config.karpenter.pools.driver.instance_types()]
    if executor_mib is not None:
        _fit(label, "executor", "one executor", sizing.ExecutorShape(spec.executor.cores, executor_mib, sizing.memory_overhead_mib(executor_mib, factor)), executor_nodes, pool_name)
    placement = _place(label, spec, executor_mib, factor, pool_cfg.instance_types(), pool_name, config.observability.enabled)
    executor_shape, request = placement.shape, placement.request_milli
    driver_request = _fit(
        label, "driver", "the driver", driver_shape, driver_nodes, POOL_NAMES["driver"], default="driver" not in spec.model_fields_set
    )

    queue = queue_tree(config).team(team.name)
    limits = team_limits(team, queue)
    for key, shape in (("executor", executor_shape), ("driver", driver_shape)):
        if shape.cores > limits.max_cpu:
            problems.append(
                f"{label}: {key}.cores: {shape.cores}: more than team {team.name} allows per container "
                f"({limits.describe('maxCpu', stack_file(spec.stack))})"
            )
        if shape.pod_memory_mib > memory_mib(limits.max_memory):
            problems.append(
                f"{label}: {key}.memory: {render(getattr(spec, key).memory)}: with overhead "
                f"{mib_text(shape.pod_memory_mib)}, more than team {team.name} allows per container "
                f"({limits.describe('maxMemory', stack_file(spec.stack))})"
            )
    if problems:
        raise JobError(problems)

    bucket = config.resolved_bucket_name(spec.stack, account or "")
    conf = {
        **platform_spark_conf(runtime=runtime, team=team.name, bucket=bucket, region=config.region),
        **sizing_spark_conf(executors=spec.executor.instances, cores=spec.executor.cores, shuffle_partitions=spec.shuffle_partitions),
        **spec.spark_conf,
    }
    if shuffle == "celeborn":
        conf = with_celeborn(conf, spec.spark_version, celeborn=config.spark.shuffle.celeborn)

    selector = {POOL_LABEL: pool_name}
    driver_selector = {POOL_LABEL: POOL_NAMES["driver"]}
    if spec.zone:
        selector["topology.kubernetes.io/zone"] = spec.zone
        driver_selector["topology.kubernetes.io/zone"] = spec.zone
    labels = {"spark-on-eks.io/team": team.name, "spark-on-eks.io/spark-line": spec.spark_version}

    driver: dict[str, Any] = {
        "cores": spec.driver.cores,
        "coreRequest": f"{driver_request}m",
        "memory": sizing.format_mib(driver_mib),
        "memoryOverhead": sizing.format_mib(driver_shape.overhead_mib),
        "serviceAccount": "spark",
        "priorityClassName": "spark-driver",
        "nodeSelector": driver_selector,
        "tolerations": _tolerate(POOL_NAMES["driver"]),
        # Karpenter never takes a node away from under a running driver.
        "annotations": {"karpenter.sh/do-not-disrupt": "true"},
        "labels": labels,
    }
    executor: dict[str, Any] = {
        "instances": spec.executor.instances,
        "cores": spec.executor.cores,
        "coreRequest": f"{request}m",
        "memory": sizing.format_mib(executor_shape.memory_mib),
        "memoryOverhead": sizing.format_mib(executor_shape.overhead_mib),
        "serviceAccount": "spark",
        "priorityClassName": "spark-executor",
        "nodeSelector": selector,
        "tolerations": _tolerate(pool_name),
        "labels": labels,
    }
    if placement.affinity():
        executor["affinity"] = placement.affinity()
    app_spec: dict[str, Any] = {
        "type": spec.type,
        "mode": "cluster",
        "sparkVersion": runtime.spark_version,
        # One image for driver and executors: the line's platform image (Spark, S3A, Dataflint) by digest.
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "mainApplicationFile": spec.main_application_file,
        **({"mainClass": spec.main_class} if spec.main_class else {}),
        **({"pythonVersion": "3"} if spec.type == "Python" else {}),
        "arguments": list(spec.arguments),
        "sparkConf": dict(sorted(conf.items())),
        "restartPolicy": {"type": "Never"},
        # Finished applications (and their driver pods) are cleaned up after a week.
        "timeToLiveSeconds": 7 * 24 * 3600,
        "driver": driver,
        "executor": executor,
    }
    if spec.packages:
        # Only what the job asks for beyond the image is resolved at start (needs egress to Maven Central).
        app_spec["deps"] = {"packages": list(spec.packages)}
        app_spec["sparkConf"]["spark.jars.ivy"] = "/tmp/.ivy2"
    # The job's own files (s3a:// or local:// in the image), as spark-submit's --jars, --py-files, --files.
    for key, values in (("jars", spec.jars), ("pyFiles", spec.py_files), ("files", spec.files)):
        if values:
            app_spec.setdefault("deps", {})[key] = list(values)
    if spec.dynamic_allocation:
        app_spec["dynamicAllocation"] = {
            "enabled": True,
            # Celeborn holds the shuffle: executors need not stay alive for it (see sparkeks/spark/celeborn.py).
            "shuffleTrackingEnabled": shuffle != "celeborn",
            "minExecutors": 0,
            "initialExecutors": spec.executor.instances,
            "maxExecutors": spec.executor.instances,
        }
    if spec.pool == "executorNvme":
        # Volumes named spark-local-dir-* become Spark's local dirs; on the nvme class the kubelet's
        # storage, and so this emptyDir, is the RAID0 of the instance-store disks.
        app_spec["volumes"] = [{"name": "spark-local-dir-1", "emptyDir": {}}]
        executor["volumeMounts"] = [{"name": "spark-local-dir-1", "mountPath": NVME_LOCAL_DIR}]
    if config.spark.batch_scheduler == "yunikorn":
        app_spec["batchScheduler"] = "yunikorn"
        # Informational: YuniKorn places by namespace, whatever queue a job names.
        app_spec["batchSchedulerOptions"] = {"queue": queue_path(team.name, team.org)}
        driver["annotations"].update(driver_annotations(config.spark.gang_timeout))

    application = {
        "apiVersion": SPARK_APPLICATION_API,
        "kind": "SparkApplication",
        "metadata": {"name": spec.name, "namespace": team.name, "labels": labels},
        "spec": app_spec,
    }
    warnings = share_warnings(
        label,
        spec,
        team,
        queue,
        (request, executor_shape.pod_memory_mib),
        (driver_request, driver_shape.pod_memory_mib),
        elastic=config.spark.batch_scheduler == "yunikorn",
    )
    return RenderedJob(application, request, placement.executors_per_node, placement, warnings)


def render_spec_file(path: Path, *, project_dir: Path, account_id: str | None = None) -> RenderedJob:
    from sparkeks.plan.runner import PlanError, load_stack

    spec = load_spec(path)
    try:
        config = load_stack(spec.stack, project_dir)
    except (PlanError, ConfigError) as err:
        lines = err.lines if isinstance(err, PlanError) else err.problems
        raise JobError([f"{path}: stack: {render(spec.stack)}: {lines[0]}", *lines[1:]]) from None
    return render_job(spec, label=str(path), config=config, account_id=account_id)
