"""The plan itself validates every rendered Kubernetes object strictly (issue 21): built-in kinds against
the API server's schema of the stack's Kubernetes minor, custom resources against the pinned CRDs. What the
API server would refuse at `pulumi up` fails the plan with one line per problem and exit 2."""

from __future__ import annotations

import copy

import pytest

from sparkeks.cli import main
from sparkeks.conformance import BUILTIN_KINDS
from sparkeks.plan.runner import PlanError, run_plan
from sparkeks.plan.writer import FAILED_MARK, is_manifest, manifest_of, summary_of
from sparkeks.versions import SUPPORTED_KUBERNETES_VERSIONS

QUANTITY_HINT = "not a Kubernetes quantity (a number with an optional suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi)"


def _break_limit_range(monkeypatch):
    from components.spark import teams

    real = teams.limit_range

    def broken(*args, **kwargs):
        manifest = real(*args, **kwargs)
        manifest["spec"]["limits"][0]["max"]["cpu"] = "thirty-two"
        manifest["spec"]["limits"][0]["maxi"] = {"cpu": "2"}
        return manifest

    monkeypatch.setattr(teams, "limit_range", broken)


def _break_node_pools(monkeypatch):
    from components.karpenter import component

    real = component.node_pools

    def broken(*args, **kwargs):
        pools = copy.deepcopy(real(*args, **kwargs))
        for pool in pools:
            if pool["metadata"]["name"] == "spark-driver":
                pool["spec"]["template"]["spec"]["requirements"][0]["operator"] = "in"
                pool["spec"]["template"]["spec"]["expireAfterr"] = "720h"
        return pools

    monkeypatch.setattr(component, "node_pools", broken)


def test_the_plan_refuses_a_quantity_in_words_and_an_unknown_field_in_a_builtin_object(monkeypatch):
    _break_limit_range(monkeypatch)
    with pytest.raises(PlanError) as err:
        run_plan("dev")
    assert err.value.exit_code == 2
    assert err.value.lines == [
        f'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "thirty-two": {QUANTITY_HINT}',
        "LimitRange analytics/spark-team: spec.limits[0].maxi: unknown field; allowed here: default, defaultRequest, max, "
        "maxLimitRequestRatio, min, type",
    ]


def test_the_plan_refuses_a_bad_enum_and_an_unknown_field_in_a_custom_resource(monkeypatch):
    _break_node_pools(monkeypatch)
    with pytest.raises(PlanError) as err:
        run_plan("dev")
    assert err.value.lines == [
        "NodePool spark-driver: spec.template.spec.expireAfterr: unknown field; allowed here: expireAfter, nodeClassRef, "
        "requirements, startupTaints, taints, terminationGracePeriod",
        'NodePool spark-driver: spec.template.spec.requirements[0].operator: "in": not one of "Gte", "Lte", "In", "NotIn", '
        '"Exists", "DoesNotExist", "Gt", "Lt"',
    ]


def test_plan_on_the_command_line_prints_one_line_per_problem_and_exits_2(monkeypatch, tmp_path, capsys):
    _break_limit_range(monkeypatch)
    out = tmp_path / "plan"
    assert main(["plan", "dev", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "thirty-two": {QUANTITY_HINT}',
        "LimitRange analytics/spark-team: spec.limits[0].maxi: unknown field; allowed here: default, defaultRequest, max, "
        "maxLimitRequestRatio, min, type",
    ]
    assert "Traceback" not in err


def test_strict_check_names_object_field_value_and_what_is_allowed():
    from sparkeks.plan.strict import strict_check

    check = strict_check("1.35")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labelz": {}},
        "spec": {
            "replicas": "2",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web@sha256:" + "0" * 64, "resources": {"limits": {"memory": "1 Gi"}}}]},
            },
        },
    }
    assert check.problems(deployment) == [
        "Deployment shop/web: metadata.labelz: unknown field; allowed here: annotations, creationTimestamp, "
        "deletionGracePeriodSeconds, deletionTimestamp, finalizers, generateName, generation, labels, managedFields, name, "
        "namespace, ownerReferences, resourceVersion, selfLink, uid",
        'Deployment shop/web: spec.replicas: "2": must be an integer',
        f'Deployment shop/web: spec.template.spec.containers[0].resources.limits.memory: "1 Gi": {QUANTITY_HINT}',
    ]
    # Numbers are quantities to the API server too; a custom group may not borrow a built-in kind's schema.
    deployment["metadata"].pop("labelz")
    deployment["spec"]["replicas"] = 2
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = {"memory": "1Gi", "cpu": 1.5}
    assert check.problems(deployment) == []
    assert check.problems({"apiVersion": "apps.example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}}) == [
        "Deployment x: apiVersion apps.example.com/v1, kind Deployment: not a built-in kind of Kubernetes 1.35, and no pinned CRD defines it"
    ]


def test_custom_resources_are_strict_where_the_crd_does_not_keep_unknown_fields():
    from sparkeks.plan.strict import strict_check

    check = strict_check("1.35")
    node_pool = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": "spark-executor", "labelz": {}},
        "spec": {
            "limits": {"cpu": "lots", "memory": "8000Gi"},
            "template": {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "spark"}, "requirements": []}},
        },
    }
    assert check.problems(node_pool) == [
        "NodePool spark-executor: metadata.labelz: unknown field; allowed here: annotations, creationTimestamp, "
        "deletionGracePeriodSeconds, deletionTimestamp, finalizers, generateName, generation, labels, managedFields, name, "
        "namespace, ownerReferences, resourceVersion, selfLink, uid",
        f'NodePool spark-executor: spec.limits.cpu: "lots": {QUANTITY_HINT}',
    ]


