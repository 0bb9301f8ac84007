"""`sparkeks prices check`: how old the pinned price table is, and which figures are oldest."""

from __future__ import annotations

from datetime import date

from sparkeks.cost import prices


def check_lines(today: date, max_age_days: int = prices.MAX_AGE_DAYS) -> tuple[list[str], bool]:
    """Report lines, and whether the table is still within its allowed age."""
    age = (today - prices.CHECKED).days
    fresh = age <= max_age_days
    lines = [
        f"price table checked {prices.CHECKED.isoformat()}: {age} days ago (limit {max_age_days} days): {'ok' if fresh else 'stale'}",
        f"priced regions: {', '.join(prices.priced_regions())}; every other region is unpriced",
    ]
    for key, source in sorted(prices.SOURCES.items(), key=lambda item: item[1].as_of):
        lines.append(f"  {source.as_of}  {key}: {source.title} <{source.url}>")
    lines += [f"  {reason}" for reason in prices.UNPRICED_SERVICES.values()]
    if not fresh:
        lines.append("re-check each figure at its source, update sparkeks/cost/prices.py (CHECKED, as_of) and rerun tools/prices/karpenter_on_demand.py")
    return lines, fresh
