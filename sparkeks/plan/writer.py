"""Write a `Plan` to disk: inventory.json, manifests/, helm/ and summary.md. Byte-stable across runs."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from sparkeks.gc_policy import program_gc
from sparkeks.plan.runner import Plan
from sparkeks.yamlio import to_yaml

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_NOT_MANIFESTS = ("pulumi:providers:", "kubernetes:helm.sh/", "kubernetes:yaml:", "kubernetes:kustomize:")
_MANIFEST_HEAD = ("apiVersion", "kind", "metadata")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def is_manifest(resource: dict[str, Any]) -> bool:
    return resource["type"].startswith("kubernetes:") and not resource["type"].startswith(_NOT_MANIFESTS)


def manifest_of(resource: dict[str, Any]) -> dict[str, Any]:
    inputs = _sorted(resource["inputs"])
    head = {k: inputs[k] for k in _MANIFEST_HEAD if k in inputs}
    return {**head, **{k: v for k, v in inputs.items() if k not in _MANIFEST_HEAD}}


def manifest_filename(manifest: dict[str, Any], fallback: str) -> str:
    meta = manifest.get("metadata") or {}
    parts = [manifest.get("kind", "object").lower(), meta.get("namespace"), meta.get("name") or fallback]
    return re.sub(r"[^a-z0-9._-]", "_", ".".join(p for p in parts if p).lower()) + ".yaml"


def helm_release_of(resource: dict[str, Any]) -> dict[str, Any]:
    inputs = resource["inputs"]
    return {
        "release": inputs.get("name", resource["name"]),
        "chart": inputs.get("chart"),
        "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace"),
        "values": _sorted(inputs.get("values") or {}),
    }


def cost_of(plan: Plan) -> dict[str, Any] | None:
    if plan.config is None:
        return None
    from sparkeks.cost.estimate import estimate

    return estimate(plan.resources, plan.config)


def inventory_of(plan: Plan, cost: dict[str, Any] | None = None) -> dict[str, Any]:
    inventory = {
        "project": plan.project,
        "stack": plan.stack,
        "resources": [_sorted(r) for r in plan.resources],
        "outputs": _sorted(plan.outputs),
        "secrets": dict(sorted((plan.secrets or {}).items())),
    }
    if cost is not None:
        inventory["cost"] = cost
    return inventory


def warning_lines(config: Any) -> list[str]:
    from sparkeks.plan.warnings import plan_warnings

    warnings = plan_warnings(config)
    return ["## Warnings", "", *(f"- **Warning:** {w}" for w in warnings), ""] if warnings else []


def summary_of(plan: Plan) -> str:
    counts = Counter(r["type"] for r in plan.resources)
    lines = [
        f"# Offline plan: {plan.project} / {plan.stack}",
        "",
        f"{len(plan.resources)} resources ({sum(1 for r in plan.resources if is_manifest(r))} Kubernetes objects, "
        f"{counts.get(HELM_RELEASE, 0)} Helm releases).",
        *(["", *plan.notes] if plan.notes else []),
        "",
        *warning_lines(plan.config),
        "## Resources by type",
        "",
        "| type | count |",
        "|---|---:|",
        *(f"| `{t}` | {n} |" for t, n in sorted(counts.items())),
        "",
        "## Component tree",
        "",
    ]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in plan.resources:
        children.setdefault(resource["parent"], []).append(resource)

    def walk(parent: str | None, depth: int) -> None:
        for child in children.get(parent, []):
            ref = f"{child['type']}::{child['name']}"
            flags = [f for f in ("protect", "retainOnDelete") if child["options"].get(f)]
            suffix = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"{'  ' * depth}- `{child['name']}` {child['type']}{suffix}")
            walk(ref, depth + 1)

    walk(None, 0)
    from sparkeks.capacity.check import footprint_table

    footprint = footprint_table(plan.resources)
    lines += ["", *footprint] if footprint else []
    if plan.config is not None and plan.config.teams:
        from sparkeks.teams.report import markdown_report

        # What each team is guaranteed and may burst to, as deployed: reviewers see a queue change in the preview.
        lines += ["", *markdown_report(plan.stack, plan.config).rstrip("\n").split("\n")]
    lines += ["", "## Stack outputs", ""]
    lines += [f"- `{k}`: {json.dumps(v, sort_keys=True)}" for k, v in sorted(plan.outputs.items())]
    return "\n".join(lines) + "\n"


FAILED_MARK = "PLAN-FAILED.txt"
_PLAN_FILES = ("inventory.json", "summary.md", "cost.md", FAILED_MARK)
_PLAN_DIRS = ("manifests", "helm")


def _remove_previous(out_dir: Path) -> None:
    # Only what a plan writes is removed, so a mistyped --out cannot wipe unrelated files.
    for stale in _PLAN_DIRS:
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    for stale in _PLAN_FILES:
        (out_dir / stale).unlink(missing_ok=True)


def mark_failed(out_dir: Path, lines: list[str]) -> None:
    """A failed plan leaves no earlier plan behind to be mistaken for its result: the previous files go,
    and a mark says why (a diff against this directory reports the failure)."""
    if not out_dir.is_dir():
        return
    _remove_previous(out_dir)
    (out_dir / FAILED_MARK).write_text("The last plan of this stack failed:\n" + "".join(f"{line}\n" for line in lines))


def write_plan(plan: Plan, out_dir: Path) -> None:
    with program_gc():  # the plan is alive and large; full collections would walk it again and again
        _write_plan(plan, out_dir)


def _write_plan(plan: Plan, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous(out_dir)
    (out_dir / "manifests").mkdir()
    (out_dir / "helm").mkdir()

    cost = cost_of(plan)
    (out_dir / "inventory.json").write_text(json.dumps(inventory_of(plan, cost), indent=2) + "\n")
    for resource in plan.resources:
        if resource["type"] == HELM_RELEASE:
            release = helm_release_of(resource)
            (out_dir / "helm" / f"{release['release']}.yaml").write_text(to_yaml(release))
        elif is_manifest(resource):
            manifest = manifest_of(resource)
            path = out_dir / "manifests" / manifest_filename(manifest, resource["name"])
            if path.exists():
                raise ValueError(f"two Kubernetes objects would both be written to {path.name}")
            path.write_text(to_yaml(manifest))
    (out_dir / "summary.md").write_text(summary_of(plan))
    if cost is not None:
        from sparkeks.cost.report import markdown

        (out_dir / "cost.md").write_text(markdown(plan.stack, cost))
