"""Pure builders of the observability charts' Helm values (static base + computed)."""

from __future__ import annotations

from typing import Any

from components.helm import base_values, merge_values
from components.observability.tenancy import loki_data_sources, team_retag_filter, tenant_routes
from sparkeks.config.model import LokiConfig, PrometheusConfig
from sparkeks.placement import DO_NOT_DISRUPT, zone_spread

NAMESPACE = "monitoring"
GRAFANA_ADMIN_SECRET = "grafana-admin"
ALERTMANAGER_CONFIG_SECRET = "alertmanager-platform"
LOKI_SERVICE_ACCOUNT = "loki"
LOKI_GATEWAY = f"loki-gateway.{NAMESPACE}.svc.cluster.local"
# The gateway's Service port (helm-values/loki.yaml): the same number as its container port.
LOKI_GATEWAY_PORT = 8080
PROMETHEUS_UID = "prometheus"
LOKI_UID = "loki"
TEMPO_UID = "tempo"
LOKI_SCHEMA_FROM = "2026-01-01"


def datasources(tempo_url: str | None, teams: list[str]) -> list[dict[str, Any]]:
    """Loki per tenant (and Tempo when given) beside the chart's own Prometheus datasource."""
    sources = loki_data_sources(teams, f"http://{LOKI_GATEWAY}:{LOKI_GATEWAY_PORT}", platform_uid=LOKI_UID, json_data={"maxLines": 5000})
    if tempo_url:
        sources.append(
            {
                "name": "Tempo",
                "uid": TEMPO_UID,
                "type": "tempo",
                "access": "proxy",
                "url": tempo_url,
                "jsonData": {"tracesToLogsV2": {"datasourceUid": LOKI_UID}, "serviceMap": {"datasourceUid": PROMETHEUS_UID}},
            }
        )
    return sources


# Karpenter's metrics Service, as its chart labels it (release `karpenter` in namespace `karpenter`).
KARPENTER_METRICS = {"namespace": "karpenter", "labels": {"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}, "port": "http-metrics"}


def karpenter_service_monitor() -> dict[str, Any]:
    """Scrape Karpenter from this release: Karpenter installs before monitoring (platform services run on
    its NodePool), so its own chart cannot create a ServiceMonitor before the CRD exists."""
    return {
        "name": "karpenter",
        "namespaceSelector": {"matchNames": [KARPENTER_METRICS["namespace"]]},
        "selector": {"matchLabels": dict(KARPENTER_METRICS["labels"])},
        "endpoints": [{"port": KARPENTER_METRICS["port"], "path": "/metrics"}],
    }


def kube_prometheus_stack_values(
    prometheus: PrometheusConfig, *, rules: dict[str, Any], tempo_url: str | None, teams: list[str], delete_volumes: bool = False
) -> dict[str, Any]:
    """`delete_volumes`: the Prometheus volume goes with the release (non-production), so a destroyed
    stack leaves no orphaned EBS volume; production keeps it."""
    retention = {"whenDeleted": "Delete" if delete_volumes else "Retain", "whenScaled": "Retain"}
    return merge_values(
        base_values("kube-prometheus-stack"),
        {
            "additionalPrometheusRulesMap": rules,
            "prometheus": {
                "additionalServiceMonitors": [karpenter_service_monitor()],
                "prometheusSpec": {
                    "retention": prometheus.retention,
                    "persistentVolumeClaimRetentionPolicy": retention,
                    "resources": {"requests": {"cpu": "500m", "memory": prometheus.memory}, "limits": {"memory": prometheus.memory}},
                    "storageSpec": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "storageClassName": "gp3",
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": f"{prometheus.storage_gib}Gi"}},
                            }
                        }
                    },
                }
            },
            # Receivers (and their webhook secrets) live in a Secret the platform writes, not in values.
            "alertmanager": {"alertmanagerSpec": {"configSecret": ALERTMANAGER_CONFIG_SECRET}},
            "grafana": {
                "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
                "additionalDataSources": datasources(tempo_url, teams),
                # Least privilege: a Role in this namespace instead of the chart's ClusterRole (which reads
                # every Secret in the cluster), and sidecars that load dashboards and data sources from
                # this namespace's ConfigMaps only. Team dashboards arrive through this repository's
                # dashboards/ folder (a reviewed pull request), never a labelled ConfigMap of their own.
                "rbac": {"namespaced": True},
                "sidecar": {
                    "dashboards": {"searchNamespace": NAMESPACE, "resource": "configmap"},
                    "datasources": {"searchNamespace": NAMESPACE},
                },
            },
        },
    )


