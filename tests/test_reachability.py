"""Who reaches what, read from a plan's NetworkPolicies (ingress and egress, Kubernetes semantics): a team
reaches only its own History Server, no team reaches Loki, every platform namespace denies by default in
both directions and each platform component reaches exactly what it needs."""

from __future__ import annotations

import json

import pytest

from sparkeks.netpol import DEFAULT_DENY, Address, Pod, may_connect

TEAMS = ("analytics", "ml-platform")
PLATFORM_NAMESPACES = {"karpenter", "spark-operator", "monitoring", "spark-history", "yunikorn"}
NAME = "app.kubernetes.io/name"

# prod: VPC 10.20.0.0/16, private subnets 10.20.0.0/18, 10.20.64.0/18, 10.20.128.0/18, Services 172.20.0.0/16.
# Pods get addresses in the private subnets (the VPC CNI), so rules that name the subnets are seen to cover them.
_ip = iter(f"10.20.{i // 200}.{i % 200 + 10}" for i in range(10_000))


def _pod(namespace: str, labels: dict[str, str]) -> Pod:
    return Pod(namespace, labels, next(_ip))


def history_server(team: str) -> Pod:
    return _pod("spark-history", {NAME: "spark-history-server", "app.kubernetes.io/instance": team, "spark-on-eks.io/team": team})


LOKI = {NAME: "loki", "app.kubernetes.io/instance": "loki"}
PODS = {
    "analytics driver": _pod("analytics", {"spark-role": "driver"}),
    "analytics executor": _pod("analytics", {"spark-role": "executor"}),
    "ml-platform driver": _pod("ml-platform", {"spark-role": "driver"}),
    "ml-platform executor": _pod("ml-platform", {"spark-role": "executor"}),
    "prometheus": _pod("monitoring", {NAME: "prometheus"}),
    "alertmanager": _pod("monitoring", {NAME: "alertmanager"}),
    "grafana": _pod("monitoring", {NAME: "grafana"}),
    "kube-state-metrics": _pod("monitoring", {NAME: "kube-state-metrics"}),
    "prometheus-operator": _pod("monitoring", {"app": "kube-prometheus-stack-operator"}),
    "webhook certificate job": _pod("monitoring", {"app": "kube-prometheus-stack-admission-patch"}),
    "fluent-bit": _pod("monitoring", {NAME: "fluent-bit"}),
    "opencost": _pod("monitoring", {NAME: "opencost"}),
    "loki gateway": _pod("monitoring", {**LOKI, "app.kubernetes.io/component": "gateway"}),
    "loki": _pod("monitoring", {**LOKI, "app.kubernetes.io/component": "single-binary"}),
    "spark operator": _pod("spark-operator", {NAME: "spark-operator", "app.kubernetes.io/instance": "spark-operator", "app.kubernetes.io/component": "controller"}),
    "spark operator webhook": _pod("spark-operator", {NAME: "spark-operator", "app.kubernetes.io/instance": "spark-operator", "app.kubernetes.io/component": "webhook"}),
    "karpenter": _pod("karpenter", {NAME: "karpenter", "app.kubernetes.io/instance": "karpenter"}),
    "yunikorn scheduler": _pod("yunikorn", {"app": "yunikorn", "component": "yunikorn-scheduler"}),
    "yunikorn admission": _pod("yunikorn", {"app": "yunikorn", "component": "yunikorn-admission-controller"}),
    "analytics history server": history_server("analytics"),
    "ml-platform history server": history_server("ml-platform"),
    "coredns": _pod("kube-system", {"k8s-app": "kube-dns"}),
    "default namespace": _pod("default", {}),
}
# What is not a pod: the control plane's ENIs (private subnets), the `kubernetes` Service address, an
# interface endpoint, a node, the Pod Identity Agent and instance metadata (link-local), a peered network,
# and a public address standing for S3 behind the gateway endpoint and for any other public service.
ADDRESSES = {
    "control plane ENI": Address("10.20.70.5"),
    "kubernetes Service": Address("172.20.0.1"),
    "interface endpoint": Address("10.20.130.9"),
    "node": Address("10.20.3.40"),
    "pod identity agent": Address("169.254.170.23"),
    "instance metadata": Address("169.254.169.254"),
    "peered network": Address("10.99.0.1"),
    "public address": Address("198.51.100.7"),
}
# Pods in namespaces without egress policies.
OPEN_EGRESS = {"analytics driver", "analytics executor", "ml-platform driver", "ml-platform executor", "coredns", "default namespace"}
SOURCES = {**PODS, "control plane ENI": ADDRESSES["control plane ENI"], "node": ADDRESSES["node"]}


