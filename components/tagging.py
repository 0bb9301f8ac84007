"""Pure tag builders: the tags every AWS resource gets, and the discovery tags Kubernetes controllers read."""

from __future__ import annotations

KARPENTER_DISCOVERY = "karpenter.sh/discovery"


def platform_tags(project: str, stack: str, environment: str, user_tags: dict[str, str]) -> dict[str, str]:
    """Default tags for the AWS provider; user tags win over ours on the same key."""
    return {
        "spark-on-eks/project": project,
        "spark-on-eks/stack": stack,
        "spark-on-eks/environment": environment,
        "managed-by": "pulumi",
        **user_tags,
    }


def name_tag(name: str) -> dict[str, str]:
    return {"Name": name}
