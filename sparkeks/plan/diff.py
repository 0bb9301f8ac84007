"""Compare two offline plans: what a change would add, remove and change, as a Markdown report.

Works on plan directories only (inventory.json, manifests/, helm/), so a pull request from a fork can be
reviewed without any credentials: plan the base, plan the head, diff.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparkeks import yamlio
from sparkeks.plan.monitor import SECRET

Change = tuple[str, Any, Any]  # (path, old, new); old/new are _ABSENT for added/removed keys


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


class PlanDiffError(Exception):
    pass


@dataclass
class ResourceDiff:
    ref: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class PlanDiff:
    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ResourceDiff] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    manifests: dict[str, str] = field(default_factory=dict)
    """file -> unified diff (added and removed files diff against nothing)"""
    helm: dict[str, list[Change]] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.outputs or self.manifests or self.helm)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by path: `spec.limits.cpu`, `rules[0].verbs[2]`."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def compare(old: Any, new: Any) -> list[Change]:
    a, b = flatten(old), flatten(new)
    changes = []
    for path in sorted(set(a) | set(b)):
        before, after = a.get(path, _ABSENT), b.get(path, _ABSENT)
        if before != after:
            changes.append((path, before, after))
    return changes


def _load_plan(directory: Path, side: str) -> dict[str, Any]:
    inventory = directory / "inventory.json"
    failed = directory / "PLAN-FAILED.txt"
    if failed.is_file():
        reason = (failed.read_text().splitlines()[1:] or ["(no reason recorded)"])[0]
        raise PlanDiffError(f"{side}: {directory}: its last plan failed: {reason}")
    if not inventory.is_file():
        raise PlanDiffError(f"{side}: {directory}: no inventory.json; write one with `python -m sparkeks plan <stack> --out {directory}`")
    return json.loads(inventory.read_text())


def _files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.glob("*.yaml"))} if directory.is_dir() else {}


def diff_plans(base_dir: Path, head_dir: Path) -> PlanDiff:
    base, head = _load_plan(base_dir, "base"), _load_plan(head_dir, "head")
    before = {f"{r['type']}::{r['name']}": r for r in base["resources"]}
    after = {f"{r['type']}::{r['name']}": r for r in head["resources"]}
    diff = PlanDiff(stack=head["stack"])
    diff.added = sorted(set(after) - set(before))
    diff.removed = sorted(set(before) - set(after))
    for ref in sorted(set(before) & set(after)):
        changes = compare(before[ref]["inputs"], after[ref]["inputs"])
        changes += [(f"(options) {p}", o, n) for p, o, n in compare(before[ref]["options"], after[ref]["options"])]
        if changes:
            diff.changed.append(ResourceDiff(ref, changes))
    diff.outputs = compare(base.get("outputs", {}), head.get("outputs", {}))

    old_manifests, new_manifests = _files(base_dir / "manifests"), _files(head_dir / "manifests")
    for name in sorted(set(old_manifests) | set(new_manifests)):
        old, new = old_manifests.get(name, ""), new_manifests.get(name, "")
        if old != new:
            lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"base/{name}", f"head/{name}")
            diff.manifests[name] = "".join(lines)

    old_helm, new_helm = _files(base_dir / "helm"), _files(head_dir / "helm")
    for name in sorted(set(old_helm) | set(new_helm)):
        old = yamlio.load(old_helm[name]) if name in old_helm else {}
        new = yamlio.load(new_helm[name]) if name in new_helm else {}
        changes = compare(old, new)
        if changes:
            diff.helm[name.removesuffix(".yaml")] = changes
    return diff


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    if value == SECRET:
        return "(secret)"
    text = json.dumps(value, sort_keys=True)
    text = text if len(text) <= 80 else text[:77] + "..."
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _change_rows(changes: list[Change]) -> list[str]:
    rows = ["| path | before | after |", "|---|---|---|"]
    for path, old, new in changes:
        if old == SECRET or new == SECRET:
            # A secret's value never appears; that it changed does.
            rows.append(f"| `{path}` | (secret) | (secret, changed) |")
        else:
            rows.append(f"| `{path}` | {_show(old)} | {_show(new)} |")
    return rows


def summary(diff: PlanDiff) -> str:
    if not diff.anything:
        return "No changes."
    parts = [f"{len(diff.added)} to add", f"{len(diff.changed)} to change", f"{len(diff.removed)} to remove"]
    extra = []
    if diff.manifests:
        extra.append(f"{len(diff.manifests)} Kubernetes manifests")
    if diff.helm:
        extra.append(f"{len(diff.helm)} Helm releases")
    if diff.outputs:
        extra.append(f"{len(diff.outputs)} outputs")
    return ", ".join(parts) + (f" ({', '.join(extra)} differ)." if extra else ".")


def markdown_report(diff: PlanDiff, title: str | None = None) -> str:
    lines = [f"### Offline plan diff: {title or diff.stack}", "", f"**{summary(diff)}**", ""]
    if not diff.anything:
        return "\n".join(lines)
    if diff.added:
        lines += ["#### Added", "", *(f"- `{ref}`" for ref in diff.added), ""]
    if diff.removed:
        lines += ["#### Removed", "", *(f"- `{ref}`" for ref in diff.removed), ""]
    if diff.changed:
        lines += ["#### Changed", ""]
        for resource in diff.changed:
            lines += [f"`{resource.ref}`", "", *_change_rows(resource.changes), ""]
    if diff.helm:
        lines += ["#### Helm values", ""]
        for release, changes in diff.helm.items():
            lines += [f"`{release}`", "", *_change_rows(changes), ""]
    if diff.manifests:
        lines += ["#### Kubernetes manifests", ""]
        for name, text in diff.manifests.items():
            lines += [f"<details><summary><code>{name}</code></summary>", "", "```diff", text.rstrip("\n"), "```", "", "</details>", ""]
    if diff.outputs:
        lines += ["#### Stack outputs", "", *_change_rows(diff.outputs), ""]
    return "\n".join(lines)
