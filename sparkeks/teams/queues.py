"""The team queue tree of a stack, resolved to absolute amounts, and the checks that keep it sound.

A team's queue is `root.<team>`, or `root.<org>.<team>` when it belongs to an organisation. Each queue has
a guaranteed share (what preemption gives back) and a max (how far it may burst into idle capacity).
The same tree feeds YuniKorn's queues.yaml, the teams' ResourceQuotas, `teams report` and validation, so
what is checked is exactly what is deployed. On a DR standby every amount is the stack file's times
`dr.capacityScale`, like its NodePools' limits (sparkeks.standby); the file itself is checked at failover
size, which the scaled tree then meets too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sparkeks.config.model import StackConfig
    from sparkeks.config.teams import EffectiveLimits, NodeRoom, TeamConfig

POOLS = ("driver", "executor", "executorNvme")


@dataclass(frozen=True, order=True)
class Amount:
    """CPU (whole vCPUs) and memory (MiB)."""

    cpu: int
    memory_mib: int

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cpu + other.cpu, self.memory_mib + other.memory_mib)

    def fits_in(self, other: Amount) -> bool:
        return self.cpu <= other.cpu and self.memory_mib <= other.memory_mib

    def min(self, other: Amount) -> Amount:
        return Amount(min(self.cpu, other.cpu), min(self.memory_mib, other.memory_mib))

    @property
    def memory(self) -> str:
        """Kubernetes quantity: Gi when whole, else Mi."""
        mib = self.memory_mib
        return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"

    def text(self) -> str:
        return f"{self.cpu} cpu, {self.memory}"

    def share(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memory": self.memory}


ZERO = Amount(0, 0)


def total(amounts: list[Amount]) -> Amount:
    result = ZERO
    for amount in amounts:
        result = result + amount
    return result


@dataclass(frozen=True)
class TeamQueue:
    name: str
    index: int  # position in `teams[]`, for error keys
    org: str | None
    pools: tuple[str, ...]
    guaranteed: Amount | None
    max: Amount
    max_is_default: bool
    room: NodeRoom | None = None
    """The largest pod a node of its pools holds (within their limits): its containers' default ceiling.
    None when no pool of the team launches any node (a stack the feasibility checks refuse)."""

    @property
    def path(self) -> str:
        return f"root.{self.org}.{self.name}" if self.org else f"root.{self.name}"


@dataclass(frozen=True)
class OrgQueue:
    name: str
    index: int
    guaranteed: Amount | None
    max: Amount
    max_is_default: bool
    teams: tuple[TeamQueue, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"root.{self.name}"

    @property
    def teams_guaranteed(self) -> Amount:
        return total([t.guaranteed for t in self.teams if t.guaranteed])


@dataclass(frozen=True)
class QueueTree:
    pool_capacity: dict[str, Amount]
    orgs: tuple[OrgQueue, ...]
    teams: tuple[TeamQueue, ...]
    scale: float = 1.0
    """dr.capacityScale the amounts are at (1 for a primary, and for a DR stack after failover)."""

    @property
    def capacity(self) -> Amount:
        """The stack's whole Spark capacity: every pool at its configured limits."""
        return total(list(self.pool_capacity.values()))

    def capacity_of(self, pools: tuple[str, ...] | frozenset[str]) -> Amount:
        return total([self.pool_capacity[p] for p in POOLS if p in pools])

    def team(self, name: str) -> TeamQueue:
        return next(t for t in self.teams if t.name == name)

    def org(self, name: str) -> OrgQueue | None:
        return next((o for o in self.orgs if o.name == name), None)

    @property
    def top_level(self) -> list[OrgQueue | TeamQueue]:
        """root's children in config order: organisations first, then teams without one."""
        return [*self.orgs, *(t for t in self.teams if t.org is None)]

    def root_guaranteed(self) -> Amount:
        """What root promises: each organisation's guarantee (or its teams' when it has none), plus teams without one."""
        parts = [o.guaranteed or o.teams_guaranteed for o in self.orgs]
        parts += [t.guaranteed for t in self.teams if t.org is None and t.guaranteed]
        return total(parts)


def _pool_capacity(config: StackConfig, scale: float) -> dict[str, Amount]:
    from sparkeks.config.feasibility import effective_limits

    return {key: Amount(*effective_limits(config.karpenter.pools.pool(key).limits, scale)) for key in POOLS}


def _biggest(nodes: list[Any]) -> Any:
    """The biggest node (most memory, then vCPUs, then room for pods; by name among equals)."""
    return min(nodes, key=lambda n: (-n.memory_mib, -n.vcpus, -n.pod_memory_mib, n.instance_type))


