"""The plan diff as a Markdown report for a pull request: access and exposure first, then what is added,
removed and changed, every changed value in full.

The report is a list of sections (`Section`), so other reports (cost, policy) can be appended with
`markdown_report(diff, extra=[Section(...)])` without touching these.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sparkeks.plan import access
from sparkeks.plan.changes import ABSENT, Change
from sparkeks.plan.diff import HELM_RELEASE, PlanDiff, ResourceDiff
from sparkeks.plan.monitor import SECRET

# Values longer than this are shown as a line diff below their table rather than in a cell.
CELL_LIMIT = 100


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)

    def markdown(self) -> list[str]:
        return [f"#### {self.title}", "", *self.lines, ""] if self.lines else []


def _cell(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if value == SECRET:
        return "(secret)"
    text = json.dumps(value, sort_keys=True)  # quoted: "4000" and 4000 differ
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > CELL_LIMIT)


def _value_diff(path: str, old: Any, new: Any) -> list[str]:
    """A long or multi-line value as a line diff: every changed line, nothing cut."""
    old_lines = [] if old is ABSENT else str(old).splitlines()
    new_lines = [] if new is ABSENT else str(new).splitlines()
    body = [line.rstrip("\n") for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=2)][2:]
    return [f"`{path}`:", "", "```diff", *body, "```", ""]


def change_lines(changes: list[Change]) -> list[str]:
    """A table of the short changes, then a line diff per long one."""
    rows, blocks = ["| path | before | after |", "|---|---|---|"], []
    for path, old, new in changes:
        if old == SECRET or new == SECRET:
            # A secret's value never appears; that it changed does.
            rows.append(f"| `{path}` | (secret) | changed (secret) |")
        elif _is_long(old) or _is_long(new):
            blocks += _value_diff(path, old, new)
        else:
            rows.append(f"| `{path}` | {_cell(old)} | {_cell(new)} |")
    return (rows + [""] if len(rows) > 2 else []) + blocks


def _nested(head: str, lines: Iterable[str]) -> list[str]:
    return [head, *(f"  - {line}" for line in lines)]


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
    if diff.secrets:
        extra.append(f"{len(diff.secrets)} secrets")
    return ", ".join(parts) + (f" ({', '.join(extra)} differ)." if extra else ".")


def _access_changes(resource: ResourceDiff) -> list[str]:
    return access.changes(resource.ref, resource.before, resource.after, resource.changes)


def access_section(diff: PlanDiff) -> Section:
    lines: list[str] = []
    for word, refs in (("added", diff.added), ("removed", diff.removed)):
        for ref in refs:
            facts = access.describe(ref, diff.inputs[ref])
            if facts:
                lines += _nested(f"- {word} `{ref}`", facts)
    for resource in diff.changed:
        facts = _access_changes(resource)
        if facts:
            lines += _nested(f"- changed `{resource.ref}`", facts)
    lines += [f"- secret `{key}`: changed (secret)" for key in diff.secrets]
    return Section("Access and exposure (IAM, network, secrets)", lines)


def added_section(diff: PlanDiff) -> Section:
    lines: list[str] = []
    for ref in diff.added:
        lines += _nested(f"- `{ref}`", access.details(ref, diff.inputs[ref]))
    return Section("Added", lines)


def removed_section(diff: PlanDiff) -> Section:
    return Section("Removed", [f"- `{ref}`" for ref in diff.removed])


def changed_section(diff: PlanDiff) -> Section:
    lines: list[str] = []
    for resource in diff.changed:
        typ = access.resource_type(resource.ref)
        policy_keys = set(access.policy_inputs(resource.before)) | set(access.policy_inputs(resource.after))
        shown_above = bool(_access_changes(resource))
        rest, notes = [], []
        for change in resource.changes:
            path = change[0]
            if typ == HELM_RELEASE and access.top_key(path) == "values":
                notes.append("values: under Helm values")
            elif shown_above and access.is_access_path(typ, path, policy_keys):
                notes.append("access: under Access and exposure")
            else:
                rest.append(change)
        lines += [f"`{resource.ref}`", ""]
        lines += [f"- {note}" for note in dict.fromkeys(notes)] + ([""] if notes else [])
        lines += change_lines(rest)
    return Section("Changed", lines)


def helm_section(diff: PlanDiff) -> Section:
    lines: list[str] = []
    for release, changes in diff.helm.items():
        lines += [f"`{release}`", "", *change_lines(changes)]
    return Section("Helm values", lines)


def manifests_section(diff: PlanDiff) -> Section:
    """Whole Kubernetes objects that come or go (changed ones are under Changed, path by path)."""
    lines: list[str] = []
    for name, text in diff.manifests.items():
        status = diff.manifest_status.get(name, "changed")
        if status != "changed":
            lines += [f"<details><summary>{status} <code>{name}</code></summary>", "", "```diff", text.rstrip("\n"), "```", "", "</details>", ""]
    return Section("Kubernetes objects added or removed", lines)


def outputs_section(diff: PlanDiff) -> Section:
    return Section("Stack outputs", change_lines(diff.outputs) if diff.outputs else [])


def sections(diff: PlanDiff) -> list[Section]:
    return [
        access_section(diff),
        added_section(diff),
        removed_section(diff),
        changed_section(diff),
        helm_section(diff),
        manifests_section(diff),
        outputs_section(diff),
    ]


def markdown_report(diff: PlanDiff, title: str | None = None, extra: Iterable[Section] = ()) -> str:
    lines = [f"### Offline plan diff: {title or diff.stack}", "", f"**{summary(diff)}**", ""]
    if diff.anything:
        for section in [*sections(diff), *extra]:
            lines += section.markdown()
    return "\n".join(lines)
