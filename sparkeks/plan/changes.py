"""Leaf-by-leaf comparison of two values (resource inputs, Helm values, outputs).

Strings that hold JSON (policies, event patterns, add-on configuration) are compared as the structures
they hold, so a change shows as the keys and items that changed, not as two long strings.
"""

from __future__ import annotations

import json
from typing import Any

Change = tuple[str, Any, Any]  # (path, old, new); old/new are ABSENT for added/removed keys


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()
JSON_MARK = " (JSON)"


def _scalars(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and not any(isinstance(v, (dict, list)) for v in value)


def flatten(value: Any, prefix: str = "", *, scalar_lists: bool = False) -> dict[str, Any]:
    """Leaves by path: `spec.limits.cpu`, `rules[0].verbs[2]`; with `scalar_lists`, a list of plain
    values is one leaf (`rules[0].verbs`), so an insertion is one added item, not every index after it."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key), scalar_lists=scalar_lists))
        return out
    if scalar_lists and _scalars(value):
        return {prefix: value}
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]", scalar_lists=scalar_lists))
        return out
    return {prefix: value}


def parse_json_container(value: Any) -> Any:
    """The object or array a string holds, or None when it holds none."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (dict, list)) else None


def _list_changes(path: str, before: list, after: list) -> list[Change]:
    """Items removed (`path[-]`) and added (`path[+]`); a pure reordering as the whole list."""
    removed = [v for v in before if v not in after]
    added = [v for v in after if v not in before]
    if not removed and not added:
        return [(path, before, after)]
    return [(f"{path}[-]", v, ABSENT) for v in removed] + [(f"{path}[+]", ABSENT, v) for v in added]


def compare(old: Any, new: Any) -> list[Change]:
    a, b = flatten(old, scalar_lists=True), flatten(new, scalar_lists=True)
    changes: list[Change] = []
    for path in sorted(set(a) | set(b)):
        before, after = a.get(path, ABSENT), b.get(path, ABSENT)
        if before == after:
            continue
        if isinstance(before, list) and isinstance(after, list):
            changes += _list_changes(path, before, after)
            continue
        inner_old, inner_new = parse_json_container(before), parse_json_container(after)
        if inner_old is not None and inner_new is not None:
            changes += [(f"{path}{JSON_MARK}.{p}" if p else f"{path}{JSON_MARK}", o, n) for p, o, n in compare(inner_old, inner_new)]
        else:
            changes.append((path, before, after))
    return changes
