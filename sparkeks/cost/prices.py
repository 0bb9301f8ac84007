"""The pinned price table: AWS list prices (USD) the cost estimates use, each with its source and date.

Nothing here is looked up at run time. A figure is in the table only when a source for it was found;
anything else is *unpriced* and the estimates say so instead of guessing. Two layers, per region:

1. `price_tables/<region>.json`, written by `python -m sparkeks prices refresh` from the AWS Price List
   Query API (the prices workflow runs it monthly and proposes the files in a pull request): EC2 on-demand
   per instance type, the EMR uplift per instance type, and the service prices in `LABELS`.
2. Where a region has no such file, or the file lacks a figure: the figures pinned by hand below, us-east-1
   only. EC2 from Karpenter's generated price table at the pinned Karpenter version (`ec2_on_demand.json`,
   written by `tools/prices/karpenter_on_demand.py`; it carries us-east-1 only), service prices from the
   pages in `SOURCES`.

`python -m sparkeks prices check` reports each region's source and age, and the gaps.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG

HOURS_PER_MONTH = 730
"""AWS's own convention for monthly figures (8,760 hours a year / 12)."""

CHECKED = date(2026, 11, 29)
"""When every figure below was last checked against its source."""

MAX_AGE_DAYS = 180
"""`prices check` fails past this age: AWS changes list prices rarely, but new instance generations and
regional price cuts land every few months."""


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    as_of: str
    """The date the source gives for its figures (or its publication date)."""


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    """Key into SOURCES."""


SOURCES: dict[str, Source] = {
    "karpenter": Source(
        "Karpenter initial on-demand price table, aws/karpenter-provider-aws v1.14.1 "
        "pkg/providers/pricing/zz_generated.pricing_aws.go (commit bde00654cd316fddb3dccfba3f5ac07039865429)",
        "https://github.com/aws/karpenter-provider-aws/blob/v1.14.1/pkg/providers/pricing/zz_generated.pricing_aws.go",
        "2026-07-06",
    ),
    "eks-blog": Source(
        "AWS Containers blog: Amazon EKS extended support for Kubernetes versions pricing",
        "https://aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-versions-pricing/",
        "2024-04-01",
    ),
    "nat": Source(
        "AWS NAT Gateway costs explained (us-east-1 hourly and per-GB rates)",
        "https://costpatrol.io/blog/reduce-aws-nat-gateway-costs",
        "2026-11-29",
    ),
    "privatelink": Source(
        "AWS PrivateLink cost analysis (interface endpoint hourly rate per AZ)",
        "https://awsnegotiations.com/privatelink-cost-analysis.html",
        "2026-05-01",
    ),
    "privatelink-data": Source(
        "AWS PrivateLink pricing page, interface endpoint data processing tiers (first 1 PB)",
        "https://aws.amazon.com/privatelink/pricing/",
        "2026-11-29",
    ),
    "ebs": Source(
        "gp2 vs gp3 cost comparison, quoting the Amazon EBS pricing page for N. Virginia",
        "https://www.saisci.com/aws/gp2-vs-gp3-cost-comparison-ebs-volumes/",
        "2021-02-04",
    ),
    "s3": Source(
        "Understanding AWS S3 pricing (S3 Standard, US East, storage and request rates)",
        "https://devnotes.tech/understanding-aws-s3-pricing-a-complete-cost-breakdown-with-examples",
        "2026-11-29",
    ),
    "logs": Source(
        "CloudWatch Logs cost optimization (us-east-1, June 2026, Standard log class)",
        "https://c3x.dev/blog/cloudwatch-logs-cost-optimization",
        "2026-06-01",
    ),
    "kms": Source(
        "AWS KMS pricing: keys, requests, multi-region (us-east-1, June 2026)",
        "https://www.factualminds.com/blog/aws-kms-pricing-keys-requests-multi-region/",
        "2026-06-13",
    ),
}

# Service prices by region. Keys are what the estimator asks for; a missing key is unpriced.
SERVICE_PRICES: dict[str, dict[str, Price]] = {
    "us-east-1": {
        "eks.standard": Price(0.10, "cluster-hour", "eks-blog"),
        "eks.extended": Price(0.60, "cluster-hour", "eks-blog"),
        "nat.hour": Price(0.045, "NAT gateway-hour", "nat"),
        "nat.gb": Price(0.045, "GB processed", "nat"),
        "endpoint.hour": Price(0.01, "endpoint-hour per AZ", "privatelink"),
        "endpoint.gb": Price(0.01, "GB processed (first PB)", "privatelink-data"),
        "ebs.gp3": Price(0.08, "GB-month", "ebs"),
        "s3.standard": Price(0.023, "GB-month (first 50 TB)", "s3"),
        "s3.put": Price(0.005, "1,000 PUT/COPY/POST/LIST requests", "s3"),
        "s3.get": Price(0.0004, "1,000 GET requests", "s3"),
        "logs.ingest": Price(0.50, "GB ingested", "logs"),
        "logs.store": Price(0.03, "GB-month stored", "logs"),
        "kms.key": Price(1.00, "key-month", "kms"),
        "kms.requests": Price(0.03, "10,000 requests", "kms"),
    },
}

