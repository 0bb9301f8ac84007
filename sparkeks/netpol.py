"""NetworkPolicies as data: builders for a namespace's default-deny and its allowances, and an evaluator of
who may open a connection to whom under a set of policies (ingress and egress, Kubernetes semantics), so
tests and reviews read reachability from a plan.

A platform namespace is described by plain data (`Allowance`s) and `namespace_policies` turns it into
objects: one default-deny for ingress and egress, then one policy per allowance. Components (and new ones,
such as a remote shuffle service) describe what their pods need with the rule helpers below."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Set by the API server on every namespace (Kubernetes 1.22+): selects a namespace by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# CoreDNS on EKS: its pods carry the kube-dns label of the add-on, in kube-system.
DNS_NAMESPACE = "kube-system"
DNS_PODS = {"k8s-app": "kube-dns"}
# The EKS Pod Identity Agent listens here on every node (host network): pods fetch their AWS credentials
# from it over plain HTTP; the agent itself calls the EKS Auth API.
POD_IDENTITY_AGENT = "169.254.170.23/32"
POD_IDENTITY_PORT = 80
# Addresses that are never an AWS public endpoint: private ranges, shared (CGNAT, used for custom pod
# networking) and link-local (instance metadata, the Pod Identity Agent).
_NOT_PUBLIC = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")

Rule = dict[str, Any]


def network_policy(
    name: str,
    namespace: str,
    pod_labels: Mapping[str, str],
    *,
    ingress: list[Rule] | None = None,
    egress: list[Rule] | None = None,
    labels: Mapping[str, str] | None = None,
    pod_expressions: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A policy for the pods with `pod_labels` and `pod_expressions` (all pods when both are empty). A
    direction given as an empty list is isolated with nothing allowed; one left as None is not governed."""
    if ingress is None and egress is None:
        ingress = []
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    selector: dict[str, Any] = {}
    if pod_labels:
        selector["matchLabels"] = dict(pod_labels)
    if pod_expressions:
        selector["matchExpressions"] = [dict(e) for e in pod_expressions]
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


