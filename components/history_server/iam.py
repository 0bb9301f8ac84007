"""Pure IAM builder for the History Server: list the bucket's event-log prefix and read it, nothing else."""

from __future__ import annotations

from typing import Any

from components.iam import policy_document, s3_list_statement, s3_locate_statement, s3_object_arns
from sparkeks.spark.layout import EVENT_LOG_ROOT


def history_read_policy(partition: str, bucket: str) -> dict[str, Any]:
    """Read-only on `event-logs/` (every team's prefix below it). Old logs are removed by the bucket's
    lifecycle rule, so the server needs no delete permission."""
    return policy_document(
        s3_locate_statement(partition, [bucket]),
        s3_list_statement("ListEventLogs", partition, bucket, [EVENT_LOG_ROOT]),
        {"Sid": "ReadEventLogs", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": s3_object_arns(partition, bucket, [EVENT_LOG_ROOT])},
    )
