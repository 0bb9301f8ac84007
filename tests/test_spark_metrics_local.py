"""Dashboards proven on real Spark metrics: a PySpark job run with the platform's Spark settings (the
SparkApplication `sparkeks job` renders) is scraped by a real Prometheus through the platform's
PodMonitors (see tests/local_prometheus.py for what differs from a cluster), and every dashboard
expression over Spark's own metrics returns data for that application. Run for the oldest and the
newest supported Spark line, whose metrics differ.

Spark runs as `local-cluster` (a driver and one executor JVM) so executor rows are real executors,
not the driver's. Expressions over metrics of components that cannot run here are listed explicitly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from components.observability.dashboards import dashboard_files
from components.observability.metrics import SPARK_DRIVER, SPARK_EXECUTORS
from sparkeks.jobs.render import render_job
from sparkeks.jobs.spec import JobSpec
from sparkeks.plan.runner import load_stack
from sparkeks.versions import SPARK_RUNTIMES
from tests.local_prometheus import DriverPod, LocalPrometheus, scrape_configs
from tests.real_tools import require
from tests.spark_lines import job_env, local_conf, oldest_and_newest

TEAM = "analytics"
ACCOUNT = "111122223333"
SPARK_OWN = SPARK_EXECUTORS | SPARK_DRIVER
# Panels over metrics of components that do not run on this machine, and which ones.
ELSEWHERE = {
    ("karpenter-capacity", "Nodes by pool, capacity type and zone"): "Karpenter",
    ("karpenter-capacity", "Pool CPU: used and limit"): "Karpenter",
    ("karpenter-capacity", "Pending (unschedulable) pods"): "Karpenter",
    ("karpenter-capacity", "Interruptions"): "Karpenter",
    ("karpenter-capacity", "Consolidation and other disruption decisions"): "Karpenter",
    ("karpenter-capacity", "Launch failures"): "Karpenter",
    ("karpenter-capacity", "Estimated hourly cost by pool"): "Karpenter",
    ("spark-operator", "Running applications"): "Spark Operator",
    ("spark-operator", "Running executors"): "Spark Operator",
    ("spark-operator", "Submission failures (1h)"): "Spark Operator",
    ("spark-operator", "Submissions, successes and failures"): "Spark Operator",
    ("spark-operator", "Start latency (p50, p95)"): "Spark Operator",
    ("spark-operator", "Submit latency (p95)"): "Spark Operator",
    ("spark-applications", "Executor memory vs limit"): "cAdvisor (kubelet) and kube-state-metrics",
    ("spark-applications", "OOM-killed executors"): "kube-state-metrics",
    ("team-quotas", "CPU requested vs quota"): "kube-state-metrics",
    ("team-quotas", "Memory requested vs quota"): "kube-state-metrics",
    ("team-quotas", "Quota used"): "kube-state-metrics",
    ("team-quotas", "Pending pods by team"): "kube-state-metrics",
    ("team-cost", "Cost per hour by namespace"): "OpenCost",
    ("team-cost", "Cost over the last 7 days by namespace"): "OpenCost",
    ("team-cost", "Cost per hour by Spark application"): "OpenCost and kube-state-metrics",
    ("team-cost", "Most expensive Spark applications, last 7 days"): "OpenCost and kube-state-metrics",
    ("team-cost", "Node cost per hour: spot and on-demand"): "OpenCost",
    ("team-cost", "Idle cost per hour"): "OpenCost",
    ("celeborn-shuffle", "Workers available"): "Celeborn master",
    ("celeborn-shuffle", "Applications on Celeborn"): "Celeborn master",
    ("celeborn-shuffle", "Free shuffle disk"): "Celeborn master",
    ("celeborn-shuffle", "Active shuffle data per worker"): "Celeborn workers",
    ("celeborn-shuffle", "Pushes written per second"): "Celeborn workers",
    ("celeborn-shuffle", "Fetch traffic per worker (approx.)"): "Celeborn workers",
    ("celeborn-shuffle", "Push latency"): "Celeborn workers",
    ("celeborn-shuffle", "Replication failures per second"): "Celeborn workers",
    ("celeborn-shuffle", "Back pressure"): "Celeborn workers",
    ("celeborn-shuffle", "Worker direct memory"): "Celeborn workers",
    ("celeborn-shuffle", "Shuffle disk used by application"): "Celeborn workers",
}
# How long the job waits to be told to start and to stop, at most (it then stops itself).
JOB_LIFETIME_SECONDS = 300
# rate() needs two samples of a counter in its window: the executor's counters are scraped before the
# job's work and again after it, so the rate panels show the work itself, not just that series exist.
BEFORE_WORK = 'metrics_executor_completedTasks_total{{application_id="{app}", executor_id!="driver"}} == 0'
AFTER_WORK = 'metrics_executor_completedTasks_total{{application_id="{app}", executor_id!="driver"}} > 0'

JOB = textwrap.dedent(
    """
    import json, sys, time
    from pyspark.sql import SparkSession, functions as F

    conf, start_file, stop_file = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
    builder = SparkSession.builder.master("local-cluster[1,2,1024]").appName(sys.argv[4])
    for key, value in conf.items():
        builder = builder.config(key, value)
    # Port 0: the UI takes a port nobody holds and says which (a suite running beside this one may hold any).
    spark = builder.config("spark.ui.port", "0").getOrCreate()
    deadline = time.monotonic() + float(sys.argv[5])


    def wait_for(path):
        while time.monotonic() < deadline:
            try:
                open(path).close()
                return True
            except OSError:
                time.sleep(0.5)
        return False


    print("APP", spark.sparkContext.applicationId, flush=True)
    print("UI", spark.sparkContext.uiWebUrl.rsplit(":", 1)[1], flush=True)
    if wait_for(start_file):
        df = spark.range(0, 2_000_000).withColumn("k", F.col("id") % 97)
        assert df.groupBy("k").agg(F.sum("id")).count() == 97
        assert df.cache().count() == 2_000_000
        print("DONE", flush=True)
        wait_for(stop_file)
    spark.stop()
    """
)


def _panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _metrics(expr: str) -> set[str]:
    import promql_parser

    names: set[str] = set()
    promql_parser.walk(
        promql_parser.parse(expr), lambda n: names.add(n.name) if isinstance(n, promql_parser.VectorSelector) and n.name else None
    )
    return names


def _dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expression) for every Prometheus query of every shipped dashboard."""
    queries = []
    for path in dashboard_files():
        for panel in _panels(json.loads(path.read_text())):
            if panel["datasource"]["uid"] == "prometheus":
                queries += [(path.stem, panel["title"], target["expr"]) for target in panel["targets"]]
    return queries


