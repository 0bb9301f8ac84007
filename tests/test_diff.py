"""`sparkeks diff`: two offline plans in, exactly their differences out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sparkeks.plan.diff import ABSENT, diff_plans, markdown_report
from sparkeks.plan.policy_diff import policy_changes
from sparkeks.plan.runner import Plan
from sparkeks.plan.writer import write_plan
from tests.conftest import PROJECT_ROOT, stack_config, with_overrides, written_plan


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return written_plan(tmp_path_factory.mktemp("base"), "base", stack_config("prod"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sparkeks", "diff", *map(str, args)], capture_output=True, text=True, cwd=PROJECT_ROOT)


def test_a_plan_against_itself_reports_nothing(base):
    diff = diff_plans(base, base)
    assert not diff.anything
    result = _cli(base, base, "--exit-code")
    assert result.returncode == 0
    assert "No changes." in result.stdout


def test_a_pool_limit_change_is_exactly_that(base, tmp_path):
    config = with_overrides(stack_config("prod"))
    pools = json.loads(json.dumps(config["spark-on-eks:karpenter"]["pools"]))
    pools["executor"]["limits"] = {"cpu": 5000, "memory": "20000Gi"}
    config["spark-on-eks:karpenter"] = {"pools": pools}
    head = written_plan(tmp_path, "head", config)
    diff = diff_plans(base, head)
    assert diff.added == [] and diff.removed == []
    changed = {r.ref: r.changes for r in diff.changed}
    # analytics states no max, so its ceiling (queue max and ResourceQuota) follows the stack's capacity.
    assert set(changed) == {
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor",
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor-on-demand",
        "kubernetes:core/v1:ResourceQuota::team-analytics-resourcequota-spark-team",
        "kubernetes:helm.sh/v3:Release::spark-yunikorn",
    }
    assert changed["kubernetes:core/v1:ResourceQuota::team-analytics-resourcequota-spark-team"] == [
        ("spec.hard.limits.memory", "22048Gi", "26048Gi"),
        ("spec.hard.requests.cpu", "5512", "6512"),
        ("spec.hard.requests.memory", "22048Gi", "26048Gi"),
    ]
    assert changed["kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor"] == [
        ("spec.limits.cpu", "4000", "5000"),
        ("spec.limits.memory", "16000Gi", "20000Gi"),
    ]
    assert set(diff.manifests) == {
        "nodepool.spark-executor.yaml",
        "nodepool.spark-executor-on-demand.yaml",
        "resourcequota.analytics.spark-team.yaml",
    }
    assert list(diff.helm) == ["yunikorn"]
    report = markdown_report(diff)
    assert "**0 to add, 4 to change, 0 to remove (3 Kubernetes manifests, 1 Helm releases differ).**" in report
    assert '| `spec.limits.cpu` | `"4000"` | `"5000"` |' in report
    assert _cli(base, head, "--exit-code").returncode == 1


def _section(report: str, title: str) -> list[str]:
    """The lines of one `#### title` section of a report."""
    lines = report.splitlines()
    start = lines.index(f"#### {title}") + 2
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#### ")), len(lines))
    section = lines[start:end]
    while section and not section[-1]:
        section.pop()
    return section


def test_a_new_read_location_names_the_location_first(base, tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:teams"][0]["data"]["read"].append("s3://example-datalake-prod/landing/")
    report = markdown_report(diff_plans(base, written_plan(tmp_path, "read", config)))
    assert report.splitlines()[:5] == [
        "### Offline plan diff: prod",
        "",
        "**0 to add, 1 to change, 0 to remove.**",
        "",
        "#### Access and exposure (IAM, network, secrets)",
    ]
    assert _section(report, "Access and exposure (IAM, network, secrets)") == [
        "- changed `aws:iam/rolePolicy:RolePolicy::team-analytics-spark-data`",
        "  - policy: ~ statement `ListOwnLocations0`: + condition `StringLike s3:prefix landing`; + condition `StringLike s3:prefix landing/*`",
        "  - policy: ~ statement `ReadData`: + resource `arn:aws:s3:::example-datalake-prod/landing`; "
        "+ resource `arn:aws:s3:::example-datalake-prod/landing/*`",
    ]
    # Said once: the resource is listed as changed, its policy is not repeated as a JSON string.
    assert _section(report, "Changed") == ["`aws:iam/rolePolicy:RolePolicy::team-analytics-spark-data`", "", "- access: under Access and exposure"]
    assert '\\"Statement\\"' not in report and "(JSON)" not in report


def test_a_new_team_shows_its_access_quota_and_alert_changes(base, tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:teams"] = [
        *config["spark-on-eks:teams"],
        {"name": "finance", "data": {"read": ["s3://example-finance-prod/ledger/"]}, "max": {"cpu": 64, "memory": "256Gi"}},
    ]
    head = written_plan(tmp_path, "team", config)
    diff = diff_plans(base, head)
    assert diff.removed == []
    assert diff.added and all("finance" in ref for ref in diff.added)
    assert {ref.split("::")[0] for ref in diff.added} >= {
        "spark-on-eks:spark:SparkTeam",
        "kubernetes:core/v1:Namespace",
        "aws:iam/role:Role",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "kubernetes:apps/v1:Deployment",
    }
    assert {r.ref for r in diff.changed} == {
        "kubernetes:helm.sh/v3:Release::spark-operator",
        # The new team's log tenant (Fluent Bit) and its Loki data source (Grafana).
        "kubernetes:helm.sh/v3:Release::observability-fluent-bit",
        "kubernetes:helm.sh/v3:Release::spark-yunikorn",  # a queue for the new team
        "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor::observability-spark-drivers",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor::observability-spark-executors",
    }
    assert set(diff.helm) == {"spark-operator", "yunikorn", "kube-prometheus-stack", "fluent-bit"}
    assert ("values.spark.jobNamespaces[+]", ABSENT, "finance") in diff.helm["spark-operator"]

    report = markdown_report(diff)
    bucket = "spark-prod-spark-111122223333"
    access = _section(report, "Access and exposure (IAM, network, secrets)")
    role = next(r for r in json.loads((head / "inventory.json").read_text())["resources"] if r["name"] == "team-finance-spark" and r["type"] == "aws:iam/role:Role")
    role_arn = f"arn:aws:iam::111122223333:role/{role['inputs'].get('name', 'team-finance-spark')}"

    def block(ref):
        """The report's lines for one added resource: its heading and its indented details."""
        at = access.index(f"- added `{ref}`")
        rest = access[at + 1 :]
        return rest[: next((i for i, line in enumerate(rest) if line.startswith("- ")), len(rest))]

    association = block("aws:eks/podIdentityAssociation:PodIdentityAssociation::team-finance-spark")
    assert association[:2] == ["  - namespace = `finance`", "  - serviceAccount = `spark`"]
    assert association[2].startswith("  - roleArn = `arn:aws:iam::111122223333:role/team-finance-spark")
    reader = block("aws:eks/podIdentityAssociation:PodIdentityAssociation::history-finance-reader")
    assert reader[:2] == ["  - namespace = `spark-history`", "  - serviceAccount = `spark-history-server-finance`"]
    assert block("aws:iam/role:Role::team-finance-spark") == [
        "  - assumeRolePolicy: statement Allow `sts:AssumeRole`, `sts:TagSession` for `Service pods.eks.amazonaws.com` "
        "when `StringEquals aws:RequestTag/kubernetes-namespace finance`, `StringEquals aws:RequestTag/kubernetes-service-account spark`, "
        "`StringEquals aws:SourceAccount 111122223333`",
    ]
    assert block("aws:iam/rolePolicy:RolePolicy::team-finance-spark-data") == [
        f"  - policy: statement `LocateBuckets`: Allow `s3:GetBucketLocation` on `arn:aws:s3:::example-finance-prod`, `arn:aws:s3:::{bucket}`",
        "  - policy: statement `ListOwnLocations0`: Allow `s3:ListBucket` on `arn:aws:s3:::example-finance-prod` "
        "when `StringLike s3:prefix ledger`, `StringLike s3:prefix ledger/*`",
        f"  - policy: statement `ListOwnLocations1`: Allow `s3:ListBucket` on `arn:aws:s3:::{bucket}` "
        "when `StringLike s3:prefix event-logs/finance`, `StringLike s3:prefix event-logs/finance/*`, "
        "`StringLike s3:prefix shuffle-fallback/finance`, `StringLike s3:prefix shuffle-fallback/finance/*`",
        "  - policy: statement `ReadData`: Allow `s3:GetObject` on `arn:aws:s3:::example-finance-prod/ledger`, `arn:aws:s3:::example-finance-prod/ledger/*`",
        "  - policy: statement `WriteOwnLocations`: Allow `s3:AbortMultipartUpload`, `s3:DeleteObject`, `s3:GetObject`, `s3:PutObject` on "
        f"`arn:aws:s3:::{bucket}/event-logs/finance`, `arn:aws:s3:::{bucket}/event-logs/finance/*`, "
        f"`arn:aws:s3:::{bucket}/shuffle-fallback/finance`, `arn:aws:s3:::{bucket}/shuffle-fallback/finance/*`",
    ]
    # The new team's History Server reads its own prefix only, and admits its own namespace only.
    assert block("aws:iam/rolePolicy:RolePolicy::history-finance-read-event-logs")[-1] == (
        f"  - policy: statement `ReadEventLogs`: Allow `s3:GetObject` on `arn:aws:s3:::{bucket}/event-logs/finance`, "
        f"`arn:aws:s3:::{bucket}/event-logs/finance/*`"
    )
    assert "- added `kubernetes:core/v1:Service::history-finance`" in access
    assert "- added `kubernetes:networking.k8s.io/v1:NetworkPolicy::history-spark-history-server-finance`" in access
    assert role_arn  # the role exists in the head plan
    added = _section(report, "Added")
    quota = added.index("- `kubernetes:core/v1:ResourceQuota::team-finance-resourcequota-spark-team`")
    assert added[quota + 1] == '  - spec.hard = `{"limits.memory": "256Gi", "pods": "1000", "requests.cpu": "64", "requests.memory": "256Gi"}`'

    # The alert expressions name the team namespaces: each changed expression in full, as a line diff.
    helm = _section(report, "Helm values")
    pending = helm.index("`values.additionalPrometheusRulesMap.spark-on-eks.groups[0].rules[1].expr`:")
    assert helm[pending : pending + 7] == [
        "`values.additionalPrometheusRulesMap.spark-on-eks.groups[0].rules[1].expr`:",
        "",
        "```diff",
        "@@ -1 +1 @@",
        '-sum by (namespace) (kube_pod_status_phase{phase="Pending", namespace=~"analytics|ml-platform"}) > 0',
        '+sum by (namespace) (kube_pod_status_phase{phase="Pending", namespace=~"analytics|ml-platform|finance"}) > 0',
        "```",
    ]
    # Helm values once: the release is listed as changed, its values only under Helm values.
    changed = _section(report, "Changed")
    release = changed.index("`kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack`")
    assert changed[release : release + 4] == [
        "`kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack`",
        "",
        "- values: under Helm values",
        "",
    ]
    assert not any("`values." in line for line in changed)
    assert report.count("rules[1].expr") == 1


