"""`sparkeks teams import`: a YARN scheduler config becomes the `orgs` and `teams` of a stack file.

Top-level queues with children become organisations (`root.<org>`), leaf queues teams; deeper levels are
flattened onto the top-level organisation. Amounts are rounded down (whole vCPUs, whole GiB for derived
memory), so guaranteed shares never add up to more than their parent's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from sparkeks.teams.xmlfile import ImportProblems, read_xml
from sparkeks.teams.yarn import APPROXIMATED, NO_EQUIVALENT, ONE_TO_ONE, Exact, Mapping, YarnQueue, format_mib

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")
# Container limits a team gets unless its max is smaller (config defaults of limits.maxCpu / maxMemory).
DEFAULT_MAX_CPU = 32
DEFAULT_MAX_MEMORY_MIB = 256 * 1024


@dataclass
class ImportResult:
    source: str
    kind: str  # "CapacityScheduler" or "Fair Scheduler"
    orgs: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)

    def block(self) -> dict[str, Any]:
        block: dict[str, Any] = {}
        if self.orgs:
            block["spark-on-eks:orgs"] = self.orgs
        block["spark-on-eks:teams"] = self.teams
        return block

    def text(self) -> str:
        """The block to paste under `config:`, then the mapping report as YAML comments."""
        body = yaml.safe_dump(self.block(), sort_keys=False, default_flow_style=None, width=120)
        lines = [f"# spark-on-eks teams from {self.kind} {self.source}", body.rstrip("\n"), "", "# Mapping report"]
        for kind in (ONE_TO_ONE, APPROXIMATED, NO_EQUIVALENT):
            entries = [m for m in self.mappings if m.kind == kind]
            lines.append(f"# {kind} ({len(entries)})")
            lines += [f"#   {m.queue}: {m.setting}: {m.note}" for m in entries]
        return "\n".join(lines) + "\n"


def _floor(amount: Exact) -> tuple[int, int]:
    """Whole vCPUs; memory in whole GiB when derived from a fraction, MiB when it is exact."""
    cpu = int(amount.cpu)  # floor for non-negative fractions
    mib = amount.memory_mib
    memory = int(mib) if mib.denominator == 1 and int(mib) % 1024 == 0 else (int(mib) // 1024) * 1024
    if memory == 0 and mib >= 1:
        memory = int(mib)
    return cpu, memory


def _share(amount: Exact) -> dict[str, Any] | None:
    cpu, memory = _floor(amount)
    if cpu <= 0 or memory <= 0:
        return None
    return {"cpu": cpu, "memory": format_mib(memory)}


class _Namer:
    def __init__(self) -> None:
        self.taken: set[str] = set()

    def name(self, queue: str, wanted: str, result: ImportResult, fallback_prefix: str | None = None) -> str:
        from sparkeks.config.teams import RESERVED_NAMESPACES

        name = re.sub(r"[^a-z0-9-]", "-", wanted.lower()).strip("-")
        name = re.sub(r"-+", "-", name)
        why = []
        if name != wanted:
            why.append("lowercase letters, digits and hyphens")
        if not name or not name[0].isalpha():
            name = f"q-{name}".rstrip("-")
            why.append("starts with a letter")
        if name in RESERVED_NAMESPACES or name.startswith("kube-"):
            name = f"yarn-{name}"
            why.append(f"{wanted} is a namespace the platform uses")
        if name in self.taken and fallback_prefix:
            name = f"{fallback_prefix}-{name}"
            why.append("another queue has the same name")
        if len(name) > 30:
            name = name[:30].rstrip("-")
            why.append("at most 30 characters")
        if len(name) < 2:
            name = f"{name}-q"
            why.append("at least 2 characters")
        base, n = name, 2
        while name in self.taken:
            name = f"{base[:27]}-{n}"
            n += 1
            if "unique" not in why:
                why.append("unique")
        self.taken.add(name)
        if name != wanted:
            result.mappings.append(Mapping(APPROXIMATED, queue, "name", f"{name} ({'; '.join(why)})"))
        return name


def _leaves(queue: YarnQueue) -> list[tuple[YarnQueue, list[YarnQueue]]]:
    """Running leaves under `queue` with the queues between (stopped subtrees are left out)."""
    found = []
    for child in queue.children:
        if child.stopped:
            continue
        if child.children:
            found += [(leaf, [child, *between]) for leaf, between in _leaves(child)]
        else:
            found.append((child, []))
    return found


def _team(leaf: YarnQueue, name: str, org: str | None, result: ImportResult) -> dict[str, Any]:
    team: dict[str, Any] = {"name": name}
    if org:
        team["org"] = org
    if leaf.guaranteed is not None:
        share = _share(leaf.guaranteed)
        if share:
            team["guaranteed"] = share
        elif leaf.guaranteed.cpu > 0 or leaf.guaranteed.memory_mib > 0:
            result.mappings.append(Mapping(APPROXIMATED, leaf.path, "capacity", "less than 1 cpu or 1 MiB: no guaranteed share"))
    maximum = _share(leaf.max) if leaf.max is not None else None
    if leaf.max is not None and maximum is None:
        raise ImportProblems([f"{result.source}: {leaf.path}: its maximum is less than 1 cpu: too small for a team"])
    if maximum:
        team["max"] = maximum
    limits: dict[str, Any] = {}
    cpu_cap, mib_cap = leaf.max_container
    max_cpu = maximum["cpu"] if maximum else None
    max_mib = _floor(leaf.max)[1] if maximum else None
    if cpu_cap is not None:
        limits["maxCpu"] = min(cpu_cap, max_cpu) if max_cpu else cpu_cap
    elif max_cpu is not None and max_cpu < DEFAULT_MAX_CPU:
        limits["maxCpu"] = max_cpu
        result.mappings.append(
            Mapping(
                APPROXIMATED,
                leaf.path,
                "(container size)",
                f"limits.maxCpu {max_cpu}: no container may be larger than the team's max",
            )
        )
    if mib_cap is not None:
        limits["maxMemory"] = format_mib(min(mib_cap, max_mib) if max_mib else mib_cap)
    elif max_mib is not None and max_mib < DEFAULT_MAX_MEMORY_MIB:
        limits["maxMemory"] = format_mib(max_mib)
        result.mappings.append(
            Mapping(
                APPROXIMATED,
                leaf.path,
                "(container size)",
                f"limits.maxMemory {format_mib(max_mib)}: no container may be larger than the team's max",
            )
        )
    if limits:
        team["limits"] = limits
    return team


def to_teams(tree: YarnQueue, result: ImportResult) -> None:
    namer = _Namer()
    orgs: dict[str, str] = {}
    for top in tree.children:
        if top.stopped:
            if top.children:
                result.mappings.append(
                    Mapping(NO_EQUIVALENT, top.path, "state=STOPPED", "its queues take no applications: none imported")
                )
            continue
        if not top.children:
            continue
        if not _leaves(top):
            continue
        orgs[top.path] = namer.name(top.path, top.name, result)
        org: dict[str, Any] = {"name": orgs[top.path]}
        if top.guaranteed is not None and _share(top.guaranteed):
            org["guaranteed"] = _share(top.guaranteed)
        if top.max is not None and _share(top.max):
            org["max"] = _share(top.max)
        result.orgs.append(org)
        result.mappings.append(Mapping(ONE_TO_ONE, top.path, "queues", f"organisation {orgs[top.path]} (root.{orgs[top.path]})"))
    for leaf, between in _leaves(tree):
        top = between[0] if between else None
        org = orgs.get(top.path) if top else None
        name = namer.name(leaf.path, leaf.name, result, fallback_prefix=org)
        if len(between) > 1:
            flattened = ", ".join(q.path for q in between[1:])
            result.mappings.append(
                Mapping(
                    APPROXIMATED,
                    leaf.path,
                    "queue depth",
                    f"team {name} directly under organisation {org}; {flattened} flattened (their max still bounds it)",
                )
            )
        else:
            result.mappings.append(
                Mapping(ONE_TO_ONE, leaf.path, "queue", f"team {name} ({'root.' + org + '.' if org else 'root.'}{name})")
            )
        result.teams.append(_team(leaf, name, org, result))
    if not result.teams:
        raise ImportProblems([f"{result.source}: no running leaf queue: nothing to import"])
    result.mappings.append(
        Mapping(NO_EQUIVALENT, "(every team)", "data access", "add data.read / data.write (S3 locations) to each team")
    )


def scheduler_kind(path: Path) -> str:
    root = read_xml(path)
    if root.tag == "configuration":
        return "CapacityScheduler"
    if root.tag == "allocations":
        return "Fair Scheduler"
    raise ImportProblems(
        [f"{path}: <{root.tag}>: neither a capacity-scheduler.xml (<configuration>) nor a fair-scheduler.xml (<allocations>)"]
    )


def import_queues(path: Path, total: Exact | None) -> ImportResult:
    from sparkeks.teams.capacity_scheduler import read_capacity_scheduler
    from sparkeks.teams.fair_scheduler import read_fair_scheduler

    kind = scheduler_kind(path)
    reader = read_capacity_scheduler if kind == "CapacityScheduler" else read_fair_scheduler
    tree, mappings = reader(path, total)
    result = ImportResult(source=path.name, kind=kind, mappings=list(mappings))
    to_teams(tree, result)
    result.mappings.sort(key=lambda m: _path_key(m.queue))
    return result


def _path_key(path: str) -> tuple:
    return (path.startswith("("), path)


def total_from(cpu: int | None, memory: str | None) -> Exact | None:
    if cpu is None and memory is None:
        return None
    from sparkeks.config.base import memory_mib

    return Exact(Fraction(cpu or 0), Fraction(int(memory_mib(memory or "0Mi"))))
