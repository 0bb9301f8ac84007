"""Spark defaults, encoded once: every SparkApplication the platform emits gets them from here.

Pure: takes the decided sizes and locations, returns plain `sparkConf` entries.
"""

from __future__ import annotations

from sparkeks.spark.layout import event_log_prefix, fallback_prefix, s3a
from sparkeks.versions import SparkRuntime

# spark.dynamicAllocation.executorIdleTimeout: how long an idle executor lives before Spark releases it.
# Node pools must wait longer than this before consolidating, or they fight Spark's own scale-in.
EXECUTOR_IDLE_TIMEOUT_SECONDS = 60
DATAFLINT_PLUGIN = "io.dataflint.spark.SparkDataflintPlugin"
DRIVER_METRICS_PATH = "/metrics/driver/prometheus/"
EXECUTOR_METRICS_PATH = "/metrics/executors/prometheus"
UI_PORT = 4040

# Settings a job may not override: they are what the History Server, IAM and the pools rely on.
PLATFORM_OWNED = (
    "spark.eventLog.enabled",
    "spark.eventLog.dir",
    "spark.storage.decommission.fallbackStorage.path",
    "spark.hadoop.fs.s3a.aws.credentials.provider",
    "spark.kubernetes.authenticate.driver.serviceAccountName",
    "spark.kubernetes.authenticate.executor.serviceAccountName",
)


def parallelism(executors: int, cores: int) -> int:
    """Tasks per stage that keep every core busy: executors x cores (300 x 4 = 1200)."""
    return executors * cores


def platform_spark_conf(*, runtime: SparkRuntime, team: str, bucket: str, region: str, telemetry: bool = False) -> dict[str, str]:
    """What every application gets regardless of its size."""
    return {
        # Event logs to the team's prefix, rolled so long jobs stay readable by the History Server.
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": s3a(bucket, event_log_prefix(team)),
        "spark.eventLog.rolling.enabled": "true",
        "spark.eventLog.rolling.maxFileSize": "128m",
        "spark.eventLog.compress": "true",
        # Prometheus endpoints on the driver's UI port: driver metrics and all executors' metrics.
        "spark.ui.prometheus.enabled": "true",
        "spark.metrics.conf.*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet",
        "spark.metrics.conf.*.sink.prometheusServlet.path": DRIVER_METRICS_PATH,
        # A fixed namespace keeps driver metric names stable (the application id comes as a label instead).
        "spark.metrics.namespace": "spark",
        "spark.metrics.appStatusSource.enabled": "true",
        "spark.executor.processTreeMetrics.enabled": "true",
        # Dataflint in the live UI; it reports nothing home unless the platform allows it.
        "spark.plugins": DATAFLINT_PLUGIN,
        "spark.dataflint.telemetry.enabled": str(telemetry).lower(),
        # S3 through S3A with the pod's own identity (EKS Pod Identity), never the node's.
        "spark.hadoop.fs.s3a.aws.credentials.provider": runtime.credentials_provider,
        "spark.hadoop.fs.s3a.endpoint.region": region,
        "spark.hadoop.fs.s3a.fast.upload": "true",
        # Spot resilience: a decommissioned executor hands its shuffle and cached blocks to the others,
        # or to S3 when none can take them; shuffle tracking keeps executors holding shuffle data alive.
        "spark.decommission.enabled": "true",
        "spark.storage.decommission.enabled": "true",
        "spark.storage.decommission.shuffleBlocks.enabled": "true",
        "spark.storage.decommission.rddBlocks.enabled": "true",
        "spark.storage.decommission.fallbackStorage.path": s3a(bucket, fallback_prefix(team)),
        "spark.storage.decommission.fallbackStorage.cleanUp": "true",
        "spark.dynamicAllocation.shuffleTracking.enabled": "true",
        "spark.dynamicAllocation.executorIdleTimeout": f"{EXECUTOR_IDLE_TIMEOUT_SECONDS}s",
        "spark.kubernetes.authenticate.driver.serviceAccountName": "spark",
        "spark.kubernetes.authenticate.executor.serviceAccountName": "spark",
    }


def sizing_spark_conf(*, executors: int, cores: int, shuffle_partitions: int | None = None) -> dict[str, str]:
    """`spark.default.parallelism` for RDDs and `spark.sql.shuffle.partitions` for DataFrames, derived
    the same way unless the job sets the latter."""
    tasks = parallelism(executors, cores)
    return {
        "spark.default.parallelism": str(tasks),
        "spark.sql.shuffle.partitions": str(shuffle_partitions or tasks),
    }
