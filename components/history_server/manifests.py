"""Pure builders of the History Server's Kubernetes objects: one server per team, each reading its
team's event-log prefix (Spark before 4.2 reads a single directory), started on demand by the team and
capped for all teams together by the namespace's ResourceQuota."""

from __future__ import annotations

from typing import Any

from sparkeks.config.teams import team_group
from sparkeks.placement import on_platform_nodes, zone_spread
from sparkeks.quantities import cpu_millis
from sparkeks.spark.layout import event_log_prefix, s3a
from sparkeks.spark.sizing import kubernetes_memory, parse_memory_mib
from sparkeks.versions import SparkRuntime

NAMESPACE = "spark-history"
PORT = 18080
APP_NAME = "spark-history-server"
STORE_PATH = "/var/spark-history/store"
SPARK_UID = 185
# The cleaner only prunes the server's listing: the bucket's lifecycle rule deletes the files first.
CLEANER_GRACE_DAYS = 2


def server_properties(
    *,
    bucket: str,
    team: str,
    region: str,
    runtime: SparkRuntime,
    update_interval: str,
    retained_applications: int,
    event_log_retention_days: int,
    store_size_gib: int,
    dataflint_telemetry: bool,
    ui_port: int = PORT,
) -> dict[str, str]:
    return {
        "spark.history.fs.logDirectory": s3a(bucket, event_log_prefix(team)),
        "spark.history.fs.update.interval": update_interval,
        "spark.history.fs.cleaner.enabled": "true",
        "spark.history.fs.cleaner.maxAge": f"{event_log_retention_days + CLEANER_GRACE_DAYS}d",
        "spark.history.retainedApplications": str(retained_applications),
        "spark.history.ui.port": str(ui_port),
        # Hybrid store: listings and UIs on local disk (RocksDB), so restarts do not replay every log.
        "spark.history.store.path": STORE_PATH,
        "spark.history.store.hybridStore.enabled": "true",
        "spark.history.store.maxDiskUsage": f"{max(store_size_gib - 1, 1)}g",
        "spark.hadoop.fs.s3a.aws.credentials.provider": runtime.credentials_provider,
        "spark.hadoop.fs.s3a.endpoint.region": region,
        "spark.dataflint.telemetry.enabled": str(dataflint_telemetry).lower(),
    }


SPARK_LOOPBACK_PORT = 18081
"""Spark's UI port behind the login proxy (login.py), on 127.0.0.1 only."""
# The login proxy beside each server (login.py): memory request = limit, like every platform container.
LOGIN_CPU_MILLIS, LOGIN_MEMORY_MIB = 20, 128


def loopback_probe(path: str, *, port: int = SPARK_LOOPBACK_PORT, **timing: int) -> dict[str, Any]:
    """A probe of Spark behind the login proxy: the kubelet cannot reach the loopback address, so the
    container asks itself over HTTP with bash's /dev/tcp (the platform image has bash, not curl) and
    passes on a 200. `port` is Spark's; only tests, which cannot own a fixed port, pass another."""
    script = (
        f"exec 3<>/dev/tcp/127.0.0.1/{port} && "
        f"printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && "
        "read -r -t 5 status <&3 && [[ $status == *' 200 '* ]]"
    )
    return {"exec": {"command": ["/bin/bash", "-c", script]}, **timing}


def server_memory_mib(heap: str) -> int:
    """Memory request and limit of one server: the heap plus 1g for metaspace, threads and the store."""
    return parse_memory_mib(heap) + 1024


def server_name(team: str) -> str:
    return f"{APP_NAME}-{team}"


def labels(team: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team, "spark-on-eks.io/team": team}


def namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}


