"""Pure builders of the platform bucket's policy and lifecycle (Pulumi SDK argument shapes)."""

from __future__ import annotations

from typing import Any

from sparkeks.spark.layout import EVENT_LOG_ROOT, FALLBACK_ROOT


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Refuse every request that does not use TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def hygiene_rules() -> list[dict[str, Any]]:
    """Every bucket: unfinished multipart uploads and expired delete markers never pile up."""
    return [
        {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        },
        {
            "id": "remove-expired-delete-markers",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"expired_object_delete_marker": True},
        },
    ]


def noncurrent_versions_rule(days: int) -> dict[str, Any]:
    """Overwritten and deleted objects stay recoverable for `days`, then go."""
    return {
        "id": "expire-noncurrent-versions",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": {"noncurrent_days": days},
    }


def lifecycle_rules(event_log_days: int) -> list[dict[str, Any]]:
    """Event logs expire after their retention; shuffle fallback data (only useful while its application
    runs) after a day; unfinished multipart uploads and old versions never pile up."""
    return [
        {
            "id": "expire-event-logs",
            "status": "Enabled",
            "filter": {"prefix": EVENT_LOG_ROOT},
            "expiration": {"days": event_log_days},
            "noncurrent_version_expiration": {"noncurrent_days": 7},
        },
        {
            "id": "expire-shuffle-fallback",
            "status": "Enabled",
            "filter": {"prefix": FALLBACK_ROOT},
            "expiration": {"days": 1},
            "noncurrent_version_expiration": {"noncurrent_days": 1},
        },
        *hygiene_rules(),
    ]
