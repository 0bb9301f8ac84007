"""OpenCost: installed with the price table's rates, scraped by Prometheus, and the Team cost dashboard."""

from __future__ import annotations

import json

import promql_parser

from components.observability.metrics import KUBERNETES, OPENCOST
from sparkeks.cost import prices
from sparkeks.cost.opencost import cost_model, rates
from sparkeks.instances import FAMILIES, SIZE_VCPUS
from sparkeks.plan.runner import load_stack
from tests.conftest import PROJECT_ROOT

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _release(view, name):
    found = [r for r in view.of_type(HELM_RELEASE) if r["inputs"]["name"] == name]
    return found[0]["inputs"] if found else None


def test_prod_runs_opencost_pinned_against_the_platforms_prometheus(prod):
    release = _release(prod, "opencost")
    assert (release["version"], release["repositoryOpts"]["repo"], release["namespace"]) == (
        "2.5.17",
        "https://opencost.github.io/opencost-helm-chart",
        "monitoring",
    )
    values = release["values"]["opencost"]
    # kube-prometheus-stack's Prometheus service is <release>-prometheus on 9090.
    assert values["prometheus"]["internal"] == {
        "enabled": True,
        "serviceName": "kube-prometheus-stack-prometheus",
        "namespaceName": "monitoring",
        "port": 9090,
    }
    assert values["metrics"]["serviceMonitor"] == {"enabled": True}
    assert values["metrics"]["kubeStateMetrics"] == {"emitKsmV1MetricsOnly": True}
    assert values["exporter"]["defaultClusterId"] == "spark-prod"
    assert values["nodeSelector"] == {"spark-on-eks.io/pool": "platform"}
    assert values["tolerations"] == [{"key": "spark-on-eks.io/pool", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}]


def test_custom_pricing_is_the_price_table_split_into_cpu_and_memory(prod):
    pricing = _release(prod, "opencost")["values"]["opencost"]["customPricing"]
    assert (pricing["enabled"], pricing["provider"]) == (True, "custom")
    config = load_stack("prod")
    cpu, ram = rates(config)
    # Least squares: residuals are orthogonal to both regressors over every Spark pool type.
    points = []
    for key in ("driver", "executor", "executorNvme"):
        for instance_type in config.karpenter.pools.pool(key).instance_types():
            family, size = instance_type.split(".")
            vcpus = SIZE_VCPUS[size]
            points.append((vcpus, vcpus * FAMILIES[family].memory_per_vcpu_gib, prices.ec2_on_demand("us-east-1", instance_type)))
    assert abs(sum(c * (p - cpu * c - ram * m) for c, m, p in points)) < 1e-9
    assert abs(sum(m * (p - cpu * c - ram * m) for c, m, p in points)) < 1e-9
    model = pricing["costModel"]
    assert model == cost_model(config)
    assert model["CPU"] == f"{cpu * 730:.6f}" and model["RAM"] == f"{ram * 730:.6f}"
    # Spot at the stack's default assumption (50% off), storage at the gp3 GB-month price.
    assert model["spotCPU"] == f"{cpu * 0.5 * 730:.6f}" and model["spotRAM"] == f"{ram * 0.5 * 730:.6f}"
    assert model["storage"] == "0.080000"
    assert (model["spotLabel"], model["spotLabelValue"]) == ("karpenter.sh/capacity-type", "spot")
    # The fitted rates price an m7i.2xlarge (8 vCPUs, 32 GiB) close to its table price.
    assert abs(cpu * 8 + ram * 32 - 0.4032) / 0.4032 < 0.15


def test_no_opencost_where_the_region_is_unpriced_or_when_turned_off(dev, plan_variant):
    assert _release(dev, "opencost") is None  # us-west-2: no prices to give it
    off = plan_variant("prod", cost={"opencost": False})
    assert _release(off, "opencost") is None


def _selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found = []
    promql_parser.walk(promql_parser.parse(expr), lambda n: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


def test_team_cost_dashboard_uses_opencost_metrics_and_the_platforms_labels():
    dashboard = json.loads((PROJECT_ROOT / "dashboards" / "team-cost.json").read_text())
    assert dashboard["title"] == "Team cost"
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= {s.name for s in _selectors(target["expr"].replace("$namespace", "x"))}
    assert used <= OPENCOST | {"kube_pod_labels"}
    assert {"node_cpu_hourly_cost", "node_ram_hourly_cost", "container_cpu_allocation", "container_memory_allocation_bytes"} <= used
    assert "kube_pod_labels" in KUBERNETES
    by_app = next(p for p in dashboard["panels"] if p["title"] == "Cost per hour by Spark application")
    assert "label_sparkoperator_k8s_io_app_name" in by_app["targets"][0]["expr"]
    # kube-state-metrics exports that pod label (the Spark operator sets it on driver and executor pods).
    values = (PROJECT_ROOT / "helm-values" / "kube-prometheus-stack.yaml").read_text()
    assert "pods=[spark-app-selector,spark-role,sparkoperator.k8s.io/app-name]" in values
