"""Pure builder of the platform's Prometheus alert rules (rendered by kube-prometheus-stack as a
PrometheusRule through additionalPrometheusRulesMap)."""

from __future__ import annotations

from typing import Any

EXECUTOR_CONTAINER = "spark-kubernetes-executor"
HISTORY_NAMESPACE = "spark-history"


def _alert(name: str, expr: str, duration: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "platform": "spark-on-eks"},
        "annotations": {"summary": summary, "description": description},
    }


def platform_rules(team_namespaces: list[str]) -> dict[str, Any]:
    teams = "|".join(team_namespaces) or "none"
    in_teams = f'namespace=~"{teams}"'
    spark = [
        _alert(
            "SparkExecutorOOMKilled",
            f'max by (namespace, pod) (kube_pod_container_status_terminated_reason{{reason="OOMKilled", container="{EXECUTOR_CONTAINER}", {in_teams}}}'
            f' or kube_pod_container_status_last_terminated_reason{{reason="OOMKilled", container="{EXECUTOR_CONTAINER}", {in_teams}}}) > 0',
            "0m",
            "warning",
            "Spark executor {{ $labels.pod }} in {{ $labels.namespace }} was OOM-killed",
            "The executor passed its memory limit. Raise executor memory or the overhead factor; Kubernetes kills at the limit.",
        ),
        _alert(
            "SparkPodsPendingTooLong",
            f'sum by (namespace) (kube_pod_status_phase{{phase="Pending", {in_teams}}}) > 0',
            "15m",
            "warning",
            "Spark pods in {{ $labels.namespace }} have been Pending for 15 minutes",
            "No capacity: the team quota is used up, a node pool hit its limits, or EC2 has no capacity for the pool's types.",
        ),
        _alert(
            "SparkApplicationFailureRateHigh",
            "sum(increase(spark_application_failure_count[1h])) / clamp_min(sum(increase(spark_application_failure_count[1h]))"
            " + sum(increase(spark_application_success_count[1h])), 1) > 0.2",
            "5m",
            "warning",
            "More than 20% of Spark applications failed in the last hour",
            "See the Spark Operator dashboard and the failed applications' driver logs in Loki.",
        ),
        _alert(
            "SparkTeamQuotaNearlyExhausted",
            f'max by (namespace, resource) (kube_resourcequota{{type="used", {in_teams}}} / ignoring(type)'
            f' kube_resourcequota{{type="hard", {in_teams}}}) > 0.9',
            "15m",
            "info",
            "Team {{ $labels.namespace }} uses over 90% of its {{ $labels.resource }} quota",
            "New executors will wait. Raise the team's quota in the stack config or spread the jobs over time.",
        ),
        _alert(
            "SparkHistoryServerDown",
            # Only servers someone started: on-demand servers rest at zero replicas.
            f'max by (deployment) (kube_deployment_status_replicas_available{{namespace="{HISTORY_NAMESPACE}"}}) == 0'
            f' and max by (deployment) (kube_deployment_spec_replicas{{namespace="{HISTORY_NAMESPACE}"}}) > 0',
            "5m",
            "critical",
            "History Server {{ $labels.deployment }} has no available replica",
            "kubectl -n spark-history describe deployment {{ $labels.deployment }}; check its fetch-jars init container and S3 access.",
        ),
    ]
    capacity = [
        _alert(
            "KarpenterSpotInterruptionsHigh",
            'sum(increase(karpenter_interruption_received_messages_total{message_type="spot_interrupted"}[15m])) > 10',
            "0m",
            "warning",
            "More than 10 spot interruptions in 15 minutes",
            "Executors are being reclaimed; decommissioning moves their shuffle data. Consider more instance types or on-demand.",
        ),
        _alert(
            "KarpenterLaunchFailures",
            "sum by (capacity_type, reason) (increase(karpenter_cloudprovider_instance_launch_failures_total[15m])) > 0",
            "10m",
            "warning",
            "Karpenter cannot launch {{ $labels.capacity_type }} nodes: {{ $labels.reason }}",
            "EC2 refused launches for 10 minutes (capacity, limits or permissions).",
        ),
        _alert(
            "KarpenterNodePoolAtLimit",
            'max by (nodepool) (karpenter_nodepools_usage{resource_type="cpu"} / karpenter_nodepools_limit{resource_type="cpu"}) > 0.9',
            "15m",
            "info",
            "Node pool {{ $labels.nodepool }} uses over 90% of its CPU limit",
            "Raise the pool's limits in the stack config if the demand is real.",
        ),
        _alert(
            "NodeNotReady",
            'kube_node_status_condition{condition="Ready", status="true"} == 0',
            "10m",
            "warning",
            "Node {{ $labels.node }} has not been Ready for 10 minutes",
            "Karpenter replaces unhealthy nodes it owns; system nodes are repaired by the managed node group.",
        ),
    ]
    return {"spark-on-eks": {"groups": [{"name": "spark", "rules": spark}, {"name": "capacity", "rules": capacity}]}}
