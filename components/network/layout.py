"""Pure builders of the network around the subnets: NAT placement and the subnets' discovery tags.

The subnets' CIDRs come from `sparkeks.subnets` (the config model checks the same layout).
"""

from __future__ import annotations


def nat_zones(strategy: str, zones: list[str]) -> list[str]:
    """Zones that get a NAT gateway: every zone, the first one, or none."""
    return {"perZone": list(zones), "single": list(zones[:1]), "none": []}[strategy]


def egress_nat_zone(strategy: str, zone: str, zones: list[str]) -> str | None:
    """The NAT gateway a zone's private route table sends internet traffic to.

    perZone keeps egress inside the zone, so losing one zone's NAT leaves the others untouched.
    """
    if strategy == "perZone":
        return zone
    if strategy == "single":
        return zones[0]
    return None


def private_subnet_tags(cluster_name: str, zone: str, name: str) -> dict[str, str]:
    # internal-elb: internal load balancers land here; karpenter.sh/discovery: Karpenter launches nodes here.
    return {
        "Name": name,
        "kubernetes.io/role/internal-elb": "1",
        "karpenter.sh/discovery": cluster_name,
        "spark-on-eks/subnet-tier": "private",
        "spark-on-eks/zone": zone,
    }


def public_subnet_tags(zone: str, name: str) -> dict[str, str]:
    return {
        "Name": name,
        "kubernetes.io/role/elb": "1",
        "spark-on-eks/subnet-tier": "public",
        "spark-on-eks/zone": zone,
    }
