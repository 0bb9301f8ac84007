"""The job spec: what a data engineer writes. Everything else comes from the platform."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sparkeks.config.model import ConfigModel, problem
from sparkeks.config.sizes import mib_text
from sparkeks.spark.sizing import SizingError, parse_memory_mib
from sparkeks.versions import DEFAULT_SPARK_LINE, SPARK_RUNTIMES

# Schemes of a main application file the platform's images read.
MAIN_FILE_SCHEMES = ("s3a", "local", "https")
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")


# Spark refuses a driver or executor heap under 450 MiB (1.5 x its 300 MiB reserved memory) at start-up;
# the floor leaves room for some work, and catches `memory: "14"` (14 MiB to Spark) meant as 14g.
MIN_HEAP_MIB = 512


def _memory(value: Any, who: str) -> Any:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            mib = parse_memory_mib(value)
        except SizingError as err:
            raise problem(str(err)) from None
        if mib < MIN_HEAP_MIB:
            unitless = str(value).strip().isdigit()
            hint = f"; a number without a unit is MiB to Spark: did you mean {str(value).strip()}g?" if unitless else ""
            raise problem(f"{mib_text(mib)} is below the {MIN_HEAP_MIB} MiB {who} needs (Spark refuses less than 450 MiB){hint}")
        return str(value)
    return value


class DriverSpec(ConfigModel):
    cores: int = Field(1, ge=1, le=64, description="Driver cores.")
    memory: str = Field("4g", description="Driver JVM heap, a Spark memory size (4g, 4096m).")

    _check_memory = field_validator("memory", mode="before")(lambda cls, v: _memory(v, "a driver"))


class ExecutorSpec(ConfigModel):
    instances: int = Field(ge=1, le=10000, description="Executors (the most, with dynamic allocation).")
    cores: int = Field(ge=1, le=64, description="Task slots per executor.")
    memory: str | None = Field(
        None, description="Executor JVM heap, a Spark memory size (14g); leave out with `fit: auto` to get the heap that fills the node."
    )

    _check_memory = field_validator("memory", mode="before")(lambda cls, v: _memory(v, "an executor"))


class JobSpec(ConfigModel):
    name: str = Field(description="Application name (lowercase, digits, hyphens).")
    stack: str = Field(description="Stack whose platform runs the job (stacks/Pulumi.<stack>.yaml).")
    team: str = Field(description="Team (namespace) that owns the job.")
    spark_version: str = Field(
        DEFAULT_SPARK_LINE, description="Spark line, e.g. \"4.1\" or \"4.2\": picks the platform image (Spark, S3A, Dataflint)."
    )
    type: Literal["Scala", "Java", "Python"] = Field("Scala", description="Application language.")
    image: str | None = Field(None, description="Own image by digest (repo@sha256:..., same Spark line, S3A and Dataflint inside); default: the platform image.")
    main_application_file: str = Field(description="Application jar or Python file (s3a://, local://).")
    main_class: str | None = Field(None, description="Main class of a Scala/Java application.")
    arguments: list[str] = Field(default_factory=list, description="Application arguments.")
    driver: DriverSpec = Field(default_factory=DriverSpec, description="Driver size.")
    executor: ExecutorSpec = Field(description="Executor count and size.")
    fit: Literal["auto", "off"] = Field(
        "auto",
        description="auto: executors fill their nodes (shape advice, and node requirements for the instance category that matches); off: the pool's nodes as they come.",
    )
    pool: Literal["executor", "executorNvme"] = Field("executor", description="Executor pool; executorNvme for shuffle-heavy jobs.")
    zone: str | None = Field(None, description="Pin the driver and all executors to one zone (no cross-zone shuffle traffic).")
    shuffle: Literal["local", "celeborn"] | None = Field(
        None,
        description="local: shuffle on executor disks (decommission and S3 fallback); celeborn: the stack's Celeborn service. Default: the team's.",
    )
    dynamic_allocation: bool = Field(True, description="Scale executors with the work (up to executor.instances).")
    shuffle_partitions: int | None = Field(None, ge=1, description="spark.sql.shuffle.partitions; default executors x cores.")
    packages: list[str] = Field(default_factory=list, description="Extra Maven packages (group:artifact:version).")
    jars: list[str] = Field(default_factory=list, description="Extra jars on the classpath (s3a:// or local:// paths).")
    py_files: list[str] = Field(default_factory=list, description="Python files, zips or eggs for a PySpark job (s3a:// or local:// paths).")
    files: list[str] = Field(default_factory=list, description="Files placed in each executor's working directory (s3a:// or local:// paths).")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark settings (platform-owned ones are refused).")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise problem("must be 1-40 characters: lowercase letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        from sparkeks.plan.runner import STACK_NAME

        if not STACK_NAME.match(value):
            raise problem("must be a stack name (stacks/Pulumi.<stack>.yaml): letters, digits, hyphens, underscores and periods")
        return value

    @field_validator("spark_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        supported = ", ".join(SPARK_RUNTIMES)
        if isinstance(value, float):
            raise problem(f"must be a quoted string (YAML read a number); supported: {supported}")
        if isinstance(value, str) and value not in SPARK_RUNTIMES:
            raise problem(f"has no pinned image and Dataflint build; supported Spark lines: {supported}")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^\s@]+@sha256:[0-9a-f]{64}$", value):
            raise problem("must name the image by digest (repository@sha256:<64 hex>): a tag can change under a running job")
        return value

    @field_validator("packages")
    @classmethod
    def _packages(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^[\w.-]+:[\w.-]+:[\w.-]+$", value):
                raise problem(f"{value!r} is not group:artifact:version")
        return values

    @field_validator("main_application_file")
    @classmethod
    def _main_file(cls, value: str) -> str:
        # What the driver pod can fetch: S3 through S3A (the images carry hadoop-aws), a file inside the
        # image, or an HTTPS URL. s3:// has no filesystem in Spark's Hadoop; a bare path is on the laptop.
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        if scheme is None or scheme[1].lower() == "file":
            raise problem(
                "a path on your machine, which the driver pod cannot see; upload it to s3a://<bucket>/... "
                "or build it into the image and write local:///path/in/image"
            )
        name = scheme[1].lower()
        if name in ("s3", "s3n"):
            raise problem(f"Spark reads S3 through S3A here; write s3a://{value[len(scheme[0]):]}")
        if name not in MAIN_FILE_SCHEMES:
            raise problem(f"scheme {name}:// is not read by the platform; use s3a://, local:// (in the image) or https://")
        return value

    @model_validator(mode="after")
    def _memory_or_fit(self) -> JobSpec:
        if self.executor.memory is None and self.fit == "off":
            raise problem("is required with fit: off (fit: auto chooses it when left out)", key="executor.memory", value=None)
        return self

    @model_validator(mode="after")
    def _main(self) -> JobSpec:
        if self.type in ("Scala", "Java") and not self.main_class:
            raise problem(f"is required for {self.type} applications", key="mainClass", value=None)
        if self.type == "Python" and not self.main_application_file.endswith(".py"):
            raise problem("a Python application's main file ends in .py", key="mainApplicationFile", value=self.main_application_file)
        return self
