"""`sparkeks teams report <stack>`: a stack's team queues as a Markdown table, with warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sparkeks.teams.queues import POOLS, Amount, QueueTree, queue_tree

if TYPE_CHECKING:
    from sparkeks.config.model import StackConfig


def _pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.0f}%" if whole else "-"


def _of(amount: Amount, whole: Amount) -> str:
    return f"{amount.text()} ({_pct(amount.cpu, whole.cpu)} cpu, {_pct(amount.memory_mib, whole.memory_mib)} memory)"


def _warnings(tree: QueueTree, elastic: bool) -> list[str]:
    whole = tree.capacity
    warnings = []
    if not elastic:
        maxes = Amount(sum(t.max.cpu for t in tree.teams), sum(t.max.memory_mib for t in tree.teams))
        if tree.teams and not maxes.fits_in(whole):
            warnings.append(
                f"hard quotas add up to {maxes.text()}, more than the Spark capacity {whole.text()}: the first teams to start can leave the others nothing"
            )
        warnings.append(
            "spark.batchScheduler is none: nothing is guaranteed and nothing is lent; capacity a team does not use stays idle"
        )
        return warnings
    promised = tree.root_guaranteed()
    if promised.cpu * 10 > whole.cpu * 9 or promised.memory_mib * 10 > whole.memory_mib * 9:
        warnings.append(
            f"guaranteed shares take {_of(promised, whole)} of the Spark capacity: little is left to lend without preemption"
        )
    for team in tree.teams:
        if team.guaranteed is None:
            warnings.append(
                f"{team.path} has no guaranteed share: it runs only on idle capacity and its executors are the first preempted"
            )
    for org in tree.orgs:
        if not org.teams:
            warnings.append(f"{org.path} has no teams: its guaranteed share is promised to nobody")
        elif org.guaranteed and org.teams_guaranteed.cpu < org.guaranteed.cpu:
            spare = Amount(
                org.guaranteed.cpu - org.teams_guaranteed.cpu, org.guaranteed.memory_mib - org.teams_guaranteed.memory_mib
            )
            warnings.append(
                f"{org.path} guarantees {spare.text()} more than its teams do: whichever of its teams is busy gets it first"
            )
    return warnings


def _standby_note(tree: QueueTree) -> str:
    if tree.scale == 1.0:
        return ""
    return (
        f" DR standby: pools and queues at dr.capacityScale {tree.scale:g} of this stack file's, rounded up to whole "
        "vCPUs and GiB; failover (capacityScale 1) deploys the file's own."
    )


def markdown_report(stack: str, config: StackConfig) -> str:
    tree = queue_tree(config)
    whole = tree.capacity
    elastic = config.spark.batch_scheduler == "yunikorn"
    pools = "; ".join(f"{name} {tree.pool_capacity[name].text()}" for name in POOLS)
    mode = (
        f"YuniKorn: elastic queues; a team below its guaranteed share gets it back by preemption after {config.spark.preemption_delay}"
        if elastic
        else "none: hard quotas, no borrowing"
    )
    lines = [
        f"## Team queues: {stack}",
        "",
        f"Scheduler: {mode}. Spark capacity: {whole.text()} ({pools}).{_standby_note(tree)}",
        "",
        "| queue | guaranteed | max (ResourceQuota for a team) | bursts to when others are idle | pools |",
        "|---|---|---|---|---|",
    ]

    def row(queue: str, guaranteed: Amount | None, maximum: Amount, default: bool, burst: Amount, pools_text: str) -> str:
        shown = _of(guaranteed, whole) if guaranteed and elastic else "none"
        max_text = maximum.text() + (" (default)" if default else "")
        return f"| {queue} | {shown} | {max_text} | {burst.text()} | {pools_text} |"

    for org in tree.orgs:
        lines.append(row(f"`{org.path}` (organisation)", org.guaranteed, org.max, org.max_is_default, org.max, ""))
        for team in org.teams:
            lines.append(row(f"`{team.path}`", team.guaranteed, team.max, team.max_is_default, team.max, ", ".join(team.pools)))
    for team in tree.teams:
        if team.org is None:
            lines.append(row(f"`{team.path}`", team.guaranteed, team.max, team.max_is_default, team.max, ", ".join(team.pools)))
    if elastic:
        promised = tree.root_guaranteed()
        lines += [
            "",
            f"Guaranteed in total: {_of(promised, whole)} of the Spark capacity; the rest is lent to whichever team is busy.",
        ]
    warnings = _warnings(tree, elastic)
    lines += ["", "Warnings:" if warnings else "Warnings: none."]
    lines += [f"- {w}" for w in warnings]
    return "\n".join(lines) + "\n"
