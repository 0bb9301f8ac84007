"""What a change costs: the cost blocks of two plans compared, as a section of the pull-request report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sparkeks.cost.report import rate, signed, usd


def _cost(plan_dir: Path) -> dict[str, Any] | None:
    inventory = plan_dir / "inventory.json"
    if not inventory.is_file():
        return None
    return json.loads(inventory.read_text()).get("cost")


def _pools(cost: dict[str, Any] | None) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["nodePool"], p["capacityType"]): p for p in (cost or {}).get("pools", [])}


def fixed_delta(base: dict[str, Any] | None, head: dict[str, Any] | None) -> float:
    return round((head or {}).get("fixedMonthly", {}).get("totalUsd", 0) - (base or {}).get("fixedMonthly", {}).get("totalUsd", 0), 2)


def _pool_rows(base: dict[str, Any] | None, head: dict[str, Any] | None) -> list[str]:
    before, after = _pools(base), _pools(head)
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        old_types = {r["type"]: r.get("usdPerNodeHour") for r in (old or {}).get("instanceTypes", [])}
        new_types = {r["type"]: r.get("usdPerNodeHour") for r in (new or {}).get("instanceTypes", [])}
        old_ceiling, new_ceiling = (old or {}).get("ceilingUsdPerHour"), (new or {}).get("ceilingUsdPerHour")
        if old_types == new_types and old_ceiling == new_ceiling and (old or {}).get("limitCpu") == (new or {}).get("limitCpu"):
            continue
        added = sorted(set(new_types) - set(old_types))
        removed = sorted(set(old_types) - set(new_types))
        repriced = sorted(t for t in set(old_types) & set(new_types) if old_types[t] != new_types[t])
        what = []
        if added:
            what.append("adds " + ", ".join(f"{t} ({rate(new_types[t])}/node-hour)" for t in added))
        if removed:
            what.append("drops " + ", ".join(f"{t} ({rate(old_types[t])}/node-hour)" for t in removed))
        if repriced:
            what.append("reprices " + ", ".join(f"{t} {rate(old_types[t])} -> {rate(new_types[t])}/node-hour" for t in repriced))
        if (old or {}).get("limitCpu") != (new or {}).get("limitCpu"):
            what.append(f"CPU limit {(old or {}).get('limitCpu', '-')} -> {(new or {}).get('limitCpu', '-')}")
        if old is None:
            what.insert(0, "new pool")
        if new is None:
            what.insert(0, "pool removed")
        ceiling = f"{usd(old_ceiling) if old else '-'} -> {usd(new_ceiling) if new else '-'}"
        if old_ceiling is not None and new_ceiling is not None:
            ceiling += f" ({signed(new_ceiling - old_ceiling)})"
        rows.append(f"| `{key[0]}` | {key[1]} | {'; '.join(what)} | {ceiling} |")
    return rows


def _total_on(cost: dict[str, Any] | None, day: str) -> float:
    """The fixed monthly total from `day`: the last dated month starting by then, else the plain total."""
    total = (cost or {}).get("fixedMonthly", {}).get("totalUsd", 0)
    for month in (cost or {}).get("fixedMonthlyFrom") or []:
        if month["date"] <= day:
            total = month["totalUsd"]
    return total


def _dated_rows(base: dict[str, Any] | None, head: dict[str, Any] | None, delta: float) -> list[str]:
    """The fixed monthly from each day a dated change starts in either plan, where the change differs from today's."""
    days = sorted({m["date"] for cost in (base, head) for m in (cost or {}).get("fixedMonthlyFrom") or []})
    rows = []
    for day in days:
        before, after = _total_on(base, day), _total_on(head, day)
        if round(after - before, 2) != delta:
            rows.append(f"From {day}: fixed monthly {usd(before)} -> {usd(after)} (**{signed(round(after - before, 2))} a month**).")
    return rows


def markdown_section(base: dict[str, Any] | None, head: dict[str, Any] | None) -> str:
    """The cost section of a diff report ('' when neither plan has a cost block)."""
    if base is None and head is None:
        return ""
    lines = ["#### Cost", ""]
    old_fixed = (base or {}).get("fixedMonthly", {})
    new_fixed = (head or {}).get("fixedMonthly", {})
    delta = fixed_delta(base, head)
    lines.append(f"Fixed monthly: {usd(old_fixed.get('totalUsd'))} -> {usd(new_fixed.get('totalUsd'))} (**{signed(delta)} a month**).")
    dated = _dated_rows(base, head, delta)
    lines += dated
    if not new_fixed.get("complete", True):
        lines.append(f"Unpriced in the head plan: {', '.join(new_fixed.get('unpriced', []))}.")
    components = sorted(set(old_fixed.get("byComponent", {})) | set(new_fixed.get("byComponent", {})))
    changed = [
        (c, old_fixed.get("byComponent", {}).get(c, 0), new_fixed.get("byComponent", {}).get(c, 0))
        for c in components
        if old_fixed.get("byComponent", {}).get(c) != new_fixed.get("byComponent", {}).get(c)
    ]
    if changed:
        lines += ["", "| component | before | after | change |", "|---|---:|---:|---:|"]
        lines += [f"| {c} | {usd(a)} | {usd(b)} | {signed(b - a)} |" for c, a, b in changed]
    pools = _pool_rows(base, head)
    if pools:
        lines += ["", "Spark capacity (per node-hour while nodes run; ceiling = the pool at its CPU limit for an hour):", ""]
        lines += ["| NodePool | capacity | change | ceiling per hour |", "|---|---|---|---:|", *pools]
    elif not changed and not dated:
        lines += ["", "No change to fixed cost or to the cost of Spark capacity."]
    return "\n".join(lines) + "\n"


def section_for_dirs(base_dir: Path, head_dir: Path) -> str:
    return markdown_section(_cost(base_dir), _cost(head_dir))


def cost_section(base_dir: Path, head_dir: Path):
    """The cost section as a section of the diff report (None when neither plan has a cost block)."""
    from sparkeks.plan.report import Section

    text = section_for_dirs(base_dir, head_dir)
    if not text:
        return None
    return Section("Cost", text.rstrip("\n").split("\n")[2:])
