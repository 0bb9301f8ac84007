"""Price List tables: parsing GetProducts answers, writing a region's table, and estimates that use it.

`price_list/get_products_us_west_2.json` holds GetProducts answers in the documented shape (PriceList
entries as JSON strings) per service code. Its prices are test data, deliberately odd figures, not AWS
prices; nothing from it is shipped in the table.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from sparkeks.cost import pricelist, prices, refresh
from sparkeks.cost.check import check_lines
from sparkeks.cost.dr import comparison_lines, emr_monthly
from sparkeks.cost.estimate import estimate
from sparkeks.cost.report import markdown

FIXTURE = json.loads((Path(__file__).parent / "price_list" / "get_products_us_west_2.json").read_text())
HOURS = 730
FETCHED = date(2026, 11, 29)
WANTED = {"m7i.large", "m6i.large", "m7i.xlarge", "m7i.4xlarge", "m7i.8xlarge", "m6id.8xlarge"}


def _fetch(answers=FIXTURE):
    """A stand-in for `aws pricing get-products`: TERM_MATCH on product attributes and productFamily."""
    calls = []

    def fetch(service_code, filters):
        calls.append((service_code, filters))
        out = []
        for item in answers.get(service_code, {}).get("PriceList", []):
            product = json.loads(item)["product"]
            values = {**product["attributes"], "productFamily": product["productFamily"]}
            if all(f["Type"] == "TERM_MATCH" and values.get(f["Field"]) == f["Value"] for f in filters):
                out.append(item)
        return out

    fetch.calls = calls
    return fetch


def _products(code):
    return pricelist.products(FIXTURE[code]["PriceList"])


@pytest.fixture
def west_table(tmp_path, monkeypatch):
    """us-west-2's table written by the refresh from the fixture answers, and the estimates reading it."""
    refresh.refresh(["us-west-2"], tmp_path, WANTED, _fetch(), FETCHED)
    monkeypatch.setenv(prices.TABLES_ENV, str(tmp_path))
    return tmp_path


def test_ec2_keeps_only_linux_shared_tenancy_on_demand():
    # Among m7i.large's products only the Linux, shared, no-licence, no-software, non-reservation one counts
    # (Windows 0.2222, dedicated 0.3333, capacity reservation 0.4444, BYOL 0.5555, SQL 0.6666 are dropped),
    # and of it the on-demand term, not the reserved 0.07. The us-east-1 product and an unwanted type are ignored.
    found = pricelist.ec2_on_demand(_products("AmazonEC2"), "us-west-2", WANTED)
    assert found.prices == {
        "m6i.large": {"usd": 0.0999, "effective": "2026-10-01T00:00:00Z"},
        "m6id.8xlarge": {"usd": 1.9991, "effective": "2026-10-01T00:00:00Z"},
        "m7i.4xlarge": {"usd": 0.8888, "effective": "2026-10-01T00:00:00Z"},
        "m7i.8xlarge": {"usd": 1.7776, "effective": "2026-10-01T00:00:00Z"},
        "m7i.large": {"usd": 0.1111, "effective": "2026-10-01T00:00:00Z"},
    }
    assert found.gaps == {}
    assert pricelist.ec2_on_demand(_products("AmazonEC2"), "us-east-1", {"m7i.xlarge"}).prices == {
        "m7i.xlarge": {"usd": 0.9999, "effective": "2026-10-01T00:00:00Z"}
    }


def test_two_prices_for_one_type_are_a_gap_not_a_pick():
    twin = json.loads(FIXTURE["AmazonEC2"]["PriceList"][0])  # m7i.large, Linux shared
    twin["product"]["sku"] = "TESTSKUTWIN"
    [term] = twin["terms"]["OnDemand"].values()
    [dimension] = term["priceDimensions"].values()
    dimension["pricePerUnit"]["USD"] = "0.1200000000"
    found = pricelist.ec2_on_demand([*_products("AmazonEC2"), twin], "us-west-2", {"m7i.large"})
    assert found.prices == {}
    assert found.gaps == {"m7i.large": "2 different on-demand prices: 0.1111, 0.12"}


