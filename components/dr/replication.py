"""Pure builders of S3 replication from the primary's buckets into the DR stack's."""

from __future__ import annotations

from typing import Any

from components.iam import policy_document, service_trust_policy


def replication_trust_policy() -> dict[str, Any]:
    return service_trust_policy("s3.amazonaws.com")


def replication_policy(partition: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Read versions from exactly the source buckets, write replicas into exactly their destinations."""
    sources = sorted({s for s, _ in pairs})
    destinations = sorted({d for _, d in pairs})
    arn = lambda bucket, suffix="": f"arn:{partition}:s3:::{bucket}{suffix}"  # noqa: E731
    return policy_document(
        {
            "Sid": "ReadSourceConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": [arn(b) for b in sources],
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            "Resource": [arn(b, "/*") for b in sources],
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": [arn(b, "/*") for b in destinations],
        },
    )


def replication_rule(rule_id: str, destination_arn: str, *, prefix: str, time_control: bool) -> dict[str, Any]:
    """One rule (SDK argument shape). With Replication Time Control, S3 copies 99.99% of new objects within
    15 minutes and reports replication lag as CloudWatch metrics: that is the measurable RPO."""
    destination: dict[str, Any] = {"bucket": destination_arn, "storage_class": "STANDARD"}
    if time_control:
        destination["replication_time"] = {"status": "Enabled", "time": {"minutes": 15}}
        destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": 15}}
    return {
        "id": rule_id,
        "status": "Enabled",
        "priority": 1,
        "filter": {"prefix": prefix},
        "delete_marker_replication": {"status": "Enabled"},
        "destination": destination,
    }

