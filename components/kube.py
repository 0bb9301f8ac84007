"""Wrap a plain Kubernetes manifest (a dict, as pure builders return it) into a Pulumi resource."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pulumi

# apiVersion -> pulumi_kubernetes module holding the typed classes of that group/version.
_TYPED_GROUPS = {
    "v1": "core.v1",
    "apps/v1": "apps.v1",
    "policy/v1": "policy.v1",
    "rbac.authorization.k8s.io/v1": "rbac.v1",
    "scheduling.k8s.io/v1": "scheduling.v1",
    "storage.k8s.io/v1": "storage.v1",
    "networking.k8s.io/v1": "networking.v1",
    "admissionregistration.k8s.io/v1": "admissionregistration.v1",
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def kubernetes_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Built-in kinds become their typed class (top-level fields as keyword arguments; nested keys stay
    Kubernetes camelCase, which the SDK passes through); custom resources become a CustomResource."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    group = _TYPED_GROUPS.get(api_version)
    if group is not None:
        module = importlib.import_module(f"pulumi_kubernetes.{group}")
        fields = {_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
        return getattr(module, kind)(name, opts=opts, **fields)
    from pulumi_kubernetes.apiextensions import CustomResource

    unexpected = set(manifest) - {"apiVersion", "kind", "metadata", "spec"}
    if unexpected:
        raise ValueError(f"{kind} {name}: custom resources carry only metadata and spec, not {sorted(unexpected)}")
    return CustomResource(name, api_version=api_version, kind=kind, metadata=manifest.get("metadata"), spec=manifest.get("spec"), opts=opts)