def test_usage_types_match_with_or_without_the_region_prefix():
    assert pricelist.usage_is("NatGateway-Hours", "NatGateway-Hours")
    assert pricelist.usage_is("USW2-NatGateway-Hours", "NatGateway-Hours")
    assert not pricelist.usage_is("USE1-VendedLog-DataProcessing-Bytes", "DataProcessing-Bytes")
    assert not pricelist.usage_is("USW2-DataProcessingIA-Bytes", "DataProcessing-Bytes")


def test_service_prices_first_paid_tier_in_our_units():
    def price(key, code):
        entry, why = pricelist.service_price(_products(code), "us-west-2", pricelist.SERVICE_SPECS[key])
        assert why is None, why
        return entry["usd"], entry["unit"]

    assert price("eks.standard", "AmazonEKS") == (0.1001, "cluster-hour")
    assert price("nat.hour", "AmazonEC2") == (0.0461, "NAT gateway-hour")
    assert price("nat.gb", "AmazonEC2") == (0.0462, "GB processed")
    assert price("ebs.gp3", "AmazonEC2") == (0.0811, "GB-month")  # not gp2's 0.10
    assert price("endpoint.hour", "AmazonVPC") == (0.0101, "endpoint-hour per AZ")
    assert price("endpoint.gb", "AmazonVPC") == (0.0102, "GB processed (first tier)")  # not the 0.0062 / 0.0042 tiers
    assert price("s3.standard", "AmazonS3") == (0.0231, "GB-month (first tier)")
    assert price("s3.put", "AmazonS3") == (0.0051, "1,000 PUT/COPY/POST/LIST requests")  # 0.0000051 per request
    assert price("s3.get", "AmazonS3") == (0.00041, "1,000 GET requests")
    assert price("logs.ingest", "AmazonCloudWatch") == (0.5001, "GB ingested")  # not infrequent access's 0.25
    assert price("logs.store", "AmazonCloudWatch") == (0.0301, "GB-month stored")
    assert price("kms.key", "awskms") == (1.01, "key-month")
    assert price("kms.requests", "awskms") == (0.031, "10,000 requests")  # past the free tier
    assert price("sqs.requests", "AWSQueueService") == (0.41, "1 million requests (standard queue)")  # not FIFO's


def test_a_price_in_an_unexpected_unit_is_a_gap():
    spec = pricelist.ServiceSpec("AmazonEC2", "NAT Gateway", "NatGateway-Hours", "NAT gateway-hour", price_unit="GB")
    assert pricelist.service_price(_products("AmazonEC2"), "us-west-2", spec) == (
        None,
        "AmazonEC2 NAT Gateway NatGateway-Hours in us-west-2 is priced per 'Hrs', expected 'GB'",
    )
    missing = pricelist.SERVICE_SPECS["nat.hour"]
    assert pricelist.service_price(_products("AmazonEC2"), "eu-west-1", missing) == (
        None,
        "no on-demand price for AmazonEC2 NAT Gateway NatGateway-Hours in eu-west-1",
    )


