"""Every rendered Kubernetes object conforms to the pinned upstream schemas. Never skipped."""

from __future__ import annotations

import pytest

from sparkeks.conformance import CrdRegistry, unknown_helm_keys
from sparkeks.plan.writer import is_manifest, manifest_of
from tests.conftest import schemas_dir


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


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_rendered_object_conforms(stack, registry, request):
    view = request.getfixturevalue(stack)
    manifests = [manifest_of(r) for r in view.plan.resources if is_manifest(r)]
    assert manifests, "the plan renders Kubernetes objects"
    problems = [p for m in manifests for p in registry.validate(m)]
    assert problems == []


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
