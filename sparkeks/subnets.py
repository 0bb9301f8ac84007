"""The VPC's subnet layout: which CIDR each zone's private and public subnet gets.

Pure arithmetic shared by the config model (a stack whose CIDR cannot hold its zones is refused before
anything is created) and the network component (which creates exactly these subnets).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


class SubnetLayoutError(ValueError):
    """The VPC cannot hold the subnets asked of it; the message says what would fit."""


@dataclass(frozen=True)
class ZoneSubnets:
    zone: str
    private_cidr: str
    public_cidr: str


def plan_subnets(cidr: str, zones: list[str], private_prefix: int, public_prefix: int) -> list[ZoneSubnets]:
    """Private subnets first (large, for pod IPs), then the small public ones after them.

    Private subnets are carved from the start of the VPC so that growing the VPC's prefix or adding a
    zone later never moves an existing subnet.
    """
    vpc = ipaddress.IPv4Network(cidr)
    if private_prefix <= vpc.prefixlen or public_prefix <= vpc.prefixlen:
        raise SubnetLayoutError(
            f"subnets (/{private_prefix} private, /{public_prefix} public) must be smaller than the VPC /{vpc.prefixlen}"
        )
    count = len(zones)
    private_size = 2 ** (32 - private_prefix)
    public_size = 2 ** (32 - public_prefix)
    start = int(vpc.network_address)
    privates = [ipaddress.IPv4Network((start + i * private_size, private_prefix)) for i in range(count)]
    public_start = start + count * private_size
    public_start += -public_start % public_size  # align to the public prefix
    publics = [ipaddress.IPv4Network((public_start + i * public_size, public_prefix)) for i in range(count)]
    end = public_start + count * public_size
    if end > int(vpc.broadcast_address) + 1:
        needed = 32 - (end - start - 1).bit_length()
        raise SubnetLayoutError(
            f"is too small for {count} private /{private_prefix} and {count} public /{public_prefix} subnets; "
            f"use a /{needed} or larger, or smaller subnet prefixes"
        )
    return [ZoneSubnets(z, str(p), str(q)) for z, p, q in zip(zones, privates, publics)]
