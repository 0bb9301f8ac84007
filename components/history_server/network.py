"""NetworkPolicies of the History Server namespace: nothing reaches a server but its own team's namespace
and the monitoring namespace's Prometheus, on the UI port only. People reach a server with
`kubectl port-forward`, which enters the pod directly and is governed by RBAC, not by these policies."""

from __future__ import annotations

from typing import Any

from components.history_server.manifests import APP_NAME, NAMESPACE, PORT
from sparkeks.netpol import NAMESPACE_NAME_LABEL, network_policy


def network_policies(teams: list[str], *, monitoring_label: str) -> list[dict[str, Any]]:
    policies = [network_policy("default-deny-ingress", NAMESPACE, {}, ingress=[])]
    for team in teams:
        policies.append(
            network_policy(
                f"{APP_NAME}-{team}",
                NAMESPACE,
                {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team},
                ingress=[
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: team}}},
                            {
                                "namespaceSelector": {"matchLabels": {monitoring_label: "true"}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                            },
                        ],
                        "ports": [{"protocol": "TCP", "port": PORT}],
                    }
                ],
            )
        )
    return policies