def _largest_nodes(config: StackConfig, scale: float) -> dict[str, Any]:
    """Per pool, the biggest node Karpenter may launch within its limits at `scale` (none: no entry).
    Only the biggest instance size's types are sized for pods (Node.of reads the DaemonSets each time)."""
    from sparkeks import nodes
    from sparkeks.config.feasibility import effective_limits, launchable
    from sparkeks.spark.sizing import Node

    largest = {}
    for key in POOLS:
        pool = config.karpenter.pools.pool(key)
        cpu_limit, memory_limit = effective_limits(pool.limits, scale)
        types = [it for it in map(nodes.instance_type, pool.instance_types()) if launchable(it, cpu_limit, memory_limit)]
        if types:
            size = max((it.memory_mib, it.vcpus) for it in types)
            tied = [t for t in types if (t.memory_mib, t.vcpus) == size]
            largest[key] = _biggest([Node.of(t.name, observability=config.observability.enabled) for t in tied])
    return largest


def _room(largest: dict[str, Any], pools: list[str]) -> NodeRoom | None:
    from sparkeks.config.teams import NodeRoom

    candidates = [largest[p] for p in POOLS if p in pools and p in largest]
    if not candidates:
        return None
    node = _biggest(candidates)
    return NodeRoom(node.instance_type, node.vcpus, node.pod_memory_mib)


def _scaled(share: Any, scale: float) -> Amount | None:
    from sparkeks.standby import queue_share

    if share is None:
        return None
    return Amount(*queue_share(share.cpu, share.memory_mib, scale))


def queue_tree(config: StackConfig, *, scale: float | None = None) -> QueueTree:
    """Resolve every default: an organisation's max is the stack's capacity, a team's max the capacity of
    its pools (within its organisation's max). Unknown organisations are left to `queue_problems`.
    Amounts are at `scale` (default: the stack's dr.capacityScale, what it deploys)."""
    scale = config.capacity_scale if scale is None else scale
    pools = _pool_capacity(config, scale)
    whole = total(list(pools.values()))
    org_max = {o.name: _scaled(o.max, scale) or whole for o in config.orgs}
    largest = _largest_nodes(config, scale)
    teams = []
    for index, team in enumerate(config.teams):
        explicit = _scaled(team.max, scale)
        reachable = total([pools[p] for p in POOLS if p in team.pools])
        if team.org in org_max:
            reachable = reachable.min(org_max[team.org])
        teams.append(
            TeamQueue(
                name=team.name,
                index=index,
                org=team.org,
                pools=tuple(team.pools),
                guaranteed=_scaled(team.guaranteed, scale),
                max=explicit or reachable,
                max_is_default=explicit is None,
                room=_room(largest, team.pools),
            )
        )
    orgs = tuple(
        OrgQueue(
            name=o.name,
            index=index,
            guaranteed=_scaled(o.guaranteed, scale),
            max=org_max[o.name],
            max_is_default=o.max is None,
            teams=tuple(t for t in teams if t.org == o.name),
        )
        for index, o in enumerate(config.orgs)
    )
    return QueueTree(pools, orgs, tuple(teams), scale)


@dataclass(frozen=True)
class QueueProblem:
    key: str
    value: Any
    reason: str


def _named(queues: list[TeamQueue] | list[OrgQueue] | list[Any]) -> str:
    return ", ".join(f"{q.name} ({q.guaranteed.text()})" for q in queues)


def _over(amount: Amount, limit: Amount) -> str:
    parts = []
    if amount.cpu > limit.cpu:
        parts.append(f"{amount.cpu} cpu > {limit.cpu}")
    if amount.memory_mib > limit.memory_mib:
        parts.append(f"{amount.memory} > {limit.memory}")
    return ", ".join(parts)


def queue_problems(config: StackConfig) -> list[QueueProblem]:
    """Every reason the queue tree could not be honoured: references, guaranteed <= max <= what the pools
    hold, children within their parent, container limits within max, and no over-commit of guaranteed
    shares anywhere. A DR standby's file is checked at failover size (its scaled tree then holds too, see
    sparkeks.standby), and its container limits against the scaled maxima it deploys."""
    problems = _reference_problems(config)
    if problems:
        return problems
    problems = _size_problems(config)
    scale = config.capacity_scale
    if scale == 1.0:
        return problems
    if problems:
        note = f"; checked at failover size (dr.capacityScale 1): the standby deploys these queues x {scale:g}"
        return [QueueProblem(p.key, p.value, p.reason + note) for p in problems]
    return _standby_overcommit(config) + _standby_limit_problems(config)


