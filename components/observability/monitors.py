"""Pure builders of the PodMonitors that scrape Spark applications."""

from __future__ import annotations

from typing import Any

from sparkeks.spark.defaults import DRIVER_METRICS_PATH, EXECUTOR_METRICS_PATH

SPARK_UI_PORT_NAME = "spark-ui"
# Spark's pod labels, carried onto every series so one application's metrics are one selector.
_RELABEL = [
    {"sourceLabels": ["__meta_kubernetes_pod_label_spark_app_selector"], "targetLabel": "spark_app_id"},
    {"sourceLabels": ["__meta_kubernetes_pod_label_spark_app_name"], "targetLabel": "spark_app_name"},
    {"sourceLabels": ["__meta_kubernetes_pod_label_spark_role"], "targetLabel": "spark_role"},
]


def _pod_monitor(name: str, namespace: str, teams: list[str], path: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "spark-on-eks"}},
        "spec": {
            "namespaceSelector": {"matchNames": list(teams)},
            # Both endpoints live on the driver: its own metrics, and every executor's through the driver.
            "selector": {"matchLabels": {"spark-role": "driver"}},
            "podMetricsEndpoints": [{"port": SPARK_UI_PORT_NAME, "path": path, "interval": "30s", "relabelings": _RELABEL}],
        },
    }


def spark_pod_monitors(namespace: str, teams: list[str]) -> list[dict[str, Any]]:
    return [
        _pod_monitor("spark-drivers", namespace, teams, DRIVER_METRICS_PATH),
        _pod_monitor("spark-executors", namespace, teams, EXECUTOR_METRICS_PATH),
    ]
