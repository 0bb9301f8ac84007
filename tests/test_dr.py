"""DR: `dr init` writes a valid stack in other zones, and the DR plan reads its primary and replicates."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from sparkeks.dr import SECRET_TO_SET, dr_init
from sparkeks.plan.runner import load_stack, run_plan
from tests.conftest import PROJECT_ROOT, PlanView, make_project, stack_config

ACCOUNT = "111122223333"


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project", {"prod": stack_config("prod")})


@pytest.fixture
def dr_view(project):
    dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    return PlanView(run_plan("prod-dr", project))


def _cli(project, *args):
    return subprocess.run(
        [sys.executable, "-m", "sparkeks", "dr", "init", *args, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )


def test_dr_init_writes_a_stack_that_validates(project):
    result = _cli(project, "prod", "--zones", "us-east-1d,us-east-1e")
    assert result.returncode == 0, result.stderr
    path = project / "stacks" / "Pulumi.prod-dr.yaml"
    config = load_stack("prod-dr", project)
    assert config.network.zones == ["us-east-1d", "us-east-1e"]
    assert config.spark_zones == ["us-east-1d", "us-east-1e"]
    assert config.network.cidr == "10.21.0.0/16"  # next to the primary's 10.20.0.0/16, peerable
    assert config.resolved_cluster_name("prod-dr") == "spark-prod-dr"
    assert config.dr.primary_stack == "organization/spark-on-eks/prod"
    assert config.dr.capacity_scale == 0.1
    assert [t.name for t in config.teams] == ["analytics", "ml-platform"]
    # Encrypted values do not move between stacks: the DR file asks for its own.
    raw = yaml.safe_load(path.read_text())["config"]
    assert raw["spark-on-eks:grafanaAdminPassword"] == {"secure": SECRET_TO_SET}
    assert "pulumi config set --secret spark-on-eks:grafanaAdminPassword -s prod-dr" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--zones", "us-east-1a,us-east-1d"],
            "--zones: us-east-1a: stack prod runs its Spark capacity there (us-east-1a, us-east-1b, us-east-1c); without --spark-zones",
        ),
        (
            ["--zones", "us-east-1a,us-east-1d", "--spark-zones", "us-east-1a"],
            "--spark-zones: us-east-1a: stack prod runs its Spark capacity there (us-east-1a, us-east-1b, us-east-1c); a DR stack's must be in other zones",
        ),
        (["--zones", "us-east-1d,us-west-2a"], "--zones: us-west-2a: not in us-east-1; zones there: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f"),
        (["--zones", "us-east-1d"], "--zones: us-east-1d: a DR stack needs at least 2 distinct zones (EKS needs 2)"),
        (["--zones", "us-east-1d,us-east-1e", "--region", "mars-1"], "--region: mars-1: unknown region"),
    ],
)
def test_dr_init_refuses_with_one_line_and_exit_2(project, args, expected):
    result = _cli(project, "prod", *args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(expected)
    assert not (project / "stacks" / "Pulumi.prod-dr.yaml").exists()


def test_dr_init_never_overwrites(project):
    assert _cli(project, "prod", "--zones", "us-east-1d,us-east-1e").returncode == 0
    again = _cli(project, "prod", "--zones", "us-east-1e,us-east-1f")
    assert again.returncode == 2
    assert again.stderr.strip() == "stacks/Pulumi.prod-dr.yaml: already exists; remove it or pick another --name"


def test_network_may_share_a_zone_while_spark_capacity_does_not(project):
    stack = dr_init("prod", zones=["us-east-1c", "us-east-1d"], spark_zones=["us-east-1d"], project_dir=project)
    config = yaml.safe_load(stack.path.read_text())["config"]["spark-on-eks:network"]
    assert (config["zones"], config["sparkZones"]) == (["us-east-1c", "us-east-1d"], ["us-east-1d"])


def test_dr_in_another_region(project):
    dr_init("prod", zones=["us-west-2a", "us-west-2b"], region="us-west-2", name="prod-west", project_dir=project)
    view = PlanView(run_plan("prod-west", project))
    assert view.plan.outputs["region"] == "us-west-2"
    assert view.one("pulumi:providers:aws")["inputs"]["region"] == "us-west-2"


def test_dr_plan_reads_the_primary_through_a_stack_reference(dr_view):
    reference = dr_view.one("pulumi:pulumi:StackReference")
    assert reference["name"] == "organization/spark-on-eks/prod"
    assert dr_view.plan.outputs["primaryBucket"] == f"spark-prod-spark-{ACCOUNT}"


def test_dr_plan_replicates_the_primarys_event_logs_into_its_own_bucket(dr_view):
    replication = dr_view.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dr-event-logs")["inputs"]
    assert replication["bucket"] == f"spark-prod-spark-{ACCOUNT}"
    [rule] = replication["rules"]
    assert rule["filter"] == {"prefix": "event-logs/"} and rule["status"] == "Enabled"
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::spark-prod-dr-spark-{ACCOUNT}"
    assert rule["destination"]["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    role = dr_view.one("aws:iam/role:Role", "dr-replication")
    assert replication["role"] == f"arn:aws:iam::{ACCOUNT}:role/{dr_view.id_of(role)}"
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}


def test_replication_role_is_least_privilege(dr_view):
    policy = json.loads(dr_view.one("aws:iam/rolePolicy:RolePolicy", "dr-replication")["inputs"]["policy"])
    source, destination = f"arn:aws:s3:::spark-prod-spark-{ACCOUNT}", f"arn:aws:s3:::spark-prod-dr-spark-{ACCOUNT}"
    assert policy["Statement"] == [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": [source]},
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            "Resource": [f"{source}/*"],
        },
        {"Sid": "WriteReplicas", "Effect": "Allow", "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"], "Resource": [f"{destination}/*"]},
    ]


def test_dr_spark_pools_run_only_in_the_dr_zones_at_standby_size(dr_view):
    for pool in dr_view.of_type("kubernetes:karpenter.sh/v1:NodePool"):
        requirements = {r["key"]: r["values"] for r in pool["inputs"]["spec"]["template"]["spec"]["requirements"]}
        assert requirements["topology.kubernetes.io/zone"] == ["us-east-1d", "us-east-1e"]
    executor = dr_view.one("kubernetes:karpenter.sh/v1:NodePool", "karpenter-pool-spark-executor")["inputs"]["spec"]
    assert executor["limits"] == {"cpu": "400", "memory": "1600Gi"}  # a tenth of prod's 4000 / 16000Gi


def test_failover_is_one_value(project):
    stack = dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    text = stack.path.read_text().replace("capacityScale: 0.1", "capacityScale: 1")
    stack.path.write_text(text)
    view = PlanView(run_plan("prod-dr", project))
    executor = view.one("kubernetes:karpenter.sh/v1:NodePool", "karpenter-pool-spark-executor")["inputs"]["spec"]
    assert executor["limits"] == {"cpu": "4000", "memory": "16000Gi"}


def test_team_data_buckets_listed_are_replicated_into_protected_copies(project):
    stack = dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    text = stack.path.read_text().replace("replicateBuckets: []", "replicateBuckets: [example-datalake-prod]")
    stack.path.write_text(text)
    view = PlanView(run_plan("prod-dr", project))
    copy = view.one("aws:s3/bucket:Bucket", "dr-example-datalake-prod-bucket")
    assert copy["inputs"]["bucket"] == "example-datalake-prod-dr" and copy["options"]["protect"] is True
    replication = view.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "dr-example-datalake-prod")["inputs"]
    assert replication["bucket"] == "example-datalake-prod"
    assert replication["rules"][0]["destination"]["bucket"] == "arn:aws:s3:::example-datalake-prod-dr"
    policy = json.loads(view.one("aws:iam/rolePolicy:RolePolicy", "dr-replication")["inputs"]["policy"])
    assert "arn:aws:s3:::example-datalake-prod" in policy["Statement"][0]["Resource"]


def test_a_dr_stack_cannot_reference_itself(tmp_path):
    config = {**stack_config("prod"), "spark-on-eks:dr": {"primaryStack": "prod"}}
    project = make_project(tmp_path / "p", {"prod": config})
    from sparkeks.plan.runner import PlanError

    with pytest.raises(PlanError) as err:
        run_plan("prod", project)
    assert "refers back to itself" in err.value.lines[0]


def test_shipped_dr_example_in_the_docs_matches_the_command():
    text = (PROJECT_ROOT / "docs" / "dr.md").read_text()
    assert "python -m sparkeks dr init prod --zones us-east-1d,us-east-1e" in text
    assert "capacityScale" in text and "RPO" in text and "RTO" in text


def test_two_dr_stacks_of_one_primary_never_collide(project):
    dr_init("prod", zones=["us-west-2a", "us-west-2b"], region="us-west-2", name="prod-west", project_dir=project)
    dr_init("prod", zones=["us-east-1d", "us-east-1e"], name="prod-dr-b", project_dir=project)
    west, second = load_stack("prod-west", project), load_stack("prod-dr-b", project)
    assert (west.resolved_cluster_name("prod-west"), second.resolved_cluster_name("prod-dr-b")) == ("spark-prod-west", "spark-prod-dr-b")
    assert (west.resolved_bucket_name("prod-west", ACCOUNT), second.resolved_bucket_name("prod-dr-b", ACCOUNT)) == (
        f"spark-prod-west-spark-{ACCOUNT}",
        f"spark-prod-dr-b-spark-{ACCOUNT}",
    )
    assert (west.network.cidr, second.network.cidr) == ("10.21.0.0/16", "10.22.0.0/16")  # prod is 10.20.0.0/16
    assert (west.dr.copy_suffix, second.dr.copy_suffix) == ("west", "dr-b")
    # Both plan, and no bucket name appears in both.
    buckets = [
        {r["inputs"]["bucket"] for r in run_plan(stack, project).resources if r["type"] == "aws:s3/bucket:Bucket"}
        for stack in ("prod-west", "prod-dr-b")
    ]
    assert buckets == [
        {f"spark-prod-west-spark-{ACCOUNT}", f"spark-prod-west-loki-{ACCOUNT}"},
        {f"spark-prod-dr-b-spark-{ACCOUNT}", f"spark-prod-dr-b-loki-{ACCOUNT}"},
    ]


def test_replica_buckets_carry_the_dr_stacks_suffix(project):
    stack = dr_init("prod", zones=["us-east-1d", "us-east-1e"], name="prod-dr-b", project_dir=project)
    stack.path.write_text(stack.path.read_text().replace("replicateBuckets: []", "replicateBuckets: [example-datalake-prod]"))
    view = PlanView(run_plan("prod-dr-b", project))
    assert view.one("aws:s3/bucket:Bucket", "dr-example-datalake-prod-bucket")["inputs"]["bucket"] == "example-datalake-prod-dr-b"


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        # Another stack already pinned the cluster name (and so the bucket) the new one would derive.
        (
            {"aws:allowedAccountIds": [ACCOUNT], "spark-on-eks:clusterName": "spark-prod-west", "spark-on-eks:network": {"cidr": "10.40.0.0/16", "zones": ["us-west-2a", "us-west-2b"]}},
            ["--name", "prod-west"],
            [
                "--name prod-west: cluster name spark-prod-west is already stack other's; pick another --name",
                f"--name prod-west: bucket spark-prod-west-spark-{ACCOUNT} is already stack other's (S3 names are global); pick another --name",
            ],
        ),
        # A block chosen by hand that another stack's VPC uses.
        (
            {"spark-on-eks:network": {"cidr": "10.50.0.0/16", "zones": ["us-west-2a", "us-west-2b"]}},
            ["--name", "prod-west", "--cidr", "10.50.0.0/16"],
            ["--cidr 10.50.0.0/16: overlaps stack other's VPC 10.50.0.0/16; VPCs that may be peered need distinct blocks"],
        ),
    ],
)
def test_a_clashing_dr_stack_is_refused(project, setup, args, expected):
    other = {**stack_config("dev"), **setup}
    (project / "stacks" / "Pulumi.other.yaml").write_text(yaml.safe_dump({"config": other}, sort_keys=False))
    result = _cli(project, "prod", "--zones", "us-west-2a,us-west-2b", "--region", "us-west-2", *args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == expected
    assert not (project / "stacks" / "Pulumi.prod-west.yaml").exists()


def test_the_derived_block_skips_blocks_other_stacks_use(project):
    other = {**stack_config("dev"), "spark-on-eks:network": {"cidr": "10.21.0.0/16", "zones": ["us-west-2a", "us-west-2b"]}}
    (project / "stacks" / "Pulumi.other.yaml").write_text(yaml.safe_dump({"config": other}, sort_keys=False))
    dr_init("prod", zones=["us-east-1d", "us-east-1e"], project_dir=project)
    assert load_stack("prod-dr", project).network.cidr == "10.22.0.0/16"