LOKI_SINGLE_BINARY = {"app.kubernetes.io/name": "loki", "app.kubernetes.io/instance": "loki", "app.kubernetes.io/component": "single-binary"}


def _loki_disruption(replicas: int) -> dict[str, Any]:
    """Replicas: one down at a time (PDB), spread over zones. A lone replica holds the only copy of recent
    logs, so Karpenter never consolidates its node away (do-not-disrupt)."""
    if replicas == 1:
        return {"podAnnotations": {DO_NOT_DISRUPT: "true"}}
    return {
        "podDisruptionBudget": {"maxUnavailable": 1},
        "topologySpreadConstraints": [zone_spread(LOKI_SINGLE_BINARY)],
    }


def loki_values(loki: LokiConfig, *, bucket: str | None, region: str, delete_volumes: bool = False) -> dict[str, Any]:
    object_store = "s3" if loki.storage == "s3" else "filesystem"
    storage: dict[str, Any] = {"type": object_store}
    if bucket is not None:
        storage["bucketNames"] = {"chunks": bucket, "ruler": bucket, "admin": bucket}
        storage["s3"] = {"region": region}
    return merge_values(
        base_values("loki"),
        {
            "loki": {
                "commonConfig": {"replication_factor": min(loki.replicas, 3)},
                "schemaConfig": {
                    "configs": [
                        {
                            "from": LOKI_SCHEMA_FROM,
                            "store": "tsdb",
                            "object_store": object_store,
                            "schema": "v13",
                            "index": {"prefix": "loki_index_", "period": "24h"},
                        }
                    ]
                },
                "storage": storage,
                "limits_config": {"retention_period": f"{loki.retention_days * 24}h"},
                "compactor": {"delete_request_store": object_store},
                # The platform admins' Grafana source names every tenant in one header.
                "querier": {"multi_tenant_queries_enabled": True},
            },
            "singleBinary": {
                "replicas": loki.replicas,
                **_loki_disruption(loki.replicas),
                "persistence": {
                    "size": f"{loki.volume_gib}Gi",
                    "enableStatefulSetAutoDeletePVC": delete_volumes,
                    "whenDeleted": "Delete" if delete_volumes else "Retain",
                },
            },
        },
    )


# Loki stream labels: who wrote the line. Spark's own pod labels make one application's driver and
# executor logs one query: {spark_app_id="spark-...", spark_role="executor"}.
LOKI_LABELS = {
    "job": "fluent-bit",
    "namespace": "$kubernetes['namespace_name']",
    "pod": "$kubernetes['pod_name']",
    "container": "$kubernetes['container_name']",
    "spark_app_id": "$kubernetes['labels']['spark-app-selector']",
    "spark_role": "$kubernetes['labels']['spark-role']",
}


def fluent_bit_outputs(teams: list[str]) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in LOKI_LABELS.items())
    lines = []
    for match, tenant in tenant_routes(teams):
        lines += [
            "[OUTPUT]",
            "    Name loki",
            f"    Match {match}",
            f"    Host {LOKI_GATEWAY}",
            f"    Port {LOKI_GATEWAY_PORT}",
            f"    tenant_id {tenant}",
            f"    Labels {labels}",
            "    Remove_Keys kubernetes",
            "    Line_Format json",
            "    Retry_Limit 10",
            "",
        ]
    return "\n".join(lines)


def fluent_bit_values(teams: list[str]) -> dict[str, Any]:
    base = base_values("fluent-bit")
    filters = "\n".join(part for part in (base["config"]["filters"].rstrip("\n"), team_retag_filter(teams)) if part) + "\n"
    return merge_values(base, {"config": {"filters": filters, "outputs": fluent_bit_outputs(teams)}})