def _standby_overcommit(config: StackConfig) -> list[QueueProblem]:
    """Guarantees each rounded up may together exceed their rounded-up parent or pools (1.5 + 1.5 is 4 of 3),
    though the file's own fit: what the standby would deploy, which YuniKorn would refuse or never honour."""
    tree, written = queue_tree(config), queue_tree(config, scale=1.0)
    standby = f"over-committed on this standby (dr.capacityScale {config.capacity_scale:g}, each share rounded up to whole vCPUs and GiB): "

    def in_file(problem: QueueProblem) -> Any:
        """The problem's value as the file states it (the reason gives the standby's figures)."""
        if problem.key in ("teams", "orgs"):
            queues = written.teams if problem.key == "teams" else written.orgs
            return {q.name: q.guaranteed.share() for q in queues if q.name in problem.value}
        org = written.orgs[int(problem.key.split(".")[1])]
        return (org.guaranteed or org.max).share()

    return [
        QueueProblem(p.key, in_file(p), standby + p.reason.removeprefix("over-committed: ") + "; raise dr.capacityScale")
        for p in _org_overcommit(tree) + _overcommit(tree)
    ]


def _reference_problems(config: StackConfig) -> list[QueueProblem]:
    """Names and references: organisations declared once, teams in known ones, guarantees only with YuniKorn."""
    problems: list[QueueProblem] = []
    org_names = [o.name for o in config.orgs]
    team_names = {t.name for t in config.teams}
    for index, org in enumerate(config.orgs):
        if org_names.count(org.name) > 1:
            return [QueueProblem("orgs", org_names, f"organisation {org.name!r} is declared twice")]
        if org.name in team_names:
            problems.append(
                QueueProblem(f"orgs.{index}.name", org.name, "is also a team's name; queue names must be unique under root")
            )
    for index, team in enumerate(config.teams):
        if team.org is not None and team.org not in org_names:
            problems.append(
                QueueProblem(
                    f"teams.{index}.org", team.org, f"no such organisation in orgs; declared: {', '.join(org_names) or 'none'}"
                )
            )
        if team.guaranteed is not None and config.spark.batch_scheduler != "yunikorn":
            problems.append(
                QueueProblem(
                    f"teams.{index}.guaranteed",
                    team.guaranteed.model_dump(),
                    "a guaranteed share needs spark.batchScheduler: yunikorn (with none, max is a hard quota and nothing is lent or given back)",
                )
            )
    return problems


def _size_problems(config: StackConfig) -> list[QueueProblem]:
    """The file's amounts at scale 1 against its pools: what a primary, or a DR stack after failover, deploys."""
    problems: list[QueueProblem] = []
    tree = queue_tree(config, scale=1.0)
    whole = tree.capacity
    for org in tree.orgs:
        key = f"orgs.{org.index}"
        if org.guaranteed and not org.guaranteed.fits_in(org.max):
            what = "its max" if not org.max_is_default else f"its max (by default the stack's Spark capacity, {whole.text()})"
            problems.append(
                QueueProblem(
                    f"{key}.guaranteed", org.guaranteed.share(), f"is more than {what} ({_over(org.guaranteed, org.max)})"
                )
            )
        if not org.max.fits_in(whole):
            problems.append(
                QueueProblem(
                    f"{key}.max",
                    org.max.share(),
                    f"is more than the stack's Spark capacity {whole.text()} ({_over(org.max, whole)})",
                )
            )
    for team in tree.teams:
        key = f"teams.{team.index}"
        reachable = tree.capacity_of(team.pools)
        if team.guaranteed and not team.guaranteed.fits_in(team.max):
            what = (
                "its max"
                if not team.max_is_default
                else f"its max (by default what its pools and organisation allow, {team.max.text()})"
            )
            problems.append(
                QueueProblem(
                    f"{key}.guaranteed", team.guaranteed.share(), f"is more than {what} ({_over(team.guaranteed, team.max)})"
                )
            )
        if not team.max.fits_in(reachable):
            problems.append(
                QueueProblem(
                    f"{key}.max",
                    team.max.share(),
                    f"is more than the pools {', '.join(team.pools)} hold ({reachable.text()}: karpenter.pools.*.limits)",
                )
            )
        org = tree.org(team.org) if team.org else None
        if org is not None and not team.max.fits_in(org.max):
            problems.append(
                QueueProblem(
                    f"{key}.max", team.max.share(), f"is more than organisation {org.name}'s max ({_over(team.max, org.max)})"
                )
            )
        problems += _limit_problems(config.teams[team.index], team, key)
    return problems + _org_overcommit(tree) + _overcommit(tree)


