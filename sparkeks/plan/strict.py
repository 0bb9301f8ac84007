"""Every rendered Kubernetes object checked the way the API server checks it with strict field validation.

Built-in kinds validate against the OpenAPI of the stack's Kubernetes minor (the strict schemas the
`kubernetes-validate` package ships, read as data: nothing is imported from it); custom resources against
the `openAPIV3Schema` of the pinned CRDs (`SPARK_EKS_SCHEMAS`, default ../shared/schemas). Both are made
as strict as the API server: an unknown field is an error (the server would refuse it under
`fieldValidation=Strict`, or prune it silently otherwise), a quantity must parse, an enum must match.
CEL rules are not evaluated here (`sparkeks.conformance.cel_problems` covers the Karpenter ones in tests).

Cost: validators are compiled once per kind and process by `jsonschema-rs` (a compiled validator); the
plan of 100 teams spends tens of milliseconds here (figures in the README).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sparkeks.conformance import QUANTITY, QUANTITY_ALLOWED

DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
_QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_OBJECT_META_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# The API server parses a quantity from a string in its own format, or from a bare JSON number (or null,
# read as zero); the published OpenAPI leaves the string free.
_QUANTITY_SCHEMA = {"anyOf": [{"type": "string", "pattern": QUANTITY}, {"type": ["number", "null"]}]}
_VALUE_WIDTH = 80


class SchemasMissing(ModuleNotFoundError):
    """kubernetes-validate (the API server's schemas) is not installed in this Python."""


@cache
def builtin_schema_dir(minor: str) -> Path:
    """The strict schemas of Kubernetes `minor` inside the installed kubernetes-validate (found, not imported)."""
    from importlib.util import find_spec

    spec = find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise SchemasMissing("No module named 'kubernetes_validate'", name="kubernetes_validate")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema" / f"v{minor}.0-local-strict"


@cache
def _definitions(minor: str) -> dict[str, Any]:
    document = json.loads((builtin_schema_dir(minor) / "_definitions.json").read_text())
    document["$defs"][_QUANTITY_DEF] = _QUANTITY_SCHEMA
    return document


@cache
def _registry(minor: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Registry([(DEFINITIONS_URI, _definitions(minor))])


@dataclass(frozen=True)
class _Compiled:
    validator: Any
    root: dict[str, Any]
    """The schema the validator was built from (to name the fields an object allows)."""


def _builtin_file(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{kind.lower()}-{group.split('.')[0]}-{version}.json" if group else f"{kind.lower()}-{version}.json"


@cache
def _builtin(minor: str, api_version: str, kind: str) -> _Compiled | None:
    path = builtin_schema_dir(minor) / _builtin_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    # The file name keeps only the first label of the group: a custom `apps.example.com/v1` Deployment
    # must not borrow the built-in schema.
    kinds = schema.get("x-kubernetes-group-version-kind") or []
    group, _, version = api_version.rpartition("/")
    if not any(k.get("group", "") == group and k.get("version") == version and k.get("kind") == kind for k in kinds):
        return None
    import jsonschema_rs

    return _Compiled(jsonschema_rs.validator_for(schema, registry=_registry(minor)), schema)


# --- custom resources


def _strict(node: Any) -> Any:
    """A structural CRD schema as the API server applies it: unknown fields are errors unless the schema
    keeps them (`x-kubernetes-preserve-unknown-fields`), and `nullable` admits null. Only the structural
    part (properties, items, additionalProperties) is tightened, never the branches of anyOf/allOf/oneOf."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if "properties" in out:
        out["properties"] = {k: _strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _strict(out["additionalProperties"])
    if isinstance(out.get("items"), dict):
        out["items"] = _strict(out["items"])
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _crd_schema(minor: str, schema: dict[str, Any]) -> dict[str, Any]:
    strict = _strict(schema)
    # A custom resource's metadata is an ObjectMeta like any other object's.
    strict.setdefault("properties", {})["metadata"] = {"$ref": f"{DEFINITIONS_URI}#/$defs/{_OBJECT_META_DEF}"}
    return strict


_CRD_HEAD = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.MULTILINE)


@cache
def _crd_files(root: Path) -> tuple[tuple[Path, str], ...]:
    """CRD files under `root` with their text; parsed only when an object needs one of their kinds."""
    found = []
    for path in sorted(root.rglob("*.yaml")):
        text = path.read_text()
        if _CRD_HEAD.search(text):
            found.append((path, text))
    return tuple(found)


@cache
def _crd(root: Path, minor: str, api_version: str, kind: str) -> _Compiled | None:
    from sparkeks import yamlio

    group, _, version = api_version.rpartition("/")
    for _path, text in _crd_files(root):
        if f"kind: {kind}" not in text or f"group: {group}" not in text:
            continue
        for doc in yamlio.load_all(text):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            if spec.get("group") != group or (spec.get("names") or {}).get("kind") != kind:
                continue
            for served in spec.get("versions") or []:
                if served.get("name") == version:
                    import jsonschema_rs

                    schema = _crd_schema(minor, served["schema"]["openAPIV3Schema"])
                    return _Compiled(jsonschema_rs.validator_for(schema, registry=_registry(minor)), schema)
    return None


# --- one line per problem


_PLAIN = re.compile(r"^[A-Za-z0-9_.:/-]+$")


def _word(value: Any) -> str:
    # Names and keys as written when plain, JSON-quoted otherwise: every problem stays on one line.
    return value if isinstance(value, str) and _PLAIN.match(value) else json.dumps(value, default=str)


def object_label(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    name = _word(meta.get("name"))
    return f"{_word(manifest.get('kind'))} {_word(meta['namespace'])}/{name}" if meta.get("namespace") else f"{_word(manifest.get('kind'))} {name}"


def _path(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{_word(part)}" if text else _word(part))
    return text or "(the object)"


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


def _schema_at(root: dict[str, Any], minor: str, schema_path: list[str | int]) -> Any:
    node: Any = _definitions(minor) if schema_path and schema_path[0] == "$defs" else root
    for part in schema_path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


_TYPE_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false", "object": "a mapping", "array": "a list"}


def _explain(error: Any, compiled: _Compiled, minor: str) -> list[tuple[str, str]]:
    """(field path, what is wrong and what is allowed) for one validation error."""
    kind = error.kind
    name = kind.name
    path = list(error.instance_path)
    if name == "additionalProperties":
        schema = _schema_at(compiled.root, minor, list(error.schema_path)[:-1])
        allowed = sorted((schema or {}).get("properties") or {})
        hint = f"allowed here: {', '.join(allowed)}" if allowed else "no fields are allowed here"
        return [(_path([*path, key]), f"unknown field; {hint}") for key in sorted(kind.unexpected)]
    if name == "required":
        return [(_path([*path, kind.property]), "required, and missing")]
    value = _value(error.instance)
    if _QUANTITY_DEF in error.schema_path or (name == "pattern" and _is_quantity(compiled.root, minor, list(error.schema_path)[:-1])):
        return [(_path(path), f"{value}: not a Kubernetes quantity ({QUANTITY_ALLOWED})")]
    if name == "enum":
        return [(_path(path), f"{value}: not one of {', '.join(json.dumps(o) for o in kind.options)}")]
    if name == "type":
        return [(_path(path), f"{value}: must be {' or '.join(_TYPE_WORDS.get(t, t) for t in kind.types if t != 'null')}")]
    if name == "pattern":
        return [(_path(path), f"{value}: must match {kind.pattern}")]
    if name in ("oneOfNotValid", "anyOf"):
        schema = _schema_at(compiled.root, minor, list(error.schema_path))
        types = [t for branch in schema or [] if isinstance(branch, dict) for t in _as_list(branch.get("type")) if t != "null"]
        if types:
            return [(_path(path), f"{value}: must be {' or '.join(_TYPE_WORDS.get(t, t) for t in dict.fromkeys(types))}")]
    return [(_path(path), f"{value}: {error.message}")]


def _is_quantity(root: dict[str, Any], minor: str, schema_path: list[str | int]) -> bool:
    # CRDs write a quantity as an int-or-string with the API server's pattern (Karpenter's NodePool limits).
    schema = _schema_at(root, minor, schema_path)
    return isinstance(schema, dict) and bool(schema.get("x-kubernetes-int-or-string"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


@dataclass
class StrictCheck:
    """Strict validation of a plan's objects for one Kubernetes minor; `crd_root` None when no pinned
    CRD schemas are at hand (custom resources then go unchecked, and `notes` says so)."""

    minor: str
    crd_root: Path | None
    checked: dict[str, int] = field(default_factory=lambda: {"builtin": 0, "custom": 0, "unchecked": 0})

    def problems(self, manifest: dict[str, Any]) -> list[str]:
        api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
        label = object_label(manifest)
        if not isinstance(api_version, str) or not isinstance(kind, str):
            return [f"{label}: apiVersion/kind: {_value(api_version)}/{_value(kind)}: an object needs both as strings"]
        compiled = _builtin(self.minor, api_version, kind)
        if compiled is not None:
            self.checked["builtin"] += 1
        elif self.crd_root is None:
            self.checked["unchecked"] += 1
            return []
        else:
            compiled = _crd(self.crd_root, self.minor, api_version, kind)
            if compiled is None:
                return [
                    f"{label}: apiVersion {api_version}, kind {kind}: not a built-in kind of Kubernetes {self.minor}, "
                    "and no pinned CRD defines it"
                ]
            self.checked["custom"] += 1
        if compiled.validator.is_valid(manifest):
            return []
        found = [pair for error in compiled.validator.iter_errors(manifest) for pair in _explain(error, compiled, self.minor)]
        return [f"{label}: {where}: {what}" for where, what in sorted(set(found))]

    def notes(self) -> list[str]:
        counted = f"{self.checked['builtin']} built-in objects checked strictly against Kubernetes {self.minor}"
        if self.crd_root is None:
            return [
                f"{counted}; {self.checked['unchecked']} custom resources NOT checked: no pinned CRD schemas found "
                "(set SPARK_EKS_SCHEMAS to a folder of CRD files, e.g. a checkout's ../shared/schemas)."
            ]
        return [f"{counted}, {self.checked['custom']} custom resources against the pinned CRDs."]


def strict_check(minor: str) -> StrictCheck:
    from sparkeks.conformance import schemas_dir

    root = schemas_dir()
    return StrictCheck(minor, root.resolve() if root.is_dir() else None)


def invalid_objects(manifests: list[dict[str, Any]], minor: str) -> tuple[list[str], list[str]]:
    """(one line per problem, summary notes) for the plan's rendered objects."""
    check = strict_check(minor)
    problems = [line for manifest in manifests for line in check.problems(manifest)]
    if check.crd_root is None:
        # Without CRD schemas, the quantities of NodePool limits are still checked by their format.
        from sparkeks.conformance import quantity_problems

        problems += [line for m in manifests if _builtin(minor, str(m.get("apiVersion")), str(m.get("kind"))) is None for line in quantity_problems(m)]
    return problems, check.notes()
