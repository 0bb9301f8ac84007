"""SparkStorage: the platform bucket for Spark event logs and decommissioning fallback storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import to_json
from components.storage.bucket import lifecycle_rules, tls_only_policy
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
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(args.event_log_retention_days),
            # Lifecycle rules on a versioned bucket must follow the versioning setting.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: to_json(tls_only_policy(arn))), opts=child
        )
        # The History Server lists this directory; S3 has directories only as markers.
        aws.s3.BucketObjectv2(f"{name}-event-log-root", bucket=bucket.id, key=EVENT_LOG_ROOT, content="", opts=child)
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn})
