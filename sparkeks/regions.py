"""AWS regions this toolkit knows, with the availability zones a typical account sees in each.

Zone *names* (us-east-1a) map to physical zones differently per account; zone *ids* (use1-az1) do not.
The table is what stack validation checks zones against, and what the offline plan's simulated
account answers `aws.get_availability_zones` with. Names and counts follow the AWS regions list
(us-east-1 has six zones, us-west-2 four, ap-northeast-1 has no "b" for new accounts, us-west-1
shows two of its three). A zone missing here for your account is a one-line change to this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str
    zone_id_prefix: str
    zone_letters: str
    partition: str = "aws"

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}{letter}" for letter in self.zone_letters)

    def zone_id(self, zone: str) -> str:
        """The simulated account's zone id for a zone name (az1 for the first letter, ...).

        Real accounts map letters to ids in their own way; only the offline plan uses this.
        """
        return f"{self.zone_id_prefix}-az{self.zone_letters.index(zone[-1]) + 1}"


_REGIONS = (
    Region("us-east-1", "use1", "abcdef"),
    Region("us-east-2", "use2", "abc"),
    Region("us-west-1", "usw1", "ac"),
    Region("us-west-2", "usw2", "abcd"),
    Region("ca-central-1", "cac1", "abd"),
    Region("ca-west-1", "caw1", "abc"),
    Region("sa-east-1", "sae1", "abc"),
    Region("eu-west-1", "euw1", "abc"),
    Region("eu-west-2", "euw2", "abc"),
    Region("eu-west-3", "euw3", "abc"),
    Region("eu-central-1", "euc1", "abc"),
    Region("eu-central-2", "euc2", "abc"),
    Region("eu-north-1", "eun1", "abc"),
    Region("eu-south-1", "eus1", "abc"),
    Region("eu-south-2", "eus2", "abc"),
    Region("ap-northeast-1", "apne1", "acd"),
    Region("ap-northeast-2", "apne2", "abcd"),
    Region("ap-northeast-3", "apne3", "abc"),
    Region("ap-southeast-1", "apse1", "abc"),
    Region("ap-southeast-2", "apse2", "abc"),
    Region("ap-southeast-3", "apse3", "abc"),
    Region("ap-southeast-4", "apse4", "abc"),
    Region("ap-south-1", "aps1", "abc"),
    Region("ap-south-2", "aps2", "abc"),
    Region("ap-east-1", "ape1", "abc"),
    Region("me-south-1", "mes1", "abc"),
    Region("me-central-1", "mec1", "abc"),
    Region("il-central-1", "ilc1", "abc"),
    Region("af-south-1", "afs1", "abc"),
)

REGIONS: dict[str, Region] = {r.name: r for r in _REGIONS}

