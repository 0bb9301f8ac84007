"""Stack config: the Spark platform (`spark.*`) and the History Server (`historyServer.*`)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sparkeks import versions
from sparkeks.config.base import (
    Cidr,
    ConfigModel,
    CpuQuantity,
    Duration,
    bucket_name_problem,
    duration_seconds,
    problem,
)
from sparkeks.config.shuffle import ShuffleConfig
from sparkeks.config.sizes import SizeError, jvm_heap


class SparkPlatformConfig(ConfigModel):
    batch_scheduler: Literal["none", "yunikorn"] = Field(
        "yunikorn",
        description="`yunikorn`: elastic team queues (guaranteed shares given back by preemption, idle capacity lent, gang scheduling). "
        "`none`: hard quotas, no borrowing (each team's max is a fixed ResourceQuota; idle capacity stays idle).",
    )
    preemption_delay: Duration = Field(
        "2m",
        description="How long a team below its guaranteed share waits before YuniKorn preempts borrowed executors (30s-1h).",
    )
    gang_timeout: Duration = Field(
        "10m",
        description="How long a job's gang reservation (driver and initial executors) may wait half-placed before it is released (1m-1h).",
    )
    network_policies: bool | None = Field(
        None,
        description="Isolate team namespaces and the shared services (History Servers, Loki) with NetworkPolicies (turns on the VPC CNI's policy engine). Default: true in prod.",
    )
    memory_overhead_factor: float = Field(
        0.2, ge=0.1, le=1.0, description="JVM executor and driver memory overhead as a share of memory (Kubernetes kills at the limit)."
    )
    non_jvm_memory_overhead_factor: float = Field(
        0.4, ge=0.1, le=1.0, description="Overhead share for PySpark and other non-JVM jobs (Python workers live outside the JVM heap)."
    )
    event_log_retention_days: int = Field(90, ge=1, le=3650, description="Days Spark event logs are kept in the platform bucket.")
    bucket_name: str | None = Field(
        None,
        description="Platform bucket (event logs, shuffle fallback). Default: `<clusterName>-spark-<account id>`.",
    )
    force_destroy_buckets: bool = Field(
        False, description="Let `pulumi destroy` empty and delete the platform bucket (dev only; refused in prod)."
    )
    shuffle: ShuffleConfig = Field(default_factory=ShuffleConfig, description="Where shuffle data lives: executors' disks, or a Celeborn service.")

    @field_validator("preemption_delay")
    @classmethod
    def _preemption_delay(cls, value: str) -> str:
        if not 30 <= duration_seconds(value) <= 3600:
            raise problem("must be between 30s (executors get to start) and 1h (a guarantee must come back in bounded time)")
        return value

    @field_validator("gang_timeout")
    @classmethod
    def _gang_timeout(cls, value: str) -> str:
        if not 60 <= duration_seconds(value) <= 3600:
            raise problem("must be between 1m (Karpenter needs time to add nodes) and 1h")
        return value

    @field_validator("bucket_name")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and (reason := bucket_name_problem(value)):
            raise problem(reason)
        return value


class HistoryServerAccessConfig(ConfigModel):
    """People's way into a team's History Server: an OIDC login in front of it (oauth2-proxy)."""

    enabled: bool | None = Field(
        None,
        description="Put an OIDC login (oauth2-proxy) in front of each team's server that lets in only the team's `group`. Default: true in prod; off elsewhere, with a warning in the plan.",
    )
    issuer_url: str | None = Field(
        None, json_schema_extra={"documented_default": "none: required with access"}, description="OIDC issuer URL of the identity provider (https)."
    )
    client_id: str | None = Field(
        None, json_schema_extra={"documented_default": "none: required with access"}, description="OIDC client id registered for the History Servers."
    )
    groups_claim: str = Field("groups", description="ID-token claim that lists a person's groups.")
    issuer_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Private address ranges of the identity provider (peering, Direct Connect, a private cluster's only way to it): the login may reach them on 443. A public provider needs none.",
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "email", "profile"], description="Scopes requested at login (add the one your provider needs for the groups claim)."
    )

    @field_validator("issuer_url")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/$.?#][^\s]*$", value):
            raise problem("must be an https:// URL (the provider's issuer)")
        return value

    @field_validator("client_id", "groups_claim")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9._:@/-]{1,256}$", value):
            raise problem("must be 1-256 characters of letters, digits and . _ : @ / -")
        return value


class HistoryServerConfig(ConfigModel):
    enabled: bool = Field(True, description="Run the Spark History Server (one per team, each reading its team's event logs).")
    spark_line: str = Field(
        versions.NEWEST_SPARK,
        description="Spark line of the server's platform image (with its Dataflint); reads event logs of this line and older ones.",
    )
    dataflint_telemetry: bool = Field(False, description="Let Dataflint's UI report usage telemetry.")
    replicas: int = Field(2, ge=1, le=5, description="Servers per team while it runs; two keep the UI up while a node drains.")
    on_demand: bool = Field(
        True,
        description="Team servers start at zero pods; a team starts its own with `kubectl scale` (a per-team Role allows it) and stops it the same way. `false` keeps every team's server running.",
    )
    max_running: int = Field(
        4, ge=1, le=500, description="Most History Server pods running at once across all teams (a ResourceQuota): bounds their memory whatever the number of teams."
    )
    heap: str = Field("2g", description="JVM heap of each server (memory request and limit add 1g).")
    cpu: CpuQuantity = Field("500m", description="CPU request of each server.")
    store_size_gib: int = Field(20, ge=5, le=1000, description="Ephemeral gp3 volume for the server's local (hybrid) store, GiB.")
    update_interval: Duration = Field("30s", description="How often the server checks S3 for new and updated event logs.")
    retained_applications: int = Field(50, ge=1, le=1000, description="Application UIs kept in memory.")
    internal_load_balancer: bool = Field(
        False, description="Expose each server through an internal NLB (VPC only); otherwise use kubectl port-forward."
    )
    access: HistoryServerAccessConfig = Field(
        default_factory=HistoryServerAccessConfig, description="OIDC login in front of each team's server (people's access)."
    )

    @field_validator("spark_line")
    @classmethod
    def _line(cls, value: str) -> str:
        if value not in versions.SPARK_RUNTIMES:
            raise problem(f"has no platform image; supported: {', '.join(versions.SPARK_RUNTIMES)}")
        return value

    @field_validator("heap", mode="before")
    @classmethod
    def _heap(cls, value: Any) -> Any:
        # SPARK_DAEMON_MEMORY becomes the server's -Xmx, which takes only whole sizes with a unit.
        try:
            return jvm_heap(value, floor_mib=512, who="a History Server")
        except SizeError as err:
            raise problem(str(err)) from None

    @model_validator(mode="after")
    def _room_for_a_server(self) -> HistoryServerConfig:
        if self.max_running < self.replicas:
            raise problem(
                f"must leave room for one team's {self.replicas} replicas (historyServer.replicas)", key="maxRunning", value=self.max_running
            )
        return self
