"""A simulated AWS account for the offline plan.

It answers the program's invokes (zones, caller identity, partition, region) the way the real region
would, and gives every created resource plausible outputs (ids, ARNs, endpoints) derived from a hash
of its stack, type and name, so values computed from them render deterministically instead of staying unknown.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from sparkeks.regions import Region

ACCOUNT_ID = "111122223333"

# EC2-style id prefixes by resource type.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}

_GLOBAL_SERVICES = {"iam"}


def _digest(*parts: str) -> str:
    return hashlib.sha256("::".join(parts).encode()).hexdigest()


def _uuid(*parts: str) -> str:
    return str(uuid.UUID(_digest(*parts)[:32]))


class SimulatedAws(Mocks):
    """Deterministic stand-in for one AWS account in one region."""

    def __init__(self, region: Region, account_id: str = ACCOUNT_ID, stack_outputs: dict[str, dict] | None = None, stack: str = ""):
        self.region = region
        self.account_id = account_id
        self.stack = stack
        """Part of every simulated id: two stacks' plans never show the same VPC or role id."""
        self.stack_outputs = stack_outputs or {}
        """Outputs of other stacks (by the name a StackReference uses), from their own offline plans."""

    # ---- invokes -------------------------------------------------------------------------------
    def call(self, args: MockCallArgs) -> dict:
        token = args.token
        region = self.region
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {
                "id": region.name,
                "names": list(region.zones),
                "zoneIds": [region.zone_id(z) for z in region.zones],
                "groupNames": [region.name] * len(region.zones),
                "state": "available",
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": self.account_id,
                "accountId": self.account_id,
                "arn": f"arn:{region.partition}:sts::{self.account_id}:assumed-role/platform-deployer/offline-plan",
                "userId": "AROAOFFLINEPLAN:offline-plan",
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "id": region.partition,
                "partition": region.partition,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if token == "aws:index/getRegion:getRegion":
            return {
                "id": region.name,
                "name": region.name,
                "region": region.name,
                "description": region.name,
                "endpoint": f"ec2.{region.name}.amazonaws.com",
            }
        raise NotImplementedError(f"the offline plan does not simulate the invoke {token}; add it to {__name__}")

    # ---- resources -----------------------------------------------------------------------------
    def _digest(self, typ: str, name: str) -> str:
        return _digest(self.stack, typ, name)

    def _uuid(self, typ: str, name: str) -> str:
        return _uuid(self.stack, typ, name)

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        digest = self._digest(typ, name)
        if typ.startswith("pulumi:providers:"):
            return self._uuid(typ, name), inputs
        if typ == "pulumi:pulumi:StackReference":
            stack = inputs.get("name", name)
            if stack not in self.stack_outputs:
                raise KeyError(f"the offline plan has no outputs for stack {stack!r}")
            return stack, {"name": stack, "outputs": self.stack_outputs[stack], "secretOutputNames": []}
        if typ.startswith("kubernetes:"):
            meta = inputs.get("metadata") or {}
            ns = meta.get("namespace")
            obj_name = meta.get("name") or inputs.get("name") or name
            return (f"{ns}/{obj_name}" if ns else obj_name), inputs
        if not typ.startswith("aws:"):
            return f"{name}-{digest[:8]}", inputs

        outputs = dict(inputs)
        outputs.setdefault("name", f"{name}-{digest[:7]}")
        prefix = _ID_PREFIXES.get(typ)
        resource_id = f"{prefix}-{digest[:17]}" if prefix else outputs["name"]
        specific = self._type_outputs(typ, name, resource_id, outputs, digest)
        resource_id = specific.pop("id", resource_id)  # a few types are known by another attribute
        outputs.update(specific)
        outputs.setdefault("arn", self._arn(typ, resource_id, outputs))
        outputs.setdefault("tagsAll", outputs.get("tags") or {})
        return resource_id, outputs

    def _arn(self, typ: str, resource_id: str, outputs: dict) -> str:
        service = typ.split(":")[1].split("/")[0]
        kind = typ.rsplit(":", 1)[1]
        kind = kind[0].lower() + kind[1:]
        region = "" if service in _GLOBAL_SERVICES else self.region.name
        return f"arn:{self.region.partition}:{service}:{region}:{self.account_id}:{kind}/{resource_id}"

    def _type_outputs(self, typ: str, name: str, resource_id: str, o: dict, digest: str) -> dict[str, Any]:
        acct, region, part = self.account_id, self.region.name, self.region.partition
        if typ == "aws:iam/role:Role":
            return {"arn": f"arn:{part}:iam::{acct}:role{o.get('path', '/')}{o['name']}", "uniqueId": f"AROA{digest[:17].upper()}"}
        if typ == "aws:iam/policy:Policy":
            return {"arn": f"arn:{part}:iam::{acct}:policy{o.get('path', '/')}{o['name']}", "policyId": f"ANPA{digest[:17].upper()}"}
        if typ == "aws:iam/instanceProfile:InstanceProfile":
            return {"arn": f"arn:{part}:iam::{acct}:instance-profile/{o['name']}"}
        if typ == "aws:kms/key:Key":
            key_id = self._uuid(typ, name)
            return {"id": key_id, "keyId": key_id, "arn": f"arn:{part}:kms:{region}:{acct}:key/{key_id}"}
        if typ == "aws:kms/alias:Alias":
            return {"arn": f"arn:{part}:kms:{region}:{acct}:{o['name']}"}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": f"arn:{part}:logs:{region}:{acct}:log-group:{o['name']}"}
        if typ == "aws:ec2/vpc:Vpc":
            return {
                "defaultSecurityGroupId": f"sg-{digest[17:34]}",
                "mainRouteTableId": f"rtb-{digest[17:34]}",
                "defaultRouteTableId": f"rtb-{digest[17:34]}",
                "defaultNetworkAclId": f"acl-{digest[17:34]}",
                "ownerId": acct,
            }
        if typ == "aws:ec2/eip:Eip":
            return {"publicIp": f"198.51.100.{int(digest[:2], 16) % 254 + 1}", "allocationId": resource_id}
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            return {"prefixListId": f"pl-{digest[:8]}", "state": "available"}
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if typ == "aws:eks/cluster:Cluster":
            cluster = o["name"]
            endpoint_id = digest[:32].upper()
            vpc_config = dict(o.get("vpcConfig") or {})
            vpc_config.setdefault("clusterSecurityGroupId", f"sg-{digest[32:49]}")
            return {
                "arn": f"arn:{part}:eks:{region}:{acct}:cluster/{cluster}",
                "endpoint": f"https://{endpoint_id}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": base64.b64encode(f"offline-plan-ca:{cluster}".encode()).decode()},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{endpoint_id}"}]}],
                "vpcConfig": vpc_config,
                "status": "ACTIVE",
                "platformVersion": "eks.1",
                "clusterId": self._uuid(typ, name),
            }
        if typ == "aws:eks/nodeGroup:NodeGroup":
            group = o.get("nodeGroupName", o["name"])
            return {
                "arn": f"arn:{part}:eks:{region}:{acct}:nodegroup/{o.get('clusterName')}/{group}/{self._uuid(typ, name)}",
                "status": "ACTIVE",
            }
        if typ == "aws:eks/addon:Addon":
            return {"arn": f"arn:{part}:eks:{region}:{acct}:addon/{o.get('clusterName')}/{o.get('addonName')}/{self._uuid(typ, name)}"}
        if typ == "aws:eks/accessEntry:AccessEntry":
            return {"accessEntryArn": f"arn:{part}:eks:{region}:{acct}:access-entry/{o.get('clusterName')}/{self._uuid(typ, name)}"}
        if typ == "aws:eks/podIdentityAssociation:PodIdentityAssociation":
            return {"associationId": f"a-{digest[:17]}", "associationArn": f"arn:{part}:eks:{region}:{acct}:podidentityassociation/{o.get('clusterName')}/a-{digest[:17]}"}
        if typ == "aws:sqs/queue:Queue":
            return {"arn": f"arn:{part}:sqs:{region}:{acct}:{o['name']}", "url": f"https://sqs.{region}.amazonaws.com/{acct}/{o['name']}"}
        if typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
            bucket = o.get("bucket") or o["name"]
            return {"id": bucket, "bucket": bucket, "arn": f"arn:{part}:s3:::{bucket}", "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"}
        if typ == "aws:ecr/repository:Repository":
            return {
                "id": o["name"],
                "arn": f"arn:{part}:ecr:{region}:{acct}:repository/{o['name']}",
                "registryId": acct,
                "repositoryUrl": f"{acct}.dkr.ecr.{region}.amazonaws.com/{o['name']}",
            }
        if typ == "aws:cloudwatch/eventRule:EventRule":
            return {"arn": f"arn:{part}:events:{region}:{acct}:rule/{o['name']}"}
        return {}
