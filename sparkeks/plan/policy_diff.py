"""IAM and resource policy documents compared as documents: which statements, actions, resources,
principals and conditions a change adds or removes, spelled out for a reviewer.

A policy arrives as a JSON string; compared as text, adding one S3 location is a 1,400-character string
against another. Compared here, it is `+ resource arn:aws:s3:::bucket/landing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_LISTS = ("Action", "NotAction", "Resource", "NotResource")


def parse_policy(text: Any) -> dict[str, Any] | None:
    """The document when `text` is an IAM-style policy (a JSON object with Statement), else None."""
    if isinstance(text, dict):
        document = text
    elif isinstance(text, str) and text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return None
    else:
        return None
    return document if isinstance(document, dict) and "Statement" in document else None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return sorted(json.dumps(v, sort_keys=True) if not isinstance(v, str) else v for v in items)


def _principals(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [str(v) for v in _as_list(value)]  # "*"
    return sorted(f"{kind} {who}" for kind, whom in value.items() for who in _as_list(whom))


def _conditions(value: Any) -> list[str]:
    """`{"StringLike": {"s3:prefix": ["a", "b"]}}` -> ["StringLike s3:prefix a", "StringLike s3:prefix b"]."""
    if not isinstance(value, dict):
        return []
    return sorted(
        f"{operator} {key} {item}"
        for operator, tests in value.items()
        for key, values in (tests.items() if isinstance(tests, dict) else [("", tests)])
        for item in _as_list(values)
    )


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: str
    fields: dict[str, tuple[str, ...]]
    """Action, NotAction, Resource, NotResource, Principal, NotPrincipal, Condition: sorted entries."""

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Statement:
        fields = {name: tuple(_as_list(raw.get(name))) for name in _LISTS}
        fields["Principal"] = tuple(_principals(raw.get("Principal")))
        fields["NotPrincipal"] = tuple(_principals(raw.get("NotPrincipal")))
        fields["Condition"] = tuple(_conditions(raw.get("Condition")))
        return cls(raw.get("Sid") or None, str(raw.get("Effect", "Allow")), {k: v for k, v in fields.items() if v})

    def label(self) -> str:
        if self.sid:
            return f"`{self.sid}`"
        actions = self.fields.get("Action") or self.fields.get("NotAction") or ()
        return f"({self.effect} {_code(actions)})"

    def describe(self) -> str:
        """Every part of the statement on one line."""
        parts = [self.effect]
        for name, word in (("Action", ""), ("NotAction", "every action except ")):
            if name in self.fields:
                parts.append(word + _code(self.fields[name]))
        for name, word in (("Resource", "on"), ("NotResource", "on everything except")):
            if name in self.fields:
                parts.append(f"{word} {_code(self.fields[name])}")
        for name, word in (("Principal", "for"), ("NotPrincipal", "for everyone except")):
            if name in self.fields:
                parts.append(f"{word} {_code(self.fields[name])}")
        if "Condition" in self.fields:
            parts.append(f"when {_code(self.fields['Condition'])}")
        return " ".join(parts)


_SINGULAR = {
    "Action": "action",
    "NotAction": "not-action",
    "Resource": "resource",
    "NotResource": "not-resource",
    "Principal": "principal",
    "NotPrincipal": "not-principal",
    "Condition": "condition",
}


def _code(values) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _statements(document: dict[str, Any]) -> list[Statement]:
    raw = document.get("Statement")
    raw = raw if isinstance(raw, list) else [raw]
    return [Statement.of(s) for s in raw if isinstance(s, dict)]


def _similarity(a: Statement, b: Statement) -> float:
    left = {(k, v) for k, vs in a.fields.items() for v in vs}
    right = {(k, v) for k, vs in b.fields.items() for v in vs}
    return len(left & right) / max(1, len(left | right))


def _pair(old: list[Statement], new: list[Statement]) -> tuple[list[tuple[Statement, Statement]], list[Statement], list[Statement]]:
    """Pair statements by Sid, then unnamed ones by likeness (same effect, sharing entries)."""
    pairs: list[tuple[Statement, Statement]] = []
    old_left, new_left = list(old), list(new)
    for statement in list(old_left):
        if statement.sid:
            match = next((s for s in new_left if s.sid == statement.sid), None)
            if match is not None:
                pairs.append((statement, match))
                old_left.remove(statement)
                new_left.remove(match)
    for statement in [s for s in old_left if s in new_left]:  # unchanged unnamed statements
        pairs.append((statement, statement))
        old_left.remove(statement)
        new_left.remove(statement)
    candidates = sorted(
        ((_similarity(a, b), i, j) for i, a in enumerate(old_left) for j, b in enumerate(new_left) if a.effect == b.effect and not a.sid and not b.sid),
        reverse=True,
    )
    used_old: set[int] = set()
    used_new: set[int] = set()
    for score, i, j in candidates:
        if score >= 0.5 and i not in used_old and j not in used_new:
            pairs.append((old_left[i], new_left[j]))
            used_old.add(i)
            used_new.add(j)
    removed = [s for i, s in enumerate(old_left) if i not in used_old]
    added = [s for j, s in enumerate(new_left) if j not in used_new]
    return pairs, removed, added


def describe_policy(document: dict[str, Any]) -> list[str]:
    """Each statement of a document, one line each (for an added or removed resource)."""
    return [f"statement {s.label() + ': ' if s.sid else ''}{s.describe()}" for s in _statements(document)]


def policy_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two documents, one line per statement: `+`/`-` whole statements, `~` entries."""
    pairs, removed, added = _pair(_statements(old), _statements(new))
    lines = [f"- statement {s.label() + ': ' if s.sid else ''}{s.describe()}" for s in removed]
    lines += [f"+ statement {s.label() + ': ' if s.sid else ''}{s.describe()}" for s in added]
    for before, after in pairs:
        entries: list[str] = []
        if before.effect != after.effect:
            entries.append(f"effect {before.effect} -> {after.effect}")
        for name, word in _SINGULAR.items():
            gone = [v for v in before.fields.get(name, ()) if v not in after.fields.get(name, ())]
            came = [v for v in after.fields.get(name, ()) if v not in before.fields.get(name, ())]
            entries += [f"- {word} `{v}`" for v in gone] + [f"+ {word} `{v}`" for v in came]
        if entries:
            lines.append(f"~ statement {before.label()}: {'; '.join(entries)}")
    if old.get("Version") != new.get("Version"):
        lines.append(f"~ version {old.get('Version')} -> {new.get('Version')}")
    return lines
