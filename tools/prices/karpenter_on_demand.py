"""Extract EC2 on-demand prices for the families this toolkit knows from Karpenter's generated price table.

Karpenter ships the on-demand prices it starts with (before it can ask the AWS Pricing API) as a generated
Go file. This reads that file from a local clone at a pinned tag and prints JSON for
`sparkeks/cost/ec2_on_demand.json`; nothing fetched is committed, only the figures for our families.

    git -C <clone> show v1.14.1:pkg/providers/pricing/zz_generated.pricing_aws.go > /tmp/pricing.go
    python tools/prices/karpenter_on_demand.py /tmp/pricing.go --tag v1.14.1 --commit <sha> > sparkeks/cost/ec2_on_demand.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sparkeks.instances import FAMILIES, SIZE_VCPUS  # noqa: E402

_REGION = re.compile(r'^\t"([a-z0-9-]+)": \{$')
_PRICE = re.compile(r'"([a-z0-9-]+\.[a-z0-9]+)": ([0-9.]+)')
_GENERATED = re.compile(r"^// generated at (\S+) for (\S+)$")


def wanted_types() -> set[str]:
    out = set()
    for family in FAMILIES.values():
        for size, vcpus in SIZE_VCPUS.items():
            if vcpus <= SIZE_VCPUS[family.max_size]:
                out.add(f"{family.name}.{size}")
    return out


def parse(text: str) -> tuple[str, dict[str, dict[str, float]]]:
    generated = ""
    regions: dict[str, dict[str, float]] = {}
    current = None
    for line in text.splitlines():
        if m := _GENERATED.match(line):
            generated = m.group(1)
        if m := _REGION.match(line):
            current = regions.setdefault(m.group(1), {})
            continue
        if current is not None:
            for name, price in _PRICE.findall(line):
                current[name] = float(price)
    return generated, regions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("go_file")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--commit", required=True)
    args = parser.parse_args()
    generated, regions = parse(Path(args.go_file).read_text())
    wanted = wanted_types()
    table = {
        "source": {
            "repository": "aws/karpenter-provider-aws",
            "path": "pkg/providers/pricing/zz_generated.pricing_aws.go",
            "tag": args.tag,
            "commit": args.commit,
            "generated": generated,
        },
        "usdPerHour": {
            region: {t: prices[t] for t in sorted(prices) if t in wanted} for region, prices in sorted(regions.items())
        },
    }
    json.dump(table, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
