"""The cost block as Markdown: `cost.md` beside a plan."""

from __future__ import annotations

from typing import Any

from sparkeks.cost import prices


def usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.2f}"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "-") + f"${abs(value):,.2f}"


def rate(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.4f}"


def _month_total(month: dict[str, Any]) -> str:
    return usd(month["totalUsd"]) + ("" if month["complete"] else " + unpriced")


def fixed_total(cost: dict[str, Any]) -> str:
    """The fixed monthly total, what it leaves unpriced, and the total from each dated change."""
    fixed = cost["fixedMonthly"]
    text = usd(fixed["totalUsd"]) + ("" if fixed["complete"] else f" + unpriced ({', '.join(fixed['unpriced'])})")
    dated = "; ".join(f"from {month['date']}: {_month_total(month)}" for month in cost.get("fixedMonthlyFrom") or [])
    return f"{text} ({dated})" if dated else text


_LINES_HEAD = ["| component | item | quantity | unit | unit price | monthly |", "|---|---|---:|---|---:|---:|"]


def _line_row(line: dict[str, Any]) -> str:
    return f"| {line['component']} | {line['item']} | {line['quantity']:g} | {line['unit']} | {rate(line.get('unitUsd'))} | {usd(line['monthlyUsd'])} |"


def _dated_changes(cost: dict[str, Any]) -> list[str]:
    """Each later month the support facts' dates change, with the lines that change and what they replace."""
    months = cost.get("fixedMonthlyFrom") or []
    if not months:
        return []
    monthly = {line["item"]: line["monthlyUsd"] for line in cost["fixedMonthly"]["lines"]}
    lines = [
        "## Dated changes",
        "",
        f"Set by dates in `sparkeks/support.yaml` that fall after {cost['asOf']}, the day this estimate is priced as of.",
        "",
    ]
    for month in months:
        change = "change unpriced" if month["changeUsd"] is None else signed(month["changeUsd"])
        lines += [f"### From {month['date']}: fixed monthly {_month_total(month)} ({change})", "", *_LINES_HEAD]
        lines += [_line_row(line) for line in month["lines"]]
        if month["replaces"]:
            lines += ["", "Instead of: " + "; ".join(f"{item} ({usd(monthly.get(item))})" for item in month["replaces"]) + "."]
        lines.append("")
    return lines


def markdown(stack: str, cost: dict[str, Any]) -> str:
    fixed = cost["fixedMonthly"]
    lines = [
        f"# Cost estimate: {stack} ({cost['region']})",
        "",
        f"List prices in {cost['currency']} from the pinned price table (checked {cost['pricesChecked']}; "
        f"`python -m sparkeks prices check`), {cost['hoursPerMonth']} hours a month, priced as of {cost['asOf']} (the newer "
        "of the price table's date and the support facts' in `sparkeks/support.yaml`, not the day the plan ran). "
        "No discounts, credits, Savings Plans or taxes; spot prices are an assumption (below).",
        "",
        f"**Fixed monthly: {fixed_total(cost)}**",
        "",
        "| component | monthly |",
        "|---|---:|",
        *(f"| {name} | {usd(total)} |" for name, total in fixed["byComponent"].items()),
        "",
        *_LINES_HEAD,
        *(_line_row(line) for line in fixed["lines"]),
        "",
        *_dated_changes(cost),
    ]
    lines += ["## Usage-based prices", "", "Grow with traffic and data; the plan cannot know the volumes.", "", "| what | price |", "|---|---:|"]
    for entry in cost["usageRates"]:
        shown = entry.get("unpriced") or f"${entry['usd']:g} per {entry['unit']}"
        lines.append(f"| {entry['item']} | {shown} |")
    spot = cost["spotDiscountAssumed"]
    others = ", ".join(f"{f} {d:.0%}" for f, d in spot.items() if f != "default")
    lines += [
        "",
        "## Spark capacity per node-hour",
        "",
        f"Nodes cost only while they run (Karpenter adds and removes them). Spot assumed {spot['default']:.0%} below on-demand"
        + (f" ({others})" if others else "")
        + " (`cost.spotDiscount`); each node adds its gp3 root volume.",
        "",
    ]
    for pool in cost["pools"]:
        per_vcpu = pool.get("usdPerVcpuHour")
        head = f"### `{pool['nodePool']}` ({pool['capacityType']}, {', '.join(pool['architectures']) or 'any architecture'})"
        summary = (
            f"{rate(per_vcpu['min'])} to {rate(per_vcpu['max'])} per vCPU-hour; at its CPU limit ({pool['limitCpu']}) at most "
            f"{usd(pool.get('ceilingUsdPerHour'))} per hour."
            if per_vcpu
            else "unpriced in this region."
        )
        lines += [head, "", summary, "", "| instance type | vCPUs | on-demand / h | EC2 / h | per node-hour |", "|---|---:|---:|---:|---:|"]
        for row in pool["instanceTypes"]:
            lines.append(
                f"| {row['type']} | {row['vcpus']} | {rate(row.get('onDemandUsdPerHour'))} | {rate(row.get('ec2UsdPerHour'))} | {rate(row.get('usdPerNodeHour'))} |"
            )
        lines.append("")
    used = {line["source"] for line in fixed["lines"] if line.get("source")} | {e["source"] for e in cost["usageRates"] if e.get("source")}
    used |= {prices.ec2_source(cost["region"], row["type"]) for pool in cost["pools"] for row in pool["instanceTypes"] if "onDemandUsdPerHour" in row}
    lines += ["## Sources", ""]
    for key in sorted(used - {None}):
        found = prices.source(key)
        lines.append(f"- {found.title} ({found.as_of}): {found.url}")
    return "\n".join(lines) + "\n"
