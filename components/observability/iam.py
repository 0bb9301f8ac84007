"""Pure IAM builder for Loki: its own bucket, nothing else."""

from __future__ import annotations

from typing import Any

from components.iam import policy_document, s3_list_statement, s3_locate_statement, s3_object_arns


def loki_bucket_policy(partition: str, bucket: str) -> dict[str, Any]:
    return policy_document(
        s3_locate_statement(partition, [bucket]),
        s3_list_statement("ListLokiBucket", partition, bucket, [""]),
        {
            "Sid": "ReadWriteLokiObjects",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": s3_object_arns(partition, bucket, [""]),
        },
    )
