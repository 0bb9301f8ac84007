"""NetworkPolicies of the Karpenter namespace: the controller talks to the Kubernetes API and to AWS
(EC2, SQS, SSM, pricing, IAM, EKS), and admits only Prometheus on its metrics port. Its health probes come
from the kubelet on its own node, which NetworkPolicies always allow."""

from __future__ import annotations

from typing import Any

from components.observability.network import scraper
from sparkeks.netpol import Allowance, ClusterNetwork, dns, namespace_policies, pod_identity, rule, tcp

CONTROLLER = {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}
METRICS_PORT = 8080


def network_policies(namespace: str, network: ClusterNetwork) -> list[dict[str, Any]]:
    controller = Allowance(
        "karpenter-controller",
        CONTROLLER,
        ingress=[rule([scraper()], tcp(METRICS_PORT), "ingress")],
        egress=[
            dns(),
            # The API's rule names the private subnets on 443, which also holds the interface endpoints:
            # EC2, SQS and STS where the VPC has them.
            network.api_server(),
            pod_identity(),
            # SSM (AMI aliases), IAM (instance profiles), EKS and the pricing API through NAT otherwise.
            network.aws_public_endpoints(),
        ],
    )
    return namespace_policies(namespace, [controller])
