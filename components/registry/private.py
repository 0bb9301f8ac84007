"""A private cluster's Helm releases pull every image through the stack's ECR pull-through cache.

One stack transformation instead of an edit in each chart's component: whatever release a component adds,
its chart's images (components/registry/mirror.py) are pointed at the cache before it is registered.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.registry.mirror import private_image_values

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _merge(base: Any, overrides: dict[str, Any]) -> Any:
    """Deep merge that leaves Outputs unresolved (so secrets stay secret) and descends into them only where
    an override needs to."""
    if isinstance(base, pulumi.Output):
        return base.apply(lambda resolved: _merge(resolved, overrides))
    merged = dict(base) if isinstance(base, dict) else {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            merged[key] = _merge(merged.get(key), value)
        else:
            merged[key] = value
    return merged


def chart_name(chart: Any) -> str:
    return str(chart).rstrip("/").rsplit("/", 1)[-1]


def images_through_cache(registry_host: str) -> pulumi.ResourceTransformation:
    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != HELM_RELEASE:
            return None
        overrides = private_image_values(chart_name(args.props.get("chart")), registry_host)
        if not overrides:
            return None
        return pulumi.ResourceTransformationResult({**args.props, "values": _merge(args.props.get("values") or {}, overrides)}, args.opts)

    return transform
