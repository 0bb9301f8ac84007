"""The offline plan and `job` refuse what `pulumi up` or a submission would refuse later, and what would
deploy but never run (issue 21)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.jobs.render import JobError, render_spec_file
from sparkeks.plan.runner import PlanError, run_plan
from tests.conftest import PROJECT_ROOT, make_project, stack_config

PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"
ETL = PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml"


def _spec(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(ETL.read_text())
    data.update(changes)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _job_problems(path: Path, project: Path = PROJECT_ROOT) -> list[str]:
    with pytest.raises(JobError) as err:
        render_spec_file(path, project_dir=project, account_id="111122223333")
    return err.value.problems


# --- duplicate YAML keys: refused with file, line and key


def test_a_second_teams_block_in_a_stack_file_is_refused_with_its_line(tmp_path):
    text = (PROJECT_ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    text += "  spark-on-eks:teams:\n    - {name: late, max: {cpu: 8, memory: 32Gi}}\n"
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  spark-on-eks:teams:"))
    last = len(text.splitlines()) - 1
    project = make_project(tmp_path / "p", {})
    (project / "stacks" / "Pulumi.dev.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "plan", "dev", "--project-dir", str(project), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"stacks/Pulumi.dev.yaml:{last}: spark-on-eks:teams: duplicate key, first set on line {first}; "
        "YAML would keep only the last and drop the first without a word: merge them into one"
    ]


def test_a_duplicate_key_in_a_job_spec_is_refused_with_its_line(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(ETL.read_text().replace("  memory: 14g\n", "  memory: 14g\n  memory: 4g\n"))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text == "  memory: 4g")
    assert _job_problems(path) == [
        f"{path}:{line}: executor.memory: duplicate key, first set on line {line - 1}; "
        "YAML would keep only the last and drop the first without a word: merge them into one"
    ]


# --- job specs: a main file the platform's images can read, sizes through the spec's own fields


@pytest.mark.parametrize(
    ("main", "expected"),
    [
        (
            "s3://example-datalake-prod/jars/app.jar",
            '"s3://example-datalake-prod/jars/app.jar": Spark reads S3 through S3A here; write s3a://example-datalake-prod/jars/app.jar',
        ),
        (
            "/home/me/app.jar",
            '"/home/me/app.jar": a path on your machine, which the driver pod cannot see; upload it to s3a://<bucket>/... '
            "or build it into the image and write local:///path/in/image",
        ),
        (
            "hdfs://namenode/jars/app.jar",
            '"hdfs://namenode/jars/app.jar": scheme hdfs:// is not read by the platform; use s3a://, local:// (in the image) or https://',
        ),
    ],
)
def test_main_files_the_platform_cannot_read_are_refused(tmp_path, main, expected):
    path = _spec(tmp_path, mainApplicationFile=main)
    assert _job_problems(path) == [f"{path}: mainApplicationFile: {expected}"]


@pytest.mark.parametrize("main", ["s3a://example-datalake-prod/jars/app.jar", "local:///opt/spark/jars/app.jar", "https://repo.example.com/app.jar"])
def test_main_files_the_platform_reads_are_kept(tmp_path, main):
    job = render_spec_file(_spec(tmp_path, mainApplicationFile=main), project_dir=PROJECT_ROOT, account_id="111122223333")
    assert job.application["spec"]["mainApplicationFile"] == main


def test_sizing_keys_in_spark_conf_point_to_the_spec_fields(tmp_path):
    path = _spec(tmp_path, sparkConf={"spark.executor.memory": "20g", "spark.executor.instances": "50", "spark.sql.adaptive.enabled": "true"})
    assert _job_problems(path) == [
        f'{path}: sparkConf.spark.executor.instances: "50": sizes come from the spec, so the platform can check and pack them; '
        "set executor.instances instead",
        f'{path}: sparkConf.spark.executor.memory: "20g": sizes come from the spec, so the platform can check and pack them; '
        "set executor.memory instead",
    ]


# --- values that reach AWS: in the provider's documented form


def _config_problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack_config("s", {PASSWORD_KEY: "x", **raw}, {PASSWORD_KEY})
    return err.value.problems


def test_an_arn_of_another_partition_than_the_region_is_refused():
    assert _config_problems(
        {"aws:region": "us-east-1", "spark-on-eks:cluster": '{"adminPrincipals": ["arn:aws-cn:iam::123456789012:role/admin"]}'}
    ) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:cluster.adminPrincipals: ["arn:aws-cn:iam::123456789012:role/admin"]: '
        "arn:aws-cn:iam::123456789012:role/admin is in partition aws-cn, but us-east-1 is in aws; use arn:aws:iam::..."
    ]


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"team": "data{platform}"}, "tag 'team': keys and values may use letters, digits, spaces and _ . : / = + - @ only"),
    ],
)
def test_tags_aws_refuses_are_refused(tags, reason):
    import json

    assert _config_problems({"aws:region": "us-east-1", "spark-on-eks:tags": json.dumps(tags)}) == [
        f"stacks/Pulumi.s.yaml: spark-on-eks:tags: {json.dumps(tags, sort_keys=True)}: {reason}"
    ]


# --- feasibility: a pool that can never start a node


def test_a_pool_smaller_than_its_smallest_node_is_refused():
    assert _config_problems(
        {"aws:region": "us-east-1", "spark-on-eks:karpenter": '{"pools": {"driver": {"limits": {"cpu": 2, "memory": "16Gi"}}}}'}
    ) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:karpenter.pools.driver.limits: {"cpu": 2, "memory": "16Gi"}: '
        "no node fits: the smallest instance type of the pool (m7i.xlarge) has 4 vCPUs and 16 GiB; raise the limits or allow smaller sizes"
    ]


# --- DR invariants in `plan`


def test_a_dr_stack_whose_spark_zones_overlap_its_primary_is_refused_by_plan(tmp_path):
    dr = stack_config("prod")
    dr["spark-on-eks:clusterName"] = "spark-prod-dr"
    dr["spark-on-eks:network"] = {**dr["spark-on-eks:network"], "cidr": "10.21.0.0/16", "zones": ["us-east-1c", "us-east-1d"]}
    dr["spark-on-eks:dr"] = {"primaryStack": "organization/spark-on-eks/prod", "capacityScale": 0.1}
    project = make_project(tmp_path / "p", {"prod": stack_config("prod"), "prod-dr": dr})
    with pytest.raises(PlanError) as err:
        run_plan("prod-dr", project)
    assert err.value.lines == [
        'stacks/Pulumi.prod-dr.yaml: spark-on-eks:network.sparkZones: ["us-east-1c", "us-east-1d"]: us-east-1c is also a Spark '
        "zone of the primary stack prod (us-east-1a, us-east-1b, us-east-1c); a zone outage would take both: set "
        "network.sparkZones to zones the primary does not use"
    ]


# --- built-in Kubernetes objects: strict against the API server's schema of the pinned minor


@pytest.fixture(scope="module")
def strict():
    from sparkeks.plan.strict import strict_check
    from sparkeks.versions import DEFAULT_KUBERNETES_VERSION

    return strict_check(DEFAULT_KUBERNETES_VERSION)


def test_a_quantity_in_words_or_an_unknown_field_fails_strict_validation(strict):
    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "spark-team", "namespace": "analytics"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "two", "memory": "64Gi"}, "maxi": {"cpu": "2"}}]},
    }
    assert strict.problems(limit_range) == [
        'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "two": not a Kubernetes quantity (a number with an optional '
        "suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi)",
        "LimitRange analytics/spark-team: spec.limits[0].maxi: unknown field; allowed here: default, defaultRequest, max, "
        "maxLimitRequestRatio, min, type",
    ]
    limit_range["spec"]["limits"][0] = {"type": "Container", "max": {"cpu": "1500m", "memory": "64Gi"}}
    assert strict.problems(limit_range) == []


def test_masked_secrets_keep_their_shape():
    from pulumi.runtime import rpc

    from sparkeks.plan.monitor import SECRET, plain

    wire = {rpc._special_sig_key: rpc._special_secret_sig, "value": {"admin-user": "admin", "admin-password": "hunter2", "n": [1]}}
    assert plain(wire) == {"admin-user": SECRET, "admin-password": SECRET, "n": [SECRET]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_rendered_object_validates_strictly(stack, strict, request):
    from sparkeks.conformance import BUILTIN_KINDS
    from sparkeks.plan.writer import is_manifest, manifest_of

    view = request.getfixturevalue(stack)
    manifests = [manifest_of(r) for r in view.plan.resources if is_manifest(r)]
    builtins = [m for m in manifests if (m["apiVersion"], m["kind"]) in BUILTIN_KINDS]
    assert {m["kind"] for m in builtins} >= {"Namespace", "LimitRange", "ResourceQuota", "Secret", "Deployment", "PriorityClass"}
    assert {m["kind"] for m in manifests} - {m["kind"] for m in builtins} >= {"NodePool", "EC2NodeClass", "PodMonitor"}
    assert [p for m in manifests for p in strict.problems(m)] == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("sthree-platform", "starts with sthree-, which S3 reserves"),
        ("xn-platform", "starts with xn-, which S3 reserves"),
        ("amzn-s3-demo-platform", "starts with amzn-s3-demo-, which S3 reserves"),
        ("platform-s3alias", "ends with -s3alias, which S3 reserves"),
    ],
)
def test_bucket_names_s3_reserves_are_refused(name, reason):
    import json

    assert _config_problems({"aws:region": "us-east-1", "spark-on-eks:spark": json.dumps({"bucketName": name})}) == [
        f'stacks/Pulumi.s.yaml: spark-on-eks:spark.bucketName: "{name}": {reason}'
    ]


def test_a_dr_stack_that_reuses_its_primarys_cluster_and_bucket_names_is_refused_by_plan(tmp_path):
    dr = stack_config("prod")
    dr["spark-on-eks:clusterName"] = "spark-prod"
    dr["spark-on-eks:network"] = {**dr["spark-on-eks:network"], "cidr": "10.21.0.0/16", "zones": ["us-east-1d", "us-east-1e"]}
    dr["spark-on-eks:dr"] = {"primaryStack": "organization/spark-on-eks/prod", "capacityScale": 0.1}
    project = make_project(tmp_path / "p", {"prod": stack_config("prod"), "prod-dr": dr})
    with pytest.raises(PlanError) as err:
        run_plan("prod-dr", project)
    assert err.value.lines == [
        'stacks/Pulumi.prod-dr.yaml: spark-on-eks:clusterName: "spark-prod": the primary stack prod\'s cluster has this name '
        "in us-east-1; EKS cluster names are unique per account and region: pick another, e.g. spark-prod-dr",
        'stacks/Pulumi.prod-dr.yaml: spark-on-eks:spark.bucketName: "spark-prod-spark-111122223333": the primary stack prod\'s '
        "platform bucket has this name; S3 bucket names are global: set spark.bucketName or another clusterName",
    ]


def test_quantities_in_rendered_objects_are_checked_by_the_plan_itself():
    from sparkeks.conformance import quantity_problems

    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "spark-team", "namespace": "analytics"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "two", "memory": "64 Gi"}, "defaultRequest": {"cpu": "500m"}}]},
    }
    assert quantity_problems(limit_range) == [
        'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "two": not a Kubernetes quantity (a number with an optional '
        "suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi)",
        'LimitRange analytics/spark-team: spec.limits[0].max.memory: "64 Gi": not a Kubernetes quantity (a number with an '
        "optional suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi)",
    ]


def test_the_plan_stops_on_a_rendered_quantity_the_api_server_refuses(tmp_path, monkeypatch):
    from components.spark import teams

    real = teams.limit_range

    def broken(team, queue):
        manifest = real(team, queue)
        manifest["spec"]["limits"][0]["max"]["cpu"] = "thirty-two"
        return manifest

    monkeypatch.setattr(teams, "limit_range", broken)
    with pytest.raises(PlanError) as err:
        run_plan("dev")
    assert err.value.lines == [
        'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "thirty-two": not a Kubernetes quantity (a number with an '
        "optional suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi)"
    ]
