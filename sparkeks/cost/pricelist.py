"""Reading AWS Price List Query API answers (`GetProducts`) into the figures the cost estimates use.

Pure functions over the documented response shape: each `PriceList` entry is one product as JSON
(`product.attributes`, `terms.OnDemand.<offer>.priceDimensions.<rate>` with `pricePerUnit.USD`, plus the
offer's `publicationDate` and `version`). Nothing here talks to AWS; `refresh.py` does, and hands the
answers over. A figure is kept only when exactly one on-demand price matches what we ask for: two
different prices for the same thing, or none, leave the key out with the reason, never a pick.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SOURCE = "AWS Price List API"
DOCS_URL = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html"

# A usage type is the bare name in some regions (us-east-1 for EC2) and "<REGION PREFIX>-name" elsewhere.
_REGION_PREFIX = re.compile(r"^[A-Z0-9]+$")


def products(price_list: Iterable[str | dict[str, Any]]) -> list[dict[str, Any]]:
    """PriceList entries as dicts (the API returns each as a JSON string)."""
    return [json.loads(item) if isinstance(item, str) else item for item in price_list]


def usage_is(usagetype: str, name: str) -> bool:
    if usagetype == name:
        return True
    prefix, _, rest = usagetype.partition("-")
    return rest == name and bool(_REGION_PREFIX.match(prefix))


@dataclass(frozen=True)
class Rate:
    usd: float
    unit: str
    begin: float
    effective: str
    sku: str


def on_demand_rates(product: dict[str, Any]) -> list[Rate]:
    """The product's on-demand price dimensions (reserved and other terms are not list prices per unit)."""
    rates = []
    sku = product["product"].get("sku", "")
    for term in (product.get("terms") or {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is None:
                continue
            rates.append(Rate(float(usd), dimension.get("unit", ""), float(dimension.get("beginRange", "0")), term.get("effectiveDate", ""), sku))
    return rates


def first_paid_rate(product: dict[str, Any]) -> Rate | None:
    """The rate of the lowest tier that costs something: a free allowance is not what a stack pays for
    its next unit, and later tiers are volume discounts the estimates do not assume."""
    paid = sorted((r for r in on_demand_rates(product) if r.usd > 0), key=lambda r: r.begin)
    return paid[0] if paid else None


def _attributes(product: dict[str, Any]) -> dict[str, str]:
    return product["product"].get("attributes", {})


def _family(product: dict[str, Any]) -> str:
    return product["product"].get("productFamily", "")


def _in_region(product: dict[str, Any], region: str) -> bool:
    return _attributes(product).get("regionCode") == region


# EC2 Linux, shared tenancy, no pre-installed software or licence, not a capacity reservation: what
# Karpenter and the managed node groups launch. Everything else in AmazonEC2's compute offer is dropped.
EC2_LINUX_SHARED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "licenseModel": "No License required",
    "capacitystatus": "Used",
}


def _matches(attributes: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(attributes.get(k) == v for k, v in wanted.items())


@dataclass
class Found:
    """Per-key prices from one region's answers, plus what could not be established and why."""

    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    gaps: dict[str, str] = field(default_factory=dict)


def _hourly(products_: list[dict[str, Any]], region: str, family: str, attributes: dict[str, str], usage_prefix: str, wanted: set[str]) -> Found:
    """USD per hour by instance type, for products of one family whose usage type is `<prefix>:<type>`."""
    by_type: dict[str, set[tuple[float, str]]] = {}
    for product in products_:
        attrs = _attributes(product)
        if _family(product) != family or not _in_region(product, region) or not _matches(attrs, attributes):
            continue
        instance_type = attrs.get("instanceType", "")
        if instance_type not in wanted or not usage_is(attrs.get("usagetype", ""), f"{usage_prefix}:{instance_type}"):
            continue
        for rate in on_demand_rates(product):
            if rate.unit == "Hrs":
                by_type.setdefault(instance_type, set()).add((rate.usd, rate.effective))
    found = Found()
    for instance_type in sorted(wanted):
        rates = by_type.get(instance_type, set())
        usd = {u for u, _ in rates}
        if len(usd) == 1:
            found.prices[instance_type] = {"usd": usd.pop(), "effective": max(e for _, e in rates)}
        elif usd:
            found.gaps[instance_type] = f"{len(usd)} different on-demand prices: {', '.join(map(str, sorted(usd)))}"
    return found


def ec2_on_demand(products_: list[dict[str, Any]], region: str, wanted: set[str]) -> Found:
    """Linux shared-tenancy on-demand USD per hour of each wanted instance type."""
    return _hourly(products_, region, "Compute Instance", {**EC2_LINUX_SHARED, "operation": "RunInstances"}, "BoxUsage", wanted)


def emr_uplift(products_: list[dict[str, Any]], region: str, wanted: set[str]) -> Found:
    """Amazon EMR's per-instance-hour charge on top of EC2, for EMR on EC2 (software type EMR)."""
    return _hourly(products_, region, "Elastic Map Reduce Instance", {"softwareType": "EMR"}, "BoxUsage", wanted)


@dataclass(frozen=True)
class ServiceSpec:
    """One service price: which offer and product it is, and how the Price List's unit becomes ours."""

    service_code: str
    family: str | None
    usagetype: str | None
    unit: str
    per: int = 1
    """Our unit is this many of the Price List's (S3 prices per request, we show per 1,000)."""
    price_unit: str | None = None
    """The Price List unit this must be quoted in (a mismatch is a gap, not a conversion)."""
    attributes: tuple[tuple[str, str], ...] = ()


# Keys are the ones `prices.service_price` answers. Product families and usage types as AWS publishes them
# (Price List product attributes; NAT gateways are in the AmazonEC2 offer, interface endpoints in AmazonVPC).
SERVICE_SPECS: dict[str, ServiceSpec] = {
    "eks.standard": ServiceSpec("AmazonEKS", "Compute", "AmazonEKS-Hours:perCluster", "cluster-hour", price_unit="Hrs"),
    "eks.extendedSupport": ServiceSpec("AmazonEKS", "Compute", "AmazonEKS-Hours:extendedSupport", "cluster-hour, on top of standard", price_unit="Hrs"),
    "nat.hour": ServiceSpec("AmazonEC2", "NAT Gateway", "NatGateway-Hours", "NAT gateway-hour", price_unit="Hrs"),
    "nat.gb": ServiceSpec("AmazonEC2", "NAT Gateway", "NatGateway-Bytes", "GB processed", price_unit="GB"),
    "endpoint.hour": ServiceSpec("AmazonVPC", "VpcEndpoint", "VpcEndpoint-Hours", "endpoint-hour per AZ", price_unit="Hrs"),
    "endpoint.gb": ServiceSpec("AmazonVPC", "VpcEndpoint", "VpcEndpoint-Bytes", "GB processed (first tier)", price_unit="GB"),
    "ebs.gp3": ServiceSpec("AmazonEC2", "Storage", "EBS:VolumeUsage.gp3", "GB-month", price_unit="GB-Mo", attributes=(("volumeApiName", "gp3"),)),
    "s3.standard": ServiceSpec(
        "AmazonS3", "Storage", "TimedStorage-ByteHrs", "GB-month (first tier)", price_unit="GB-Mo", attributes=(("volumeType", "Standard"),)
    ),
    "s3.put": ServiceSpec("AmazonS3", "API Request", "Requests-Tier1", "1,000 PUT/COPY/POST/LIST requests", per=1000, price_unit="Requests"),
    "s3.get": ServiceSpec("AmazonS3", "API Request", "Requests-Tier2", "1,000 GET requests", per=1000, price_unit="Requests"),
    "logs.ingest": ServiceSpec("AmazonCloudWatch", "Data Payload", "DataProcessing-Bytes", "GB ingested", price_unit="GB"),
    "logs.store": ServiceSpec("AmazonCloudWatch", "Storage Snapshot", "TimedStorage-ByteHrs", "GB-month stored", price_unit="GB-Mo"),
    "kms.key": ServiceSpec("awskms", "Encryption Key", "KMS-Keys", "key-month"),
    "kms.requests": ServiceSpec("awskms", None, "KMS-Requests", "10,000 requests", per=10000, price_unit="Requests"),
    "sqs.requests": ServiceSpec(
        "AWSQueueService", "API Request", None, "1 million requests (standard queue)", per=1_000_000, price_unit="Requests", attributes=(("queueType", "Standard"),)
    ),
}


def service_price(products_: list[dict[str, Any]], region: str, spec: ServiceSpec) -> tuple[dict[str, Any] | None, str | None]:
    """(price entry, None) when exactly one price matches, else (None, why not)."""
    rates = []
    for product in products_:
        attrs = _attributes(product)
        if not _in_region(product, region) or (spec.family and _family(product) != spec.family):
            continue
        if spec.usagetype and not usage_is(attrs.get("usagetype", ""), spec.usagetype):
            continue
        if not _matches(attrs, dict(spec.attributes)):
            continue
        rate = first_paid_rate(product)
        if rate is not None:
            rates.append(rate)
    what = f"{spec.service_code} {spec.family or ''} {spec.usagetype or dict(spec.attributes)}".replace("  ", " ")
    if not rates:
        return None, f"no on-demand price for {what} in {region}"
    if len({r.usd for r in rates}) > 1:
        return None, f"{len(rates)} different prices for {what} in {region} (SKUs {', '.join(sorted(r.sku for r in rates))})"
    rate = rates[0]
    if spec.price_unit and rate.unit != spec.price_unit:
        return None, f"{what} in {region} is priced per {rate.unit!r}, expected {spec.price_unit!r}"
    usd = round(rate.usd * spec.per, 10)
    return {"usd": usd, "unit": spec.unit, "sku": rate.sku, "effective": rate.effective}, None


def offers(products_: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each offer's newest publication date and version among the answers (the date the figures were published)."""
    out: dict[str, dict[str, str]] = {}
    for product in products_:
        code = product.get("serviceCode") or _attributes(product).get("servicecode", "")
        published = product.get("publicationDate", "")
        if published >= out.get(code, {}).get("publicationDate", ""):
            out[code] = {"publicationDate": published, "version": product.get("version", "")}
    return out


def region_table(region: str, answers: dict[str, list[dict[str, Any]]], wanted_types: set[str], fetched: date) -> dict[str, Any]:
    """The pinned table for one region from the answers to each query (keyed by service code)."""
    everything = [p for answer in answers.values() for p in answer]
    ec2 = ec2_on_demand(answers.get("AmazonEC2", []), region, wanted_types)
    emr = emr_uplift(answers.get("ElasticMapReduce", []), region, wanted_types)
    services: dict[str, dict[str, Any]] = {}
    gaps: dict[str, str] = {}
    for key, spec in SERVICE_SPECS.items():
        entry, why = service_price(answers.get(spec.service_code, []), region, spec)
        if entry is None:
            gaps[key] = why or ""
        else:
            services[key] = {**entry, "offer": spec.service_code}
    # The Price List carries extended support as a surcharge; the estimates want a cluster-hour in it.
    standard, surcharge = services.get("eks.standard"), services.pop("eks.extendedSupport", None)
    if standard and surcharge:
        services["eks.extended"] = {
            "usd": round(standard["usd"] + surcharge["usd"], 10),
            "unit": "cluster-hour (standard plus extended support)",
            "sku": f"{standard['sku']}+{surcharge['sku']}",
            "effective": max(standard["effective"], surcharge["effective"]),
            "offer": "AmazonEKS",
        }
    else:
        gaps.pop("eks.extendedSupport", None)
        gaps["eks.extended"] = "needs both the standard cluster-hour and the extended support surcharge"
    missing_ec2 = sorted(wanted_types - set(ec2.prices) - set(ec2.gaps))
    missing_emr = sorted(wanted_types - set(emr.prices) - set(emr.gaps))
    return {
        "region": region,
        "source": SOURCE,
        "sourceUrl": DOCS_URL,
        "fetched": fetched.isoformat(),
        "offers": offers(everything),
        "ec2OnDemandUsdPerHour": {t: p["usd"] for t, p in sorted(ec2.prices.items())},
        # The newest effective date among the instance prices kept (the service prices carry their own).
        "ec2Effective": max((p["effective"] for p in ec2.prices.values()), default=""),
        "emrEffective": max((p["effective"] for p in emr.prices.values()), default=""),
        "emrUpliftUsdPerHour": {t: p["usd"] for t, p in sorted(emr.prices.items())},
        "services": dict(sorted(services.items())),
        "gaps": {
            "services": dict(sorted(gaps.items())),
            "ec2": {**ec2.gaps, **{t: "not offered in this region" for t in missing_ec2}},
            "emr": {**emr.gaps, **{t: "no EMR price for this type in this region" for t in missing_emr}},
        },
    }


def table_json(table: dict[str, Any]) -> str:
    """The file text: stable key order and one value per line, so a refresh's pull request diffs cleanly."""
    return json.dumps(table, indent=1, sort_keys=True) + "\n"
