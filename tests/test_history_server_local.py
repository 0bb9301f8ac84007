"""A real local check: a PySpark job run with the platform's Spark defaults writes event logs, and a
History Server started with the platform's server settings lists and replays it over its REST API.

Same Spark release as the server's platform image (the newest line): its PySpark is pinned in
requirements-pyspark.txt and installed apart from the test tooling into .venv/pyspark (`make pyspark`).
file:// stands in for s3a://, and the image's own jars (Dataflint, S3A) are left out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from components.history_server.manifests import server_properties
from sparkeks import doctor, versions
from sparkeks.spark.defaults import platform_spark_conf, sizing_spark_conf
from tests.conftest import PROJECT_ROOT
from tests.local_servers import logged_port

# Where `make pyspark` installs the newest line's PySpark (one venv holds one PySpark).
PYSPARK_DIR = Path(os.environ.get("SPARK_EKS_PYSPARK_DIR") or PROJECT_ROOT / ".venv" / "pyspark")


def _pyspark_version() -> str:
    for info in PYSPARK_DIR.glob("pyspark-*.dist-info"):
        return info.name.removeprefix("pyspark-").removesuffix(".dist-info")
    pytest.fail(f"no PySpark in {PYSPARK_DIR}: run `make pyspark` (the local History Server check cannot be skipped)")


BUCKET = "platform-bucket"
TEAM = "analytics"
# Need Maven Central (jars) or AWS (S3A); everything else runs as the platform sets it.
OFFLINE_UNAVAILABLE = ("spark.plugins", "spark.hadoop.fs.s3a.")
# The server's own line once its UI listens: with spark.history.ui.port=0 the port it chose is read here.
SERVER_BOUND = re.compile(r"Bound HistoryServer to \S+, and started at http://\S+:(\d+)")


def _local(conf: dict[str, str], root: Path) -> dict[str, str]:
    out = {}
    for key, value in conf.items():
        if key.startswith(OFFLINE_UNAVAILABLE):
            continue
        out[key] = value.replace(f"s3a://{BUCKET}/", f"file://{root}/")
    return out


def _get(url: str):
    with urllib.request.urlopen(url, timeout=120) as response:  # the first read of an application replays its log  # noqa: S310 - loopback only
        return json.loads(response.read())


def _require_java() -> None:
    """Spark without Java dies with JAVA_GATEWAY_EXITED deep inside PySpark; say what is missing instead."""
    java = doctor.check_java()
    if not java.ok:
        pytest.fail(f"java: {java.detail}", pytrace=False)


def _run_job(job: str, env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-c", job], env=env, timeout=300, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"the local Spark job failed (exit {result.returncode}):\n{result.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    _require_java()
    root = tmp_path_factory.mktemp("bucket")
    runtime = versions.SPARK_RUNTIMES[versions.NEWEST_SPARK]
    assert _pyspark_version() == runtime.spark_version, "the local check runs the server image's Spark (requirements-pyspark.txt)"
    (root / "event-logs" / TEAM).mkdir(parents=True)  # the marker object the platform creates in S3

    conf = _local(
        {
            **platform_spark_conf(runtime=runtime, team=TEAM, bucket=BUCKET, region="us-east-1"),
            **sizing_spark_conf(executors=1, cores=2),
        },
        root,
    )
    job = textwrap.dedent(
        f"""
        from pyspark.sql import SparkSession, functions as F
        builder = SparkSession.builder.master("local[2]").appName("platform-defaults-check")
        for key, value in {conf!r}.items():
            builder = builder.config(key, value)
        spark = builder.config("spark.ui.enabled", "false").getOrCreate()
        rows = spark.range(10000).groupBy((F.col("id") % 7).alias("k")).count().collect()
        assert len(rows) == 7
        spark.stop()
        """
    )
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(PYSPARK_DIR), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    _run_job(job, env)

    properties = _local(
        server_properties(
            bucket=BUCKET,
            team=TEAM,
            region="us-east-1",
            runtime=runtime,
            update_interval="1s",
            retained_applications=10,
            event_log_retention_days=90,
            store_size_gib=5,
            dataflint_telemetry=False,
        ),
        root,
    )
    properties["spark.history.store.path"] = str(tmp_path_factory.mktemp("store"))
    properties["spark.history.ui.port"] = "0"  # the server picks a free port: suites running side by side never meet
    spark_home = PYSPARK_DIR / "pyspark"
    server_env = {
        **env,
        "SPARK_HOME": str(spark_home),
        "SPARK_DAEMON_MEMORY": "512m",
        "SPARK_HISTORY_OPTS": " ".join(f"-D{k}={v}" for k, v in sorted(properties.items())),
    }
    log = tmp_path_factory.mktemp("server") / "history-server.log"
    with log.open("w") as server_log:
        server = subprocess.Popen(
            [str(spark_home / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
    try:
        base = f"http://127.0.0.1:{logged_port(server, log, SERVER_BOUND, what='the History Server')}/api/v1"
        deadline = time.monotonic() + 120
        applications: list = []
        while time.monotonic() < deadline and server.poll() is None:
            try:
                applications = _get(f"{base}/applications")
                if applications:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert server.poll() is None, log.read_text(errors="replace")[-2000:]
        yield {"base": base, "applications": applications, "root": root}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_missing_java_is_named_not_hidden(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(pytest.fail.Exception) as failure:
        _require_java()
    assert str(failure.value) == (
        f"java: JAVA_HOME={tmp_path / 'no-jdk'} has no bin/java; the local Spark checks in `make test` need Java 17+: "
        "install a JDK (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
    )


def test_job_writes_rolling_event_logs_to_the_team_prefix(history):
    written = list((history["root"] / "event-logs" / TEAM).iterdir())
    assert [p.name.startswith("eventlog_v2_") for p in written] == [True]  # rolling: one directory per application


def test_server_lists_the_application(history):
    [app] = history["applications"]
    assert app["name"] == "platform-defaults-check"
    assert app["attempts"][0]["completed"] is True


def test_server_replays_the_jobs(history):
    app_id = history["applications"][0]["id"]
    jobs = _get(f"{history['base']}/applications/{app_id}/jobs")
    assert jobs and all(j["status"] == "SUCCEEDED" for j in jobs)
    environment = _get(f"{history['base']}/applications/{app_id}/environment")
    spark_properties = dict(environment["sparkProperties"])
    assert spark_properties["spark.decommission.enabled"] == "true"
    assert spark_properties["spark.sql.shuffle.partitions"] == "2"
