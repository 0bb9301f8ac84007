"""Where Spark writes in the platform bucket. One source for writers (jobs), readers (History Server)
and the IAM policies in between, so the paths Spark writes are exactly the paths the server reads."""

from __future__ import annotations

EVENT_LOG_ROOT = "event-logs/"
FALLBACK_ROOT = "shuffle-fallback/"


def event_log_prefix(team: str) -> str:
    return f"{EVENT_LOG_ROOT}{team}/"


def fallback_prefix(team: str) -> str:
    return f"{FALLBACK_ROOT}{team}/"


def s3a(bucket: str, key_prefix: str = "") -> str:
    return f"s3a://{bucket}/{key_prefix}"
