"""Job specs in, complete SparkApplications out: valid for the CRD, placed, sized, and refused when they cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks import images
from sparkeks.conformance import CrdRegistry
from sparkeks.jobs.render import render_spec_file
from sparkeks.versions import POD_IDENTITY_MIN_SDK, SPARK_RUNTIMES
from tests.conftest import PROJECT_ROOT, schemas_dir

EXAMPLES = sorted((PROJECT_ROOT / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def registry():
    return CrdRegistry.load(schemas_dir())


def _render(path: Path, **kwargs):
    return render_spec_file(path, project_dir=PROJECT_ROOT, **kwargs).application


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_renders_a_valid_spark_application(path, registry):
    application = _render(path)
    assert registry.validate(application) == []


def test_examples_cover_every_supported_spark_line():
    lines = {yaml.safe_load(p.read_text())["sparkVersion"] for p in EXAMPLES}
    assert lines == set(SPARK_RUNTIMES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_jobs_run_the_lines_platform_image_by_digest_and_download_nothing(path):
    spec = _render(path)["spec"]
    line = yaml.safe_load(path.read_text())["sparkVersion"]
    digest = images.load_pins()[line].image_digest
    assert spec["sparkVersion"] == SPARK_RUNTIMES[line].spark_version
    # One image for driver and executors (neither overrides it), from the stack's own registry.
    assert spec["image"] == f"111122223333.dkr.ecr.us-east-1.amazonaws.com/spark-prod/spark-{line}@{digest}"
    assert "image" not in spec["driver"] and "image" not in spec["executor"]
    # Dataflint and S3A are in the image: no Maven resolution at start.
    assert "deps" not in spec
    assert not any(k in spec["sparkConf"] for k in ("spark.jars.packages", "spark.jars.ivy", "spark.jars.repositories"))
    assert spec["sparkConf"]["spark.plugins"] == "io.dataflint.spark.SparkDataflintPlugin"
    assert spec["sparkConf"]["spark.dataflint.telemetry.enabled"] == "false"
    assert spec["sparkConf"]["spark.hadoop.fs.s3a.aws.credentials.provider"] == SPARK_RUNTIMES[line].credentials_provider


def test_extra_packages_are_the_only_thing_resolved_at_start(tmp_path):
    path = _spec_file(tmp_path, packages=["org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.10.0"])
    spec = render_spec_file(path, project_dir=PROJECT_ROOT).application["spec"]
    assert spec["deps"] == {"packages": ["org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.10.0"]}
    assert spec["sparkConf"]["spark.jars.ivy"] == "/tmp/.ivy2"


def test_a_line_whose_image_was_never_built_is_refused(tmp_path, monkeypatch):
    pins = dict(images.load_pins())
    pins["4.2"] = images.LinePins(pins["4.2"].base_digest, dict(pins["4.2"].jars))
    unbuilt = tmp_path / "pins.json"
    images.write_pins(pins, unbuilt)
    path = PROJECT_ROOT / "examples" / "spark-4.2-pyspark.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "job", str(path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, images.PINS_ENV: str(unbuilt)},
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f'{path}: sparkVersion: "4.2": the platform image of Spark 4.2 is not built yet (no digest in images/pins.json); '
        "run the images workflow and merge its pins pull request"
    ]


def test_an_own_image_must_be_named_by_digest(tmp_path):
    path = _spec_file(tmp_path, image="registry.example.com/spark:4.1.3")
    result = _cli(path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f'{path}: image: "registry.example.com/spark:4.1.3": must name the image by digest (repository@sha256:<64 hex>): '
        "a tag can change under a running job"
    ]
    own = "registry.example.com/spark@sha256:" + "0" * 64
    spec = render_spec_file(_spec_file(tmp_path, image=own), project_dir=PROJECT_ROOT).application["spec"]
    assert spec["image"] == own


def test_pinned_sdks_support_pod_identity():
    for runtime in SPARK_RUNTIMES.values():
        version = tuple(int(p) for p in runtime.sdk_version.split("."))
        assert version >= POD_IDENTITY_MIN_SDK[runtime.sdk_major]
        assert any(runtime.sdk_version in coordinate for coordinate in runtime.s3a)
        assert runtime.s3a[0] == f"org.apache.hadoop:hadoop-aws:{runtime.hadoop}"


def test_the_users_yarn_job_300_executors_4_cores_14g():
    spec = _render(PROJECT_ROOT / "examples" / "yarn-migration-300x4x14g.yaml")["spec"]
    executor = spec["executor"]
    assert (executor["instances"], executor["cores"], executor["memory"], executor["memoryOverhead"]) == (300, 4, "14g", "3g")
    assert spec["sparkConf"]["spark.default.parallelism"] == "1200"
    assert spec["sparkConf"]["spark.sql.shuffle.partitions"] == "1200"
    # fit: auto keeps the explicit 14g and points the executors at general-purpose (m) nodes, where 14g + 3g
    # packs best; memory holds three per 16-vCPU node, so each asks for its full 4 cores.
    assert executor["coreRequest"] == "4000m"
    assert executor["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m"]}]}
    ]
    # Shuffle-heavy: instance-store nodes, local dirs on the RAID0, one zone for driver and executors.
    assert executor["nodeSelector"] == {"spark-on-eks.io/pool": "spark-executor-nvme", "topology.kubernetes.io/zone": "us-east-1a"}
    assert spec["driver"]["nodeSelector"]["topology.kubernetes.io/zone"] == "us-east-1a"
    assert spec["volumes"] == [{"name": "spark-local-dir-1", "emptyDir": {}}]
    assert executor["volumeMounts"] == [{"name": "spark-local-dir-1", "mountPath": "/spark-local"}]


def test_drivers_are_never_disrupted_and_outrank_executors():
    spec = _render(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml")["spec"]
    driver, executor = spec["driver"], spec["executor"]
    # Neither Karpenter (node disruption) nor YuniKorn (queue preemption) takes a running driver.
    assert driver["annotations"] == {
        "karpenter.sh/do-not-disrupt": "true",
        "yunikorn.apache.org/allow-preemption": "false",
        "yunikorn.apache.org/schedulingPolicyParameters": "placeholderTimeoutInSeconds=600 gangSchedulingStyle=Soft",
    }
    assert "annotations" not in executor
    assert (spec["batchScheduler"], spec["batchSchedulerOptions"]) == ("yunikorn", {"queue": "root.data.analytics"})
    assert driver["nodeSelector"] == {"spark-on-eks.io/pool": "spark-driver"}
    assert driver["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "spark-driver", "effect": "NoSchedule"}]
    assert (driver["priorityClassName"], executor["priorityClassName"]) == ("spark-driver", "spark-executor")
    assert executor["nodeSelector"] == {"spark-on-eks.io/pool": "spark-executor"}
    assert driver["serviceAccount"] == executor["serviceAccount"] == "spark"


def test_spot_resilience_and_dynamic_allocation():
    spec = _render(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml")["spec"]
    conf = spec["sparkConf"]
    for key in ("spark.decommission.enabled", "spark.storage.decommission.enabled", "spark.storage.decommission.shuffleBlocks.enabled"):
        assert conf[key] == "true"
    assert conf["spark.storage.decommission.fallbackStorage.path"] == "s3a://spark-prod-spark-111122223333/shuffle-fallback/analytics/"
    assert spec["dynamicAllocation"] == {"enabled": True, "shuffleTrackingEnabled": True, "minExecutors": 0, "initialExecutors": 40, "maxExecutors": 40}


def test_pyspark_gets_the_larger_non_jvm_overhead():
    executor = _render(PROJECT_ROOT / "examples" / "spark-4.0-pyspark.yaml")["spec"]["executor"]
    assert (executor["memory"], executor["memoryOverhead"]) == ("12g", "5g")  # 12g x 0.4 = 4.8g, rounded up to 256m


def test_jobs_write_event_logs_exactly_where_the_team_may_write(prod):
    spec = _render(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml")["spec"]
    event_dir = spec["sparkConf"]["spark.eventLog.dir"]
    assert event_dir == "s3a://spark-prod-spark-111122223333/event-logs/analytics/"
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy", "team-analytics-spark-data")["inputs"]["policy"])
    [write] = [s for s in policy["Statement"] if s["Sid"] == "WriteOwnLocations"]
    bucket_and_key = event_dir.removeprefix("s3a://")
    assert f"arn:aws:s3:::{bucket_and_key}*" in write["Resource"]
    assert {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} <= set(write["Action"])


def test_prometheus_endpoints_are_on():
    conf = _render(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml")["spec"]["sparkConf"]
    assert conf["spark.ui.prometheus.enabled"] == "true"
    assert conf["spark.metrics.conf.*.sink.prometheusServlet.path"] == "/metrics/driver/prometheus/"


def _spec_file(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", "job", str(path), *extra], capture_output=True, text=True, cwd=PROJECT_ROOT
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"team": "finance"}, 'team: "finance": no such team in stack prod; teams: analytics, ml-platform'),
        (
            {"executor": {"instances": 10, "cores": 4, "memory": "14 gigs"}},
            "executor.memory: \"14 gigs\": '14 gigs' is not a Spark memory size; use a whole number with k, m, g or t, like 14g or 512m",
        ),
        (
            {"executor": {"instances": 10, "cores": 48, "memory": "300g"}},
            "executor: 48 cores, 300 GiB + 60 GiB overhead: one executor is bigger than any node of pool spark-executor holds",
        ),
        ({"sparkVersion": "3.3"}, 'sparkVersion: "3.3": has no pinned image and Dataflint build; supported Spark lines: 3.5, 4.0, 4.1, 4.2'),
        ({"sparkVersion": 4.1}, "sparkVersion: 4.1: must be a quoted string (YAML read a number); supported: 3.5, 4.0, 4.1, 4.2"),
        ({"team": "ml-platform", "pool": "executorNvme"}, 'pool: "executorNvme": team ml-platform may use only driver, executor'),
        ({"zone": "us-east-1f"}, 'zone: "us-east-1f": the executor and driver pools run in us-east-1a, us-east-1b, us-east-1c'),
        (
            {"sparkConf": {"spark.eventLog.dir": "s3a://elsewhere/"}},
            'sparkConf.spark.eventLog.dir: "s3a://elsewhere/": set by the platform; jobs may not override it',
        ),
        ({"mainClass": None}, "mainClass: (missing): is required for Scala applications"),
        ({"executorr": {}}, "executorr: {}: unknown key; did you mean 'executor'?"),
    ],
)
def test_specs_that_cannot_run_get_one_line_and_exit_2(tmp_path, changes, expected):
    path = _spec_file(tmp_path, **changes)
    result = _cli(path)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{path}: {expected}")
    assert "Traceback" not in result.stderr


def test_cli_prints_the_application_and_the_packing(tmp_path):
    out = tmp_path / "app.yaml"
    result = _cli(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(out.read_text())["kind"] == "SparkApplication"
    assert "instance type  executors/node  CPU used  memory used" in result.stderr.splitlines()


def test_stacks_without_a_pinned_account_need_one_for_the_bucket_and_registry(tmp_path):
    from tests.conftest import make_project, stack_config

    config = stack_config("prod")
    del config["aws:allowedAccountIds"]
    project = make_project(tmp_path / "p", {"prod": config})
    path = PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml"
    from sparkeks.jobs.render import JobError

    with pytest.raises(JobError) as err:
        render_spec_file(path, project_dir=project)
    assert err.value.problems == [
        f"{path}: stack: \"prod\": the platform bucket's name and image registry need the AWS account: "
        "set aws:allowedAccountIds in the stack, or pass --account-id"
    ]
    application = render_spec_file(path, project_dir=project, account_id="999988887777").application
    assert application["spec"]["sparkConf"]["spark.eventLog.dir"] == "s3a://spark-prod-spark-999988887777/event-logs/analytics/"
    assert application["spec"]["image"].startswith("999988887777.dkr.ecr.us-east-1.amazonaws.com/spark-prod/spark-3.5@sha256:")
