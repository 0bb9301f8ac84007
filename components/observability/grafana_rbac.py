"""What the Grafana chart (12.11.1, the subchart of kube-prometheus-stack 88.5.3) grants its ServiceAccount,
derived from its effective values the way its role and clusterrole templates decide. Tests assert on
this so a values change that would hand Grafana cluster-wide Secret access fails before a deploy."""

from __future__ import annotations

from typing import Any

# The sidecars that make the chart grant ConfigMap and Secret reads (in a Role when namespaced).
_NAMESPACED_SIDECARS = ("dashboards", "datasources", "plugins")
# ... and in a ClusterRole otherwise.
_CLUSTER_SIDECARS = ("dashboards", "librarypanels", "datasources", "plugins", "alerts")
_SIDECAR_READS = {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "watch", "list"]}


def _enabled(values: dict[str, Any], sidecar: str) -> bool:
    return bool(values.get("sidecar", {}).get(sidecar, {}).get("enabled"))


def grafana_grants(values: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The Roles and ClusterRoles the chart renders for these effective values: kind, namespace (None for
    cluster scope) and rules."""
    rbac = values.get("rbac", {})
    if not rbac.get("create"):
        return []
    grants: list[dict[str, Any]] = []
    namespaced = bool(rbac.get("namespaced"))
    if namespaced and not rbac.get("useExistingRole"):
        rules = [dict(_SIDECAR_READS)] if any(_enabled(values, s) for s in _NAMESPACED_SIDECARS) else []
        rules += rbac.get("extraRoleRules") or []
        for ns in [*(rbac.get("namespaces") or []), namespace]:
            grants.append({"kind": "Role", "namespace": ns, "rules": rules})
    if (not namespaced or rbac.get("extraClusterRoleRules")) and not rbac.get("useExistingClusterRole"):
        rules = [dict(_SIDECAR_READS)] if any(_enabled(values, s) for s in _CLUSTER_SIDECARS) else []
        rules += rbac.get("extraClusterRoleRules") or []
        grants.append({"kind": "ClusterRole", "namespace": None, "rules": rules})
    return grants


def sidecar_namespaces(values: dict[str, Any], namespace: str) -> dict[str, list[str]]:
    """Where each enabled sidecar looks for labelled ConfigMaps/Secrets (`ALL`: every namespace)."""
    found = {}
    for sidecar, settings in values.get("sidecar", {}).items():
        if isinstance(settings, dict) and settings.get("enabled"):
            search = settings.get("searchNamespace")
            found[sidecar] = [namespace] if not search else ([search] if isinstance(search, str) else list(search))
    return found
