"""`sparkeks dr init`: derive a DR stack file from a primary stack, in other zones (or another region)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sparkeks.config.errors import key_part
from sparkeks.config.files import read_yaml
from sparkeks.config.loader import ConfigError, load_stack_config, stack_file_config
from sparkeks.config.model import PROJECT, StackConfig
from sparkeks.dr_names import clashes, derived_bucket_name, derived_cluster_name, existing_stacks, free_cidr, names_of, suffix_of
from sparkeks.plan.runner import SECRET_PLACEHOLDER, STACK_NAME, PlanError, load_stack
from sparkeks.regions import REGIONS

STANDBY_SCALE = 0.1
# Stands where the primary had an encrypted value: encrypted values do not move between stacks.
SECRET_TO_SET = "v1:UkVQTEFDRS1XSVRILXB1bHVtaS1jb25maWctc2V0LS1zZWNyZXQ="


def _listed(values: list[str]) -> str:
    """Zones as the user wrote them, one line whatever they typed (odd ones JSON-quoted)."""
    return ",".join(key_part(v) for v in values) or '""'


class DrInitError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class DrStack:
    name: str
    path: Path
    secrets_to_set: list[str]


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
    label = f"stacks/Pulumi.{primary}.yaml"
    raw = stack_file_config(read_yaml(project_dir / label, label, under="config"), label)
    return raw, config


def dr_init(
    primary: str,
    *,
    zones: list[str],
    spark_zones: list[str] | None = None,
    region: str | None = None,
    name: str | None = None,
    cidr: str | None = None,
    project_dir: Path,
) -> DrStack:
    raw, config = _primary(primary, project_dir)
    name = name or f"{primary}-dr"
    if not STACK_NAME.match(name):
        raise DrInitError([f"--name: {json.dumps(name)}: not a stack name; use letters, digits, hyphens, underscores and periods"])
    path = project_dir / "stacks" / f"Pulumi.{name}.yaml"
    target_region = region or config.region
    problems: list[str] = []
    if name == primary:
        raise DrInitError([f"--name {name}: is the primary's own name; a DR stack needs another (default: {primary}-dr)"])
    others, _ = existing_stacks(project_dir, load_stack)
    if cidr is not None:
        try:
            block = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise DrInitError([f"--cidr {cidr}: not an IPv4 block like 10.21.0.0/16 (host bits zero)"]) from None
    else:
        found = free_cidr(ipaddress.IPv4Network(config.network.cidr), [o.cidr for o in others])
        if found is None:
            raise DrInitError([f"--cidr: no free block of the primary's size after {config.network.cidr}; name one with --cidr"])
        block = found
    known = REGIONS.get(target_region)
    if known is None:
        raise DrInitError([f"--region: {key_part(target_region)}: unknown region; known: {', '.join(sorted(REGIONS))}"])
    outside = [z for z in zones if z not in known.zones]
    if outside:
        problems.append(f"--zones: {_listed(outside)}: not in {target_region}; zones there: {', '.join(known.zones)}")
    if len(set(zones)) < 2:
        problems.append(f"--zones: {_listed(zones)}: a DR stack needs at least 2 distinct zones (EKS needs 2)")
    spark = spark_zones or list(zones)
    if not set(spark) <= set(zones):
        problems.append(f"--spark-zones: {_listed(spark)}: must be among --zones ({_listed(zones)})")
    if target_region == config.region:
        overlap = [z for z in spark if z in config.spark_zones]
        if overlap and spark_zones:
            problems.append(
                f"--spark-zones: {','.join(overlap)}: stack {primary} runs its Spark capacity there "
                f"({', '.join(config.spark_zones)}); a DR stack's must be in other zones"
            )
        elif overlap:
            # The user passed --zones only: blame that flag, and say how to keep a shared zone for the network.
            problems.append(
                f"--zones: {','.join(overlap)}: stack {primary} runs its Spark capacity there "
                f"({', '.join(config.spark_zones)}); without --spark-zones all of --zones get the DR stack's Spark "
                f"capacity: pick other zones, or keep {','.join(overlap)} for the network only with --spark-zones"
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
    # Every name the world sees comes from the DR stack's own name: two copies of one primary never share one.
    suffix = suffix_of(name, primary)
    network.update({"cidr": str(block), "zones": list(zones), "sparkZones": spark})
    derived[f"{PROJECT}:network"] = network
    derived[f"{PROJECT}:clusterName"] = derived_cluster_name(config.resolved_cluster_name(primary), suffix)
    spark_section = dict(derived.get(f"{PROJECT}:spark") or {})
    if config.spark.bucket_name:
        spark_section["bucketName"] = derived_bucket_name(config.spark.bucket_name, suffix)
    if spark_section:
        derived[f"{PROJECT}:spark"] = spark_section
    derived[f"{PROJECT}:dr"] = {
        "primaryStack": f"organization/{PROJECT}/{primary}",
        # Standby: a tenth of the primary's pool limits. Failover: set 1 and `pulumi up`.
        "capacityScale": STANDBY_SCALE,
        "replicateBuckets": [],
        "copySuffix": suffix,
    }

    # The result must validate like any stack file before it is written.
    encoded = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in derived.items() if not (isinstance(v, dict) and "secure" in v)}
    encoded.update({k: SECRET_PLACEHOLDER for k in secrets})
    try:
        dr_config = load_stack_config(name, {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in encoded.items()}, set(secrets))
    except ConfigError as err:
        raise DrInitError(err.problems) from None
    clash = clashes(names_of(name, dr_config), others, "--cidr" if cidr is not None else "derived VPC block")
    if clash:
        raise DrInitError(clash)

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
