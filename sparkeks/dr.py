"""`sparkeks dr init`: derive a DR stack file from a primary stack, in other zones (or another region)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.config.model import PROJECT, StackConfig
from sparkeks.plan.runner import SECRET_PLACEHOLDER, PlanError, load_stack
from sparkeks.regions import REGIONS

STANDBY_SCALE = 0.1
# Stands where the primary had an encrypted value: encrypted values do not move between stacks.
SECRET_TO_SET = "v1:UkVQTEFDRS1XSVRILXB1bHVtaS1jb25maWctc2V0LS1zZWNyZXQ="


class DrInitError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class DrStack:
    name: str
    path: Path
    secrets_to_set: list[str]


def _next_cidr(cidr: str) -> str:
    """The same-sized block right after the primary's (10.20.0.0/16 -> 10.21.0.0/16), so the two VPCs
    can be peered later."""
    network = ipaddress.IPv4Network(cidr)
    return str(ipaddress.IPv4Network((int(network.network_address) + network.num_addresses, network.prefixlen)))


def _placeholders(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return {"secure": SECRET_TO_SET}, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], inner = _placeholders(item)
            found |= inner
        return out, found
    return value, False


def _primary(primary: str, project_dir: Path) -> tuple[dict[str, Any], StackConfig]:
    try:
        config = load_stack(primary, project_dir)
    except PlanError as err:
        raise DrInitError(err.lines) from None
    except ConfigError as err:
        raise DrInitError([f"primary stack {primary} is not valid:", *err.problems]) from None
    raw = yaml.safe_load((project_dir / "stacks" / f"Pulumi.{primary}.yaml").read_text())["config"]
    return raw, config


def dr_init(
    primary: str,
    *,
    zones: list[str],
    spark_zones: list[str] | None = None,
    region: str | None = None,
    name: str | None = None,
    project_dir: Path,
) -> DrStack:
    raw, config = _primary(primary, project_dir)
    name = name or f"{primary}-dr"
    path = project_dir / "stacks" / f"Pulumi.{name}.yaml"
    target_region = region or config.region
    problems: list[str] = []
    known = REGIONS.get(target_region)
    if known is None:
        raise DrInitError([f"--region: {target_region}: unknown region; known: {', '.join(sorted(REGIONS))}"])
    outside = [z for z in zones if z not in known.zones]
    if outside:
        problems.append(f"--zones: {','.join(outside)}: not in {target_region}; zones there: {', '.join(known.zones)}")
    if len(set(zones)) < 2:
        problems.append(f"--zones: {','.join(zones)}: a DR stack needs at least 2 distinct zones (EKS needs 2)")
    spark = spark_zones or list(zones)
    if not set(spark) <= set(zones):
        problems.append(f"--spark-zones: {','.join(spark)}: must be among --zones ({','.join(zones)})")
    if target_region == config.region:
        overlap = [z for z in spark if z in config.spark_zones]
        if overlap:
            problems.append(
                f"--spark-zones: {','.join(overlap)}: stack {primary} runs its Spark capacity there "
                f"({', '.join(config.spark_zones)}); a DR stack's must be in other zones"
            )
    if path.exists():
        problems.append(f"{path.relative_to(project_dir)}: already exists; remove it or pick another --name")
    if problems:
        raise DrInitError(problems)

    derived: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        value, secret = _placeholders(value)
        derived[key] = value
        if secret:
            secrets.append(key if ":" in key else f"{PROJECT}:{key}")
    derived["aws:region"] = target_region
    network = dict(derived.get(f"{PROJECT}:network") or {})
    network.update({"cidr": _next_cidr(config.network.cidr), "zones": list(zones), "sparkZones": spark})
    derived[f"{PROJECT}:network"] = network
    derived[f"{PROJECT}:clusterName"] = f"{config.resolved_cluster_name(primary)[:29]}-dr"
    spark_section = dict(derived.get(f"{PROJECT}:spark") or {})
    if config.spark.bucket_name:
        spark_section["bucketName"] = f"{config.spark.bucket_name[:60]}-dr"
    if spark_section:
        derived[f"{PROJECT}:spark"] = spark_section
    derived[f"{PROJECT}:dr"] = {
        "primaryStack": f"organization/{PROJECT}/{primary}",
        # Standby: a tenth of the primary's pool limits. Failover: set 1 and `pulumi up`.
        "capacityScale": STANDBY_SCALE,
        "replicateBuckets": [],
    }

    # The result must validate like any stack file before it is written.
    encoded = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in derived.items() if not (isinstance(v, dict) and "secure" in v)}
    encoded.update({k: SECRET_PLACEHOLDER for k in secrets})
    try:
        load_stack_config(name, {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in encoded.items()}, set(secrets))
    except ConfigError as err:
        raise DrInitError(err.problems) from None

    header = (
        f"# {name}: disaster-recovery copy of stack {primary}, written by `python -m sparkeks dr init`.\n"
        f"# Spark capacity in {', '.join(spark)} ({target_region}); the primary's event logs (and the buckets in\n"
        "# dr.replicateBuckets) are replicated here. Standby runs a tenth of the primary's pool limits:\n"
        "# on failover set spark-on-eks:dr.capacityScale to 1 and `pulumi up`. See docs/dr.md.\n"
    )
    if secrets:
        header += "# Set the secrets before the first `pulumi up`: " + "; ".join(f"pulumi config set --secret {k} -s {name}" for k in secrets) + "\n"
    path.write_text(header + yaml.safe_dump({"config": derived}, sort_keys=False, width=120))
    return DrStack(name=name, path=path, secrets_to_set=secrets)