def test_every_panel_is_either_checked_here_or_listed_as_elsewhere():
    elsewhere = set()
    for dashboard, title, expr in _dashboard_queries():
        used = _metrics(re.sub(r"\$(\w+)", "x", expr))
        if not used <= SPARK_OWN:
            assert not used & SPARK_OWN, (title, "mixes Spark's metrics with others")
            elsewhere.add((dashboard, title))
    assert elsewhere == set(ELSEWHERE)


def _rendered_conf(line: str, root: Path) -> tuple[str, dict[str, str]]:
    """The SparkApplication's sparkConf exactly as `sparkeks job` renders it for a small job."""
    spec = JobSpec.model_validate(
        {
            "name": f"metrics-check-{line.replace('.', '-')}",
            "stack": "prod",
            "team": TEAM,
            "sparkVersion": line,
            "type": "Python",
            "mainApplicationFile": "local:///opt/spark/work-dir/job.py",
            "executor": {"instances": 1, "cores": 2, "memory": "1g"},
        }
    )
    config = load_stack("prod")
    application = render_job(spec, label="metrics-check.yaml", config=config, account_id=ACCOUNT).application
    bucket = config.resolved_bucket_name("prod", ACCOUNT)
    (root / "event-logs" / TEAM).mkdir(parents=True)
    return spec.name, local_conf(application["spec"]["sparkConf"], root, bucket)


