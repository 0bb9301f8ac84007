"""Which inputs of a resource decide who may do what and what is reachable, and how to say them.

The plan diff puts these first: IAM and resource policies, pod identities and access entries, security
group rules, the API endpoint's exposure, Kubernetes RBAC, NetworkPolicies, load balancers and admission
rules. A reviewer reads them as sentences (`+ resource arn:aws:s3:::bucket/landing/*`), not JSON strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sparkeks.plan.changes import ABSENT
from sparkeks.plan.policy_diff import describe_policy, parse_policy, policy_changes

# Inputs (path prefixes) that grant access or expose something, by resource type. Any input holding a
# policy document counts too, whatever the type.
ACCESS_PATHS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("managedPolicyArns", "permissionsBoundary"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn", "role"),
    "aws:iam/instanceProfile:InstanceProfile": ("role",),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("namespace", "serviceAccount", "roleArn"),
    "aws:eks/accessEntry:AccessEntry": ("principalArn", "type", "kubernetesGroups"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("principalArn", "policyArn", "accessScope"),
    "aws:eks/cluster:Cluster": ("vpcConfig.publicAccessCidrs", "vpcConfig.endpointPublicAccess", "vpcConfig.endpointPrivateAccess", "accessConfig"),
    "aws:ec2/securityGroup:SecurityGroup": ("ingress", "egress"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ingress", "egress"),
    "aws:ec2/securityGroupRule:SecurityGroupRule": ("type", "protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks", "sourceSecurityGroupId", "prefixListIds"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": ("rules",),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": ("rules", "aggregationRule"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ("subjects", "roleRef"),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("subjects", "roleRef"),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": ("spec",),
    "kubernetes:core/v1:Service": ("spec.type", "spec.loadBalancerSourceRanges", "metadata.annotations"),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": ("spec",),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": ("spec",),
}

# What else a reviewer wants to see of an added resource: its capacity and quota.
DETAIL_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:karpenter.sh/v1:NodePool": ("spec.limits", "spec.disruption.budgets", "spec.weight"),
    "kubernetes:core/v1:ResourceQuota": ("spec.hard",),
    "kubernetes:core/v1:LimitRange": ("spec.limits",),
    "aws:s3/bucket:Bucket": ("forceDestroy",),
    "aws:s3/bucketV2:BucketV2": ("forceDestroy",),
}


def resource_type(ref: str) -> str:
    return ref.split("::", 1)[0]


def _starts(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def policy_inputs(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Top-level inputs that hold a policy document (`policy`, `assumeRolePolicy`, ...)."""
    found = {}
    for key, value in inputs.items():
        document = parse_policy(value)
        if document is not None:
            found[key] = document
    return found


def top_key(path: str) -> str:
    """`policy (JSON) Statement[0]` and `spec.limits.cpu` -> `policy`, `spec`."""
    return re.split(r"[.\[ ]", path, maxsplit=1)[0]


def is_access_path(typ: str, path: str, policy_keys: set[str]) -> bool:
    """Whether a changed input path belongs in the access section."""
    return top_key(path) in policy_keys or _starts(path, ACCESS_PATHS.get(typ, ()))


def _show(value: Any) -> str:
    return "`" + (value if isinstance(value, str) else json.dumps(value, sort_keys=True)) + "`"


def _get(inputs: dict[str, Any], path: str) -> Any:
    node: Any = inputs
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _rule(rule: dict[str, Any], direction: str) -> str:
    protocol = str(rule.get("protocol", rule.get("ipProtocol", "")))
    start, end = rule.get("fromPort"), rule.get("toPort")
    ports = "all ports" if protocol in ("-1", "all") else (f"port {start}" if start == end else f"ports {start}-{end}")
    protocol = "all traffic" if protocol in ("-1", "all") else protocol
    peers = [
        *rule.get("cidrBlocks", []),
        *rule.get("ipv6CidrBlocks", []),
        *rule.get("securityGroups", []),
        *rule.get("prefixListIds", []),
        *[rule[k] for k in ("cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId", "sourceSecurityGroupId") if rule.get(k)],
    ]
    if rule.get("self"):
        peers.append("itself")
    word = "from" if direction == "ingress" else "to"
    note = f" ({rule['description']})" if rule.get("description") else ""
    return f"{direction} {protocol} {ports} {word} {', '.join(f'`{p}`' for p in peers) or 'nowhere'}{note}"


def _rules(typ: str, inputs: dict[str, Any]) -> list[str]:
    if typ in ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        return [_rule(r, d) for d in ("ingress", "egress") for r in inputs.get(d) or []]
    if typ.startswith("aws:vpc/securityGroupIngressRule"):
        return [_rule(inputs, "ingress")]
    if typ.startswith("aws:vpc/securityGroupEgressRule"):
        return [_rule(inputs, "egress")]
    if typ == "aws:ec2/securityGroupRule:SecurityGroupRule":
        return [_rule(inputs, str(inputs.get("type", "ingress")))]
    return []


def describe(ref: str, inputs: dict[str, Any]) -> list[str]:
    """The access an added or removed resource grants or exposes, one line per fact."""
    typ = resource_type(ref)
    lines = [f"{key}: {line}" for key, document in policy_inputs(inputs).items() for line in describe_policy(document)]
    rules = _rules(typ, inputs)
    lines += rules
    if not rules:
        for path in ACCESS_PATHS.get(typ, ()):
            value = _get(inputs, path)
            if value not in (None, [], {}):
                lines.append(f"{path} = {_show(value)}")
    return lines


def details(ref: str, inputs: dict[str, Any]) -> list[str]:
    """Capacity, quota and protection facts of an added resource."""
    lines = []
    for path in DETAIL_PATHS.get(resource_type(ref), ()):
        value = _get(inputs, path)
        if value not in (None, [], {}):
            lines.append(f"{path} = {_show(value)}")
    return lines


def changes(ref: str, before: dict[str, Any], after: dict[str, Any], leaf_changes: list[tuple[str, Any, Any]]) -> list[str]:
    """The access changes of a changed resource, one line each; empty when its access is unchanged."""
    typ = resource_type(ref)
    lines: list[str] = []
    old_docs, new_docs = policy_inputs(before), policy_inputs(after)
    for key in sorted(set(old_docs) | set(new_docs)):
        old, new = old_docs.get(key), new_docs.get(key)
        if old == new:
            continue
        if old is None or new is None:
            lines += [f"{key}: {'+' if old is None else '-'} {line}" for line in describe_policy(new or old or {})]
        else:
            lines += [f"{key}: {line}" for line in policy_changes(old, new)]
    old_rules, new_rules = _rules(typ, before), _rules(typ, after)
    lines += [f"- {r}" for r in old_rules if r not in new_rules] + [f"+ {r}" for r in new_rules if r not in old_rules]
    if not old_rules and not new_rules:
        keys = set(old_docs) | set(new_docs)
        for path, old, new in leaf_changes:
            if not path.startswith("(options)") and is_access_path(typ, path, set()) and top_key(path) not in keys:
                lines.append(f"{path}: {_leaf(old)} -> {_leaf(new)}")
    return lines


def _leaf(value: Any) -> str:
    return "(absent)" if value is ABSENT else _show(value)
