"""NetworkPolicies of the History Server namespace. A team's server admits its own team's namespace on the
server's port (the login proxy's, when there is one), the monitoring namespace's Prometheus on the proxy's
metrics port, and, with an internal NLB, the VPC on the server's port (the NLB's clients arrive through the
nodes). A server sends nothing but DNS lookups, its credential requests to the Pod Identity Agent and HTTPS
to public addresses: S3 through the gateway endpoint, and the identity provider for the login. People
reach a server with `kubectl port-forward`, which enters the pod directly and is governed by RBAC."""

from __future__ import annotations

from typing import Any

from components.history_server.login import METRICS_PORT
from components.history_server.manifests import APP_NAME, NAMESPACE, PORT
from components.observability.network import scraper
from sparkeks.netpol import Allowance, ClusterNetwork, addresses, dns, namespace_policies, pod_identity, pods, rule, tcp


def network_policies(
    teams: list[str], network: ClusterNetwork, *, login: bool, load_balancer: bool = False, issuer_cidrs: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    def ingress(team: str) -> list[dict[str, Any]]:
        rules = [rule([pods(team)], tcp(PORT), "ingress")]
        if login:
            rules.append(rule([scraper()], tcp(METRICS_PORT), "ingress"))
        if load_balancer:
            rules.append(rule(addresses(network.vpc_cidr), tcp(PORT), "ingress"))
        return rules

    servers = [
        Allowance(f"{APP_NAME}-{team}", {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team}, ingress=ingress(team))
        for team in teams
    ]
    # No Kubernetes API: the servers mount no token.
    rules = [dns(), pod_identity(), network.aws_public_endpoints()]
    if login and issuer_cidrs:
        # An identity provider on private routes (`historyServer.access.issuerCidrs`).
        rules.append(rule(addresses(*issuer_cidrs), tcp(443), "egress"))
    egress = Allowance("servers-to-s3", {"app.kubernetes.io/name": APP_NAME}, egress=rules)
    return namespace_policies(NAMESPACE, [*servers, egress])
