"""Who reaches the shared services, read from the prod plan's NetworkPolicies (ingress, Kubernetes
semantics): a team reaches only its own History Server, no team reaches Loki."""

from __future__ import annotations

import pytest

from sparkeks.netpol import Pod, may_connect

TEAMS = ("analytics", "ml-platform")
SOURCES = {
    "analytics driver": Pod("analytics", {"spark-role": "driver"}),
    "ml-platform executor": Pod("ml-platform", {"spark-role": "executor"}),
    "prometheus": Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}),
    "grafana": Pod("monitoring", {"app.kubernetes.io/name": "grafana"}),
    "fluent-bit": Pod("monitoring", {"app.kubernetes.io/name": "fluent-bit"}),
    "alertmanager": Pod("monitoring", {"app.kubernetes.io/name": "alertmanager"}),
    "spark operator": Pod("spark-operator", {"app.kubernetes.io/name": "spark-operator"}),
    "karpenter": Pod("karpenter", {"app.kubernetes.io/name": "karpenter"}),
    "another history server": Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server", "app.kubernetes.io/instance": "ml-platform"}),
    "default namespace": Pod("default", {}),
}


def _graph(view):
    policies = [r["inputs"] for r in view.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    namespaces = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"].get("labels", {}) for r in view.of_type("kubernetes:core/v1:Namespace")
    }
    return policies, namespaces


def _reachers(view, target, port):
    policies, namespaces = _graph(view)
    return {name for name, source in SOURCES.items() if may_connect(policies, namespaces, source, target, port)}


@pytest.mark.parametrize("team", TEAMS)
def test_a_history_server_is_reached_by_its_team_and_the_scraper_only(prod, team):
    server = Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server", "app.kubernetes.io/instance": team, "spark-on-eks.io/team": team})
    member = {"analytics": "analytics driver", "ml-platform": "ml-platform executor"}[team]
    assert _reachers(prod, server, 18080) == {member, "prometheus"}
    # Any other port of the server: nobody.
    assert _reachers(prod, server, 4040) == set()


def test_loki_is_reached_by_fluent_bit_grafana_and_prometheus_only(prod):
    for component in ("gateway", "single-binary"):
        loki = Pod("monitoring", {"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "loki", "app.kubernetes.io/component": component})
        assert _reachers(prod, loki, 8080) == {"fluent-bit", "grafana", "prometheus"}


def test_without_policies_every_pod_reaches_every_service(plan_variant):
    """The evaluator is not vacuous: with networkPolicies off the same questions say 'everyone'."""
    view = plan_variant("prod", spark={"networkPolicies": False})
    server = Pod("spark-history", {"app.kubernetes.io/name": "spark-history-server", "app.kubernetes.io/instance": "analytics"})
    assert _reachers(view, server, 18080) == set(SOURCES)
