"""Every rendered Kubernetes object conforms to the pinned upstream schemas. Never skipped."""

from __future__ import annotations

import copy

import pytest
import yaml

from components.helm import merge_values
from sparkeks.conformance import CrdRegistry, cel_problems, chart_defaults, unknown_helm_keys
from sparkeks.plan.writer import HELM_RELEASE, is_manifest, manifest_of
from tests.conftest import PROJECT_ROOT, schemas_dir

# helm-values file -> (schemas folder of the pinned chart, value maps that are free-form there).
# kube-prometheus-stack's kube-state-metrics and node-exporter sections are the values of subcharts
# whose own values files are not among the pinned schemas; its grafana section is checked against the
# pinned Grafana chart separately.
CHARTS = {
    "karpenter": ("karpenter", frozenset({"nodeSelector", "affinity"})),
    "spark-operator": ("spark-operator", frozenset()),
    "yunikorn": ("yunikorn", frozenset()),
    "kube-prometheus-stack": ("kube-prometheus-stack", frozenset({"kube-state-metrics", "prometheus-node-exporter", "grafana"})),
    # Loki's own configuration blocks (the chart marks them additionalProperties: true); the chart's
    # values.schema.json still checks them below.
    "loki": ("loki-community", frozenset({"loki.limits_config", "loki.compactor", "loki.storage", "loki.schemaConfig", "loki.commonConfig"})),
    "fluent-bit": ("fluent-bit", frozenset()),
    # The custom pricing sheet is a free-form map the chart writes into OpenCost's pricing ConfigMap.
    "opencost": ("opencost", frozenset({"opencost.customPricing.costModel"})),
    # `celeborn` is Celeborn's own configuration (celeborn-defaults.conf; keys checked against the Celeborn 0.7.0
    # configuration reference in tests/test_celeborn.py); the affinities are Kubernetes Affinity objects.
    "celeborn": ("celeborn", frozenset({"celeborn", "master.affinity", "worker.affinity"})),
}
# Keys a chart documents only as comments in its values file (checked to be there, below).
COMMENTED_KEYS = {"kube-prometheus-stack": {"alertmanager.alertmanagerSpec.configSecret": "# configSecret:"}}


def _unknown(chart: str, values: dict) -> list[str]:
    folder, free_form = CHARTS[chart]
    defaults = chart_defaults(schemas_dir(), folder)
    unknown = [k for k in unknown_helm_keys(values, defaults, free_form=free_form) if k not in COMMENTED_KEYS.get(chart, {})]
    if chart == "kube-prometheus-stack" and "grafana" in values:
        grafana_defaults = merge_values(chart_defaults(schemas_dir(), "grafana"), defaults["grafana"])
        unknown += [f"grafana.{k}" for k in unknown_helm_keys(values["grafana"], grafana_defaults)]
    return unknown


def test_commented_chart_keys_are_documented_upstream():
    for chart, keys in COMMENTED_KEYS.items():
        text = (schemas_dir() / CHARTS[chart][0] / "values.yaml").read_text()
        for marker in keys.values():
            assert marker in text


@pytest.fixture(scope="session")
def registry() -> CrdRegistry:
    return CrdRegistry.load(schemas_dir())


def test_pinned_crds_are_found(registry):
    for key in [
        ("karpenter.sh/v1", "NodePool"),
        ("karpenter.k8s.aws/v1", "EC2NodeClass"),
        ("sparkoperator.k8s.io/v1beta2", "SparkApplication"),
        ("monitoring.coreos.com/v1", "PodMonitor"),
    ]:
        assert key in registry.schemas


@pytest.mark.parametrize("stack", ["dev", "prod", "celeborn"])
def test_every_rendered_object_conforms(stack, registry, request):
    view = request.getfixturevalue(stack)
    manifests = [manifest_of(r) for r in view.plan.resources if is_manifest(r)]
    assert manifests, "the plan renders Kubernetes objects"
    problems = [p for m in manifests for p in registry.validate(m) + cel_problems(m)]
    assert problems == []


def test_every_helm_values_file_uses_only_chart_keys():
    files = sorted((PROJECT_ROOT / "helm-values").glob("*.yaml"))
    assert sorted(f.stem for f in files) == sorted(CHARTS)
    for path in files:
        assert _unknown(path.stem, yaml.safe_load(path.read_text())) == [], path.name


