"""SparkStorage: the platform bucket for Spark event logs and decommissioning fallback storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.storage.bucket import lifecycle_rules
from components.storage.protected_bucket import ProtectedBucket, ProtectedBucketArgs
from sparkeks.spark.layout import EVENT_LOG_ROOT


@dataclass(frozen=True)
class SparkStorageArgs:
    bucket_name: str
    event_log_retention_days: int
    protect: bool
    """Protect and retain the bucket (production): its contents outlive the stack."""
    force_destroy: bool = False


class SparkStorage(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SparkStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:storage:SparkStorage", name, None, opts)
        bucket = ProtectedBucket(
            name,
            ProtectedBucketArgs(
                bucket_name=args.bucket_name,
                lifecycle_rules=lifecycle_rules(args.event_log_retention_days),
                protect=args.protect,
                force_destroy=args.force_destroy,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The History Server lists this directory; S3 has directories only as markers.
        aws.s3.BucketObjectv2(
            f"{name}-event-log-root", bucket=bucket.bucket.id, key=EVENT_LOG_ROOT, content="", opts=pulumi.ResourceOptions(parent=self)
        )
        self.bucket_name = bucket.name
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn})
