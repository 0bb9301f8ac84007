"""`sparkeks diff`: two offline plans in, exactly their differences out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sparkeks.plan.diff import diff_plans, markdown_report
from sparkeks.plan.runner import PROJECT_ROOT, Plan
from sparkeks.plan.writer import write_plan
from tests.conftest import with_overrides, make_project, stack_config


def _plan_dir(tmp_path, name, config):
    from sparkeks.plan.runner import run_plan

    project = make_project(tmp_path / f"project-{name}", {"prod": config})
    out = tmp_path / f"plan-{name}"
    write_plan(run_plan("prod", project), out)
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return _plan_dir(tmp_path_factory.mktemp("base"), "base", stack_config("prod"))


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
    head = _plan_dir(tmp_path, "head", config)
    diff = diff_plans(base, head)
    assert diff.added == [] and diff.removed == []
    changed = {r.ref: r.changes for r in diff.changed}
    assert set(changed) == {
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor",
        "kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor-on-demand",
    }
    assert changed["kubernetes:karpenter.sh/v1:NodePool::karpenter-pool-spark-executor"] == [
        ("spec.limits.cpu", "4000", "5000"),
        ("spec.limits.memory", "16000Gi", "20000Gi"),
    ]
    assert set(diff.manifests) == {"nodepool.spark-executor.yaml", "nodepool.spark-executor-on-demand.yaml"}
    assert diff.helm == {}
    report = markdown_report(diff)
    assert "**0 to add, 2 to change, 0 to remove (2 Kubernetes manifests differ).**" in report
    assert '| `spec.limits.cpu` | `"4000"` | `"5000"` |' in report
    assert _cli(base, head, "--exit-code").returncode == 1


def test_a_new_team_adds_its_resources_and_changes_what_lists_teams(base, tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:teams"] = [*config["spark-on-eks:teams"], {"name": "finance", "quota": {"cpu": 64, "memory": "256Gi"}}]
    head = _plan_dir(tmp_path, "team", config)
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
        "kubernetes:helm.sh/v3:Release::observability-kube-prometheus-stack",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor::observability-spark-drivers",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor::observability-spark-executors",
    }
    operator = next(r for r in diff.changed if r.ref.endswith("::spark-operator"))
    assert any(path == "values.spark.jobNamespaces[2]" and new == "finance" for path, _, new in operator.changes)
    assert set(diff.helm) == {"spark-operator", "kube-prometheus-stack"}


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
    assert "| `password` | (secret) | (secret, changed) |" in report
    assert "plain-old" not in report


def test_missing_plan_is_one_line_and_exit_2(tmp_path, base):
    result = _cli(tmp_path / "nothing", base)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("python -m sparkeks diff: base: ")
