"""Pure builders of the Spark Operator's and YuniKorn's Helm values."""

from __future__ import annotations

from typing import Any

import yaml

from components.helm import base_values, merge_values
from sparkeks.config.model import TeamConfig


def operator_values(team_namespaces: list[str], *, batch_scheduler: str, pod_monitor: bool) -> dict[str, Any]:
    computed: dict[str, Any] = {
        # Exactly the team namespaces: the operator watches and runs applications nowhere else.
        "spark": {"jobNamespaces": list(team_namespaces)},
        "prometheus": {"podMonitor": {"create": pod_monitor}},
    }
    if batch_scheduler == "yunikorn":
        computed["controller"] = {"batchScheduler": {"enable": True, "default": "yunikorn"}}
    return merge_values(base_values("spark-operator"), computed)


def _resources(cpu: int, memory: str) -> dict[str, str]:
    return {"vcore": str(cpu), "memory": memory}


def yunikorn_queues(teams: list[TeamConfig]) -> dict[str, Any]:
    """queues.yaml: `root.<team>` per team, its max the team quota, its guaranteed share if set.
    Applications go to the queue they name, else to the queue of their namespace."""
    queues = []
    for team in teams:
        resources: dict[str, Any] = {"max": _resources(team.quota.cpu, team.quota.memory)}
        if team.guaranteed is not None:
            resources["guaranteed"] = _resources(team.guaranteed.cpu, team.guaranteed.memory)
        queues.append({"name": team.name, "submitacl": "*", "resources": resources})
    return {
        "partitions": [
            {
                "name": "default",
                "placementrules": [{"name": "provided", "create": False}, {"name": "tag", "value": "namespace", "create": False}],
                "queues": [{"name": "root", "submitacl": "*", "queues": queues}],
            }
        ]
    }


def yunikorn_values(teams: list[TeamConfig]) -> dict[str, Any]:
    names = "|".join(t.name for t in teams)
    return merge_values(
        base_values("yunikorn"),
        {
            "yunikornDefaults": {
                "queues.yaml": yaml.safe_dump(yunikorn_queues(teams), sort_keys=False),
                # Only team pods are handed to YuniKorn; everything else keeps the default scheduler.
                "admissionController.filtering.processNamespaces": f"^({names})$",
            }
        },
    )
