"""`sparkeks prices refresh`: ask the AWS Price List Query API for every supported region and write the
pinned per-region tables (`sparkeks/cost/price_tables/<region>.json`).

Needs AWS credentials allowed `pricing:GetProducts` (nothing else; the prices workflow assumes such a role
through GitHub OIDC) and the AWS CLI, which pages through the answers. The Price List Query API answers
from us-east-1 for every region. Only this command touches the network; plans read the written files.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sparkeks.cost import pricelist

ENDPOINT_REGION = "us-east-1"

Fetch = Callable[[str, list[dict[str, str]]], list[str]]


def _term(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def queries(region: str) -> list[tuple[str, list[dict[str, str]]]]:
    """(service code, filters) per query for one region. The filters only narrow the answers; the parser
    applies every condition itself, so a looser filter cannot let a wrong product through."""
    in_region = [_term("regionCode", region)]
    ec2_compute = [_term("productFamily", "Compute Instance"), *(_term(k, v) for k, v in pricelist.EC2_LINUX_SHARED.items())]
    return [
        ("AmazonEC2", in_region + ec2_compute),
        ("AmazonEC2", in_region + [_term("productFamily", "NAT Gateway")]),
        ("AmazonEC2", in_region + [_term("productFamily", "Storage"), _term("volumeApiName", "gp3")]),
        ("AmazonEKS", in_region),
        ("AmazonVPC", in_region + [_term("productFamily", "VpcEndpoint")]),
        ("AmazonS3", in_region + [_term("productFamily", "Storage"), _term("volumeType", "Standard")]),
        ("AmazonS3", in_region + [_term("productFamily", "API Request")]),
        ("AmazonCloudWatch", in_region + [_term("productFamily", "Data Payload")]),
        ("AmazonCloudWatch", in_region + [_term("productFamily", "Storage Snapshot")]),
        ("awskms", in_region),
        ("AWSQueueService", in_region + [_term("productFamily", "API Request")]),
        ("ElasticMapReduce", in_region + [_term("productFamily", "Elastic Map Reduce Instance"), _term("softwareType", "EMR")]),
    ]


class RefreshError(Exception):
    pass


def aws_cli_get_products(service_code: str, filters: list[dict[str, str]]) -> list[str]:
    """One `aws pricing get-products` call (the CLI follows NextToken and joins the pages)."""
    command = [
        "aws", "pricing", "get-products",
        "--region", ENDPOINT_REGION,
        "--service-code", service_code,
        "--format-version", "aws_v1",
        "--filters", json.dumps(filters),
        "--output", "json",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RefreshError("the AWS CLI (`aws`) is not installed; the refresh runs it for the Price List API") from None
    if done.returncode != 0:
        raise RefreshError(f"aws pricing get-products --service-code {service_code} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return json.loads(done.stdout or "{}").get("PriceList", [])


def wanted_instance_types(project_dir: Path) -> set[str]:
    """Every type a Spark or platform NodePool may launch (each known family at each size it has), the
    system node groups' defaults, and the types each stack in stacks/ names for its system nodes."""
    import yaml

    from sparkeks.config.cluster import SystemNodeGroupConfig
    from sparkeks.instances import FAMILIES

    wanted = {t for family in FAMILIES.values() for t in family.instance_types(family.vcpu_sizes())}
    wanted |= set(SystemNodeGroupConfig().instance_types)
    for stack_file in sorted((project_dir / "stacks").glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
        for key, value in config.items():
            if key.endswith(":cluster") and isinstance(value, dict):
                wanted |= set(((value.get("systemNodeGroup") or {}).get("instanceTypes")) or [])
    return wanted


def refresh_region(region: str, wanted: set[str], fetch: Fetch, today: date) -> dict[str, Any]:
    answers: dict[str, list[dict[str, Any]]] = {}
    for service_code, filters in queries(region):
        answers.setdefault(service_code, []).extend(pricelist.products(fetch(service_code, filters)))
    return pricelist.region_table(region, answers, wanted, today)


def refresh(regions: list[str], out_dir: Path, wanted: set[str], fetch: Fetch, today: date) -> list[str]:
    """Write one table per region; report lines (what was priced, what was not). A region whose answers
    price no EC2 type at all is not written (its old table, if any, stays)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for region in regions:
        table = refresh_region(region, wanted, fetch, today)
        if not table["ec2OnDemandUsdPerHour"]:
            lines.append(f"{region}: no EC2 prices in the answers; table not written")
            continue
        (out_dir / f"{region}.json").write_text(pricelist.table_json(table))
        gaps = table["gaps"]["services"]
        lines.append(
            f"{region}: {len(table['ec2OnDemandUsdPerHour'])} EC2 types, {len(table['emrUpliftUsdPerHour'])} EMR uplifts, "
            f"{len(table['services'])} service prices" + (f"; unpriced: {', '.join(f'{k} ({v})' for k, v in gaps.items())}" if gaps else "")
        )
    return lines


def run(regions: list[str] | None, out: str | None) -> int:
    """The CLI: 0 when tables were written, 2 for an unknown region, 1 when the API could not be asked or priced nothing."""
    import sys

    from sparkeks.cost.prices import TABLES_DIR
    from sparkeks.project import current_project
    from sparkeks.regions import REGIONS

    unknown = [r for r in regions or [] if r not in REGIONS]
    if unknown:
        for region in unknown:
            print(f"--region {region}: not a region this toolkit supports (sparkeks/regions.py: {', '.join(REGIONS)})", file=sys.stderr)
        return 2
    try:
        lines = refresh(regions or list(REGIONS), Path(out) if out else TABLES_DIR, wanted_instance_types(current_project()), aws_cli_get_products, date.today())
    except RefreshError as err:
        print(f"prices refresh: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    # A region the API has no EC2 prices for keeps its old table (said above); nothing written at all is an error.
    return 1 if all(line.endswith("table not written") for line in lines) else 0
