"""`sparkeks migrate submit`: spark-submit lines from YARN become job specs, with every decision reported."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from sparkeks.jobs.render import render_job
from sparkeks.jobs.spec import JobSpec
from sparkeks.migrate.submit import MigrateError, Target, migrate_command, split_lines
from sparkeks.plan.runner import load_stack
from sparkeks.versions import SPARK_RUNTIMES
from tests.conftest import PROJECT_ROOT

TARGET = Target("prod", "analytics", "3.5")

USERS_EXAMPLE = (
    "spark-submit --master yarn --deploy-mode cluster --queue etl --class com.example.aggregate.Main "
    "--num-executors 300 --executor-cores 4 --executor-memory 14G --driver-memory 8G --driver-cores 2 "
    "--conf spark.executor.memoryOverhead=3G --conf spark.default.parallelism=1200 "
    "s3://example-datalake-prod/jars/aggregate-assembly-2.0.0.jar --date 2026-11-23"
)


def _migrate(line: str, target: Target = TARGET):
    import shlex

    return migrate_command(shlex.split(line), target)


def test_the_users_example_comes_out_exactly_as_their_rule_says():
    migration = _migrate(USERS_EXAMPLE)
    assert migration.spec == {
        "name": "aggregate-assembly",
        "stack": "prod",
        "team": "analytics",
        "sparkVersion": "3.5",
        "type": "Scala",
        "mainApplicationFile": "s3a://example-datalake-prod/jars/aggregate-assembly-2.0.0.jar",
        "mainClass": "com.example.aggregate.Main",
        "arguments": ["--date", "2026-11-23"],
        "driver": {"cores": 2, "memory": "8g"},
        "executor": {"instances": 300, "cores": 4, "memory": "14g"},
    }
    assert "spark.executor.memoryOverhead=3g: the platform sets 20% of 14g = 3g; same" in migration.notes
    assert "spark.default.parallelism=1200: the platform derives executors x cores = 1200; same" in migration.notes
    assert any(n.startswith("queue etl: teams replace YARN queues") for n in migration.notes)
    # And the platform renders it as the rule says: 3g overhead, parallelism 1200.
    config = load_stack("prod", PROJECT_ROOT)
    app = render_job(JobSpec.model_validate(migration.spec), label="migrated", config=config).application["spec"]
    assert (app["executor"]["instances"], app["executor"]["cores"], app["executor"]["memory"], app["executor"]["memoryOverhead"]) == (300, 4, "14g", "3g")
    assert app["sparkConf"]["spark.default.parallelism"] == "1200"
    assert app["sparkConf"]["spark.sql.shuffle.partitions"] == "1200"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            # A PySpark job with dependencies, dynamic allocation and its own shuffle partitions.
            "spark-submit --master yarn --name 'Daily Sessions' --py-files s3://libs/common.zip,s3://libs/udfs.py "
            "--files s3://conf/app.conf --executor-cores 2 --executor-memory 8g --conf spark.dynamicAllocation.enabled=true "
            "--conf spark.dynamicAllocation.maxExecutors=50 --conf spark.shuffle.service.enabled=true "
            "--conf spark.sql.shuffle.partitions=400 --conf spark.sql.adaptive.enabled=true s3://jobs/sessions.py 2026-11-23",
            {
                "name": "daily-sessions",
                "stack": "prod",
                "team": "analytics",
                "sparkVersion": "3.5",
                "type": "Python",
                "mainApplicationFile": "s3a://jobs/sessions.py",
                "arguments": ["2026-11-23"],
                "executor": {"instances": 50, "cores": 2, "memory": "8g"},
                "dynamicAllocation": True,
                "shufflePartitions": 400,
                "pyFiles": ["s3a://libs/common.zip", "s3a://libs/udfs.py"],
                "files": ["s3a://conf/app.conf"],
                "sparkConf": {"spark.sql.adaptive.enabled": "true"},
            },
        ),
        (
            # --conf forms of the sizes, =-joined options, packages and jars, YARN-only settings dropped.
            "/usr/lib/spark/bin/spark-submit --class=com.example.Report --conf spark.executor.instances=20 "
            "--conf spark.executor.cores=5 --conf spark.executor.memory=36g --conf spark.yarn.maxAppAttempts=1 "
            "--conf spark.yarn.am.memory=2g --conf spark.eventLog.dir=hdfs:///spark-logs --packages org.apache.spark:spark-avro_2.12:3.5.1 "
            "--jars s3a://jars/udf.jar --driver-java-options -Dlog4j.configuration=log4j.properties "
            "--conf spark.default.parallelism=800 s3a://jars/report_2.12-1.3.jar",
            {
                "name": "report-2-12",
                "stack": "prod",
                "team": "analytics",
                "sparkVersion": "3.5",
                "type": "Scala",
                "mainApplicationFile": "s3a://jars/report_2.12-1.3.jar",
                "mainClass": "com.example.Report",
                "executor": {"instances": 20, "cores": 5, "memory": "36g"},
                "packages": ["org.apache.spark:spark-avro_2.12:3.5.1"],
                "jars": ["s3a://jars/udf.jar"],
                "sparkConf": {"spark.default.parallelism": "800", "spark.driver.extraJavaOptions": "-Dlog4j.configuration=log4j.properties"},
            },
        ),
    ],
)
def test_realistic_command_lines_give_exact_specs(line, expected):
    migration = _migrate(line)
    assert migration.spec == expected
    JobSpec.model_validate(migration.spec)


def test_yarn_only_settings_are_reported_with_their_equivalent_or_none():
    migration = _migrate(
        "spark-submit --class a.B --principal etl@CORP --keytab /etc/etl.keytab --conf spark.yarn.maxAppAttempts=2 "
        "--conf spark.yarn.am.cores=2 --conf spark.yarn.foo=1 --conf spark.shuffle.service.enabled=true "
        "--conf spark.executor.memoryOverhead=1g --executor-memory 14g hdfs:///apps/app-1.0.jar"
    )
    assert migration.notes == [
        "application: hdfs:///apps/app-1.0.jar: not reachable from Kubernetes (no HDFS, no gateway host): copy it to S3 and use its s3a:// path",
        "name: 'hdfs:///apps/app-1.0.jar' -> 'app' (Kubernetes names: lowercase letters, digits, hyphens)",
        "--principal etl@CORP: no Kerberos: the job's team identity (EKS Pod Identity) reaches S3",
        "--keytab /etc/etl.keytab: no Kerberos: the job's team identity (EKS Pod Identity) reaches S3",
        "--executor-cores: not set; YARN's default is 1 core per executor",
        "--num-executors: not set; YARN's default is 2 executors (set executor.instances to the most the job needs)",
        "spark.executor.memoryOverhead=1g: the platform sets more, 3g (20% of 14g)",
        "spark.shuffle.service.enabled=true: no external shuffle service on Kubernetes: the platform uses shuffle tracking and "
        "decommissioning with S3 fallback storage instead",
        "spark.yarn.am.cores=2: no equivalent: there is no ApplicationMaster; the driver runs in the cluster; dropped",
        "spark.yarn.foo=1: YARN-only, no equivalent on Kubernetes; dropped",
        "spark.yarn.maxAppAttempts=2: no equivalent: the platform runs applications with restartPolicy Never; rerun from the scheduler; dropped",
        "dynamic allocation: not set on the line; the platform scales executors 0..executor.instances (dynamicAllocation: false keeps a fixed count)",
    ]


def test_a_larger_overhead_than_the_rule_is_reported_with_what_to_do():
    migration = _migrate("spark-submit --class a.B --executor-memory 14g --conf spark.executor.memoryOverhead=5g s3a://b/app.jar")
    assert "spark.executor.memoryOverhead=5g: the platform sets 3g (20% of 14g); to keep 5g, raise executor.memory or the stack's overhead factor" in migration.notes


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("spark-submit --executor-memory 14G", "no application jar or Python file in the command line"),
        ("spark-submit --frobnicate s3a://b/app.jar", "--frobnicate: not a spark-submit option"),
        ("spark-submit --class a.B --executor-memory lots s3a://b/app.jar", "--executor-memory: 'lots': 'lots' is not a Spark memory size; use a whole number with k, m, g or t, like 14g or 512m"),
        ("spark-submit --class a.B --num-executors many s3a://b/app.jar", "--num-executors: 'many': must be a whole number of 1 or more"),
        ("spark-submit s3a://b/app.jar", "s3a://b/app.jar: a jar application needs --class"),
        ("spark-submit --class a.B --conf novalue s3a://b/app.jar", "--conf: 'novalue': must be key=value"),
        ("spark-submit --class", "--class: needs a value"),
    ],
)
def test_foreign_command_lines_are_refused_with_one_line(line, problem):
    with pytest.raises(MigrateError) as err:
        _migrate(line)
    assert err.value.problems == [problem]


def test_a_file_of_lines_with_continuations_and_comments():
    text = "# nightly jobs\n\nspark-submit --class a.B \\\n  --num-executors 4 s3a://b/one-1.0.jar\nspark-submit s3a://b/two.py --x 1  # trailing\n"
    assert split_lines(text) == [
        (3, ["spark-submit", "--class", "a.B", "--num-executors", "4", "s3a://b/one-1.0.jar"]),
        (5, ["spark-submit", "s3a://b/two.py", "--x", "1"]),
    ]


def _cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "sparkeks", "migrate", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, **kwargs)


def test_cli_prints_the_users_spec_and_notes():
    import shlex

    result = _cli("submit", "--stack", "prod", "--team", "analytics", "--spark-version", "3.5", "--", *shlex.split(USERS_EXAMPLE))
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(result.stdout)
    assert spec["executor"] == {"instances": 300, "cores": 4, "memory": "14g"}
    assert "command line: spark.executor.memoryOverhead=3g: the platform sets 20% of 14g = 3g; same" in result.stderr.splitlines()


def test_cli_file_of_lines_writes_one_spec_each(tmp_path):
    lines = tmp_path / "jobs.txt"
    lines.write_text(USERS_EXAMPLE + "\nspark-submit --executor-cores 2 --executor-memory 8g s3://jobs/sessions.py\n")
    out = tmp_path / "specs"
    result = _cli("submit", "--stack", "prod", "--team", "analytics", "--file", str(lines), "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["aggregate-assembly.yaml", "sessions.yaml"]
    assert yaml.safe_load((out / "sessions.yaml").read_text())["type"] == "Python"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--team", "finance", "--", "spark-submit", "x.py"], "--team: finance: no such team in stack prod; teams: analytics, ml-platform"),
        (["--team", "analytics", "--spark-version", "2.4", "--", "spark-submit", "x.py"], f"--spark-version: 2.4: no pinned image; supported Spark lines: {', '.join(SPARK_RUNTIMES)}"),
        (["--team", "analytics", "--", "spark-submit", "--bogus", "x.py"], "command line: --bogus: not a spark-submit option"),
        (["--team", "analytics"], "no command line: give one after --, or --file FILE"),
        (["--team", "analytics", "--file", "/nonexistent/jobs.txt"], "/nonexistent/jobs.txt: cannot read: No such file or directory"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, line):
    result = _cli("submit", "--stack", "prod", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]


def test_cli_binary_file_is_refused(tmp_path):
    path = tmp_path / "jobs.bin"
    path.write_bytes(b"\xff\xfe\x00\x01binary")
    result = _cli("submit", "--stack", "prod", "--team", "analytics", "--file", str(path))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(f"{path}: cannot read:")
