"""Stack config: a DR stack's link to its primary (`dr`)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from sparkeks.config.base import (
    ConfigModel,
    _no_duplicates,
    bucket_name_problem,
    problem,
)


class DisasterRecoveryConfig(ConfigModel):
    primary_stack: str = Field(
        description="The primary's stack, as a StackReference names it (`<org>/spark-on-eks/<stack>`; the last part is its stack file)."
    )
    capacity_scale: float = Field(
        0.1, gt=0, le=1, description="Share of this file's Spark pool limits and team queues (guaranteed, max) the stack deploys: 0.1 on standby, 1 after failover."
    )
    replicate_buckets: list[str] = Field(
        default_factory=list,
        description="Primary team data buckets (versioned) to replicate into `<bucket>-<copySuffix>` here; event logs are always replicated.",
    )
    copy_suffix: str = Field(
        "dr",
        pattern=r"^[a-z0-9][a-z0-9-]{0,29}$",
        description="Suffix of the replicated copies' bucket names; `dr init` derives it from the DR stack's name, so two DR stacks never share a copy.",
    )
    replication_time_control: bool = Field(
        True, description="S3 Replication Time Control: 99.99% of objects copied within 15 minutes (the RPO), at extra cost."
    )

    @field_validator("primary_stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        if not re.match(r"^([\w.-]+/){0,2}[\w.-]+$", value):
            raise problem("must be a stack name like prod or <org>/spark-on-eks/prod")
        return value

    @field_validator("replicate_buckets")
    @classmethod
    def _buckets(cls, values: list[str]) -> list[str]:
        for value in values:
            if bucket_name_problem(value):
                raise problem(f"{value!r} is not an S3 bucket name")
        return _no_duplicates(values)

    @model_validator(mode="after")
    def _copies_fit(self) -> DisasterRecoveryConfig:
        for value in self.replicate_buckets:
            if len(value) + 1 + len(self.copy_suffix) > 63:
                raise problem(f"its copy {value}-{self.copy_suffix} would be longer than an S3 name may be (63)", key="replicateBuckets", value=value)
        return self

    def copy_of(self, bucket: str) -> str:
        """The name of this stack's replica of a primary bucket."""
        return f"{bucket}-{self.copy_suffix}"

    @property
    def primary_stack_file(self) -> str:
        return self.primary_stack.rsplit("/", 1)[-1]
