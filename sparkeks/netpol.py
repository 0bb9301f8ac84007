"""NetworkPolicies as data: a builder, and an evaluator of who may open a connection to whom under a set
of policies (ingress, Kubernetes semantics), so tests and reviews read reachability from a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Set by the API server on every namespace (Kubernetes 1.22+): selects a namespace by its name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def network_policy(name: str, namespace: str, pod_labels: dict[str, str], *, ingress: list[dict[str, Any]]) -> dict[str, Any]:
    """An ingress policy for the pods with `pod_labels` (all pods when empty); no rules denies all ingress."""
    spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {}, "policyTypes": ["Ingress"]}
    if ingress:
        spec["ingress"] = ingress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
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


def _peer_matches(peer: dict[str, Any], source: Pod, policy_namespace: str, namespace_labels: dict[str, dict[str, str]]) -> bool:
    if "ipBlock" in peer:
        # Pod addresses are not modelled: an ipBlock is treated as admitting nobody in the cluster.
        return False
    ns_labels = {NAMESPACE_NAME_LABEL: source.namespace, **namespace_labels.get(source.namespace, {})}
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], ns_labels):
            return False
    elif source.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or _selects(peer["podSelector"], source.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int) -> bool:
    return not ports or any(p.get("port") in (None, port) for p in ports)


def may_connect(
    policies: list[dict[str, Any]], namespace_labels: dict[str, dict[str, str]], source: Pod, target: Pod, port: int
) -> bool:
    """Whether `source` may open a connection to `target:port` (ingress side; egress is not modelled)."""
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == target.namespace
        and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"].get("podSelector", {}), target.labels)
    ]
    if not selecting:
        return True  # a pod no policy selects is not isolated
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from")
            peer_ok = not peers or any(_peer_matches(peer, source, target.namespace, namespace_labels) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port):
                return True
    return False
