"""spark-submit command lines from YARN into job specs.

Each option either becomes a job-spec key, is left to the platform (which derives it the same way or
better), or has no equivalent on Kubernetes; every decision is reported, none is silent.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from sparkeks.spark.defaults import PLATFORM_OWNED, parallelism
from sparkeks.spark.sizing import SizingError, format_mib, memory_overhead_mib, parse_memory_mib


class MigrateError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Migration:
    """One command line's job spec and what happened to each of its settings."""

    spec: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    stack: str
    team: str
    spark_version: str
    memory_overhead_factor: float = 0.2
    non_jvm_memory_overhead_factor: float = 0.4


# Options that take a value, and those that do not.
_VALUED = {
    "--master", "--deploy-mode", "--class", "--name", "--jars", "--packages", "--exclude-packages", "--repositories",
    "--py-files", "--files", "--archives", "--conf", "-c", "--properties-file", "--driver-memory", "--driver-java-options",
    "--driver-library-path", "--driver-class-path", "--executor-memory", "--proxy-user", "--driver-cores", "--executor-cores",
    "--num-executors", "--queue", "--principal", "--keytab", "--total-executor-cores",
}
_FLAGS = {"--verbose", "-v", "--supervise"}
_NAME_CHARS = re.compile(r"[^a-z0-9-]+")

# spark.yarn.* settings and what replaces them on the platform.
_YARN_EQUIVALENTS = {
    "spark.yarn.queue": "teams replace YARN queues: the job runs in its team's namespace (YuniKorn queue root.<team> when enabled)",
    "spark.yarn.maxAppAttempts": "no equivalent: the platform runs applications with restartPolicy Never; rerun from the scheduler",
    "spark.yarn.executor.memoryOverhead": "the platform sets spark.executor.memoryOverhead from executor memory",
    "spark.yarn.driver.memoryOverhead": "the platform sets spark.driver.memoryOverhead from driver memory",
    "spark.yarn.am.memory": "no equivalent: there is no ApplicationMaster; the driver runs in the cluster",
    "spark.yarn.am.cores": "no equivalent: there is no ApplicationMaster; the driver runs in the cluster",
    "spark.yarn.submit.waitAppCompletion": "no equivalent: the Spark Operator submits and tracks the application",
    "spark.yarn.dist.files": "use files: (s3a:// paths) or bake them into the image",
    "spark.yarn.dist.archives": "bake archives into the image, or use spark.archives with s3a:// paths",
    "spark.yarn.dist.jars": "use jars: (s3a:// paths) or bake them into the image",
    "spark.yarn.jars": "no equivalent: the image carries Spark's jars",
    "spark.yarn.archive": "no equivalent: the image carries Spark's jars",
    "spark.yarn.tags": "no equivalent: use Kubernetes labels (the platform labels team and Spark line)",
}
_DROPPED_WITH_REASON = {
    "spark.master": "the Spark Operator submits to Kubernetes",
    "spark.submit.deployMode": "the Spark Operator runs applications in cluster mode",
    "spark.shuffle.service.enabled": "no external shuffle service on Kubernetes: the platform uses shuffle tracking and "
    "decommissioning with S3 fallback storage instead",
    "spark.dynamicAllocation.minExecutors": "the platform scales from 0 executors up to executor.instances",
    "spark.dynamicAllocation.initialExecutors": "the platform starts with executor.instances",
    "spark.executor.memoryOverheadFactor": "the stack's spark.memoryOverheadFactor sets the overhead share",
}


