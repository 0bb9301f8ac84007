"""Node figures: Karpenter's published allocatable capacity per instance type, minus the DaemonSets the
platform really runs on Spark nodes."""

from __future__ import annotations

import math

import pytest
import yaml

from components.observability.values import fluent_bit_values
from sparkeks import daemonsets, nodes, versions
from sparkeks.config.model import ExecutorPoolConfig
from sparkeks.instances import FAMILIES, SIZE_VCPUS
from sparkeks.spark import sizing
from tests.conftest import schemas_dir

# Read from aws/karpenter-provider-aws website/content/en/v1.14/reference/instance-types.md (commit in the
# data file): the 4xlarge of every family, (cpu, memory, pods) as the page lists them.
PUBLISHED_4XLARGE = {
    "c6a": (15890, 27381, 234), "c6g": (15890, 27322, 234), "c6gd": (15890, 27322, 234), "c6gn": (15890, 27322, 234),
    "c6i": (15890, 27381, 234), "c6id": (15890, 27381, 234), "c6in": (15890, 27381, 234), "c7a": (15890, 27381, 234),
    "c7g": (15890, 27322, 234), "c7gd": (15890, 27322, 234), "c7i": (15890, 27381, 234), "c8g": (15890, 27322, 234),
    "i4g": (15890, 118253, 234), "i4i": (15890, 118312, 234), "m6a": (15890, 57691, 234), "m6g": (15890, 57632, 234),
    "m6gd": (15890, 57632, 234), "m6i": (15890, 57691, 234), "m6id": (15890, 57691, 234), "m6in": (15890, 57691, 234),
    "m7a": (15890, 57691, 234), "m7g": (15890, 57632, 234), "m7gd": (15890, 57632, 234), "m7i": (15890, 57691, 234),
    "m8g": (15890, 57632, 234), "r6a": (15890, 118312, 234), "r6g": (15890, 118253, 234), "r6gd": (15890, 118253, 234),
    "r6i": (15890, 118312, 234), "r6id": (15890, 118312, 234), "r6in": (15890, 118312, 234), "r7a": (15890, 118312, 234),
    "r7g": (15890, 118253, 234), "r7gd": (15890, 118253, 234), "r7i": (15890, 118312, 234), "r8g": (15890, 118253, 234),
}
# What the platform's DaemonSets request on every Spark node: aws-node 50m (two containers at 25m),
# kube-proxy 100m, ebs-csi-node 30m/104Mi, Fluent Bit 50m/64Mi, node-exporter 20m/32Mi; pod identity agent none.
DAEMONSET_OVERHEAD = (250, 200, 6)


def _kube_reserved_cpu_milli(vcpus: int) -> int:
    # EKS/Karpenter: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest.
    return math.ceil(60 + (10 if vcpus > 1 else 0) + 5 * min(max(vcpus - 2, 0), 2) + 2.5 * max(vcpus - 4, 0))


def test_every_family_has_published_figures_for_the_page_that_was_read():
    assert set(PUBLISHED_4XLARGE) == set(FAMILIES)
    assert nodes.source()["karpenterDocsVersion"] == "v1." + versions.KARPENTER_VERSION.split(".")[1]
    assert nodes.source()["path"] == "website/content/en/v1.14/reference/instance-types.md"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_figures_per_family_are_the_upstream_table_minus_daemonsets(family):
    assert nodes.allocatable(f"{family}.4xlarge") == PUBLISHED_4XLARGE[family]
    types = [t for t in nodes.instance_types().values() if t.family == family]
    absent = {n for n in nodes.absent() if n.startswith(f"{family}.")}
    assert {t.name for t in types} | absent == {f"{family}.{s}" for s, v in SIZE_VCPUS.items() if v in FAMILIES[family].vcpu_sizes()}
    ds_cpu, ds_memory, ds_pods = DAEMONSET_OVERHEAD
    for it in types:
        cpu, memory, pods = nodes.allocatable(it.name)
        assert nodes.spark_room(it.name) == (cpu - ds_cpu, memory - ds_memory, pods - ds_pods)
        node = sizing.Node.of(it.name)
        assert (node.pod_cpu_milli, node.pod_memory_mib, node.pods) == (cpu - ds_cpu, memory - ds_memory, pods - ds_pods)
        # The table follows Karpenter's documented model: CPU minus kube-reserved; memory minus 7.5% for the
        # hypervisor, kube-reserved (255Mi + 11Mi per pod) and the 100Mi eviction threshold. Graviton types
        # list 59Mi less throughout.
        assert cpu == it.vcpus * 1000 - _kube_reserved_cpu_milli(it.vcpus)
        expected_memory = it.memory_mib - math.ceil(it.memory_mib * 0.075) - (255 + 11 * pods) - 100
        assert memory == expected_memory - (59 if it.architecture == "arm64" else 0)
        assert it.architecture == FAMILIES[family].architecture
        assert it.memory_mib == it.vcpus * FAMILIES[family].memory_per_vcpu_gib * 1024


def test_sizes_that_do_not_exist_are_never_offered():
    # c7i and m7i jump from 24xlarge to 48xlarge; the old size table offered a 32xlarge.
    assert not nodes.exists("c7i.32xlarge")
    assert "c7i.32xlarge" not in FAMILIES["c7i"].instance_types([96, 128, 192])
    assert FAMILIES["c7i"].instance_types([96, 128, 192]) == ["c7i.24xlarge", "c7i.48xlarge"]
    assert all(nodes.exists(t) for t in ExecutorPoolConfig(instance_cpus=[8, 16, 32, 128]).instance_types())


