"""Pure IAM document builders shared by every component (plain dicts, JSON-encoded by callers)."""

from __future__ import annotations

import json
from typing import Any

POLICY_VERSION = "2012-10-17"


def policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def service_trust_policy(service: str, *, tag_session: bool = False) -> dict[str, Any]:
    """Trust policy letting one AWS service principal assume the role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    return policy_document({"Effect": "Allow", "Principal": {"Service": service}, "Action": actions})


def pod_identity_trust_policy(account_id: str, *, namespace: str, service_account: str) -> dict[str, Any]:
    """Trust policy for a role handed to pods by EKS Pod Identity.

    Only this account's Pod Identity may assume it (`aws:SourceAccount`: no confused deputy), and only for
    the one ServiceAccount it is meant for: EKS tags every session with the pod's namespace and
    ServiceAccount, so a second association pointing at this role from elsewhere gets nothing.
    """
    document = service_trust_policy("pods.eks.amazonaws.com", tag_session=True)
    document["Statement"][0]["Condition"] = {
        "StringEquals": {
            "aws:SourceAccount": account_id,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
    }
    return document


def managed_policy_arn(partition: str, name: str) -> str:
    """ARN of an AWS-managed policy; `name` may include a path such as `service-role/...`."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def s3_directory_patterns(prefix: str) -> list[str]:
    """Key patterns of a directory prefix (`a/b/`): the marker `a/b` and everything under `a/b/`.

    S3A probes a directory both as the object `dir` and as the prefix `dir/`; granting both, and never a
    bare `dir*`, keeps `ana/` from matching `analytics/`. The empty prefix is the whole bucket.
    """
    return [prefix.rstrip("/"), f"{prefix}*"] if prefix else ["*"]


def s3_object_arns(partition: str, bucket: str, prefixes: list[str]) -> list[str]:
    return sorted({f"arn:{partition}:s3:::{bucket}/{p}" for prefix in prefixes for p in s3_directory_patterns(prefix)})


def s3_list_statement(sid: str, partition: str, bucket: str, prefixes: list[str]) -> dict[str, Any]:
    """List a bucket, limited to the given directory prefixes."""
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:{partition}:s3:::{bucket}"}
    patterns = sorted({p for prefix in prefixes for p in s3_directory_patterns(prefix)})
    if patterns != ["*"]:
        statement["Condition"] = {"StringLike": {"s3:prefix": patterns}}
    return statement


def s3_locate_statement(partition: str, buckets: list[str]) -> dict[str, Any]:
    """Find the buckets' regions. A statement of its own: GetBucketLocation requests carry no `s3:prefix`,
    so under a listing's prefix condition it would never be granted."""
    return {
        "Sid": "LocateBuckets",
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation"],
        "Resource": sorted({f"arn:{partition}:s3:::{b}" for b in buckets}),
    }
