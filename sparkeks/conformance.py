"""Check rendered objects against the pinned upstream schemas (`SPARK_EKS_SCHEMAS`, default ../shared/schemas).

- Custom resources validate against the `openAPIV3Schema` of the CRD version they name.
- Helm values may only use keys the pinned chart's default values define.
CEL rules (`x-kubernetes-validations`) are not evaluated here; the tests cover them explicitly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparkeks import yamlio

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
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
}


# A Kubernetes resource quantity as the API server parses it (k8s.io/apimachinery resource.Quantity):
# a decimal number with a binary-SI, decimal-SI or exponent suffix. The OpenAPI leaves it a free string.
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
QUANTITY_ALLOWED = "a number with an optional suffix, e.g. 500m, 2, 1.5, 512Mi, 64Gi"


# Maps whose values are quantities, in built-in objects and Karpenter's NodePool limits.
_QUANTITY_MAPS = frozenset({"requests", "limits", "hard", "max", "min", "default", "defaultRequest", "maxLimitRequestRatio"})
_QUANTITY_KINDS = {k for _, k in BUILTIN_KINDS} | {"NodePool"}


def quantity_problems(manifest: dict[str, Any]) -> list[str]:
    """Quantities the API server would refuse (`two`, `64 Gi`), found without any schema: cheap enough for
    every plan. The OpenAPI leaves quantities free strings; the strict conformance tests check the rest."""
    import re

    if manifest.get("kind") not in _QUANTITY_KINDS:
        return []
    meta = manifest.get("metadata") or {}
    where = f"{manifest.get('kind')} {meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else f"{manifest.get('kind')} {meta.get('name')}"
    pattern = re.compile(QUANTITY)
    problems: list[str] = []

    def walk(value: Any, path: str, in_map: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if in_map and not isinstance(item, dict | list):
                    if not (isinstance(item, int) and not isinstance(item, bool)) and not (isinstance(item, str) and pattern.match(item)):
                        problems.append(f"{where}: {child}: {json.dumps(item)}: not a Kubernetes quantity ({QUANTITY_ALLOWED})")
                else:
                    walk(item, child, key in _QUANTITY_MAPS)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]", False)

    walk(manifest.get("spec", {}), "spec", False)
    return problems


def schemas_dir() -> Path:
    """`SPARK_EKS_SCHEMAS`, else `shared/schemas` beside the project (not beside the code: it may be installed)."""
    override = os.environ.get("SPARK_EKS_SCHEMAS")
    if override:
        return Path(override)
    from sparkeks.project import current_project

    return current_project().parent / "shared" / "schemas"


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
            for doc in yamlio.load_all(text):
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


def unknown_helm_keys(values: Any, defaults: Any, path: str = "", free_form: frozenset[str] = frozenset()) -> list[str]:
    """Keys in `values` that the chart's default values do not define.

    Maps whose default is empty (`{}`) are free-form (labels, annotations, resources), and so are the
    paths in `free_form` (maps with example defaults, such as a nodeSelector).
    """
    if not isinstance(values, dict) or not isinstance(defaults, dict):
        return []
    if not defaults or path in free_form:
        return []
    unknown = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in defaults:
            unknown.append(where)
        else:
            unknown += unknown_helm_keys(value, defaults[key], where, free_form)
    return unknown


def chart_defaults(root: Path, chart: str) -> dict[str, Any]:
    """The pinned chart's default values.yaml from the schemas folder."""
    return yamlio.load((root / chart / "values.yaml").read_text()) or {}


# --- CEL rules of the Karpenter CRDs (x-kubernetes-validations) that JSON Schema does not evaluate.

_RESTRICTED_LABEL_DOMAIN = "karpenter.sh"
_ALLOWED_KARPENTER_LABELS = {"karpenter.sh/capacity-type", "karpenter.sh/nodepool"}
_AMI_FAMILIES = {"al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025"}


