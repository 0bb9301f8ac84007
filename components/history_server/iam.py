"""Pure IAM builder for a team's History Server: list and read that team's event-log prefix, nothing else."""

from __future__ import annotations

from typing import Any

from components.iam import policy_document, s3_list_statement, s3_locate_statement, s3_object_arns
from sparkeks.spark.layout import event_log_prefix


def history_read_policy(partition: str, bucket: str, team: str) -> dict[str, Any]:
    """Read-only on the team's own `event-logs/<team>/`: one team's server never reads another's logs.
    Old logs are removed by the bucket's lifecycle rule, so the server needs no delete permission."""
    prefix = event_log_prefix(team)
    return policy_document(
        s3_locate_statement(partition, [bucket]),
        s3_list_statement("ListEventLogs", partition, bucket, [prefix]),
        {
            "Sid": "ReadEventLogs",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": s3_object_arns(partition, bucket, [prefix]),
        },
    )
