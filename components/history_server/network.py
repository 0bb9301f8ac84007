"""NetworkPolicies of the History Server namespace: nothing reaches a server but its own team's namespace,
on the UI port only; a server sends nothing but DNS lookups,
its credential requests to the Pod Identity Agent and HTTPS to S3. People reach a server with
`kubectl port-forward`, which enters the pod directly and is governed by RBAC, not by these policies."""

from __future__ import annotations

from typing import Any

from components.history_server.manifests import APP_NAME, NAMESPACE, PORT
from sparkeks.netpol import Allowance, ClusterNetwork, dns, namespace_policies, pod_identity, pods, rule, tcp


def network_policies(teams: list[str], network: ClusterNetwork) -> list[dict[str, Any]]:
    servers = [
        Allowance(
            f"{APP_NAME}-{team}",
            {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team},
            ingress=[rule([pods(team)], tcp(PORT), "ingress")],
        )
        for team in teams
    ]
    # Event logs from S3 through the gateway endpoint; no Kubernetes API (the servers mount no token).
    egress = Allowance("servers-to-s3", {"app.kubernetes.io/name": APP_NAME}, egress=[dns(), pod_identity(), network.aws_public_endpoints()])
    return namespace_policies(NAMESPACE, [*servers, egress])