def test_queries_ask_per_region_for_linux_shared_instances_and_each_service():
    fetch = _fetch()
    refresh.refresh_region("us-west-2", WANTED, fetch, FETCHED)
    assert [code for code, _ in fetch.calls] == [
        "AmazonEC2", "AmazonEC2", "AmazonEC2", "AmazonEKS", "AmazonVPC", "AmazonS3", "AmazonS3",
        "AmazonCloudWatch", "AmazonCloudWatch", "awskms", "AWSQueueService", "ElasticMapReduce",
    ]  # fmt: skip
    assert fetch.calls[0][1] == [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Compute Instance"},
        {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "licenseModel", "Value": "No License required"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
    ]


def test_refresh_writes_the_region_table(tmp_path):
    lines = refresh.refresh(["us-west-2", "eu-west-1"], tmp_path, WANTED, _fetch(), FETCHED)
    assert lines == [
        "us-west-2: 5 EC2 types, 4 EMR uplifts, 15 service prices",
        "eu-west-1: no EC2 prices in the answers; table not written",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["us-west-2.json"]
    text = (tmp_path / "us-west-2.json").read_text()
    table = json.loads(text)
    assert text == json.dumps(table, indent=1, sort_keys=True) + "\n"
    assert (table["region"], table["source"], table["fetched"]) == ("us-west-2", "AWS Price List API", "2026-11-29")
    assert table["offers"]["AmazonEC2"] == {"publicationDate": "2026-11-01T00:00:00Z", "version": "20261101000000"}
    assert table["offers"]["ElasticMapReduce"] == {"publicationDate": "2026-10-25T00:00:00Z", "version": "20261025000000"}
    assert table["ec2OnDemandUsdPerHour"] == {"m6i.large": 0.0999, "m6id.8xlarge": 1.9991, "m7i.4xlarge": 0.8888, "m7i.8xlarge": 1.7776, "m7i.large": 0.1111}
    assert table["emrUpliftUsdPerHour"] == {"m6i.large": 0.0251, "m7i.4xlarge": 0.2011, "m7i.8xlarge": 0.2701, "m7i.large": 0.0271}
    assert table["ec2Effective"] == table["emrEffective"] == "2026-10-01T00:00:00Z"
    assert {k: v["usd"] for k, v in table["services"].items()} == {
        "ebs.gp3": 0.0811,
        "eks.extended": 0.6003,  # the standard cluster-hour plus the extended support surcharge
        "eks.standard": 0.1001,
        "endpoint.gb": 0.0102,
        "endpoint.hour": 0.0101,
        "kms.key": 1.01,
        "kms.requests": 0.031,
        "logs.ingest": 0.5001,
        "logs.store": 0.0301,
        "nat.gb": 0.0462,
        "nat.hour": 0.0461,
        "s3.get": 0.00041,
        "s3.put": 0.0051,
        "s3.standard": 0.0231,
        "sqs.requests": 0.41,
    }
    assert table["services"]["nat.hour"]["offer"] == "AmazonEC2" and table["services"]["endpoint.hour"]["offer"] == "AmazonVPC"
    assert table["gaps"] == {
        "services": {},
        "ec2": {"m7i.xlarge": "not offered in this region"},
        "emr": {"m6id.8xlarge": "no EMR price for this type in this region", "m7i.xlarge": "no EMR price for this type in this region"},
    }


def test_a_refresh_without_sqs_answers_says_which_price_it_lacks(tmp_path):
    answers = {k: v for k, v in FIXTURE.items() if k != "AWSQueueService"}
    lines = refresh.refresh(["us-west-2"], tmp_path, WANTED, _fetch(answers), FETCHED)
    assert lines == [
        "us-west-2: 5 EC2 types, 4 EMR uplifts, 14 service prices; unpriced: sqs.requests "
        "(no on-demand price for AWSQueueService API Request {'queueType': 'Standard'} in us-west-2)"
    ]


def test_estimate_uses_the_region_table(west_table, dev):
    cost = estimate(dev.plan.resources, dev.plan.config)
    lines = {line["item"].split(":")[0]: line for line in cost["fixedMonthly"]["lines"]}
    eks = next(line for line in cost["fixedMonthly"]["lines"] if line["item"].startswith("EKS cluster"))
    assert (eks["unitUsd"], eks["source"], eks["monthlyUsd"]) == (0.1001, "price-list:us-west-2", round(0.1001 * HOURS, 2)) == (0.1001, "price-list:us-west-2", 73.07)
    group = next(line for line in cost["fixedMonthly"]["lines"] if line["item"].startswith("node group"))
    assert (group["quantity"], group["unitUsd"], group["monthlyUsd"]) == (2, 0.1111, round(2 * 0.1111 * HOURS, 2)) == (2, 0.1111, 162.21)
    assert cost["pricesChecked"] == "2026-11-29"
    # What the table lacks stays unpriced: the platform pool's types are not in the fixture.
    assert lines["platform NodePool"]["monthlyUsd"] is None
    assert lines["platform NodePool"]["unpriced"].endswith("instance-hour price for us-west-2 in the price table")
    rates = {r["item"]: r for r in cost["usageRates"]}
    assert rates["SQS requests (Karpenter interruption queue)"] == {
        "item": "SQS requests (Karpenter interruption queue)", "usd": 0.41, "unit": "1 million requests (standard queue)", "source": "price-list:us-west-2",
    }  # fmt: skip
    executor = next(p for p in cost["pools"] if p["nodePool"] == "spark-executor" and p["capacityType"] == "spot")
    m7i = next(r for r in executor["instanceTypes"] if r["type"] == "m7i.8xlarge")
    assert m7i["onDemandUsdPerHour"] == 1.7776
    unpriced = [r for r in executor["instanceTypes"] if "unpriced" in r]
    assert unpriced and all(r["unpriced"] == f"no on-demand price for {r['type']} in us-west-2" for r in unpriced)
    text = markdown("dev", cost)
    assert "- AWS Price List API (GetProducts), us-west-2: offers published 2026-10-15 to 2026-11-01 (2026-11-29): " in text


def test_estimate_without_a_table_says_unpriced(dev):
    cost = estimate(dev.plan.resources, dev.plan.config)
    rates = {r["item"]: r for r in cost["usageRates"]}
    assert rates["SQS requests (Karpenter interruption queue)"]["unpriced"] == (
        "unpriced: no SQS request (standard queue) price for us-west-2 in the price table; "
        "the prices workflow fills it from the AWS Price List API (`python -m sparkeks prices refresh`)"
    )
    assert cost["fixedMonthly"]["totalUsd"] == 0 and cost["fixedMonthly"]["complete"] is False


def _emr_line(dev):
    cost = estimate(dev.plan.resources, dev.plan.config)
    return comparison_lines("dev", cost, dev.plan.config, "dev-dr", cost)[-1]


def test_a_table_rewritten_in_the_same_process_is_read_again(west_table):
    """`prices refresh` then a plan in one process (or a test rewriting a table) reads the new figures."""
    path = west_table / "us-west-2.json"
    assert prices.ec2_on_demand("us-west-2", "m7i.8xlarge") == 1.7776
    table = json.loads(path.read_text())
    table["ec2OnDemandUsdPerHour"]["m7i.8xlarge"] = 1.5  # test data: a refresh that lowered the price
    path.write_text(pricelist.table_json(table))
    assert prices.ec2_on_demand("us-west-2", "m7i.8xlarge") == 1.5
    # Rewritten again with a figure of the same length (same size): the new modification time still counts.
    table["ec2OnDemandUsdPerHour"]["m7i.8xlarge"] = 1.6
    path.write_text(pricelist.table_json(table))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert prices.ec2_on_demand("us-west-2", "m7i.8xlarge") == 1.6
    path.unlink()
    assert prices.region_table("us-west-2") is None


def test_dr_comparison_adds_the_emr_uplift_from_the_table(west_table, dev):
    table = json.loads((west_table / "us-west-2.json").read_text())
    table["emrUpliftUsdPerHour"]["m6id.8xlarge"] = 0.3001  # test data: the one uplift the fixture lacks
    (west_table / "us-west-2.json").write_text(pricelist.table_json(table))
    ec2, nodes = emr_monthly(dev.plan.config)
    assert [(n.instance_type, n.nodes, n.ec2_usd_per_hour, n.emr_usd_per_hour) for n in nodes] == [
        ("m7i.4xlarge", 2, 0.8888, 0.2011),
        ("m7i.8xlarge", 8, 1.7776, 0.2701),
        ("m6id.8xlarge", 2, 1.9991, 0.3001),
    ]
    assert ec2 == round((2 * 0.8888 + 8 * 1.7776 + 2 * 1.9991) * HOURS, 2) == 14597.52
    uplift = round((2 * 0.2011 + 8 * 0.2701 + 2 * 0.3001) * HOURS, 2)
    assert uplift == 2309.14
    assert _emr_line(dev) == (
        "  a second always-on EMR cluster with dev's Spark capacity (352 vCPUs: 2 x m7i.4xlarge (driver), 8 x m7i.8xlarge (executor), "
        "2 x m6id.8xlarge (executorNvme)): $14,597.52 EC2 on-demand + $2,309.14 EMR uplift = $16,906.66 a month"
    )


def test_dr_comparison_without_the_uplift_says_where_it_comes_from(west_table, dev):
    assert _emr_line(dev) == (
        "  a second always-on EMR cluster with dev's Spark capacity (352 vCPUs: 2 x m7i.4xlarge (driver), 8 x m7i.8xlarge (executor), "
        "2 x m6id.8xlarge (executorNvme)): $14,597.52 EC2 on-demand + EMR uplift (unpriced: no EMR uplift (m6id.8xlarge) price for "
        "us-west-2 in the price table; the prices workflow fills it from the AWS Price List API (`python -m sparkeks prices refresh`))"
    )


def test_prices_check_reports_each_table_and_its_age(west_table):
    lines, fresh = check_lines(date(2027, 1, 28))
    assert fresh is True
    assert lines[0] == "price table checked 2026-11-29: 60 days ago (limit 180 days): ok"
    assert lines[2] == (
        "  us-east-1: hand-pinned, checked 2026-11-29: EC2 from Karpenter v1.14.1's table (generated 2026-07-06), 14 service prices "
        "from the pages below; unpriced: sqs.requests, EMR uplift"
    )
    assert lines[3] == (
        "  us-west-2: AWS Price List API, fetched 2026-11-29 (60 days ago; offers published 2026-10-15 to 2026-11-01): "
        "5 EC2 types, 4 EMR uplifts, 15 of 15 service prices"
    )
    assert "us-west-2" not in lines[4]
    lines, fresh = check_lines(date(2027, 6, 1))
    assert fresh is False and lines[-1].startswith("refresh: run the prices workflow")


def test_refresh_prices_every_type_the_pools_and_node_groups_may_use():
    from tests.conftest import PROJECT_ROOT

    wanted = refresh.wanted_instance_types(PROJECT_ROOT)
    assert len(wanted) == 301  # every size of every family in sparkeks/instances.py that exists
    assert {"m7i.large", "m6i.large", "m7a.large", "c6g.16xlarge", "i4i.32xlarge", "r8g.48xlarge"} <= wanted


def test_refresh_asks_the_aws_cli_at_the_price_list_endpoint(tmp_path, monkeypatch):
    seen = tmp_path / "args"
    cli = tmp_path / "aws"
    cli.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\necho \'{{"FormatVersion": "aws_v1", "PriceList": ["{{}}"]}}\'\n')
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-west-2"}]
    assert refresh.aws_cli_get_products("AmazonEKS", filters) == ["{}"]
    assert seen.read_text().splitlines() == [
        "pricing", "get-products", "--region", "us-east-1", "--service-code", "AmazonEKS", "--format-version", "aws_v1",
        "--filters", json.dumps(filters), "--output", "json",
    ]  # fmt: skip
    cli.write_text("#!/bin/sh\necho 'An error occurred (AccessDeniedException) when calling the GetProducts operation' >&2\nexit 254\n")
    with pytest.raises(refresh.RefreshError) as err:
        refresh.aws_cli_get_products("AmazonEKS", filters)
    assert str(err.value) == (
        "aws pricing get-products --service-code AmazonEKS failed: "
        "An error occurred (AccessDeniedException) when calling the GetProducts operation"
    )


def test_refresh_of_an_unknown_region_is_one_line_and_exit_2(capsys):
    from sparkeks.cli import main

    assert main(["prices", "refresh", "--region", "mars-1"]) == 2
    assert capsys.readouterr().err.startswith("--region mars-1: not a region this toolkit supports (sparkeks/regions.py: us-east-1, ")