def _graph(view):
    policies = [r["inputs"] for r in view.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    namespaces = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"].get("labels", {}) for r in view.of_type("kubernetes:core/v1:Namespace")
    }
    return policies, namespaces


def _reachers(view, target, port, protocol="TCP"):
    policies, namespaces = _graph(view)
    return {name for name, source in SOURCES.items() if source is not target and may_connect(policies, namespaces, source, target, port, protocol)}


# --- the shared services: who reaches them ------------------------------------------------------------


@pytest.mark.parametrize("team", TEAMS)
def test_a_history_server_is_reached_by_its_own_team_only(prod, team):
    server = PODS[f"{team} history server"]
    assert _reachers(prod, server, 18080) == {f"{team} driver", f"{team} executor"}
    # Any other port of the server: nobody.
    assert _reachers(prod, server, 4040) == set()


@pytest.mark.parametrize("component,port", [("loki gateway", 8080), ("loki", 3100)])
def test_loki_is_reached_by_fluent_bit_grafana_prometheus_and_itself_only(prod, component, port):
    expected = {"fluent-bit", "grafana", "prometheus"} if component == "loki gateway" else {"prometheus", "loki gateway"}
    assert _reachers(prod, PODS[component], port) == expected
    assert not any(name.startswith(TEAMS) for name in _reachers(prod, PODS[component], port))


@pytest.mark.parametrize(
    "target,port,expected",
    [
        ("prometheus", 9090, {"grafana", "opencost"}),
        ("alertmanager", 9093, {"prometheus", "grafana"}),
        ("grafana", 3000, {"prometheus"}),
        ("karpenter", 8080, {"prometheus"}),
        ("spark operator", 8080, {"prometheus"}),
        # Admission webhooks admit the private subnets, where the control plane's ENIs are. Nodes and pods
        # have addresses there too: pods whose own egress is open (teams, kube-system, default) reach the
        # webhook port. The residual of naming ENIs by subnet; the webhooks answer only AdmissionReviews.
        ("spark operator webhook", 9443, {"control plane ENI", "node"} | OPEN_EGRESS),
        ("prometheus-operator", 10250, {"control plane ENI", "node", "prometheus"} | OPEN_EGRESS),
        ("kube-state-metrics", 8080, {"prometheus"}),
        ("fluent-bit", 2020, {"prometheus"}),
        ("opencost", 9003, {"prometheus"}),
        ("yunikorn scheduler", 9080, {"prometheus", "yunikorn admission"}),
        ("yunikorn admission", 9089, {"control plane ENI", "node"} | OPEN_EGRESS),
        # The History Servers' login proxies: their metrics port.
        ("analytics history server", 44180, {"prometheus"}),
    ],
)
def test_each_platform_service_is_reached_by_exactly_its_clients(prod, target, port, expected):
    assert _reachers(prod, PODS[target], port) == expected


# --- default-deny in every platform namespace ---------------------------------------------------------


def _platform_namespaces(view) -> set[str]:
    _, namespaces = _graph(view)
    return set(namespaces) - set(TEAMS)


def test_every_platform_namespace_denies_both_directions_by_default(prod):
    policies, _ = _graph(prod)
    assert _platform_namespaces(prod) == PLATFORM_NAMESPACES
    for namespace in PLATFORM_NAMESPACES:
        [deny] = [p for p in policies if p["metadata"]["namespace"] == namespace and p["metadata"]["name"] == DEFAULT_DENY]
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("namespace", sorted(PLATFORM_NAMESPACES))
def test_a_pod_no_allowance_names_is_cut_off(prod, namespace):
    """A pod a chart adds later (or one started by hand) receives nothing, and sends nothing but what its
    namespace allows every pod: in spark-operator and yunikorn, the Kubernetes API (their charts' Jobs need it)."""
    policies, namespaces = _graph(prod)
    stranger = _pod(namespace, {"run": "debug"})
    reached = {name for name, (target, port, protocol) in DESTINATIONS.items() if may_connect(policies, namespaces, stranger, target, port, protocol)}
    assert reached == (API if namespace in ("spark-operator", "yunikorn") else set())
    for port in (53, 80, 443, 3000, 3100, 4040, 8080, 9090, 9443, 10250, 18080):
        assert _reachers(prod, stranger, port) == set(), port


