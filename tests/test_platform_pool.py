"""The `platform` NodePool and what runs on it: on-demand, tainted, capped from config, schema- and CEL-valid;
History Servers on demand under one namespace quota."""

from __future__ import annotations

import copy

import pytest

from sparkeks.conformance import CrdRegistry, cel_problems
from sparkeks.plan.writer import manifest_of
from tests.conftest import make_project, schemas_dir, stack_config, with_overrides

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
TAINT = {"key": "spark-on-eks.io/pool", "value": "platform", "effect": "NoSchedule"}
TOLERATION = {"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}


def plan_errors(tmp_path, stack, **sections):
    """The one-line problems a variant of a shipped stack is refused with."""
    from sparkeks.config.loader import ConfigError, load_stack_config
    from sparkeks.plan.runner import read_stack

    project = make_project(tmp_path / "project", {stack: with_overrides(stack_config(stack), **sections)})
    stack_input = read_stack(stack, project)
    with pytest.raises(ConfigError) as err:
        load_stack_config(stack, stack_input.config, stack_input.secret_keys)
    return err.value.problems


def _platform(view):
    return manifest_of(view.one(NODE_POOL, "karpenter-pool-platform"))


def _requirements(pool):
    return {r["key"]: (r["operator"], r["values"]) for r in pool["spec"]["template"]["spec"]["requirements"]}


def test_platform_pool_is_on_demand_tainted_and_in_every_zone_of_the_stack(prod):
    pool = _platform(prod)
    spec = pool["spec"]
    assert spec["template"]["metadata"]["labels"] == {"spark-on-eks.io/pool": "platform"}
    assert spec["template"]["spec"]["taints"] == [TAINT]
    assert _requirements(pool) == {
        "kubernetes.io/os": ("In", ["linux"]),
        "kubernetes.io/arch": ("In", ["amd64"]),
        "karpenter.sh/capacity-type": ("In", ["on-demand"]),
        "karpenter.k8s.aws/instance-family": ("In", ["m7i", "m6i", "m7a", "m6a"]),
        "karpenter.k8s.aws/instance-cpu": ("In", ["4", "8"]),
        "topology.kubernetes.io/zone": ("In", ["us-east-1a", "us-east-1b", "us-east-1c"]),
    }
    assert spec["limits"] == {"cpu": "64", "memory": "256Gi"}
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "10m", "budgets": [{"nodes": "1"}]}
    assert spec["template"]["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}


def test_platform_pool_waits_for_the_controller_and_platform_services_wait_for_it(prod):
    ref = f"{NODE_POOL}::karpenter-pool-platform"
    assert "kubernetes:helm.sh/v3:Release::karpenter-controller" in prod.one(NODE_POOL, "karpenter-pool-platform")["options"]["dependsOn"]
    monitoring_ns = prod.one("kubernetes:core/v1:Namespace", "observability-namespace")
    history_ns = prod.one("kubernetes:core/v1:Namespace", "history-namespace")
    spark_ns = [r for r in prod.of_type("kubernetes:core/v1:Namespace") if r["parent"] and "SparkPlatform" in r["parent"]]
    for namespace in [monitoring_ns, history_ns, *spark_ns]:
        assert ref in namespace["options"]["dependsOn"], namespace["name"]


def test_platform_pool_limits_families_and_zones_follow_config(plan_variant):
    view = plan_variant(
        "prod",
        karpenter={"platform": {"limits": {"cpu": 32, "memory": "128Gi"}, "instanceFamilies": ["m7i"], "instanceCpus": [8], "zones": ["us-east-1b"]}},
    )
    pool = _platform(view)
    assert pool["spec"]["limits"] == {"cpu": "32", "memory": "128Gi"}
    assert _requirements(pool)["karpenter.k8s.aws/instance-family"] == ("In", ["m7i"])
    assert _requirements(pool)["topology.kubernetes.io/zone"] == ("In", ["us-east-1b"])


def test_platform_pool_refuses_spot(tmp_path):
    lines = plan_errors(tmp_path, "prod", karpenter={"platform": {"capacityTypes": ["spot", "on-demand"]}})
    assert lines == [
        'stacks/Pulumi.prod.yaml: spark-on-eks:karpenter.platform.capacityTypes: ["spot", "on-demand"]: the platform pool runs on on-demand only: a reclaimed node takes monitoring and the operator with it'
    ]


def test_platform_pool_conforms_to_the_pinned_schema_and_cel_rules(prod):
    pool = _platform(prod)
    assert CrdRegistry.load(schemas_dir()).validate(pool) == []
    assert cel_problems(pool) == []
    restricted = copy.deepcopy(pool)
    restricted["spec"]["template"]["metadata"]["labels"]["karpenter.sh/custom"] = "x"
    assert cel_problems(restricted) == ['label domain "karpenter.sh" is restricted (karpenter.sh/custom)']
    no_class = copy.deepcopy(pool)
    no_class["spec"]["template"]["spec"]["nodeClassRef"]["name"] = ""
    assert cel_problems(no_class) == ["nodeClassRef.name may not be empty"]


# --- History Servers ----------------------------------------------------------------------------


def _history(view, typ, name):
    return view.one(typ, name)["inputs"]


def test_history_servers_start_at_zero_and_pulumi_keeps_a_teams_scaling(prod):
    deployment = prod.one("kubernetes:apps/v1:Deployment", "history-analytics")
    assert deployment["inputs"]["spec"]["replicas"] == 0
    assert deployment["options"]["ignoreChanges"] == ["spec.replicas"]


def test_a_team_may_start_and_stop_only_its_own_server(prod):
    role = _history(prod, "kubernetes:rbac.authorization.k8s.io/v1:Role", "history-analytics-start-stop")
    assert role["rules"] == [
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["spark-history-server-analytics"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["spark-history-server-analytics"], "verbs": ["get", "patch", "update"]},
    ]
    binding = _history(prod, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "history-analytics-start-stop")
    assert binding["roleRef"]["name"] == "spark-history-server-analytics"
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "spark-on-eks:team:analytics"}]


def test_one_quota_caps_every_history_server_together(prod):
    quota = _history(prod, "kubernetes:core/v1:ResourceQuota", "history-quota")
    # 4 running servers + 1 surge pod of a rolling update, each a 3 GiB server (2g heap + 1g, 500m) and its
    # login proxy (128 MiB, 20m): 5 x 3200 MiB, 5 x 520m.
    assert quota["spec"]["hard"] == {"pods": "5", "requests.cpu": "2600m", "requests.memory": "16000Mi", "limits.memory": "16000Mi"}


def test_always_on_servers_need_room_in_the_quota(tmp_path):
    lines = plan_errors(tmp_path, "prod", historyServer={"onDemand": False, "maxRunning": 3})
    assert lines == [
        "stacks/Pulumi.prod.yaml: spark-on-eks:historyServer.maxRunning: 3: 2 teams x 2 replicas always on need 4 History Server pods;"
        " raise historyServer.maxRunning or keep historyServer.onDemand"
    ]


def test_history_alert_ignores_servers_at_rest(prod):
    from tests.test_observability import _rules

    down = next(r for r in _rules(prod) if r["alert"] == "SparkHistoryServerDown")
    assert "kube_deployment_spec_replicas" in down["expr"] and "> 0" in down["expr"]