# What each key prices, for the lines that say a region lacks it.
LABELS = {
    "eks.standard": "EKS cluster-hour (standard support)",
    "eks.extended": "EKS cluster-hour (extended support)",
    "nat.hour": "NAT gateway-hour",
    "nat.gb": "NAT GB processed",
    "endpoint.hour": "interface endpoint-hour",
    "endpoint.gb": "interface endpoint GB processed",
    "ebs.gp3": "gp3 GB-month",
    "s3.standard": "S3 Standard GB-month",
    "s3.put": "S3 write request",
    "s3.get": "S3 read request",
    "logs.ingest": "CloudWatch Logs GB ingested",
    "logs.store": "CloudWatch Logs GB-month",
    "kms.key": "KMS key-month",
    "kms.requests": "KMS request",
    "sqs.requests": "SQS request (standard queue)",
}

TABLES_DIR = Path(__file__).with_name("price_tables")
"""One `<region>.json` per region the prices workflow has priced."""

TABLES_ENV = "SPARK_EKS_PRICE_TABLES"
"""Read the tables from this directory instead (the tests pin what they price against)."""

PRICE_LIST = "price-list"
"""Source key prefix of a figure from a region's Price List table (`price-list:<region>`)."""

REFRESH = "the prices workflow fills it from the AWS Price List API (`python -m sparkeks prices refresh`)"


def unpriced(region: str, what: str) -> str:
    """The line an estimate shows where a figure is missing: what, where, and what would supply it."""
    return f"unpriced: no {what} price for {region} in the price table; {REFRESH}"


@lru_cache(maxsize=1)
def karpenter_table() -> dict:
    """Karpenter's on-demand table as extracted (`source`, `usdPerHour` by region and type)."""
    return json.loads((Path(__file__).with_name("ec2_on_demand.json")).read_text())


def tables_dir() -> Path:
    return Path(os.environ.get(TABLES_ENV) or TABLES_DIR)


@lru_cache(maxsize=64)
def _read_table(path: Path, version: tuple[int, int, int, int]) -> dict:
    """Parsed once per version of the file: `prices refresh` rewriting a table in the same process (then a
    plan, or a test) changes its version, so the new figures are read."""
    return json.loads(path.read_text())


def region_table(region: str) -> dict | None:
    """The region's Price List table, or None when the prices workflow has not written one."""
    path = tables_dir() / f"{region}.json"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    # The change time as well as the modification time: a rewrite sets it whatever mtime a tool restores.
    return _read_table(path, (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))


def table_regions() -> list[str]:
    directory = tables_dir()
    return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []


def ec2_on_demand(region: str, instance_type: str) -> float | None:
    """USD per hour, Linux, shared tenancy; None when no table has a price for it."""
    table = region_table(region)
    if table and instance_type in table["ec2OnDemandUsdPerHour"]:
        return table["ec2OnDemandUsdPerHour"][instance_type]
    return karpenter_table()["usdPerHour"].get(region, {}).get(instance_type)


def ec2_source(region: str, instance_type: str) -> str | None:
    table = region_table(region)
    if table and instance_type in table["ec2OnDemandUsdPerHour"]:
        return f"{PRICE_LIST}:{region}"
    return "karpenter" if instance_type in karpenter_table()["usdPerHour"].get(region, {}) else None


def emr_uplift(region: str, instance_type: str) -> float | None:
    """Amazon EMR's charge per instance-hour on top of EC2; only the Price List tables carry it."""
    table = region_table(region)
    return (table or {}).get("emrUpliftUsdPerHour", {}).get(instance_type)


def ec2_regions() -> list[str]:
    return sorted(set(karpenter_table()["usdPerHour"]) | {r for r in table_regions() if region_table(r)["ec2OnDemandUsdPerHour"]})


def service_price(region: str, key: str) -> Price | None:
    table = region_table(region)
    if table and key in table["services"]:
        entry = table["services"][key]
        return Price(entry["usd"], entry["unit"], f"{PRICE_LIST}:{region}")
    return SERVICE_PRICES.get(region, {}).get(key)


def priced_regions() -> list[str]:
    return sorted(set(ec2_regions()) | set(SERVICE_PRICES) | set(table_regions()))


def checked(region: str) -> date:
    """How current the region's figures are: its Price List table's fetch date, else the hand-pinned date."""
    table = region_table(region)
    return date.fromisoformat(table["fetched"]) if table else CHECKED


def source(key: str) -> Source:
    """A source by key, including each region's Price List table."""
    if key in SOURCES:
        return SOURCES[key]
    region = key.removeprefix(f"{PRICE_LIST}:")
    table = region_table(region) or {}
    published = sorted(o["publicationDate"][:10] for o in table.get("offers", {}).values() if o.get("publicationDate"))
    span = f"offers published {published[0]} to {published[-1]}" if published else "publication dates not given"
    return Source(f"AWS Price List API (GetProducts), {region}: {span}", table.get("sourceUrl", ""), table.get("fetched", ""))
