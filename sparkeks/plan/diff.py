"""Compare two offline plans: what a change would add, remove and change.

Works on plan directories only (inventory.json, manifests/, helm/), so a pull request from a fork can be
reviewed without any credentials: plan the base, plan the head, diff. The Markdown report is built in
`sparkeks.plan.report`.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sparkeks import yamlio
from sparkeks.plan.changes import ABSENT, Change, compare, flatten
from sparkeks.plan.monitor import SECRET

__all__ = ["ABSENT", "Change", "PlanDiff", "PlanDiffError", "ResourceDiff", "compare", "diff_plans", "flatten", "markdown_report"]

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


class PlanDiffError(Exception):
    pass


@dataclass
class ResourceDiff:
    ref: str
    changes: list[Change] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict, repr=False)
    """Inputs in the base plan (the access section reads policies and rules as documents)."""
    after: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class PlanDiff:
    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ResourceDiff] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    manifests: dict[str, str] = field(default_factory=dict)
    """file -> unified diff (added and removed files diff against nothing)"""
    manifest_status: dict[str, str] = field(default_factory=dict)
    """file -> added, removed or changed"""
    helm: dict[str, list[Change]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    """Inputs of added (head) and removed (base) resources, by ref."""
    secrets: list[str] = field(default_factory=list)
    """Secret config keys whose stored (encrypted) value differs."""

    @property
    def anything(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.outputs or self.manifests or self.helm or self.secrets)


def _read(path: Path, side: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PlanDiffError(f"{side}: {path}: cannot read: {getattr(err, 'strerror', None) or err}") from None


def _load_plan(directory: Path, side: str) -> dict[str, Any]:
    inventory = directory / "inventory.json"
    failed = directory / "PLAN-FAILED.txt"
    if failed.is_file():
        reason = (failed.read_text().splitlines()[1:] or ["(no reason recorded)"])[0]
        raise PlanDiffError(f"{side}: {directory}: its last plan failed: {reason}")
    if not inventory.is_file():
        raise PlanDiffError(f"{side}: {directory}: no inventory.json; write one with `python -m sparkeks plan <stack> --out {directory}`")
    try:
        plan = json.loads(_read(inventory, side))
    except ValueError as err:
        raise PlanDiffError(f"{side}: {inventory}: not valid JSON ({err}); write it with `python -m sparkeks plan`") from None
    resources = plan.get("resources") if isinstance(plan, dict) else None
    well_formed = isinstance(resources, list) and all(
        isinstance(r, dict)
        and isinstance(r.get("type"), str)
        and isinstance(r.get("name"), str)
        and isinstance(r.get("inputs", {}), dict)
        and isinstance(r.get("options", {}), dict)
        for r in resources
    )
    if not well_formed or not isinstance(plan.get("stack"), str):
        raise PlanDiffError(f"{side}: {inventory}: resources: not an offline plan's inventory (stack, resources[] with type, name and mappings of inputs and options)")
    return plan


def _files(directory: Path, side: str) -> dict[str, str]:
    return {p.name: _read(p, side) for p in sorted(directory.glob("*.yaml")) if p.is_file()} if directory.is_dir() else {}


def _helm_values(text: str, path: str, side: str) -> Any:
    try:
        return yamlio.load(text)
    except yaml.YAMLError as err:
        reason = (getattr(err, "problem", None) or str(err)).splitlines()[0]
        raise PlanDiffError(f"{side}: {path}: not valid YAML: {reason}") from None


def _secret_paths(inputs: dict[str, Any]) -> list[str]:
    return [path for path, value in flatten(inputs).items() if value == SECRET]


def diff_plans(base_dir: Path, head_dir: Path) -> PlanDiff:
    base, head = _load_plan(base_dir, "base"), _load_plan(head_dir, "head")
    before = {f"{r['type']}::{r['name']}": r for r in base["resources"]}
    after = {f"{r['type']}::{r['name']}": r for r in head["resources"]}
    diff = PlanDiff(stack=head["stack"])
    diff.added = sorted(set(after) - set(before))
    diff.removed = sorted(set(before) - set(after))
    diff.inputs = {ref: after[ref].get("inputs") or {} for ref in diff.added} | {ref: before[ref].get("inputs") or {} for ref in diff.removed}

    # A secret's value never reaches the plan; the fingerprint of its ciphertext does (see runner.py).
    # A plan written before fingerprints were recorded has no "secrets": nothing to compare against.
    if "secrets" in base and "secrets" in head:
        old_secrets, new_secrets = base["secrets"], head["secrets"]
        diff.secrets = sorted(k for k in set(old_secrets) | set(new_secrets) if old_secrets.get(k) != new_secrets.get(k))
    for ref in sorted(set(before) & set(after)):
        changes = compare(before[ref].get("inputs") or {}, after[ref].get("inputs") or {})
        changes += [(f"(options) {p}", o, n) for p, o, n in compare(before[ref].get("options"), after[ref].get("options"))]
        if set(after[ref].get("secretConfig", [])) & set(diff.secrets):
            unchanged = {p for p, _, _ in changes}
            changes += [(p, SECRET, SECRET) for p in _secret_paths(after[ref].get("inputs") or {}) if p not in unchanged]
        if changes:
            diff.changed.append(ResourceDiff(ref, sorted(changes, key=lambda c: c[0]), before[ref].get("inputs") or {}, after[ref].get("inputs") or {}))
    diff.outputs = compare(base.get("outputs", {}), head.get("outputs", {}))

    old_manifests, new_manifests = _files(base_dir / "manifests", "base"), _files(head_dir / "manifests", "head")
    for name in sorted(set(old_manifests) | set(new_manifests)):
        old, new = old_manifests.get(name, ""), new_manifests.get(name, "")
        if old != new:
            lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"base/{name}", f"head/{name}")
            diff.manifests[name] = "".join(lines)
            diff.manifest_status[name] = "added" if not old else "removed" if not new else "changed"

    old_helm, new_helm = _files(base_dir / "helm", "base"), _files(head_dir / "helm", "head")
    for name in sorted(set(old_helm) | set(new_helm)):
        old = _helm_values(old_helm[name], f"{base_dir}/helm/{name}", "base") if name in old_helm else {}
        new = _helm_values(new_helm[name], f"{head_dir}/helm/{name}", "head") if name in new_helm else {}
        changes = compare(old, new)
        if changes:
            diff.helm[name.removesuffix(".yaml")] = changes
    return diff


def markdown_report(diff: PlanDiff, title: str | None = None, extra=()) -> str:
    """The report (`sparkeks.plan.report`); `extra` sections (e.g. cost) go after the built-in ones."""
    from sparkeks.plan.report import markdown_report as render

    return render(diff, title, extra)