def _org_overcommit(tree: QueueTree) -> list[QueueProblem]:
    """An organisation's teams may be guaranteed no more than it is (or, without a guarantee, than its max):
    YuniKorn refuses a queues.yaml whose children promise more than their parent."""
    problems = []
    for org in tree.orgs:
        promised = [t for t in org.teams if t.guaranteed]
        within = org.guaranteed or org.max
        if promised and not org.teams_guaranteed.fits_in(within):
            what = "guaranteed share" if org.guaranteed else "max"
            problems.append(
                QueueProblem(
                    f"orgs.{org.index}.{'guaranteed' if org.guaranteed else 'max'}",
                    within.share(),
                    f"over-committed: teams {_named(promised)} are guaranteed {org.teams_guaranteed.text()}, more than "
                    f"organisation {org.name}'s {what} ({_over(org.teams_guaranteed, within)})",
                )
            )
    return problems


def team_limits(team: TeamConfig, queue: TeamQueue) -> EffectiveLimits:
    """The team's LimitRange as applied: what it writes, else what the largest node its pools can launch
    holds, never more than the team's max. `job`, the feasibility checks and the LimitRange all read this."""
    return team.container_limits(queue.max.cpu, queue.max.memory, queue.room)


def _standby_limit_problems(config: StackConfig) -> list[QueueProblem]:
    """A pod's shape does not scale with the pools: a container limit above a team's scaled max admits no
    pod of that size on the standby (its ResourceQuota refuses it), so `job` would accept what never runs."""
    scale = f"dr.capacityScale {config.capacity_scale:g}"
    problems = []
    for team, queue in zip(config.teams, queue_tree(config).teams):
        key = f"teams.{queue.index}.limits"
        origin = {
            which: (
                f"by default what its pools and organisation hold at {scale}"
                if queue.max_is_default
                else f"max.{which} {getattr(team.max, which)} x {scale}, rounded up"
            )
            for which in ("cpu", "memory")
        }
        allowed = {"limits.maxCpu": ("cpu", str(queue.max.cpu)), "limits.maxMemory": ("memory", queue.max.memory)}
        for where, value, reason in team.limit_problems(queue.max.cpu, queue.max.memory, queue.room):
            if where in allowed:
                which, most = allowed[where]
                reason = (
                    f"is larger than the team's max {which} {most} on this standby ({origin[which]}): no pod of that size "
                    f"is admitted; lower {where} to {most} or raise dr.capacityScale"
                )
            else:
                reason += f" on this standby ({scale})"
            problems.append(QueueProblem(f"{key}.{where.removeprefix('limits.')}", value, reason))
    return problems


def _limit_problems(team: TeamConfig, queue: TeamQueue, key: str) -> list[QueueProblem]:
    """Container limits against a defaulted max, and written defaults against maxima that default to a
    node's room (a written max and the limits within it are checked by TeamConfig itself)."""
    return [
        QueueProblem(f"{key}.{where}", value, reason)
        for where, value, reason in team.limit_problems(queue.max.cpu, queue.max.memory, queue.room)
        if queue.max_is_default or where in ("limits.defaultCpu", "limits.defaultMemory")
    ]


def _overcommit(tree: QueueTree) -> list[QueueProblem]:
    """Guaranteed shares must be deliverable at once: for every set of pools, the teams that can only run
    there must fit in those pools together (and root's promises in the whole capacity)."""
    promised_orgs = [o for o in tree.orgs if o.guaranteed]
    root = tree.root_guaranteed()
    if promised_orgs and not root.fits_in(tree.capacity):
        names = _named(
            [*promised_orgs, *(t for t in tree.teams if t.guaranteed and (t.org is None or not tree.org(t.org).guaranteed))]
        )
        return [
            QueueProblem(
                "orgs",
                {o.name: o.guaranteed.share() for o in promised_orgs},
                f"over-committed: {names} are guaranteed {root.text()} together, more than the stack's Spark capacity "
                f"{tree.capacity.text()} (karpenter.pools.*.limits)",
            )
        ]
    for size in range(1, len(POOLS) + 1):
        for pools in combinations(POOLS, size):
            confined = [t for t in tree.teams if t.guaranteed and set(t.pools) <= set(pools)]
            promised = total([t.guaranteed for t in confined])
            capacity = tree.capacity_of(frozenset(pools))
            if confined and not promised.fits_in(capacity):
                return [
                    QueueProblem(
                        "teams",
                        {t.name: t.guaranteed.share() for t in confined},
                        f"over-committed: teams {_named(confined)} are guaranteed {promised.text()} together, more than the "
                        f"pools {', '.join(pools)} hold ({capacity.text()}: karpenter.pools.*.limits)",
                    )
                ]
    return []