def test_unknown_type_is_named_in_the_error():
    with pytest.raises(nodes.UnknownInstanceType, match=r"^x9z\.large: no allocatable figures for this instance type \(Karpenter v1.14 reference\)$"):
        nodes.allocatable("x9z.large")


def test_daemonset_overhead_is_what_the_platform_runs():
    pods = {p.name: (p.cpu_milli, p.memory_mib) for p in daemonsets.spark_node_daemonsets()}
    assert pods == {
        "kube-system/aws-node": (50, 0),
        "kube-system/kube-proxy": (100, 0),
        "kube-system/eks-pod-identity-agent": (0, 0),
        "kube-system/ebs-csi-node": (30, 104),
        "monitoring/fluent-bit": (50, 64),
        "monitoring/prometheus-node-exporter": (20, 32),
    }
    assert daemonsets.overhead() == DAEMONSET_OVERHEAD
    assert daemonsets.overhead(observability=False) == (180, 104, 4)


def test_helm_daemonsets_read_the_values_the_platform_renders():
    rendered = fluent_bit_values(["analytics"])
    fluent = next(p for p in daemonsets.helm_daemonset_pods() if p.name == "monitoring/fluent-bit")
    requests = rendered["resources"]["requests"]
    assert (fluent.cpu_milli, fluent.memory_mib) == (daemonsets.cpu_milli(requests["cpu"]), daemonsets.memory_mib(requests["memory"]))
    assert daemonsets.tolerates_spark_pools(rendered["tolerations"])


def test_a_daemonset_that_does_not_tolerate_spark_pools_is_not_counted():
    assert not daemonsets.tolerates_spark_pools([{"key": "CriticalAddonsOnly", "operator": "Exists"}])
    assert not daemonsets.tolerates_spark_pools(None)
    assert daemonsets.tolerates_spark_pools([{"key": "spark-on-eks.io/pool", "operator": "Exists"}])
    assert daemonsets.tolerates_spark_pools([{"operator": "Exists"}])


def test_chart_defaults_relied_on_are_the_pinned_charts():
    schemas = schemas_dir()
    fluent_chart = yaml.safe_load((schemas / "fluent-bit" / "Chart.yaml").read_text())
    assert fluent_chart["version"] == versions.FLUENT_BIT_VERSION
    assert yaml.safe_load((schemas / "fluent-bit" / "values.yaml").read_text())["resources"] == {}
    stack_chart = yaml.safe_load((schemas / "kube-prometheus-stack" / "Chart.yaml").read_text())
    assert stack_chart["version"] == versions.KUBE_PROMETHEUS_STACK_VERSION
    node_exporter = next(d for d in stack_chart["dependencies"] if d["name"] == "prometheus-node-exporter")
    # The chart default recorded in sparkeks/daemonsets.py was read for this version.
    assert node_exporter["version"] == "4.56.1"
    stack_defaults = yaml.safe_load((schemas / "kube-prometheus-stack" / "values.yaml").read_text())
    assert "resources" not in (stack_defaults.get("prometheus-node-exporter") or {})


@pytest.mark.parametrize("addon", daemonsets.EKS_ADDON_PODS, ids=lambda a: a.addon)
def test_addon_requests_were_read_for_every_pinned_build(addon):
    pinned = {pins[addon.addon] for pins in versions.EKS_ADDON_VERSIONS.values()}
    for build in pinned:
        base = build.split("-eksbuild")[0]
        assert any(base == c or base.startswith(f"{c}.") for c in addon.checked_builds), (
            f"{addon.addon} {build}: re-read its DaemonSet requests and update sparkeks/daemonsets.py"
        )


@pytest.mark.parametrize(
    ("quantity", "mib"), [("64Mi", 64), ("1Gi", 1024), ("128M", 123), ("0", 0), ("1.5Gi", 1536)]
)
def test_memory_quantities(quantity, mib):
    assert daemonsets.memory_mib(quantity) == mib


def test_the_advisor_never_claims_more_than_published():
    """The old formula assumed 110 pods; 4xlarge and larger nodes allow 234 and more, so kube-reserved is
    larger and the room smaller than it claimed."""
    node = sizing.Node.of("m7i.4xlarge")
    assert node.pod_memory_mib == 57691 - 200
    assert node.pod_cpu_milli == 15890 - 250


def test_the_extraction_script_reads_the_reference_page_format(tmp_path):
    """tools/karpenter_instance_types.py on a page in the reference's format (two types, made up here)."""
    from tools.karpenter_instance_types import facts, parse

    rows = """### `m7i.large`
#### Labels
 | Label | Value |
 |--|--|
 |karpenter.k8s.aws/instance-category|m|
 |karpenter.k8s.aws/instance-cpu|2|
 |karpenter.k8s.aws/instance-family|m7i|
 |karpenter.k8s.aws/instance-memory|8192|
 |kubernetes.io/arch|amd64|
#### Resources
 | Resource | Quantity |
 |--|--|
 |cpu|1930m|
 |memory|6903Mi|
 |pods|29|
### `x1e.large`
#### Resources
 |cpu|1930m|
"""
    assert facts(parse(rows)) == {
        "m7i.large": {
            "family": "m7i",
            "category": "m",
            "architecture": "amd64",
            "vcpus": 2,
            "memoryMiB": 8192,
            "allocatableCpuMilli": 1930,
            "allocatableMemoryMiB": 6903,
            "maxPods": 29,
        }
    }
    assert nodes.allocatable("m7i.large") == (1930, 6903, 29)
