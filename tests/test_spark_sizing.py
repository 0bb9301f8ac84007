"""Spark sizing rules: memory strings, overhead, parallelism, and executors packing onto nodes."""

from __future__ import annotations

import pytest

from sparkeks.config.model import ExecutorPoolConfig
from sparkeks.spark import sizing
from sparkeks.spark.defaults import parallelism


@pytest.mark.parametrize(
    ("text", "mib"),
    [("14g", 14336), ("14G", 14336), ("14gb", 14336), ("512m", 512), ("2048", 2048), ("1t", 1048576), ("1048576k", 1024)],
)
def test_memory_strings_parse_as_spark_reads_them(text, mib):
    assert sizing.parse_memory_mib(text) == mib


@pytest.mark.parametrize("text", ["14 gigs", "1.5g", "-1g", "g", "", "14gib", "0m"])
def test_memory_strings_spark_cannot_parse_are_refused(text):
    with pytest.raises(sizing.SizingError):
        sizing.parse_memory_mib(text)


def test_the_users_rule_14g_gives_3g_overhead():
    assert sizing.format_mib(sizing.memory_overhead_mib(14336, 0.2)) == "3g"


@pytest.mark.parametrize(
    ("memory_mib", "factor", "overhead_mib"),
    [(1024, 0.2, 384), (4096, 0.2, 1024), (16384, 0.2, 3328), (12288, 0.4, 5120), (2048, 0.1, 384)],
)
def test_overhead_is_at_least_384m_and_rounded_up_to_256m(memory_mib, factor, overhead_mib):
    assert sizing.memory_overhead_mib(memory_mib, factor) == overhead_mib
    assert overhead_mib % 256 == 0 or overhead_mib == 384


def test_parallelism_is_executors_times_cores():
    assert parallelism(300, 4) == 1200


def test_asking_for_every_core_fits_one_executor_per_8_vcpu_node_but_the_computed_request_fits_two():
    node = sizing.Node.of("r7i.2xlarge")  # 8 vCPUs, 64 GiB: memory is not what limits here
    shape = sizing.ExecutorShape(cores=4, memory_mib=8192, overhead_mib=2048)
    assert sizing.fits(node, shape, 4000) == 1
    request = sizing.executor_request_milli(shape, [node])
    assert request == 3800
    assert sizing.fits(node, shape, request) == 2


def test_executors_per_node_of_the_default_executor_pool():
    """Stated: a 4-core, 14g (+3g) executor on the default pool's 8/16/32-vCPU nodes."""
    nodes = [sizing.Node.of(t) for t in ExecutorPoolConfig().instance_types()]
    shape = sizing.ExecutorShape(4, 14336, 3072)
    request = sizing.executor_request_milli(shape, nodes)
    assert request == 3800
    table = sizing.packing(shape, nodes, request)
    # Memory-optimised (r) nodes take as many as they have 4-core slots; general-purpose (m) nodes are
    # limited by memory; compute (c) 2xlarge nodes cannot hold one at all.
    assert [table[t] for t in ("r7i.2xlarge", "r7i.4xlarge", "r7i.8xlarge")] == [2, 4, 8]
    assert [table[t] for t in ("m7i.2xlarge", "m7i.4xlarge", "m7i.8xlarge")] == [1, 3, 6]
    assert [table[t] for t in ("c7i.2xlarge", "c7i.4xlarge", "c7i.8xlarge")] == [0, 1, 3]


def test_request_never_exceeds_the_cores_asked_for():
    nodes = [sizing.Node.of("m7i.8xlarge")]
    assert sizing.executor_request_milli(sizing.ExecutorShape(1, 1024, 384), nodes) <= 1000


def test_an_executor_no_node_holds_is_refused():
    with pytest.raises(sizing.SizingError):
        sizing.executor_request_milli(sizing.ExecutorShape(64, 1024, 384), [sizing.Node.of("m7i.8xlarge")])
