"""YuniKorn's pinned release (1.10.0) against the charts and documentation we can check: every value we set
is a key of the 1.8.0 chart in ../shared/schemas (the conformance tests check that too), of the chart on
upstream master after it, and of the Helm settings YuniKorn 1.9.0 documents; the scheduler settings we
write are the ones YuniKorn's documentation defines.

1.10.0's own chart could not be read offline, and no file of it is copied here: the stored snapshot of
apache/yunikorn-release (2387b43, master of 2026-05-28) has no 1.9 or 1.10 tag and its Helm repository
index (gh-pages) ends at chart 1.8.0 (published 2026-02-04). What was read by hand, and recorded below as
our own key list:
- apache/yunikorn-release `helm-charts/yunikorn/values.yaml` and `templates/yunikorn-defaults.yaml` at
  2387b43 (after 1.8.0: 1.9's removal of plugin mode and its goMemoryLimitPercentage are in);
- apache/yunikorn-site `versioned_docs/version-1.9.0/user_guide/service_config.md`, "Helm Configuration"
  (snapshot 17ac7ff of 2026-08-18; the unreleased docs/ copy, i.e. what 1.10 was built from, has the same
  text), which documents every key below with the same defaults.
A key added to the values fails this test until it is checked upstream the same way and recorded here.
"""

from __future__ import annotations

import yaml

from sparkeks import versions
from sparkeks.conformance import chart_defaults
from sparkeks.plan.writer import HELM_RELEASE
from tests.conftest import PRIVATE_NETWORK, schemas_dir

# Dotted value paths found in the newer chart's values.yaml (2387b43), with the default seen there. Every
# one is also in YuniKorn 1.9.0's Helm settings documentation (image tags as `<component>-{version}`).
VERIFIED_IN_NEWER_CHART = {
    "image.tag": "scheduler-latest",
    "image.pullPolicy": "Always",
    "nodeSelector": {},
    "tolerations": [],
    "admissionController.image.tag": "admission-latest",
    "admissionController.image.pullPolicy": "Always",
    "admissionController.nodeSelector": {},
    "admissionController.tolerations": [],
    "admissionController.replicaCount": 1,
    # 2387b43 values.yaml line 47, and 1.9.0's service_config.md "admissionController.hostNetwork" (default true).
    "admissionController.hostNetwork": True,
    "admissionController.resources.requests.cpu": "100m",
    "admissionController.resources.requests.memory": "500Mi",
    "admissionController.resources.limits.memory": "500Mi",
    "web.resources.requests.cpu": "100m",
    "web.resources.requests.memory": "100Mi",
    "web.resources.limits.memory": "500Mi",
    "resources.requests.cpu": "200m",
    "resources.requests.memory": "1Gi",
    "resources.limits.memory": "2Gi",
    "web.image.tag": "web-latest",
    "web.image.pullPolicy": "Always",
    # Private stacks point the images at their pull-through cache (no pluginImage: gone since 1.9).
    "image.repository": "apache/yunikorn",
    "admissionController.image.repository": "apache/yunikorn",
    "web.image.repository": "apache/yunikorn",
    # Copied verbatim into the yunikorn-defaults ConfigMap by templates/yunikorn-defaults.yaml.
    "yunikornDefaults": {},
}
# ConfigMap keys inside yunikornDefaults, as YuniKorn's service configuration documents them.
CONFIGMAP_KEYS = {"queues.yaml", "admissionController.filtering.processNamespaces"}


def _leaf_paths(values: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in ("yunikornDefaults", "nodeSelector"):
            paths |= _leaf_paths(value, f"{path}.")
        else:
            paths.add(path)
    return paths


def _get(values: dict, path: str):
    for part in path.split("."):
        values = values[part]
    return values


def _yunikorn(view) -> dict:
    return next(r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == "yunikorn")["inputs"]


def test_pinned_release_is_at_least_1_10_0():
    assert tuple(int(p) for p in versions.YUNIKORN_VERSION.split(".")) >= (1, 10, 0)


def test_every_value_we_set_is_in_both_charts(prod, plan_variant):
    values = _yunikorn(prod)["values"]
    paths = _leaf_paths(values)
    private = _leaf_paths(_yunikorn(plan_variant("dev", network=PRIVATE_NETWORK))["values"])
    assert paths | private == set(VERIFIED_IN_NEWER_CHART)
    pinned = chart_defaults(schemas_dir(), "yunikorn")
    paths |= private
    for path in paths:
        assert type(_get(pinned, path)) is type(VERIFIED_IN_NEWER_CHART[path]), path
    assert set(values["yunikornDefaults"]) == CONFIGMAP_KEYS


def test_queue_config_uses_only_documented_keys(prod):
    """Partition keys, queue keys and queue properties of YuniKorn's queue configuration (user guide,
    1.9.0 and the docs after it): preemption.delay is a leaf-queue property."""
    queues = yaml.safe_load(_yunikorn(prod)["values"]["yunikornDefaults"]["queues.yaml"])
    [partition] = queues["partitions"]
    assert set(partition) <= {"name", "queues", "placementrules", "limits", "nodesortpolicy", "preemption", "usergroupresolver"}
    assert set(partition["preemption"]) <= {"enabled", "quotapreemptionenabled"}
    queue_keys = {
        "name",
        "parent",
        "queues",
        "maxapplications",
        "properties",
        "adminacl",
        "submitacl",
        "resources",
        "limits",
        "childtemplate",
    }
    properties = {
        "application.sort.policy",
        "application.sort.priority",
        "priority.policy",
        "priority.offset",
        "preemption.policy",
        "preemption.delay",
    }

    def walk(queue, depth):
        assert set(queue) <= queue_keys, queue["name"]
        assert set(queue.get("properties", {})) <= properties
        if "preemption.delay" in queue.get("properties", {}):
            assert "queues" not in queue, f"{queue['name']}: preemption.delay only on leaf queues"
        assert set(queue.get("resources", {})) <= {"guaranteed", "max"}
        for res in queue.get("resources", {}).values():
            assert set(res) <= {"vcore", "memory"}
        for child in queue.get("queues", []):
            walk(child, depth + 1)

    [root] = partition["queues"]
    assert "resources" not in root  # YuniKorn refuses resources on root
    walk(root, 0)
