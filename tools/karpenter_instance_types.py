"""Extract allocatable figures for the toolkit's instance types from Karpenter's instance-types reference.

Karpenter publishes, per version, a generated Markdown page listing every EC2 instance type with its labels
and the resources a node of that type offers pods (after Karpenter's own overhead model, AL2023 AMI family).
This script reads that page from a local file and writes the facts the sizing advisor uses into
`sparkeks/data/karpenter-instance-types.json`. It needs no network: fetch the page yourself, e.g.

    git -C <karpenter-provider-aws clone> show <commit>:website/content/en/v1.14/reference/instance-types.md > /tmp/it.md
    python tools/karpenter_instance_types.py /tmp/it.md --commit <commit> --docs-version v1.14 --checked 2026-11-29

The fetched page itself is never committed; only the figures below are.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sparkeks.instances import FAMILIES  # noqa: E402

OUT = ROOT / "sparkeks" / "data" / "karpenter-instance-types.json"
SOURCE_REPO = "aws/karpenter-provider-aws"

_TYPE = re.compile(r"^### `(?P<name>[a-z0-9-]+\.[a-z0-9-]+)`$")
_ROW = re.compile(r"^\s*\|(?P<key>[^|]+)\|(?P<value>[^|]*)\|\s*$")


def _cpu_milli(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(quantity) * 1000


def _mib(quantity: str) -> int:
    if quantity.endswith("Mi"):
        return int(quantity[:-2])
    if quantity.endswith("Gi"):
        return int(quantity[:-2]) * 1024
    raise ValueError(f"unexpected memory quantity {quantity!r}")


def parse(text: str) -> dict[str, dict[str, str]]:
    """Instance type -> its label and resource rows, as the page lists them."""
    types: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        match = _TYPE.match(line)
        if match:
            current = types.setdefault(match["name"], {})
            continue
        row = _ROW.match(line)
        if current is not None and row and row["key"].strip() not in ("Label", "Resource", "--"):
            current[row["key"].strip()] = row["value"].strip()
    return types


def wanted(name: str) -> bool:
    family, size = name.split(".", 1)
    return family in FAMILIES and size in _sizes(family)


def _sizes(family: str) -> set[str]:
    from sparkeks.instances import SIZE_VCPUS

    limit = SIZE_VCPUS[FAMILIES[family].max_size]
    return {s for s, v in SIZE_VCPUS.items() if v <= limit}


def facts(types: dict[str, dict[str, str]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name in sorted(types):
        if not wanted(name):
            continue
        rows = types[name]
        out[name] = {
            "family": rows["karpenter.k8s.aws/instance-family"],
            "category": rows["karpenter.k8s.aws/instance-category"],
            "architecture": rows["kubernetes.io/arch"],
            "vcpus": int(rows["karpenter.k8s.aws/instance-cpu"]),
            "memoryMiB": int(rows["karpenter.k8s.aws/instance-memory"]),
            "allocatableCpuMilli": _cpu_milli(rows["cpu"]),
            "allocatableMemoryMiB": _mib(rows["memory"]),
            "maxPods": int(rows["pods"]),
        }
    return out


def render(document: dict[str, object]) -> str:
    """Stable JSON, one instance type per line, so an upstream change reads as a one-line diff."""
    rows = document["instanceTypes"]
    assert isinstance(rows, dict)
    head = {k: v for k, v in document.items() if k != "instanceTypes"}
    lines = json.dumps(head, indent=1)[:-2] + ',\n "instanceTypes": {\n'
    lines += ",\n".join(f"  {json.dumps(name)}: {json.dumps(row)}" for name, row in rows.items())
    return lines + "\n }\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="local copy of website/content/en/<docs version>/reference/instance-types.md")
    parser.add_argument("--commit", required=True, help=f"{SOURCE_REPO} commit the page was read at")
    parser.add_argument("--docs-version", required=True, help="docs folder, e.g. v1.14 (the pinned Karpenter minor)")
    parser.add_argument("--checked", required=True, help="date the page was read, YYYY-MM-DD")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    types = facts(parse(Path(args.page).read_text()))
    expected = {f"{f}.{s}" for f in FAMILIES for s in _sizes(f)}
    # Not every family comes in every size (c7i has no 32xlarge, i4g no 12xlarge): those are absent
    # from the page, and the toolkit must not size for them.
    absent = sorted(expected - set(types))
    if absent:
        print(f"sizes that do not exist upstream (left out): {', '.join(absent)}", file=sys.stderr)
    document = {
        "source": {
            "repository": SOURCE_REPO,
            "path": f"website/content/en/{args.docs_version}/reference/instance-types.md",
            "commit": args.commit,
            "karpenterDocsVersion": args.docs_version,
            "checked": args.checked,
            "assumptions": "Karpenter's defaults: AL2023 AMI family, no kubelet overrides (ENI-limited max pods, "
            "kube-reserved from max pods, 100Mi hard eviction, 7.5% VM memory overhead)",
        },
        "absent": absent,
        "instanceTypes": types,
    }
    Path(args.out).write_text(render(document))
    print(f"wrote {len(types)} instance types to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
