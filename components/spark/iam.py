"""Pure IAM builders for Spark teams: each team's role reaches its own data and its own platform prefixes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from components.iam import policy_document, s3_list_statement, s3_locate_statement, s3_object_arns
from sparkeks.config.model import parse_s3_uri
from sparkeks.spark.layout import event_log_prefix, fallback_prefix

READ_ACTIONS = ["s3:GetObject"]
WRITE_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]


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

    statements = [s3_locate_statement(partition, list(listing))]
    statements += [
        s3_list_statement(f"ListOwnLocations{i}", partition, bucket, prefixes) for i, (bucket, prefixes) in enumerate(sorted(listing.items()))
    ]
    read_resources = sorted({r for bucket, prefixes in readable.items() for r in s3_object_arns(partition, bucket, prefixes)})
    if read_resources:
        statements.append({"Sid": "ReadData", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": read_resources})
    write_resources = sorted({r for bucket, prefixes in writable.items() for r in s3_object_arns(partition, bucket, prefixes)})
    statements.append({"Sid": "WriteOwnLocations", "Effect": "Allow", "Action": WRITE_ACTIONS, "Resource": write_resources})
    return policy_document(*statements)
