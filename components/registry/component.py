"""ImageRegistry: one ECR repository per Spark line's platform image, in the stack's account and region.

The images workflow pushes there (immutable tags, so a pushed tag always names the same image), ECR scans
each image on push, and nodes pull by digest over the ECR interface endpoints in a private cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.registry.mirror import UPSTREAMS
from components.registry.policies import keep_last_images
from sparkeks.images import KEEP_IMAGES, repository_name


@dataclass(frozen=True)
class ImageRegistryArgs:
    cluster_name: str
    spark_lines: list[str]
    protect: bool
    """Protect and retain the repositories (production): running jobs pull from them."""
    keep_images: int = KEEP_IMAGES
    pull_through: dict[str, str | None] | None = None
    """Private cluster: ECR pull-through cache for the charts' public registries, with the Secrets Manager
    ARN of each registry's credentials by `Upstream.credentials` key."""


class ImageRegistry(pulumi.ComponentResource):
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ImageRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spark-on-eks:images:ImageRegistry", name, None, opts)
        self.repository_urls = {}
        for line in args.spark_lines:
            repo = aws.ecr.Repository(
                f"{name}-spark-{line}",
                name=repository_name(args.cluster_name, line),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                # KMS with the account's ECR key: encrypted at rest without a key policy to keep in step
                # with every puller.
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
                # A non-production stack destroys cleanly; production keeps the images running jobs use.
                force_delete=not args.protect,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-spark-{line}",
                repository=repo.name,
                policy=keep_last_images(args.keep_images),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.repository_urls[line] = repo.repository_url
        if args.pull_through is not None:
            for upstream in UPSTREAMS.values():
                aws.ecr.PullThroughCacheRule(
                    f"{name}-cache-{upstream.prefix}",
                    ecr_repository_prefix=upstream.prefix,
                    upstream_registry_url=upstream.url,
                    credential_arn=args.pull_through.get(upstream.credentials) if upstream.credentials else None,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.register_outputs({"repositoryUrls": self.repository_urls})