def test_a_changed_secret_is_changed_never_shown(base, tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:grafanaAdminPassword"] = {"secure": "v1:bmV3LWNpcGhlcnRleHQtb2YtYS1uZXctcGFzc3dvcmQ="}
    head = written_plan(tmp_path, "secret", config)
    diff = diff_plans(base, head)
    assert diff.secrets == ["spark-on-eks:grafanaAdminPassword"]
    report = markdown_report(diff)
    assert report.splitlines()[2] == "**0 to add, 1 to change, 0 to remove (1 secrets differ).**"
    assert _section(report, "Access and exposure (IAM, network, secrets)") == [
        "- secret `spark-on-eks:grafanaAdminPassword`: changed (secret)",
    ]
    assert _section(report, "Changed") == [
        "`kubernetes:core/v1:Secret::observability-grafana-admin`",
        "",
        "| path | before | after |",
        "|---|---|---|",
        # The masked Secret keeps its shape (so it validates against the API server's schema); the digest
        # says the Secret changed, not which of its keys, so each is shown as possibly changed.
        "| `stringData.admin-password` | (secret) | changed (secret) |",
        "| `stringData.admin-user` | (secret) | changed (secret) |",
    ]
    everything = report + "".join(p.read_text() for p in head.rglob("*") if p.is_file())
    assert "bmV3LWNpcGhlcnRleHQ" not in everything and "offline-plan-secret-placeholder" not in everything
    # The same stored value again: nothing to review.
    assert not diff_plans(base, base).secrets


def _inventory(tmp_path, name, resources):
    plan = Plan("spark-on-eks", "s", resources, {}, {})
    write_plan(plan, tmp_path / name)
    return tmp_path / name


def test_secrets_show_as_changed_never_their_values(tmp_path):
    def resource(value):
        return {"type": "t:m:R", "name": "r", "parent": None, "inputs": {"password": value}, "options": {"protect": False, "retainOnDelete": False, "dependsOn": []}}

    before = _inventory(tmp_path, "a", [resource("plain-old")])
    after = _inventory(tmp_path, "b", [resource("[secret]")])
    report = markdown_report(diff_plans(before, after))
    assert "| `password` | (secret) | changed (secret) |" in report
    assert "plain-old" not in report


def test_missing_plan_is_one_line_and_exit_2(tmp_path, base):
    result = _cli(tmp_path / "nothing", base)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("python -m sparkeks diff: base: ")


def test_policy_documents_compare_statement_by_statement():
    old = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::a/*"]},
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
        ],
    }
    new = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::a/*", "Principal": "*"},
        ],
    }
    assert policy_changes(old, new) == [
        "- statement Allow `sqs:*` on `*`",
        "+ statement Deny `s3:DeleteObject` on `arn:aws:s3:::a/*` for `*`",
        "~ statement (Allow `s3:GetObject`): + resource `arn:aws:s3:::b/*`",
    ]


def _resource(typ, name, inputs):
    return {"type": typ, "name": name, "parent": None, "inputs": inputs, "options": {"protect": False, "retainOnDelete": False, "dependsOn": []}}


def test_network_exposure_is_listed_first(tmp_path):
    https = {"cidrBlocks": ["10.20.0.0/16"], "description": "HTTPS from the VPC", "fromPort": 443, "protocol": "tcp", "toPort": 443}
    world = {"cidrBlocks": ["0.0.0.0/0"], "fromPort": 22, "protocol": "tcp", "toPort": 22}
    group = "aws:ec2/securityGroup:SecurityGroup"
    cluster = "aws:eks/cluster:Cluster"
    before = _inventory(tmp_path, "a", [
        _resource(group, "endpoints", {"ingress": [https], "description": "endpoints"}),
        _resource(cluster, "eks", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}),
    ])
    after = _inventory(tmp_path, "b", [
        _resource(group, "endpoints", {"ingress": [https, world], "description": "endpoints"}),
        _resource(cluster, "eks", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"]}}),
        _resource("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "all-out", {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"}),
    ])
    report = markdown_report(diff_plans(before, after))
    assert _section(report, "Access and exposure (IAM, network, secrets)") == [
        "- added `aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::all-out`",
        "  - egress all traffic all ports to `0.0.0.0/0`",
        "- changed `aws:ec2/securityGroup:SecurityGroup::endpoints`",
        "  - + ingress tcp port 22 from `0.0.0.0/0`",
        "- changed `aws:eks/cluster:Cluster::eks`",
        '  - vpcConfig.publicAccessCidrs[+]: (absent) -> `0.0.0.0/0`',
    ]
