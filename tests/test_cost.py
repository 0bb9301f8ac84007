"""Cost estimates from the pinned price table: each figure hand-computed from the table's unit prices."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sparkeks.cli import main
from sparkeks.cost import prices
from sparkeks.cost.check import check_lines
from sparkeks.cost.estimate import estimate
from sparkeks.plan.writer import write_plan

HOURS = 730


def _line(cost, item_start):
    found = [line for line in cost["fixedMonthly"]["lines"] if line["item"].startswith(item_start)]
    assert len(found) == 1, [line["item"] for line in cost["fixedMonthly"]["lines"]]
    return found[0]


def _pool(cost, name, capacity):
    return next(p for p in cost["pools"] if p["nodePool"] == name and p["capacityType"] == capacity)


@pytest.fixture(scope="module")
def prod_cost(prod):
    return estimate(prod.plan.resources, prod.plan.config)


def test_price_table_entries_are_the_pinned_karpenter_and_service_figures():
    # Karpenter v1.14.1's generated table (2026-07-06), Linux on-demand, us-east-1.
    assert prices.ec2_on_demand("us-east-1", "m7i.xlarge") == 0.2016
    assert prices.ec2_on_demand("us-east-1", "m6a.2xlarge") == 0.3456
    assert prices.ec2_on_demand("us-east-1", "r6id.8xlarge") == 2.4192
    # Not in the table: unpriced, never guessed.
    assert prices.ec2_on_demand("us-west-2", "m7i.xlarge") is None
    assert prices.ec2_on_demand("us-east-1", "m7i.32xlarge") is None  # no such size
    assert prices.service_price("us-east-1", "eks.extended").usd == 0.60
    assert prices.service_price("us-west-2", "nat.hour") is None
    # Every figure names a source.
    assert {p.source for region in prices.SERVICE_PRICES.values() for p in region.values()} <= set(prices.SOURCES)


def test_prod_fixed_monthly_cost_by_component(prod_cost):
    fixed = prod_cost["fixedMonthly"]
    assert _line(prod_cost, "EKS cluster")["monthlyUsd"] == round(0.10 * HOURS, 2) == 73.00
    # Three m7i.large system nodes, the node group's first type, on-demand.
    assert _line(prod_cost, "node group")["monthlyUsd"] == round(3 * 0.1008 * HOURS, 2) == 220.75
    assert _line(prod_cost, "root volumes: 3")["monthlyUsd"] == 3 * 50 * 0.08 == 12.00
    # The platform pods (3.63 CPU, 19.0 GiB requested) fit one m6a.2xlarge, the cheapest platform type that
    # holds them next to the DaemonSets; its 100 GiB gp3 root volume.
    platform = _line(prod_cost, "platform NodePool")
    assert platform["item"] == "platform NodePool: at least 1 x m6a.2xlarge on-demand (3.63 CPU, 19.0 GiB requested)"
    assert platform["monthlyUsd"] == round(0.3456 * HOURS, 2) == 252.29
    assert _line(prod_cost, "root volumes: 1")["monthlyUsd"] == 100 * 0.08 == 8.00
    # A NAT gateway per zone.
    assert _line(prod_cost, "3 NAT")["monthlyUsd"] == round(3 * 0.045 * HOURS, 2) == 98.55
    # Six interface endpoints, each in three zones.
    endpoints = _line(prod_cost, "6 endpoints")
    assert endpoints["quantity"] == 18
    assert endpoints["monthlyUsd"] == round(18 * 0.01 * HOURS, 2) == 131.40
    assert _line(prod_cost, "Prometheus volume")["monthlyUsd"] == 200 * 0.08 == 16.00
    assert _line(prod_cost, "Loki volumes")["monthlyUsd"] == 3 * 50 * 0.08 == 12.00
    assert _line(prod_cost, "1 KMS key")["monthlyUsd"] == 1.00
    assert fixed["byComponent"] == {
        "control plane": 73.00,
        "system nodes": 232.75,
        "platform nodes": 260.29,
        "NAT gateways": 98.55,
        "interface endpoints": 131.40,
        "storage baselines": 29.00,
    }
    assert fixed["totalUsd"] == 824.99
    assert fixed["complete"] is True and fixed["unpriced"] == []


def test_prod_spark_pools_per_node_hour(prod_cost):
    root_volume = 100 * 0.08 / HOURS  # karpenter.nodeVolumeGib gp3 per node-hour
    executor = _pool(prod_cost, "spark-executor", "spot")
    m7i = next(r for r in executor["instanceTypes"] if r["type"] == "m7i.2xlarge")
    assert m7i == {
        "type": "m7i.2xlarge",
        "vcpus": 8,
        "onDemandUsdPerHour": 0.4032,
        "ec2UsdPerHour": 0.2016,  # the default 50% spot assumption
        "usdPerNodeHour": round(0.2016 + root_volume, 6),
    }
    assert len(executor["instanceTypes"]) == 12 * 3
    on_demand = _pool(prod_cost, "spark-executor-on-demand", "on-demand")
    assert next(r for r in on_demand["instanceTypes"] if r["type"] == "m7i.2xlarge")["ec2UsdPerHour"] == 0.4032
    # Ceiling: the pool's 4000-vCPU limit at its priciest rate per vCPU-hour.
    worst = max(r["usdPerNodeHour"] / r["vcpus"] for r in executor["instanceTypes"])
    assert executor["ceilingUsdPerHour"] == round(4000 * worst, 2)
    driver = _pool(prod_cost, "spark-driver", "on-demand")
    assert {r["type"] for r in driver["instanceTypes"]} >= {"m7i.xlarge", "m6a.4xlarge"}


def test_spot_discount_per_family_from_config(plan_variant):
    plan = plan_variant("prod", cost={"spotDiscount": {"m7i": 0.7}, "defaultSpotDiscount": 0.4})
    cost = estimate(plan.plan.resources, plan.plan.config)
    rows = {r["type"]: r for r in _pool(cost, "spark-executor", "spot")["instanceTypes"]}
    assert rows["m7i.2xlarge"]["ec2UsdPerHour"] == round(0.4032 * 0.3, 6)
    assert rows["m6i.2xlarge"]["ec2UsdPerHour"] == round(0.384 * 0.6, 6)
    assert cost["spotDiscountAssumed"] == {"default": 0.4, "m7i": 0.7}


def test_dev_in_an_unpriced_region_says_so(dev):
    cost = estimate(dev.plan.resources, dev.plan.config)
    assert cost["region"] == "us-west-2"
    assert cost["fixedMonthly"]["complete"] is False
    assert cost["fixedMonthly"]["totalUsd"] == 0
    assert _line(cost, "EKS cluster")["unpriced"] == "no EKS cluster-hour (standard support) price for us-west-2 in the price table"
    assert _line(cost, "node group")["unpriced"] == "no m7i.large instance-hour price for us-west-2 in the price table"
    assert _line(cost, "platform NodePool")["unpriced"].startswith("no m")


def test_plan_writes_cost_md_and_the_cost_block(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    inventory = json.loads((tmp_path / "inventory.json").read_text())
    assert inventory["cost"]["fixedMonthly"]["totalUsd"] == 824.99
    text = (tmp_path / "cost.md").read_text()
    assert "**Fixed monthly: $824.99**" in text
    assert "| NAT gateways | $98.55 |" in text
    assert "| m7i.2xlarge | 8 | $0.4032 | $0.2016 | $0.2126 |" in text
    assert (
        "| SQS requests (Karpenter interruption queue) | unpriced: no SQS request (standard queue) price for us-east-1 in the "
        "price table; the prices workflow fills it from the AWS Price List API (`python -m sparkeks prices refresh`) |"
    ) in text


def test_bad_spot_discount_is_one_clear_line(plan_variant):
    from sparkeks.plan.runner import PlanError

    with pytest.raises(PlanError) as err:
        plan_variant("prod", cost={"spotDiscount": {"m7i": 1.5}})
    assert err.value.lines == [
        "stacks/Pulumi.prod.yaml: spark-on-eks:cost.spotDiscount: {\"m7i\": 1.5}: "
        "m7i: 1.5 is not a discount between 0 and 1 (0.6 = 60% cheaper than on-demand)"
    ]


def test_prices_check_reports_age_and_fails_when_stale(capsys):
    lines, fresh = check_lines(date(2026, 12, 29))
    assert fresh is True
    assert lines[0] == "price table checked 2026-11-29: 30 days ago (limit 180 days): ok"
    assert lines[2] == (
        "  us-east-1: hand-pinned, checked 2026-11-29: EC2 from Karpenter v1.14.1's table (generated 2026-07-06), 14 service prices "
        "from the pages below; unpriced: sqs.requests, EMR uplift"
    )
    assert lines[3].startswith("unpriced regions (no Price List table yet: the prices workflow writes sparkeks/cost/price_tables/<region>.json): us-east-2, ")
    assert main(["prices", "check", "--today", "2027-06-01"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "price table checked 2026-11-29: 184 days ago (limit 180 days): stale"
    assert main(["prices", "check", "--today", "2027-06-01", "--max-age-days", "365"]) == 0
