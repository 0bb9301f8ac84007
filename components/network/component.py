"""Network: a VPC across the stack's zones, built so Spark's S3 traffic never pays for NAT."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.network.layout import egress_nat_zone, nat_zones, private_subnet_tags, public_subnet_tags
from sparkeks.subnets import plan_subnets


@dataclass(frozen=True)
class NetworkArgs:
    cluster_name: str
    """Cluster whose Karpenter discovers the private subnets (`karpenter.sh/discovery`)."""
    region: str
    cidr: str
    zones: list[str]
    nat_strategy: str
    private_subnet_prefix: int
    public_subnet_prefix: int
    interface_endpoints: list[str] = field(default_factory=list)


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    private_route_table_ids: pulumi.Output[list[str]]
    s3_endpoint_id: pulumi.Output[str]
    private_subnet_cidrs: list[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        layout = plan_subnets(args.cidr, args.zones, args.private_subnet_prefix, args.public_subnet_prefix)

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            # The private EKS endpoint and VPC endpoints' private DNS need both.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{args.cluster_name}-vpc"},
            opts=child,
        )
        # The default security group allows all traffic between its members; nothing should use it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg-locked",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{args.cluster_name}-default-unused"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{args.cluster_name}-igw"}, opts=child
        )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{args.cluster_name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-internet",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )

        public_subnets: dict[str, aws.ec2.Subnet] = {}
        private_subnets: dict[str, aws.ec2.Subnet] = {}
        for zone_layout in layout:
            zone = zone_layout.zone
            public_subnets[zone] = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                cidr_block=zone_layout.public_cidr,
                availability_zone=zone,
                # Public subnets only host load balancers and NAT gateways, which get their own addresses.
                map_public_ip_on_launch=False,
                tags=public_subnet_tags(zone, f"{args.cluster_name}-public-{zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public_subnets[zone].id, route_table_id=public_rt.id, opts=child
            )
            private_subnets[zone] = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                cidr_block=zone_layout.private_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=private_subnet_tags(args.cluster_name, zone, f"{args.cluster_name}-private-{zone}"),
                opts=child,
            )

        nats: dict[str, aws.ec2.NatGateway] = {}
        for zone in nat_zones(args.nat_strategy, args.zones):
            eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{args.cluster_name}-nat-{zone}"}, opts=child)
            nats[zone] = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=eip.id,
                subnet_id=public_subnets[zone].id,
                connectivity_type="public",
                tags={"Name": f"{args.cluster_name}-nat-{zone}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )

        private_rts: list[aws.ec2.RouteTable] = []
        for zone in args.zones:
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{zone}", vpc_id=vpc.id, tags={"Name": f"{args.cluster_name}-private-{zone}"}, opts=child
            )
            private_rts.append(rt)
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private_subnets[zone].id, route_table_id=rt.id, opts=child
            )
            nat_zone = egress_nat_zone(args.nat_strategy, zone, args.zones)
            if nat_zone is not None:
                aws.ec2.Route(
                    f"{name}-private-egress-{zone}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[nat_zone].id,
                    opts=child,
                )

        # Gateway endpoint: S3 traffic from every private subnet goes straight to S3, free and NAT-less.
        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts] + [public_rt.id],
            tags={"Name": f"{args.cluster_name}-s3"},
            opts=child,
        )

        if args.interface_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints",
                vpc_id=vpc.id,
                description="HTTPS from the VPC to interface endpoints",
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.cidr], description="HTTPS from the VPC"
                    )
                ],
                tags={"Name": f"{args.cluster_name}-endpoints"},
                opts=child,
            )
            for service in args.interface_endpoints:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    service_name=f"com.amazonaws.{args.region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in private_subnets.values()],
                    security_group_ids=[endpoint_sg.id],
                    tags={"Name": f"{args.cluster_name}-{service}"},
                    opts=child,
                )

        self.vpc_id = vpc.id
        # Known at plan time (no Output): NetworkPolicies name these ranges.
        self.private_subnet_cidrs = [z.private_cidr for z in layout]
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets.values()])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets.values()])
        self.private_route_table_ids = pulumi.Output.all(*[rt.id for rt in private_rts])
        self.s3_endpoint_id = s3_endpoint.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
                "s3EndpointId": self.s3_endpoint_id,
            }
        )