@pytest.fixture(scope="module", params=oldest_and_newest(), ids=lambda line: f"spark-{line}")
def scraped(request, prod, tmp_path_factory):
    line = request.param
    env = job_env(line)
    prometheus_binary = require("prometheus")
    require("java")
    work = tmp_path_factory.mktemp(f"spark-{line}")
    name, conf = _rendered_conf(line, work / "bucket")
    (work / "conf.json").write_text(json.dumps(conf))
    (work / "job.py").write_text(JOB)
    start_file, stop_file = work / "start", work / "stop"
    job = subprocess.Popen(
        [
            sys.executable,
            str(work / "job.py"),
            str(work / "conf.json"),
            str(start_file),
            str(stop_file),
            name,
            str(JOB_LIFETIME_SECONDS),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=(work / "spark.log").open("w"),
        text=True,
    )
    prometheus = None
    try:
        app_id = _read_line(job, "APP", work)
        ui_port = int(_read_line(job, "UI", work))
        monitors = [r["inputs"] for r in prod.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")]
        # The driver pod as the operator creates it: Spark's own labels, the UI port named spark-ui.
        pod = DriverPod(
            namespace=TEAM,
            name=f"{name}-driver",
            labels={"spark-role": "driver", "spark-app-selector": app_id, "spark-app-name": name},
            container="spark-kubernetes-driver",
            port_name="spark-ui",
            address=f"127.0.0.1:{ui_port}",
        )
        prometheus = LocalPrometheus(prometheus_binary, work, scrape_configs(monitors, pod))
        prometheus.wait_ready()
        _wait_for(prometheus, BEFORE_WORK.format(app=app_id), 90)
        start_file.touch()
        _read_line(job, "DONE", work)
        _wait_for(prometheus, AFTER_WORK.format(app=app_id), 90)
        # Executor memory metrics arrive with heartbeats (every 10s): wait until they are scraped.
        _wait_for(prometheus, f'metrics_executor_JVMHeapMemory_bytes{{application_id="{app_id}", executor_id!="driver"}}', 90)
        yield {"line": line, "app_id": app_id, "pod": pod, "prometheus": prometheus}
    finally:
        start_file.touch()
        stop_file.touch()
        try:
            job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
        if prometheus is not None:
            prometheus.stop()


def _read_line(job: subprocess.Popen, marker: str, work: Path) -> str:
    for line in job.stdout:
        if line.startswith(marker):
            return line.split(maxsplit=1)[-1].strip()
    raise AssertionError(f"Spark job ended before {marker}: {(work / 'spark.log').read_text()[-3000:]}")


def _wait_for(prometheus: LocalPrometheus, expr: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if prometheus.query(expr):
            return
        time.sleep(1)
    raise AssertionError(f"no data for {expr} after {seconds}s; targets: {prometheus.targets()}")


def test_both_pod_monitor_endpoints_are_scraped_with_the_platform_labels(scraped):
    targets = {t["scrapePool"]: t for t in scraped["prometheus"].targets()}
    assert set(targets) == {"podMonitor/monitoring/spark-drivers/0", "podMonitor/monitoring/spark-executors/0"}
    for target in targets.values():
        assert target["health"] == "up", target
        assert target["labels"] == {
            **target["labels"],
            "namespace": TEAM,
            "pod": scraped["pod"].name,
            "container": "spark-kubernetes-driver",
            "spark_app_id": scraped["app_id"],
            "spark_role": "driver",
        }
    assert targets["podMonitor/monitoring/spark-drivers/0"]["labels"]["job"] == "monitoring/spark-drivers"


def test_spark_reports_its_line(scraped):
    [info] = scraped["prometheus"].query("spark_info")
    assert info["metric"]["version"] == SPARK_RUNTIMES[scraped["line"]].spark_version


def test_dashboard_variables_find_the_application(scraped):
    prometheus = scraped["prometheus"]
    assert prometheus.label_values("namespace", "metrics_executor_totalCores") == [TEAM]
    assert prometheus.label_values("application_id", f'metrics_executor_totalCores{{namespace="{TEAM}"}}') == [scraped["app_id"]]


def test_every_spark_panel_shows_data_for_the_application(scraped):
    prometheus = scraped["prometheus"]
    empty = []
    expressions = 0
    for dashboard, title, expr in _dashboard_queries():
        if (dashboard, title) in ELSEWHERE:
            continue
        concrete = expr.replace("$app", scraped["app_id"]).replace("$namespace", TEAM).replace("$team", TEAM)
        expressions += 1
        if not prometheus.query(concrete):
            empty.append(f"{dashboard} / {title}: {concrete}")
    assert not empty, "panels without data:\n" + "\n".join(empty)
    assert expressions == 10


def test_the_numbers_are_the_jobs(scraped):
    """Not just series: one executor with two cores did the work, shuffled, and no stage failed."""
    prometheus, app = scraped["prometheus"], scraped["app_id"]

    def value(expr: str) -> float:
        [sample] = prometheus.query(expr)
        return float(sample["value"][1])

    assert value(f'count(metrics_executor_totalCores{{application_id="{app}", executor_id!="driver"}})') == 1
    assert value(f'sum(metrics_executor_totalCores{{application_id="{app}", executor_id!="driver"}})') == 2
    assert value(f'sum(metrics_executor_completedTasks_total{{application_id="{app}"}})') > 0
    assert value(f'sum(metrics_executor_totalShuffleWrite_bytes_total{{application_id="{app}"}})') > 0
    # The dashboard's rate panels saw the work happen (a sample before it and one after).
    assert value(f'sum(rate(metrics_executor_completedTasks_total{{application_id="{app}"}}[5m]))') > 0
    assert value(f'sum(rate(metrics_executor_totalShuffleWrite_bytes_total{{application_id="{app}"}}[5m]))') > 0
    assert value(f'max(metrics_spark_driver_DAGScheduler_job_allJobs_Value{{spark_app_id="{app}"}})') >= 2
    assert value(f'max(metrics_spark_driver_DAGScheduler_stage_failedStages_Value{{spark_app_id="{app}"}})') == 0


def test_the_metric_list_the_rules_and_dashboards_are_checked_against_is_what_spark_exposes(scraped):
    """components/observability/metrics.py lists Spark's metric names by hand; this line really has them."""
    series = scraped["prometheus"].query(f'count by (__name__) ({{spark_app_id="{scraped["app_id"]}"}})')
    exposed = {s["metric"]["__name__"] for s in series}
    assert SPARK_OWN - exposed == set()
