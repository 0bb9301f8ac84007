"""Names a stack takes in the world, so a new DR stack can be given names nobody else uses.

A DR stack shares the primary's account (often) and always the S3 namespace (bucket names are global),
and its VPC should be peerable with the primary's and every other copy's. So its cluster name, bucket
names and VPC CIDR are derived from its own stack name and checked against every stack in `stacks/`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from sparkeks.config.model import StackConfig

UNKNOWN_ACCOUNT = "<account>"
CLUSTER_NAME_MAX = 32


@dataclass(frozen=True)
class StackNames:
    stack: str
    cluster: str
    buckets: frozenset[str]
    cidr: ipaddress.IPv4Network


def names_of(stack: str, config: StackConfig) -> StackNames:
    """The cluster, the buckets this stack creates (platform, Loki, DR copies) and the VPC block."""
    account = config.known_account_id or UNKNOWN_ACCOUNT
    cluster = config.resolved_cluster_name(stack)
    buckets = {config.resolved_bucket_name(stack, account)}
    if config.observability.enabled and config.observability.loki.storage == "s3":
        buckets.add(f"{cluster}-loki-{account}")
    if config.dr is not None:
        buckets |= {config.dr.copy_of(b) for b in config.dr.replicate_buckets}
    return StackNames(stack, cluster, frozenset(buckets), ipaddress.IPv4Network(config.network.cidr))


def suffix_of(name: str, primary: str) -> str:
    """`prod-west` of primary `prod` -> `west`; a name not starting with the primary's is its own suffix."""
    return name[len(primary) + 1 :] if name.startswith(primary + "-") and len(name) > len(primary) + 1 else name


def derived_cluster_name(primary_cluster: str, suffix: str) -> str:
    """`spark-prod` + `west` -> `spark-prod-west`, shortening the primary's part to fit EKS's 32 characters
    (the primary's own name is what tells a reader whose copy this is)."""
    room = CLUSTER_NAME_MAX - len(suffix) - 1
    return f"{primary_cluster[:room].rstrip('-')}-{suffix}"[:CLUSTER_NAME_MAX].rstrip("-")


def derived_bucket_name(primary_bucket: str, suffix: str) -> str:
    room = 63 - len(suffix) - 1
    return f"{primary_bucket[:room].rstrip('-')}-{suffix}"


def free_cidr(primary: ipaddress.IPv4Network, taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    """The first block of the primary's size after it that overlaps no stack's VPC (10.20/16 -> 10.21/16,
    or 10.22/16 when 10.21 is a first DR copy), so every copy stays peerable with the primary."""
    step = primary.num_addresses
    candidate = int(primary.network_address) + step
    private = next((p for p in (ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")) if primary.subnet_of(p)), None)
    while True:
        try:
            block = ipaddress.IPv4Network((candidate, primary.prefixlen))
        except ValueError:
            return None
        if private is not None and not block.subnet_of(private):
            return None
        if not any(block.overlaps(other) for other in taken):
            return block
        candidate += step


def clashes(new: StackNames, others: list[StackNames], cidr_option: str) -> list[str]:
    """One line per name or block the new stack would share with an existing one."""
    problems = []
    for other in others:
        if new.cluster == other.cluster:
            problems.append(f"--name {new.stack}: cluster name {new.cluster} is already stack {other.stack}'s; pick another --name")
        for bucket in sorted(new.buckets & other.buckets):
            problems.append(f"--name {new.stack}: bucket {bucket} is already stack {other.stack}'s (S3 names are global); pick another --name")
        if new.cidr.overlaps(other.cidr):
            problems.append(f"{cidr_option} {new.cidr}: overlaps stack {other.stack}'s VPC {other.cidr}; VPCs that may be peered need distinct blocks")
    return problems


def existing_stacks(project_dir: Path, load) -> tuple[list[StackNames], list[str]]:
    """Names of every stack in `stacks/` that validates, and the stacks that do not (not checked)."""
    names, skipped = [], []
    for path in sorted((project_dir / "stacks").glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        try:
            names.append(names_of(stack, load(stack, project_dir)))
        except Exception:  # noqa: BLE001 - an invalid stack fails its own plan; here it only cannot be compared
            skipped.append(stack)
    return names, skipped
