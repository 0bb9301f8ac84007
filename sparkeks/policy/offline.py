"""The guardrails over an offline plan's inventory, for forks and machines without Pulumi credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sparkeks.policy.rules import RULES, Resource, Violation, evaluate


def resources_of(inventory: dict[str, Any]) -> list[Resource]:
    """Inventory entries as the rules see them: `type::name` keys, the provider's inputs, dependencies."""
    entries = inventory["resources"]
    inputs_by_ref = {f"{r['type']}::{r['name']}": r["inputs"] for r in entries}
    resources = []
    for entry in entries:
        options = entry.get("options") or {}
        provider = options.get("provider")
        resources.append(
            Resource(
                key=f"{entry['type']}::{entry['name']}",
                type=entry["type"],
                name=entry["name"],
                inputs=entry["inputs"],
                protect=bool(options.get("protect")),
                provider_inputs=inputs_by_ref.get(provider, {}) if provider else {},
                depends_on=frozenset(options.get("dependsOn") or ()),
            )
        )
    return resources


def check_inventory(path: Path) -> list[Violation]:
    return evaluate(resources_of(json.loads(path.read_text())))


def report(violations: list[Violation]) -> list[str]:
    """One line per violation, then one line naming the policies that held."""
    lines = [f"policy {v.policy}: {v.key}: {v.message}" for v in violations]
    failed = {v.policy for v in violations}
    held = [rule.name for rule in RULES if rule.name not in failed]
    count = f" ({len(violations)} violation{'s' if len(violations) > 1 else ''})" if violations else ""
    lines.append(f"{len(held)}/{len(RULES)} policies pass{count}")
    return lines
