"""Network: zones, subnets, NAT strategy, routes, and the S3 gateway endpoint on every private route."""

from __future__ import annotations

import ipaddress

import pytest

from components.network.layout import egress_nat_zone, nat_zones
from sparkeks.subnets import SubnetLayoutError, plan_subnets
from tests.conftest import PRIVATE_NETWORK

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _tier(view, tier):
    return [s for s in view.of_type(SUBNET) if s["inputs"]["tags"]["spark-on-eks/subnet-tier"] == tier]


def test_prod_subnets_one_per_tier_in_three_distinct_zones(prod):
    for tier in ("private", "public"):
        zones = [s["inputs"]["availabilityZone"] for s in _tier(prod, tier)]
        assert sorted(zones) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_subnets_fit_the_vpc_and_never_overlap(prod):
    vpc = ipaddress.IPv4Network(prod.one("aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"])
    nets = [ipaddress.IPv4Network(s["inputs"]["cidrBlock"]) for s in prod.of_type(SUBNET)]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_private_subnets_have_room_for_thousands_of_pods_per_zone(prod, dev):
    for view in (prod, dev):
        for subnet in _tier(view, "private"):
            assert ipaddress.IPv4Network(subnet["inputs"]["cidrBlock"]).num_addresses - 5 >= 4000


def test_no_subnet_hands_out_public_ips(prod):
    assert [s["inputs"]["mapPublicIpOnLaunch"] for s in prod.of_type(SUBNET)] == [False] * 6


def test_subnet_tags_for_load_balancers_and_karpenter(prod):
    for subnet in _tier(prod, "private"):
        assert subnet["inputs"]["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet["inputs"]["tags"]["karpenter.sh/discovery"] == "spark-prod"
    for subnet in _tier(prod, "public"):
        assert subnet["inputs"]["tags"]["kubernetes.io/role/elb"] == "1"
        assert "karpenter.sh/discovery" not in subnet["inputs"]["tags"]


def _nat_zone(view, nat):
    return view.by_id(SUBNET, nat["inputs"]["subnetId"])["inputs"]["availabilityZone"]


def test_prod_has_one_nat_per_zone_in_public_subnets(prod):
    nats = prod.of_type(NAT)
    assert sorted(_nat_zone(prod, n) for n in nats) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    for nat in nats:
        assert prod.by_id(SUBNET, nat["inputs"]["subnetId"])["inputs"]["tags"]["spark-on-eks/subnet-tier"] == "public"


def test_dev_has_a_single_nat(dev):
    assert [_nat_zone(dev, n) for n in dev.of_type(NAT)] == ["us-west-2a"]


def _private_route_tables(view):
    """zone -> private route table, through the subnet associations."""
    tables = {}
    for assoc in view.of_type(ASSOCIATION):
        subnet = view.by_id(SUBNET, assoc["inputs"]["subnetId"])
        if subnet["inputs"]["tags"]["spark-on-eks/subnet-tier"] == "private":
            tables[subnet["inputs"]["availabilityZone"]] = view.by_id(ROUTE_TABLE, assoc["inputs"]["routeTableId"])
    return tables


def test_each_zone_has_its_own_private_route_table_with_egress_through_its_own_nat(prod):
    tables = _private_route_tables(prod)
    assert len({prod.id_of(t) for t in tables.values()}) == 3
    for zone, table in tables.items():
        [egress] = [r for r in prod.of_type(ROUTE) if r["inputs"]["routeTableId"] == prod.id_of(table)]
        assert egress["inputs"]["destinationCidrBlock"] == "0.0.0.0/0"
        assert _nat_zone(prod, prod.by_id(NAT, egress["inputs"]["natGatewayId"])) == zone


def test_single_nat_serves_every_zone(dev):
    nat_ids = {r["inputs"]["natGatewayId"] for r in dev.of_type(ROUTE) if "natGatewayId" in r["inputs"]}
    assert nat_ids == {dev.id_of(dev.one(NAT))}
    assert len(_private_route_tables(dev)) == 2


def test_every_private_route_table_reaches_the_s3_gateway_endpoint(prod, dev):
    for view, region in ((prod, "us-east-1"), (dev, "us-west-2")):
        [s3] = [e for e in view.of_type(ENDPOINT) if e["inputs"]["vpcEndpointType"] == "Gateway"]
        assert s3["inputs"]["serviceName"] == f"com.amazonaws.{region}.s3"
        private_ids = {view.id_of(t) for t in _private_route_tables(view).values()}
        assert private_ids and private_ids <= set(s3["inputs"]["routeTableIds"])


def test_prod_interface_endpoints_are_private_and_https_from_the_vpc_only(prod):
    interfaces = [e for e in prod.of_type(ENDPOINT) if e["inputs"]["vpcEndpointType"] == "Interface"]
    services = sorted(e["inputs"]["serviceName"].removeprefix("com.amazonaws.us-east-1.") for e in interfaces)
    assert services == ["ec2", "ecr.api", "ecr.dkr", "eks-auth", "sqs", "sts"]
    private_ids = sorted(prod.id_of(s) for s in _tier(prod, "private"))
    sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints")
    assert sg["inputs"]["ingress"] == [
        {"cidrBlocks": ["10.20.0.0/16"], "description": "HTTPS from the VPC", "fromPort": 443, "protocol": "tcp", "toPort": 443}
    ]
    for endpoint in interfaces:
        assert endpoint["inputs"]["privateDnsEnabled"] is True
        assert sorted(endpoint["inputs"]["subnetIds"]) == private_ids
        assert endpoint["inputs"]["securityGroupIds"] == [prod.id_of(sg)]


def test_default_security_group_is_emptied(prod):
    sg = prod.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sg["inputs"]["ingress"] == [] and sg["inputs"]["egress"] == []


def test_private_cluster_without_nat_has_no_internet_route(plan_variant):
    view = plan_variant(
        "dev",
        network=PRIVATE_NETWORK,
    )
    assert view.of_type(NAT) == [] and view.of_type("aws:ec2/eip:Eip") == []
    assert [r["name"] for r in view.of_type(ROUTE)] == ["network-public-internet"]


def test_layout_allocates_six_zones_in_a_16():
    zones = [f"us-east-1{c}" for c in "abcdef"]
    layout = plan_subnets("10.0.0.0/16", zones, 19, 24)
    assert [z.private_cidr for z in layout] == [f"10.0.{32 * i}.0/19" for i in range(6)]
    assert [z.public_cidr for z in layout] == [f"10.0.{192 + i}.0/24" for i in range(6)]


def test_layout_is_stable_when_a_zone_is_added():
    two = plan_subnets("10.0.0.0/16", ["a", "b"], 19, 24)
    three = plan_subnets("10.0.0.0/16", ["a", "b", "c"], 19, 24)
    assert [z.private_cidr for z in three[:2]] == [z.private_cidr for z in two]


def test_layout_rejects_a_vpc_too_small():
    with pytest.raises(SubnetLayoutError, match="use a /17 or larger"):
        plan_subnets("10.0.0.0/18", ["a", "b", "c"], 19, 24)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("perZone", ["a", "b", "c"]), ("single", ["a"]), ("none", [])],
)
def test_nat_zones_by_strategy(strategy, expected):
    assert nat_zones(strategy, ["a", "b", "c"]) == expected


def test_egress_stays_in_zone_only_with_per_zone_nat():
    assert [egress_nat_zone("perZone", z, ["a", "b"]) for z in "ab"] == ["a", "b"]
    assert [egress_nat_zone("single", z, ["a", "b"]) for z in "ab"] == ["a", "a"]
    assert egress_nat_zone("none", "a", ["a", "b"]) is None