# --- what each platform component reaches -------------------------------------------------------------

DESTINATIONS = {
    "dns": (PODS["coredns"], 53, "UDP"),
    "api": (ADDRESSES["kubernetes Service"], 443, "TCP"),
    "api ENI": (ADDRESSES["control plane ENI"], 443, "TCP"),
    "interface endpoint": (ADDRESSES["interface endpoint"], 443, "TCP"),
    "public https": (ADDRESSES["public address"], 443, "TCP"),
    "public http": (ADDRESSES["public address"], 80, "TCP"),
    "pod identity": (ADDRESSES["pod identity agent"], 80, "TCP"),
    "instance metadata": (ADDRESSES["instance metadata"], 80, "TCP"),
    "peered network": (ADDRESSES["peered network"], 443, "TCP"),
    "kubelet": (ADDRESSES["node"], 10250, "TCP"),
    "loki": (PODS["loki gateway"], 8080, "TCP"),
    "prometheus": (PODS["prometheus"], 9090, "TCP"),
    "alertmanager": (PODS["alertmanager"], 9093, "TCP"),
    "analytics history server": (PODS["analytics history server"], 18080, "TCP"),
    "analytics driver metrics": (PODS["analytics driver"], 4040, "TCP"),
    "karpenter metrics": (PODS["karpenter"], 8080, "TCP"),
}
# The API allowance names the private subnets on 443 (the control plane's ENIs move): the interface
# endpoints there are inside it too.
API = {"dns", "api", "api ENI", "interface endpoint"}
AWS = {"interface endpoint", "public https"}


@pytest.mark.parametrize(
    "source,expected",
    [
        ("karpenter", API | AWS | {"pod identity"}),
        ("spark operator", API),
        ("spark operator webhook", API),
        # S3 (gateway endpoint) with Pod Identity credentials; no Kubernetes API, nothing in the VPC.
        ("analytics history server", {"dns", "pod identity", "public https"}),
        ("loki", API | {"pod identity", "public https"}),
        ("loki gateway", API | {"pod identity", "public https"}),
        ("fluent-bit", API | {"loki"}),
        ("grafana", API | {"prometheus", "loki", "alertmanager"}),
        ("alertmanager", {"dns", "public https"}),
        # Scrapes (itself and Loki included) and the alerts it sends.
        ("prometheus", API | {"kubelet", "alertmanager", "prometheus", "loki", "analytics driver metrics", "karpenter metrics"}),
        ("opencost", API | {"prometheus"}),
        ("kube-state-metrics", API),
        ("yunikorn scheduler", API),
        ("yunikorn admission", API),
        ("prometheus-operator", API),
    ],
)
def test_each_platform_component_reaches_exactly_what_it_needs(prod, source, expected):
    policies, namespaces = _graph(prod)
    reached = {name for name, (target, port, protocol) in DESTINATIONS.items() if may_connect(policies, namespaces, PODS[source], target, port, protocol)}
    assert reached == expected


def test_the_public_https_allowance_never_opens_a_private_range(prod):
    policies, _ = _graph(prod)
    [servers] = [p for p in policies if p["metadata"]["name"] == "servers-to-s3"]
    [public] = [r for r in servers["spec"]["egress"] if r["to"][0].get("ipBlock", {}).get("cidr") == "0.0.0.0/0"]
    assert public == {
        "to": [
            {
                "ipBlock": {
                    "cidr": "0.0.0.0/0",
                    # The VPC (10.20.0.0/16) and the Services (172.20.0.0/16) lie inside these ranges.
                    "except": ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
                }
            }
        ],
        "ports": [{"protocol": "TCP", "port": 443}],
    }


