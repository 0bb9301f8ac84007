"""YuniKorn's pod annotations the platform sets, and what a Spark driver carries under it.

Names and formats are YuniKorn's (user guide: labels and annotations, gang scheduling, preemption).
"""

from __future__ import annotations

from sparkeks.config.base import duration_seconds

# On a pod or its PriorityClass: "false" asks YuniKorn never to pick the pod as a preemption victim
# (the pod's own annotation wins over the class's).
ALLOW_PREEMPTION_ANNOTATION = "yunikorn.apache.org/allow-preemption"
# On a namespace: the parent queue of the namespace's queue (`root.<org>`), for the placement rule.
PARENT_QUEUE_ANNOTATION = "yunikorn.apache.org/parentqueue"
# On the driver (the application's first pod): gang-scheduling parameters.
SCHEDULING_POLICY_ANNOTATION = "yunikorn.apache.org/schedulingPolicyParameters"


def queue_path(team: str, org: str | None) -> str:
    return f"root.{org}.{team}" if org else f"root.{team}"


def driver_annotations(gang_timeout: str) -> dict[str, str]:
    """The driver is never a preemption victim; its gang reservation (the driver and the initial
    executors, declared by the Spark Operator as YuniKorn task groups) is released when it cannot be
    completed in time, and the job then continues with normal scheduling (YuniKorn's Soft style)."""
    return {
        ALLOW_PREEMPTION_ANNOTATION: "false",
        SCHEDULING_POLICY_ANNOTATION: f"placeholderTimeoutInSeconds={duration_seconds(gang_timeout)} gangSchedulingStyle=Soft",
    }