def service_account(team: str) -> dict[str, Any]:
    """A team's server has its own ServiceAccount, so its own IAM role (its team's prefix only). The servers
    never call the Kubernetes API: no API token in their pods; Pod Identity's webhook projects its own
    audience-bound token for S3 regardless."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": server_name(team), "namespace": NAMESPACE, "labels": labels(team)},
        "automountServiceAccountToken": False,
    }


def deployment(
    *,
    team: str,
    image: str,
    properties: dict[str, str],
    replicas: int,
    heap: str,
    cpu: str,
    store_size_gib: int,
    login: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """With `login` (an oauth2-proxy container, login.py) the proxy takes the pod's port and Spark listens on
    the loopback address behind it, probed from inside its container."""
    memory = kubernetes_memory(server_memory_mib(heap))
    opts = " ".join(f"-D{k}={v}" for k, v in sorted(properties.items()))
    restricted = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    api_probe = {"httpGet": {"path": "/api/v1/version", "port": "http"}}
    env = [
        {"name": "SPARK_DAEMON_MEMORY", "value": heap},
        {"name": "SPARK_HISTORY_OPTS", "value": opts},
        {"name": "HOME", "value": "/tmp"},
    ]
    probes: dict[str, Any] = {
        "startupProbe": {**api_probe, "periodSeconds": 10, "failureThreshold": 30},
        "readinessProbe": {
            "httpGet": {"path": "/api/v1/applications?limit=1", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "livenessProbe": {**api_probe, "periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 6},
    }
    ports = [{"name": "http", "containerPort": PORT, "protocol": "TCP"}]
    if login is not None:
        env.append({"name": "SPARK_LOCAL_IP", "value": "127.0.0.1"})
        ports = []
        probes = {
            "startupProbe": loopback_probe("/api/v1/version", periodSeconds=10, failureThreshold=30),
            "readinessProbe": loopback_probe("/api/v1/applications?limit=1", periodSeconds=10, timeoutSeconds=10, failureThreshold=3),
            "livenessProbe": loopback_probe("/api/v1/version", periodSeconds=20, timeoutSeconds=10, failureThreshold=6),
        }
    history = {
        "name": "history-server",
        "image": image,
        "command": ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.history.HistoryServer"],
        "env": env,
        **({"ports": ports} if ports else {}),
        **probes,
        # Memory request = limit: the JVM's heap and overhead are reserved, never overcommitted.
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "securityContext": restricted,
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "store", "mountPath": STORE_PATH},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": server_name(team), "namespace": NAMESPACE, "labels": labels(team)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            # A new server is ready before an old one stops: plugin or Spark upgrades without downtime.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "selector": {"matchLabels": {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team}},
            "template": {
                "metadata": {"labels": labels(team)},
                "spec": {
                    "serviceAccountName": server_name(team),
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": SPARK_UID,
                        "runAsGroup": SPARK_UID,
                        "fsGroup": SPARK_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # The on-demand platform pool, never spot; Karpenter adds a node when a team starts its server.
                    **on_platform_nodes(),
                    "topologySpreadConstraints": [zone_spread({"app.kubernetes.io/instance": team, "app.kubernetes.io/name": APP_NAME})],
                    "containers": [history, *([login] if login else [])],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
                        {
                            "name": "store",
                            "ephemeral": {
                                "volumeClaimTemplate": {
                                    "spec": {
                                        "accessModes": ["ReadWriteOnce"],
                                        "storageClassName": "gp3",
                                        "resources": {"requests": {"storage": f"{store_size_gib}Gi"}},
                                    }
                                }
                            },
                        },
                    ],
                },
            },
        },
    }


def service(team: str, *, internal_load_balancer: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": f"{APP_NAME}-{team}", "namespace": NAMESPACE, "labels": labels(team)}
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team},
        "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
    }
    if internal_load_balancer:
        # An internal NLB from EKS's own cloud controller: reachable from the VPC and its peers only.
        metadata["annotations"] = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        }
        spec["type"] = "LoadBalancer"
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def disruption_budget(team: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{APP_NAME}-{team}", "namespace": NAMESPACE, "labels": labels(team)},
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": team}},
        },
    }


def resource_quota(*, max_running: int, heap: str, cpu: str, login: bool = False) -> dict[str, Any]:
    """All servers together: `max_running` pods plus one for a rolling update's surge pod. Starting one more
    server than that is refused by the API server, so the teams' history costs at most this much. A pod
    with the login proxy counts the proxy too."""
    pods = max_running + 1
    memory = kubernetes_memory((server_memory_mib(heap) + (LOGIN_MEMORY_MIB if login else 0)) * pods)
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": APP_NAME, "namespace": NAMESPACE},
        "spec": {
            "hard": {
                "pods": str(pods),
                "requests.cpu": f"{(cpu_millis(cpu) + (LOGIN_CPU_MILLIS if login else 0)) * pods}m",
                "requests.memory": memory,
                "limits.memory": memory,
            }
        },
    }


def start_stop_role(team: str) -> dict[str, Any]:
    """A team's people may scale their own server, and nothing else in the namespace."""
    name = server_name(team)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(team)},
        "rules": [
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": [name], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": [name], "verbs": ["get", "patch", "update"]},
        ],
    }


def start_stop_binding(team: str) -> dict[str, Any]:
    name = server_name(team)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(team)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": team_group(team)}],
    }