def _name(text: str) -> str:
    """A Kubernetes name from --name, or from the application file (aggregate-assembly-2.0.0.jar -> aggregate-assembly)."""
    base = text
    if text.endswith((".py", ".jar")) or "/" in text:
        base = re.sub(r"[-_]v?[0-9][\w.]*$", "", text.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    name = _NAME_CHARS.sub("-", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", base).lower()).strip("-")
    name = name.lstrip("0123456789-")[:40].rstrip("-")
    return name or "migrated-job"


def _s3a(path: str, notes: list[str], what: str) -> str:
    if path.startswith(("s3://", "s3n://")):
        new = "s3a://" + path.split("://", 1)[1]
        notes.append(f"{what}: {path} -> {new} (the platform reads S3 through S3A with the pod's identity)")
        return new
    if path.startswith("hdfs://") or path.startswith("/") or path.startswith("file:") or "://" not in path:
        notes.append(f"{what}: {path}: not reachable from Kubernetes (no HDFS, no gateway host): copy it to S3 and use its s3a:// path")
    return path


def _memory(value: str, what: str) -> int:
    try:
        return parse_memory_mib(value)
    except SizingError as err:
        raise MigrateError([f"{what}: {value!r}: {err}"]) from None


def _int(value: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise MigrateError([f"{what}: {value!r}: must be a whole number of 1 or more"])
    return int(value)


def _conf_pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise MigrateError([f"--conf: {text!r}: must be key=value"])
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _tokens(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Options (each may repeat) and the positional arguments: application file, then its arguments."""
    options: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    if argv and argv[0].rsplit("/", 1)[-1] in ("spark-submit", "spark-submit.sh", "pyspark"):
        i = 1
    while i < len(argv):
        token = argv[i]
        if rest:
            rest.append(token)
        elif token.startswith("--") and "=" in token and token.split("=", 1)[0] in _VALUED:
            key, value = token.split("=", 1)
            options.setdefault(key, []).append(value)
        elif token in _VALUED:
            if i + 1 >= len(argv):
                raise MigrateError([f"{token}: needs a value"])
            options.setdefault("--conf" if token == "-c" else token, []).append(argv[i + 1])
            i += 1
        elif token in _FLAGS:
            options.setdefault(token, []).append("")
        elif token.startswith("-"):
            raise MigrateError([f"{token}: not a spark-submit option"])
        else:
            rest.append(token)
        i += 1
    if not rest:
        raise MigrateError(["no application jar or Python file in the command line"])
    return options, rest


def _last(options: dict[str, list[str]], key: str) -> str | None:
    values = options.get(key)
    return values[-1] if values else None


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def migrate_command(argv: list[str], target: Target) -> Migration:
    """A job spec for `target` from one spark-submit command line (already split into words)."""
    options, positional = _tokens(argv)
    notes: list[str] = []
    conf: dict[str, str] = {}
    for pair in options.get("--conf", []):
        key, value = _conf_pair(pair)
        conf[key] = value

    app_file = _s3a(positional[0], notes, "application")
    arguments = positional[1:]
    python = app_file.endswith(".py")
    main_class = _last(options, "--class")
    name_source = _last(options, "--name") or conf.pop("spark.app.name", None) or positional[0]
    name = _name(name_source)
    if name != name_source:
        notes.append(f"name: {name_source!r} -> {name!r} (Kubernetes names: lowercase letters, digits, hyphens)")

    for flag, why in (
        ("--master", "the Spark Operator submits to Kubernetes"),
        ("--deploy-mode", "the Spark Operator runs applications in cluster mode"),
        ("--supervise", "no equivalent: restartPolicy Never; rerun from the scheduler"),
        ("--verbose", "dropped"),
        ("-v", "dropped"),
        ("--principal", "no Kerberos: the job's team identity (EKS Pod Identity) reaches S3"),
        ("--keytab", "no Kerberos: the job's team identity (EKS Pod Identity) reaches S3"),
        ("--proxy-user", "no equivalent: the job runs as its team's service account"),
        ("--total-executor-cores", "standalone-only; use --num-executors x --executor-cores"),
        ("--properties-file", "not read: pass its settings as --conf"),
    ):
        if flag in options:
            value = _last(options, flag)
            notes.append(f"{flag}{' ' + value if value else ''}: {why}")
    queue = _last(options, "--queue") or conf.pop("spark.yarn.queue", None)
    if queue is not None:
        notes.append(f"queue {queue}: {_YARN_EQUIVALENTS['spark.yarn.queue']}; team {target.team}")

    # Sizes: flags first, then the equivalent --conf keys (spark-submit gives flags precedence).
    def pick(flag: str, key: str) -> str | None:
        flag_value, conf_value = _last(options, flag), conf.pop(key, None)
        return flag_value if flag_value is not None else conf_value

    instances_text = pick("--num-executors", "spark.executor.instances")
    cores_text = pick("--executor-cores", "spark.executor.cores")
    memory_text = pick("--executor-memory", "spark.executor.memory")
    driver_memory_text = pick("--driver-memory", "spark.driver.memory")
    driver_cores_text = pick("--driver-cores", "spark.driver.cores")
    dynamic_text = conf.pop("spark.dynamicAllocation.enabled", None)
    max_executors = conf.pop("spark.dynamicAllocation.maxExecutors", None)

    cores = _int(cores_text, "--executor-cores") if cores_text else 1
    if cores_text is None:
        notes.append("--executor-cores: not set; YARN's default is 1 core per executor")
    if instances_text is not None:
        instances = _int(instances_text, "--num-executors")
    elif max_executors is not None:
        instances = _int(max_executors, "spark.dynamicAllocation.maxExecutors")
    else:
        instances = 2
        notes.append("--num-executors: not set; YARN's default is 2 executors (set executor.instances to the most the job needs)")
    executor_mib = _memory(memory_text, "--executor-memory") if memory_text else 1024
    if memory_text is None:
        notes.append("--executor-memory: not set; Spark's default is 1g")
    factor = target.non_jvm_memory_overhead_factor if python else target.memory_overhead_factor

    for key, role, heap in (("spark.executor.memoryOverhead", "executor", executor_mib), ("spark.yarn.executor.memoryOverhead", "executor", executor_mib)):
        if key in conf:
            asked = _memory(conf.pop(key), key)
            _overhead_note(notes, key, role, asked, heap, factor)
    driver_mib = _memory(driver_memory_text, "--driver-memory") if driver_memory_text else None
    for key in ("spark.driver.memoryOverhead", "spark.yarn.driver.memoryOverhead"):
        if key in conf:
            asked = _memory(conf.pop(key), key)
            _overhead_note(notes, key, "driver", asked, driver_mib or 1024, factor)

    tasks = parallelism(instances, cores)
    default_parallelism = conf.get("spark.default.parallelism")
    if default_parallelism is not None and default_parallelism.strip() == str(tasks):
        del conf["spark.default.parallelism"]
        notes.append(f"spark.default.parallelism={tasks}: the platform derives executors x cores = {tasks}; same")
    shuffle_partitions = conf.pop("spark.sql.shuffle.partitions", None)
    shuffle = None
    if shuffle_partitions is not None:
        if shuffle_partitions.strip() == str(tasks):
            notes.append(f"spark.sql.shuffle.partitions={tasks}: the platform derives executors x cores = {tasks}; same")
        else:
            shuffle = _int(shuffle_partitions, "spark.sql.shuffle.partitions")

    for key in sorted(conf):
        if key in PLATFORM_OWNED:
            notes.append(f"{key}: set by the platform (History Server, IAM and pools rely on it); dropped")
            del conf[key]
        elif key in _DROPPED_WITH_REASON:
            notes.append(f"{key}={conf.pop(key)}: {_DROPPED_WITH_REASON[key]}")
        elif key.startswith("spark.yarn."):
            why = _YARN_EQUIVALENTS.get(key, "YARN-only, no equivalent on Kubernetes")
            notes.append(f"{key}={conf.pop(key)}: {why}; dropped")
    if "--driver-java-options" in options:
        conf["spark.driver.extraJavaOptions"] = _last(options, "--driver-java-options") or ""
    if "--driver-class-path" in options:
        conf["spark.driver.extraClassPath"] = _last(options, "--driver-class-path") or ""
    if "--driver-library-path" in options:
        conf["spark.driver.extraLibraryPath"] = _last(options, "--driver-library-path") or ""
    if "--repositories" in options:
        conf["spark.jars.repositories"] = _last(options, "--repositories") or ""
    if "--exclude-packages" in options:
        conf["spark.jars.excludes"] = _last(options, "--exclude-packages") or ""
    if "--archives" in options:
        conf["spark.archives"] = ",".join(_s3a(a, notes, "--archives") for a in _csv(_last(options, "--archives")))

    spec: dict[str, Any] = {
        "name": name,
        "stack": target.stack,
        "team": target.team,
        "sparkVersion": target.spark_version,
        "type": "Python" if python else "Scala",
        "mainApplicationFile": app_file,
    }
    if main_class and not python:
        spec["mainClass"] = main_class
    elif not python:
        raise MigrateError([f"{app_file}: a jar application needs --class"])
    if arguments:
        spec["arguments"] = arguments
    driver: dict[str, Any] = {}
    if driver_cores_text:
        driver["cores"] = _int(driver_cores_text, "--driver-cores")
    if driver_mib is not None:
        driver["memory"] = format_mib(driver_mib)
    if driver:
        spec["driver"] = driver
    spec["executor"] = {"instances": instances, "cores": cores, "memory": format_mib(executor_mib)}
    if dynamic_text is not None:
        dynamic = dynamic_text.strip().lower() == "true"
        spec["dynamicAllocation"] = dynamic
        notes.append(
            f"spark.dynamicAllocation.enabled={dynamic_text}: "
            + ("scales 0..executor.instances with shuffle tracking (no external shuffle service)" if dynamic else "kept off")
        )
    else:
        notes.append("dynamic allocation: not set on the line; the platform scales executors 0..executor.instances (dynamicAllocation: false keeps a fixed count)")
    if shuffle is not None:
        spec["shufflePartitions"] = shuffle
    packages = _csv(_last(options, "--packages"))
    if packages:
        spec["packages"] = packages
    for flag, key in (("--jars", "jars"), ("--py-files", "pyFiles"), ("--files", "files")):
        values = [_s3a(v, notes, flag) for v in _csv(_last(options, flag))]
        if values:
            spec[key] = values
    if conf:
        spec["sparkConf"] = dict(sorted(conf.items()))
    return Migration(spec, notes)


def _overhead_note(notes: list[str], key: str, role: str, asked: int, heap: int, factor: float) -> None:
    platform = memory_overhead_mib(heap, factor)
    if asked == platform:
        notes.append(f"{key}={format_mib(asked)}: the platform sets {factor:.0%} of {format_mib(heap)} = {format_mib(platform)}; same")
    elif asked > platform:
        notes.append(
            f"{key}={format_mib(asked)}: the platform sets {format_mib(platform)} ({factor:.0%} of {format_mib(heap)}); "
            f"to keep {format_mib(asked)}, raise {role}.memory or the stack's overhead factor"
        )
    else:
        notes.append(f"{key}={format_mib(asked)}: the platform sets more, {format_mib(platform)} ({factor:.0%} of {format_mib(heap)})")


def split_lines(text: str) -> list[tuple[int, list[str]]]:
    """Command lines of a file: one per line, `\\` continues a line, `#` starts a comment, blanks skipped."""
    commands: list[tuple[int, list[str]]] = []
    buffer, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        try:
            commands.append((start, shlex.split(buffer, comments=True)))
        except ValueError as err:
            raise MigrateError([f"line {start}: cannot split into words: {err}"]) from None
        buffer = ""
    if buffer:
        raise MigrateError([f"line {start}: ends with a continuation backslash"])
    return commands
