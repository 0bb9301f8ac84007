"""`sparkeks prices check`: per region, what is priced, from which source, how old it is, and the gaps."""

from __future__ import annotations

from datetime import date

from sparkeks.cost import prices
from sparkeks.regions import REGIONS


def _pinned_gaps(region: str) -> list[str]:
    pinned = prices.SERVICE_PRICES.get(region, {})
    return [key for key in prices.LABELS if key not in pinned] + ["EMR uplift"]


def _table_line(region: str, table: dict, today: date) -> tuple[str, bool]:
    """A Price List table's line, and whether it leans on the hand-pinned figures for what it lacks."""
    fetched = date.fromisoformat(table["fetched"])
    services = set(table["services"])
    fallback = [k for k in prices.LABELS if k not in services and k in prices.SERVICE_PRICES.get(region, {})]
    missing = [k for k in prices.LABELS if k not in services and k not in fallback]
    published = sorted(o["publicationDate"][:10] for o in table["offers"].values() if o.get("publicationDate"))
    line = (
        f"  {region}: {table['source']}, fetched {fetched.isoformat()} ({(today - fetched).days} days ago"
        + (f"; offers published {published[0]} to {published[-1]}" if published else "")
        + f"): {len(table['ec2OnDemandUsdPerHour'])} EC2 types, {len(table['emrUpliftUsdPerHour'])} EMR uplifts, "
        f"{len(services)} of {len(prices.LABELS)} service prices"
        + (f"; from the hand-pinned figures: {', '.join(fallback)}" if fallback else "")
        + (f"; unpriced: {', '.join(missing)}" if missing else "")
    )
    return line, bool(fallback) or not table["ec2OnDemandUsdPerHour"]


def check_lines(today: date, max_age_days: int = prices.MAX_AGE_DAYS) -> tuple[list[str], bool]:
    """Report lines, and whether every figure in use is within the allowed age."""
    region_lines, dates, unpriced = [], [], []
    pinned_in_use = False
    karpenter = prices.karpenter_table()
    karpenter_regions = set(karpenter["usdPerHour"])
    for region in REGIONS:
        table = prices.region_table(region)
        if table:
            line, leans = _table_line(region, table, today)
            region_lines.append(line)
            dates.append(date.fromisoformat(table["fetched"]))
            pinned_in_use |= leans
        elif region in karpenter_regions or region in prices.SERVICE_PRICES:
            pinned_in_use = True
            generated = karpenter["source"]
            region_lines.append(
                f"  {region}: hand-pinned, checked {prices.CHECKED.isoformat()}: EC2 from Karpenter {generated['tag']}'s table "
                f"(generated {generated['generated'][:10]}), {len(prices.SERVICE_PRICES.get(region, {}))} service prices from the pages below; "
                f"unpriced: {', '.join(_pinned_gaps(region))}"
            )
        else:
            unpriced.append(region)
    if pinned_in_use:
        dates.append(prices.CHECKED)
    oldest = min(dates) if dates else today
    age = (today - oldest).days
    fresh = age <= max_age_days
    lines = [f"price table checked {oldest.isoformat()}: {age} days ago (limit {max_age_days} days): {'ok' if fresh else 'stale'}", "priced regions:"]
    lines += region_lines
    if unpriced:
        lines.append(f"unpriced regions (no Price List table yet: the prices workflow writes sparkeks/cost/price_tables/<region>.json): {', '.join(unpriced)}")
    if pinned_in_use:
        lines.append("hand-pinned sources:")
        for key, found in sorted(prices.SOURCES.items(), key=lambda item: item[1].as_of):
            lines.append(f"  {found.as_of}  {key}: {found.title} <{found.url}>")
    if not fresh:
        lines.append("refresh: run the prices workflow (or `python -m sparkeks prices refresh` with pricing:GetProducts credentials) and merge its pull request")
    return lines, fresh