def _label_problem(key: str) -> str | None:
    domain = key.split("/", 1)[0] if "/" in key else ""
    if key == "karpenter.sh/nodepool":
        return f'label "{key}" is restricted'
    if domain.endswith(_RESTRICTED_LABEL_DOMAIN) and key not in _ALLOWED_KARPENTER_LABELS:
        return f'label domain "karpenter.sh" is restricted ({key})'
    return None


def node_pool_cel_problems(manifest: dict[str, Any]) -> list[str]:
    spec = manifest.get("spec", {})
    template = spec.get("template", {}).get("spec", {})
    problems = []
    ref = template.get("nodeClassRef", {})
    for field in ("group", "kind", "name"):
        if not ref.get(field):
            problems.append(f"nodeClassRef.{field} may not be empty")
    for requirement in template.get("requirements", []):
        operator, values = requirement.get("operator"), requirement.get("values", [])
        if operator == "In" and not values:
            problems.append(f"requirement {requirement.get('key')}: operator 'In' must have a value defined")
        if operator in ("Gt", "Lt", "Gte", "Lte"):
            if len(values) != 1 or not str(values[0]).isdigit():
                problems.append(f"requirement {requirement.get('key')}: {operator} needs a single non-negative integer")
        if problem := _label_problem(requirement.get("key", "")):
            problems.append(problem)
    for key in spec.get("template", {}).get("metadata", {}).get("labels", {}):
        if problem := _label_problem(key):
            problems.append(problem)
    for budget in spec.get("disruption", {}).get("budgets", []):
        if ("schedule" in budget) != ("duration" in budget):
            problems.append("'schedule' must be set with 'duration'")
    return problems


def ec2_node_class_cel_problems(manifest: dict[str, Any]) -> list[str]:
    spec = manifest.get("spec", {})
    problems = []
    if ("role" in spec) == ("instanceProfile" in spec):
        problems.append("must specify exactly one of ['role', 'instanceProfile']")
    if "role" in spec and spec["role"] == "":
        problems.append("role cannot be empty")
    for term in spec.get("amiSelectorTerms", []):
        if not any(k in term for k in ("tags", "id", "name", "alias", "ssmParameter")):
            problems.append("amiSelectorTerms: expected at least one of tags, id, name, alias, ssmParameter")
        alias = term.get("alias")
        if alias is not None:
            family, _, version = alias.partition("@")
            if not family.isalnum() or not version:
                problems.append(f"alias {alias!r} must match the format 'family@version'")
            elif family not in _AMI_FAMILIES:
                problems.append(f"alias family {family!r} is not supported")
    for name in ("subnetSelectorTerms", "securityGroupSelectorTerms"):
        terms = spec.get(name, [])
        if not terms:
            problems.append(f"{name} cannot be empty")
        for term in terms:
            if not any(k in term for k in ("tags", "id", "name")):
                problems.append(f"{name}: expected at least one of tags, id, name")
            for key, value in (term.get("tags") or {}).items():
                if key == "" or value == "":
                    problems.append(f"{name}: empty tag keys or values aren't supported")
    for key in spec.get("tags", {}):
        if key == "":
            problems.append("empty tag keys aren't supported")
        if key == "eks:eks-cluster-name":
            problems.append("tag contains a restricted tag matching eks:eks-cluster-name")
    mappings = spec.get("blockDeviceMappings", [])
    if sum(1 for m in mappings if m.get("rootVolume")) > 1:
        problems.append("must have only one blockDeviceMappings with rootVolume")
    for mapping in mappings:
        ebs = mapping.get("ebs", {})
        if ebs and "snapshotID" not in ebs and "volumeSize" not in ebs:
            problems.append("snapshotID or volumeSize must be defined")
    return problems


CEL_CHECKS = {
    ("karpenter.sh/v1", "NodePool"): node_pool_cel_problems,
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): ec2_node_class_cel_problems,
}


def cel_problems(manifest: dict[str, Any]) -> list[str]:
    check = CEL_CHECKS.get((manifest.get("apiVersion", ""), manifest.get("kind", "")))
    return check(manifest) if check else []
