"""Check rendered objects against the pinned upstream schemas (`SPARK_EKS_SCHEMAS`, default ../shared/schemas).

- Custom resources validate against the `openAPIV3Schema` of the CRD version they name.
- Helm values may only use keys the pinned chart's default values define.
CEL rules (`x-kubernetes-validations`) are not evaluated here; the tests cover them explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Built-in kinds the platform renders; they have no CRD, the API server's own schema applies.
BUILTIN_KINDS = {
    ("v1", "Namespace"),
    ("v1", "ServiceAccount"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
}


def schemas_dir() -> Path:
    return Path(os.environ.get("SPARK_EKS_SCHEMAS", Path(__file__).resolve().parents[1].parent / "shared" / "schemas"))


@dataclass
class CrdRegistry:
    schemas: dict[tuple[str, str], dict[str, Any]]
    """(apiVersion, kind) -> openAPIV3Schema"""

    @classmethod
    def load(cls, root: Path) -> CrdRegistry:
        schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for path in sorted(root.rglob("*.yaml")):
            text = path.read_text()
            if "kind: CustomResourceDefinition" not in text:
                continue
            for doc in yaml.safe_load_all(text):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for version in spec["versions"]:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = version["schema"]["openAPIV3Schema"]
        return cls(schemas)

    def validate(self, manifest: dict[str, Any]) -> list[str]:
        """Problems with one manifest; empty when it conforms."""
        import jsonschema

        key = (manifest.get("apiVersion", ""), manifest.get("kind", ""))
        if key in BUILTIN_KINDS:
            return []
        schema = self.schemas.get(key)
        if schema is None:
            return [f"{key[1]} {key[0]}: no pinned CRD schema and not a known built-in kind"]
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{key[1]} {manifest.get('metadata', {}).get('name')}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
        ]


def unknown_helm_keys(values: Any, defaults: Any, path: str = "") -> list[str]:
    """Keys in `values` that the chart's default values do not define (maps the chart leaves open are skipped)."""
    if not isinstance(values, dict) or not isinstance(defaults, dict):
        return []
    if not defaults:
        return []  # an empty default map ({}) is free-form: labels, annotations, nodeSelector, ...
    unknown = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in defaults:
            unknown.append(where)
        else:
            unknown += unknown_helm_keys(value, defaults[key], where)
    return unknown