def _counts(plan):
    manifests = [manifest_of(r) for r in plan.resources if is_manifest(r)]
    builtin = sum(1 for m in manifests if (m["apiVersion"], m["kind"]) in BUILTIN_KINDS)
    return builtin, len(manifests) - builtin


def test_the_summary_says_what_was_checked(dev):
    builtin, custom = _counts(dev.plan)
    assert custom > 0
    summary = summary_of(dev.plan)
    assert f"{builtin} built-in objects checked strictly against Kubernetes 1.35, {custom} custom resources against the pinned CRDs." in summary


def test_without_the_schemas_folder_the_plan_checks_builtin_kinds_and_says_custom_resources_were_not(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARK_EKS_SCHEMAS", str(tmp_path / "absent"))
    plan = run_plan("dev")
    builtin, custom = _counts(plan)
    assert (
        f"{builtin} built-in objects checked strictly against Kubernetes 1.35; {custom} custom resources NOT checked: "
        "no pinned CRD schemas found (set SPARK_EKS_SCHEMAS to a folder of CRD files, e.g. a checkout's ../shared/schemas)."
    ) in summary_of(plan)
    _break_limit_range(monkeypatch)
    with pytest.raises(PlanError) as err:
        run_plan("dev")
    assert err.value.lines[0] == f'LimitRange analytics/spark-team: spec.limits[0].max.cpu: "thirty-two": {QUANTITY_HINT}'


def test_without_the_schemas_folder_nodepool_quantities_are_still_checked(monkeypatch, tmp_path):
    from components.karpenter import component

    real = component.node_pools

    def words(*args, **kwargs):
        pools = copy.deepcopy(real(*args, **kwargs))
        for pool in pools:
            if pool["metadata"]["name"] == "spark-driver":
                pool["spec"]["limits"]["cpu"] = "lots"
        return pools

    monkeypatch.setenv("SPARK_EKS_SCHEMAS", str(tmp_path / "absent"))
    monkeypatch.setattr(component, "node_pools", words)
    with pytest.raises(PlanError) as err:
        run_plan("dev")
    assert err.value.lines == [f'NodePool spark-driver: spec.limits.cpu: "lots": {QUANTITY_HINT}']


def test_a_failed_check_leaves_the_failure_mark_and_no_plan(monkeypatch, tmp_path):
    _break_limit_range(monkeypatch)
    out = tmp_path / "plan"
    out.mkdir()
    (out / "summary.md").write_text("an earlier plan")
    assert main(["plan", "dev", "--out", str(out), "-q"]) == 2
    assert sorted(p.name for p in out.iterdir()) == [FAILED_MARK]


@pytest.mark.parametrize("minor", SUPPORTED_KUBERNETES_VERSIONS)
def test_every_supported_kubernetes_minor_has_the_api_servers_schemas(minor):
    from sparkeks.plan.strict import builtin_schema_dir

    assert (builtin_schema_dir(minor) / "_definitions.json").is_file()
    assert (builtin_schema_dir(minor) / "limitrange-v1.json").is_file()


def test_a_masked_secret_validates_in_the_plan(prod):
    from sparkeks.plan.monitor import SECRET
    from sparkeks.plan.strict import strict_check

    secrets = [manifest_of(r) for r in prod.plan.resources if is_manifest(r) and r["inputs"]["kind"] == "Secret"]
    masked = [s for s in secrets if SECRET in (s.get("stringData") or {}).values() or SECRET in (s.get("data") or {}).values()]
    assert masked, "the prod plan has a Secret whose values are masked"
    assert [p for s in masked for p in strict_check("1.35").problems(s)] == []
