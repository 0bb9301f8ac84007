"""Pure builders of everything a Spark team gets in Kubernetes (plain manifests)."""

from __future__ import annotations

from typing import Any

from sparkeks.config.model import TeamConfig
from sparkeks.placement import POOL_LABEL, POOL_NAMES
from sparkeks.spark.scheduling import ALLOW_PREEMPTION_ANNOTATION, PARENT_QUEUE_ANNOTATION
from sparkeks.teams.queues import TeamQueue, team_limits

TEAM_LABEL = "spark-on-eks.io/team"
ALLOWED_POOLS_ANNOTATION = "spark-on-eks.io/allowed-pools"
MONITORING_LABEL = "spark-on-eks.io/monitoring"
SPARK_SERVICE_ACCOUNT = "spark"
DRIVER_PRIORITY = "spark-driver"
EXECUTOR_PRIORITY = "spark-executor"
POOL_POLICY = "spark-on-eks-pool-access"


def allowed_pools(team: TeamConfig) -> list[str]:
    return [POOL_NAMES[p] for p in team.pools]


def namespace(team: TeamConfig, queue: TeamQueue | None = None) -> dict[str, Any]:
    """`queue` when YuniKorn places the team's applications: a team in an organisation names its parent queue."""
    annotations = {ALLOWED_POOLS_ANNOTATION: ",".join(allowed_pools(team))}
    if queue is not None and queue.org is not None:
        annotations[PARENT_QUEUE_ANNOTATION] = f"root.{queue.org}"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": team.name,
            "labels": {
                TEAM_LABEL: team.name,
                # Spark's images run as a non-root user; baseline forbids privileged pods and host access.
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
            },
            "annotations": annotations,
        },
    }


def service_account(team: TeamConfig) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": SPARK_SERVICE_ACCOUNT, "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
    }


def driver_role(team: TeamConfig) -> dict[str, Any]:
    """What a Spark driver does in its namespace: run executor pods, their services, config maps and
    (for shuffle PVC reuse) volume claims. Nothing cluster-wide, no secrets."""
    verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "spark-driver", "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "persistentvolumeclaims", "pods", "services"], "verbs": verbs}],
    }


def driver_role_binding(team: TeamConfig) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "spark-driver", "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "spark-driver"},
        "subjects": [{"kind": "ServiceAccount", "name": SPARK_SERVICE_ACCOUNT, "namespace": team.name}],
    }


def resource_quota(team: TeamConfig, queue: TeamQueue) -> dict[str, Any]:
    """A safety ceiling at the team's max, never its guaranteed share: below max the queue decides."""
    ceiling = queue.max
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "spark-team", "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
        "spec": {
            "hard": {
                "requests.cpu": str(ceiling.cpu),
                "requests.memory": ceiling.memory,
                "limits.memory": ceiling.memory,
                "pods": str(team.pods),
            }
        },
    }


def limit_range(team: TeamConfig, queue: TeamQueue) -> dict[str, Any]:
    limits = team_limits(team, queue)
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "spark-team", "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {"cpu": limits.default_cpu, "memory": limits.default_memory},
                    # Memory limit = request: Kubernetes kills at the limit, so nothing is promised that is not reserved.
                    "default": {"memory": limits.default_memory},
                    "max": {"cpu": str(limits.max_cpu), "memory": limits.max_memory},
                }
            ]
        },
    }


def network_policies(team: TeamConfig) -> list[dict[str, Any]]:
    """Deny ingress from other namespaces; drivers and executors talk freely inside the team, and the
    monitoring namespace may scrape. Egress stays open (S3, DNS, package repositories)."""
    meta = {"namespace": team.name, "labels": {TEAM_LABEL: team.name}}
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", **meta},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-within-team", **meta},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-monitoring", **meta},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {MONITORING_LABEL: "true"}}}]}],
            },
        },
    ]


def platform_config_map(team: TeamConfig, values: dict[str, Any]) -> dict[str, Any]:
    """Where this team's Spark applications write, for people and tools inside the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "spark-platform", "namespace": team.name, "labels": {TEAM_LABEL: team.name}},
        "data": values,
    }


def priority_classes(batch_scheduler: str) -> list[dict[str, Any]]:
    """Drivers outrank executors: losing a driver loses the application, losing an executor loses tasks.

    With YuniKorn, drivers opt out of preemption (its admission controller copies the class's annotation
    onto every driver pod), and executors may preempt: that is how a team below its guaranteed share gets
    it back from borrowers. YuniKorn lets a request preempt only pods of lower or equal priority, so an
    executor's request never takes a driver. Without YuniKorn executors only wait for capacity."""
    elastic = batch_scheduler == "yunikorn"
    driver: dict[str, Any] = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": DRIVER_PRIORITY},
        "value": 100000,
        "globalDefault": False,
        "preemptionPolicy": "PreemptLowerPriority",
        "description": "Spark drivers: scheduled before executors, never preempted for another team's guarantee.",
    }
    if elastic:
        driver["metadata"]["annotations"] = {ALLOW_PREEMPTION_ANNOTATION: "false"}
    return [
        driver,
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": EXECUTOR_PRIORITY},
            "value": 10000,
            "globalDefault": False,
            "preemptionPolicy": "PreemptLowerPriority" if elastic else "Never",
            "description": (
                "Spark executors: may take back their team's guaranteed share from borrowers (YuniKorn)."
                if elastic
                else "Spark executors: wait for capacity instead of preempting other pods."
            ),
        },
    ]


_ALLOWED = (
    f"'{ALLOWED_POOLS_ANNOTATION}' in namespaceObject.metadata.annotations"
    f" ? namespaceObject.metadata.annotations['{ALLOWED_POOLS_ANNOTATION}'].split(',') : []"
)
POOL_SELECTOR_RULE = (
    f"!has(object.spec.nodeSelector) || !('{POOL_LABEL}' in object.spec.nodeSelector)"
    f" || object.spec.nodeSelector['{POOL_LABEL}'] in variables.allowedPools"
)
TOLERATION_RULE = (
    "!has(object.spec.tolerations) || object.spec.tolerations.all(t,"
    " (has(t.key) && t.key != '')"
    f" ? (t.key != 'CriticalAddonsOnly' && (t.key != '{POOL_LABEL}' || (has(t.value) && t.value in variables.allowedPools)))"
    " : !(has(t.operator) && t.operator == 'Exists'))"
)


def pool_access_policy() -> list[dict[str, Any]]:
    """Admission rule: a team's pods may select and tolerate only the pools its namespace allows, and
    never the system nodes. Evaluated by the API server (CEL), no webhook to run."""
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": POOL_POLICY},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "namespaceSelector": {"matchExpressions": [{"key": TEAM_LABEL, "operator": "Exists"}]},
                    "resourceRules": [
                        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}
                    ],
                },
                "variables": [{"name": "allowedPools", "expression": _ALLOWED}],
                "validations": [
                    {"expression": POOL_SELECTOR_RULE, "message": "this team may not select that Spark pool", "reason": "Forbidden"},
                    {
                        "expression": TOLERATION_RULE,
                        "message": "pods may tolerate only their team's Spark pools (not the system nodes, not every taint)",
                        "reason": "Forbidden",
                    },
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": POOL_POLICY},
            "spec": {"policyName": POOL_POLICY, "validationActions": ["Deny"]},
        },
    ]
