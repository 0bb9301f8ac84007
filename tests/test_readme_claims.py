"""What the README states is what the code does: its example error, its tables, its example job spec and
its benchmark description are checked against the code that produces them."""

from __future__ import annotations

import re

import pytest
import yaml

from sparkeks.config.loader import ConfigError
from sparkeks.jobs.render import render_spec_file
from sparkeks.plan.runner import load_stack
from tests.conftest import PROJECT_ROOT, make_project, stack_config

README = (PROJECT_ROOT / "README.md").read_text()


def _table(heading: str) -> dict[str, list[str]]:
    """The first Markdown table after `heading`: first cell -> the other cells."""
    section = README.split(heading, 1)[1]
    rows = re.findall(r"^\|(.*)\|$", section.split("\n\n|", 1)[1].split("\n\n", 1)[0].join(["|", ""]), re.M)
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.split("|")] for row in rows)}


def test_the_example_error_is_what_the_code_prints(tmp_path):
    block = re.search(r"```\n\$ python -m sparkeks plan dev\n(.*?)\n```", README, re.S)
    assert block, "README lost its example error"
    config = stack_config("dev")
    network = dict(config["spark-on-eks:network"])
    network["natStrategie"] = network.pop("natStrategy")
    config["spark-on-eks:network"] = network
    project = make_project(tmp_path / "project", {"dev": config})
    with pytest.raises(ConfigError) as err:
        load_stack("dev", project)
    assert err.value.problems == block.group(1).splitlines()


def test_the_migration_example_is_the_shipped_spec():
    block = re.search(r"```yaml\n# examples/yarn-migration-300x4x14g.yaml\n(.*?)```", README, re.S)
    assert block
    assert yaml.safe_load(block.group(1)) == yaml.safe_load((PROJECT_ROOT / "examples" / "yarn-migration-300x4x14g.yaml").read_text())


def test_the_job_rules_table_examples_are_what_the_renderer_writes():
    rules = _table("What the generated SparkApplication carries, and why:")
    application = render_spec_file(PROJECT_ROOT / "examples" / "yarn-migration-300x4x14g.yaml", project_dir=PROJECT_ROOT).application
    executor, conf = application["spec"]["executor"], application["spec"]["sparkConf"]
    examples = {cells[0] for cells in rules.values()}
    assert f"14g -> {executor['memoryOverhead']}" in examples
    assert f"300 x 4 -> {conf['spark.default.parallelism']}" in examples and conf["spark.sql.shuffle.partitions"] == conf["spark.default.parallelism"]
    assert f"4 cores -> {executor['coreRequest']}" in examples


_NAT = {"single": "one NAT", "perZone": "NAT per zone", "none": "no NAT"}


def test_the_environments_table_is_the_stack_files(dev, prod):
    table = _table("## Environments")
    columns = table[""]
    assert columns == ["dev", "staging", "prod"]
    for index, stack in enumerate(columns):
        config = load_stack(stack)
        zones = f"{len(config.network.zones)} zones, {_NAT[config.network.nat_strategy]}"
        zones += ", interface endpoints" if config.network.interface_endpoints else ""
        assert table["zones, NAT"][index] == zones
        loki = config.observability.loki
        expected_loki = "one binary, volume" if loki.storage == "filesystem" else f"{loki.replicas} replicas, S3"
        assert table["Loki"][index] == expected_loki
        retention = f"{config.spark.event_log_retention_days} / {config.cluster.log_retention_days} days"
        assert table["retention (event logs / control-plane logs)"][index] == retention
        cpu = table["executor CPU limit per NodePool (spot, and again for its on-demand fallback)"][index]
        assert cpu.split()[0] == str(config.karpenter.pools.executor.limits.cpu)
    # "per NodePool": the spot pool and its on-demand fallback each carry the whole limit.
    for view, stack in ((dev, "dev"), (prod, "prod")):
        limits = {
            pool["name"]: pool["inputs"]["spec"]["limits"]["cpu"]
            for pool in view.of_type("kubernetes:karpenter.sh/v1:NodePool")
            if pool["name"] in ("karpenter-pool-spark-executor", "karpenter-pool-spark-executor-on-demand")
        }
        expected = table["executor CPU limit per NodePool (spot, and again for its on-demand fallback)"][columns.index(stack)].split()[0]
        assert limits == {"karpenter-pool-spark-executor": expected, "karpenter-pool-spark-executor-on-demand": expected}


def test_the_benchmark_run_count_is_the_benchmarks():
    source = (PROJECT_ROOT / "bench" / "bench_plan.py").read_text()
    runs = re.search(r"add_argument\(\"--runs\", type=int, default=(\d+)", source).group(1)
    assert f", {runs} runs each (median wall, max RSS)" in README
