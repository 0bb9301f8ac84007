"""Pure builders of the Spark Operator's and YuniKorn's Helm values."""

from __future__ import annotations

from typing import Any

import yaml

from components.helm import base_values, merge_values
from sparkeks import versions
from sparkeks.teams.queues import Amount, QueueTree, TeamQueue


def operator_values(team_namespaces: list[str], *, batch_scheduler: str, pod_monitor: bool) -> dict[str, Any]:
    computed: dict[str, Any] = {
        # Exactly the team namespaces: the operator watches and runs applications nowhere else.
        "spark": {"jobNamespaces": list(team_namespaces)},
        "prometheus": {"podMonitor": {"create": pod_monitor}},
    }
    if batch_scheduler == "yunikorn":
        computed["controller"] = {"batchScheduler": {"enable": True, "default": "yunikorn"}}
    return merge_values(base_values("spark-operator"), computed)


def _resources(amount: Amount) -> dict[str, str]:
    return {"vcore": str(amount.cpu), "memory": amount.memory}


def _queue_resources(guaranteed: Amount | None, maximum: Amount) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if guaranteed is not None:
        resources["guaranteed"] = _resources(guaranteed)
    resources["max"] = _resources(maximum)
    return resources


def _team_queue(team: TeamQueue, preemption_delay: str) -> dict[str, Any]:
    return {
        "name": team.name,
        "submitacl": "*",
        "resources": _queue_resources(team.guaranteed, team.max),
        "properties": {
            # Gang reservations need first-come-first-served order inside a queue.
            "application.sort.policy": "fifo",
            # A team below its guarantee waits this long, then YuniKorn preempts borrowers' executors.
            "preemption.delay": preemption_delay,
        },
    }


def yunikorn_queues(tree: QueueTree, *, preemption_delay: str) -> dict[str, Any]:
    """queues.yaml: `root.<org>.<team>` (or `root.<team>`), guaranteed and max on every level, preemption on.

    Placement ignores the queue a pod asks for: an application lands in the queue of its namespace (under
    the parent queue named by the namespace's annotation), so no team can submit into another's queue."""
    children: list[dict[str, Any]] = []
    for org in tree.orgs:
        children.append(
            {
                "name": org.name,
                "parent": True,
                "submitacl": "*",
                "resources": _queue_resources(org.guaranteed, org.max),
                "queues": [_team_queue(t, preemption_delay) for t in org.teams],
            }
        )
    children += [_team_queue(t, preemption_delay) for t in tree.teams if t.org is None]
    rules: list[dict[str, Any]] = []
    if tree.orgs:
        rules.append(
            {
                "name": "tag",
                "value": "namespace",
                "create": False,
                "parent": {"name": "tag", "value": "namespace.parentqueue", "create": False},
            }
        )
    rules.append({"name": "tag", "value": "namespace", "create": False})
    return {
        "partitions": [
            {
                "name": "default",
                "placementrules": rules,
                "preemption": {"enabled": True},
                "queues": [{"name": "root", "submitacl": "*", "queues": children}],
            }
        ]
    }


def yunikorn_values(tree: QueueTree, *, preemption_delay: str) -> dict[str, Any]:
    names = "|".join(t.name for t in tree.teams)
    return merge_values(
        base_values("yunikorn"),
        {
            "image": {"tag": f"scheduler-{versions.YUNIKORN_VERSION}"},
            "admissionController": {"image": {"tag": f"admission-{versions.YUNIKORN_VERSION}"}},
            "web": {"image": {"tag": f"web-{versions.YUNIKORN_VERSION}"}},
            "yunikornDefaults": {
                "queues.yaml": yaml.safe_dump(yunikorn_queues(tree, preemption_delay=preemption_delay), sort_keys=False),
                # Only team pods are handed to YuniKorn; everything else keeps the default scheduler.
                "admissionController.filtering.processNamespaces": f"^({names})$",
            }
        },
    )
