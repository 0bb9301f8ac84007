"""ProtectedBucket: an S3 bucket with the platform's protections, used for everything that holds state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import to_json
from components.storage.bucket import tls_only_policy


@dataclass(frozen=True)
class ProtectedBucketArgs:
    bucket_name: str
    lifecycle_rules: list[dict[str, Any]] = field(default_factory=list)
    protect: bool = False
    """Pulumi-protect and retain the bucket: its contents outlive the stack (production)."""
    force_destroy: bool = False


class ProtectedBucket(pulumi.ComponentResource):
    """Private (public access blocked, bucket-owner-enforced), encrypted at rest, versioned, TLS-only,
    with lifecycle rules; never force-destroyed unless the stack opts in."""

    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ProtectedBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:storage:ProtectedBucket", name, None, opts)
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
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}, "bucket_key_enabled": True}],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child)
        if args.lifecycle_rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket.id,
                rules=args.lifecycle_rules,
                # Lifecycle rules on a versioned bucket must follow the versioning setting.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )
        aws.s3.BucketPolicy(f"{name}-tls-only", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: to_json(tls_only_policy(arn))), opts=child)
        self.bucket = bucket
        self.name = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
