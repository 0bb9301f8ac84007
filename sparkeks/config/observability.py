"""Stack config: monitoring and logging (`observability.*`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sparkeks.config.base import (
    ConfigModel,
    MemoryQuantity,
    problem,
)


class PrometheusConfig(ConfigModel):
    retention: str = Field("15d", description="How long Prometheus keeps metrics, e.g. 15d.")
    storage_gib: int = Field(50, ge=10, le=16384, description="gp3 volume of Prometheus, GiB.")
    memory: MemoryQuantity = Field("4Gi", description="Prometheus memory request and limit.")

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not re.match(r"^[0-9]+(h|d|w|y)$", value):
            raise problem("must be a Prometheus duration like 15d, 2w or 720h")
        return value


class LokiConfig(ConfigModel):
    storage: Literal["filesystem", "s3"] = Field(
        "filesystem", description="`filesystem`: one Loki with a gp3 volume (dev). `s3`: Loki replicas on a protected S3 bucket (prod)."
    )
    replicas: int = Field(1, ge=1, le=9, description="Loki replicas (more than one needs s3 storage).")
    retention_days: int = Field(30, ge=1, le=3650, description="Days logs are kept (Loki's compactor deletes older ones).")
    volume_gib: int = Field(50, ge=10, le=16384, description="gp3 volume per Loki replica (the whole store with filesystem; WAL and cache with s3).")

    @model_validator(mode="after")
    def _replicas_need_object_storage(self) -> LokiConfig:
        if self.replicas > 1 and self.storage == "filesystem":
            raise problem("more than one Loki replica needs storage: s3 (replicas share the object store)", key="replicas", value=self.replicas)
        return self


class ObservabilityConfig(ConfigModel):
    enabled: bool = Field(True, description="Prometheus, Alertmanager, Grafana, Loki and Fluent Bit, with Spark dashboards and alerts.")
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig, description="Prometheus.")
    loki: LokiConfig = Field(default_factory=LokiConfig, description="Loki.")
    slack_channel: str | None = Field(
        None, description="Slack channel for alerts (with the secret `alertmanagerSlackWebhookUrl`); without both, alerts stay in Alertmanager."
    )
    tempo_url: str | None = Field(None, description="URL of an existing Tempo for traces, added as a Grafana datasource.")

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^#[a-z0-9_-]{1,80}$", value):
            raise problem("must be a Slack channel like #data-platform-alerts")
        return value

    @field_validator("tempo_url")
    @classmethod
    def _tempo(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            raise problem("must be an http(s) URL")
        return value
