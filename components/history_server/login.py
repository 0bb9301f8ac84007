"""Pure builders of the OIDC login in front of a team's History Server: an oauth2-proxy sidecar.

The proxy takes the server's port (18080, so the Service, the URLs and `kubectl port-forward` stay the
same) and lets in only people whose ID token lists the team's group; Spark listens on the pod's loopback
address behind it (SPARK_LOCAL_IP), so nothing reaches Spark but through the proxy.

Spark's own UI ACLs (`spark.history.ui.acls.enable`, admin ACLs) are left off: the History Server learns
the remote user only from a servlet filter (`spark.ui.filters`), Spark ships none that trusts a proxy's
user header, and with no user every ACL check passes. The team's group, checked by the proxy, is the gate:
each member sees every application of the team, none of another team's."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from components.history_server.manifests import (
    APP_NAME,
    LOGIN_CPU_MILLIS,
    LOGIN_MEMORY_MIB,
    PORT,
    SPARK_LOOPBACK_PORT,
    server_name,
)
from components.registry.mirror import cache_registry
from sparkeks import versions

METRICS_PORT = 44180
# oauth2-proxy's own health endpoints (no login needed, no upstream call).
PING_PATH, READY_PATH = "/ping", "/ready"
CLIENT_SECRET_KEY = "client-secret"
COOKIE_SECRET_KEY = "cookie-secret"


@dataclass(frozen=True)
class Login:
    issuer_url: str
    client_id: str
    groups_claim: str
    scopes: tuple[str, ...]
    image: str


def login_settings(*, issuer_url: str, client_id: str, groups_claim: str, scopes: list[str], private_registry: str | None) -> Login:
    """The login's settings; in a private cluster its image comes through the stack's pull-through cache."""
    image = versions.OAUTH2_PROXY_IMAGE
    if private_registry is not None:
        image = image.replace("quay.io", cache_registry(private_registry, "quay.io"), 1)
    return Login(issuer_url, client_id, groups_claim, tuple(scopes), image)


def cookie_secret(master: str, team: str) -> str:
    """A team's own cookie key, derived from the stack's secret (HMAC-SHA256): a session cookie one team's
    proxy issued is worthless to another team's. 32 characters, a length oauth2-proxy takes as is."""
    return hmac.new(master.encode(), f"spark-on-eks history-server login {team}".encode(), hashlib.sha256).hexdigest()[:32]


def secret_name(team: str) -> str:
    return f"{server_name(team)}-login"


def login_secret(team: str, *, namespace: str, client_secret: Any, cookie_secret_value: Any, labels: dict[str, str]) -> dict[str, Any]:
    """The proxy's secrets (values are Pulumi secrets: masked in the plan, encrypted in state)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": secret_name(team), "namespace": namespace, "labels": labels},
        "type": "Opaque",
        "stringData": {CLIENT_SECRET_KEY: client_secret, COOKIE_SECRET_KEY: cookie_secret_value},
    }


def proxy_args(team: str, group: str, login: Login) -> list[str]:
    return [
        "--provider=oidc",
        f"--oidc-issuer-url={login.issuer_url}",
        f"--client-id={login.client_id}",
        f"--oidc-groups-claim={login.groups_claim}",
        f"--allowed-group={group}",
        # Membership of the group decides, whatever the address's domain.
        "--email-domain=*",
        f"--scope={' '.join(login.scopes)}",
        "--code-challenge-method=S256",
        f"--http-address=0.0.0.0:{PORT}",
        f"--metrics-address=0.0.0.0:{METRICS_PORT}",
        f"--upstream=http://127.0.0.1:{SPARK_LOOPBACK_PORT}/",
        # One cookie name per team: several servers port-forwarded to localhost share a browser's cookie jar.
        f"--cookie-name=_oauth2_proxy_{team}",
        "--cookie-secure=true",
        "--skip-provider-button=true",
        "--silence-ping-logging=true",
    ]


def proxy_container(team: str, group: str, login: Login) -> dict[str, Any]:
    def from_secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name(team), "key": key}}}

    return {
        "name": "login",
        "image": login.image,
        "args": proxy_args(team, group, login),
        "env": [from_secret("OAUTH2_PROXY_CLIENT_SECRET", CLIENT_SECRET_KEY), from_secret("OAUTH2_PROXY_COOKIE_SECRET", COOKIE_SECRET_KEY)],
        "ports": [
            {"name": "http", "containerPort": PORT, "protocol": "TCP"},
            {"name": "login-metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {"httpGet": {"path": READY_PATH, "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {"httpGet": {"path": PING_PATH, "port": "http"}, "periodSeconds": 20, "timeoutSeconds": 5},
        "resources": {
            "requests": {"cpu": f"{LOGIN_CPU_MILLIS}m", "memory": f"{LOGIN_MEMORY_MIB}Mi"},
            "limits": {"memory": f"{LOGIN_MEMORY_MIB}Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }



def login_pod_monitor(namespace: str) -> dict[str, Any]:
    """Prometheus scrapes every login proxy's metrics (requests, logins, upstream errors)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "history-server-logins", "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "spark-on-eks"}},
        "spec": {
            "namespaceSelector": {"matchNames": [namespace]},
            "selector": {"matchLabels": {"app.kubernetes.io/name": APP_NAME}},
            "podMetricsEndpoints": [{"port": "login-metrics", "path": "/metrics", "interval": "30s"}],
        },
    }
