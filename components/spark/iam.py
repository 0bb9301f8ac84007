"""Pure IAM builders for Spark teams: each team's role reaches its own data and its own platform prefixes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from components.iam import policy_document
from sparkeks.config.model import parse_s3_uri
from sparkeks.spark.layout import event_log_prefix, fallback_prefix

# S3A probes a directory both as the object `dir` and as the prefix `dir/`; granting both (and never a
# bare `dir*`) keeps team `ana` out of team `analytics`' data.
READ_ACTIONS = ["s3:GetObject"]
WRITE_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]


def _dir(prefix: str) -> list[str]:
    """Object patterns of a directory prefix (`a/b/`): the marker `a/b` and everything under `a/b/`."""
    return [prefix.rstrip("/"), f"{prefix}*"] if prefix else ["*"]


def _objects(partition: str, bucket: str, prefixes: list[str]) -> list[str]:
    return sorted({f"arn:{partition}:s3:::{bucket}/{p}" for prefix in prefixes for p in _dir(prefix)})


def _list_statements(partition: str, sid: str, locations: dict[str, list[str]]) -> list[dict[str, Any]]:
    statements = []
    for index, (bucket, prefixes) in enumerate(sorted(locations.items())):
        statement: dict[str, Any] = {
            "Sid": f"{sid}{index}",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": f"arn:{partition}:s3:::{bucket}",
        }
        patterns = sorted({p for prefix in prefixes for p in _dir(prefix)})
        if patterns != ["*"]:
            statement["Condition"] = {"StringLike": {"s3:prefix": patterns}}
        statements.append(statement)
    return statements


def team_policy(partition: str, team: str, platform_bucket: str, read: list[str], write: list[str]) -> dict[str, Any]:
    """Read its read locations, read and write its write locations, and write its own event-log and
    shuffle-fallback prefixes in the platform bucket. Nothing account-wide, nothing of another team."""
    listing: dict[str, list[str]] = defaultdict(list)
    readable: dict[str, list[str]] = defaultdict(list)
    writable: dict[str, list[str]] = defaultdict(list)
    for uri in read:
        bucket, prefix = parse_s3_uri(uri)
        listing[bucket].append(prefix)
        readable[bucket].append(prefix)
    for uri in write:
        bucket, prefix = parse_s3_uri(uri)
        listing[bucket].append(prefix)
        writable[bucket].append(prefix)
    platform = [event_log_prefix(team), fallback_prefix(team)]
    listing[platform_bucket] += platform
    writable[platform_bucket] += platform

    statements = _list_statements(partition, "ListOwnLocations", listing)
    read_resources = sorted({r for bucket, prefixes in readable.items() for r in _objects(partition, bucket, prefixes)})
    if read_resources:
        statements.append({"Sid": "ReadData", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": read_resources})
    write_resources = sorted({r for bucket, prefixes in writable.items() for r in _objects(partition, bucket, prefixes)})
    statements.append({"Sid": "WriteOwnLocations", "Effect": "Allow", "Action": WRITE_ACTIONS, "Resource": write_resources})
    return policy_document(*statements)