@pytest.mark.parametrize("stack", ["dev", "prod", "celeborn"])
def test_every_merged_release_uses_only_chart_keys(stack, request):
    view = request.getfixturevalue(stack)
    releases = {r["inputs"]["name"]: r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] != "karpenter-crd"}
    assert {"karpenter", "spark-operator", "kube-prometheus-stack", "loki", "fluent-bit"} <= set(releases)
    for name, release in releases.items():
        assert _unknown(name, release["inputs"]["values"]) == [], name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_loki_values_satisfy_the_charts_schema(stack, request):
    import json

    import jsonschema

    view = request.getfixturevalue(stack)
    loki = next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "loki")["inputs"]["values"]
    schema = json.loads((schemas_dir() / "loki-community" / "values.schema.json").read_text())
    defaults = chart_defaults(schemas_dir(), "loki-community")
    from components.helm import merge_values

    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(merge_values(defaults, loki)), key=str)
    assert [e.message for e in errors] == []


def _karpenter(view, kind):
    return [manifest_of(r) for r in view.plan.resources if is_manifest(r) and r["inputs"]["kind"] == kind]


def test_cel_exactly_one_of_role_and_instance_profile(prod):
    node_class = _karpenter(prod, "EC2NodeClass")[0]
    assert cel_problems(node_class) == []
    both = copy.deepcopy(node_class)
    both["spec"]["instanceProfile"] = "profile"
    neither = copy.deepcopy(node_class)
    del neither["spec"]["role"]
    for bad in (both, neither):
        assert cel_problems(bad) == ["must specify exactly one of ['role', 'instanceProfile']"]


def test_cel_node_class_ref_needs_group_kind_and_name(prod):
    pool = _karpenter(prod, "NodePool")[0]
    for field in ("group", "kind", "name"):
        bad = copy.deepcopy(pool)
        bad["spec"]["template"]["spec"]["nodeClassRef"][field] = ""
        assert cel_problems(bad) == [f"nodeClassRef.{field} may not be empty"]


def test_cel_requirement_operators_and_values(prod):
    pool = _karpenter(prod, "NodePool")[0]
    empty_in = copy.deepcopy(pool)
    empty_in["spec"]["template"]["spec"]["requirements"].append({"key": "karpenter.k8s.aws/instance-cpu", "operator": "In", "values": []})
    two_gt = copy.deepcopy(pool)
    two_gt["spec"]["template"]["spec"]["requirements"].append({"key": "karpenter.k8s.aws/instance-cpu", "operator": "Gt", "values": ["4", "8"]})
    restricted = copy.deepcopy(pool)
    restricted["spec"]["template"]["metadata"]["labels"]["karpenter.sh/nodepool"] = "x"
    assert cel_problems(empty_in) == ["requirement karpenter.k8s.aws/instance-cpu: operator 'In' must have a value defined"]
    assert cel_problems(two_gt) == ["requirement karpenter.k8s.aws/instance-cpu: Gt needs a single non-negative integer"]
    assert cel_problems(restricted) == ['label "karpenter.sh/nodepool" is restricted']


def test_cel_budget_schedule_needs_duration(prod):
    pool = _karpenter(prod, "NodePool")[0]
    pool["spec"]["disruption"]["budgets"] = [{"nodes": "0", "schedule": "0 1 * * *"}]
    assert cel_problems(pool) == ["'schedule' must be set with 'duration'"]


def test_cel_alias_format_and_family(prod):
    node_class = _karpenter(prod, "EC2NodeClass")[0]
    node_class["spec"]["amiSelectorTerms"] = [{"alias": "ubuntu@v1"}]
    assert cel_problems(node_class) == ["alias family 'ubuntu' is not supported"]


def test_a_nonconforming_custom_resource_is_caught(registry):
    bad = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "x"}, "spec": {"limits": "lots"}}
    problems = registry.validate(bad)
    assert any("spec" in p for p in problems)


def test_an_unknown_kind_is_caught(registry):
    assert registry.validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_unknown_helm_keys_are_reported_and_open_maps_allowed():
    defaults = {"replicas": 2, "settings": {"clusterName": ""}, "podLabels": {}}
    assert unknown_helm_keys({"replicas": 1, "settings": {"clusterNme": "x"}, "podLabels": {"a": "b"}}, defaults) == [
        "settings.clusterNme"
    ]
