"""Cost of a change (diff), of a job hour (job) and of DR against EMR (dr init), from the pinned table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sparkeks.cost.delta import markdown_section
from sparkeks.cost.dr import emr_monthly
from sparkeks.cost.estimate import estimate
from sparkeks.cost.job import executor_options, job_hour_lines
from sparkeks.plan.runner import load_stack, run_plan
from tests.conftest import PROJECT_ROOT, make_project, stack_config, with_overrides, written_plan

HOURS = 730
ROOT_VOLUME = 100 * 0.08 / HOURS  # a Spark node's 100 GiB gp3 root volume per hour




@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return written_plan(tmp_path_factory.mktemp("base"), "base", stack_config("prod"))


def test_diff_of_a_pool_change_shows_its_cost_delta(base, tmp_path):
    config = with_overrides(stack_config("prod"))
    pools = json.loads(json.dumps(config["spark-on-eks:karpenter"]["pools"]))
    pools["executor"]["limits"] = {"cpu": 5000, "memory": "20000Gi"}
    pools["executor"]["instanceFamilies"] = ["m7i", "m6i"]
    config["spark-on-eks:karpenter"] = {"pools": pools}
    network = dict(config["spark-on-eks:network"])
    network["interfaceEndpoints"] = [*network["interfaceEndpoints"], "logs"]
    config["spark-on-eks:network"] = network
    head = written_plan(tmp_path, "head", config)
    result = subprocess.run([sys.executable, "-m", "sparkeks", "diff", base, head], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    # One more interface endpoint in three zones: 3 x $0.01 x 730 h.
    assert "Fixed monthly: $824.99 -> $846.89 (**+$21.90 a month**)." in report
    assert "| interface endpoints | $131.40 | $153.30 | +$21.90 |" in report
    # m7i/m6i only: the priciest per vCPU-hour is m7i (0.4032 x 0.5 / 8 + volume / 8), limit 5000 vCPUs.
    worst = (0.4032 * 0.5 + ROOT_VOLUME) / 8
    ceiling_after = round(5000 * round(round(0.2016 + ROOT_VOLUME, 6) / 8, 12), 2)
    assert ceiling_after == round(5000 * worst, 2) == 132.85
    [row] = [line for line in report.splitlines() if line.startswith("| `spark-executor` | spot |")]
    c6a = round(0.306 * 0.5 + ROOT_VOLUME, 6)
    assert row.startswith(f"| `spark-executor` | spot | drops c6a.2xlarge (${c6a:,.4f}/node-hour), ")
    assert row.count("/node-hour)") == 30  # ten families x three sizes
    assert row.endswith("; CPU limit 4000 -> 5000 | $157.63 -> $132.85 (-$24.78) |")


def test_cost_section_of_an_unchanged_plan_says_no_change(base):
    cost = json.loads((base / "inventory.json").read_text())["cost"]
    assert markdown_section(cost, cost).splitlines()[-1] == "No change to fixed cost or to the cost of Spark capacity."


def test_emr_always_on_cluster_of_the_primarys_capacity():
    config = load_stack("prod")
    ec2, nodes = emr_monthly(config)
    # driver 512 vCPUs on m7i.4xlarge, executors 4000 on m7i.8xlarge, NVMe 1000 on m6id.8xlarge (32 nodes, rounded up).
    assert [(n.instance_type, n.nodes, n.ec2_usd_per_hour, n.emr_usd_per_hour) for n in nodes] == [
        ("m7i.4xlarge", 32, 0.8064, None),
        ("m7i.8xlarge", 125, 1.6128, None),
        ("m6id.8xlarge", 32, 1.8984, None),
    ]
    assert ec2 == round((32 * 0.8064 + 125 * 1.6128 + 32 * 1.8984) * HOURS, 2) == 210352.13


def test_dr_init_prints_standby_primary_and_emr(tmp_path):
    project = make_project(tmp_path / "project", {"prod": stack_config("prod")})
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "dr", "init", "prod", "--zones", "us-east-1d,us-east-1e", "--project-dir", str(project)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  primary prod: $824.99 fixed, plus Spark nodes while they run" in lines
    # Two zones: two NAT gateways and endpoints in two zones instead of three.
    standby = estimate(run_plan("prod-dr", project).resources, load_stack("prod-dr", project))
    nat = round(2 * 0.045 * HOURS, 2)
    endpoints = round(6 * 2 * 0.01 * HOURS, 2)
    assert standby["fixedMonthly"]["byComponent"]["NAT gateways"] == nat == 65.70
    assert standby["fixedMonthly"]["byComponent"]["interface endpoints"] == endpoints == 87.60
    assert standby["fixedMonthly"]["totalUsd"] == round(824.99 - 98.55 - 131.40 + nat + endpoints, 2) == 748.34
    assert "  standby prod-dr: $748.34 fixed; its Spark pools add nodes only after failover" in lines
    assert lines[-1] == (
        "  a second always-on EMR cluster with prod's Spark capacity (5512 vCPUs: 32 x m7i.4xlarge (driver), "
        "125 x m7i.8xlarge (executor), 32 x m6id.8xlarge (executorNvme)): $210,352.13 EC2 on-demand + EMR uplift "
        "(unpriced: no EMR uplift (m6id.8xlarge, m7i.4xlarge, m7i.8xlarge) price for us-east-1 in the price table; "
        "the prices workflow fills it from the AWS Price List API (`python -m sparkeks prices refresh`))"
    )


def test_job_hour_on_the_cheapest_node_type_that_fits():
    config = load_stack("prod")
    options = executor_options(config, "executor", 40, {"m7i.8xlarge": 6, "r6a.8xlarge": 8, "c7i.2xlarge": 0})
    # 40 executors: 7 m7i.8xlarge or 5 r6a.8xlarge, spot at the default 50% off.
    assert [(o["type"], o["nodes"], o["usdPerHour"]) for o in options] == [
        ("r6a.8xlarge", 5, round(5 * round(1.8144 * 0.5 + ROOT_VOLUME, 6), 4)),
        ("m7i.8xlarge", 7, round(7 * round(1.6128 * 0.5 + ROOT_VOLUME, 6), 4)),
    ]
    application = {"spec": {"executor": {"instances": 40}, "driver": {"cores": 1}}}
    lines = job_hour_lines(config, application, "executor", {"m7i.8xlarge": 6, "r6a.8xlarge": 8})
    driver = round(0.1728 + ROOT_VOLUME, 6)  # m6a.xlarge, the cheapest driver-pool type with a core to spare
    assert lines[0] == f"cost of one hour at full size (us-east-1 list prices, spot at the assumed discount): ${options[0]['usdPerHour'] + driver:,.4f}"
    assert lines[1] == f"  executors: 40 on 5 x r6a.8xlarge (${round(1.8144 * 0.5 + ROOT_VOLUME, 6):,.4f}/node-hour) = ${options[0]['usdPerHour']:,.4f}"
    assert lines[2] == f"  driver: at most one m6a.xlarge (${driver:,.4f}/node-hour, on-demand)"


def test_job_cli_prints_the_hour_cost(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "job", str(PROJECT_ROOT / "examples" / "yarn-migration-300x4x14g.yaml"), "--out", str(tmp_path / "app.yaml")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    # 300 executors on the NVMe pool (on-demand); fit: auto keeps the job's 14g and sends it to general-purpose
    # (m) nodes, where it packs best: 6 per m6id.8xlarge, 50 nodes, the cheapest of the types it may land on.
    node = round(1.8984 + ROOT_VOLUME, 6)
    assert f"  executors: 300 on 50 x m6id.8xlarge (${node:,.4f}/node-hour) = ${round(50 * node, 4):,.4f}" in result.stderr.splitlines()
