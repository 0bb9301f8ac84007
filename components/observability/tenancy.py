"""Logs per team: each team namespace is its own Loki tenant, every platform namespace one platform tenant.

Fluent Bit re-tags a team's records by namespace and sends each tag with its tenant; Grafana gets one Loki
data source per team tenant, and one for platform admins that reads every tenant at once. Loki with
`auth_enabled` refuses a request without a tenant, so a pod that reaches Loki still reads nothing without
naming a tenant, and the NetworkPolicies let only Fluent Bit and Grafana reach it at all."""

from __future__ import annotations

from typing import Any

# Underscores never appear in a namespace name, so no team namespace can ever be this tenant.
PLATFORM_TENANT = "spark_on_eks_platform"
TENANT_HEADER = "X-Scope-OrgID"
TEAM_TAG_PREFIX = "team."


def team_retag_filter(teams: list[str]) -> str:
    """A team's records leave the `kube.*` stream for `team.<namespace>`; the original is dropped."""
    if not teams:
        return ""
    names = "|".join(teams)
    return "\n".join(
        [
            "[FILTER]",
            "    Name rewrite_tag",
            "    Match kube.*",
            f"    Rule $kubernetes['namespace_name'] ^({names})$ {TEAM_TAG_PREFIX}$kubernetes['namespace_name'] false",
            "    Emitter_Name team_logs",
        ]
    )


def tenant_routes(teams: list[str]) -> list[tuple[str, str]]:
    """(Fluent Bit match, Loki tenant): one per team, then the platform for what is still `kube.*`."""
    return [(f"{TEAM_TAG_PREFIX}{team}", team) for team in teams] + [("kube.*", PLATFORM_TENANT)]


def loki_data_sources(teams: list[str], url: str, *, platform_uid: str, json_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The platform admins' source (every tenant, the shipped dashboards use it) and one per team."""
    tenants = [("Loki", platform_uid, "|".join([PLATFORM_TENANT, *teams]))]
    tenants += [(f"Loki ({team})", f"{platform_uid}-{team}", team) for team in teams]
    return [
        {
            "name": name,
            "uid": uid,
            "type": "loki",
            "access": "proxy",
            "url": url,
            "jsonData": {**json_data, "httpHeaderName1": TENANT_HEADER},
            "secureJsonData": {"httpHeaderValue1": tenant},
        }
        for name, uid, tenant in tenants
    ]