# --- rules -------------------------------------------------------------------------------------------


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def pods(namespace: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A peer: the pods with `labels` (all when None) in the namespace named `namespace`."""
    peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
    if labels:
        peer["podSelector"] = {"matchLabels": dict(labels)}
    return peer


def addresses(*cidrs: str, excluding: Iterable[str] = ()) -> list[dict[str, Any]]:
    """ipBlock peers; `excluding` is cut out of every block that contains it."""
    peers = []
    for cidr in cidrs:
        block = ipaddress.ip_network(cidr)
        inside = {e for e in map(ipaddress.ip_network, excluding) if e != block and e.subnet_of(block)}  # type: ignore[arg-type]
        # A range already inside another cut range adds nothing.
        cut = sorted(str(e) for e in inside if not any(e != o and e.subnet_of(o) for o in inside))  # type: ignore[arg-type]
        peers.append({"ipBlock": {"cidr": cidr, **({"except": cut} if cut else {})}})
    return peers


def rule(peers: list[dict[str, Any]], ports: list[dict[str, Any]], direction: str) -> Rule:
    return {("from" if direction == "ingress" else "to"): peers, "ports": ports}


def dns() -> Rule:
    """Egress to CoreDNS, UDP and TCP 53 (TCP for answers that do not fit a datagram)."""
    return {"to": [pods(DNS_NAMESPACE, DNS_PODS)], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def pod_identity() -> Rule:
    """Egress to the node's Pod Identity Agent, for pods whose ServiceAccount has an IAM role."""
    return {"to": addresses(POD_IDENTITY_AGENT), "ports": tcp(POD_IDENTITY_PORT)}


@dataclass(frozen=True)
class ClusterNetwork:
    """The addresses a policy names when no selector can: what the stack knows of its VPC.

    On EKS the control plane reaches into the VPC through ENIs that EKS places in the subnets the cluster
    is given (here, the private ones) and replaces when it updates the control plane: their addresses are
    unknown when the plan is made and change later. Interface endpoints (STS, ECR, SQS, EC2, ...) sit in the
    same private subnets. So the private subnet ranges on 443 name both, and stay right across control-plane
    updates, where the endpoint's current addresses would go stale."""

    vpc_cidr: str
    private_subnets: tuple[str, ...]
    service_cidr: str

    @property
    def api_service_ip(self) -> str:
        """The `kubernetes` Service: the first address of the Service range."""
        return str(ipaddress.ip_network(self.service_cidr).network_address + 1)

    def api_server(self) -> Rule:
        """Egress to the Kubernetes API: its Service address (policy engines that match before the Service
        is translated) and the private subnets where the control-plane ENIs are (engines that match after)."""
        return {"to": addresses(f"{self.api_service_ip}/32", *self.private_subnets), "ports": tcp(443)}

    def from_api_server(self, *ports: int) -> Rule:
        """Ingress from the control plane (admission webhooks): its ENIs in the private subnets."""
        return {"from": addresses(*self.private_subnets), "ports": tcp(*ports)}

    def interface_endpoints(self) -> Rule:
        """Egress to the VPC's interface endpoints (and the control-plane ENIs), HTTPS only."""
        return {"to": addresses(*self.private_subnets), "ports": tcp(443)}

    def aws_public_endpoints(self) -> Rule:
        """Egress on 443 to public addresses: S3 through the gateway endpoint (its prefix list cannot be named
        by a NetworkPolicy) and AWS APIs without an interface endpoint (through NAT where there is one).
        Every private, shared and link-local range is cut out, so this never opens a path inside the VPC."""
        excluded = {*_NOT_PUBLIC, self.vpc_cidr, self.service_cidr}
        return {"to": addresses("0.0.0.0/0", excluding=excluded), "ports": tcp(443)}

    def nodes(self, *ports: int) -> Rule:
        """Egress to node addresses (kubelet, host-network exporters) in the private subnets."""
        return {"to": addresses(*self.private_subnets), "ports": tcp(*ports)}


@dataclass(frozen=True)
class Allowance:
    """What some pods of a namespace may receive and send: plain NetworkPolicy rules."""

    name: str
    pods: Mapping[str, str] = field(default_factory=dict)
    """The pods it applies to (with `pod_expressions`; every pod of the namespace when both are empty)."""
    pod_expressions: Sequence[dict[str, Any]] = ()
    ingress: Sequence[Rule] = ()
    egress: Sequence[Rule] = ()


DEFAULT_DENY = "default-deny"


def namespace_policies(namespace: str, allowances: Iterable[Allowance], *, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A namespace's policies: deny every connection in and out, then one policy per allowance."""
    policies = [network_policy(DEFAULT_DENY, namespace, {}, ingress=[], egress=[], labels=labels)]
    for allowance in allowances:
        policies.append(
            network_policy(
                allowance.name,
                namespace,
                allowance.pods,
                ingress=list(allowance.ingress) or None,
                egress=list(allowance.egress) or None,
                labels=labels,
                pod_expressions=allowance.pod_expressions,
            )
        )
    return policies


# --- evaluation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    ip: str | None = None
    """Only needed to ask whether an ipBlock covers the pod (pod addresses are in the private subnets)."""


@dataclass(frozen=True)
class Address:
    """Something outside the cluster's pods: an AWS endpoint, a node, the control plane."""

    ip: str


Endpoint = Pod | Address


def _selects(selector: dict[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _in_block(block: dict[str, Any], ip: str | None) -> bool:
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])


def _peer_matches(peer: dict[str, Any], other: Endpoint, policy_namespace: str, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
    if "ipBlock" in peer:
        return _in_block(peer["ipBlock"], other.ip)
    if not isinstance(other, Pod):
        return False
    ns_labels = {NAMESPACE_NAME_LABEL: other.namespace, **namespace_labels.get(other.namespace, {})}
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], ns_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or _selects(peer["podSelector"], other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    return not ports or any(p.get("port") in (None, port) and p.get("protocol", "TCP") == protocol for p in ports)


def _allowed(policies: list[dict[str, Any]], namespace_labels, pod: Pod, other: Endpoint, port: int, protocol: str, direction: str) -> bool:
    """Whether `pod`'s policies let it exchange a connection with `other` in `direction`."""
    policy_type, rules_key, peers_key = {"ingress": ("Ingress", "ingress", "from"), "egress": ("Egress", "egress", "to")}[direction]
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == pod.namespace
        and policy_type in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"].get("podSelector", {}), pod.labels)
    ]
    if not selecting:
        return True  # a pod no policy selects is not isolated in this direction
    for policy in selecting:
        for rule_ in policy["spec"].get(rules_key) or []:
            peers = rule_.get(peers_key)
            peer_ok = not peers or any(_peer_matches(peer, other, pod.namespace, namespace_labels) for peer in peers)
            if peer_ok and _port_matches(rule_.get("ports"), port, protocol):
                return True
    return False


def may_connect(
    policies: list[dict[str, Any]],
    namespace_labels: Mapping[str, Mapping[str, str]],
    source: Endpoint,
    target: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether `source` may open a connection to `target:port`: the source pod's egress and the target
    pod's ingress must both allow it (an Address is governed by no policy)."""
    if isinstance(source, Pod) and not _allowed(policies, namespace_labels, source, target, port, protocol, "egress"):
        return False
    if isinstance(target, Pod) and not _allowed(policies, namespace_labels, target, source, port, protocol, "ingress"):
        return False
    return True