def test_api_server_allowance_names_the_service_address_and_the_private_subnets(prod):
    policies, _ = _graph(prod)
    [operator] = [p for p in policies if p["metadata"]["name"] == "operator-to-api"]
    assert operator["spec"]["egress"][1] == {
        "to": [
            {"ipBlock": {"cidr": "172.20.0.1/32"}},
            {"ipBlock": {"cidr": "10.20.0.0/18"}},
            {"ipBlock": {"cidr": "10.20.64.0/18"}},
            {"ipBlock": {"cidr": "10.20.128.0/18"}},
        ],
        "ports": [{"protocol": "TCP", "port": 443}],
    }


# --- enforcement and the switch -----------------------------------------------------------------------


def test_policies_come_with_the_cni_engine_that_enforces_them(prod):
    """Without the VPC CNI's policy engine every policy above is decoration."""
    assert prod.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    cni = prod.one("aws:eks/addon:Addon", "cluster-vpc-cni")["inputs"]
    assert json.loads(cni["configurationValues"])["enableNetworkPolicy"] == "true"


def test_without_policies_every_pod_reaches_every_service(plan_variant):
    """The evaluator is not vacuous: with networkPolicies off the same questions say 'everyone'."""
    view = plan_variant("prod", spark={"networkPolicies": False})
    assert view.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") == []
    assert _reachers(view, PODS["analytics history server"], 18080) == set(SOURCES) - {"analytics history server"}
    assert _reachers(view, PODS["loki gateway"], 8080) == set(SOURCES) - {"loki gateway"}


def test_yunikorn_namespace_denies_by_default_and_admits_its_webhook(plan_variant):
    view = plan_variant("dev", spark={"networkPolicies": True, "batchScheduler": "yunikorn"})
    policies, namespaces = _graph(view)
    assert _platform_namespaces(view) - {"analytics"} == PLATFORM_NAMESPACES | {"yunikorn"}
    [deny] = [p for p in policies if p["metadata"]["namespace"] == "yunikorn" and p["metadata"]["name"] == DEFAULT_DENY]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    # dev: VPC 10.10.0.0/16; its private subnets hold the control plane's ENIs.
    eni, pod_ip = Address("10.10.10.5"), "10.10.20.7"
    admission = Pod("yunikorn", {"app": "yunikorn", "component": "yunikorn-admission-controller"}, pod_ip)
    scheduler = Pod("yunikorn", {"app": "yunikorn", "component": "yunikorn-scheduler"}, "10.10.20.8")
    driver = Pod("analytics", {"spark-role": "driver"}, "10.10.20.9")
    assert may_connect(policies, namespaces, eni, admission, 9089)
    assert not may_connect(policies, namespaces, driver, admission, 9090)
    assert may_connect(policies, namespaces, admission, scheduler, 9080)
    assert not may_connect(policies, namespaces, driver, scheduler, 9080)
    cni = view.one("aws:eks/addon:Addon", "cluster-vpc-cni")["inputs"]
    assert json.loads(cni["configurationValues"])["enableNetworkPolicy"] == "true"


def test_celeborn_namespace_denies_both_ways_and_its_pods_reach_only_each_other(plan_variant):
    view = plan_variant("prod", spark={"shuffle": {"service": "celeborn"}})
    policies, namespaces = _graph(view)
    assert _platform_namespaces(view) == PLATFORM_NAMESPACES | {"celeborn"}
    [deny] = [p for p in policies if p["metadata"]["namespace"] == "celeborn" and p["metadata"]["name"] == DEFAULT_DENY]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    base = {"app.kubernetes.io/name": "celeborn", "app.kubernetes.io/instance": "celeborn"}
    worker = _pod("celeborn", {**base, "app.kubernetes.io/role": "worker"})
    master = _pod("celeborn", {**base, "app.kubernetes.io/role": "master"})
    assert may_connect(policies, namespaces, worker, master, 9097)
    assert may_connect(policies, namespaces, worker, PODS["coredns"], 53, "UDP")
    reached = {name for name, (target, port, protocol) in DESTINATIONS.items() if may_connect(policies, namespaces, worker, target, port, protocol)}
    assert reached == {"dns"}
    stranger = _pod("celeborn", {"run": "debug"})
    assert not any(may_connect(policies, namespaces, stranger, t, p, proto) for t, p, proto in DESTINATIONS.values())
