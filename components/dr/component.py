"""DisasterRecovery: the DR stack's copies of the primary's event logs and team data, kept by S3 replication."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.dr.replication import replication_policy, replication_rule, replication_trust_policy
from components.iam import to_json
from components.storage.bucket import hygiene_rules, noncurrent_versions_rule
from components.storage.protected_bucket import ProtectedBucket, ProtectedBucketArgs
from sparkeks.spark.layout import EVENT_LOG_ROOT


@dataclass(frozen=True)
class DisasterRecoveryArgs:
    primary_stack: str
    partition: str
    event_log_bucket: pulumi.Input[str]
    """This stack's platform bucket: the destination of the primary's event logs."""
    replicate_buckets: list[str] = field(default_factory=list)
    copy_suffix: str = "dr"
    """The copies are `<bucket>-<copy_suffix>` (S3 names are global: each DR stack has its own suffix)."""
    time_control: bool = True
    protect: bool = True


class DisasterRecovery(pulumi.ComponentResource):
    primary: pulumi.StackReference
    primary_bucket: pulumi.Output[str]

    def __init__(self, name: str, args: DisasterRecoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:dr:DisasterRecovery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.primary = pulumi.StackReference(args.primary_stack, opts=child)
        self.primary_bucket = self.primary.require_output("sparkBucket")

        copies = {
            source: ProtectedBucket(
                f"{name}-{source}",
                ProtectedBucketArgs(
                    bucket_name=f"{source}-{args.copy_suffix}",
                    lifecycle_rules=[noncurrent_versions_rule(30), *hygiene_rules()],
                    protect=args.protect,
                ),
                opts=child,
            )
            for source in args.replicate_buckets
        }

        role = aws.iam.Role(f"{name}-replication", assume_role_policy=to_json(replication_trust_policy()), opts=child)
        pairs = pulumi.Output.all(
            self.primary_bucket, args.event_log_bucket, *[copies[s].name for s in args.replicate_buckets]
        ).apply(lambda names: [(names[0], names[1]), *zip(args.replicate_buckets, names[2:])])
        policy = aws.iam.RolePolicy(
            f"{name}-replication",
            role=role.name,
            policy=pairs.apply(lambda p: to_json(replication_policy(args.partition, p))),
            opts=child,
        )

        # Replication is set on the source buckets, which the primary stack owns; only these
        # configurations belong to this stack, and deleting it stops replication, nothing else.
        replicate = pulumi.ResourceOptions(parent=self, depends_on=[policy])
        aws.s3.BucketReplicationConfig(
            f"{name}-event-logs",
            bucket=self.primary_bucket,
            role=role.arn,
            rules=[
                replication_rule(
                    "event-logs-to-dr",
                    pulumi.Output.from_input(args.event_log_bucket).apply(lambda b: f"arn:{args.partition}:s3:::{b}"),
                    prefix=EVENT_LOG_ROOT,
                    time_control=args.time_control,
                )
            ],
            opts=replicate,
        )
        for source, copy in copies.items():
            aws.s3.BucketReplicationConfig(
                f"{name}-{source}",
                bucket=source,
                role=role.arn,
                rules=[replication_rule(f"{source}-to-dr", copy.arn, prefix="", time_control=args.time_control)],
                opts=replicate,
            )
        self.register_outputs({"primaryStack": args.primary_stack, "primaryBucket": self.primary_bucket})
