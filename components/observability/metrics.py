"""Metric names the scraped components expose (from their upstream sources at the pinned versions).

Alert rules and dashboards may use only these; a test parses every expression and checks its metrics.
"""

from __future__ import annotations

# Spark executors endpoint on the driver (/metrics/executors/prometheus, spark.ui.prometheus.enabled),
# labels application_id, application_name, executor_id.
SPARK_EXECUTORS = {
    f"metrics_executor_{name}"
    for name in (
        "rddBlocks",
        "memoryUsed_bytes",
        "diskUsed_bytes",
        "totalCores",
        "maxTasks",
        "activeTasks",
        "failedTasks_total",
        "completedTasks_total",
        "totalTasks_total",
        "totalDuration_seconds_total",
        "totalGCTime_seconds_total",
        "totalInputBytes_bytes_total",
        "totalShuffleRead_bytes_total",
        "totalShuffleWrite_bytes_total",
        "maxMemory_bytes",
        "usedOnHeapStorageMemory_bytes",
        "usedOffHeapStorageMemory_bytes",
        "JVMHeapMemory_bytes",
        "JVMOffHeapMemory_bytes",
        "ProcessTreeJVMRSSMemory_bytes",
        "ProcessTreePythonRSSMemory_bytes",
        "MinorGCTime_seconds_total",
        "MajorGCTime_seconds_total",
    )
} | {"spark_info"}

# Spark driver metrics (/metrics/driver/prometheus/, PrometheusServlet with spark.metrics.namespace=spark);
# per application through the PodMonitor's spark_app_id label.
SPARK_DRIVER = {
    "metrics_spark_driver_DAGScheduler_job_activeJobs_Value",
    "metrics_spark_driver_DAGScheduler_job_allJobs_Value",
    "metrics_spark_driver_DAGScheduler_stage_failedStages_Value",
    "metrics_spark_driver_DAGScheduler_stage_runningStages_Value",
    "metrics_spark_driver_DAGScheduler_stage_waitingStages_Value",
    "metrics_spark_driver_BlockManager_memory_memUsed_MB_Value",
}

# Kubeflow Spark Operator 2.5 controller (no prefix; counters without _total).
SPARK_OPERATOR = {
    "spark_application_count",
    "spark_application_submit_count",
    "spark_application_failed_submission_count",
    "spark_application_success_count",
    "spark_application_failure_count",
    "spark_application_running_count",
    "spark_application_start_latency_seconds",
    "spark_application_start_latency_seconds_histogram_bucket",
    "spark_application_submit_latency_seconds_histogram_bucket",
    "spark_application_success_execution_time_seconds_sum",
    "spark_application_success_execution_time_seconds_count",
    "spark_executor_running_count",
    "spark_executor_success_count",
    "spark_executor_failure_count",
}

# Karpenter 1.14.
KARPENTER = {
    "karpenter_nodes_allocatable",
    "karpenter_nodes_total_pod_requests",
    "karpenter_cluster_state_node_count",
    "karpenter_nodepools_usage",
    "karpenter_nodepools_limit",
    "karpenter_nodepools_cost_total",
    "karpenter_pods_state",
    "karpenter_scheduler_unschedulable_pods_count",
    "karpenter_pods_provisioning_unbound_time_seconds",
    "karpenter_interruption_received_messages_total",
    "karpenter_voluntary_disruption_decisions_total",
    "karpenter_nodeclaims_disrupted_total",
    "karpenter_nodeclaims_created_total",
    "karpenter_cloudprovider_instance_launch_failures_total",
    "karpenter_cloudprovider_errors_total",
    "karpenter_cloudprovider_instance_type_offering_price_estimate",
}

# kube-state-metrics 2.20 and the kubelet's cAdvisor.
KUBERNETES = {
    "kube_pod_container_status_last_terminated_reason",
    "kube_pod_container_status_terminated_reason",
    "kube_pod_labels",
    "kube_pod_container_status_restarts_total",
    "kube_pod_status_phase",
    "kube_resourcequota",
    "kube_node_status_condition",
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_pod_container_resource_limits",
    "container_memory_working_set_bytes",
    "container_cpu_usage_seconds_total",
}

# OpenCost 1.120 (chart 2.5.17) cost model, scraped through its ServiceMonitor. Hourly prices per node
# (labels node, instance_type, arch) and what each container is allocated (labels namespace, pod, container, node).
OPENCOST = {
    "node_cpu_hourly_cost",
    "node_ram_hourly_cost",
    "node_total_hourly_cost",
    "kubecost_node_is_spot",
    "container_cpu_allocation",
    "container_memory_allocation_bytes",
    "pv_hourly_cost",
    "pod_pvc_allocation",
}

# Apache Celeborn 0.7.0 masters and workers (PrometheusServlet at /metrics/prometheus): `metrics_<name>_Value`
# for gauges, `_Count` for counters, `_Count`/`_Mean`/`_Max` for timers and histograms; labels role
# (Master, Worker), instance, and applicationId on ResourceConsumption. Names from docs/monitoring.md and
# the upstream Grafana dashboard (assets/grafana/celeborn-dashboard.json) at v0.7.0.
CELEBORN = {
    "metrics_AvailableWorkerCount_Value",
    "metrics_LostWorkerCount_Value",
    "metrics_ExcludedWorkerCount_Value",
    "metrics_RunningApplicationCount_Value",
    "metrics_ShuffleFallbackCount_Value",
    "metrics_DeviceCelebornFreeBytes_Value",
    "metrics_DeviceCelebornTotalBytes_Value",
    "metrics_ActiveShuffleSize_Value",
    "metrics_WriteDataSuccessCount_Count",
    "metrics_WriteDataFailCount_Count",
    "metrics_FetchChunkTransferSize_Count",
    "metrics_FetchChunkTransferSize_Mean",
    "metrics_PrimaryPushDataTime_Mean",
    "metrics_ReplicaPushDataTime_Mean",
    "metrics_ReplicateDataFailCount_Count",
    "metrics_PausePushDataStatus_Value",
    "metrics_PausePushDataAndReplicateStatus_Value",
    "metrics_NettyMemory_Value",
    "metrics_DiskBuffer_Value",
    "metrics_diskBytesWritten_Value",
}

KNOWN = SPARK_EXECUTORS | SPARK_DRIVER | SPARK_OPERATOR | KARPENTER | KUBERNETES | OPENCOST | CELEBORN
